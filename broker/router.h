/* router.h — the daemon's HTTP surface: maps each request to its handler (router.c). At the top of
 * the tree: it includes every part that answers requests, and no part includes it but main.c. */
#ifndef IDHUB_ROUTER_H
#define IDHUB_ROUTER_H
#include "hub/hub.h"
#include "http/http.h"

/* Dispatches one request (see router.c for the table). */
void hub_route(hub *h, http_req *r, http_resp *resp);
/* Whether r's handler may wait on an upstream IdP (its adapter has IDHUB_ADAPTER_NETWORK):
 * the picker's POST, the callback and the adapter's own pages (/idp/<id>/...) of such an IdP. Such
 * a request also takes a place in the IdP's concurrency gate (idp.max_concurrent), which hub_route
 * gives back; when the IdP has none left, this returns 0 and hub_route answers 503 at once
 * (r->route_note carries the outcome). Sign-outs (/logout, /session/end), which may call an
 * adapter's logout hook, also run on the pool, without a gate place. */
int hub_route_blocks(hub *h, http_req *r);

#endif
