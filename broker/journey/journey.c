/* journey.c — journeys: sealed tokens for the first leg, records in the store once an IdP is
 * picked, spent markers, and the binding to the browser (see journey.h). */
#include "journey.h"
#include "../audit/audit.h"
#include "../claims/claims.h"
#include "../pages/catalog.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include "../util/random.h"
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int journey_token_eq(const char *a, const char *b)
{
	if (!a || !b)
		return 0;
	size_t la = strlen(a), lb = strlen(b);
	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}

void journey_binding_hash(const char *cookie, char bh[44])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)cookie, strlen(cookie), d);
	b64url_encode(bh, d, sizeof d);
}

const char *journey_cookie_name(const hub *h)
{
	return h->cfg->secure_cookies ? JOURNEY_COOKIE_HOST : JOURNEY_COOKIE;
}

int journey_bound(const hub *h, const journey *j, const http_req *r)
{
	const char *c = http_cookie(r, journey_cookie_name(h));
	if (!c || strlen(c) != 43)
		return 0;
	char bh[44];
	journey_binding_hash(c, bh);
	return journey_token_eq(bh, j->bh);
}

const char *journey_browser(hub *h, http_req *r, http_resp *resp, int create)
{
	const char *c = http_cookie(r, journey_cookie_name(h));
	if (c && strlen(c) == 43)
		return c;
	if (!create)
		return NULL;
	char *tok = arena_alloc(r->a, 44);
	if (random_token(tok))
		return NULL;
	/* On https the __Host- prefix: the browser then accepts the cookie only with Secure, Path=/
	 * and no Domain, so a sibling host or a plain-http page can neither set nor shadow it. */
	http_add_header(resp, "Set-Cookie",
	                arena_printf(r->a, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
	                             journey_cookie_name(h), tok,
	                             h->cfg->secure_cookies ? "; Secure" : ""));
	return tok;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static char *journey_json(const journey *j)
{
	json_t *o = json_object();
	set_str(o, "cid", j->client_id);
	set_str(o, "ruri", j->redirect_uri);
	set_str(o, "state", j->state);
	set_str(o, "nonce", j->nonce);
	set_str(o, "cc", j->code_challenge);
	set_str(o, "scope", j->scope);
	set_str(o, "hint", j->login_hint);
	set_str(o, "claims", j->claims);
	json_object_set_new(o, "loa", json_integer(j->required_loa));
	if (j->force_login)
		json_object_set_new(o, "plogin", json_true());
	if (j->has_max_age)
		json_object_set_new(o, "maxage", json_integer(j->max_age));
	set_str(o, "lang", pages_lang_name(j->lang));
	set_str(o, "bh", j->bh);
	set_str(o, "csrf", j->csrf);
	json_object_set_new(o, "created", json_integer(j->created));
	set_str(o, "run", j->run);
	set_str(o, "idp", j->idp);
	set_str(o, "rid", j->request_id);
	set_str(o, "unonce", j->upstream_nonce);
	set_str(o, "uver", j->upstream_verifier);
	if (j->upstream_started)
		json_object_set_new(o, "ustart", json_integer(j->upstream_started));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int64_t journey_ttl_left(hub *h, const journey *j)
{
	int64_t left = j->created + h->cfg->journey_ttl - hub_now(h);
	return left > 0 ? left : 0;
}

#define SEAL_SECRET "journey.seal"
#define IV_LEN 12
#define SALT_LEN 16
#define TAG_LEN 16
#define TOKEN_MAX 6144 /* a sealed request: what the URL limit leaves for it */

int journey_init_secret(hub *h, char **err)
{
	unsigned char run[16];
	if (random_bytes(run, sizeof run)) {
		*err = strdup("random source failed");
		return -1;
	}
	b64url_encode(h->run_id, run, sizeof run);
	for (int attempt = 0; attempt < 2; attempt++) {
		void *v;
		size_t n;
		int rc =
		    store_get(h->st, NS_SECRETS, SEAL_SECRET, strlen(SEAL_SECRET), &v, &n, NULL);
		if (rc == 0 && n == sizeof h->seal_key) {
			memcpy(h->seal_key, v, n);
			OPENSSL_cleanse(v, n);
			free(v);
			return 0;
		}
		if (rc == 0)
			free(v);
		if (rc != STORE_NOTFOUND)
			break;
		/* a new secret only invalidates journeys in flight, so it may be made at any start
		 */
		unsigned char k[32];
		if (random_bytes(k, sizeof k))
			break;
		audit_attach(h->st, "idhub (start)", "secrets.create", "journey-seal", NULL, NULL);
		rc = store_put_new(h->st, NS_SECRETS, SEAL_SECRET, strlen(SEAL_SECRET), k, sizeof k,
		                   0);
		store_attach_drop(h->st); /* audited with the secret, or dropped with it */
		OPENSSL_cleanse(k, sizeof k);
		if ((rc && rc != STORE_EXISTS) || store_sync(h->st))
			break;
	}
	*err = strdup("cannot load or create the journey sealing secret");
	return -1;
}

static void key_of(const char *token, char key[44])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)token, strlen(token), d);
	b64url_encode(key, d, sizeof d);
}

/* Each token is sealed under its own key, HMAC-SHA256(seal secret, 16 random bytes of salt), so
 * no AES-GCM key ever sees more than one message and the random-IV limit of GCM (about 2^32
 * messages a key) never applies, however many sign-ins a busy hub starts. */
static const unsigned char seal_aad[] = "idhub journey v1";
static const unsigned char zero_iv[IV_LEN];

static int token_key(const hub *h, const unsigned char salt[SALT_LEN], unsigned char key[32])
{
	unsigned int n = 32;
	return HMAC(EVP_sha256(), h->seal_key, sizeof h->seal_key, salt, SALT_LEN, key, &n) ? 0
	                                                                                    : -1;
}

/* salt || ciphertext || tag, base64url. The AAD binds the token to this purpose. */
static const char *seal(hub *h, arena *a, const char *plain)
{
	size_t n = strlen(plain);
	unsigned char *out = arena_alloc_uninit(a, SALT_LEN + n + TAG_LEN), key[32];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0,
	    ok = c && random_bytes(out, SALT_LEN) == 0 && token_key(h, out, key) == 0 &&
	         EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, zero_iv) == 1 &&
	         EVP_EncryptUpdate(c, NULL, &len, seal_aad, sizeof seal_aad - 1) == 1 &&
	         EVP_EncryptUpdate(c, out + SALT_LEN, &len, (const unsigned char *)plain, (int)n) ==
	             1 &&
	         EVP_EncryptFinal_ex(c, out + SALT_LEN + len, &len) == 1 &&
	         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + SALT_LEN + n) == 1;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(key, sizeof key);
	if (!ok)
		return NULL;
	char *tok = arena_alloc_uninit(a, b64url_enc_len(SALT_LEN + n + TAG_LEN) + 1);
	b64url_encode(tok, out, SALT_LEN + n + TAG_LEN);
	return tok;
}

/* The plaintext of a token, or NULL when it is not one of ours (any change fails the tag). */
static char *unseal(hub *h, arena *a, const char *token, size_t *outlen)
{
	size_t tl = strlen(token);
	if (tl > TOKEN_MAX)
		return NULL;
	unsigned char *raw = arena_alloc_uninit(a, tl * 3 / 4 + 2), key[32];
	long rn = b64url_decode(raw, token, tl);
	if (rn < SALT_LEN + TAG_LEN + 2)
		return NULL;
	size_t n = (size_t)rn - SALT_LEN - TAG_LEN;
	char *plain = arena_alloc_uninit(a, n + 1);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0,
	    ok = c && token_key(h, raw, key) == 0 &&
	         EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, zero_iv) == 1 &&
	         EVP_DecryptUpdate(c, NULL, &len, seal_aad, sizeof seal_aad - 1) == 1 &&
	         EVP_DecryptUpdate(c, (unsigned char *)plain, &len, raw + SALT_LEN, (int)n) == 1 &&
	         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + SALT_LEN + n) == 1 &&
	         EVP_DecryptFinal_ex(c, (unsigned char *)plain + len, &len) == 1;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(key, sizeof key);
	if (!ok)
		return NULL;
	plain[n] = 0;
	*outlen = n;
	return plain;
}

int journey_create(hub *h, arena *a, journey *j)
{
	if (random_token(j->csrf))
		return STORE_ERR;
	j->created = hub_now(h);
	j->lang = pages_lang(); /* chosen at /authorize: ui_locales before the cookie */
	j->run = h->run_id;
	char *s = journey_json(j);
	j->token = s ? seal(h, a, s) : NULL;
	free(s);
	if (!j->token)
		return STORE_ERR;
	key_of(j->token, j->key);
	log_set_journey(j->key); /* this request's log lines now name the journey (by a hash) */
	return 0;
}

int journey_save_upstream(hub *h, const journey *j)
{
	int64_t ttl = journey_ttl_left(h, j);
	if (ttl <= 0)
		return STORE_NOTFOUND;
	char *s = journey_json(j);
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_JOURNEY, j->key, strlen(j->key), s, strlen(s), ttl);
	store_batch_put(b, NS_USTATE, j->request_id, strlen(j->request_id), j->key, strlen(j->key),
	                ttl);
	free(s);
	/* the store refuses a new journey above its high-water mark (STORE_BUSY) */
	store_batch_budgeted(b);
	return store_batch_commit(h->st, b);
}

void journey_spend(hub *h, store_batch *b, const journey *j)
{
	int64_t ttl = journey_ttl_left(h, j);
	/* the marker keeps where the request came from, so a Back or a reload after the end can
	 * say "already finished" with a way back to the service (journey_error_url) */
	json_t *m = json_object();
	json_object_set_new(m, "spent", json_true());
	set_str(m, "cid", j->client_id);
	set_str(m, "ruri", j->redirect_uri);
	set_str(m, "state", j->state);
	set_str(m, "lang", pages_lang_name(j->lang));
	char *spent = json_dumps(m, JSON_COMPACT);
	json_decref(m);
	/* The claim is the compare-and-swap: put_new fails the whole batch (code included) when
	 * the journey was spent already. The marker under the journey's own key only lets later
	 * loads answer "gone" in one read; a re-pick that overwrote it still meets the claim. */
	char claim[64];
	snprintf(claim, sizeof claim, "spent:%s", j->key);
	store_batch_put_new(b, NS_REPLAY, claim, strlen(claim), "", 0, ttl > 0 ? ttl : 1);
	if (spent)
		store_batch_put(b, NS_JOURNEY, j->key, strlen(j->key), spent, strlen(spent),
		                ttl > 0 ? ttl : 1);
	free(spent);
}

void journey_login_flags(const journey *j, idhub_login_request *lr)
{
	lr->flags =
	    (j->force_login ? IDHUB_LOGIN_FORCE : 0) | (j->has_max_age ? IDHUB_LOGIN_MAX_AGE : 0);
	lr->max_age = j->has_max_age ? j->max_age : 0;
	lr->login_hint = j->login_hint && *j->login_hint ? j->login_hint : NULL;
}

void journey_login_claims(const hub *h, arena *a, const journey *j, idhub_login_request *lr)
{
	const service_conf *svc = hub_service(h, a, j->client_id);
	lr->claims = claims_wanted(a, svc, j->scope, j->claims, &lr->nclaims);
}

static const char *get_str(arena *a, json_t *o, const char *k)
{
	return arena_strdup(a, json_string_value(json_object_get(o, k)));
}

static int copy_fixed(char *dst, size_t n, const char *src)
{
	if (!src || strlen(src) >= n)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

#define JOURNEY_SPENT 1 /* load_stored's answer for a spent marker */

/* Fills j from a record's JSON (sealed or stored). JOURNEY_SPENT for a spent marker. */
static int from_json(arena *a, const char *text, size_t n, journey *j)
{
	json_t *o = json_loadb(text, n, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return STORE_ERR;
	}
	if (json_is_true(json_object_get(o, "spent"))) {
		j->client_id = get_str(a, o, "cid");
		j->redirect_uri = get_str(a, o, "ruri");
		j->state = get_str(a, o, "state");
		j->lang = pages_lang_parse(json_string_value(json_object_get(o, "lang")));
		j->gone = JOURNEY_GONE_FINISHED;
		json_decref(o);
		return JOURNEY_SPENT;
	}
	j->client_id = get_str(a, o, "cid");
	j->redirect_uri = get_str(a, o, "ruri");
	j->state = get_str(a, o, "state");
	j->nonce = get_str(a, o, "nonce");
	j->code_challenge = get_str(a, o, "cc");
	j->scope = get_str(a, o, "scope");
	j->login_hint = get_str(a, o, "hint");
	j->claims = get_str(a, o, "claims");
	j->required_loa = (int)json_integer_value(json_object_get(o, "loa"));
	j->force_login = json_is_true(json_object_get(o, "plogin"));
	json_t *ma = json_object_get(o, "maxage");
	j->has_max_age = json_is_integer(ma);
	j->max_age = j->has_max_age ? json_integer_value(ma) : 0;
	j->created = json_integer_value(json_object_get(o, "created"));
	j->lang = pages_lang_parse(json_string_value(json_object_get(o, "lang")));
	j->run = get_str(a, o, "run");
	j->idp = get_str(a, o, "idp");
	j->request_id = get_str(a, o, "rid");
	j->upstream_nonce = get_str(a, o, "unonce");
	j->upstream_verifier = get_str(a, o, "uver");
	j->upstream_started = json_integer_value(json_object_get(o, "ustart"));
	int rc = 0;
	if (copy_fixed(j->bh, sizeof j->bh, json_string_value(json_object_get(o, "bh"))) ||
	    copy_fixed(j->csrf, sizeof j->csrf, json_string_value(json_object_get(o, "csrf"))) ||
	    !j->client_id || !j->redirect_uri)
		rc = STORE_ERR;
	json_decref(o);
	return rc;
}

/* The stored record under key: 0, STORE_NOTFOUND when absent, JOURNEY_SPENT, or an error. */
static int load_stored(hub *h, arena *a, const char *key, journey *j)
{
	memset(j, 0, sizeof *j);
	void *v;
	size_t n;
	int rc = store_get(h->st, NS_JOURNEY, key, strlen(key), &v, &n, NULL);
	if (rc)
		return rc;
	memcpy(j->key, key, 44);
	j->token = arena_strdup(a, key); /* a stored journey's pages link to it by its key */
	rc = from_json(a, v, n, j);
	free(v);
	return rc;
}

int journey_load_key(hub *h, arena *a, const char *key, journey *j)
{
	if (!key || strlen(key) != 43) {
		memset(j, 0, sizeof *j);
		return STORE_NOTFOUND;
	}
	int rc = load_stored(h, a, key, j);
	if (rc == 0)
		log_set_journey(j->key);
	if (rc == STORE_NOTFOUND) {
		j->gone = JOURNEY_GONE_EXPIRED; /* a key of ours, purged when its time ran out */
		j->lang = -1;
	}
	return rc == JOURNEY_SPENT ? STORE_NOTFOUND : rc;
}

/* After an unclean start the volatile store was discarded, spent markers and claims with it: a
 * token sealed before that start may already have yielded its code, so it is refused. The floor
 * is in seconds: a token of the start's own second is accepted only when this run sealed it (the
 * crashed run may have sealed and spent one in that second too). */
static int sealed_before_floor(hub *h, const journey *j)
{
	int64_t floor = store_unclean_floor(h->st);
	if (!floor || j->created > floor)
		return 0;
	return j->created < floor || !journey_token_eq(j->run, h->run_id);
}

int journey_load(hub *h, arena *a, const char *token, journey *j)
{
	memset(j, 0, sizeof *j);
	if (!token || !*token || strlen(token) > TOKEN_MAX)
		return STORE_NOTFOUND;
	if (strlen(token) == 43) /* a stored journey's key (a sealed token is much longer) */
		return journey_load_key(h, a, token, j);
	char key[44];
	key_of(token, key);
	/* a stored record (IdP picked) or a spent marker wins over the token itself */
	int rc = load_stored(h, a, key, j);
	if (rc == JOURNEY_SPENT)
		return STORE_NOTFOUND;
	if (rc == 0)
		log_set_journey(key);
	if (rc != STORE_NOTFOUND)
		return rc;
	memset(j, 0, sizeof *j);
	size_t len;
	char *plain = unseal(h, a, token, &len);
	if (!plain)
		return STORE_NOTFOUND;
	j->token = arena_strdup(a, token);
	memcpy(j->key, key, 44);
	rc = from_json(a, plain, len, j);
	if (rc == 0 && (journey_ttl_left(h, j) <= 0 || sealed_before_floor(h, j))) {
		/* expired: the seal carries its creation time */
		j->gone = JOURNEY_GONE_EXPIRED;
		return STORE_NOTFOUND;
	}
	if (rc == 0)
		log_set_journey(j->key);
	return rc;
}
