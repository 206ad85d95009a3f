/* upstream.h — ending the citizen's session at the upstream IdP too (upstream.c), through the IdP
 * adapter's optional logout hook. */
#ifndef IDHUB_SESSIONS_UPSTREAM_H
#define IDHUB_SESSIONS_UPSTREAM_H
#include "session.h"

/* After session_end of s (loaded from this request, so its vault opens): when s's IdP adapter has
 * a logout hook and the login left it a logout state, points resp at the IdP's logout and returns
 * 1; the browser comes back to /logout/upstream, which then sends it to done (a URL the caller has
 * checked, e.g. a registered post_logout_redirect_uri with its state) or, done NULL, shows the
 * signed-out page. 0 when there is nothing to do upstream (or the hook failed: logged): the caller
 * finishes its logout itself. */
int session_upstream_logout(hub *h, http_req *r, http_resp *resp, const session *s,
                            const char *done);
/* GET /logout/upstream?state=…: the browser back from the IdP's logout. */
void session_upstream_return(hub *h, http_req *r, http_resp *resp);
/* The hub's "You have signed out" page. */
void session_signed_out_page(http_req *r, http_resp *resp);

#endif
