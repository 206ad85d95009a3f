/* audit_heads.h — the hub's signing keys applied to the audit log's tree heads (audit_tree.h):
 * which key signs a head, which published key checks one, and the daemon's thread that signs a
 * head every hub.audit_tree_head_interval seconds and applies hub.audit_retention_days. */
#ifndef IDHUB_KEYS_AUDIT_HEADS_H
#define IDHUB_KEYS_AUDIT_HEADS_H
#include "../audit/audit_tree.h"
#include "keys.h"

/* The key that signs heads: the current ES256 key, else any current key. 0, or -1 when none. */
int audit_signer_pick(const keyring *kr, audit_signer *out);
/* An audit_key_fn over a keyring (arg): any published key (next, current, retired). */
EVP_PKEY *audit_key_find(void *kr, const char *kid, jws_alg *alg);
/* Signs a head now with the current key; 0 or -1 (with *err). */
int audit_heads_sign(store *s, const keyring *kr, const char *iss, char **err);

typedef struct audit_heads audit_heads;
/* Starts the daemon's thread: a head at once, then every interval_s seconds, each followed by a
 * retention round when retention_days > 0; every second it commits the due batch of token
 * issuance records (audit_token), and all of them when stopped. NULL on error. */
audit_heads *audit_heads_start(store *s, keys_cache *kc, const char *iss, int64_t interval_s,
                               int64_t retention_days);
void audit_heads_stop(audit_heads *ah);

#endif
