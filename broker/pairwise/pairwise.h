/* pairwise.h — pairwise pseudonymous subjects (one per service sector), derived with a keyed hash
 * and recorded in the store so a sub survives a change of derivation key.
 *
 * lookup key = HMAC-SHA256(index key, sector \0 idp \0 upstream subject): the record's key, so the
 * raw upstream subject is never stored. sub = base64url(HMAC-SHA256(derivation key, same input)),
 * computed on first sight and then read back. Both secrets are made once in NS_SECRETS and never
 * silently regenerated: if pairwise records exist but the secrets are gone, the hub refuses to
 * start.
 */
#ifndef IDHUB_PAIRWISE_H
#define IDHUB_PAIRWISE_H
#include "../store/store.h"
#include <stdint.h>

typedef struct pairwise_ctx {
	unsigned char index_key[32];
	unsigned char derive_key[32];
} pairwise_ctx;

/* Loads the secrets, creating them on a first start. Returns 0, or -1 with a message in *err. */
int pairwise_init(pairwise_ctx *pw, store *s, char **err);

typedef struct pairwise_record {
	char sub[44];
	char idp[40];
	int64_t first_seen, last_seen;
	int gen; /* erasures so far: each one derives a new, unlinkable sub */
} pairwise_record;

/* The pairwise sub (43 chars + NUL) for (sector, idp, subject), recording it on first sight and
 * refreshing last_seen at most once a day (a durable write costs an fsync). Returns 0 or a STORE_
 * error. */
int pairwise_sub(const pairwise_ctx *pw, store *s, const char *sector, const char *idp,
                 const char *subject, int64_t now, char out[44]);
/* Operator look-up by (sector, sub). Returns 0 and fills rec, or STORE_NOTFOUND. */
int pairwise_lookup(store *s, const char *sector, const char *sub, pairwise_record *rec);
/* A citizen's erasure request: the sub and its record are deleted, and a tombstone (the keyed
 * hash only, no sub, no subject) makes the citizen's next login in this sector derive a new sub
 * that cannot be linked to the erased one. Returns 0 or STORE_NOTFOUND. */
int pairwise_forget(store *s, const char *sector, const char *sub, int64_t now);

#endif
