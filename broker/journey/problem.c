/* problem.c — the journey's error pages, one wording each, and their way forward (problem.h). */
#include "problem.h"
#include "../pages/pages.h"
#include "../util/buf.h"
#include <string.h>

typedef struct problem_text {
	int status;
	const char *heading, *message;   /* catalog keys */
	const char *error, *description; /* the OAuth error the service receives */
	int retry;                       /* a live journey's primary action: 1 try again, 2 choose
	                                    another way */
} problem_text;

/* The words are the catalogs' (broker/pages/po/), under problem.<name>.heading and .message; the
 * OAuth error and its description go to the service (for developers: English, not translated). */
static const problem_text texts[JP_COUNT] = {
    [JP_INVALID] = {400, "problem.invalid.heading", "problem.invalid.message", "invalid_request",
                    "the sign-in link is not valid", 0},
    [JP_EXPIRED] = {400, "problem.expired.heading", "problem.expired.message", "access_denied",
                    "the sign-in timed out", 0},
    [JP_FINISHED] = {400, "problem.finished.heading", "problem.finished.message", "access_denied",
                     "the sign-in was already finished", 0},
    [JP_OTHER_BROWSER] = {403, "problem.other_browser.heading", "problem.other_browser.message",
                          "access_denied", "the sign-in was started in another browser", 0},
    [JP_IDP_UNAVAILABLE] = {503, "problem.idp_unavailable.heading",
                            "problem.idp_unavailable.message", "temporarily_unavailable",
                            "the identity provider is unavailable", 2},
    [JP_BUSY] = {503, "problem.busy.heading", "problem.busy.message", "temporarily_unavailable",
                 "the sign-in service is busy; try again in a minute", 1},
    [JP_TOO_MANY] = {429, "problem.too_many.heading", "problem.too_many.message",
                     "temporarily_unavailable", "too many attempts; try again in a minute", 1},
    [JP_LOA] = {403, "problem.loa.heading", "problem.loa.message", "access_denied",
                "the level of assurance was too low", 2},
    [JP_CANCELLED] = {400, "problem.cancelled.heading", "problem.cancelled.message",
                      "access_denied", "the citizen cancelled the sign-in", 2},
    [JP_STALE] = {403, "problem.stale.heading", "problem.stale.message", "login_required",
                  "a more recent sign-in is needed", 2},
    [JP_LOGIN_REQUIRED] = {400, "problem.login_required.heading", "problem.login_required.message",
                           "login_required", "the identity provider needs the citizen to sign in",
                           2},
    [JP_REFUSED] = {400, "problem.refused.heading", "problem.refused.message", "access_denied",
                    "the identity provider's answer was refused", 2},
    [JP_TIMED_OUT] = {400, "problem.timed_out.heading", "problem.timed_out.message",
                      "access_denied", "the identity provider did not answer in time", 2},
};

journey_problem journey_gone_problem(const journey *j)
{
	switch (j->gone) {
	case JOURNEY_GONE_EXPIRED:
		return JP_EXPIRED;
	case JOURNEY_GONE_FINISHED:
		return JP_FINISHED;
	default:
		return JP_INVALID;
	}
}

static void param(buf *b, const char *name, const char *value)
{
	buf_puts(b, "&");
	buf_puts(b, name);
	buf_puts(b, "=");
	buf_urlenc(b, value);
}

const char *journey_error_url(hub *h, arena *a, const journey *j, const char *error,
                              const char *description)
{
	if (!j || !j->client_id || !j->redirect_uri)
		return NULL;
	/* only a redirect_uri the service registers now: a deregistered one is no way back */
	const service_conf *svc = hub_service(h, a, j->client_id);
	size_t i = 0;
	while (svc && i < svc->nredirect_uris && strcmp(svc->redirect_uris[i], j->redirect_uri))
		i++;
	if (!svc || i == svc->nredirect_uris)
		return NULL;
	buf b;
	buf_init(&b, a);
	buf_puts(&b, j->redirect_uri);
	/* a registered redirect URI may carry a query of its own (RFC 6749 §3.1.2) */
	buf_puts(&b, strchr(j->redirect_uri, '?') ? "&" : "?");
	buf_puts(&b, "error=");
	buf_urlenc(&b, error);
	param(&b, "error_description", description);
	if (j->state)
		param(&b, "state", j->state);
	param(&b, "iss", h->cfg->issuer);
	return buf_str(&b);
}

static const char *service_name(hub *h, arena *a, const journey *j)
{
	const service_conf *svc = j && j->client_id ? hub_service(h, a, j->client_id) : NULL;
	return svc ? svc->name : T("problem.the_service");
}

/* A live journey: its primary action, and "return to the service" as a POST (it spends the
 * journey, so it is a state change: never a GET link). A refusal for want of capacity (busy, too
 * many attempts, an IdP saturated) returns instead by a link carrying temporarily_unavailable
 * (RFC 6749 §4.1.2.1): the journey is left as it was, and the service learns to retry, not that
 * the citizen declined. */
static void live_actions(hub *h, buf *b, arena *a, const journey *j, const problem_text *t)
{
	buf_puts(b, "<div class=\"actions\"><a class=\"button\" href=\"/login/");
	buf_html(b, j->token);
	buf_puts(b, "\">");
	buf_html(b, T(t->retry == 1 ? "problem.try_again" : "problem.choose_another"));
	buf_puts(b, "</a>");
	const char *url = strcmp(t->error, "temporarily_unavailable") == 0
	                      ? journey_error_url(h, a, j, t->error, t->description)
	                      : NULL;
	if (url) {
		buf_puts(b, "<a class=\"button secondary\" href=\"");
		buf_html(b, url);
		buf_puts(b, "\">");
		buf_html(b, page_fmt(a, T("problem.return_to"), service_name(h, a, j), NULL));
		buf_puts(b, "</a></div>\n");
		return;
	}
	buf_puts(b, "<form method=\"post\" action=\"/login/");
	buf_html(b, j->token);
	buf_puts(b, "/cancel\" novalidate><input type=\"hidden\" name=\"csrf\" value=\"");
	buf_html(b, j->csrf);
	buf_puts(b, "\"><button class=\"button secondary\" type=\"submit\">");
	buf_html(b, page_fmt(a, T("problem.return_to"), service_name(h, a, j), NULL));
	buf_puts(b, "</button></form></div>\n");
}

void journey_problem_page(hub *h, http_req *r, http_resp *resp, journey_problem p, const journey *j,
                          int live, const char *idp_name)
{
	const problem_text *t = &texts[p];
	buf b;
	buf_init(&b, r->a);
	if (live && j && j->token && j->csrf[0]) {
		live_actions(h, &b, r->a, j, t);
	} else {
		const char *url = journey_error_url(h, r->a, j, t->error, t->description);
		if (url) {
			buf_puts(&b, "<p><a class=\"button\" href=\"");
			buf_html(&b, url);
			buf_puts(&b, "\">");
			buf_html(&b, page_fmt(r->a,
			                      T(p == JP_FINISHED ? "problem.continue_to"
			                                         : "problem.return_to"),
			                      service_name(h, r->a, j), NULL));
			buf_puts(&b, "</a></p>\n");
		} else {
			buf_puts(&b, page_help_action(r->a));
		}
	}
	const char *heading = T(t->heading);
	if (p == JP_IDP_UNAVAILABLE)
		heading = page_fmt(r->a, heading, idp_name ? idp_name : T("problem.the_idp"), NULL);
	if (t->retry == 1 || p == JP_IDP_UNAVAILABLE)
		http_add_header(resp, "Retry-After", "60");
	journey_error_page(r, resp, t->status, heading, T(t->message), buf_str(&b));
}

void journey_error_page(http_req *r, http_resp *resp, int status, const char *heading,
                        const char *message, const char *actions_html)
{
	http_html(resp, status, page_error(r->a, heading, message, actions_html));
}
