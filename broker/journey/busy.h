/* busy.h — the page for a new journey refused because the hub's short-lived store is at its
 * high-water mark (store_batch_budgeted): 503, "busy, try again in a minute". */
#ifndef IDHUB_BUSY_H
#define IDHUB_BUSY_H
#include "journey.h"

/* 503 with Retry-After: 60. The page offers "try again" (back to the picker) and "return to the
 * service", a link to the journey's redirect_uri (validated at /authorize and sealed since) with
 * the OAuth error temporarily_unavailable, its state and the issuer. */
void journey_busy_page(hub *h, http_req *r, http_resp *resp, const journey *j);

#endif
