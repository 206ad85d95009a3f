/* introspect.h — the introspection endpoint (RFC 7662) for resource servers: registered services
 * with introspection = true. */
#ifndef IDHUB_OIDC_INTROSPECT_H
#define IDHUB_OIDC_INTROSPECT_H
#include "../hub/hub.h"
#include "../http/http.h"

/* POST /introspect */
void oidc_introspect(hub *h, http_req *r, http_resp *resp);

#endif
