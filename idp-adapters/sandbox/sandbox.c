/* sandbox.c — the built-in test identity provider (the embedded default adapter).
 *
 * It plays a real upstream IdP through the same ABI the OIDC and SAML adapters use, in the shape of
 * SAML's Web SSO profile: start() redirects to the IdP's own login page with an HMAC-signed
 * request; the page lets a developer or a test pick a test person (or type any user name) and
 * answers with an HMAC-signed assertion auto-POSTed to the hub's callback; finish() verifies the
 * signature, the InResponseTo (request id and nonce), the expiry and a replay cache. Its pages are
 * served by the hub under /idp/<id>/, optionally on another host name (page_base_url) so that the
 * POST back is cross-site, as a real IdP's is.
 *
 * Settings: page_base_url (default: the hub's issuer), assertion_ttl (seconds, default 120).
 * The HMAC key is shared by every hub node through the hub's store (the adapter cache): a request
 * signed on one node is verified on another (several nodes on PostgreSQL). The first node that
 * needs it stores its own random key; the others read it. When the store loses it (a crash of the
 * store), assertions in flight are refused, as they should be, and a new one is made.
 */
#include <idhub/adapter.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_TTL 900
#define MAX_TOKEN 8192

/* The test people and the claims the sandbox asserts for them (OIDC Core §5.1 names; address as
 * the JSON text of an address object). Bob has no phone or address, so tests can show that a claim
 * the IdP did not assert is simply left out. */
typedef struct persona {
	const char *id, *sub, *given, *family, *birthdate, *email, *phone, *address;
	int loa;
} persona;

static const persona personas[] = {
    {"alice", "sandbox-alice", "Alice", "Smith", "1990-04-01", "alice@example.org",
     "+44 20 7946 0001",
     "{\"street_address\":\"1 Test Street\",\"locality\":\"London\",\"postal_code\":\"SW1A "
     "1AA\",\"country\":\"GB\"}",
     2},
    {"bob", "sandbox-bob", "Bob", "Jones", "1985-11-23", "bob@example.org", NULL, NULL, 1},
};

typedef struct sandbox {
	const idhub_services *svc;
	char *instance_id, *page_base_url, *callback_url, *hub_base_url;
	const char *const *loa_acrs;
	int nloas;
	long assertion_ttl;
	unsigned char key[32];
} sandbox;

static void set_err(idhub_error *e, idhub_status st, const char *msg)
{
	e->status = st;
	snprintf(e->message, sizeof e->message, "%s", msg);
}

/* ---- signed tokens: base64url(JSON) "." base64url(HMAC-SHA256) ---- */

#define KEY_NAME "hmac-key"

static int unhex32(const char *h, unsigned char out[32])
{
	if (!h || strlen(h) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

/* The key every node uses: the stored one, or this node's own stored first (two nodes storing at
 * once: both read back the one that stayed). -1 on a store error. */
static int shared_key(sandbox *sb, unsigned char key[32])
{
	char *h = sb->svc->cache_get(sb->svc->hub, sb->instance_id, KEY_NAME);
	int rc = unhex32(h, key);
	free(h);
	if (rc == 0)
		return 0;
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sb->key[i]);
	if (sb->svc->cache_put(sb->svc->hub, sb->instance_id, KEY_NAME, hex, 0))
		return -1;
	h = sb->svc->cache_get(sb->svc->hub, sb->instance_id, KEY_NAME);
	rc = unhex32(h, key);
	free(h);
	OPENSSL_cleanse(hex, sizeof hex);
	return rc;
}

static char *seal(sandbox *sb, idhub_arena *a, json_t *o)
{
	unsigned char key[32];
	if (shared_key(sb, key))
		return NULL;
	char *js = json_dumps(o, JSON_COMPACT);
	if (!js)
		return NULL;
	unsigned char mac[32];
	unsigned int maclen = sizeof mac;
	HMAC(EVP_sha256(), key, sizeof key, (unsigned char *)js, strlen(js), mac, &maclen);
	OPENSSL_cleanse(key, sizeof key);
	char *p = sb->svc->b64url_encode(a, js, strlen(js));
	char *m = sb->svc->b64url_encode(a, mac, maclen);
	free(js);
	size_t n = strlen(p) + strlen(m) + 2;
	char *out = sb->svc->alloc(a, n);
	snprintf(out, n, "%s.%s", p, m);
	return out;
}

static json_t *unseal(sandbox *sb, idhub_arena *a, const char *tok)
{
	if (!tok || strlen(tok) > MAX_TOKEN)
		return NULL;
	const char *dot = strchr(tok, '.');
	if (!dot)
		return NULL;
	size_t plen = (size_t)(dot - tok);
	char *p = sb->svc->alloc(a, plen + 1);
	memcpy(p, tok, plen);
	unsigned char *payload, *mac;
	long n = sb->svc->b64url_decode(a, p, &payload);
	long m = sb->svc->b64url_decode(a, dot + 1, &mac);
	if (n <= 0 || m != 32)
		return NULL;
	unsigned char want[32], key[32];
	unsigned int wl = sizeof want;
	if (shared_key(sb, key))
		return NULL;
	HMAC(EVP_sha256(), key, sizeof key, payload, (size_t)n, want, &wl);
	OPENSSL_cleanse(key, sizeof key);
	if (CRYPTO_memcmp(want, mac, 32) != 0)
		return NULL;
	json_t *o = json_loadb((const char *)payload, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static const char *setting(const idhub_adapter_config *c, const char *name)
{
	for (size_t i = 0; i < c->nsettings; i++)
		if (strcmp(c->settings[i].name, name) == 0)
			return c->settings[i].value;
	return NULL;
}

static void *sb_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	for (size_t i = 0; i < cfg->nsettings; i++)
		if (strcmp(cfg->settings[i].name, "page_base_url") != 0 &&
		    strcmp(cfg->settings[i].name, "assertion_ttl") != 0) {
			snprintf(err->message, sizeof err->message,
			         "%s: unknown setting for the sandbox adapter",
			         cfg->settings[i].name);
			return NULL;
		}
	const char *base = setting(cfg, "page_base_url");
	if (base && strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
		set_err(err, IDHUB_ERR_INTERNAL, "page_base_url: must be an http(s) URL");
		return NULL;
	}
	const char *ttl = setting(cfg, "assertion_ttl");
	long t = ttl ? strtol(ttl, NULL, 10) : 120;
	if (t < 10 || t > 600) {
		set_err(err, IDHUB_ERR_INTERNAL, "assertion_ttl: must be 10 to 600 seconds");
		return NULL;
	}
	sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return NULL;
	sb->svc = svc;
	sb->instance_id = strdup(cfg->instance_id);
	sb->page_base_url = strdup(base ? base : cfg->hub_base_url);
	size_t bl = strlen(sb->page_base_url);
	if (bl && sb->page_base_url[bl - 1] == '/')
		sb->page_base_url[bl - 1] = 0;
	sb->callback_url = strdup(cfg->callback_url);
	sb->hub_base_url = strdup(cfg->hub_base_url);
	sb->loa_acrs = cfg->loa_acrs;
	sb->nloas = cfg->nloas;
	sb->assertion_ttl = t;
	if (svc->random_bytes(svc->hub, sb->key, sizeof sb->key)) {
		set_err(err, IDHUB_ERR_INTERNAL, "random number generator failed");
		free(sb);
		return NULL;
	}
	return sb;
}

static void sb_destroy(void *ctx)
{
	sandbox *sb = ctx;
	OPENSSL_cleanse(sb->key, sizeof sb->key);
	free(sb->instance_id);
	free(sb->page_base_url);
	free(sb->callback_url);
	free(sb->hub_base_url);
	free(sb);
}

static int sb_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                    idhub_start_result *out, idhub_error *err)
{
	sandbox *sb = ctx;
	int64_t now = sb->svc->now(sb->svc->hub);
	json_t *o = json_pack("{s:s, s:s, s:i, s:I}", "rid", req->request_id, "nonce", req->nonce,
	                      "loa", req->min_loa, "exp", (json_int_t)(now + REQUEST_TTL));
	char *tok = seal(sb, a, o);
	json_decref(o);
	if (!tok) {
		set_err(err, IDHUB_ERR_INTERNAL, "cannot build the request");
		return -1;
	}
	size_t n = strlen(sb->page_base_url) + strlen(sb->instance_id) + strlen(tok) + 32;
	char *url = sb->svc->alloc(a, n);
	snprintf(url, n, "%s/idp/%s/login?req=%s", sb->page_base_url, sb->instance_id, tok);
	out->kind = IDHUB_START_REDIRECT;
	out->url = url;
	return 0;
}

/* A small arena string builder for the pages. */
typedef struct sbuf {
	const idhub_services *svc;
	idhub_arena *a;
	char *s;
	size_t len, cap;
} sbuf;

static void put(sbuf *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 2048;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = b->svc->alloc(b->a, cap);
		if (b->len)
			memcpy(d, b->s, b->len);
		b->s = d;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

static void put_esc(sbuf *b, const char *s)
{
	put(b, b->svc->html_escape(b->a, s ? s : ""));
}

static const char *acr_label(const sandbox *sb, int loa)
{
	return loa >= 1 && loa <= sb->nloas ? sb->loa_acrs[loa - 1] : "?";
}

static int page(sandbox *sb, idhub_arena *a, idhub_http_response *resp, int status,
                const char *title, const char *body)
{
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = sb->svc->page(sb->svc->hub, a, title, body);
	resp->body_len = strlen(resp->body);
	return 0;
}

static int error_page(sandbox *sb, idhub_arena *a, idhub_http_response *resp, const char *msg)
{
	sbuf b = {.svc = sb->svc, .a = a};
	put(&b, "<h1>Sandbox identity provider</h1>\n<p>");
	put_esc(&b, msg);
	put(&b, "</p>\n");
	return page(sb, a, resp, 400, "Sandbox identity provider", b.s);
}

static int login_page(sandbox *sb, idhub_arena *a, const char *req, json_t *rq,
                      idhub_http_response *resp)
{
	int min = (int)json_integer_value(json_object_get(rq, "loa"));
	sbuf b = {.svc = sb->svc, .a = a};
	put(&b,
	    "<h1>Sandbox identity provider</h1>\n<p>This is a test identity provider. Choose a "
	    "test person to sign in as. Nothing here is real.</p>\n<p>The service needs level ");
	put_esc(&b, acr_label(sb, min));
	put(&b, " or higher.</p>\n<form method=\"post\" action=\"/idp/");
	put_esc(&b, sb->instance_id);
	put(&b, "/login\">\n<input type=\"hidden\" name=\"req\" value=\"");
	put_esc(&b, req);
	put(&b, "\">\n<fieldset>\n<legend>Sign in as</legend>\n");
	for (size_t i = 0; i < sizeof personas / sizeof personas[0]; i++) {
		const persona *p = &personas[i];
		char line[512];
		snprintf(line, sizeof line,
		         "<div class=\"option\"><input type=\"radio\" name=\"persona\" "
		         "id=\"persona-%s\" value=\"%s\"%s><label for=\"persona-%s\">%s %s"
		         "<span class=\"hint\">level ",
		         p->id, p->id, i == 0 ? " checked" : "", p->id, p->given, p->family);
		put(&b, line);
		put_esc(&b, acr_label(sb, p->loa));
		put(&b, "</span></label></div>\n");
	}
	put(&b, "<div class=\"option\"><input type=\"radio\" name=\"persona\" id=\"persona-other\" "
	        "value=\"other\"><label for=\"persona-other\">Another test user</label></div>\n"
	        "<p><label for=\"username\">Test user name</label><br><input type=\"text\" "
	        "id=\"username\" name=\"username\" autocomplete=\"off\" maxlength=\"64\"></p>\n"
	        "<p><label for=\"loa\">Level of assurance for that user</label><br>"
	        "<select id=\"loa\" name=\"loa\">\n");
	for (int l = 1; l <= sb->nloas; l++) {
		char opt[64];
		snprintf(opt, sizeof opt, "<option value=\"%d\"%s>", l,
		         l == min ? " selected" : "");
		put(&b, opt);
		put_esc(&b, acr_label(sb, l));
		put(&b, "</option>\n");
	}
	put(&b,
	    "</select></p>\n</fieldset>\n<button class=\"button\" type=\"submit\" name=\"action\" "
	    "value=\"login\">Sign in</button>\n<button class=\"button secondary\" type=\"submit\" "
	    "name=\"action\" value=\"cancel\">Cancel</button>\n</form>\n");
	return page(sb, a, resp, 200, "Sandbox identity provider", b.s);
}

static int username_ok(const char *u)
{
	size_t n = u ? strlen(u) : 0;
	if (n < 1 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '@'))
			return 0;
	}
	return 1;
}

/* The IdP's answer: an assertion auto-POSTed to the hub's callback. */
static int answer(sandbox *sb, idhub_arena *a, const idhub_http_request *r, json_t *rq,
                  idhub_http_response *resp)
{
	int64_t now = sb->svc->now(sb->svc->hub);
	const char *rid = json_string_value(json_object_get(rq, "rid"));
	const char *nonce = json_string_value(json_object_get(rq, "nonce"));
	char id[44];
	if (!rid || !nonce || sb->svc->random_token(sb->svc->hub, id))
		return error_page(sb, a, resp, "The request is not valid.");
	json_t *as =
	    json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", id, "irt", rid, "nonce", nonce, "iat",
	              (json_int_t)now, "exp", (json_int_t)(now + sb->assertion_ttl));
	const char *action = idhub_param(r, "action", NULL);
	const char *who = idhub_param(r, "persona", NULL);
	if (action && strcmp(action, "cancel") == 0) {
		json_object_set_new(as, "error", json_string("access_denied"));
	} else if (who && strcmp(who, "other") == 0) {
		const char *u = idhub_param(r, "username", NULL);
		const char *l = idhub_param(r, "loa", NULL);
		int loa = l ? atoi(l) : 0;
		if (!username_ok(u) || loa < 1 || loa > sb->nloas) {
			json_decref(as);
			return error_page(sb, a, resp,
			                  "Enter a user name of 1 to 64 letters, digits or . _ - @ "
			                  "and choose a level.");
		}
		json_object_set_new(as, "sub", json_pack("s+", "user:", u));
		json_object_set_new(as, "loa", json_integer(loa));
		json_object_set_new(as, "given_name", json_string(u));
		json_object_set_new(as, "family_name", json_string("Tester"));
	} else {
		const persona *p = NULL;
		for (size_t i = 0; who && i < sizeof personas / sizeof personas[0]; i++)
			if (strcmp(personas[i].id, who) == 0)
				p = &personas[i];
		if (!p) {
			json_decref(as);
			return error_page(sb, a, resp, "Choose a test person.");
		}
		json_object_set_new(as, "sub", json_string(p->sub));
		json_object_set_new(as, "loa", json_integer(p->loa));
		json_object_set_new(as, "given_name", json_string(p->given));
		json_object_set_new(as, "family_name", json_string(p->family));
		json_object_set_new(as, "birthdate", json_string(p->birthdate));
		json_object_set_new(as, "name", json_sprintf("%s %s", p->given, p->family));
		json_object_set_new(as, "email", json_string(p->email));
		json_object_set_new(as, "email_verified", json_string("true"));
		if (p->phone) {
			json_object_set_new(as, "phone_number", json_string(p->phone));
			json_object_set_new(as, "phone_number_verified", json_string("true"));
		}
		if (p->address)
			json_object_set_new(as, "address", json_string(p->address));
	}
	json_object_set_new(as, "auth_time", json_integer(now));
	char *tok = seal(sb, a, as);
	json_decref(as);
	if (!tok)
		return error_page(sb, a, resp, "Cannot build the assertion.");
	sbuf b = {.svc = sb->svc, .a = a};
	put(&b, "<h1>Returning to the hub</h1>\n<p>Select Continue if you are not taken back "
	        "automatically.</p>\n<form method=\"post\" action=\"");
	put_esc(&b, sb->callback_url);
	put(&b, "\">\n<input type=\"hidden\" name=\"assertion\" value=\"");
	put_esc(&b, tok);
	put(&b, "\">\n<input type=\"hidden\" name=\"state\" value=\"");
	put_esc(&b, rid);
	put(&b, "\">\n<button class=\"button\" type=\"submit\">Continue</button>\n</form>\n"
	        "<script>document.forms[0].submit();</script>\n");
	return page(sb, a, resp, 200, "Returning to the hub", b.s);
}

static int sb_serve(void *ctx, idhub_arena *a, const idhub_http_request *r,
                    idhub_http_response *resp)
{
	sandbox *sb = ctx;
	if (strcmp(r->path, "/login") != 0)
		return -1;
	int n;
	const char *req = idhub_param(r, "req", &n);
	json_t *rq = n == 1 ? unseal(sb, a, req) : NULL;
	int64_t now = sb->svc->now(sb->svc->hub);
	if (!rq || json_integer_value(json_object_get(rq, "exp")) < now) {
		json_decref(rq);
		return error_page(
		    sb, a, resp,
		    "This sign-in request is not valid or has expired. Go back to the "
		    "service and start again.");
	}
	int rc = strcmp(r->method, "POST") == 0 ? answer(sb, a, r, rq, resp)
	                                        : login_page(sb, a, req, rq, resp);
	json_decref(rq);
	return rc;
}

static int sb_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                     const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	sandbox *sb = ctx;
	int n;
	const char *tok = idhub_param(cb, "assertion", &n);
	if (!tok || n != 1) {
		set_err(err, IDHUB_ERR_INVALID, "no assertion, or more than one");
		return -1;
	}
	json_t *as = unseal(sb, a, tok);
	if (!as) {
		set_err(err, IDHUB_ERR_INVALID, "assertion signature does not verify");
		return -1;
	}
	int64_t now = sb->svc->now(sb->svc->hub);
	const char *irt = json_string_value(json_object_get(as, "irt"));
	const char *nonce = json_string_value(json_object_get(as, "nonce"));
	const char *id = json_string_value(json_object_get(as, "id"));
	json_int_t iat = json_integer_value(json_object_get(as, "iat"));
	json_int_t exp = json_integer_value(json_object_get(as, "exp"));
	int rc = -1;
	if (!irt || strcmp(irt, req->request_id) != 0 || !nonce || strcmp(nonce, req->nonce) != 0)
		set_err(err, IDHUB_ERR_INVALID, "assertion answers another request");
	else if (exp <= now || iat > now + 60)
		set_err(err, IDHUB_ERR_INVALID, "assertion expired");
	else if (iat < sb->svc->replay_floor(sb->svc->hub) || iat < req->started_at - 60)
		set_err(err, IDHUB_ERR_INVALID, "assertion issued before this login began");
	else if (!id || sb->svc->replay_seen(sb->svc->hub, sb->instance_id, id, exp) != 0)
		set_err(err, IDHUB_ERR_INVALID, "assertion replayed");
	else if (json_object_get(as, "error"))
		set_err(err, IDHUB_ERR_ACCESS_DENIED, "the person cancelled at the sandbox IdP");
	else
		rc = 0;
	if (rc == 0) {
		static const char *const attrs[] = {
		    "name",           "given_name",   "family_name",           "birthdate", "email",
		    "email_verified", "phone_number", "phone_number_verified", "address"};
		idhub_kv *kv = sb->svc->alloc(a, sizeof attrs / sizeof attrs[0] * sizeof(*kv));
		size_t k = 0;
		for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
			const char *v = json_string_value(json_object_get(as, attrs[i]));
			if (v) {
				kv[k].name = attrs[i];
				kv[k].value = sb->svc->strdup(a, v);
				k++;
			}
		}
		out->subject = sb->svc->strdup(a, json_string_value(json_object_get(as, "sub")));
		out->loa = (int)json_integer_value(json_object_get(as, "loa"));
		out->auth_time = json_integer_value(json_object_get(as, "auth_time"));
		out->attrs = kv;
		out->nattrs = k;
		out->upstream_id = sb->svc->strdup(a, id);
		if (!out->subject) {
			set_err(err, IDHUB_ERR_INVALID, "assertion names nobody");
			rc = -1;
		}
	}
	json_decref(as);
	return rc;
}

static const idhub_adapter sandbox_adapter = {
    .abi_version = IDHUB_ADAPTER_ABI_VERSION,
    .name = "sandbox",
    .state_param = "state",
    .init = sb_init,
    .start = sb_start,
    .finish = sb_finish,
    .serve = sb_serve,
    .destroy = sb_destroy,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &sandbox_adapter;
}
