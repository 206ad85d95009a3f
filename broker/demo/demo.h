/* demo.h — the built-in demo service at /demo (sandbox mode only): a relying party of the hub that
 * signs a citizen in with the service "demo" from the config and shows the verified claims. */
#ifndef IDHUB_DEMO_H
#define IDHUB_DEMO_H
#include "../hub/hub.h"
#include "../http/http.h"

void demo_route(hub *h, http_req *r, http_resp *resp);

#endif
