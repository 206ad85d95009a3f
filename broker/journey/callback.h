/* callback.h — /callback/<idp>, the return from an upstream IdP. */
#ifndef IDHUB_CALLBACK_H
#define IDHUB_CALLBACK_H
#include "../hub/hub.h"
#include "../http/http.h"

/* The request as adapters see it: parameters (query then body), headers. */
void journey_adapter_request(http_req *r, idhub_http_request *out);
void journey_callback(hub *h, http_req *r, http_resp *resp, const char *idp_id);

#endif
