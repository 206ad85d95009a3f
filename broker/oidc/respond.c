/* respond.c — redirects, JSON errors and error pages of the OpenID Provider (see respond.h). */
#include "respond.h"
#include "../pages/pages.h"
#include "../util/buf.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void start_redirect(buf *b, const char *redirect_uri)
{
	buf_puts(b, redirect_uri);
	/* a registered redirect URI may carry a query of its own (RFC 6749 §3.1.2): keep it */
	buf_puts(b, strchr(redirect_uri, '?') ? "&" : "?");
}

static void add_param(buf *b, const char *name, const char *value, int first)
{
	if (!first)
		buf_puts(b, "&");
	buf_puts(b, name);
	buf_puts(b, "=");
	buf_urlenc(b, value);
}

void oidc_redirect_error(hub *h, http_req *r, http_resp *resp, const char *redirect_uri,
                         const char *error, const char *description, const char *state)
{
	buf b;
	buf_init(&b, r->a);
	start_redirect(&b, redirect_uri);
	add_param(&b, "error", error, 1);
	if (description)
		add_param(&b, "error_description", description, 0);
	if (state)
		add_param(&b, "state", state, 0);
	add_param(&b, "iss", h->cfg->issuer, 0);
	http_redirect(resp, buf_str(&b));
}

void oidc_redirect_code(hub *h, http_req *r, http_resp *resp, const char *redirect_uri,
                        const char *code, const char *state)
{
	buf b;
	buf_init(&b, r->a);
	start_redirect(&b, redirect_uri);
	add_param(&b, "code", code, 1);
	if (state)
		add_param(&b, "state", state, 0);
	add_param(&b, "iss", h->cfg->issuer, 0);
	http_redirect(resp, buf_str(&b));
}

void oidc_json_error(http_req *r, http_resp *resp, int status, const char *error,
                     const char *description)
{
	json_t *o = json_pack("{s:s}", "error", error);
	if (description)
		json_object_set_new(o, "error_description", json_string(description));
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	http_json(resp, status, arena_strdup(r->a, s));
	free(s);
}

void oidc_error_page(http_req *r, http_resp *resp, int status, const char *heading,
                     const char *message, const char *actions_html)
{
	http_html(resp, status, page_error(r->a, heading, message, actions_html));
}
