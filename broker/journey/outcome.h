/* outcome.h — what a journey hands back to the OpenID Provider (broker/oidc) when it ends: a
 * verified identity (its pairwise sub for the service's sector, its level, its claims), or the
 * OAuth error the service receives (a cancel). The journey never answers the service itself:
 * oidc mints the code and redirects, or redirects with the error (oidc/complete.h). */
#ifndef IDHUB_JOURNEY_OUTCOME_H
#define IDHUB_JOURNEY_OUTCOME_H
#include "journey.h"

typedef struct journey_outcome {
	journey j; /* the authorization request it ends (client, redirect_uri, state, scope...) */
	/* an error: the OAuth error and its description for the service (static strings) */
	const char *error, *description;
	/* a sign-in: the IdP that verified it, the identity (attributes: the claims' source), the
	 * pairwise sub for the service's sector, and the level (capped at the IdP's max_loa) */
	const hub_idp *idp;
	idhub_identity id;
	char sub[44];
	int loa;
} journey_outcome;

#endif
