/* complete.h — the end of a journey: a verified identity becomes a pairwise subject and a
 * single-use authorization code for the service. */
#ifndef IDHUB_COMPLETE_H
#define IDHUB_COMPLETE_H
#include "journey.h"

void journey_complete(hub *h, http_req *r, http_resp *resp, const journey *j, const hub_idp *idp,
                      const idhub_identity *id);

#endif
