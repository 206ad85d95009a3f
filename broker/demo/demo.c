/* demo.c — the demo services' sign-in (see demo.h). Each behaves as a careful relying party: state
 * bound to its own cookie, nonce, PKCE, the iss response parameter, and the ID token's signature
 * and claims checked against the hub's published keys. Only the code redemption is in-process
 * rather than over HTTP, through the same function the token endpoint uses. */
#include "demo.h"
#include "demo_int.h"
#include "../journey/journey.h"
#include "../oidc/provider.h"
#include "../oidc/token.h"
#include "../pages/pages.h"
#include "../tokens/jws.h"
#include "../util/b64url.h"
#include "../util/buf.h"
#include "../util/random.h"
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

/* Two services in different sectors: single sign-on from one to the other, different subs, and
 * sign-out from one reaching the other by back-channel logout. */
static const demo_app apps[] = {
    {"/demo", "demo", "Demo service", "/demo2"},
    {"/demo2", "demo2", "Second demo service", "/demo"},
};

static const char *redirect_uri(hub *h, arena *a, const demo_app *app)
{
	return arena_printf(a, "%s%s/callback", h->cfg->issuer, app->path);
}

void demo_page(http_req *r, http_resp *resp, const demo_app *app, int status, const char *body)
{
	/* its own look: a citizen must see where the service ends and the sign-in begins */
	page_opts o = {.title = app->title, .demo = 1, .site_name = app->title};
	http_html(resp, status, page_render_opts(r->a, &o, body));
}

void demo_show_start(hub *h, http_req *r, http_resp *resp, const demo_app *app, const char *notice)
{
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, "<h1>");
	buf_html(&b, app->title);
	buf_puts(&b, "</h1>\n");
	if (notice) {
		buf_puts(
		    &b,
		    "<div class=\"error-summary\" role=\"alert\"><h2>There is a problem</h2><p>");
		buf_html(&b, notice);
		buf_puts(&b, "</p></div>\n");
	}
	buf_puts(&b, "<p>This is a pretend public service. To use it you prove who you are through "
	             "the sign-in service, with the sandbox identity provider's test people.</p>\n"
	             "<p><a class=\"button\" id=\"login\" href=\"");
	buf_puts(&b, app->path);
	buf_puts(&b, "/login\">Sign in</a><a class=\"button secondary\" id=\"login-substantial\" "
	             "href=\"");
	buf_puts(&b, app->path);
	buf_puts(&b, "/login?acr=");
	buf_urlenc(&b, config_loa_acr(h->cfg, 2) ? config_loa_acr(h->cfg, 2) : "");
	buf_puts(&b, "\">Sign in at level substantial</a></p>\n");
	demo_page(r, resp, app, notice ? 400 : 200, buf_str(&b));
}

static void show_claims(http_req *r, http_resp *resp, const demo_app *app, json_t *claims)
{
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, "<h1>You are signed in to the ");
	buf_html(&b, app->title);
	buf_puts(&b, "</h1>\n<p>The sign-in service verified your "
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
	buf_printf(&b,
	           "</dl>\n<p>Try the <a id=\"other\" href=\"%s\">other demo service</a>: it "
	           "is in another sector, so it gets another <code>sub</code>, and you are "
	           "signed in there without proving your identity again.</p>\n<p><a "
	           "class=\"button secondary\" id=\"logout\" href=\"%s/logout\">Sign out</a></p>\n",
	           app->other, app->path);
	demo_page(r, resp, app, 200, buf_str(&b));
}

/* Path=/demo does not match /demo2 (RFC 6265 §5.1.4): each demo service has its own cookies. */
void demo_set_cookie(hub *h, http_req *r, http_resp *resp, const demo_app *app, const char *name,
                     const char *value, int max_age)
{
	http_add_header(resp, "Set-Cookie",
	                arena_printf(r->a, "%s=%s; Path=%s; HttpOnly; SameSite=Lax; Max-Age=%d%s",
	                             name, value, app->path, max_age,
	                             h->cfg->secure_cookies ? "; Secure" : ""));
}

static void start_login(hub *h, http_req *r, http_resp *resp, const demo_app *app)
{
	char state[44], nonce[44], verifier[44], challenge[44];
	unsigned char d[SHA256_DIGEST_LENGTH];
	if (random_token(state) || random_token(nonce) || random_token(verifier)) {
		demo_show_start(h, r, resp, app, "The random number generator failed.");
		return;
	}
	SHA256((const unsigned char *)verifier, strlen(verifier), d);
	b64url_encode(challenge, d, sizeof d);
	json_t *rec = json_pack("{s:s, s:s}", "nonce", nonce, "verifier", verifier);
	char *js = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	char *key = arena_printf(r->a, "login:%s:%s", app->client_id, state);
	int rc = store_put(h->st, NS_DEMO, key, strlen(key), js, strlen(js), h->cfg->journey_ttl);
	free(js);
	if (rc) {
		demo_show_start(h, r, resp, app, "The demo service cannot store its state.");
		return;
	}
	demo_set_cookie(h, r, resp, app, LOGIN_COOKIE, state, (int)h->cfg->journey_ttl);
	buf b;
	buf_init(&b, r->a);
	buf_printf(&b,
	           "%s/authorize?response_type=code&client_id=%s&scope=openid%%20profile"
	           "&redirect_uri=",
	           h->cfg->issuer, app->client_id);
	buf_urlenc(&b, redirect_uri(h, r->a, app));
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
static json_t *verify_id_token(hub *h, http_req *r, const demo_app *app, const char *idt,
                               const char *nonce, const char **why)
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
	else if (!(s = json_string_value(json_object_get(c, "aud"))) || strcmp(s, app->client_id))
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

/* The sign-in request this callback answers: its nonce and verifier (arena), or a notice. */
static const char *take_login(hub *h, http_req *r, const demo_app *app, const char **nonce,
                              const char **verifier)
{
	const char *state = form_get(&r->query, "state", NULL);
	const char *cookie = http_cookie(r, LOGIN_COOKIE);
	const char *iss = form_get(&r->query, "iss", NULL);
	if (!state || !journey_token_eq(state, cookie))
		return "This sign-in was not started here, or has expired.";
	/* RFC 9207: the response must come from the issuer we sent the citizen to */
	if (!iss || strcmp(iss, h->cfg->issuer) != 0)
		return "The response came from an unexpected issuer.";
	char *key = arena_printf(r->a, "login:%s:%s", app->client_id, state);
	void *v;
	size_t n;
	if (store_take(h->st, NS_DEMO, key, strlen(key), &v, &n))
		return "This sign-in has expired or was already used.";
	json_t *rec = json_loadb(v, n, 0, NULL);
	free(v);
	*nonce = arena_strdup(r->a, json_string_value(json_object_get(rec, "nonce")));
	*verifier = arena_strdup(r->a, json_string_value(json_object_get(rec, "verifier")));
	json_decref(rec);
	return NULL;
}

/* The demo's own session: "session:<client>:<cookie>" -> {claims, idt}, and "sid:<client>:<hub
 * sid>" -> the cookie, so a back-channel logout (demo_logout.c) finds it. */
static int save_session(hub *h, http_req *r, const demo_app *app, json_t *claims, const char *idt,
                        char cookie[44])
{
	if (random_token(cookie))
		return -1;
	json_t *rec = json_pack("{s:O, s:s}", "claims", claims, "idt", idt);
	char *js = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	const char *sid = json_string_value(json_object_get(claims, "sid"));
	char *skey = arena_printf(r->a, "session:%s:%s", app->client_id, cookie);
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_DEMO, skey, strlen(skey), js, strlen(js), 3600);
	if (sid) {
		char *ikey = arena_printf(r->a, "sid:%s:%s", app->client_id, sid);
		store_batch_put(b, NS_DEMO, ikey, strlen(ikey), cookie, 43, 3600);
	}
	free(js);
	return store_batch_commit(h->st, b);
}

static void finish_login(hub *h, http_req *r, http_resp *resp, const demo_app *app)
{
	const char *nonce = NULL, *verifier = NULL;
	const char *notice = take_login(h, r, app, &nonce, &verifier);
	if (notice) {
		demo_show_start(h, r, resp, app, notice);
		return;
	}
	demo_set_cookie(h, r, resp, app, LOGIN_COOKIE, "", 0);
	const char *err = form_get(&r->query, "error", NULL);
	if (err) {
		demo_show_start(h, r, resp, app,
		                arena_printf(r->a, "The sign-in service answered: %s",
		                             strcmp(err, "access_denied") == 0
		                                 ? "you cancelled the sign-in"
		                                 : err));
		return;
	}
	const char *code = form_get(&r->query, "code", NULL);
	const hub_client *c = hub_find_client(h, r->a, app->client_id);
	token_result tr;
	if (!code || !nonce || !verifier || !c ||
	    oidc_redeem(h, r->a, c, code, redirect_uri(h, r->a, app), verifier, &tr)) {
		demo_show_start(h, r, resp, app, "The sign-in could not be completed.");
		return;
	}
	const char *why;
	json_t *claims = verify_id_token(h, r, app, tr.id_token, nonce, &why);
	if (!claims) {
		demo_show_start(h, r, resp, app, why);
		return;
	}
	char cookie[44];
	int rc = save_session(h, r, app, claims, tr.id_token, cookie);
	json_decref(claims);
	if (rc) {
		demo_show_start(h, r, resp, app, "The demo service cannot store its session.");
		return;
	}
	demo_set_cookie(h, r, resp, app, SESSION_COOKIE, cookie, 3600);
	http_redirect(resp, arena_printf(r->a, "%s%s", h->cfg->issuer, app->path));
}

json_t *demo_session(hub *h, http_req *r, const demo_app *app, char **key)
{
	const char *cookie = http_cookie(r, SESSION_COOKIE);
	if (!cookie || strlen(cookie) != 43)
		return NULL;
	char *skey = arena_printf(r->a, "session:%s:%s", app->client_id, cookie);
	void *v;
	size_t n;
	if (store_get(h->st, NS_DEMO, skey, strlen(skey), &v, &n, NULL) != 0)
		return NULL;
	json_t *rec = json_loadb(v, n, 0, NULL);
	free(v);
	if (key)
		*key = skey;
	return rec;
}

static void home(hub *h, http_req *r, http_resp *resp, const demo_app *app)
{
	json_t *rec = demo_session(h, r, app, NULL);
	json_t *claims = json_object_get(rec, "claims");
	if (json_is_object(claims))
		show_claims(r, resp, app, claims);
	else
		demo_show_start(h, r, resp, app, NULL);
	json_decref(rec);
}

void demo_route(hub *h, http_req *r, http_resp *resp)
{
	const demo_app *app = NULL;
	const char *rest = NULL;
	for (size_t i = 0; i < sizeof apps / sizeof apps[0]; i++) {
		size_t n = strlen(apps[i].path);
		if (strncmp(r->path, apps[i].path, n) == 0 && (!r->path[n] || r->path[n] == '/')) {
			app = &apps[i];
			rest = r->path + n;
		}
	}
	if (!app) {
		http_html(resp, 404,
		          page_render(r->a, "Page not found", "<h1>Page not found</h1>"));
		return;
	}
	if (!hub_find_client(h, r->a, app->client_id)) {
		demo_page(r, resp, app, 500,
		          arena_printf(r->a,
		                       "<h1>Demo service not configured</h1><p>Add a service with "
		                       "client_id \"%s\" and the redirect URI "
		                       "ISSUER%s/callback to the config.</p>",
		                       app->client_id, app->path));
		return;
	}
	if (!*rest || strcmp(rest, "/") == 0)
		home(h, r, resp, app);
	else if (strcmp(rest, "/login") == 0)
		start_login(h, r, resp, app);
	else if (strcmp(rest, "/callback") == 0)
		finish_login(h, r, resp, app);
	else if (strcmp(rest, "/logout") == 0)
		demo_logout(h, r, resp, app);
	else if (strcmp(rest, "/backchannel") == 0)
		demo_backchannel(h, r, resp, app);
	else
		demo_page(r, resp, app, 404, "<h1>Page not found</h1>");
}
