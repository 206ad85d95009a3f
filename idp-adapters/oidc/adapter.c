/* adapter.c — owns the upstream OpenID Connect adapter's protocol flow: the ABI entry point and its
 * declared settings, init and destroy, start() (the authorization request: code flow, PKCE S256,
 * state and nonce from the hub, acr_values from the journey's level), and finish() (the
 * authorization response, RFC 9207 iss, the code exchange with client_secret_basic or
 * private_key_jwt, ID token verification in verify.c, the replay cache, and the mapping of acr and
 * claims to the hub's level and attributes).
 *
 * The hub (ABI v2) parses the settings declared below (documented in deploy/idhub.conf.example),
 * keeps the discovery document and the JWKS fresh (single-flight, last good copy in its store,
 * at most one refetch per jwks_min_refetch_interval) and verifies signatures on its one JOSE
 * implementation. liboauth2's own OIDC flow and oauth2_token_verify are not used: in 1.4.5.4 they
 * check neither nonce nor iss nor aud nor an alg allow-list, refetch the JWKS on every unknown
 * kid, keep a verification cache that can skip the exp re-check, and can log whole tokens. */
#include "oidc_int.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_WARN 4
#define LOG_INFO 6

/* ---- settings, init / destroy ---- */

static const char *const token_auths[] = {"client_secret_basic", "private_key_jwt", NULL};
static const char *const pkjwt_algs[] = {"ES256", "RS256", "PS256", "EdDSA", NULL};
static const char *const unmapped[] = {"lowest", "refuse", NULL};
/* ID token algorithms: asymmetric only. "none" and the HMAC family are never accepted (an HS256
 * token "signed" with the IdP's public key as the secret is a forgery). */
static const char *const id_algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                      "ES256", "ES384", "ES512", "EdDSA", NULL};
/* The identity attributes the hub knows (broker/journey/complete.c releases these by scope). */
static const char *const hub_attrs[] = {"name",      "given_name", "family_name",    "middle_name",
                                        "birthdate", "email",      "email_verified", NULL};

#define SECONDS(lo, hi, def) IDHUB_SET_DURATION, def, lo, hi
static const idhub_setting_decl settings[S_COUNT] = {
    [S_ISSUER] = {"issuer", IDHUB_SET_URL, .flags = IDHUB_SET_REQUIRED | IDHUB_SET_NO_QUERY,
                  .help = "must be an https URL (http only on a loopback host), no query or "
                          "fragment"},
    [S_CLIENT_ID] = {"client_id", IDHUB_SET_STRING, .max = 255,
                     .flags = IDHUB_SET_REQUIRED | IDHUB_SET_NONEMPTY,
                     .help = "required, at most 255 characters"},
    [S_CLIENT_SECRET] = {"client_secret", IDHUB_SET_STRING, .max = 1023},
    [S_CLIENT_SECRET_FILE] = {"client_secret_file", IDHUB_SET_FILE, .max = 1024,
                              .help = "cannot read a secret (1 to 1023 bytes) from that file"},
    [S_TOKEN_AUTH] = {"token_auth", IDHUB_SET_ENUM, "client_secret_basic", .choices = token_auths,
                      .help = "must be client_secret_basic or private_key_jwt"},
    [S_PKJWT_ALG] = {"private_key_jwt_alg", IDHUB_SET_ENUM, "ES256", .choices = pkjwt_algs,
                     .help = "must be ES256, RS256, PS256 or EdDSA"},
    [S_SCOPES] = {"scopes", IDHUB_SET_STRING, "openid profile email"},
    [S_ACR_MAP] = {"acr_map", IDHUB_SET_MAP, .max = OIDC_MAX_MAP, .flags = IDHUB_SET_SPACES,
                   .help = "entries are FROM=TO, separated by spaces (at most 32)"},
    [S_UNMAPPED_ACR] = {"unmapped_acr", IDHUB_SET_ENUM, "lowest", .choices = unmapped,
                        .help = "must be lowest or refuse"},
    [S_CLAIM_MAP] = {"claim_map", IDHUB_SET_MAP,
                     "name=name given_name=given_name family_name=family_name "
                     "middle_name=middle_name birthdate=birthdate email=email "
                     "email_verified=email_verified",
                     .max = OIDC_MAX_MAP, .choices = hub_attrs, .flags = IDHUB_SET_SPACES,
                     .help = "entries are UPSTREAM_CLAIM=HUB_ATTRIBUTE, separated by spaces (at "
                             "most 32), the attribute one of name given_name family_name "
                             "middle_name birthdate email email_verified"},
    [S_CLAIMS_PARAMETER] = {"claims_parameter", IDHUB_SET_BOOL, "true"},
    [S_TIMEOUT] = {"timeout", SECONDS(1, 60, "10")},
    [S_CLOCK_LEEWAY] = {"clock_leeway", SECONDS(0, 300, "30")},
    [S_MAX_TOKEN_AGE] = {"max_token_age", SECONDS(60, 3600, "600")},
    [S_DISCOVERY_REFRESH] = {"discovery_refresh", SECONDS(60, 7 * 86400, "3600")},
    [S_JWKS_MIN_REFETCH] = {"jwks_min_refetch_interval", SECONDS(1, 3600, "60")},
    [S_ALLOWED_ALGS] = {"allowed_algs", IDHUB_SET_LIST, "RS256 PS256 ES256", .choices = id_algs,
                        .flags = IDHUB_SET_NONEMPTY,
                        .help = "only RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 "
                                "EdDSA (never none, never HMAC)"},
    /* RP-initiated logout at the IdP's end_session_endpoint when the hub session ends (logout.c)
     */
    [S_UPSTREAM_LOGOUT] = {"upstream_logout", IDHUB_SET_BOOL, "true"},
};

/* The maps (the hub split each "FROM=TO" at its last '=': upstream acr values are URIs that may
 * hold '=', hub level and attribute names hold none): acr_map's levels, claim_map's names. */
static int maps_load(oidc_ctx *c, idhub_error *err)
{
	const idhub_value *acr = &c->v[S_ACR_MAP], *cl = &c->v[S_CLAIM_MAP];
	for (c->nacr = 0; c->nacr < acr->nitems; c->nacr++) {
		c->acr_map[c->nacr] =
		    (oidc_acr){acr->items[2 * c->nacr],
		               c->svc->level_of(c->svc->inst, acr->items[2 * c->nacr + 1])};
		if (!c->acr_map[c->nacr].level)
			return idhub_fail(
			    err, IDHUB_ERR_INTERNAL,
			    "acr_map: each entry is UPSTREAM_ACR=HUB_LEVEL, the level a "
			    "name of the loa list or its number");
	}
	for (c->nclaim = 0; c->nclaim < cl->nitems; c->nclaim++) {
		const char *from = cl->items[2 * c->nclaim];
		c->claim_map[c->nclaim] = (idhub_kv){from, cl->items[2 * c->nclaim + 1]};
		if (strspn(from, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                 "0123456789_-:./") != strlen(from))
			return idhub_fail(err, IDHUB_ERR_INTERNAL,
			                  "claim_map: upstream claim names are plain words");
	}
	return 0;
}

/* The checks that span settings: the client authentication, and scopes. */
static int auth_load(oidc_ctx *c, idhub_error *err)
{
	const idhub_value *sec = &c->v[S_CLIENT_SECRET], *secf = &c->v[S_CLIENT_SECRET_FILE];
	c->private_key_jwt = c->v[S_TOKEN_AUTH].num == 1;
	if (c->private_key_jwt && (sec->set || secf->set))
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "%s: not used with private_key_jwt (the hub's signing key is)",
		                  sec->set ? "client_secret" : "client_secret_file");
	if (!c->private_key_jwt && sec->set == secf->set)
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "%s: client_secret_basic needs exactly one of client_secret and "
		                  "client_secret_file",
		                  sec->set ? "client_secret" : "token_auth");
	if (sec->set && !*sec->str)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "client_secret: must not be empty");
	if (sec->set)
		c->client_secret = strdup(sec->str);
	else if (secf->set && (c->client_secret = c->svc->read_file(secf->str, 1023, NULL)))
		c->client_secret[strcspn(c->client_secret, "\r\n")] = 0; /* one line */
	if (!c->private_key_jwt && (!c->client_secret || !*c->client_secret))
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "client_secret_file: cannot read a secret (1 to 1023 bytes) from "
		                  "that file");
	const char *sc = c->v[S_SCOPES].str;
	if (strspn(sc, "!#$%&'()*+,-./"
	               "0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{"
	               "|}~ ") != strlen(sc))
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "scopes: scope tokens are printable ASCII");
	for (const char *t = sc; (t = strstr(t, "openid")); t += 6)
		if ((t == sc || t[-1] == ' ') && (t[6] == ' ' || !t[6]))
			return 0;
	return idhub_fail(err, IDHUB_ERR_INTERNAL, "scopes: must contain openid");
}

static void oidc_destroy(void *ctx)
{
	oidc_ctx *c = ctx;
	if (c->client_secret)
		memset(c->client_secret, 0, strlen(c->client_secret));
	free(c->client_secret);
	free(c);
}

/* The hub keeps the discovery document and the JWKS fresh; the JWKS URL comes from discovery. */
static void watch_documents(oidc_ctx *c, const idhub_adapter_config *cfg)
{
	const idhub_services *svc = c->svc;
	const char *iss = c->v[S_ISSUER].str;
	size_t il = strlen(iss);
	char url[1100];
	/* OIDC Discovery §4.1: the issuer with any trailing slash removed, then the well-known path
	 */
	snprintf(url, sizeof url, "%.*s/.well-known/openid-configuration",
	         (int)(il && iss[il - 1] == '/' ? il - 1 : il), iss);
	idhub_doc_spec d = {.name = "discovery",
	                    .url = url,
	                    .refresh = c->v[S_DISCOVERY_REFRESH].num,
	                    .min_refetch = c->v[S_JWKS_MIN_REFETCH].num,
	                    .max_size = OIDC_MAX_DOC,
	                    .timeout_s = (int)c->v[S_TIMEOUT].num,
	                    .parse = oidc_disco_parse_doc,
	                    .release = oidc_disco_release,
	                    .arg = c};
	c->disco = svc->doc_watch(svc->inst, &d);
	d = (idhub_doc_spec){.name = "JWKS",
	                     .kind = IDHUB_DOC_JWKS,
	                     .refresh = d.refresh,
	                     .min_refetch = d.min_refetch,
	                     .max_size = OIDC_MAX_DOC,
	                     .timeout_s = d.timeout_s};
	c->jwks = svc->doc_watch(svc->inst, &d);
	if (cfg->checking)
		return;
	/* now if the IdP answers; if it does not, the hub still starts (with the last good copies
	 * from the store when there are some) and start() tries again */
	const oidc_disco *dd = svc->doc_get(c->disco);
	const void *ks = NULL;
	if (dd) {
		svc->doc_set_url(c->jwks, dd->jwks_uri);
		ks = svc->doc_get(c->jwks);
	}
	if (!dd || !ks)
		svc->log(svc->inst, LOG_WARN, "%s not available yet, will retry",
		         dd ? "the JWKS" : "discovery");
	svc->doc_put(c->jwks, ks);
	svc->doc_put(c->disco, dd);
}

static void *oidc_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	/* the newest services it uses (revision 3) */
	oidc_ctx *c = IDHUB_HAS_SERVICE(svc, url_param) ? calloc(1, sizeof *c) : NULL;
	if (!c) {
		idhub_fail(err, IDHUB_ERR_INTERNAL, "this hub is older than the OIDC adapter");
		return NULL;
	}
	c->svc = svc;
	c->v = cfg->values;
	c->callback_url = cfg->callback_url;
	c->nloas = cfg->nloas;
	if (auth_load(c, err) || maps_load(c, err)) {
		oidc_destroy(c);
		return NULL;
	}
	watch_documents(c, cfg);
	if (!c->disco || !c->jwks) {
		oidc_destroy(c);
		return NULL;
	}
	return c;
}

/* The current discovery document (doc_put it), with the JWKS pointed at its jwks_uri. */
static const oidc_disco *disco_get(oidc_ctx *c)
{
	const oidc_disco *d = c->svc->doc_get(c->disco);
	if (d)
		c->svc->doc_set_url(c->jwks, d->jwks_uri);
	return d;
}

/* ---- start ---- */

static int oidc_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                      idhub_start_result *out, idhub_error *err)
{
	oidc_ctx *c = ctx;
	const idhub_services *svc = c->svc;
	if (!req->verifier || strlen(req->verifier) < 43 || !req->nonce || !req->request_id)
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "login request without PKCE verifier or nonce");
	const oidc_disco *d = disco_get(c);
	if (!d)
		return idhub_fail(err, IDHUB_ERR_UNAVAILABLE,
		                  "the IdP's discovery document is not available");
	/* PKCE S256 (RFC 7636 §4.2): the challenge is base64url(SHA-256(verifier)) */
	const char *challenge = svc->digest_b64url(a, req->verifier, strlen(req->verifier));
	char *u = svc->url_param(a, d->authorization_endpoint, "response_type", "code");
	u = svc->url_param(a, u, "client_id", c->v[S_CLIENT_ID].str);
	u = svc->url_param(a, u, "redirect_uri",
	                   req->callback_url ? req->callback_url : c->callback_url);
	u = svc->url_param(a, u, "scope", c->v[S_SCOPES].str);
	u = svc->url_param(a, u, "state", req->request_id);
	u = svc->url_param(a, u, "nonce", req->nonce);
	u = svc->url_param(a, u, "code_challenge", challenge);
	u = svc->url_param(a, u, "code_challenge_method", "S256");
	/* the service's freshness demands, passed up (OIDC Core §3.1.2.1) and checked in finish */
	if (req->flags & IDHUB_LOGIN_FORCE)
		u = svc->url_param(a, u, "prompt", "login");
	if (req->flags & IDHUB_LOGIN_MAX_AGE)
		u = svc->url_param(a, u, "max_age",
		                   svc->sprintf(a, "%lld", (long long)req->max_age));
	/* the service's hint, passed on as a hint (OIDC Core §3.1.2.1); the IdP decides who signs
	 * in, and finish checks only what the IdP asserts */
	if (req->login_hint)
		u = svc->url_param(a, u, "login_hint", req->login_hint);
	svc->doc_put(c->disco, d);

	/* acr_values: the upstream acrs good enough for the journey's level, lowest level first */
	const char *acr = "";
	for (int l = req->min_loa > 0 ? req->min_loa : 1; l <= c->nloas; l++)
		for (size_t i = 0; i < c->nacr; i++)
			if (c->acr_map[i].level == l)
				acr = svc->sprintf(a, "%s%s%s", acr, *acr ? " " : "",
				                   c->acr_map[i].from);
	if (*acr)
		u = svc->url_param(a, u, "acr_values", acr);
	if (c->v[S_CLAIMS_PARAMETER].num && c->nclaim) {
		json_t *want = json_object();
		for (size_t i = 0; i < c->nclaim; i++)
			json_object_set_new(want, c->claim_map[i].name, json_null());
		json_t *claims = json_pack("{s:o}", "id_token", want);
		char *js = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(claims);
		if (js)
			u = svc->url_param(a, u, "claims", js);
		free(js);
	}
	out->kind = IDHUB_START_REDIRECT;
	out->url = u;
	return 0;
}

/* ---- finish ---- */

/* The authorization error response (RFC 6749 §4.1.2.1) as the hub's error classes. */
static int upstream_error(const char *e, idhub_error *err)
{
	char code[48];
	size_t n = 0;
	for (const char *p = e; *p && n < sizeof code - 1; p++)
		code[n++] = (char)(isalnum((unsigned char)*p) || *p == '_' ? *p : '?');
	code[n] = 0;
	idhub_status st = IDHUB_ERR_INVALID;
	if (strcmp(e, "access_denied") == 0)
		st = IDHUB_ERR_ACCESS_DENIED;
	else if (strcmp(e, "login_required") == 0 || strcmp(e, "interaction_required") == 0 ||
	         strcmp(e, "consent_required") == 0 || strcmp(e, "account_selection_required") == 0)
		st = IDHUB_ERR_LOGIN_REQUIRED;
	else if (strcmp(e, "temporarily_unavailable") == 0 || strcmp(e, "server_error") == 0)
		st = IDHUB_ERR_UNAVAILABLE;
	return idhub_fail(err, st, "the IdP answered error=%s", code);
}

/* The code exchange (OIDC Core §3.1.3.1). Returns the ID token (arena) or NULL with err set. */
static const char *exchange(oidc_ctx *c, idhub_arena *a, const oidc_disco *d, const char *code,
                            const idhub_login_request *req, idhub_error *err)
{
	const idhub_services *svc = c->svc;
	idhub_kv form[8] = {
	    {"grant_type", "authorization_code"},
	    {"code", code},
	    {"redirect_uri", req->callback_url ? req->callback_url : c->callback_url},
	    {"code_verifier", req->verifier}};
	size_t nf = 4;
	const char *cid = c->v[S_CLIENT_ID].str, *alg = c->v[S_PKJWT_ALG].str;
	idhub_http_call call = {
	    .url = d->token_endpoint, .form = form, .timeout_s = (int)c->v[S_TIMEOUT].num};
	if (!c->private_key_jwt) {
		call.basic_user = cid;
		call.basic_pass = c->client_secret;
	} else {
		/* private_key_jwt (OIDC Core §9): a short-lived, single-use assertion by the hub's
		 * key, its audience the IdP's issuer identifier */
		char jti[44];
		int64_t now = svc->now(svc->inst);
		if (svc->random_token(svc->inst, jti)) {
			idhub_fail(err, IDHUB_ERR_INTERNAL, "random number generator failed");
			return NULL;
		}
		json_t *cl = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", cid, "sub", cid,
		                       "aud", d->issuer, "jti", jti, "iat", (json_int_t)now, "exp",
		                       (json_int_t)(now + 60));
		char *js = cl ? json_dumps(cl, JSON_COMPACT) : NULL;
		json_decref(cl);
		const char *jwt = js ? svc->sign_jwt(svc->inst, a, alg, js) : NULL;
		free(js);
		if (!jwt) {
			idhub_fail(err, IDHUB_ERR_INTERNAL,
			           "cannot sign the client assertion: no current hub key for %s",
			           alg);
			return NULL;
		}
		form[nf++] = (idhub_kv){"client_id", cid};
		form[nf++] = (idhub_kv){"client_assertion_type",
		                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"};
		form[nf] = (idhub_kv){"client_assertion", jwt};
		nf++;
	}
	int status = 0;
	char *body = NULL;
	call.nform = nf;
	if (svc->http(svc->inst, &call, &status, &body)) {
		idhub_fail(err, IDHUB_ERR_UNAVAILABLE,
		           "the IdP's token endpoint did not answer in time");
		return NULL;
	}
	json_t *resp = body && strlen(body) <= OIDC_MAX_DOC
	                   ? json_loads(body, JSON_REJECT_DUPLICATES, NULL)
	                   : NULL;
	free(body);
	const char *idt = json_string_value(json_object_get(resp, "id_token"));
	const char *e = json_string_value(json_object_get(resp, "error"));
	const char *out = NULL;
	if (status == 200 && idt)
		out = svc->strdup(a, idt);
	else if (status >= 500 || (status != 200 && !e))
		idhub_fail(err, IDHUB_ERR_UNAVAILABLE, "the IdP's token endpoint failed");
	else if (e)
		upstream_error(e, err);
	else
		idhub_fail(err, IDHUB_ERR_INVALID, "the IdP's token response has no id_token");
	json_decref(resp);
	return out;
}

/* The hub level the upstream acr maps to, or 0 (unmapped). */
static int map_acr(const oidc_ctx *c, const char *acr)
{
	for (size_t i = 0; acr && i < c->nacr; i++)
		if (strcmp(c->acr_map[i].from, acr) == 0)
			return c->acr_map[i].level;
	return 0;
}

/* max_age (OIDC Core §3.1.2.1: auth_time is then REQUIRED in the ID token) and prompt=login: the
 * IdP's authentication must be recent enough, or the login is refused. */
static int fresh_enough(oidc_ctx *c, const idhub_login_request *req, int64_t auth_time,
                        idhub_error *err)
{
	static const char *const why[] = {
	    [IDHUB_FRESH_NO_TIME] = "max_age was sent and the ID token has no auth_time",
	    [IDHUB_FRESH_TOO_OLD] = "the IdP's authentication is older than max_age",
	    [IDHUB_FRESH_BEFORE_LOGIN] =
	        "prompt=login was sent and the IdP's authentication predates the login"};
	int f = c->svc->auth_fresh(c->svc->inst, req, auth_time, c->v[S_CLOCK_LEEWAY].num);
	return f ? idhub_fail(err, IDHUB_ERR_INVALID, "%s", why[f]) : 0;
}

/* A verified ID token's payload pl accepted for req: freshness, the replay cache, the level and
 * the attributes into out. 0, or -1 with err filled. */
static int accept_token(oidc_ctx *c, idhub_arena *a, const idhub_login_request *req,
                        const char *idt, const json_t *pl, const char *text, int64_t now,
                        idhub_identity *out, idhub_error *err)
{
	const idhub_services *svc = c->svc;
	int64_t iat = 0, exp = 0, auth_time = 0, leeway = c->v[S_CLOCK_LEEWAY].num;
	json_t *v;
	if ((v = json_object_get(pl, "iat")))
		iat = (int64_t)json_number_value(v);
	if ((v = json_object_get(pl, "exp")))
		exp = (int64_t)json_number_value(v);
	if ((v = json_object_get(pl, "auth_time")) && json_is_number(v))
		auth_time = (int64_t)json_number_value(v);
	if (fresh_enough(c, req, auth_time, err))
		return -1;
	if (iat < svc->replay_floor(svc->inst))
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "ID token issued before the hub's last crash");
	/* Each ID token is accepted once (by its hash: jti is optional in OIDC). */
	const char *tid = svc->digest_b64url(a, idt, strlen(idt));
	int seen = svc->replay_seen(svc->inst, tid, exp + leeway);
	if (seen != 0)
		return idhub_fail(err, seen > 0 ? IDHUB_ERR_INVALID : IDHUB_ERR_INTERNAL, "%s",
		                  seen > 0 ? "ID token replayed" : "replay cache unavailable");
	int loa = map_acr(c, json_string_value(json_object_get(pl, "acr")));
	/* An acr we cannot map is never read as more than the lowest level. */
	if (!loa && c->v[S_UNMAPPED_ACR].num == 1)
		return idhub_fail(err, IDHUB_ERR_LOA, "the IdP asserted an acr we do not know");
	out->subject = svc->strdup(a, json_string_value(json_object_get(pl, "sub")));
	out->loa = loa ? loa : 1;
	out->auth_time = auth_time > 0 && auth_time <= now + leeway ? auth_time : iat;
	const char *jti = json_string_value(json_object_get(pl, "jti"));
	out->upstream_id = svc->strdup(a, jti && strlen(jti) <= 128 ? jti : tid);
	if (svc->attrs_from_json(svc->inst, a, text, c->claim_map, c->nclaim, out))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot map the ID token's claims");
	svc->log(svc->inst, LOG_INFO, "ID token verified (level %d)", out->loa);
	return 0;
}

/* The authorization response's checks before the code exchange; 0, or -1 with err filled. */
static int response_ok(const oidc_disco *d, const char *e, const char *code, const char *iss,
                       idhub_error *err)
{
	/* RFC 9207: an iss in the response must be our IdP's (mix-up defence), and an IdP that
	 * announces the parameter must send it */
	if ((iss && strcmp(iss, d->issuer) != 0) || (!iss && d->iss_param_supported))
		return idhub_fail(err, IDHUB_ERR_INVALID, "the answer's iss is not our IdP's");
	if (e)
		return upstream_error(e, err);
	if (!code || !*code || strlen(code) > 2048)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "no authorization code in the IdP's answer");
	return 0;
}

static int oidc_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                       const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	oidc_ctx *c = ctx;
	const idhub_services *svc = c->svc;
	int n_err, n_code, n_iss;
	const char *e = idhub_param(cb, "error", &n_err);
	const char *code = idhub_param(cb, "code", &n_code);
	const char *iss = idhub_param(cb, "iss", &n_iss);
	if (n_err > 1 || n_code > 1 || n_iss > 1)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "repeated parameters in the IdP's answer");
	const oidc_disco *d = disco_get(c);
	if (!d)
		return idhub_fail(err, IDHUB_ERR_UNAVAILABLE,
		                  "the IdP's discovery document is not available");
	json_t *pl = NULL;
	const char *text = NULL, *idt = response_ok(d, e, code, iss, err)
	                                    ? NULL
	                                    : exchange(c, a, d, code, req, err);
	int64_t now = svc->now(svc->inst);
	oidc_verify_params vp = {.issuer = d->issuer,
	                         .client_id = c->v[S_CLIENT_ID].str,
	                         .nonce = req->nonce,
	                         .now = now,
	                         .leeway = c->v[S_CLOCK_LEEWAY].num,
	                         .max_age = c->v[S_MAX_TOKEN_AGE].num,
	                         .not_before = req->started_at};
	char why[160] = "";
	int rc = -1;
	if (idt && oidc_idtoken_verify(c, a, &vp, idt, &pl, &text, why, sizeof why))
		idhub_fail(err, IDHUB_ERR_INVALID, "ID token refused: %s", why);
	else if (idt)
		rc = accept_token(c, a, req, idt, pl, text, now, out, err);
	if (rc == 0)
		out->logout_state = oidc_logout_state(c, a, d, idt);
	json_decref(pl);
	svc->doc_put(c->disco, d);
	return rc;
}

static const idhub_adapter oidc_adapter = {
    IDHUB_ADAPTER_HEAD("oidc", "state"),
    .settings = settings,
    .nsettings = S_COUNT,
    .init = oidc_init,
    .start = oidc_start,
    .finish = oidc_finish,
    .destroy = oidc_destroy,
    .flags = IDHUB_ADAPTER_NETWORK,
    .logout = oidc_logout,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &oidc_adapter;
}
