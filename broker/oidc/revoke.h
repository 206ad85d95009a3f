/* revoke.h — the revocation endpoint (RFC 7009): a service revokes its own refresh tokens (the
 * whole family) and access tokens. */
#ifndef IDHUB_OIDC_REVOKE_H
#define IDHUB_OIDC_REVOKE_H
#include "../hub/hub.h"
#include "../http/http.h"

/* POST /revoke */
void oidc_revoke(hub *h, http_req *r, http_resp *resp);

#endif
