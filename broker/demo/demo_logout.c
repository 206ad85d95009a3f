/* demo_logout.c — the demo services' sign-out: RP-Initiated Logout (the local session ends, then
 * the citizen goes to the hub's end_session_endpoint with id_token_hint, so every service of the
 * hub session is signed out), and the Back-Channel Logout receiver that ends a demo session when
 * the hub says the hub session ended elsewhere. */
#include "demo_int.h"
#include "../tokens/jws.h"
#include "../util/buf.h"
#include <stdlib.h>
#include <string.h>

#define EVENT "http://schemas.openid.net/event/backchannel-logout"

static void end_local(hub *h, http_req *r, const demo_app *app, const char *key, json_t *rec)
{
	const char *sid = json_string_value(json_object_get(json_object_get(rec, "claims"), "sid"));
	store_del(h->st, NS_DEMO, key, strlen(key));
	if (sid) {
		char *ikey = arena_printf(r->a, "sid:%s:%s", app->client_id, sid);
		store_del(h->st, NS_DEMO, ikey, strlen(ikey));
	}
}

void demo_logout(hub *h, http_req *r, http_resp *resp, const demo_app *app)
{
	char *key = NULL;
	json_t *rec = demo_session(h, r, app, &key);
	demo_set_cookie(h, r, resp, app, SESSION_COOKIE, "", 0);
	const char *idt = json_string_value(json_object_get(rec, "idt"));
	if (!rec || !idt) {
		json_decref(rec);
		http_redirect(resp, arena_printf(r->a, "%s%s", h->cfg->issuer, app->path));
		return;
	}
	buf b;
	buf_init(&b, r->a);
	buf_printf(&b, "%s/logout?id_token_hint=", h->cfg->issuer);
	buf_urlenc(&b, idt);
	buf_puts(&b, "&post_logout_redirect_uri=");
	buf_urlenc(&b, arena_printf(r->a, "%s%s", h->cfg->issuer, app->path));
	end_local(h, r, app, key, rec);
	json_decref(rec);
	http_redirect(resp, buf_str(&b));
}

/* Why the logout token is refused (Back-Channel Logout 1.0 §2.6), or NULL. */
static const char *check(hub *h, http_req *r, const demo_app *app, json_t *c)
{
	int64_t now = hub_now(h);
	json_t *iat = json_object_get(c, "iat"), *ev = json_object_get(c, "events");
	const char *s;
	if (!(s = json_string_value(json_object_get(c, "iss"))) || strcmp(s, h->cfg->issuer))
		return "wrong issuer";
	if (!(s = json_string_value(json_object_get(c, "aud"))) || strcmp(s, app->client_id))
		return "for another service";
	if (!json_is_integer(iat) || json_integer_value(iat) < now - 300 ||
	    json_integer_value(iat) > now + h->cfg->clock_leeway)
		return "not fresh";
	if (!json_is_object(json_object_get(ev, EVENT)))
		return "no back-channel logout event";
	if (json_object_get(c, "nonce"))
		return "a logout token carries no nonce";
	const char *jti = json_string_value(json_object_get(c, "jti"));
	if (!jti || !json_string_value(json_object_get(c, "sid")))
		return "no jti or sid";
	char *rkey = arena_printf(r->a, "jti:%s:%s", app->client_id, jti);
	if (strlen(jti) > 128 || store_put_new(h->st, NS_DEMO, rkey, strlen(rkey), "", 0, 600))
		return "replayed";
	return NULL;
}

static void refuse(http_resp *resp, const char *why)
{
	(void)why;
	http_json(resp, 400, "{\"error\":\"invalid_request\"}");
}

void demo_backchannel(hub *h, http_req *r, http_resp *resp, const demo_app *app)
{
	const char *tok = strcmp(r->method, "POST") == 0 && !r->body_error
	                      ? form_get(&r->body, "logout_token", NULL)
	                      : NULL;
	jws_parsed p;
	if (!tok || jws_parse(r->a, tok, 8192, &p)) {
		refuse(resp, "no logout token");
		return;
	}
	keyring *kr = keys_cache_get(h->keys);
	const signing_key *k = p.kid && kr ? keyring_find(kr, p.kid) : NULL;
	const char *why =
	    !k || jws_verify(&p, k->pkey, k->alg) ? "bad signature" : check(h, r, app, p.payload);
	keyring_unref(kr);
	char *ikey = why ? NULL
	                 : arena_printf(r->a, "sid:%s:%s", app->client_id,
	                                json_string_value(json_object_get(p.payload, "sid")));
	jws_parsed_free(&p);
	if (why) {
		refuse(resp, why);
		return;
	}
	void *cookie;
	size_t n;
	if (store_take(h->st, NS_DEMO, ikey, strlen(ikey), &cookie, &n) == 0) {
		char *skey =
		    arena_printf(r->a, "session:%s:%.*s", app->client_id, (int)n, (char *)cookie);
		store_del(h->st, NS_DEMO, skey, strlen(skey));
		free(cookie);
	}
	http_text(resp, 200, "");
}
