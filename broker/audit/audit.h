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
 * Returns 0 or a STORE_ code. */
int audit_append(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after);
/* Calls fn with each record (parsed JSON, borrowed) from oldest to newest; stops when fn returns
 * non-zero. */
int audit_each(store *s, int (*fn)(void *arg, const json_t *rec), void *arg);

#endif
