/* adapter.c — the EU Digital Identity Wallet adapter: an OpenID4VP 1.0 verifier (HAIP profile)
 * for a PID in SD-JWT VC format. Its settings, init and destroy, and the login's legs: start parks
 * a fresh encryption key in the journey's scratch record and sends the browser to the wallet page
 * (an openid4vp:// link); the wallet fetches the signed request object (request_uri) and posts its
 * encrypted answer to the response_uri (serve.c), which verifies the presentation (verify.c) and
 * parks only a verified one; finish, in the browser, takes the parked answer once, with the
 * one-time response code, and maps its claims. */
#include "wallet_int.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const char *const link_schemes[] = {"openid4vp", "haip-vp", "eudi-openid4vp", NULL};

static const idhub_setting_decl settings[S_COUNT] = {
    [S_VERIFIER_KEY] = {"verifier_key", IDHUB_SET_FILE, NULL, 0, 0, NULL, IDHUB_SET_REQUIRED},
    [S_VERIFIER_CERT] = {"verifier_cert", IDHUB_SET_FILE, NULL, 0, 0, NULL, IDHUB_SET_REQUIRED},
    [S_CLIENT_ID_DNS] = {"client_id_dns", IDHUB_SET_STRING, NULL, 0, 253},
    [S_TRUST_ANCHORS] = {"trust_anchors", IDHUB_SET_FILE, NULL, 0, 0, NULL, IDHUB_SET_REQUIRED},
    [S_VCT] = {"vct", IDHUB_SET_LIST, "urn:eudi:pid:1", 0, 16, NULL, IDHUB_SET_NONEMPTY},
    [S_CLAIMS] = {"claims", IDHUB_SET_LIST, "given_name family_name birthdate", 0, 32},
    [S_SUBJECT_CLAIM] = {"subject_claim", IDHUB_SET_STRING, "personal_administrative_number", 0,
                         64},
    [S_SUBJECT_KEY] = {"subject_key", IDHUB_SET_FILE, NULL, 16, 4096},
    [S_LEVEL] = {"level", IDHUB_SET_INT, "3", 1, 9},
    [S_RESPONSE_TTL] = {"response_ttl", IDHUB_SET_DURATION, "5m", 30, 1800},
    [S_KB_MAX_AGE] = {"kb_max_age", IDHUB_SET_DURATION, "5m", 10, 3600},
    [S_LEEWAY] = {"clock_leeway", IDHUB_SET_DURATION, "30s", 0, 300},
    [S_REQUIRE_STATUS] = {"require_status", IDHUB_SET_BOOL, "false"},
    [S_TRUST_REFRESH] = {"trust_refresh", IDHUB_SET_DURATION, "5m", 1, 86400},
    [S_ISSUER_LEVELS] = {"issuer_levels", IDHUB_SET_MAP, NULL, 0, 64, NULL, IDHUB_SET_SPACES},
    /* the scheme of the same-device link and QR code: OpenID4VP's own, or one a wallet
     * registers instead (the EU reference verifier defaults to haip-vp) */
    [S_LINK_SCHEME] = {"link_scheme", IDHUB_SET_ENUM, "openid4vp", 0, 0, link_schemes},
};

static void wallet_destroy(void *ctx)
{
	wallet *w = ctx;
	if (!w)
		return;
	EVP_PKEY_free(w->verifier_key);
	X509_STORE_free(w->anchors);
	json_decref(w->x5c);
	OPENSSL_cleanse(w->subject_key, sizeof w->subject_key);
	free(w);
}

static int client_host(wallet *w, idhub_error *err)
{
	const idhub_value *v = &w->cfg->values[S_CLIENT_ID_DNS];
	const char *u = w->cfg->hub_base_url, *h = strstr(u, "://");
	char host[254] = "";
	if (v->set && *v->str)
		snprintf(host, sizeof host, "%s", v->str);
	else if (h)
		snprintf(host, sizeof host, "%.*s", (int)strcspn(h + 3, ":/"), h + 3);
	if (!*host || strspn(host, "abcdefghijklmnopqrstuvwxyz0123456789.-") != strlen(host))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "client_id_dns: not a DNS name");
	snprintf(w->client_id, sizeof w->client_id, "x509_san_dns:%s", host);
	return 0;
}

static int subject_key(wallet *w, idhub_error *err)
{
	const idhub_value *v = &w->cfg->values[S_SUBJECT_KEY];
	if (!v->set) {
		/* without a key the hash is of the claims alone: the hub's pairwise hashing still
		 * keeps it out of tokens, but the README advises a key */
		w->subject_key_len = 0;
		return 0;
	}
	size_t len = 0;
	char *k = w->svc->read_file(v->str, 4096, &len);
	if (!k || len < 16)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "subject_key: at least 16 bytes");
	EVP_Digest(k, len, w->subject_key, NULL, EVP_sha256(), NULL);
	w->subject_key_len = 32;
	OPENSSL_cleanse(k, len);
	free(k);
	return 0;
}

static void *wallet_init(const idhub_adapter_config *cfg, const idhub_services *svc,
                         idhub_error *err)
{
	/* its pages, links, digests and claims come from the host's revision 3 services */
	wallet *w = IDHUB_HAS_SERVICE(svc, url_param) ? calloc(1, sizeof *w) : NULL;
	if (!w) {
		idhub_fail(err, IDHUB_ERR_INTERNAL, "%s",
		           IDHUB_HAS_SERVICE(svc, url_param)
		               ? "out of memory"
		               : "this hub is older than the wallet adapter");
		return NULL;
	}
	w->svc = svc, w->cfg = cfg;
	wallet_script_hash(w);
	if (cfg->values[S_LEVEL].num > cfg->nloas)
		idhub_fail(err, IDHUB_ERR_INTERNAL, "level: the hub has only %d levels",
		           cfg->nloas);
	else if (wallet_issuer_level(w, NULL) < 0)
		idhub_fail(err, IDHUB_ERR_INTERNAL,
		           "issuer_levels: each word must be <iss>=<level>, level 1..%d or one of "
		           "the hub's loa names",
		           cfg->nloas);
	else if (!client_host(w, err) && !wallet_load_verifier(w, err) &&
	         !wallet_load_anchors(w, err) && !subject_key(w, err))
		return w;
	wallet_destroy(w);
	return NULL;
}

static int wallet_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                        idhub_start_result *out, idhub_error *err)
{
	wallet *w = ctx;
	const idhub_services *s = w->svc;
	char kid[44];
	EVP_PKEY *k = wallet_ephemeral_new();
	char *pem = k ? wallet_ephemeral_save(w, a, k) : NULL;
	EVP_PKEY_free(k);
	if (!pem || s->random_token(s->inst, kid))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot make the response key");
	/* e: when the login stops waiting; the record that replaces it (answered, cancelled) keeps
	 * it (never extended) */
	/* c: the configured PID claims this service may receive (the request object's DCQL);
	 * n and t: the nonce and start the response_uri's key-binding check holds the answer to */
	json_t *rec = json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:I}", "s", "pending", "n", req->nonce,
	                        "k", pem, "kid", kid, "e",
	                        (json_int_t)(s->now(s->inst) + w->cfg->values[S_RESPONSE_TTL].num),
	                        "c", wallet_wanted(w, req), "t", (json_int_t)req->started_at);
	char *txt = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	json_decref(rec);
	OPENSSL_cleanse(pem, strlen(pem));
	int rc = txt ? s->scratch_put(s->inst, req->request_id, txt, strlen(txt),
	                              w->cfg->values[S_RESPONSE_TTL].num)
	             : -1;
	if (txt)
		OPENSSL_cleanse(txt, strlen(txt));
	free(txt);
	if (rc)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot park the login");
	out->kind = IDHUB_START_REDIRECT;
	out->url =
	    s->url_param(a, s->sprintf(a, "%s/idp/%s/wallet", w->cfg->hub_base_url, s->instance_id),
	                 "rid", req->request_id);
	return 0;
}

/* serve.c */
int wallet_serve(void *ctx, idhub_arena *a, const idhub_http_request *r, idhub_http_response *resp);

/* The browser came back without a response code: the citizen left the waiting page (cancel=1:
 * its Back or "choose another way"), or the page found the login no longer waiting (its time up,
 * or cancelled before). The hub's callback has checked this is the login's own browser and spent
 * its state, so the login ends here: its record becomes "cancelled" for the rest of its time, so
 * that a wallet answer arriving afterwards is refused at the response_uri (replay) and never
 * parked, and an answer parked already is dropped. access_denied: the hub's journey shows what it
 * shows for a cancel at any IdP (choose another way, or back to the service). */
static int ended(const wallet *w, idhub_arena *a, const idhub_http_request *cb,
                 const idhub_login_request *req, idhub_error *err)
{
	const idhub_services *s = w->svc;
	size_t len = 0;
	const char *txt = s->scratch_get(s->inst, a, req->request_id, &len, 1);
	json_t *rec = txt ? json_loadb(txt, len, 0, NULL) : NULL;
	json_int_t e = json_integer_value(json_object_get(rec, "e"));
	int64_t ttl = e - s->now(s->inst);
	/* the wait is over only when the record is gone or its time is up: a login still waiting
	 * that comes back here was left (someone who saw the QR code can send the citizen's browser
	 * to the callback), which is worded as a cancel, not as a time-out */
	int over = !rec || ttl <= 0;
	json_t *mark = ttl > 0 ? json_pack("{s:s,s:I}", "s", "cancelled", "e", e) : NULL;
	char *m = mark ? json_dumps(mark, JSON_COMPACT) : NULL;
	if (m)
		s->scratch_put(s->inst, req->request_id, m, strlen(m), ttl);
	free(m);
	json_decref(mark);
	json_decref(rec);
	const char *c = idhub_param(cb, "cancel", NULL);
	if (c && !strcmp(c, "1"))
		return idhub_fail(err, IDHUB_ERR_ACCESS_DENIED,
		                  "the person cancelled at the wallet page");
	if (!over)
		return idhub_fail(err, IDHUB_ERR_ACCESS_DENIED,
		                  "the login was left before the wallet answered");
	/* timed out: a hub of revision 5 says so (an older one shows its cancelled page) */
	return idhub_fail(err,
	                  IDHUB_HAS_REVISION(s, 5) ? IDHUB_ERR_TIMEOUT : IDHUB_ERR_ACCESS_DENIED,
	                  "the wallet did not answer while the login waited");
}

/* The browser is back with the response code: the answer parked for it was verified at the
 * response_uri already (serve.c: the whole chain of checks, so that a forgery never takes the
 * login's one answer), so only the code, the record's login and the mapping remain. */
static int wallet_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                         const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	wallet *w = ctx;
	const idhub_services *s = w->svc;
	int n;
	const char *code = idhub_param(cb, "response_code", &n);
	if (!code && !n)
		return ended(w, a, cb, req, err);
	if (!code || n != 1)
		return idhub_fail(err, IDHUB_ERR_INVALID, "response_code repeated");
	size_t len = 0;
	const char *txt = s->scratch_get(s->inst, a, req->request_id, &len, 1); /* once */
	json_t *rec = txt ? json_loadb(txt, len, 0, NULL) : NULL;
	json_t *claims = json_object_get(rec, "claims");
	const char *rc = json_string_value(json_object_get(rec, "rc")),
	           *nonce = json_string_value(json_object_get(rec, "n"));
	int ret = -1;
	/* OpenID4VP 1.0 §13.3: the response code returned to the wallet's user agent is checked
	 * here, in the browser whose journey cookie the hub already matched */
	idhub_check chk = IDHUB_CHECK_FORMAT;
	if (!rc || strlen(rc) != strlen(code) || CRYPTO_memcmp(rc, code, strlen(rc))) {
		idhub_fail(err, IDHUB_ERR_INVALID,
		           "response_code: no wallet answer for this login");
		chk = IDHUB_CHECK_REPLAY;
	} else if (!nonce || strcmp(nonce, req->nonce) || !json_is_object(claims))
		idhub_fail(err, IDHUB_ERR_INVALID, "parked answer: not this login's verified PID");
	else {
		chk = IDHUB_CHECK_CLAIMS; /* wallet_map refuses only for a missing claim */
		ret = wallet_map(w, a, req, claims, json_integer_value(json_object_get(rec, "at")),
		                 s->sprintf(a, "wallet:%.16s", rc), out, err);
	}
	if (ret) {
		err->check = chk;
		s->log(s->inst, 4, "refused: %s", err->message);
	}
	json_decref(rec);
	return ret;
}

static const idhub_adapter wallet_adapter = {
    IDHUB_ADAPTER_HEAD("wallet", "state"),
    .settings = settings,
    .nsettings = S_COUNT,
    .init = wallet_init,
    .start = wallet_start,
    .finish = wallet_finish,
    .serve = wallet_serve,
    .destroy = wallet_destroy,
    /* the response_uri (serve) fetches the PID's status list */
    .flags = IDHUB_ADAPTER_NETWORK,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &wallet_adapter;
}
