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
 * POST/redirect/GET: the form's POST parks the choice in the login's scratch record and answers
 * 303 to /answer, whose GET answers it (the auto-POST, or the form again with its error), so Back
 * and reload never resubmit a form. The auto-POST is still a POST, as the HTTP-POST binding's is.
 *
 * Settings (declared below; the hub parses them): page_base_url (default: the hub's issuer),
 * assertion_ttl (seconds, default 120). The seal key is made at start: assertions in flight during
 * a restart are refused, as they should.
 */
#include <idhub/adapter.h>
#include <jansson.h>
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
} sandbox;

enum { S_PAGE_BASE_URL, S_ASSERTION_TTL };
static const idhub_setting_decl settings[] = {
    [S_PAGE_BASE_URL] = {"page_base_url", IDHUB_SET_URL, .flags = IDHUB_SET_HTTP_ANY,
                         .help = "must be an http(s) URL"},
    [S_ASSERTION_TTL] = {"assertion_ttl", IDHUB_SET_INT, "120", 10, 600,
                         .help = "must be 10 to 600 seconds"},
};

static void *sb_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	/* its pages and claims come from the host's revision 3 services */
	if (!IDHUB_HAS_SERVICE(svc, url_param)) {
		idhub_fail(err, IDHUB_ERR_INTERNAL, "this hub is older than the sandbox adapter");
		return NULL;
	}
	sandbox *sb = calloc(1, sizeof(*sb));
	const char *base = cfg->values[S_PAGE_BASE_URL].str;
	if (sb)
		*sb = (sandbox){svc, cfg, base ? base : cfg->hub_base_url};
	return sb;
}

/* A page of the IdP's own site: /idp/<id>/<page>?req=<the sealed request>. */
static char *page_url(sandbox *sb, idhub_arena *a, const char *page, const char *req)
{
	int n = (int)strlen(sb->base);
	n -= n && sb->base[n - 1] == '/'; /* the base URL may end with one */
	char *url = sb->svc->sprintf(a, "%.*s/idp/%s/%s", n, sb->base, sb->svc->instance_id, page);
	return sb->svc->url_param(a, url, "req", req); /* escaped, though sealed is base64url */
}

/* The request is a record (rid, nonce, loa, exp, hint) sealed by the hub (services->seal: HMAC
 * with a key made at start), so the IdP's pages keep no state before the form's POST. */
static int sb_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                    idhub_start_result *out, idhub_error *err)
{
	sandbox *sb = ctx;
	const idhub_services *s = sb->svc;
	/* the service's login_hint prefills the user name (a hint: the person may change it) */
	const char *h = req->login_hint, *hint = h && strlen(h) <= 64 ? h : NULL;
	const char *loa = s->sprintf(a, "%d", req->min_loa),
	           *exp = s->sprintf(a, "%lld", (long long)(s->now(s->inst) + REQUEST_TTL));
	const idhub_kv rq[] = {{"rid", req->request_id},
	                       {"nonce", req->nonce},
	                       {"loa", loa},
	                       {"exp", exp},
	                       {"hint", hint}};
	const char *text = s->record(a, rq, 5, MAX_TOKEN),
	           *tok = text ? s->seal(s->inst, a, text) : 0;
	if (!tok)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot build the request");
	out->kind = IDHUB_START_REDIRECT;
	/* the page on the IdP's own site speaks the citizen's language too */
	out->url = s->url_param(a, page_url(sb, a, "login", tok), "lang", s->lang(s->inst));
	return 0;
}

/* Texts of the hub's catalogs (broker/pages/po/) in the citizen's language, escaped for HTML; one
 * with a level name (as citizens read it) in its placeholder. */
#define H(x) s->html_escape(a, (x) ? (x) : "")
#define TX(key) s->text(s->inst, key)
#define LEVEL_TX(key, loa) s->text_fill(s->inst, a, key, s->level_name(s->inst, a, loa), NULL)

static int error_page(const idhub_services *s, idhub_arena *a, idhub_http_response *resp,
                      const char *msg)
{
	const char *title = TX("sandbox.title");
	return s->respond_page(s->inst, a, resp, 400, 0, title,
	                       s->sprintf(a, "<h1>%s</h1>\n<p>%s</p>\n", H(title), H(TX(msg))));
}

/* What the form shows: the choice, the user name and level typed, and the error they met. */
typedef struct form_state {
	const char *persona, *username, *error;
	int loa;
} form_state;

/* The form: the test people, then "Another test user" with its fields revealed when it is chosen
 * (with an error, it comes back with what was typed and the error beside the field). */
static int login_page(sandbox *sb, idhub_arena *a, const char *req, const form_state *fs,
                      idhub_http_response *resp)
{
	const idhub_services *s = sb->svc;
	size_t np = sizeof personas / sizeof personas[0], n = np + 3;
	idhub_field *f = s->alloc(a, n * sizeof *f);
	idhub_kv *levels = s->alloc(a, (size_t)sb->cfg->nloas * sizeof *levels);
	for (size_t i = 0; i < np; i++) {
		const persona *p = &personas[i];
		f[i] = (idhub_field){.kind = IDHUB_FIELD_RADIO, .name = "persona", .value = p->id};
		f[i].label = s->sprintf(a, "%s %s", p->given, p->family);
		f[i].hint = LEVEL_TX("sandbox.level_hint", p->loa);
		f[i].checked = fs->persona ? !strcmp(fs->persona, p->id) : i == 0;
	}
	for (int l = 1; l <= sb->cfg->nloas; l++)
		levels[l - 1] = (idhub_kv){s->sprintf(a, "%d", l), s->level_name(s->inst, a, l)};
	f[np] = (idhub_field){.kind = IDHUB_FIELD_RADIO, .name = "persona", .value = "other"};
	f[np].label = TX("sandbox.other");
	f[np].checked = fs->persona && !strcmp(fs->persona, "other");
	f[np].reveal = 2; /* the user name and the level */
	f[np + 1] = (idhub_field){.kind = IDHUB_FIELD_TEXT, .name = "username", .max = 64};
	f[np + 1].value = fs->username;
	f[np + 1].label = TX("sandbox.username");
	f[np + 1].hint = TX("sandbox.username_hint");
	f[np + 1].error = fs->error ? TX(fs->error) : NULL;
	f[np + 1].flags = IDHUB_FIELD_NO_AUTOFILL;
	f[np + 2] = (idhub_field){.kind = IDHUB_FIELD_SELECT, .name = "loa", .options = levels};
	f[np + 2].value = s->sprintf(a, "%d", fs->loa);
	f[np + 2].label = TX("sandbox.loa_label");
	f[np + 2].noptions = (size_t)sb->cfg->nloas;
	int loa = fs->loa >= 1 && fs->loa <= sb->cfg->nloas ? fs->loa : 0;
	const char *title = TX("sandbox.title"),
	           *action = s->sprintf(a, "/idp/%s/login", s->instance_id);
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
	    H(loa ? sb->cfg->loa_acrs[loa - 1] : "?"),
	    s->form_html(s->inst, a, action, (idhub_kv[]){{"req", req}}, 1, TX("sandbox.legend"), f,
	                 n, buttons, 2));
	return s->respond_page(s->inst, a, resp, fs->error ? 400 : 200,
	                       fs->error ? IDHUB_PAGE_ERROR : 0, title, body);
}

static int username_ok(const char *u)
{
	size_t n = u ? strlen(u) : 0;
	return n >= 1 && n <= 64 &&
	       strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") == n;
}

/* GET /answer: the IdP's answer to the choice the form's POST parked (rec): the assertion
 * auto-POSTed to the hub's callback, or the form again, with what was typed and the error beside
 * the field. A reload answers again (a new assertion for the same login: the hub takes one). */
static int answer(sandbox *sb, idhub_arena *a, const char *rec, const char *rq, const char *req,
                  idhub_http_response *resp)
{
	const idhub_services *s = sb->svc;
	json_int_t now = s->now(s->inst), exp = now + sb->cfg->values[S_ASSERTION_TTL].num;
	const char *rid = s->record_get(a, rq, "rid"), *nonce = s->record_get(a, rq, "nonce");
	char id[44];
	if (!nonce || s->random_token(s->inst, id))
		return error_page(s, a, resp, "sandbox.bad_request");
	json_t *as = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "id", id, "irt", rid, "nonce",
	                       nonce, "iat", now, "auth_time", now, "exp", exp);
#define REC(name) s->record_get(a, rec, name) /* what the form's POST sent */
	const char *action = REC("action"), *who = REC("persona");
	const persona *p = NULL;
	for (size_t i = 0; who && i < sizeof personas / sizeof personas[0]; i++)
		p = strcmp(personas[i].id, who) ? p : &personas[i];
	json_t *claims = NULL;
	if (action && strcmp(action, "cancel") == 0) {
		claims = json_pack("{s:s}", "error", "access_denied");
	} else if (who && strcmp(who, "other") == 0) {
		const char *u = REC("username"), *l = REC("loa");
		int loa = l ? atoi(l) : 0, known = loa >= 1 && loa <= sb->cfg->nloas;
		if (!username_ok(u) || !known) {
			json_decref(as);
			form_state fs = {"other", u, "sandbox.error_username", known ? loa : 1};
			return login_page(sb, a, req, &fs, resp);
		}
		claims = json_pack("{s:s+, s:i, s:s, s:s}", "sub", "user:", u, "loa", loa,
		                   "given_name", u, "family_name", "Tester");
	} else if (p) {
		claims = json_loads(p->claims, 0, NULL);
		json_object_set_new(claims, "loa", json_integer(p->loa));
	}
	int named = json_object_update(as, claims) == 0; /* fails without claims */
	json_decref(claims);
	char *js = named ? json_dumps(as, JSON_COMPACT) : NULL; /* sealed as the request is */
	char *tok = js ? s->seal(s->inst, a, js) : NULL;
	free(js);
	json_decref(as);
	if (!tok)
		return error_page(s, a, resp,
		                  named ? "sandbox.cannot_build" : "sandbox.error_person");
	idhub_kv fields[] = {{"assertion", tok}, {"state", rid}};
	return s->respond_autopost(s->inst, a, resp, sb->cfg->callback_url, fields, 2,
	                           TX("sandbox.returning"), TX("sandbox.returning_message"));
}

/* POST /login: the form's choice parked in the login's scratch record, and 303 to /answer, which
 * answers it (POST/redirect/GET). */
static int park(sandbox *sb, idhub_arena *a, const idhub_http_request *r, const char *rid,
                const char *req, idhub_http_response *resp)
{
	const idhub_services *s = sb->svc;
	const idhub_kv form[] = {{"action", idhub_param(r, "action", NULL)},
	                         {"persona", idhub_param(r, "persona", NULL)},
	                         {"username", idhub_param(r, "username", NULL)},
	                         {"loa", idhub_param(r, "loa", NULL)}};
	const char *rec = s->record(a, form, 4, MAX_TOKEN);
	if (!rec || s->scratch_put(s->inst, rid, rec, strlen(rec), REQUEST_TTL))
		return error_page(s, a, resp, "sandbox.bad_request");
	resp->status = 303;
	resp->location = page_url(sb, a, "answer", req);
	return 0;
}

static int sb_serve(void *ctx, idhub_arena *a, const idhub_http_request *r,
                    idhub_http_response *resp)
{
	sandbox *sb = ctx;
	const idhub_services *s = sb->svc;
	int post = strcmp(r->method, "POST") == 0, n;
	if (strcmp(r->path, "/login") != 0 && (post || strcmp(r->path, "/answer") != 0))
		return -1;
	const char *req = idhub_param(r, "req", &n);
	const char *rq = n == 1 ? s->unseal(s->inst, a, req, MAX_TOKEN) : NULL;
	const char *rid = rq ? s->record_get(a, rq, "rid") : NULL, *exp, *rec;
	if (!rid || !(exp = s->record_get(a, rq, "exp")) || atoll(exp) < s->now(s->inst))
		return error_page(s, a, resp, "sandbox.invalid");
	if (post)
		return park(sb, a, r, rid, req, resp);
	if (strcmp(r->path, "/login") == 0) {
		/* the service's login_hint: "Another test user" chosen, its name filled in */
		const char *hint = s->record_get(a, rq, "hint"), *loa = s->record_get(a, rq, "loa");
		form_state fs = {hint ? "other" : NULL, hint, NULL, loa ? atoi(loa) : 0};
		return login_page(sb, a, req, &fs, resp);
	}
	rec = s->scratch_get(s->inst, a, rid, NULL, 0); /* NULL: nothing chosen yet */
	return rec ? answer(sb, a, rec, rq, req, resp) : error_page(s, a, resp, "sandbox.invalid");
}

static int sb_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                     const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	sandbox *sb = ctx;
	int n;
	const char *tok = idhub_param(cb, "assertion", &n);
	if (!tok || n != 1)
		return idhub_fail(err, IDHUB_ERR_INVALID, "no assertion, or more than one");
	const char *text = sb->svc->unseal(sb->svc->inst, a, tok, MAX_TOKEN);
	json_t *as = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const char *irt = NULL, *nonce = NULL, *id = NULL, *sub = NULL;
	json_int_t iat = 0, exp = 0, loa = 0, at = 0;
	/* an assertion of ours is an object whose members have these types */
	if (!json_is_object(as) ||
	    json_unpack(as, "{s?s, s?s, s?s, s?s, s?I, s?I, s?I, s?I}", "irt", &irt, "nonce",
	                &nonce, "id", &id, "sub", &sub, "iat", &iat, "exp", &exp, "loa", &loa,
	                "auth_time", &at)) {
		json_decref(as);
		return idhub_fail(err, IDHUB_ERR_INVALID, "assertion signature does not verify");
	}
	int64_t now = sb->svc->now(sb->svc->inst);
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
	else if (!sub)
		idhub_fail(err, IDHUB_ERR_INVALID, "assertion names nobody");
	else
		rc = 0;
	/* the claims it asserts, under their own (OIDC) names */
	static const idhub_kv attrs[] = {
	    {"name", 0},   {"given_name", 0},     {"family_name", 0},  {"birthdate", 0},
	    {"email", 0},  {"email_verified", 0}, {"phone_number", 0}, {"phone_number_verified", 0},
	    {"address", 0}};
	if (rc == 0) {
		out->subject = sb->svc->strdup(a, sub);
		out->loa = (int)loa;
		out->auth_time = at;
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
    .destroy = free,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &sandbox_adapter;
}
