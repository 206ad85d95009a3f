/* picker.c — the IdP picker (/login/<journey>): lists the eligible IdPs, takes the citizen's choice
 * (CSRF-checked), and asks the chosen adapter to start its login; /login/<journey>/cancel returns
 * to the service with access_denied. */
#include "picker.h"
#include "problem.h"
#include "eligibility.h"
#include "journey.h"
#include "ustate.h"
#include "../pages/pages.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <string.h>

void journey_gone_page(hub *h, http_req *r, http_resp *resp, const journey *j)
{
	metrics_journey_failed(NULL, NULL, MX_FAIL_EXPIRED);
	journey_problem_page(h, r, resp, j ? journey_gone_problem(j) : JP_INVALID, j, 0, NULL);
}

void journey_other_browser_page(hub *h, http_req *r, http_resp *resp, const journey *j)
{
	journey_problem_page(h, r, resp, JP_OTHER_BROWSER, j, 0, NULL);
}

static void error_summary(buf *b, const char *error)
{
	/* focused on load without JavaScript: autofocus on a tabindex=-1 container (GOV.UK
	 * pattern), so a screen reader announces the problem first */
	buf_puts(b, "<div class=\"error-summary\" tabindex=\"-1\" autofocus "
	            "aria-labelledby=\"error-summary-title\">\n<h2 id=\"error-summary-title\">"
	            "");
	buf_html(b, T("common.there_is_a_problem"));
	buf_puts(b, "</h2>\n<ul><li><a href=\"#idp-0\">");
	buf_html(b, error);
	buf_puts(b, "</a></li></ul>\n</div>\n");
}

static void render_picker(hub *h, http_req *r, http_resp *resp, const journey *j, const char *error)
{
	const service_conf *svc = hub_service(h, r->a, j->client_id);
	const char *name = svc ? svc->name : j->client_id;
	buf b;
	buf_init(&b, r->a);
	if (error)
		error_summary(&b, error);
	buf_puts(&b, "<h1>");
	buf_html(&b, page_fmt(r->a, T("picker.heading"), name, NULL));
	buf_puts(&b, "</h1>\n<p>");
	buf_html(&b, T("picker.intro"));
	buf_puts(&b, "</p>\n<form method=\"post\" action=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "\" novalidate>\n<input type=\"hidden\" name=\"csrf\" value=\"");
	buf_html(&b, j->csrf);
	buf_puts(&b, error ? "\">\n<div class=\"form-group-error\"><fieldset "
	                     "aria-describedby=\"idp-error\">"
	                   : "\">\n<div><fieldset>");
	buf_puts(&b, "\n<legend>");
	buf_html(&b, T("picker.legend"));
	buf_puts(&b, "</legend>\n");
	if (error) {
		buf_puts(&b, "<span class=\"error-message\" id=\"idp-error\"><span class=\"vh\">");
		buf_html(&b, T("layout.error_prefix"));
		buf_puts(&b, "</span> ");
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
		buf_html(&b, page_lang_pick(idp->conf->display_name, idp->conf->display_name_cy));
		const char *desc =
		    page_lang_pick(idp->conf->description, idp->conf->description_cy);
		if (desc) {
			buf_puts(&b, "<span class=\"hint\">");
			buf_html(&b, desc);
			buf_puts(&b, "</span>");
		}
		buf_puts(&b, "</label></div>\n");
		k++;
	}
	buf_puts(&b, "</fieldset></div>\n<button class=\"button\" type=\"submit\">");
	buf_html(&b, T("common.continue"));
	buf_puts(&b, "</button>\n</form>\n<form method=\"post\" action=\"/login/");
	buf_html(&b, j->token);
	buf_puts(&b, "/cancel\" novalidate><input type=\"hidden\" name=\"csrf\" value=\"");
	buf_html(&b, j->csrf);
	buf_puts(&b, "\"><p><button class=\"link-button\" type=\"submit\">");
	buf_html(&b, page_fmt(r->a, T("picker.cancel"), name, NULL));
	buf_puts(&b, "</button></p></form>\n");
	/* Back: to the service, with access_denied (nothing at the hub changes: the journey just
	 * runs out) */
	page_opts o = {.title = T("picker.title"),
	               .error = error != NULL,
	               .back_href =
	                   journey_error_url(h, r->a, j, "access_denied", "the citizen went back")};
	http_html(resp, error ? 400 : 200, page_render_opts(r->a, &o, buf_str(&b)));
}

/* Loads the journey named in the path and checks it belongs to this browser; answers otherwise. */
static int load_bound(hub *h, http_req *r, http_resp *resp, const char *id, journey *j)
{
	int rc = journey_load(h, r->a, id, j);
	if (rc == 0 || j->gone)
		pages_adopt_lang(r, j->lang);
	if (rc == STORE_NOTFOUND) {
		journey_gone_page(h, r, resp, j);
		return -1;
	}
	if (rc) {
		journey_error_page(r, resp, 503, T("error.unavailable.heading"),
		                   T("error.unavailable.message"), NULL);
		return -1;
	}
	if (!journey_bound(h, j, r)) {
		journey_other_browser_page(h, r, resp, j);
		return -1;
	}
	return 0;
}

static void start_upstream(hub *h, http_req *r, http_resp *resp, journey *j, const hub_idp *idp)
{
	char *rid = arena_alloc(r->a, 44), *un = arena_alloc(r->a, 44), *uv = arena_alloc(r->a, 44);
	/* the state says of itself that it is ours and until when (ustate.h): the journey's end */
	if (ustate_new(h, j->created + h->cfg->journey_ttl, rid) || random_token(un) ||
	    random_token(uv)) {
		journey_error_page(r, resp, 503, T("error.unavailable.heading"),
		                   T("error.unavailable.message"), NULL);
		return;
	}
	j->idp = idp->conf->id;
	j->request_id = rid;
	j->upstream_nonce = un;
	j->upstream_verifier = uv;
	j->upstream_started = hub_now(h);
	int rc = journey_save_upstream(h, j);
	if (rc == STORE_BUSY || rc == STORE_FULL) {
		journey_problem_page(h, r, resp, JP_BUSY, j, 1, NULL);
		return;
	}
	if (rc) {
		j->gone = JOURNEY_GONE_EXPIRED;
		journey_gone_page(h, r, resp, j);
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
		journey_problem_page(
		    h, r, resp, JP_IDP_UNAVAILABLE, j, 1,
		    page_lang_pick(idp->conf->display_name, idp->conf->display_name_cy));
		resp->status = 502;
		return;
	}
	metrics_journey_step(idp->conf->id, j->client_id, MX_STEP_IDP_CHOSEN);
	if (out.kind == IDHUB_START_POST_FORM)
		http_html(resp, 200,
		          page_autopost(r->a, out.url, out.fields, out.nfields,
		                        page_fmt(r->a, T("problem.continue_to"),
		                                 page_lang_pick(idp->conf->display_name,
		                                                idp->conf->display_name_cy),
		                                 NULL),
		                        T("picker.to_idp_message")));
	else
		http_redirect(resp, out.url);
}

void journey_idp_unavailable(hub *h, http_req *r, http_resp *resp, const char *id,
                             const hub_idp *idp)
{
	journey j;
	/* from a callback (id NULL): its upstream state is not used yet, so reloading the page
	 * finishes the sign-in once the IdP has room again */
	metrics_journey_failed(idp->conf->id, NULL, MX_FAIL_UNAVAILABLE);
	int live = id && journey_load(h, r->a, id, &j) == 0 && journey_bound(h, &j, r);
	if (live)
		pages_adopt_lang(r, j.lang);
	journey_problem_page(h, r, resp, JP_IDP_UNAVAILABLE, live ? &j : NULL, live,
	                     page_lang_pick(idp->conf->display_name, idp->conf->display_name_cy));
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
		journey_error_page(r, resp, 400, T("error.form_unreadable.heading"),
		                   T("error.form_unreadable.message"), NULL);
		return;
	}
	int n;
	const char *csrf = form_get(&r->body, "csrf", &n);
	if (n != 1 || !journey_token_eq(csrf, j.csrf)) {
		/* a form not served by us for this journey: possibly cross-site request forgery */
		journey_error_page(r, resp, 400, T("error.form_expired.heading"),
		                   T("error.form_expired.message"), NULL);
		return;
	}
	const char *choice = form_get(&r->body, "idp", &n);
	if (!choice || n != 1) {
		render_picker(h, r, resp, &j, T("picker.error_choose"));
		return;
	}
	const hub_idp *idp = hub_find_idp(h, choice);
	const service_conf *svc = hub_service(h, r->a, j.client_id);
	if (!idp || !svc || !idp_eligible(h, idp, svc, j.required_loa)) {
		render_picker(h, r, resp, &j, T("picker.error_listed"));
		return;
	}
	/* the journey is stored from here on: each source may create so many per minute */
	if (http_journey_budget(r, hub_now(h))) {
		journey_problem_page(h, r, resp, JP_TOO_MANY, &j, 1, NULL);
		return;
	}
	start_upstream(h, r, resp, &j, idp);
}

int journey_cancel(hub *h, http_req *r, http_resp *resp, const char *id, journey_outcome *out)
{
	memset(out, 0, sizeof *out);
	journey *j = &out->j;
	if (load_bound(h, r, resp, id, j))
		return 0;
	if (strcmp(r->method, "POST") != 0) {
		/* cancelling changes state: only by the pages' POST forms; a GET goes back to the
		 * picker */
		http_redirect(resp, arena_printf(r->a, "/login/%s", j->token));
		return 0;
	}
	int n;
	const char *csrf = r->body_error ? NULL : form_get(&r->body, "csrf", &n);
	if (!csrf || n != 1 || !journey_token_eq(csrf, j->csrf)) {
		journey_error_page(r, resp, 400, T("error.form_expired.heading"),
		                   T("error.form_expired.message"), NULL);
		return 0;
	}
	store_batch *b = store_batch_new();
	journey_spend(h, b, j); /* the authorization request cannot be resumed after this */
	int rc = store_batch_commit(h->st, b);
	if (rc == STORE_EXISTS) {
		/* a code was issued (or a cancel won) meanwhile: nothing left to cancel */
		j->gone = JOURNEY_GONE_FINISHED;
		journey_gone_page(h, r, resp, j);
		return 0;
	}
	if (rc) {
		journey_error_page(r, resp, 503, T("error.unavailable.heading"),
		                   T("error.unavailable.message"), NULL);
		return 0;
	}
	metrics_journey_failed(j->idp, j->client_id, MX_FAIL_CANCELLED);
	out->error = "access_denied";
	out->description = "the citizen cancelled the sign-in";
	return 1;
}
