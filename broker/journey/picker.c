/* picker.c — the IdP picker (/login/<journey>): lists the eligible IdPs, takes the citizen's choice
 * (CSRF-checked), and asks the chosen adapter to start its login; /login/<journey>/cancel returns
 * to the service with access_denied. */
#include "picker.h"
#include "busy.h"
#include "eligibility.h"
#include "journey.h"
#include "../oidc/respond.h"
#include "../pages/pages.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <string.h>

void journey_gone_page(hub *h, http_req *r, http_resp *resp)
{
	(void)h;
	metrics_journey_failed(NULL, NULL, MX_FAIL_EXPIRED);
	oidc_error_page(r, resp, 400, "Your sign-in has expired",
	                "For your security, a sign-in must be finished within a few minutes, and "
	                "each link works once. Nothing has been shared with the service.",
	                "<p>Go back to the service you were using and start again.</p>\n");
}

void journey_other_browser_page(http_req *r, http_resp *resp)
{
	oidc_error_page(
	    r, resp, 403, "This sign-in was started in another browser",
	    "To protect you, a sign-in has to be finished in the browser it was started "
	    "in, with cookies allowed.",
	    "<p>Go back to the service and start again in this browser.</p>\n");
}

const char *journey_actions_html(arena *a, const journey *j, int offer_other)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "<p>");
	if (offer_other) {
		buf_puts(&b, "<a class=\"button\" href=\"/login/");
		buf_html(&b, j->token);
		buf_puts(&b, "\">Choose another way to prove your identity</a>");
	}
	buf_puts(&b, "<a class=\"button secondary\" href=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "/cancel\">Return to the service</a></p>\n");
	return buf_str(&b);
}

static void render_picker(hub *h, http_req *r, http_resp *resp, const journey *j, const char *error)
{
	const service_conf *svc = hub_service(h, r->a, j->client_id);
	buf b;
	buf_init(&b, r->a);
	if (error) {
		buf_puts(&b,
		         "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" "
		         "aria-labelledby=\"error-summary-title\">\n<h2 id=\"error-summary-title\">"
		         "There is a problem</h2>\n<ul><li><a href=\"#idp-0\">");
		buf_html(&b, error);
		buf_puts(&b, "</a></li></ul>\n</div>\n");
	}
	buf_puts(&b, "<h1>Prove your identity to use ");
	buf_html(&b, svc ? svc->name : j->client_id);
	buf_puts(&b,
	         "</h1>\n<p>Choose a company or organisation you already use to prove who you "
	         "are. The service will not learn which one you chose, and the company will not "
	         "learn which service you are using.</p>\n<form method=\"post\" action=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "\" novalidate>\n<input type=\"hidden\" name=\"csrf\" value=\"");
	buf_html(&b, j->csrf);
	buf_puts(&b, "\">\n<fieldset");
	if (error)
		buf_puts(&b, " aria-describedby=\"idp-error\"");
	buf_puts(&b, ">\n<legend>Who do you want to use?</legend>\n");
	if (error) {
		buf_puts(&b, "<span class=\"error-message\" id=\"idp-error\">");
		buf_html(&b, error);
		buf_puts(&b, "</span>\n");
	}
	int k = 0;
	for (size_t i = 0; i < h->nidps; i++) {
		const hub_idp *idp = &h->idps[i];
		if (!svc || !idp_eligible(h, idp, svc, j->required_loa))
			continue;
		buf_printf(&b,
		           "<div class=\"option\"><input type=\"radio\" name=\"idp\" id=\"idp-%d\" "
		           "value=\"",
		           k);
		buf_html(&b, idp->conf->id);
		buf_printf(&b, "\"><label for=\"idp-%d\">", k);
		buf_html(&b, idp->conf->display_name);
		if (idp->conf->description) {
			buf_puts(&b, "<span class=\"hint\">");
			buf_html(&b, idp->conf->description);
			buf_puts(&b, "</span>");
		}
		buf_puts(&b, "</label></div>\n");
		k++;
	}
	buf_puts(&b, "</fieldset>\n<button class=\"button\" type=\"submit\">Continue</button>\n"
	             "</form>\n<p><a href=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "/cancel\">Cancel and return to the service</a></p>\n");
	http_html(resp, error ? 400 : 200,
	          page_render(r->a, error ? "Error: Prove your identity" : "Prove your identity",
	                      buf_str(&b)));
}

/* Loads the journey named in the path and checks it belongs to this browser; answers otherwise. */
static int load_bound(hub *h, http_req *r, http_resp *resp, const char *id, journey *j)
{
	int rc = journey_load(h, r->a, id, j);
	if (rc == STORE_NOTFOUND) {
		journey_gone_page(h, r, resp);
		return -1;
	}
	if (rc) {
		oidc_error_page(r, resp, 503, "Sorry, there is a problem with the service",
		                "Try again in a few minutes.", NULL);
		return -1;
	}
	if (!journey_bound(h, j, r)) {
		journey_other_browser_page(r, resp);
		return -1;
	}
	return 0;
}

static void start_upstream(hub *h, http_req *r, http_resp *resp, journey *j, const hub_idp *idp)
{
	char *rid = arena_alloc(r->a, 44), *un = arena_alloc(r->a, 44), *uv = arena_alloc(r->a, 44);
	if (random_token(rid) || random_token(un) || random_token(uv)) {
		oidc_error_page(r, resp, 503, "Sorry, there is a problem with the service",
		                "Try again.", NULL);
		return;
	}
	j->idp = idp->conf->id;
	j->request_id = rid;
	j->upstream_nonce = un;
	j->upstream_verifier = uv;
	j->upstream_started = hub_now(h);
	int rc = journey_save_upstream(h, j);
	if (rc == STORE_BUSY || rc == STORE_FULL) {
		journey_busy_page(h, r, resp, j);
		return;
	}
	if (rc) {
		journey_gone_page(h, r, resp);
		return;
	}
	idhub_login_request lr = {.request_id = rid,
	                          .nonce = un,
	                          .verifier = uv,
	                          .callback_url = idp->callback_url,
	                          .min_loa = j->required_loa,
	                          .started_at = j->upstream_started};
	journey_login_flags(j, &lr);
	journey_login_claims(h, r->a, j, &lr);
	idhub_start_result out = {0};
	idhub_error err = {0};
	int64_t t0 = metrics_clock_ns();
	int failed =
	    idp->ops->start(idp->ctx, (idhub_arena *)r->a, &lr, &out, &err) != 0 || !out.url;
	metrics_idp_call(idp->conf->id, t0, failed);
	if (failed) {
		metrics_journey_failed(idp->conf->id, j->client_id, MX_FAIL_UNAVAILABLE);
		log_warn("journey: %s start failed: %s", idp->conf->id, err.message);
		oidc_error_page(
		    r, resp, 502,
		    arena_printf(r->a, "%s is not available", idp->conf->display_name),
		    "It could not be reached just now. You can choose another way to prove "
		    "your identity, or try again later.",
		    journey_actions_html(r->a, j, 1));
		return;
	}
	metrics_journey_step(idp->conf->id, j->client_id, MX_STEP_IDP_CHOSEN);
	if (out.kind == IDHUB_START_POST_FORM)
		http_html(
		    resp, 200,
		    page_autopost(r->a, out.url, out.fields, out.nfields,
		                  arena_printf(r->a, "Continue to %s", idp->conf->display_name),
		                  "Select Continue to go to the identity provider."));
	else
		http_redirect(resp, out.url);
}

/* 429: the source (http_req.source) created hub.journeys_per_minute journeys this minute. */
static void too_many_attempts(http_req *r, http_resp *resp, const journey *j)
{
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, "<p><a class=\"button\" href=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "\">Try again</a><a class=\"button secondary\" href=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "/cancel\">Return to the service</a></p>\n");
	oidc_error_page(r, resp, 429, "Too many attempts, try again in a minute",
	                "There have been too many attempts to sign in from your network in the "
	                "last minute. Nothing has been shared with the service.",
	                buf_str(&b));
	http_add_header(resp, "Retry-After", "60");
}

void journey_idp_unavailable(hub *h, http_req *r, http_resp *resp, const char *id,
                             const hub_idp *idp)
{
	journey j;
	/* from a callback: its upstream state is not used yet, so reloading the page finishes the
	 * sign-in once the IdP has room again */
	const char *actions = "<p>Reload this page in a minute to finish signing in, or go back to "
	                      "the service you were using and start again.</p>\n";
	if (id && journey_load(h, r->a, id, &j) == 0 && journey_bound(h, &j, r))
		actions = journey_actions_html(r->a, &j, 1);
	metrics_journey_failed(idp->conf->id, NULL, MX_FAIL_UNAVAILABLE);
	oidc_error_page(r, resp, 503,
	                arena_printf(r->a, "%s is not available just now", idp->conf->display_name),
	                "It is busy with other people's sign-ins. You can choose another way to "
	                "prove your identity, or try again in a few minutes.",
	                actions);
	http_add_header(resp, "Retry-After", "60");
}

void journey_picker(hub *h, http_req *r, http_resp *resp, const char *id)
{
	journey j;
	if (load_bound(h, r, resp, id, &j))
		return;
	if (strcmp(r->method, "POST") != 0) {
		render_picker(h, r, resp, &j, NULL);
		return;
	}
	if (r->body_error) {
		oidc_error_page(r, resp, 400, "There is a problem with the form",
		                "The form could not be read. Go back and try again.", NULL);
		return;
	}
	int n;
	const char *csrf = form_get(&r->body, "csrf", &n);
	if (n != 1 || !journey_token_eq(csrf, j.csrf)) {
		/* a form not served by us for this journey: possibly cross-site request forgery */
		oidc_error_page(r, resp, 400, "This form has expired",
		                "Go back, reload the page and choose again.", NULL);
		return;
	}
	const char *choice = form_get(&r->body, "idp", &n);
	if (!choice || n != 1) {
		render_picker(h, r, resp, &j, "Select who you want to use to prove your identity");
		return;
	}
	const hub_idp *idp = hub_find_idp(h, choice);
	const service_conf *svc = hub_service(h, r->a, j.client_id);
	if (!idp || !svc || !idp_eligible(h, idp, svc, j.required_loa)) {
		render_picker(h, r, resp, &j, "Select one of the options listed");
		return;
	}
	/* the journey is stored from here on: each source may create so many per minute */
	if (http_journey_budget(r, hub_now(h))) {
		too_many_attempts(r, resp, &j);
		return;
	}
	start_upstream(h, r, resp, &j, idp);
}

void journey_cancel(hub *h, http_req *r, http_resp *resp, const char *id)
{
	journey j;
	if (load_bound(h, r, resp, id, &j))
		return;
	store_batch *b = store_batch_new();
	journey_spend(h, b, &j); /* the authorization request cannot be resumed after this */
	int rc = store_batch_commit(h->st, b);
	if (rc == STORE_EXISTS) {
		/* a code was issued (or a cancel won) meanwhile: nothing left to cancel */
		journey_gone_page(h, r, resp);
		return;
	}
	if (rc) {
		oidc_error_page(r, resp, 503, "Sorry, there is a problem with the service",
		                "Try again in a few minutes.", NULL);
		return;
	}
	metrics_journey_failed(j.idp, j.client_id, MX_FAIL_CANCELLED);
	oidc_redirect_error(h, r, resp, j.redirect_uri, "access_denied",
	                    "the citizen cancelled the sign-in", j.state);
}
