/* respond.h — how the OpenID Provider answers: redirects to a service's (already verified) redirect
 * URI carrying a code or an OAuth error with state and iss (RFC 9207), JSON errors for the token
 * and userinfo endpoints, and HTML error pages where no redirect URI can be trusted. */
#ifndef IDHUB_OIDC_RESPOND_H
#define IDHUB_OIDC_RESPOND_H
#include "../hub/hub.h"
#include "../http/http.h"

/* 303 to redirect_uri with error, error_description, state (when non-NULL) and iss. */
void oidc_redirect_error(hub *h, http_req *r, http_resp *resp, const char *redirect_uri,
                         const char *error, const char *description, const char *state);
/* 303 to redirect_uri with code, state and iss. */
void oidc_redirect_code(hub *h, http_req *r, http_resp *resp, const char *redirect_uri,
                        const char *code, const char *state);
/* JSON error body {"error","error_description"} with status. */
void oidc_json_error(http_req *r, http_resp *resp, int status, const char *error,
                     const char *description);
/* An HTML error page (status, heading, message, optional safe HTML actions). */
void oidc_error_page(http_req *r, http_resp *resp, int status, const char *heading,
                     const char *message, const char *actions_html);

#endif
