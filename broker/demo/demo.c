/* demo.c — the demo service (see demo.h). It behaves as a careful relying party: state bound to its
 * own cookie, nonce, PKCE, the iss response parameter, and the ID token's signature and claims
 * checked against the hub's published keys. Only the code redemption is in-process rather than over
 * HTTP, through the same function the token endpoint uses. */
#include "demo.h"
#include "../journey/journey.h"
#include "../oidc/token.h"
#include "../pages/pages.h"
#include "../tokens/jws.h"
#include "../util/b64url.h"
#include "../util/buf.h"
#include "../util/random.h"
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_CLIENT "demo"
#define LOGIN_COOKIE "demo_login"
#define SESSION_COOKIE "demo_session"

static const char *redirect_uri(hub *h, arena *a)
{
	return arena_printf(a, "%s/demo/callback", h->cfg->issuer);
}

static void demo_page(http_req *r, http_resp *resp, int status, const char *body)
{
	http_html(resp, status, page_render(r->a, "Demo service", body));
}

static void show_start(hub *h, http_req *r, http_resp *resp, const char *notice)
{
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, "<h1>Demo service</h1>\n");
	if (notice) {
		buf_puts(
		    &b,
		    "<div class=\"error-summary\" role=\"alert\"><h2>There is a problem</h2><p>");
		buf_html(&b, notice);
		buf_puts(&b, "</p></div>\n");
	}
	buf_puts(&b,
	         "<p>This is a pretend public service. To use it you prove who you are through "
	         "the hub, with the sandbox identity provider's test people.</p>\n"
	         "<p><a class=\"button\" id=\"login\" href=\"/demo/login\">Sign in</a>"
	         "<a class=\"button secondary\" id=\"login-substantial\" href=\"/demo/login?acr=");
	buf_urlenc(&b, config_loa_acr(h->cfg, 2) ? config_loa_acr(h->cfg, 2) : "");
	buf_puts(&b, "\">Sign in at level substantial</a></p>\n");
	demo_page(r, resp, notice ? 400 : 200, buf_str(&b));
}

static void show_claims(http_req *r, http_resp *resp, json_t *claims)
{
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, "<h1>You are signed in to the demo service</h1>\n<p>The hub verified your "
	             "identity and sent these claims in a signed ID token. The <code>sub</code> is "
	             "your pairwise identifier: another service gets a different one.</p>\n"
	             "<dl class=\"claims\">\n");
	const char *k;
	json_t *v;
	json_object_foreach(claims, k, v)
	{
		buf_puts(&b, "<dt>");
		buf_html(&b, k);
		buf_puts(&b, "</dt><dd id=\"claim-");
		buf_html(&b, k);
		buf_puts(&b, "\">");
		if (json_is_string(v)) {
			buf_html(&b, json_string_value(v));
		} else {
			char *s = json_dumps(v, JSON_ENCODE_ANY);
			buf_html(&b, s);
			free(s);
		}
		buf_puts(&b, "</dd>\n");
	}
	buf_puts(
	    &b, "</dl>\n<p><a class=\"button secondary\" href=\"/demo/logout\">Sign out</a></p>\n");
	demo_page(r, resp, 200, buf_str(&b));
}

static void set_cookie(hub *h, http_req *r, http_resp *resp, const char *name, const char *value,
                       int max_age)
{
	http_add_header(
	    resp, "Set-Cookie",
	    arena_printf(r->a, "%s=%s; Path=/demo; HttpOnly; SameSite=Lax; Max-Age=%d%s", name,
	                 value, max_age, h->cfg->secure_cookies ? "; Secure" : ""));
}

static void start_login(hub *h, http_req *r, http_resp *resp)
{
	char state[44], nonce[44], verifier[44], challenge[44];
	unsigned char d[SHA256_DIGEST_LENGTH];
	if (random_token(state) || random_token(nonce) || random_token(verifier)) {
		show_start(h, r, resp, "The random number generator failed.");
		return;
	}
	SHA256((const unsigned char *)verifier, strlen(verifier), d);
	b64url_encode(challenge, d, sizeof d);
	json_t *rec = json_pack("{s:s, s:s}", "nonce", nonce, "verifier", verifier);
	char *js = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	char *key = arena_printf(r->a, "login:%s", state);
	int rc = store_put(h->st, NS_DEMO, key, strlen(key), js, strlen(js), h->cfg->journey_ttl);
	free(js);
	if (rc) {
		show_start(h, r, resp, "The demo service cannot store its state.");
		return;
	}
	set_cookie(h, r, resp, LOGIN_COOKIE, state, (int)h->cfg->journey_ttl);
	buf b;
	buf_init(&b, r->a);
	buf_printf(&b,
	           "%s/authorize?response_type=code&client_id=" DEMO_CLIENT
	           "&scope=openid%%20profile"
	           "&redirect_uri=",
	           h->cfg->issuer);
	buf_urlenc(&b, redirect_uri(h, r->a));
	buf_printf(&b, "&state=%s&nonce=%s&code_challenge=%s&code_challenge_method=S256", state,
	           nonce, challenge);
	const char *acr = form_get(&r->query, "acr", NULL);
	if (acr && config_loa_level(h->cfg, acr)) {
		buf_puts(&b, "&acr_values=");
		buf_urlenc(&b, acr);
	}
	http_redirect(resp, buf_str(&b));
}

/* Checks the ID token as a relying party must (OIDC Core §3.1.3.7). Returns its claims or NULL. */
static json_t *verify_id_token(hub *h, http_req *r, const char *idt, const char *nonce,
                               const char **why)
{
	jws_parsed p;
	if (jws_parse(r->a, idt, 16384, &p)) {
		*why = "the ID token is malformed";
		return NULL;
	}
	keyring *kr = keys_cache_get(h->keys);
	const signing_key *k = p.kid && kr ? keyring_find(kr, p.kid) : NULL;
	json_t *c = p.payload;
	json_t *exp = json_object_get(c, "exp");
	const char *s;
	*why = NULL;
	if (!k || jws_verify(&p, k->pkey, k->alg))
		*why = "the ID token signature does not verify";
	else if (!(s = json_string_value(json_object_get(c, "iss"))) || strcmp(s, h->cfg->issuer))
		*why = "the ID token has the wrong issuer";
	else if (!(s = json_string_value(json_object_get(c, "aud"))) || strcmp(s, DEMO_CLIENT))
		*why = "the ID token is for another service";
	else if (!(s = json_string_value(json_object_get(c, "nonce"))) ||
	         !journey_token_eq(s, nonce))
		*why = "the ID token's nonce does not match";
	else if (!json_is_integer(exp) || json_integer_value(exp) <= hub_now(h))
		*why = "the ID token has expired";
	keyring_unref(kr);
	json_t *out = *why ? NULL : json_incref(c);
	jws_parsed_free(&p);
	return out;
}

static void finish_login(hub *h, http_req *r, http_resp *resp)
{
	const char *state = form_get(&r->query, "state", NULL);
	const char *cookie = http_cookie(r, LOGIN_COOKIE);
	const char *iss = form_get(&r->query, "iss", NULL);
	if (!state || !journey_token_eq(state, cookie)) {
		show_start(h, r, resp, "This sign-in was not started here, or has expired.");
		return;
	}
	if (!iss || strcmp(iss, h->cfg->issuer) != 0) {
		/* RFC 9207: the response must come from the issuer we sent the citizen to */
		show_start(h, r, resp, "The response came from an unexpected issuer.");
		return;
	}
	char *key = arena_printf(r->a, "login:%s", state);
	void *v;
	size_t n;
	if (store_take(h->st, NS_DEMO, key, strlen(key), &v, &n)) {
		show_start(h, r, resp, "This sign-in has expired or was already used.");
		return;
	}
	json_t *rec = json_loadb(v, n, 0, NULL);
	free(v);
	const char *nonce = arena_strdup(r->a, json_string_value(json_object_get(rec, "nonce")));
	const char *verifier =
	    arena_strdup(r->a, json_string_value(json_object_get(rec, "verifier")));
	json_decref(rec);
	set_cookie(h, r, resp, LOGIN_COOKIE, "", 0);
	const char *err = form_get(&r->query, "error", NULL);
	if (err) {
		show_start(h, r, resp,
		           arena_printf(r->a, "The hub answered: %s",
		                        strcmp(err, "access_denied") == 0
		                            ? "you cancelled the sign-in"
		                            : err));
		return;
	}
	const char *code = form_get(&r->query, "code", NULL);
	const hub_client *c = hub_find_client(h, r->a, DEMO_CLIENT);
	token_result tr;
	if (!code || !nonce || !verifier || !c ||
	    oidc_redeem(h, r->a, c, code, redirect_uri(h, r->a), verifier, &tr)) {
		show_start(h, r, resp, "The sign-in could not be completed.");
		return;
	}
	const char *why;
	json_t *claims = verify_id_token(h, r, tr.id_token, nonce, &why);
	if (!claims) {
		show_start(h, r, resp, why);
		return;
	}
	char sid[44];
	char *cs = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	char *skey = NULL;
	int rc = random_token(sid);
	if (rc == 0) {
		skey = arena_printf(r->a, "session:%s", sid);
		rc = store_put(h->st, NS_DEMO, skey, strlen(skey), cs, strlen(cs), 3600);
	}
	free(cs);
	if (rc) {
		show_start(h, r, resp, "The demo service cannot store its session.");
		return;
	}
	set_cookie(h, r, resp, SESSION_COOKIE, sid, 3600);
	http_redirect(resp, arena_printf(r->a, "%s/demo", h->cfg->issuer));
}

static void home(hub *h, http_req *r, http_resp *resp)
{
	const char *sid = http_cookie(r, SESSION_COOKIE);
	if (sid && strlen(sid) == 43) {
		char *skey = arena_printf(r->a, "session:%s", sid);
		void *v;
		size_t n;
		if (store_get(h->st, NS_DEMO, skey, strlen(skey), &v, &n, NULL) == 0) {
			json_t *claims = json_loadb(v, n, 0, NULL);
			free(v);
			if (claims) {
				show_claims(r, resp, claims);
				json_decref(claims);
				return;
			}
		}
	}
	show_start(h, r, resp, NULL);
}

void demo_route(hub *h, http_req *r, http_resp *resp)
{
	if (!hub_find_client(h, r->a, DEMO_CLIENT)) {
		demo_page(r, resp, 500,
		          "<h1>Demo service not configured</h1><p>Add a service with client_id "
		          "\"demo\" and the redirect URI ISSUER/demo/callback to the config.</p>");
		return;
	}
	if (strcmp(r->path, "/demo") == 0 || strcmp(r->path, "/demo/") == 0)
		home(h, r, resp);
	else if (strcmp(r->path, "/demo/login") == 0)
		start_login(h, r, resp);
	else if (strcmp(r->path, "/demo/callback") == 0)
		finish_login(h, r, resp);
	else if (strcmp(r->path, "/demo/logout") == 0) {
		const char *sid = http_cookie(r, SESSION_COOKIE);
		if (sid) {
			char *skey = arena_printf(r->a, "session:%s", sid);
			store_del(h->st, NS_DEMO, skey, strlen(skey));
		}
		set_cookie(h, r, resp, SESSION_COOKIE, "", 0);
		http_redirect(resp, arena_printf(r->a, "%s/demo", h->cfg->issuer));
	} else
		demo_page(r, resp, 404, "<h1>Page not found</h1>");
}
