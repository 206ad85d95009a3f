/* complete.h — the end of a journey: a verified identity becomes a pairwise subject and a
 * single-use authorization code for the service, and the hub session is begun (or, for single
 * sign-on, used). */
#ifndef IDHUB_COMPLETE_H
#define IDHUB_COMPLETE_H
#include "journey.h"
#include "../sessions/session.h"

/* After an upstream login: begins the hub session (sessions/session.h) and issues the code. */
void journey_complete(hub *h, http_req *r, http_resp *resp, const journey *j, const hub_idp *idp,
                      const idhub_identity *id);

/* Single sign-on: issues the code of request j (never stored, so not spent) from the live session
 * s, whose identity id (session_identity) and pairwise sub for the service's sector were already
 * derived. The session records the service's sid and its last use in the code's transaction. */
void journey_complete_sso(hub *h, http_req *r, http_resp *resp, const journey *j, session *s,
                          const idhub_identity *id, const char *sub);

#endif
