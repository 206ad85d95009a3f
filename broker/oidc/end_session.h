/* end_session.h — RP-Initiated Logout 1.0 at /logout (the end_session_endpoint). */
#ifndef IDHUB_OIDC_END_SESSION_H
#define IDHUB_OIDC_END_SESSION_H
#include "../hub/hub.h"
#include "../http/http.h"

/* GET or POST /logout */
void oidc_end_session(hub *h, http_req *r, http_resp *resp);

#endif
