/* introspect.c — RFC 7662 token introspection. The caller authenticates as a registered service
 * and must have the introspection right. An access token the hub issued (to any service: a
 * resource server checks tokens meant for it) is active while it verifies, has not expired and
 * is not revoked. A refresh token is active only to the service that holds it. Anything else
 * (revoked, expired, foreign, malformed) is {"active": false} and nothing more (§2.2). */
#include "introspect.h"
#include "access.h"
#include "endpoint.h"
#include "respond.h"
#include "../sessions/refresh.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const single[] = {"token", "token_type_hint", NULL};

static json_t *access_answer(hub *h, arena *a, const char *tok)
{
	access_info ai;
	if (access_token_check(h, a, tok, &ai) || access_token_revoked(h, ai.jti))
		return NULL;
	json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "active", 1,
	                      "client_id", ai.client_id, "sub", ai.sub, "token_type", "Bearer",
	                      "exp", (json_int_t)ai.exp, "iat", (json_int_t)ai.iat, "iss",
	                      h->cfg->issuer, "aud", h->oidc->userinfo_endpoint, "jti", ai.jti);
	if (o && ai.scope)
		json_object_set_new(o, "scope", json_string(ai.scope));
	if (o && ai.acr)
		json_object_set_new(o, "acr", json_string(ai.acr));
	if (o && ai.auth_time)
		json_object_set_new(o, "auth_time", json_integer(ai.auth_time));
	return o;
}

static json_t *refresh_answer(hub *h, arena *a, const hub_client *c, const char *tok)
{
	refresh_grant g;
	if (refresh_peek(h, a, c->conf->client_id, tok, &g))
		return NULL;
	json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:I, s:s}", "active", 1, "client_id",
	                      g.client_id, "sub", g.sub, "scope", g.scope, "token_type",
	                      "refresh_token", "exp", (json_int_t)g.expires, "iss", h->cfg->issuer);
	refresh_grant_release(&g);
	return o;
}

void oidc_introspect(hub *h, http_req *r, http_resp *resp)
{
	const hub_client *c = oidc_client_post(h, r, resp, single);
	if (!c)
		return;
	if (!c->conf->introspection) {
		oidc_json_error(r, resp, 403, "unauthorized_client",
		                "this service may not introspect tokens");
		return;
	}
	const char *tok = form_param(&r->body, "token", NULL);
	if (!tok || !*tok) {
		oidc_json_error(r, resp, 400, "invalid_request", "token is required");
		return;
	}
	json_t *o =
	    strchr(tok, '.') ? access_answer(h, r->a, tok) : refresh_answer(h, r->a, c, tok);
	if (!o)
		o = json_pack("{s:b}", "active", 0);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	http_json(resp, 200, arena_strdup(r->a, s));
	free(s);
}
