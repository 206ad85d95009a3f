/* discovery.h — OpenID Provider metadata (/.well-known/openid-configuration) and the JWKS (/jwks).
 */
#ifndef IDHUB_DISCOVERY_H
#define IDHUB_DISCOVERY_H
#include "../hub/hub.h"
#include "../http/http.h"

/* Builds the metadata document from the config (malloc'd JSON; free()). */
char *oidc_discovery_json(const hub *h);
void oidc_discovery(hub *h, http_req *r, http_resp *resp);
void oidc_jwks(hub *h, http_req *r, http_resp *resp);

#endif
