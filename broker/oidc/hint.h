/* hint.h — reading an ID token the hub issued earlier, as a service sends it back in id_token_hint
 * (authorize, OIDC Core §3.1.2.1) and at end_session (RP-Initiated Logout 1.0 §2). */
#ifndef IDHUB_OIDC_HINT_H
#define IDHUB_OIDC_HINT_H
#include "../hub/hub.h"

typedef struct id_hint {
	const char *sub, *sid; /* sid may be NULL */
	const char **aud;      /* the audiences, NULL-terminated */
} id_hint;

/* Parses tok and checks that the hub signed it (a published key, the key's own algorithm, typ JWT)
 * and that iss is the hub. Expiry is NOT checked: a hint is usually an expired ID token (OIDC Core
 * §3.1.2.1). Returns 0 and fills out (arena), -1 when malformed, -2 when not the hub's ID token. */
int oidc_id_hint(hub *h, arena *a, const char *tok, id_hint *out);
/* Whether client_id is one of hint's audiences. */
int oidc_id_hint_for(const id_hint *hint, const char *client_id);

#endif
