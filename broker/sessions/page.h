/* page.h — the citizen's own page at the hub: /session shows whether you are signed in, through
 * which IdP, at which level and to which services, and offers "Sign out of all services" (a POST
 * to /session/end carrying the session's CSRF token). */
#ifndef IDHUB_SESSIONS_PAGE_H
#define IDHUB_SESSIONS_PAGE_H
#include "../hub/hub.h"
#include "../http/http.h"

/* GET /session */
void session_page(hub *h, http_req *r, http_resp *resp);
/* POST /session/end: ends the session (and signs out of every service in it). */
void session_signout(hub *h, http_req *r, http_resp *resp);

#endif
