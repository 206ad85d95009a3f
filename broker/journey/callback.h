/* callback.h — /callback/<idp>, the return from an upstream IdP: the journey's half (the oidc
 * handler, oidc/complete.h, acts on the outcome). */
#ifndef IDHUB_CALLBACK_H
#define IDHUB_CALLBACK_H
#include "outcome.h"
#include "../hub/hub.h"
#include "../http/http.h"

/* The request as adapters see it: parameters (query then body), headers. */
void journey_adapter_request(http_req *r, idhub_http_request *out);
/* Finds the journey, has the adapter verify the IdP's answer and checks it (subject, max_age,
 * prompt=login, level). Returns 1 with *out (the journey, the identity, its pairwise sub and
 * level) for the caller to sign in; 0 when it answered resp itself (an error or refusal page, a
 * re-post). */
int journey_callback(hub *h, http_req *r, http_resp *resp, const char *idp_id,
                     journey_outcome *out);

#endif
