/* expose.c — the Prometheus text exposition format (version 0.0.4) of the registry, with the
 * counters and histograms (the gauges read at scrape time are in gauges.c). */
#include "listener.h"
#include "metrics_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the format wants it (config ids are plain; escaped all the same). */
static void label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static const char *idp_name(const mx_registry *r, size_t i)
{
	return i < r->ni ? r->cfg->idps[i].id : "none";
}

static const char *svc_name(const mx_registry *r, size_t s)
{
	return s < r->ns ? r->cfg->services[s].client_id : "other";
}

/* One histogram: lbl is the label text inside the braces (may be empty). */
static void hist(FILE *f, const mx_registry *r, const char *name, const char *lbl, size_t slot,
                 const double *bounds, int nb, double unit)
{
	uint64_t cum = 0;
	const char *sep = *lbl ? "," : "";
	for (int b = 0; b <= nb; b++) {
		cum += mx_sum(r, slot + (size_t)b);
		if (b < nb)
			fprintf(f, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, lbl, sep, bounds[b],
			        (unsigned long long)cum);
		else
			fprintf(f, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, lbl, sep,
			        (unsigned long long)cum);
	}
	const char *ob = *lbl ? "{" : "", *cb = *lbl ? "}" : "";
	fprintf(f, "%s_sum%s%s%s %.9g\n", name, ob, lbl, cb,
	        (double)mx_sum(r, slot + (size_t)nb + 1) / unit);
	fprintf(f, "%s_count%s%s%s %llu\n", name, ob, lbl, cb, (unsigned long long)cum);
}

static void http_series(FILE *f, const mx_registry *r)
{
	head(f, "idhub_http_requests_total", "counter", "HTTP requests by endpoint and status.");
	for (int e = 0; e < MX_EP_COUNT; e++)
		for (int s = 0; s < MX_ST_COUNT; s++) {
			uint64_t n = mx_sum(r, r->http_req + (size_t)(e * MX_ST_COUNT + s));
			if (!n)
				continue;
			char st[16];
			if (s < MX_ST_COUNT - 1)
				snprintf(st, sizeof st, "%d", mx_statuses[s]);
			else
				snprintf(st, sizeof st, "other");
			fprintf(f,
			        "idhub_http_requests_total{endpoint=\"%s\",status=\"%s\"} %llu\n",
			        mx_endpoint_names[e], st, (unsigned long long)n);
		}
	head(f, "idhub_http_request_duration_seconds", "histogram",
	     "Time from the request line to the response, by endpoint.");
	for (int e = 0; e < MX_EP_COUNT; e++) {
		char l[64];
		snprintf(l, sizeof l, "endpoint=\"%s\"", mx_endpoint_names[e]);
		hist(f, r, "idhub_http_request_duration_seconds", l,
		     r->http_lat + (size_t)e * MX_HIST_SLOTS(MX_HTTP_NB), mx_http_bounds,
		     MX_HTTP_NB, 1e9);
	}
}

static void funnel_series(FILE *f, const mx_registry *r)
{
	static const char *const steps[] = {
	    "idhub_journeys_started_total", "idhub_journeys_idp_chosen_total",
	    "idhub_journeys_idp_returned_total", "idhub_journeys_succeeded_total"};
	static const char *const helps[] = {
	    "Journeys started (/authorize accepted), by service.",
	    "Journeys sent to an IdP, by IdP and service.",
	    "Journeys back from the IdP at the callback, by IdP and service.",
	    "Journeys that ended with a code for the service, by IdP and service."};
	for (int c = 0; c <= MX_COL_SUCCEEDED; c++) {
		head(f, steps[c], "counter", helps[c]);
		for (size_t i = 0; i <= r->ni; i++)
			for (size_t s = 0; s <= r->ns; s++) {
				if (c == MX_COL_STARTED && i != r->ni)
					continue; /* no IdP is known when a journey starts */
				fprintf(f, "%s{idp=\"", steps[c]);
				label(f, idp_name(r, i));
				fputs("\",service=\"", f);
				label(f, svc_name(r, s));
				fprintf(f, "\"} %llu\n",
				        (unsigned long long)mx_sum(r, mx_funnel_at(r, i, s, c)));
			}
	}
	head(f, "idhub_journeys_failed_total", "counter",
	     "Journeys that failed, by IdP (none: before one was chosen), service and reason.");
	for (size_t i = 0; i <= r->ni; i++)
		for (size_t s = 0; s <= r->ns; s++)
			for (int w = 0; w < MX_FAIL_COUNT; w++) {
				fputs("idhub_journeys_failed_total{idp=\"", f);
				label(f, idp_name(r, i));
				fputs("\",service=\"", f);
				label(f, svc_name(r, s));
				fprintf(f, "\",reason=\"%s\"} %llu\n", mx_fail_names[w],
				        (unsigned long long)mx_sum(
				            r, mx_funnel_at(r, i, s, MX_COL_FAIL0 + w)));
			}
}

static void login_series(FILE *f, const mx_registry *r)
{
	head(f, "idhub_login_duration_seconds", "histogram",
	     "Whole logins, from /authorize to the code, in seconds.");
	hist(f, r, "idhub_login_duration_seconds", "", r->login, mx_login_bounds, MX_LOGIN_NB, 1);
	head(f, "idhub_idp_time_seconds", "histogram",
	     "Time citizens spent at the IdP in completed logins, by IdP.");
	for (size_t i = 0; i < r->ni; i++) {
		char l[96];
		snprintf(l, sizeof l, "idp=\"%s\"", idp_name(r, i));
		hist(f, r, "idhub_idp_time_seconds", l, r->idp_time + i * MX_HIST_SLOTS(MX_IDP_NB),
		     mx_idp_bounds, MX_IDP_NB, 1);
	}
	head(f, "idhub_signins_total", "counter",
	     "Sign-ins by service, citizen (new: first sight of the pairwise record) and level.");
	for (size_t s = 0; s <= r->ns; s++) {
		size_t b = r->signin + s * (2 + MX_LEVELS);
		for (int c = 0; c < 2; c++) {
			fputs("idhub_signins_total{service=\"", f);
			label(f, svc_name(r, s));
			fprintf(f, "\",citizen=\"%s\"} %llu\n", c ? "returning" : "new",
			        (unsigned long long)mx_sum(r, b + (size_t)c));
		}
	}
	head(f, "idhub_signins_by_level_total", "counter", "Sign-ins by service and level.");
	for (size_t s = 0; s <= r->ns; s++)
		for (int lv = 1; lv <= r->cfg->nloas && lv < MX_LEVELS; lv++) {
			fputs("idhub_signins_by_level_total{service=\"", f);
			label(f, svc_name(r, s));
			fprintf(f, "\",level=\"%d\"} %llu\n", lv,
			        (unsigned long long)mx_sum(r, r->signin + s * (2 + MX_LEVELS) + 2 +
			                                          (size_t)lv));
		}
}

static void token_series(FILE *f, const mx_registry *r)
{
	static const char *const codes[] = {"issued", "redeemed", "replayed"};
	static const char *const tokens[] = {"id_token", "access_token", "refresh_token"};
	head(f, "idhub_codes_total", "counter",
	     "Authorization codes issued, redeemed and replayed.");
	for (int i = 0; i < MX_CODE_COUNT; i++)
		fprintf(f, "idhub_codes_total{event=\"%s\"} %llu\n", codes[i],
		        (unsigned long long)mx_sum(r, r->codes + (size_t)i));
	head(f, "idhub_tokens_issued_total", "counter", "Tokens issued by type.");
	for (int i = 0; i < MX_TOKEN_COUNT; i++)
		fprintf(f, "idhub_tokens_issued_total{type=\"%s\"} %llu\n", tokens[i],
		        (unsigned long long)mx_sum(r, r->tokens + (size_t)i));
}

static void idp_series(FILE *f, const mx_registry *r)
{
	head(f, "idhub_idp_calls_total", "counter", "Calls to the upstream IdP's adapter.");
	for (size_t i = 0; i < r->ni; i++)
		fprintf(f, "idhub_idp_calls_total{idp=\"%s\"} %llu\n", idp_name(r, i),
		        (unsigned long long)mx_sum(r, r->idp_calls + i * 2));
	head(f, "idhub_idp_errors_total", "counter", "Failed calls to the upstream IdP's adapter.");
	for (size_t i = 0; i < r->ni; i++)
		fprintf(f, "idhub_idp_errors_total{idp=\"%s\"} %llu\n", idp_name(r, i),
		        (unsigned long long)mx_sum(r, r->idp_calls + i * 2 + 1));
	head(f, "idhub_idp_refusals_total", "counter",
	     "Logins the IdP's adapter refused, by the check that failed (a fixed list).");
	for (size_t i = 0; i < r->ni; i++)
		for (int c = 1; c < IDHUB_CHECK_COUNT; c++)
			fprintf(f, "idhub_idp_refusals_total{idp=\"%s\",check=\"%s\"} %llu\n",
			        idp_name(r, i), metrics_check_names[c],
			        (unsigned long long)mx_sum(
			            r, r->idp_checks + i * IDHUB_CHECK_COUNT + (size_t)c));
	head(f, "idhub_idp_call_duration_seconds", "histogram",
	     "Duration of the upstream IdP's adapter calls (start and finish).");
	for (size_t i = 0; i < r->ni; i++) {
		char l[96];
		snprintf(l, sizeof l, "idp=\"%s\"", idp_name(r, i));
		hist(f, r, "idhub_idp_call_duration_seconds", l,
		     r->idp_lat + i * MX_HIST_SLOTS(MX_HTTP_NB), mx_http_bounds, MX_HTTP_NB, 1e9);
	}
	head(f, "idhub_idp_document_age_seconds", "gauge",
	     "Age of the IdP's last fetched metadata or JWKS (only IdPs that fetch one).");
	int64_t now = (int64_t)time(NULL);
	for (size_t i = 0; i < r->ni; i++) {
		int64_t t = atomic_load(&r->doc_fetched[i]);
		if (t)
			fprintf(f, "idhub_idp_document_age_seconds{idp=\"%s\"} %lld\n",
			        idp_name(r, i), (long long)(now - t));
	}
}

void metrics_render_registry(FILE *f)
{
	const mx_registry *r = mx_reg;
	if (!r)
		return;
	http_series(f, r);
	funnel_series(f, r);
	login_series(f, r);
	token_series(f, r);
	idp_series(f, r);
}
