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
 * Settings (declared below; the hub parses them): page_base_url (default: the hub's issuer),
 * assertion_ttl (seconds, default 120). The seal key is made at start: assertions in flight during
 * a restart are refused, as they should.
 */
#include <idhub/adapter.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUEST_TTL 900
#define MAX_TOKEN 8192

/* The test people and the claims the sandbox asserts for them (OIDC Core §5.1 names; address as
 * the JSON text of an address object). Bob has no phone or address, so tests can show that a claim
 * the IdP did not assert is simply left out. */
typedef struct persona {
	const char *id, *given, *family;
	int loa;
	const char *claims; /* JSON: what the assertion says of them */
} persona;

static const persona personas[] = {
    {"alice", "Alice", "Smith", 2,
     "{\"sub\":\"sandbox-alice\",\"given_name\":\"Alice\",\"family_name\":\"Smith\",\"birthdate\":"
     "\"1990-04-01\",\"name\":\"Alice Smith\",\"email\":\"alice@example.org\",\"email_verified\":"
     "\"true\",\"phone_number\":\"+44 20 7946 0001\",\"phone_number_verified\":\"true\","
     "\"address\":\"{\\\"street_address\\\":\\\"1 Test Street\\\",\\\"locality\\\":\\\"London\\\","
     "\\\"postal_code\\\":\\\"SW1A 1AA\\\",\\\"country\\\":\\\"GB\\\"}\"}"},
    {"bob", "Bob", "Jones", 1,
     "{\"sub\":\"sandbox-bob\",\"given_name\":\"Bob\",\"family_name\":\"Jones\",\"birthdate\":"
     "\"1985-11-23\",\"name\":\"Bob Jones\",\"email\":\"bob@example.org\",\"email_verified\":"
     "\"true\"}"},
};

typedef struct sandbox {
	const idhub_services *svc;
	const idhub_adapter_config *cfg; /* valid until destroy */
	const char *base;                /* page_base_url, or the hub's issuer */
	int base_len;                    /* without a trailing slash */
} sandbox;

enum { S_PAGE_BASE_URL, S_ASSERTION_TTL };
static const idhub_setting_decl settings[] = {
    [S_PAGE_BASE_URL] = {"page_base_url", IDHUB_SET_URL, .flags = IDHUB_SET_HTTP_ANY,
                         .help = "must be an http(s) URL"},
    [S_ASSERTION_TTL] = {"assertion_ttl", IDHUB_SET_INT, "120", 10, 600,
                         .help = "must be 10 to 600 seconds"},
};

/* Requests and assertions are sealed by the hub (services->seal: HMAC with a key made at start).
 */
static char *seal(sandbox *sb, idhub_arena *a, json_t *o)
{
	char *js = json_dumps(o, JSON_COMPACT);
	char *out = js ? sb->svc->seal(sb->svc->inst, a, js) : NULL;
	free(js);
	return out;
}

static json_t *unseal(sandbox *sb, idhub_arena *a, const char *tok, const char **text)
{
	*text = sb->svc->unseal(sb->svc->inst, a, tok, MAX_TOKEN);
	json_t *o = *text ? json_loads(*text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	if (!json_is_object(o)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void *sb_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	/* its pages and claims come from the host's revision 3 services */
	if (!IDHUB_HAS_SERVICE(svc, url_param)) {
		idhub_fail(err, IDHUB_ERR_INTERNAL, "this hub is older than the sandbox adapter");
		return NULL;
	}
	sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return NULL;
	sb->svc = svc;
	sb->cfg = cfg;
	sb->base =
	    cfg->values[S_PAGE_BASE_URL].str ? cfg->values[S_PAGE_BASE_URL].str : cfg->hub_base_url;
	sb->base_len = (int)strlen(sb->base);
	if (sb->base_len && sb->base[sb->base_len - 1] == '/')
		sb->base_len--;
	return sb;
}

static void sb_destroy(void *ctx)
{
	free(ctx);
}

static int sb_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                    idhub_start_result *out, idhub_error *err)
{
	sandbox *sb = ctx;
	int64_t now = sb->svc->now(sb->svc->inst);
	json_t *o = json_pack("{s:s, s:s, s:i, s:I}", "rid", req->request_id, "nonce", req->nonce,
	                      "loa", req->min_loa, "exp", (json_int_t)(now + REQUEST_TTL));
	/* the service's login_hint prefills the user name (a hint: the person may change it) */
	if (o && req->login_hint && strlen(req->login_hint) <= 64)
		json_object_set_new(o, "hint", json_string(req->login_hint));
	char *tok = seal(sb, a, o);
	json_decref(o);
	if (!tok)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot build the request");
	out->kind = IDHUB_START_REDIRECT;
	/* the page on the IdP's own site speaks the citizen's language too */
	out->url = sb->svc->sprintf(a, "%.*s/idp/%s/login?req=%s&lang=%s", sb->base_len, sb->base,
	                            sb->svc->instance_id, tok, sb->svc->lang(sb->svc->inst));
	return 0;
}

#define H(x) sb->svc->html_escape(a, (x) ? (x) : "")

static const char *acr_label(const sandbox *sb, int loa)
{
	return loa >= 1 && loa <= sb->cfg->nloas ? sb->cfg->loa_acrs[loa - 1] : "?";
}

/* A text of the hub's catalogs (broker/pages/po/) in the citizen's language; one with a level
 * name (as citizens read it) in its placeholder. */
#define TX(key) sb->svc->text(sb->svc->inst, key)
#define LEVEL_TX(key, loa)                                                                         \
	sb->svc->text_fill(sb->svc->inst, a, key, sb->svc->level_name(sb->svc->inst, a, loa), NULL)

static int error_page(sandbox *sb, idhub_arena *a, idhub_http_response *resp, const char *msg)
{
	const char *title = TX("sandbox.title");
	return sb->svc->respond_page(
	    sb->svc->inst, a, resp, 400, 0, title,
	    sb->svc->sprintf(a, "<h1>%s</h1>\n<p>%s</p>\n", H(title), H(TX(msg))));
}

/* What the form showed, to show it again with an error (the citizen's input kept). */
typedef struct form_state {
	const char *persona, *username, *error;
	int loa;
} form_state;

/* The test people, then "Another test user" with its fields revealed when it is chosen. */
static idhub_field *fields(sandbox *sb, idhub_arena *a, const form_state *fs, size_t *n)
{
	const idhub_services *s = sb->svc;
	size_t np = sizeof personas / sizeof personas[0];
	idhub_field *f = s->alloc(a, (np + 3) * sizeof *f);
	idhub_kv *levels = s->alloc(a, (size_t)sb->cfg->nloas * sizeof *levels);
	for (size_t i = 0; i < np; i++)
		f[i] = (idhub_field){IDHUB_FIELD_RADIO,
		                     "persona",
		                     personas[i].id,
		                     s->sprintf(a, "%s %s", personas[i].given, personas[i].family),
		                     LEVEL_TX("sandbox.level_hint", personas[i].loa),
		                     .checked = fs->persona ? !strcmp(fs->persona, personas[i].id)
		                                            : i == 0};
	for (int l = 1; l <= sb->cfg->nloas; l++)
		levels[l - 1] = (idhub_kv){s->sprintf(a, "%d", l), s->level_name(s->inst, a, l)};
	f[np] = (idhub_field){IDHUB_FIELD_RADIO,
	                      "persona",
	                      "other",
	                      TX("sandbox.other"),
	                      .checked = fs->persona && !strcmp(fs->persona, "other"),
	                      .reveal = 2};
	f[np + 1] = (idhub_field){IDHUB_FIELD_TEXT,
	                          "username",
	                          fs->username,
	                          TX("sandbox.username"),
	                          TX("sandbox.username_hint"),
	                          fs->error ? TX(fs->error) : NULL,
	                          .max = 64,
	                          .flags = IDHUB_FIELD_NO_AUTOFILL};
	f[np + 2] = (idhub_field){IDHUB_FIELD_SELECT,
	                          "loa",
	                          s->sprintf(a, "%d", fs->loa),
	                          TX("sandbox.loa_label"),
	                          .options = levels,
	                          .noptions = (size_t)sb->cfg->nloas};
	*n = np + 3;
	return f;
}

static int login_page(sandbox *sb, idhub_arena *a, const char *req, const form_state *fs,
                      idhub_http_response *resp)
{
	const idhub_services *s = sb->svc;
	size_t n;
	const idhub_field *f = fields(sb, a, fs, &n);
	const char *title = TX("sandbox.title"),
	           *action = s->sprintf(a, "/idp/%s/login", s->instance_id);
	const idhub_kv hidden[] = {{"req", req}};
	const idhub_kv buttons[] = {{"login", TX("sandbox.sign_in")},
	                            {"cancel", TX("sandbox.cancel")}};
	const char *body = s->sprintf(
	    a,
	    "<form method=\"post\" action=\"%s\" novalidate><input type=\"hidden\" "
	    "name=\"req\" value=\"%s\"><button class=\"link-button back\" type=\"submit\" "
	    "name=\"action\" value=\"cancel\">%s</button></form>\n%s<h1>%s</h1>\n<p>%s</p>\n"
	    "<p>%s<span class=\"hint\">%s</span></p>\n%s",
	    H(action), H(req), H(TX("layout.back")), s->error_summary_html(s->inst, a, f, n),
	    H(title), H(TX("sandbox.intro")), H(LEVEL_TX("sandbox.needs", fs->loa)),
	    H(acr_label(sb, fs->loa)),
	    s->form_html(s->inst, a, action, hidden, 1, TX("sandbox.legend"), f, n, buttons, 2));
	return s->respond_page(s->inst, a, resp, fs->error ? 400 : 200,
	                       fs->error ? IDHUB_PAGE_ERROR : 0, title, body);
}

static int username_ok(const char *u)
{
	size_t n = u ? strlen(u) : 0;
	return n >= 1 && n <= 64 &&
	       strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n;
}

/* The IdP's answer: an assertion auto-POSTed to the hub's callback. */
static int answer(sandbox *sb, idhub_arena *a, const idhub_http_request *r, json_t *rq,
                  idhub_http_response *resp)
{
	int64_t now = sb->svc->now(sb->svc->inst);
	const char *rid = json_string_value(json_object_get(rq, "rid"));
	const char *nonce = json_string_value(json_object_get(rq, "nonce"));
	char id[44];
	if (!rid || !nonce || sb->svc->random_token(sb->svc->inst, id))
		return error_page(sb, a, resp, "sandbox.bad_request");
	json_t *as = json_pack("{s:s, s:s, s:s, s:I, s:I}", "id", id, "irt", rid, "nonce", nonce,
	                       "iat", (json_int_t)now, "exp",
	                       (json_int_t)(now + sb->cfg->values[S_ASSERTION_TTL].num));
	const char *action = idhub_param(r, "action", NULL);
	const char *who = idhub_param(r, "persona", NULL);
	if (action && strcmp(action, "cancel") == 0) {
		json_object_set_new(as, "error", json_string("access_denied"));
	} else if (who && strcmp(who, "other") == 0) {
		const char *u = idhub_param(r, "username", NULL);
		const char *l = idhub_param(r, "loa", NULL);
		int loa = l ? atoi(l) : 0;
		if (!username_ok(u) || loa < 1 || loa > sb->cfg->nloas) {
			json_decref(as);
			/* the form again, with what was typed and the error beside the field */
			form_state fs = {.persona = "other",
			                 .username = u,
			                 .loa = loa >= 1 && loa <= sb->cfg->nloas ? loa : 1,
			                 .error = "sandbox.error_username"};
			return login_page(sb, a, idhub_param(r, "req", NULL), &fs, resp);
		}
		json_t *uc = json_pack("{s:s+, s:i, s:s, s:s}", "sub", "user:", u, "loa", loa,
		                       "given_name", u, "family_name", "Tester");
		json_object_update(as, uc);
		json_decref(uc);
	} else {
		const persona *p = NULL;
		for (size_t i = 0; who && i < sizeof personas / sizeof personas[0]; i++)
			if (strcmp(personas[i].id, who) == 0)
				p = &personas[i];
		if (!p) {
			json_decref(as);
			return error_page(sb, a, resp, "sandbox.error_person");
		}
		json_t *pc = json_loads(p->claims, 0, NULL);
		json_object_set_new(pc, "loa", json_integer(p->loa));
		json_object_update(as, pc);
		json_decref(pc);
	}
	json_object_set_new(as, "auth_time", json_integer(now));
	char *tok = seal(sb, a, as);
	json_decref(as);
	if (!tok)
		return error_page(sb, a, resp, "sandbox.cannot_build");
	idhub_kv fields[] = {{"assertion", tok}, {"state", rid}};
	return sb->svc->respond_autopost(sb->svc->inst, a, resp, sb->cfg->callback_url, fields, 2,
	                                 TX("sandbox.returning"), TX("sandbox.returning_message"));
}

static int sb_serve(void *ctx, idhub_arena *a, const idhub_http_request *r,
                    idhub_http_response *resp)
{
	sandbox *sb = ctx;
	if (strcmp(r->path, "/login") != 0)
		return -1;
	int n;
	const char *req = idhub_param(r, "req", &n), *text;
	json_t *rq = n == 1 ? unseal(sb, a, req, &text) : NULL;
	int64_t now = sb->svc->now(sb->svc->inst);
	if (!rq || json_integer_value(json_object_get(rq, "exp")) < now) {
		json_decref(rq);
		return error_page(sb, a, resp, "sandbox.invalid");
	}
	form_state fs = {.loa = (int)json_integer_value(json_object_get(rq, "loa"))};
	/* the service's login_hint: "Another test user" chosen, its name filled in */
	const char *hint = json_string_value(json_object_get(rq, "hint"));
	if (hint) {
		fs.persona = "other";
		fs.username = hint;
	}
	int rc = strcmp(r->method, "POST") == 0 ? answer(sb, a, r, rq, resp)
	                                        : login_page(sb, a, req, &fs, resp);
	json_decref(rq);
	return rc;
}

static int sb_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                     const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	sandbox *sb = ctx;
	int n;
	const char *tok = idhub_param(cb, "assertion", &n);
	if (!tok || n != 1)
		return idhub_fail(err, IDHUB_ERR_INVALID, "no assertion, or more than one");
	const char *text;
	json_t *as = unseal(sb, a, tok, &text);
	if (!as)
		return idhub_fail(err, IDHUB_ERR_INVALID, "assertion signature does not verify");
	int64_t now = sb->svc->now(sb->svc->inst);
	const char *irt = json_string_value(json_object_get(as, "irt"));
	const char *nonce = json_string_value(json_object_get(as, "nonce"));
	const char *id = json_string_value(json_object_get(as, "id"));
	json_int_t iat = json_integer_value(json_object_get(as, "iat"));
	json_int_t exp = json_integer_value(json_object_get(as, "exp"));
	int rc = -1;
	if (!irt || strcmp(irt, req->request_id) != 0 || !nonce || strcmp(nonce, req->nonce) != 0)
		idhub_fail(err, IDHUB_ERR_INVALID, "assertion answers another request");
	else if (exp <= now || iat > now + 60)
		idhub_fail(err, IDHUB_ERR_INVALID, "assertion expired");
	else if (iat < sb->svc->replay_floor(sb->svc->inst) || iat < req->started_at - 60)
		idhub_fail(err, IDHUB_ERR_INVALID, "assertion issued before this login began");
	else if (!id || sb->svc->replay_seen(sb->svc->inst, id, exp) != 0)
		idhub_fail(err, IDHUB_ERR_INVALID, "assertion replayed");
	else if (json_object_get(as, "error"))
		idhub_fail(err, IDHUB_ERR_ACCESS_DENIED, "the person cancelled at the sandbox IdP");
	else
		rc = 0;
	/* the claims it asserts, under their own (OIDC) names */
	static const idhub_kv attrs[] = {
	    {"name", 0},   {"given_name", 0},     {"family_name", 0},  {"birthdate", 0},
	    {"email", 0},  {"email_verified", 0}, {"phone_number", 0}, {"phone_number_verified", 0},
	    {"address", 0}};
	const char *sub = json_string_value(json_object_get(as, "sub"));
	if (rc == 0 && !sub)
		rc = idhub_fail(err, IDHUB_ERR_INVALID, "assertion names nobody");
	if (rc == 0) {
		out->subject = sb->svc->strdup(a, sub);
		out->loa = (int)json_integer_value(json_object_get(as, "loa"));
		out->auth_time = json_integer_value(json_object_get(as, "auth_time"));
		out->upstream_id = sb->svc->strdup(a, id);
		rc = sb->svc->attrs_from_json(sb->svc->inst, a, text, attrs, 9, out);
	}
	json_decref(as);
	return rc;
}

static const idhub_adapter sandbox_adapter = {
    IDHUB_ADAPTER_HEAD("sandbox", "state"),
    .settings = settings,
    .nsettings = sizeof settings / sizeof settings[0],
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
