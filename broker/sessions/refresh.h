/* refresh.h — refresh-token families (RFC 6749 §6, RFC 9700 §4.14), kept in NS_REFRESH (durable:
 * an offline refresh token must survive a crash of the hub).
 *
 * A refresh token is 32 random bytes, base64url; the store holds only SHA-256 of it:
 *   "t:" hash -> {"fam": F, "used": bool}      one per token, each used once (rotation)
 *   "f:" F    -> the family's grant             what every token of the family may obtain
 *   "x:" sid  -> ""                             the hub session with that sid has ended
 * Presenting a used token is reuse: a leaked copy, or an attacker racing the service. The family
 * record is deleted, which revokes every token of the family at once (RFC 9700 §4.14.2).
 * A family is bound to the client that got it; another client presenting it learns nothing and
 * changes nothing. Its lifetime is the hub session's absolute end, unless offline_access was
 * granted (then hub.offline_ttl from its last use, and it does not carry the session's sid, so a
 * logout leaves it alone: that is what offline access means, OIDC Core §11). The level, sub and
 * auth_time are fixed at the family's start: a refresh never raises the level. */
#ifndef IDHUB_SESSIONS_REFRESH_H
#define IDHUB_SESSIONS_REFRESH_H
#include "../hub/hub.h"
#include <jansson.h>

enum { REFRESH_INVALID = -10, REFRESH_REUSED = -11 };

typedef struct refresh_grant {
	const char *client_id, *sub, *sid, *scope, *idp; /* sid NULL for offline */
	int loa;
	int64_t auth_time, expires; /* expires: the family's end (UNIX time) */
	int offline;
	json_t *claims, *id_claims; /* released claims (borrowed when issuing; owned when read) */
} refresh_grant;

/* Starts a family for g and writes its first token into token[44]. 0 or a STORE_ error. */
int refresh_issue(hub *h, const refresh_grant *g, char token[44]);
/* Rotates token for client_id: on success fills g (strings on a, claims owned: release with
 * refresh_grant_release) and writes the next token into next[44]. REFRESH_INVALID for an unknown,
 * foreign, expired or revoked token, REFRESH_REUSED when the token was used already (its family
 * is revoked), or STORE_ERR. */
int refresh_rotate(hub *h, arena *a, const char *client_id, const char *token, refresh_grant *g,
                   char next[44]);
/* The live grant of token when it belongs to client_id (no write). 0 or REFRESH_INVALID. */
int refresh_peek(hub *h, arena *a, const char *client_id, const char *token, refresh_grant *g);
/* Revokes the family of token when it belongs to client_id. 0 or REFRESH_INVALID. */
int refresh_revoke(hub *h, arena *a, const char *client_id, const char *token);
/* Revokes every online family of the session with this sid (logout). 0 or STORE_ERR. */
int refresh_revoke_sid(hub *h, const char *sid);
void refresh_grant_release(refresh_grant *g);

#endif
