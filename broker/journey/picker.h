/* picker.h — the journey's pages at the hub: the IdP picker, cancel, and the shared refusal pages.
 */
#ifndef IDHUB_PICKER_H
#define IDHUB_PICKER_H
#include "outcome.h"

/* GET shows the picker, POST takes the choice and starts the adapter (/login/<id>). */
void journey_picker(hub *h, http_req *r, http_resp *resp, const char *id);
/* /login/<id>/cancel (POST, CSRF-checked): spends the journey. Returns 1 with out->j and
 * out->error (access_denied) for the caller to send back to the service (oidc/complete.h); 0 when
 * it answered resp itself (a page, or back to the picker for a GET). */
int journey_cancel(hub *h, http_req *r, http_resp *resp, const char *id, journey_outcome *out);
/* 503 for a login at an IdP that has max_concurrent calls under way: "not available just now",
 * with "choose another way" back to the picker of journey id (NULL: from a callback, where the
 * journey is not known yet). */
void journey_idp_unavailable(hub *h, http_req *r, http_resp *resp, const char *id,
                             const hub_idp *idp);
/* The page for an unknown, expired or finished journey (j->gone says which; j may be NULL). */
void journey_gone_page(hub *h, http_req *r, http_resp *resp, const journey *j);
/* The page for a journey bound to another browser. */
void journey_other_browser_page(hub *h, http_req *r, http_resp *resp, const journey *j);

#endif
