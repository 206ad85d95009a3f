/* complete.h — the end of a journey at the OpenID Provider: the journey's outcome
 * (journey/outcome.h) becomes a single-use authorization code for the service and the hub session
 * is begun (or, for single sign-on, used); a cancel goes back to the service with its OAuth error.
 */
#ifndef IDHUB_OIDC_COMPLETE_H
#define IDHUB_OIDC_COMPLETE_H
#include "../journey/journey.h"
#include "../sessions/session.h"

/* /callback/<idp>: the journey verifies the IdP's answer (journey/callback.h); a sign-in begins
 * the hub session, issues the code and redirects to the service. */
void oidc_callback(hub *h, http_req *r, http_resp *resp, const char *idp_id);
/* /login/<id>/cancel: the journey spends itself (journey/picker.h); back to the service with
 * access_denied. */
void oidc_cancel(hub *h, http_req *r, http_resp *resp, const char *id);

/* Single sign-on: issues the code of request j (never stored, so not spent) from the live session
 * s, whose identity id (session_identity) and pairwise sub for the service's sector were already
 * derived. The session records the service's sid and its last use in the code's transaction. */
void oidc_complete_sso(hub *h, http_req *r, http_resp *resp, const journey *j, session *s,
                       const idhub_identity *id, const char *sub);

#endif
