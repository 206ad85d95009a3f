/* busy.c — the 503 "busy" page of a refused new journey (see busy.h). */
#include "busy.h"
#include "../oidc/respond.h"
#include "../util/buf.h"
#include "../metrics/metrics.h"
#include <string.h>

static void param(buf *b, const char *name, const char *value)
{
	buf_puts(b, "&");
	buf_puts(b, name);
	buf_puts(b, "=");
	buf_urlenc(b, value);
}

void journey_busy_page(hub *h, http_req *r, http_resp *resp, const journey *j)
{
	buf url, b;
	metrics_journey_failed(j->idp, j->client_id, MX_FAIL_BUSY);
	buf_init(&url, r->a);
	buf_puts(&url, j->redirect_uri);
	/* a registered redirect URI may carry a query of its own (RFC 6749 §3.1.2) */
	buf_puts(&url, strchr(j->redirect_uri, '?') ? "&" : "?");
	buf_puts(&url, "error=temporarily_unavailable");
	param(&url, "error_description", "the sign-in service is busy; try again in a minute");
	if (j->state)
		param(&url, "state", j->state);
	param(&url, "iss", h->cfg->issuer);
	buf_init(&b, r->a);
	buf_puts(&b, "<p><a class=\"button\" href=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "\">Try again</a><a class=\"button secondary\" href=\"");
	buf_html(&b, buf_str(&url));
	buf_puts(&b, "\">Return to the service</a></p>\n");
	http_add_header(resp, "Retry-After", "60");
	oidc_error_page(r, resp, 503, "Sorry, the service is busy",
	                "Too many people are signing in at the moment. Nothing has been shared "
	                "with the service. Try again in a minute.",
	                buf_str(&b));
}
