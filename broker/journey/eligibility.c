/* eligibility.c — the hub-level IdP eligibility rules (see eligibility.h). */
#include "eligibility.h"
#include "../idp/idp_state.h"

int idp_eligible(const hub *h, const hub_idp *idp, const service_conf *svc, int required_loa)
{
	if (!idp->ops || !service_allows_idp(svc, idp->conf->id) ||
	    idp->conf->max_loa < required_loa)
		return 0;
	idp_state st;
	idp_state_get(h->st, idp->conf->id, &st);
	return idp_state_offerable(&st, idp->conf->enabled, hub_now(h));
}

size_t idp_eligible_count(const hub *h, const service_conf *svc, int required_loa)
{
	size_t n = 0;
	for (size_t i = 0; i < h->nidps; i++)
		n += (size_t)idp_eligible(h, &h->idps[i], svc, required_loa);
	return n;
}
