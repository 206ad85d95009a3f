/* audit.h — the append-only audit log in the store (NS_AUDIT, durable): every operator change and
 * every pairwise look-up or erasure is recorded with who, what, when, and before/after where safe
 * (never a secret or a private key). Keys are 8-byte big-endian microseconds plus 8 random bytes,
 * so records list in time order. */
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
/* Calls fn with each record (parsed JSON, borrowed) from oldest to newest; stops when fn returns
 * non-zero. */
int audit_each(store *s, int (*fn)(void *arg, const json_t *rec), void *arg);

#endif
