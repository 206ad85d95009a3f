/* adapter.c — owns the upstream OpenID Connect adapter's protocol flow: the ABI entry point, init
 * and destroy, start() (the authorization request: code flow, PKCE S256, state and nonce from the
 * hub, acr_values from the journey's level), and finish() (the authorization response, RFC 9207
 * iss, the code exchange with client_secret_basic or private_key_jwt, ID token verification in
 * verify.c, the replay cache, and the mapping of acr and claims to the hub's level and attributes).
 *
 * liboauth2 is used through the hub's HTTP service (its libcurl client) and cjose, the JOSE library
 * it is built on, verifies signatures. Its own OIDC client flow and oauth2_token_verify are not
 * used: in 1.4.5.4 they check neither nonce nor iss nor aud nor an alg allow-list, refetch the JWKS
 * on every unknown kid, keep a verification cache that can skip the exp re-check, and can log whole
 * tokens.
 *
 * Settings (strings in the idps entry's `settings` group):
 *   issuer                     required. The IdP's issuer URL (https; http only on a loopback
 * host). Discovery is fetched from ISSUER/.well-known/openid-configuration and must name this
 * issuer exactly; ID tokens must carry it exactly. client_id                  required. Our
 * client_id at the IdP. token_auth                 "client_secret_basic" (default) or
 * "private_key_jwt". client_secret              for client_secret_basic: the secret (prefer
 * client_secret_file)... client_secret_file         ...or a file holding it (one line). Exactly one
 * of the two. private_key_jwt_alg        for private_key_jwt: ES256 (default), RS256, PS256 or
 * EdDSA. The assertion is signed by the hub's current key of that alg; register the hub's
 * ISSUER/jwks as the client's jwks_uri at the IdP. Its aud is the IdP's issuer identifier. scopes
 * default "openid profile email"; must contain openid. acr_map                    space-separated
 * UPSTREAM_ACR=HUB_LEVEL pairs, split at the last '='; HUB_LEVEL is a name of the hub's loa list or
 * its number (1 = lowest). e.g. "urn:bank:loa2=http://eidas.europa.eu/LoA/substantial
 * urn:bank:loa1=1". start() sends acr_values: the upstream acrs that map to the required level or
 * higher, lowest first. finish() maps the ID token's acr back. unmapped_acr               "lowest"
 * (default): an absent or unmapped acr counts as level 1, the lowest, so the hub refuses it
 * wherever more is required; "refuse": such a login is refused outright. claim_map space-separated
 * UPSTREAM_CLAIM=HUB_ATTRIBUTE pairs. Attributes: name given_name family_name middle_name birthdate
 * email email_verified. Default: each of those from the claim of the same name. claims_parameter
 * true (default): ask for the mapped claims in the ID token with the OIDC `claims` request
 * parameter (the adapter reads only the ID token). timeout                    seconds for each call
 * to the IdP (discovery, JWKS, token), 1..60, default 10. A slow IdP gives the citizen a clear
 * page, not a hang. clock_leeway               seconds of clock skew allowed on exp and iat,
 * 0..300, default 30. max_token_age              an ID token's iat may be at most this
 * old, 60..3600, default 600. discovery_refresh          seconds between refreshes of discovery and
 * JWKS, 60..604800, default 3600. A failed refresh keeps the last-known-good copy.
 *   jwks_min_refetch_interval  at most one JWKS fetch on an unknown kid (and one retry of a failed
 *                              discovery) per this many seconds, 1..3600, default 60.
 *   allowed_algs               ID token algorithms, of RS256 RS384 RS512 PS256 PS384 PS512 ES256
 *                              ES384 ES512; default "RS256 PS256 ES256". none and HS* never. */
#include "oidc_int.h"
#include <ctype.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_WARN 4
#define LOG_INFO 6

__attribute__((format(printf, 3, 4))) static int set_err(idhub_error *e, idhub_status st,
                                                         const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	e->status = st;
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- small string building on the request arena ---- */

typedef struct sbuf {
	const idhub_services *svc;
	idhub_arena *a;
	char *s;
	size_t len, cap;
} sbuf;

static void put_n(sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = b->svc->alloc(b->a, cap);
		if (b->len)
			memcpy(d, b->s, b->len);
		b->s = d;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

static void put(sbuf *b, const char *s)
{
	put_n(b, s, strlen(s));
}

/* application/x-www-form-urlencoded value: everything but unreserved characters escaped */
static void put_enc(sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			put_n(b, (const char *)p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			put_n(b, e, 3);
		}
	}
}

static void put_param(sbuf *b, const char *name, const char *value)
{
	put(b, b->len && b->s[b->len - 1] != '?' ? "&" : "");
	put(b, name);
	put(b, "=");
	put_enc(b, value);
}

/* ---- init / destroy ---- */

static void oidc_destroy(void *ctx)
{
	oidc_ctx *c = ctx;
	if (!c)
		return;
	oidc_settings_free(c);
	oidc_disco_free(c->disco);
	oidc_keyset_free(c->keys);
	free(c->instance_id);
	free(c->callback_url);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}

static void *oidc_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	oidc_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->svc = svc;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->instance_id = strdup(cfg->instance_id);
	c->callback_url = strdup(cfg->callback_url);
	if (oidc_settings_load(c, cfg, err)) {
		oidc_destroy(c);
		return NULL;
	}
	/* Discovery and keys now if the IdP answers; if it does not, the hub still starts (with the
	 * last-known-good copies from the store when there are some) and start() tries again. */
	oidc_disco *d = oidc_disco_get(c);
	oidc_keyset *ks = d ? oidc_keys_get(c, d, 0) : NULL;
	if (!d || !ks)
		svc->log(svc->hub, LOG_WARN, "oidc %s: %s not available yet, will retry",
		         c->instance_id, d ? "the JWKS" : "discovery");
	oidc_keys_put(c, ks);
	oidc_disco_put(c, d);
	return c;
}

/* ---- start ---- */

static int oidc_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                      idhub_start_result *out, idhub_error *err)
{
	oidc_ctx *c = ctx;
	const idhub_services *svc = c->svc;
	if (!req->verifier || strlen(req->verifier) < 43 || !req->nonce || !req->request_id)
		return set_err(err, IDHUB_ERR_INTERNAL,
		               "login request without PKCE verifier or nonce");
	oidc_disco *d = oidc_disco_get(c);
	if (!d)
		return set_err(err, IDHUB_ERR_UNAVAILABLE,
		               "the IdP's discovery document is not available");
	/* PKCE S256 (RFC 7636 §4.2): the challenge is base64url(SHA-256(verifier)) */
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)req->verifier, strlen(req->verifier), h);
	const char *challenge = svc->b64url_encode(a, h, sizeof h);

	sbuf b = {.svc = svc, .a = a};
	put(&b, d->authorization_endpoint);
	put(&b, strchr(d->authorization_endpoint, '?') ? "&" : "?");
	put_param(&b, "response_type", "code");
	put_param(&b, "client_id", c->client_id);
	put_param(&b, "redirect_uri", req->callback_url ? req->callback_url : c->callback_url);
	put_param(&b, "scope", c->scopes);
	put_param(&b, "state", req->request_id);
	put_param(&b, "nonce", req->nonce);
	put_param(&b, "code_challenge", challenge);
	put_param(&b, "code_challenge_method", "S256");
	/* the service's freshness demands, passed up (OIDC Core §3.1.2.1) and checked in finish */
	if (req->flags & IDHUB_LOGIN_FORCE)
		put_param(&b, "prompt", "login");
	if (req->flags & IDHUB_LOGIN_MAX_AGE) {
		char ma[24];
		snprintf(ma, sizeof ma, "%lld", (long long)req->max_age);
		put_param(&b, "max_age", ma);
	}
	oidc_disco_put(c, d);

	/* acr_values: the upstream acrs good enough for the journey's level, lowest level first */
	sbuf acr = {.svc = svc, .a = a};
	for (int l = req->min_loa > 0 ? req->min_loa : 1; l <= c->nloas; l++)
		for (size_t i = 0; i < c->nacr; i++)
			if (c->acr_map[i].level == l) {
				if (acr.len)
					put(&acr, " ");
				put(&acr, c->acr_map[i].from);
			}
	if (acr.len)
		put_param(&b, "acr_values", acr.s);
	if (c->claims_parameter && c->nclaim) {
		json_t *want = json_object();
		for (size_t i = 0; i < c->nclaim; i++)
			json_object_set_new(want, c->claim_map[i].from, json_null());
		json_t *claims = json_pack("{s:o}", "id_token", want);
		char *js = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(claims);
		if (js)
			put_param(&b, "claims", js);
		free(js);
	}
	out->kind = IDHUB_START_REDIRECT;
	out->url = b.s;
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
	return set_err(err, st, "the IdP answered error=%s", code);
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
	const char *user = NULL, *pass = NULL;
	if (c->token_auth == OIDC_AUTH_BASIC) {
		user = c->client_id;
		pass = c->client_secret;
	} else {
		/* private_key_jwt (OIDC Core §9): a short-lived, single-use assertion by the hub's
		 * key, its audience the IdP's issuer identifier */
		char jti[44];
		int64_t now = svc->now(svc->hub);
		if (svc->random_token(svc->hub, jti)) {
			set_err(err, IDHUB_ERR_INTERNAL, "random number generator failed");
			return NULL;
		}
		json_t *cl = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "iss", c->client_id, "sub",
		                       c->client_id, "aud", d->issuer, "jti", jti, "iat",
		                       (json_int_t)now, "exp", (json_int_t)(now + 60));
		char *js = cl ? json_dumps(cl, JSON_COMPACT) : NULL;
		json_decref(cl);
		const char *jwt = js ? svc->sign_jwt(svc->hub, a, c->pkjwt_alg, js) : NULL;
		free(js);
		if (!jwt) {
			set_err(err, IDHUB_ERR_INTERNAL,
			        "cannot sign the client assertion: no current hub key for %s",
			        c->pkjwt_alg);
			return NULL;
		}
		form[nf++] = (idhub_kv){"client_id", c->client_id};
		form[nf++] = (idhub_kv){"client_assertion_type",
		                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"};
		form[nf] = (idhub_kv){"client_assertion", jwt};
		nf++;
	}
	int status = 0;
	char *body = NULL;
	if (svc->http(svc->hub, d->token_endpoint, form, nf, user, pass, c->timeout, &status,
	              &body)) {
		set_err(err, IDHUB_ERR_UNAVAILABLE,
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
		set_err(err, IDHUB_ERR_UNAVAILABLE, "the IdP's token endpoint failed");
	else if (e)
		upstream_error(e, err);
	else
		set_err(err, IDHUB_ERR_INVALID, "the IdP's token response has no id_token");
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

static void map_claims(const oidc_ctx *c, idhub_arena *a, const json_t *pl, idhub_identity *out)
{
	idhub_kv *kv = c->svc->alloc(a, (c->nclaim ? c->nclaim : 1) * sizeof(*kv));
	size_t k = 0;
	for (size_t i = 0; i < c->nclaim; i++) {
		const json_t *v = json_object_get(pl, c->claim_map[i].from);
		const char *s = NULL;
		if (json_is_string(v) && json_string_length(v) <= 1024)
			s = json_string_value(v);
		else if (json_is_boolean(v))
			s = json_is_true(v) ? "true" : "false";
		if (!s)
			continue;
		/* one value per attribute: the first mapping that yields one wins */
		int dup = 0;
		for (size_t j = 0; j < k; j++)
			dup |= strcmp(kv[j].name, c->claim_map[i].to) == 0;
		if (dup)
			continue;
		kv[k].name = c->svc->strdup(a, c->claim_map[i].to);
		kv[k].value = c->svc->strdup(a, s);
		k++;
	}
	out->attrs = kv;
	out->nattrs = k;
}

/* max_age (OIDC Core §3.1.2.1: auth_time is then REQUIRED in the ID token) and prompt=login: the
 * IdP's authentication must be recent enough, or the login is refused. */
static int fresh_enough(oidc_ctx *c, const idhub_login_request *req, int64_t auth_time, int64_t now,
                        idhub_error *err)
{
	if ((req->flags & IDHUB_LOGIN_MAX_AGE) &&
	    (auth_time <= 0 || auth_time < now - req->max_age - c->leeway)) {
		set_err(err, IDHUB_ERR_INVALID, "%s",
		        auth_time <= 0 ? "max_age was sent and the ID token has no auth_time"
		                       : "the IdP's authentication is older than max_age");
		return 0;
	}
	if ((req->flags & IDHUB_LOGIN_FORCE) && auth_time > 0 &&
	    auth_time < req->started_at - c->leeway) {
		set_err(err, IDHUB_ERR_INVALID,
		        "prompt=login was sent and the IdP's authentication predates the login");
		return 0;
	}
	return 1;
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
		return set_err(err, IDHUB_ERR_INVALID, "repeated parameters in the IdP's answer");
	oidc_disco *d = oidc_disco_get(c);
	if (!d)
		return set_err(err, IDHUB_ERR_UNAVAILABLE,
		               "the IdP's discovery document is not available");
	int rc = -1;
	oidc_keyset *ks = NULL;
	json_t *pl = NULL;
	/* RFC 9207: an iss in the response must be our IdP's (mix-up defence), and an IdP that
	 * announces the parameter must send it */
	if ((iss && strcmp(iss, d->issuer) != 0) || (!iss && d->iss_param_supported)) {
		set_err(err, IDHUB_ERR_INVALID, "the answer's iss is not our IdP's");
		goto out;
	}
	if (e) {
		upstream_error(e, err);
		goto out;
	}
	if (!code || !*code || strlen(code) > 2048) {
		set_err(err, IDHUB_ERR_INVALID, "no authorization code in the IdP's answer");
		goto out;
	}
	const char *idt = exchange(c, a, d, code, req, err);
	if (!idt)
		goto out;

	int64_t now = svc->now(svc->hub);
	oidc_verify_params vp = {.issuer = d->issuer,
	                         .client_id = c->client_id,
	                         .nonce = req->nonce,
	                         .algs = c->algs,
	                         .now = now,
	                         .leeway = c->leeway,
	                         .max_age = c->max_age,
	                         .not_before = req->started_at};
	char why[160] = "";
	ks = oidc_keys_get(c, d, 0);
	oidc_verify_rc vr = oidc_idtoken_verify(&vp, ks, idt, &pl, why, sizeof why);
	if (vr == OIDC_V_NO_KEY || vr == OIDC_V_BAD_SIG) {
		/* key rollover: the IdP may sign with a key published after our last fetch, or
		 * under a kid it reused for a new key; the refetch is rate-limited in jwks.c */
		oidc_keys_put(c, ks);
		ks = oidc_keys_get(c, d, 1);
		if (ks)
			vr = oidc_idtoken_verify(&vp, ks, idt, &pl, why, sizeof why);
		else if (vr == OIDC_V_NO_KEY)
			snprintf(why, sizeof why,
			         "unknown signing key (JWKS refetch rate-limited)");
		else
			snprintf(why + strlen(why), sizeof why - strlen(why),
			         " (JWKS refetch rate-limited)");
	}
	if (vr != OIDC_V_OK) {
		set_err(err, IDHUB_ERR_INVALID, "ID token refused: %s", why);
		goto out;
	}
	int64_t iat = 0, exp = 0, auth_time = 0;
	json_t *v;
	if ((v = json_object_get(pl, "iat")))
		iat = (int64_t)json_number_value(v);
	if ((v = json_object_get(pl, "exp")))
		exp = (int64_t)json_number_value(v);
	if ((v = json_object_get(pl, "auth_time")) && json_is_number(v))
		auth_time = (int64_t)json_number_value(v);
	if (!fresh_enough(c, req, auth_time, now, err))
		goto out;
	if (iat < svc->replay_floor(svc->hub)) {
		set_err(err, IDHUB_ERR_INVALID, "ID token issued before the hub's last crash");
		goto out;
	}
	/* Each ID token is accepted once (by its hash: jti is optional in OIDC). */
	unsigned char h[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)idt, strlen(idt), h);
	const char *tid = svc->b64url_encode(a, h, sizeof h);
	int seen = svc->replay_seen(svc->hub, c->instance_id, tid, exp + c->leeway);
	if (seen != 0) {
		set_err(err, seen > 0 ? IDHUB_ERR_INVALID : IDHUB_ERR_INTERNAL, "%s",
		        seen > 0 ? "ID token replayed" : "replay cache unavailable");
		goto out;
	}
	const char *acr = json_string_value(json_object_get(pl, "acr"));
	int loa = map_acr(c, acr);
	if (!loa) {
		/* An acr we cannot map is never read as more than the lowest level. */
		if (c->unmapped_acr_refuse) {
			set_err(err, IDHUB_ERR_LOA, "the IdP asserted an acr we do not know");
			goto out;
		}
		loa = 1;
	}
	out->subject = svc->strdup(a, json_string_value(json_object_get(pl, "sub")));
	out->loa = loa;
	out->auth_time = auth_time > 0 && auth_time <= now + c->leeway ? auth_time : iat;
	const char *jti = json_string_value(json_object_get(pl, "jti"));
	out->upstream_id = svc->strdup(a, jti && strlen(jti) <= 128 ? jti : tid);
	map_claims(c, a, pl, out);
	svc->log(svc->hub, LOG_INFO, "oidc %s: ID token verified (level %d)", c->instance_id, loa);
	rc = 0;
out:
	json_decref(pl);
	oidc_keys_put(c, ks);
	oidc_disco_put(c, d);
	return rc;
}

static const idhub_adapter oidc_adapter = {
    .abi_version = IDHUB_ADAPTER_ABI_VERSION,
    .name = "oidc",
    .state_param = "state",
    .init = oidc_init,
    .start = oidc_start,
    .finish = oidc_finish,
    .destroy = oidc_destroy,
    .flags = IDHUB_ADAPTER_NETWORK,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &oidc_adapter;
}
