/* endpoint.h — the common front of the form-POST endpoints where a service authenticates
 * (revocation RFC 7009 §2.1, introspection RFC 7662 §2.1): POST only, a form body, no repeated
 * parameter, client authentication as at /token. */
#ifndef IDHUB_OIDC_ENDPOINT_H
#define IDHUB_OIDC_ENDPOINT_H
#include "provider.h"
#include "../http/http.h"

/* The authenticated client, or NULL when the request was answered with an error. single lists
 * the parameters that may appear at most once (NULL-terminated). */
const hub_client *oidc_client_post(hub *h, http_req *r, http_resp *resp, const char *const *single);

#endif
