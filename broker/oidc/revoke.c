/* revoke.c — RFC 7009 token revocation. The client authenticates as at /token; a token it does
 * not own, an unknown, expired or malformed one all get the same 200 (§2.2: the client cannot act
 * on the difference, and nothing leaks about other clients' tokens). A revoked access token is
 * refused by userinfo and introspection until it would have expired (access.h); a revoked refresh
 * token takes its whole family with it (sessions/refresh.h). */
#include "revoke.h"
#include "access.h"
#include "endpoint.h"
#include "respond.h"
#include "../sessions/refresh.h"
#include "../util/log.h"
#include <string.h>

static const char *const single[] = {"token", "token_type_hint", NULL};

void oidc_revoke(hub *h, http_req *r, http_resp *resp)
{
	const hub_client *c = oidc_client_post(h, r, resp, single);
	if (!c)
		return;
	const char *tok = form_param(&r->body, "token", NULL);
	if (!tok || !*tok) {
		oidc_json_error(r, resp, 400, "invalid_request", "token is required");
		return;
	}
	/* the hint is only an optimisation (§2.1): both kinds are tried, the shape decides */
	if (strchr(tok, '.')) {
		access_info ai;
		if (!access_token_check(h, r->a, tok, &ai) &&
		    strcmp(ai.client_id, c->conf->client_id) == 0) {
			if (access_token_revoke(h, ai.jti, ai.exp)) {
				oidc_json_error(r, resp, 503, "temporarily_unavailable", NULL);
				return;
			}
			log_info("revoke: %s revoked an access token", c->conf->client_id);
		}
	} else if (refresh_revoke(h, r->a, c->conf->client_id, tok) == 0) {
		log_info("revoke: %s revoked a refresh token family", c->conf->client_id);
	}
	http_text(resp, 200, "");
}
