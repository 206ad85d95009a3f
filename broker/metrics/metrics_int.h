/* metrics_int.h — the registry's layout, shared by the files of broker/metrics/ only.
 *
 * Every counter and histogram bucket is one 64-bit slot. Hooks add to the calling thread's shard
 * (a copy of all slots; threads are spread over MX_SHARDS shards round-robin), so two threads
 * rarely write the same cache line; a scrape sums the shards. Histograms keep per-bucket counts
 * (made cumulative when rendered), an overflow bucket, and the sum in their unit.
 *
 * The hourly aggregates (hourly.c) are a second, unsharded set of slots in two generations, by
 * the parity of the UNIX hour: a hook adds to the current hour's generation, and the flusher moves
 * each generation's counts (atomic exchange with 0) into the store under the hour they belong to.
 */
#ifndef IDHUB_METRICS_INT_H
#define IDHUB_METRICS_INT_H
#include "metrics.h"
#include "hourly.h"
#include "../config/config.h"
#include <stdatomic.h>
#include <stddef.h>

#define MX_SHARDS 16

/* Endpoints: the router's table, fixed. */
enum {
	MX_EP_HEALTHZ,
	MX_EP_DISCOVERY,
	MX_EP_JWKS,
	MX_EP_AUTHORIZE,
	MX_EP_TOKEN,
	MX_EP_USERINFO,
	MX_EP_LOGIN,
	MX_EP_LOGIN_CANCEL,
	MX_EP_CALLBACK,
	MX_EP_IDP,
	MX_EP_ASSETS,
	MX_EP_DEMO,
	MX_EP_ROOT,
	MX_EP_OTHER,
	MX_EP_COUNT
};
extern const char *const mx_endpoint_names[MX_EP_COUNT];
/* HTTP statuses counted by their own label; any other is "other". */
#define MX_ST_COUNT 17
extern const int mx_statuses[MX_ST_COUNT - 1];

/* Histogram bucket bounds. */
#define MX_HTTP_NB 12 /* request and upstream-call latency, seconds */
extern const double mx_http_bounds[MX_HTTP_NB];
#define MX_LOGIN_NB 10 /* whole login, seconds */
extern const double mx_login_bounds[MX_LOGIN_NB];
#define MX_IDP_NB METRICS_IDP_BUCKETS /* time at the IdP, seconds: the report's buckets */
#define mx_idp_bounds metrics_idp_bucket_bounds
#define MX_LEVELS 9 /* levels of assurance 0..8 (config: at most 8) */

/* Funnel columns: the steps, then succeeded, then the failure reasons. */
enum { MX_COL_STARTED, MX_COL_CHOSEN, MX_COL_RETURNED, MX_COL_SUCCEEDED, MX_COL_FAIL0 };
#define MX_FUNNEL_COLS (MX_COL_FAIL0 + MX_FAIL_COUNT)
#define mx_fail_names metrics_fail_reasons
/* The labels of idhub_check (registry.c). */
extern const char *const metrics_check_names[IDHUB_CHECK_COUNT];

/* Hourly columns per IdP: chosen (journeys started at it), completed, failures, time buckets. */
enum { MX_H_IDP_STARTED, MX_H_IDP_COMPLETED, MX_H_IDP_FAIL0 };
#define MX_H_IDP_TIME0 (MX_H_IDP_FAIL0 + MX_FAIL_COUNT)
#define MX_H_IDP_COLS (MX_H_IDP_TIME0 + MX_IDP_NB + 1)
/* Hourly columns per service: journeys started, sign-ins, new, returning, levels. */
enum { MX_H_SVC_JOURNEYS, MX_H_SVC_SIGNINS, MX_H_SVC_NEW, MX_H_SVC_RETURNING, MX_H_SVC_LEVEL0 };
#define MX_H_SVC_COLS (MX_H_SVC_LEVEL0 + MX_LEVELS)

typedef struct mx_registry {
	const hub_conf *cfg;
	size_t ni; /* IdPs in the config; index ni is "none" (not chosen yet) */
	size_t ns; /* services in the config; index ns is "other" */
	/* slot offsets within a shard */
	size_t http_req, http_lat, login, funnel, idp_time, codes, tokens, idp_calls, idp_checks,
	    idp_lat, signin, per_shard;
	_Atomic uint64_t *slots;      /* MX_SHARDS * per_shard */
	_Atomic int64_t *doc_fetched; /* per IdP: UNIX time its document was fetched, or 0 */
	size_t hourly_idp, hourly_svc, hourly_n;
	_Atomic uint64_t *hourly; /* [2][hourly_n] */
	int64_t started;          /* UNIX time of metrics_init */
	char node[64];
} mx_registry;

extern mx_registry *mx_reg;

/* Adds n to slot on the calling thread's shard. */
void mx_add(size_t slot, uint64_t n);
/* Counts v in the histogram at slot (nb bounds), adding v * unit to its sum. */
void mx_observe(size_t slot, const double *bounds, int nb, double v, double unit);
/* Adds n to column col of the current hour's aggregates (base: an IdP's or a service's row). */
void mx_hourly_add(size_t base, int col, uint64_t n);
/* Forgets this thread's new-citizen mark (metrics_new_citizen): at the end of every request, so
 * a login that failed after its pairwise record was made cannot mark the thread's next one. */
void mx_citizen_clear(void);
/* Sum of one slot over the shards. */
uint64_t mx_sum(const mx_registry *r, size_t slot);
/* The histogram slot layout: nb buckets, an overflow bucket, then the sum. */
#define MX_HIST_SLOTS(nb) ((nb) + 2)
/* Offsets of a funnel cell and an hourly cell. */
size_t mx_funnel_at(const mx_registry *r, size_t idp, size_t svc, int col);
size_t mx_idp_index(const mx_registry *r, const char *id);
size_t mx_svc_index(const mx_registry *r, const char *client_id);

#endif
