/* problem.c — the journey's error pages, one wording each, and their way forward (problem.h). */
#include "problem.h"
#include "../oidc/respond.h"
#include "../pages/pages.h"
#include "../util/buf.h"
#include <string.h>

typedef struct problem_text {
	int status;
	const char *heading, *message;
	const char *error, *description; /* the OAuth error the service receives */
	int retry;                       /* a live journey's primary action: 1 try again, 2 choose
	                                    another way */
} problem_text;

static const problem_text texts[JP_COUNT] = {
    [JP_INVALID] = {400, "This sign-in link is not valid",
                    "The link may have been copied wrongly or changed. Nothing has been shared "
                    "with the service.",
                    "invalid_request", "the sign-in link is not valid", 0},
    [JP_EXPIRED] = {400, "Your sign-in has timed out",
                    "For your security, you need to finish signing in within a few minutes. "
                    "Nothing has been shared with the service.",
                    "access_denied", "the sign-in timed out", 0},
    [JP_FINISHED] = {400, "You have already finished signing in",
                     "This sign-in has already been completed or cancelled, so it cannot be "
                     "used again. You do not need to do anything else here.",
                     "access_denied", "the sign-in was already finished", 0},
    [JP_OTHER_BROWSER] = {403, "This sign-in was started in another browser",
                          "To protect you, you need to finish signing in using the same "
                          "browser you started in, with cookies allowed.",
                          "access_denied", "the sign-in was started in another browser", 0},
    [JP_IDP_UNAVAILABLE] = {503, NULL,
                            "It could not be reached just now. You can choose another way to "
                            "prove your identity, or try again in a few minutes.",
                            "temporarily_unavailable", "the identity provider is unavailable", 2},
    [JP_BUSY] = {503, "Sorry, the service is busy",
                 "Too many people are signing in at the moment. Nothing has been shared with "
                 "the service. Try again in a minute.",
                 "temporarily_unavailable", "the sign-in service is busy; try again in a minute",
                 1},
    [JP_TOO_MANY] = {429, "Too many attempts, try again in a minute",
                     "There have been too many attempts to sign in from your network in the "
                     "last minute. Nothing has been shared with the service.",
                     "temporarily_unavailable", "too many attempts; try again in a minute", 1},
    [JP_LOA] = {403, "That way of proving your identity is not enough for this service",
                "The service needs a higher level of assurance than the one you used could "
                "confirm. Choose another way to prove your identity.",
                "access_denied", "the level of assurance was too low", 2},
    [JP_CANCELLED] = {400, "You did not finish proving your identity",
                      "You stopped before you finished. Nothing has been shared with the "
                      "service.",
                      "access_denied", "the citizen cancelled the sign-in", 2},
    [JP_STALE] = {403, "You need to sign in again",
                  "The service asked for a recent sign-in, and the identity provider reported "
                  "an older one. Nothing has been shared with the service.",
                  "login_required", "a more recent sign-in is needed", 2},
    [JP_REFUSED] = {400, "We could not confirm your identity",
                    "The identity provider's answer could not be accepted. Nothing has been "
                    "shared with the service.",
                    "access_denied", "the identity provider's answer was refused", 2},
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
	return svc ? svc->name : "the service";
}

/* A live journey: its primary action, and "return to the service" as a POST (it spends the
 * journey, so it is a state change: never a GET link). */
static void live_actions(hub *h, buf *b, arena *a, const journey *j, const problem_text *t)
{
	buf_puts(b, "<div class=\"actions\"><a class=\"button\" href=\"/login/");
	buf_html(b, j->token);
	buf_puts(b, t->retry == 1 ? "\">Try again</a>"
	                          : "\">Choose another way to prove your identity</a>");
	buf_puts(b, "<form method=\"post\" action=\"/login/");
	buf_html(b, j->token);
	buf_puts(b, "/cancel\" novalidate><input type=\"hidden\" name=\"csrf\" value=\"");
	buf_html(b, j->csrf);
	buf_puts(b, "\"><button class=\"button secondary\" type=\"submit\">Return to ");
	buf_html(b, service_name(h, a, j));
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
			buf_puts(&b, p == JP_FINISHED ? "\">Continue to " : "\">Return to ");
			buf_html(&b, service_name(h, r->a, j));
			buf_puts(&b, "</a></p>\n");
		} else {
			buf_puts(&b, page_help_action(r->a));
		}
	}
	const char *heading = t->heading;
	if (p == JP_IDP_UNAVAILABLE)
		heading = arena_printf(r->a, "%s is not available just now",
		                       idp_name ? idp_name : "The identity provider");
	if (t->retry == 1 || p == JP_IDP_UNAVAILABLE)
		http_add_header(resp, "Retry-After", "60");
	oidc_error_page(r, resp, t->status, heading, t->message, buf_str(&b));
}
