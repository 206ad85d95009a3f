/* eligibility.h — which IdPs a journey may offer: the hub-level rules (enabled, available now,
 * allowed for the service, able to reach the level of assurance required), as the Verify hub
 * applied them. */
#ifndef IDHUB_ELIGIBILITY_H
#define IDHUB_ELIGIBILITY_H
#include "../hub/hub.h"

/* 1 when idp may be offered to svc at required_loa now (config, operator switches in the store,
 * availability window). */
int idp_eligible(const hub *h, const hub_idp *idp, const service_conf *svc, int required_loa);
/* How many IdPs are eligible. */
size_t idp_eligible_count(const hub *h, const service_conf *svc, int required_loa);

#endif
