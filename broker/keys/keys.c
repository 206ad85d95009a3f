/* keys.c — owns the hub's signing keys: generation, the NS_KEYS records, the key generation counter
 * (NS_META "keys.generation"), reference-counted keyrings, and the daemon's self-refreshing cache.
 *
 * Every key change writes the record, the new counter value and a claim NS_META
 * "keys.gen.<value>" (put_new) in one batch. The claim makes the counter a compare-and-swap: two
 * writers that read the same value cannot both commit, so no bump is lost (a daemon that loaded
 * between them would otherwise miss the second), and keys_ensure_current cannot create two current
 * keys for one algorithm (the check and the write are tied to the counter value read first). */
#include "keys.h"
#include "../audit/audit.h"
#include "../tokens/jwk.h"
#include "../util/log.h"
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_KEY "keys.generation"
#define CLAIM_TTL (7 * 24 * 3600) /* far longer than any writer holds a counter value it read */
#define MAX_RETRIES 64
#define RSA_BITS 3072

static const char *const state_names[] = {
    [KEY_NEXT] = "next",
    [KEY_CURRENT] = "current",
    [KEY_RETIRED] = "retired",
};

const char *key_state_name(key_state st)
{
	if ((int)st < 0 || st > KEY_RETIRED)
		return NULL;
	return state_names[st];
}

static int key_state_from_name(const char *name, key_state *out)
{
	for (int i = 0; i <= KEY_RETIRED; i++) {
		if (name && strcmp(name, state_names[i]) == 0) {
			*out = (key_state)i;
			return 0;
		}
	}
	return -1;
}

EVP_PKEY *keys_new_pkey(jws_alg alg)
{
	EVP_PKEY *k = NULL;
	switch (alg) {
	case JWS_ES256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case JWS_RS256:
	case JWS_PS256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS);
		break;
	case JWS_EDDSA:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		break;
	}
	if (!k)
		ERR_clear_error();
	return k;
}

/* ---- the generation counter ---- */

uint64_t keys_generation(store *s)
{
	void *val = NULL;
	size_t vlen = 0;
	uint64_t g = 0;
	if (store_get(s, NS_META, GEN_KEY, strlen(GEN_KEY), &val, &vlen, NULL) != STORE_OK)
		return 0;
	if (vlen == 8) {
		const unsigned char *p = val;
		for (int i = 7; i >= 0; i--)
			g = g << 8 | p[i];
	}
	free(val);
	return g;
}

/* Adds to b the counter's move from g to g + 1 and the claim that makes it exclusive. */
void keys_batch_bump(store_batch *b, uint64_t g)
{
	unsigned char le[8];
	uint64_t v = g + 1;
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(v >> (8 * i));
	char claim[48];
	int n = snprintf(claim, sizeof(claim), "keys.gen.%llu", (unsigned long long)v);
	store_batch_put_new(b, NS_META, claim, (size_t)n, "", 0, CLAIM_TTL);
	store_batch_put(b, NS_META, GEN_KEY, strlen(GEN_KEY), le, sizeof(le), 0);
}

/* Commits record (if any) under kid together with a bump from generation g. */
static int commit_with_bump(store *s, uint64_t g, const char *kid, const char *record)
{
	store_batch *b = store_batch_new();
	if (!b)
		return STORE_ERR;
	if (kid)
		store_batch_put(b, NS_KEYS, kid, strlen(kid), record, strlen(record), 0);
	keys_batch_bump(b, g);
	int rc = store_batch_commit(s, b);
	/* a durable commit is synced on its own; a flush that fails now means the disk refuses */
	if (rc == STORE_OK && store_sync(s))
		rc = STORE_ERR;
	return rc;
}

int keys_bump_generation(store *s)
{
	for (int i = 0; i < MAX_RETRIES; i++) {
		int rc = commit_with_bump(s, keys_generation(s), NULL, NULL);
		if (rc != STORE_EXISTS)
			return rc;
	}
	return STORE_ERR;
}

/* ---- records ---- */

/* The JSON record of a key (malloc'd, holds the private key: cleanse before freeing), or NULL. */
static char *make_record(EVP_PKEY *pkey, const char *kid, jws_alg alg, key_state state, int64_t now)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *out = NULL, *pem = NULL;
	json_t *rec = NULL;
	if (!bio || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto done;
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);
	if (len <= 0 || !(pem = OPENSSL_secure_malloc((size_t)len + 1)))
		goto done;
	memcpy(pem, data, (size_t)len);
	pem[len] = 0;
	rec = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "kid", kid, "alg", jws_alg_name(alg),
	                "state", key_state_name(state), "created", (json_int_t)now, "activates",
	                (json_int_t)(state == KEY_CURRENT ? now : 0), "retires",
	                (json_int_t)(state == KEY_RETIRED ? now : 0), "pem", pem);
	if (rec)
		out = json_dumps(rec, JSON_COMPACT);
done:
	if (rec) {
		/* jansson keeps its own copy of the PEM: wipe it before releasing */
		json_t *p = json_object_get(rec, "pem");
		const char *v = json_string_value(p);
		if (v)
			OPENSSL_cleanse((char *)v, json_string_length(p));
		json_decref(rec);
	}
	OPENSSL_secure_clear_free(pem, pem ? strlen(pem) + 1 : 0);
	BIO_free(bio);
	if (!out)
		ERR_clear_error();
	return out;
}

static void free_secret(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

char *keys_new_record(jws_alg alg, key_state state, int64_t now, char kid_out[48])
{
	EVP_PKEY *pkey = keys_new_pkey(alg);
	char *rec = NULL;
	if (pkey && jwk_thumbprint(pkey, kid_out) == 0)
		rec = make_record(pkey, kid_out, alg, state, now);
	EVP_PKEY_free(pkey);
	return rec;
}

void keys_free_record(char *rec)
{
	free_secret(rec);
}

/* Writes a new key for alg in state, tied to counter value g; STORE_EXISTS if g is stale. */
static int store_key(store *s, EVP_PKEY *pkey, jws_alg alg, key_state state, uint64_t g,
                     char kid[44])
{
	if (jwk_thumbprint(pkey, kid) != 0)
		return STORE_ERR;
	char *rec = make_record(pkey, kid, alg, state, store_now(s));
	if (!rec)
		return STORE_ERR;
	int rc = commit_with_bump(s, g, kid, rec);
	free_secret(rec);
	return rc;
}

int keys_generate(store *s, jws_alg alg, key_state state, char *kid_out)
{
	if (!s || !jws_alg_name(alg) || !key_state_name(state))
		return STORE_ERR;
	EVP_PKEY *pkey = keys_new_pkey(alg);
	if (!pkey)
		return STORE_ERR;
	char kid[44];
	int rc = STORE_EXISTS;
	for (int i = 0; i < MAX_RETRIES && rc == STORE_EXISTS; i++)
		rc = store_key(s, pkey, alg, state, keys_generation(s), kid);
	EVP_PKEY_free(pkey);
	if (rc == STORE_EXISTS)
		rc = STORE_ERR;
	if (rc == STORE_OK && kid_out)
		memcpy(kid_out, kid, sizeof(kid));
	if (rc == STORE_OK)
		log_info("keys: generated %s key %s (%s)", jws_alg_name(alg), kid,
		         key_state_name(state));
	return rc;
}

/* ---- reading ---- */

struct raw_list {
	char **recs;
	size_t n, cap;
	int failed;
};

static int collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                   int64_t expires)
{
	(void)key;
	(void)klen;
	(void)expires;
	struct raw_list *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **r = realloc(l->recs, cap * sizeof(*r));
		if (!r) {
			l->failed = 1;
			return 1;
		}
		l->recs = r;
		l->cap = cap;
	}
	char *copy = malloc(vlen + 1);
	if (!copy) {
		l->failed = 1;
		return 1;
	}
	memcpy(copy, val, vlen);
	copy[vlen] = 0;
	l->recs[l->n++] = copy;
	return 0;
}

static void raw_list_free(struct raw_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free_secret(l->recs[i]);
	free(l->recs);
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0; /* never prompt: an encrypted PEM is simply refused */
}

/* Parses one record into k. Returns 0, or -1 with a reason in why. */
static int parse_record(const char *text, signing_key *k, const char **why)
{
	json_error_t jerr;
	json_t *rec = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	const char *kid = NULL, *alg = NULL, *state = NULL, *pem = NULL;
	json_int_t created = 0, activates = 0, retires = 0;
	int rc = -1;
	memset(k, 0, sizeof(*k));
	if (!rec || json_unpack(rec, "{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "kid", &kid, "alg",
	                        &alg, "state", &state, "created", &created, "activates", &activates,
	                        "retires", &retires, "pem", &pem) != 0) {
		*why = "malformed record";
		goto out;
	}
	if (strlen(kid) == 0 || strlen(kid) >= sizeof(k->kid)) {
		*why = "bad kid";
		goto out;
	}
	k->alg = jws_alg_from_name(alg);
	if (k->alg == JWS_ALG_NONE || key_state_from_name(state, &k->state) != 0) {
		*why = "unknown alg or state";
		goto out;
	}
	BIO *bio = BIO_new_mem_buf(pem, -1);
	k->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	BIO_free(bio);
	if (!k->pkey || !jws_alg_fits_key(k->alg, k->pkey)) {
		*why = "private key unreadable or unfit for its alg";
		EVP_PKEY_free(k->pkey);
		k->pkey = NULL;
		goto out;
	}
	memcpy(k->kid, kid, strlen(kid) + 1);
	k->created = created;
	k->activates = activates;
	k->retires = retires;
	rc = 0;
out:
	if (rec) {
		json_t *p = json_object_get(rec, "pem");
		if (json_is_string(p))
			OPENSSL_cleanse((char *)json_string_value(p), json_string_length(p));
		json_decref(rec);
	}
	if (rc)
		ERR_clear_error();
	return rc;
}

/* current first, then next, then retired; within a state the newest first. */
static int key_order(const void *pa, const void *pb)
{
	const signing_key *a = pa, *b = pb;
	static const int rank[] = {[KEY_CURRENT] = 0, [KEY_NEXT] = 1, [KEY_RETIRED] = 2};
	if (a->state != b->state)
		return rank[a->state] - rank[b->state];
	if (a->activates != b->activates)
		return a->activates > b->activates ? -1 : 1;
	if (a->created != b->created)
		return a->created > b->created ? -1 : 1;
	return strcmp(a->kid, b->kid);
}

static void keyring_free(keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->nkeys; i++)
		EVP_PKEY_free(kr->keys[i].pkey);
	free(kr->keys);
	free(kr->jwks_json);
	free(kr);
}

static void set_err(char **err, const char *msg)
{
	if (err)
		*err = strdup(msg);
}

keyring *keyring_load(store *s, char **err)
{
	if (err)
		*err = NULL;
	if (!s) {
		set_err(err, "keys: no store");
		return NULL;
	}
	/* the counter first: the keys read next are at least as new as it says */
	uint64_t gen = keys_generation(s);
	struct raw_list raw = {0};
	int rc = store_iter(s, NS_KEYS, collect, &raw);
	keyring *kr = calloc(1, sizeof(*kr));
	json_t *jwks = NULL, *arr = NULL;
	if (rc < 0 || raw.failed || !kr) {
		set_err(err, "keys: cannot read the key records");
		goto fail;
	}
	kr->keys = calloc(raw.n ? raw.n : 1, sizeof(*kr->keys));
	if (!kr->keys) {
		set_err(err, "keys: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < raw.n; i++) {
		const char *why = NULL;
		if (parse_record(raw.recs[i], &kr->keys[kr->nkeys], &why) == 0)
			kr->nkeys++;
		else
			log_warn("keys: skipping a key record: %s", why);
	}
	qsort(kr->keys, kr->nkeys, sizeof(*kr->keys), key_order);

	jwks = json_object();
	arr = json_array();
	if (!jwks || !arr || json_object_set(jwks, "keys", arr) != 0) {
		set_err(err, "keys: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < kr->nkeys; i++) {
		json_t *jwk = jwk_public(kr->keys[i].pkey, kr->keys[i].kid, kr->keys[i].alg);
		if (!jwk || json_array_append_new(arr, jwk) != 0) {
			set_err(err, "keys: cannot export a public key");
			goto fail;
		}
	}
	kr->jwks_json = json_dumps(jwks, JSON_COMPACT);
	if (!kr->jwks_json) {
		set_err(err, "keys: out of memory");
		goto fail;
	}
	json_decref(arr);
	json_decref(jwks);
	raw_list_free(&raw);
	kr->generation = gen;
	kr->refs = 1;
	return kr;
fail:
	json_decref(arr);
	json_decref(jwks);
	raw_list_free(&raw);
	keyring_free(kr);
	return NULL;
}

const signing_key *keyring_current(const keyring *kr, jws_alg alg)
{
	if (!kr)
		return NULL;
	/* sorted: the first current key of alg is the most recently activated one */
	for (size_t i = 0; i < kr->nkeys; i++)
		if (kr->keys[i].state == KEY_CURRENT && kr->keys[i].alg == alg)
			return &kr->keys[i];
	return NULL;
}

const signing_key *keyring_find(const keyring *kr, const char *kid)
{
	if (!kr || !kid)
		return NULL;
	for (size_t i = 0; i < kr->nkeys; i++)
		if (strcmp(kr->keys[i].kid, kid) == 0)
			return &kr->keys[i];
	return NULL;
}

void keyring_ref(keyring *kr)
{
	if (kr)
		__atomic_add_fetch(&kr->refs, 1, __ATOMIC_RELAXED);
}

void keyring_unref(keyring *kr)
{
	if (kr && __atomic_sub_fetch(&kr->refs, 1, __ATOMIC_ACQ_REL) == 0)
		keyring_free(kr);
}

/* The audit record of a first current key, attached to the write that creates it. */
static int audit_first_key(store *s, EVP_PKEY *pkey, jws_alg alg)
{
	char kid[44];
	if (jwk_thumbprint(pkey, kid) != 0)
		return STORE_ERR;
	json_t *after = json_pack("{s:[{s:s, s:s, s:s, s:s}]}", "changes", "kid", kid, "alg",
	                          jws_alg_name(alg), "from", "", "to", "current");
	int rc =
	    audit_attach(s, "idhub (no current key: created one)", "keys.create", kid, NULL, after);
	json_decref(after);
	return rc;
}

int keys_ensure_current(store *s, jws_alg alg)
{
	if (!s || !jws_alg_name(alg))
		return STORE_ERR;
	EVP_PKEY *pkey = NULL;
	int rc = STORE_EXISTS;
	for (int i = 0; i < MAX_RETRIES && rc == STORE_EXISTS; i++) {
		uint64_t g = keys_generation(s);
		keyring *kr = keyring_load(s, NULL);
		if (!kr) {
			rc = STORE_ERR;
			break;
		}
		int have = keyring_current(kr, alg) != NULL;
		keyring_unref(kr);
		if (have) {
			rc = STORE_OK;
			break;
		}
		if (!pkey && !(pkey = keys_new_pkey(alg))) {
			rc = STORE_ERR;
			break;
		}
		/* fails with STORE_EXISTS if any key changed since g was read: look again */
		char kid[44];
		rc = audit_first_key(s, pkey, alg);
		if (rc == STORE_OK)
			rc = store_key(s, pkey, alg, KEY_CURRENT, g, kid);
		store_attach_drop(s); /* written with the key, or dropped with it */
		if (rc == STORE_OK)
			log_info("keys: created the first current %s key %s", jws_alg_name(alg),
			         kid);
	}
	EVP_PKEY_free(pkey);
	return rc == STORE_EXISTS ? STORE_ERR : rc;
}

/* ---- the daemon's cache ---- */

struct keys_cache {
	store *s;
	pthread_mutex_t mu;
	keyring *kr;
	int64_t checked_ms; /* CLOCK_MONOTONIC of the last generation check */
	uint64_t epoch;     /* the store's change counter at that check (0: no change feed) */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

keys_cache *keys_cache_new(store *s, char **err)
{
	keys_cache *c = calloc(1, sizeof(*c));
	if (!c) {
		set_err(err, "keys: out of memory");
		return NULL;
	}
	c->s = s;
	c->kr = keyring_load(s, err);
	if (!c->kr) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	c->checked_ms = mono_ms();
	return c;
}

keyring *keys_cache_get(keys_cache *c)
{
	if (!c)
		return NULL;
	pthread_mutex_lock(&c->mu);
	int64_t now = mono_ms();
	/* With a change feed (several nodes on PostgreSQL) the generation is read only after a
	 * change was notified, at most every 100 ms; without one (LMDB), once a second. The
	 * counter is read before the generation, so a change committed after it is seen next. */
	uint64_t ep = store_change_epoch(c->s);
	bool look = ep ? ep != c->epoch && now - c->checked_ms >= 100 : now - c->checked_ms >= 1000;
	if (look) {
		c->checked_ms = now;
		c->epoch = ep;
		if (keys_generation(c->s) != c->kr->generation) {
			char *err = NULL;
			keyring *kr = keyring_load(c->s, &err);
			if (kr) {
				keyring_unref(c->kr);
				c->kr = kr;
			} else {
				c->epoch = 0; /* look again */
				log_err("%s (keeping the previous keys)",
				        err ? err : "keys: reload failed");
				free(err);
			}
		}
	}
	keyring *kr = c->kr;
	keyring_ref(kr);
	pthread_mutex_unlock(&c->mu);
	return kr;
}

void keys_cache_free(keys_cache *c)
{
	if (!c)
		return;
	keyring_unref(c->kr);
	pthread_mutex_destroy(&c->mu);
	free(c);
}
