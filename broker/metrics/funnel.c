/* funnel.c — the journey funnel, codes, tokens and upstream IdP calls: the hooks of metrics.h that
 * the journey, the token endpoint and the adapter host call, counting both the live series and the
 * current hour's aggregates for the transparency report. */
#include "metrics_int.h"
#include <string.h>

static _Thread_local int new_citizen;

void mx_hourly_add(size_t base, int col, uint64_t n)
{
	uint64_t hour = (uint64_t)time(NULL) / 3600;
	_Atomic uint64_t *g = mx_reg->hourly + (hour & 1) * mx_reg->hourly_n;
	atomic_fetch_add_explicit(&g[base + (size_t)col], n, memory_order_relaxed);
}

static size_t hourly_idp(size_t i)
{
	return mx_reg->hourly_idp + i * MX_H_IDP_COLS;
}

static size_t hourly_svc(size_t s)
{
	return mx_reg->hourly_svc + s * MX_H_SVC_COLS;
}

void metrics_journey_step(const char *idp, const char *client_id, metrics_step step)
{
	mx_registry *r = mx_reg;
	if (!r)
		return;
	size_t i = mx_idp_index(r, idp), s = mx_svc_index(r, client_id);
	static const int col[] = {MX_COL_STARTED, MX_COL_CHOSEN, MX_COL_RETURNED};
	mx_add(mx_funnel_at(r, i, s, col[step]), 1);
	if (step == MX_STEP_STARTED)
		mx_hourly_add(hourly_svc(s), MX_H_SVC_JOURNEYS, 1);
	else if (step == MX_STEP_IDP_CHOSEN && i < r->ni)
		mx_hourly_add(hourly_idp(i), MX_H_IDP_STARTED, 1);
}

void metrics_journey_failed(const char *idp, const char *client_id, metrics_fail why)
{
	mx_registry *r = mx_reg;
	if (!r || (int)why < 0 || why >= MX_FAIL_COUNT)
		return;
	size_t i = mx_idp_index(r, idp), s = mx_svc_index(r, client_id);
	mx_add(mx_funnel_at(r, i, s, MX_COL_FAIL0 + (int)why), 1);
	if (i < r->ni)
		mx_hourly_add(hourly_idp(i), MX_H_IDP_FAIL0 + (int)why, 1);
}

metrics_fail metrics_fail_of_status(idhub_status st)
{
	switch (st) {
	case IDHUB_ERR_ACCESS_DENIED:
		return MX_FAIL_CANCELLED;
	case IDHUB_ERR_TIMEOUT:
		return MX_FAIL_EXPIRED;
	case IDHUB_ERR_UNAVAILABLE:
		return MX_FAIL_UNAVAILABLE;
	case IDHUB_ERR_LOA:
		return MX_FAIL_LOA;
	default:
		return MX_FAIL_INVALID;
	}
}

void metrics_idp_refused(const char *idp, idhub_check check)
{
	mx_registry *r = mx_reg;
	size_t i = r ? mx_idp_index(r, idp) : 0;
	if (r && i < r->ni && check > IDHUB_CHECK_UNSAID && check < IDHUB_CHECK_COUNT)
		mx_add(r->idp_checks + i * IDHUB_CHECK_COUNT + (size_t)check, 1);
}

void metrics_new_citizen(void)
{
	new_citizen = 1;
}

void mx_citizen_clear(void)
{
	new_citizen = 0;
}

void metrics_journey_succeeded(const char *idp, const char *client_id, int64_t created,
                               int64_t upstream_started, int64_t now, int loa)
{
	mx_registry *r = mx_reg;
	int fresh = new_citizen;
	new_citizen = 0;
	if (!r)
		return;
	size_t i = mx_idp_index(r, idp), s = mx_svc_index(r, client_id);
	mx_add(mx_funnel_at(r, i, s, MX_COL_SUCCEEDED), 1);
	double login = (double)(now > created ? now - created : 0);
	/* a single sign-on from a session went to no IdP: no time at the IdP to count */
	int went = upstream_started > 0;
	double at_idp = (double)(went && now > upstream_started ? now - upstream_started : 0);
	mx_observe(r->login, mx_login_bounds, MX_LOGIN_NB, login, 1);
	if (went)
		mx_observe(r->idp_time + i * MX_HIST_SLOTS(MX_IDP_NB), mx_idp_bounds, MX_IDP_NB,
		           at_idp, 1);
	int lv = loa < 0 ? 0 : loa >= MX_LEVELS ? MX_LEVELS - 1 : loa;
	mx_add(r->signin + s * (2 + MX_LEVELS) + (fresh ? 0 : 1), 1);
	mx_add(r->signin + s * (2 + MX_LEVELS) + 2 + (size_t)lv, 1);
	if (i < r->ni) {
		int b = 0;
		while (b < MX_IDP_NB && at_idp > mx_idp_bounds[b])
			b++;
		mx_hourly_add(hourly_idp(i), MX_H_IDP_COMPLETED, 1);
		if (went)
			mx_hourly_add(hourly_idp(i), MX_H_IDP_TIME0 + b, 1);
	}
	size_t h = hourly_svc(s);
	mx_hourly_add(h, MX_H_SVC_SIGNINS, 1);
	mx_hourly_add(h, fresh ? MX_H_SVC_NEW : MX_H_SVC_RETURNING, 1);
	mx_hourly_add(h, MX_H_SVC_LEVEL0 + lv, 1);
}

void metrics_code(metrics_code_event what)
{
	if (mx_reg && (int)what >= 0 && what < MX_CODE_COUNT)
		mx_add(mx_reg->codes + what, 1);
}

void metrics_token(metrics_token_type what)
{
	if (mx_reg && (int)what >= 0 && what < MX_TOKEN_COUNT)
		mx_add(mx_reg->tokens + what, 1);
}

void metrics_idp_call(const char *idp, int64_t t0, int failed)
{
	mx_registry *r = mx_reg;
	if (!r)
		return;
	size_t i = mx_idp_index(r, idp);
	if (i >= r->ni)
		return;
	mx_add(r->idp_calls + i * 2, 1);
	if (failed)
		mx_add(r->idp_calls + i * 2 + 1, 1);
	double s = (double)(metrics_clock_ns() - t0) / 1e9;
	mx_observe(r->idp_lat + i * MX_HIST_SLOTS(MX_HTTP_NB), mx_http_bounds, MX_HTTP_NB,
	           s < 0 ? 0 : s, 1e9);
}

void metrics_idp_document_age(const char *idp, int64_t seconds)
{
	mx_registry *r = mx_reg;
	if (!r)
		return;
	size_t i = mx_idp_index(r, idp);
	if (i < r->ni)
		atomic_store(&r->doc_fetched[i], (int64_t)time(NULL) - (seconds > 0 ? seconds : 0));
}
