/* audit.h — the append-only audit log in the store (NS_AUDIT, durable): every operator change and
 * every pairwise look-up or erasure is recorded with who, what, when, and before/after where safe
 * (never a secret or a private key), and every token issued. Keys are 8-byte big-endian sequence
 * numbers the store assigns inside the write transaction (store_append): dense and ordered, also
 * with the daemon and idhubctl writing at once. audit_tree.h keeps the Merkle tree over them. */
#ifndef IDHUB_AUDIT_H
#define IDHUB_AUDIT_H
#include "../store/store.h"
#include <jansson.h>

/* The person acting: "user" or "user (via sudo by alice)", from the process's uid and SUDO_USER. */
const char *audit_actor(char *buf, size_t len);
/* Appends a record {at, who, what, target, before, after}; before/after may be NULL (borrowed).
 * Returns 0 or a STORE_ code. For a record of something that changes nothing (a look-up, a
 * backup); a change commits with its record through audit_batch_put or audit_attach. */
int audit_append(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after);
/* Adds the record to a durable batch: it commits with the batch's change, or not at all. */
int audit_batch_put(store_batch *b, const char *who, const char *what, const char *target,
                    const json_t *before, const json_t *after);
/* The record rides with this thread's next durable write on s (store_attach): for a change made
 * by a function that writes on its own. store_attach_drop(s) afterwards tells whether it was
 * written (0) or the change did not commit (1). */
int audit_attach(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after);
/* Records a token issuance: service, pairwise sub, IdP, level, the upstream assertion ID (NULL
 * when unknown) and the access token's jti; never the upstream subject or attributes. Batched:
 * the records of up to a second (or 256) commit together in one synced transaction, when the
 * next issuance or audit_flush finds the batch due. 0 once queued. */
int audit_token(store *s, const char *service, const char *sub, const char *idp, int loa,
                const char *assertion, const char *jti);
/* Commits the queued issuance records of s if they are due (or at once with force). The daemon
 * calls it every second and at shutdown. 0 or a STORE_ code. */
int audit_flush(store *s, int force);
/* Renumbers the records of a store written before sequence numbers (time-ordered 16-byte keys),
 * in their order, in one transaction; no head covered them yet. Returns how many, or -1. */
long audit_migrate(store *s);
/* Calls fn with each record (parsed JSON, borrowed) from oldest to newest; stops when fn returns
 * non-zero. */
int audit_each(store *s, int (*fn)(void *arg, const json_t *rec), void *arg);

#endif
