/* lifecycle.h — moving signing keys through next -> current -> retired -> removed, so that rotation
 * never makes a relying party fail a signature check:
 *
 *   - a key signs only after it has been published in the JWKS for at least one JWKS cache
 *     lifetime (the max-age the hub sends), so every RP that honours Cache-Control has it;
 *   - a retired key stays published until every token it signed has expired;
 *   - an emergency revocation removes a key at once, knowingly breaking tokens it signed.
 *
 * Every change is one store transaction with the key generation bump, so running daemons pick it
 * up within a second, and concurrent operators cannot interleave half a rotation. */
#ifndef IDHUB_KEYS_LIFECYCLE_H
#define IDHUB_KEYS_LIFECYCLE_H
#include "keys.h"
#include <jansson.h>

typedef struct keys_policy {
	int64_t jwks_max_age;   /* hub.jwks_max_age: how long RPs may cache the JWKS */
	int64_t token_lifetime; /* the longest a signed token stays valid, clock leeway included */
} keys_policy;

#define KEYS_REPORT_MAX 16

/* What a lifecycle command did, for the operator (and the audit log). When audit_who is set, the
 * command's change commits together with its audit record {who, what, target, after: the report}
 * (the caller sets the audit_ fields; the command keeps them and fills in the rest). A report must
 * start zeroed ({0}) or with only the audit_ fields set. */
typedef struct keys_report {
	const char *audit_who, *audit_what, *audit_target;
	int n;
	struct {
		char kid[48];
		char alg[8];
		char from[8], to[8]; /* state names; "" for created / removed */
	} change[KEYS_REPORT_MAX];
	int nnotes;
	char note[KEYS_REPORT_MAX][200];
} keys_report;

/* For each algorithm with a current key: promotes the oldest next key that has been published for
 * jwks_max_age (the current one retires) and publishes a fresh next key for the following
 * rotation; with no eligible next key, publishes one (or says when it becomes eligible) and
 * changes nothing else. Safe to run from cron. */
int keys_rotate(store *s, const keys_policy *p, keys_report *r);
/* A next key, or a current key when another key of its algorithm can take over, becomes retired
 * (still published). Refuses (STORE_ERR with a note) to leave an algorithm without a signer. */
int keys_retire(store *s, const char *kid, keys_report *r);
/* Removes retired keys whose tokens have all expired (retired for longer than token_lifetime). */
int keys_purge(store *s, const keys_policy *p, keys_report *r);
/* Emergency: stops using and publishing kid at once. If it was the current key, the newest next
 * key of that algorithm (or a newly generated one) signs from now on. */
int keys_revoke_now(store *s, const char *kid, keys_report *r);
/* Publishes a next key for every algorithm that has a current key but no next one. */
int keys_prepare_next(store *s, keys_report *r);
/* Publishes a new next key of alg (idhubctl keys generate). */
int keys_generate_next(store *s, jws_alg alg, keys_report *r);
/* The report as JSON {changes: [{kid, alg, from, to}], notes: [...]} (new reference). */
json_t *keys_report_json(const keys_report *r);

#endif
