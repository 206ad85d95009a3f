/* sessions_int.h — shared inside broker/sessions/ only: the vault (vault.c). */
#ifndef IDHUB_SESSIONS_INT_H
#define IDHUB_SESSIONS_INT_H
#include "session.h"

/* Seals id's subject and attributes for the session with store key `key` and cookie value
 * `cookie` (base64url, arena). NULL on error. */
const char *vault_seal(const hub *h, arena *a, const char *cookie, const char *key,
                       const idhub_identity *id);
/* Opens a vault into id (subject and attributes on a). 0, or -1 when it does not open. */
int vault_open(const hub *h, arena *a, const char *cookie, const char *key, const char *vault,
               idhub_identity *id);

/* Atomically reads and deletes the session under key (whatever its lifetimes say), so that the
 * services it holds are exactly those its end must sign out. 0 or a STORE_ error. */
int session_take(hub *h, arena *a, const char *key, session *s);

#endif
