/* endpoint.c — the front of the authenticated form-POST endpoints (see endpoint.h). */
#include "endpoint.h"
#include "client_auth.h"
#include "respond.h"
#include <string.h>

static const char *const auth_params[] = {"client_id", "client_secret", "client_assertion",
                                          "client_assertion_type", NULL};

static int repeated(http_req *r, http_resp *resp, const char *const *names)
{
	for (int i = 0; names && names[i]; i++) {
		int c;
		form_param(&r->body, names[i], &c);
		if (c > 1) {
			oidc_json_error(r, resp, 400, "invalid_request",
			                arena_printf(r->a, "parameter %s is repeated", names[i]));
			return 1;
		}
	}
	return 0;
}

const hub_client *oidc_client_post(hub *h, http_req *r, http_resp *resp, const char *const *single)
{
	if (strcmp(r->method, "POST") != 0) {
		http_add_header(resp, "Allow", "POST");
		oidc_json_error(r, resp, 405, "invalid_request", "use POST");
		return NULL;
	}
	if (r->body_error) {
		oidc_json_error(r, resp, r->body_error == HTTP_BODY_TOO_LARGE ? 413 : 400,
		                "invalid_request",
		                r->body_error == HTTP_BODY_NOT_FORM
		                    ? "the body must be application/x-www-form-urlencoded"
		                    : form_strerror(r->body_error));
		return NULL;
	}
	if (repeated(r, resp, auth_params) || repeated(r, resp, single))
		return NULL;
	client_auth_error ae = {0};
	const hub_client *c = client_authenticate(h, r, &ae);
	if (!c) {
		if (ae.basic_challenge)
			http_add_header(resp, "WWW-Authenticate", "Basic realm=\"idhub\"");
		oidc_json_error(r, resp, ae.status, ae.error, ae.message);
	}
	return c;
}
