/* sso.h — single sign-on at /authorize: answering a validated authentication request from the hub
 * session (sessions/session.h) when it can be, and prompt=none / id_token_hint when it cannot. */
#ifndef IDHUB_OIDC_SSO_H
#define IDHUB_OIDC_SSO_H
#include "../journey/journey.h"

/* j is the validated request (not yet sealed); prompt and id_token_hint as sent (or NULL).
 * Returns 1 when it answered (a code, or an error redirect to the service), 0 when the request
 * needs the citizen: the journey goes on to the picker. */
int oidc_sso(hub *h, http_req *r, http_resp *resp, const service_conf *svc, const journey *j,
             const char *prompt, const char *id_token_hint);

#endif
