/* audit_tree.h — the Merkle tree over the audit log (RFC 9162 shape, merkle.h), its signed tree
 * heads, verification, inclusion proofs and retention.
 *
 * Kept in NS_META beside the records (NS_AUDIT, key = 8-byte sequence number):
 *   audit.tree   {size, frontier} the frontier at the last head: a head extends it by the records
 *                appended since, O(log n) hashing per record;
 *   audit.lh.<chunk>  the leaf hashes the heads covered, 1024 per value: verify checks them against
 *                the signed root, then each record against them, to name the first bad one;
 *   audit.base   {size, frontier} of the records purged by retention (absent: none purged);
 *   audit.head   the latest signed tree head, a compact JWS (typ "audit-sth") by the hub's signing
 *                key over {iss, tree_size, root_hash (hex), timestamp (ms)}.
 */
#ifndef IDHUB_AUDIT_TREE_H
#define IDHUB_AUDIT_TREE_H
#include "../store/store.h"
#include "../tokens/jws.h"
#include "merkle.h"
#include <jansson.h>

typedef struct audit_head {
	uint64_t size;
	merkle_hash root;
	int64_t timestamp_ms;
	char kid[64];
} audit_head;

/* The key that signs heads (the hub's current signing key). */
typedef struct audit_signer {
	EVP_PKEY *pkey;
	jws_alg alg;
	const char *kid;
} audit_signer;

/* Finds a published key by kid for checking a head: its EVP key and algorithm, or NULL. */
typedef EVP_PKEY *(*audit_key_fn)(void *arg, const char *kid, jws_alg *alg);

/* Extends the tree by the records appended since the last head and stores a new signed head.
 * 0, or -1 with a malloc'd *err. */
int audit_tree_head(store *s, const audit_signer *k, const char *iss, char **err);
/* The latest signed head (malloc'd compact JWS), or NULL when none was made. */
char *audit_head_jws(store *s);
/* Checks a head's signature with the published key its kid names and reads it. 0, or -1 with
 * *err. */
int audit_head_check(const char *jws, audit_key_fn find, void *arg, audit_head *out, char **err);

/* The first bad record verify found. */
typedef struct audit_problem {
	uint64_t index;
	char why[256];
} audit_problem;
/* Checks the whole log against head: 0 when it matches (records past the head are only checked
 * to be dense), 1 when not (p names the first bad record), -1 on error (*err). */
int audit_verify(store *s, const audit_head *head, audit_problem *p, char **err);
/* An inclusion proof of record m against head (JSON: leaf_index, tree_size, leaf_hash,
 * audit_path, root_hash), or NULL with *err. */
json_t *audit_prove(store *s, const audit_head *head, uint64_t m, char **err);
/* Purges the records older than days (at most max per call) that a head already covers, keeping
 * the newest record; the frontier of the purged prefix is kept (audit.base), so verify and proofs
 * of the later records go on. Returns the number purged, or -1. */
long audit_retain(store *s, int64_t days, int64_t now, long max);
/* Calls fn with each record and its sequence number, oldest first; fn returning non-zero stops. */
int audit_each_seq(store *s, int (*fn)(void *arg, uint64_t seq, const json_t *rec), void *arg);

#endif
