/* keys.h — the hub's signing keys: generation, storage in the store (NS_KEYS), lifecycle state, and
 * an in-memory keyring the daemon refreshes when idhubctl changes the store (no restart, no
 * signal).
 *
 * Lifecycle: next (published in JWKS, not signing) -> current (signing) -> retired (published, not
 * signing) -> removed. One current key per algorithm. Record (JSON): {kid, alg, state, created,
 * activates, retires, pem}. pem is the PKCS#8 private key; the store's files are 0600 in a 0700
 * dir.
 */
#ifndef IDHUB_KEYS_H
#define IDHUB_KEYS_H
#include "../store/store.h"
#include "../tokens/jws.h"
#include <openssl/evp.h>
#include <stdint.h>

typedef enum { KEY_NEXT = 0, KEY_CURRENT, KEY_RETIRED } key_state;

typedef struct signing_key {
	char kid[48]; /* RFC 7638 thumbprint, base64url */
	jws_alg alg;
	key_state state;
	int64_t created, activates, retires;
	EVP_PKEY *pkey;
} signing_key;

/* Generates a fresh key pair for alg (P-256, RSA-3072, Ed25519). Returns NULL on error. */
EVP_PKEY *keys_new_pkey(jws_alg alg);
/* A new key's stored record (JSON with the private key; free with keys_free_record, which wipes
 * it), for writers that add it to a batch of their own. NULL on error. */
char *keys_new_record(jws_alg alg, key_state state, int64_t now, char kid_out[48]);
void keys_free_record(char *rec);
/* Generates a key and stores it in the given state. kid_out (48 bytes) receives its kid if
 * non-NULL. */
int keys_generate(store *s, jws_alg alg, key_state state, char *kid_out);
/* Makes sure a current key exists for alg, generating one if the store has none (first start).
 * Returns 0 or a negative error. */
int keys_ensure_current(store *s, jws_alg alg);
const char *key_state_name(key_state st);

/* An immutable snapshot of all keys in the store; shared by threads through reference counting. */
typedef struct keyring {
	signing_key *keys;
	size_t nkeys;
	char *jwks_json; /* the published JWKS (next, current, retired), compact JSON */
	uint64_t generation;
	int refs; /* atomic */
} keyring;

/* Reads every key from the store. Returns NULL on error (with a message in err if given). */
keyring *keyring_load(store *s, char **err);
/* The current key for alg, or NULL. */
const signing_key *keyring_current(const keyring *kr, jws_alg alg);
/* Any published key by kid, or NULL. */
const signing_key *keyring_find(const keyring *kr, const char *kid);
void keyring_ref(keyring *kr);
void keyring_unref(keyring *kr);

/* The daemon's view: keys_cache_get returns a referenced snapshot (unref when done), reloading it
 * from the store when another process bumped the key generation; checked at most once a second. */
typedef struct keys_cache keys_cache;
keys_cache *keys_cache_new(store *s, char **err);
keyring *keys_cache_get(keys_cache *c);
void keys_cache_free(keys_cache *c);

/* The generation counter idhubctl bumps (in NS_META, key "keys.generation") after any key change.
 */
uint64_t keys_generation(store *s);
int keys_bump_generation(store *s);
/* Adds to batch b the move of the generation from g (read before) to g + 1; the batch then fails
 * with STORE_EXISTS if another writer moved it first (re-read and retry). */
void keys_batch_bump(store_batch *b, uint64_t g);

#endif
