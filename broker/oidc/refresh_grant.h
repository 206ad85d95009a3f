/* refresh_grant.h — refresh tokens at the token endpoint (RFC 6749 §6, OIDC Core §12): a family is
 * started when a code is redeemed by a service configured for refresh tokens, and the
 * refresh_token grant rotates it (sessions/refresh.h). */
#ifndef IDHUB_OIDC_REFRESH_GRANT_H
#define IDHUB_OIDC_REFRESH_GRANT_H
#include "code.h"
#include "token.h"

/* After a code's redemption: *rt (arena) is the first refresh token of a new family, or NULL when
 * the service gets none. 0, or -1 when the family cannot be recorded. */
int oidc_refresh_start(hub *h, arena *a, const hub_client *c, const code_record *cr,
                       const char **rt);
/* grant_type=refresh_token for the authenticated client c; scope may be NULL (the grant's). */
int oidc_refresh_grant(hub *h, arena *a, const hub_client *c, const char *token, const char *scope,
                       token_result *out);

#endif
