/* registry.c — the metrics registry (see metrics_int.h) and every counting hook of metrics.h. */
#include "metrics_int.h"
#include "../util/random.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mx_registry *mx_reg;

const char *const mx_endpoint_names[MX_EP_COUNT] = {
    "healthz", "discovery", "jwks",     "authorize", "token", "userinfo", "login",
    "cancel",  "callback",  "idp_page", "assets",    "demo",  "root",     "other"};
const int mx_statuses[MX_ST_COUNT - 1] = {200, 201, 204, 302, 303, 304, 400, 401,
                                          403, 404, 405, 413, 429, 500, 502, 503};
const double mx_http_bounds[MX_HTTP_NB] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                           0.05,   0.1,   0.25,   0.5,   1,    2.5};
const double mx_login_bounds[MX_LOGIN_NB] = {1, 2, 5, 10, 20, 30, 60, 120, 300, 600};
const double metrics_idp_bucket_bounds[METRICS_IDP_BUCKETS] = {5,  10, 15,  20,  30,  45,
                                                               60, 90, 120, 180, 300, 600};
const char *const metrics_fail_reasons[MX_FAIL_COUNT] = {
    "cancelled", "level_too_low", "invalid_assertion", "idp_unavailable", "expired", "busy"};

const char *const metrics_check_names[IDHUB_CHECK_COUNT] = {
    "unsaid",     "format",  "trust",  "signature", "type",  "validity",
    "disclosure", "binding", "status", "claims",    "replay"};

static _Thread_local int my_shard = -1;
static atomic_uint next_shard;

static _Atomic uint64_t *shard(void)
{
	if (my_shard < 0)
		my_shard = (int)(atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) %
		                 MX_SHARDS);
	return mx_reg->slots + (size_t)my_shard * mx_reg->per_shard;
}

void mx_add(size_t slot, uint64_t n)
{
	atomic_fetch_add_explicit(&shard()[slot], n, memory_order_relaxed);
}

uint64_t mx_sum(const mx_registry *r, size_t slot)
{
	uint64_t s = 0;
	for (size_t i = 0; i < MX_SHARDS; i++)
		s += atomic_load_explicit(&r->slots[i * r->per_shard + slot], memory_order_relaxed);
	return s;
}

/* Adds v (in the histogram's unit, scaled by `unit` for the sum) to the histogram at slot. */
void mx_observe(size_t slot, const double *bounds, int nb, double v, double unit)
{
	int b = 0;
	while (b < nb && v > bounds[b])
		b++;
	mx_add(slot + (size_t)b, 1);
	mx_add(slot + (size_t)nb + 1, (uint64_t)(v * unit + 0.5));
}

size_t mx_idp_index(const mx_registry *r, const char *id)
{
	if (id)
		for (size_t i = 0; i < r->ni; i++)
			if (strcmp(r->cfg->idps[i].id, id) == 0)
				return i;
	return r->ni;
}

size_t mx_svc_index(const mx_registry *r, const char *client_id)
{
	if (client_id)
		for (size_t i = 0; i < r->ns; i++)
			if (strcmp(r->cfg->services[i].client_id, client_id) == 0)
				return i;
	return r->ns;
}

size_t mx_funnel_at(const mx_registry *r, size_t idp, size_t svc, int col)
{
	return r->funnel + (idp * (r->ns + 1) + svc) * MX_FUNNEL_COLS + (size_t)col;
}

static void layout(mx_registry *r)
{
	size_t o = 0;
	r->http_req = o, o += MX_EP_COUNT * MX_ST_COUNT;
	r->http_lat = o, o += MX_EP_COUNT * MX_HIST_SLOTS(MX_HTTP_NB);
	r->login = o, o += MX_HIST_SLOTS(MX_LOGIN_NB);
	r->funnel = o, o += (r->ni + 1) * (r->ns + 1) * MX_FUNNEL_COLS;
	r->idp_time = o, o += (r->ni + 1) * MX_HIST_SLOTS(MX_IDP_NB);
	r->codes = o, o += MX_CODE_COUNT;
	r->tokens = o, o += MX_TOKEN_COUNT;
	r->idp_calls = o, o += (r->ni + 1) * 2;
	r->idp_checks = o, o += (r->ni + 1) * IDHUB_CHECK_COUNT;
	r->idp_lat = o, o += (r->ni + 1) * MX_HIST_SLOTS(MX_HTTP_NB);
	r->signin = o, o += (r->ns + 1) * (2 + MX_LEVELS);
	r->per_shard = (o + 7) & ~(size_t)7; /* shards start on their own cache line */
	r->hourly_idp = 0;
	r->hourly_svc = r->ni * MX_H_IDP_COLS;
	r->hourly_n = r->hourly_svc + (r->ns + 1) * MX_H_SVC_COLS;
}

int metrics_init(const hub_conf *cfg, const char *node_id)
{
	mx_registry *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->cfg = cfg;
	r->ni = cfg->nidps;
	r->ns = cfg->nservices;
	layout(r);
	r->slots = aligned_alloc(64, ((MX_SHARDS * r->per_shard * 8 + 63) / 64) * 64);
	r->doc_fetched = calloc(r->ni + 1, sizeof *r->doc_fetched);
	r->hourly = calloc(2 * r->hourly_n + 1, sizeof *r->hourly);
	if (!r->slots || !r->doc_fetched || !r->hourly) {
		free(r->slots);
		free(r->doc_fetched);
		free(r->hourly);
		free(r);
		return -1;
	}
	memset(r->slots, 0, MX_SHARDS * r->per_shard * 8);
	r->started = (int64_t)time(NULL);
	char rnd[44];
	if (!node_id) /* a node id of its own: random per start (hourly.h) */
		node_id = random_token(rnd) == 0 ? rnd : "node";
	snprintf(r->node, sizeof r->node, "%s", node_id);
	mx_reg = r;
	return 0;
}

void metrics_shutdown(void)
{
	mx_registry *r = mx_reg;
	if (!r)
		return;
	mx_reg = NULL;
	free(r->slots);
	free(r->doc_fetched);
	free(r->hourly);
	free(r);
}

int64_t metrics_clock_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The fixed route of a path: the router's table, by prefix. */
static int endpoint_of(const char *p)
{
	static const struct {
		const char *path;
		int prefix, ep;
	} t[] = {{"/healthz", 0, MX_EP_HEALTHZ},
	         {"/.well-known/openid-configuration", 0, MX_EP_DISCOVERY},
	         {"/jwks", 0, MX_EP_JWKS},
	         {"/authorize", 0, MX_EP_AUTHORIZE},
	         {"/token", 0, MX_EP_TOKEN},
	         {"/userinfo", 0, MX_EP_USERINFO},
	         {"/callback/", 1, MX_EP_CALLBACK},
	         {"/idp/", 1, MX_EP_IDP},
	         {"/assets/", 1, MX_EP_ASSETS},
	         {"/demo", 1, MX_EP_DEMO},
	         {"/", 0, MX_EP_ROOT}};
	if (!p)
		return MX_EP_OTHER;
	if (strncmp(p, "/login/", 7) == 0) {
		size_t n = strlen(p);
		return n > 14 && strcmp(p + n - 7, "/cancel") == 0 ? MX_EP_LOGIN_CANCEL
		                                                   : MX_EP_LOGIN;
	}
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		if (t[i].prefix ? strncmp(p, t[i].path, strlen(t[i].path)) == 0
		                : strcmp(p, t[i].path) == 0)
			return t[i].ep;
	return MX_EP_OTHER;
}

void metrics_http_request(const char *path, int status, const struct timespec *t0)
{
	mx_citizen_clear();
	if (!mx_reg)
		return;
	int ep = endpoint_of(path), st = MX_ST_COUNT - 1;
	for (int i = 0; i < MX_ST_COUNT - 1; i++)
		if (mx_statuses[i] == status)
			st = i;
	mx_add(mx_reg->http_req + (size_t)(ep * MX_ST_COUNT + st), 1);
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	double s = (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
	mx_observe(mx_reg->http_lat + (size_t)ep * MX_HIST_SLOTS(MX_HTTP_NB), mx_http_bounds,
	           MX_HTTP_NB, s < 0 ? 0 : s, 1e9);
}
