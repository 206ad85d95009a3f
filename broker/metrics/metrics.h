/* metrics.h — the hub's counters and histograms: what the rest of the daemon calls to count.
 *
 * Every hook is one call that costs a few relaxed atomic adds on this thread's shard (no lock, no
 * allocation). Labels come only from the config: an IdP id or a service client_id is looked up in
 * the config's tables, and anything the config does not name counts under "other" (a service
 * registered with idhubctl) or is dropped; endpoints and reasons are fixed enums. So a request can
 * never create a series. Before metrics_init (idhubctl, unit tests) every hook does nothing.
 *
 * The registry is process-wide (like the log level): hooks are called from places that hold no
 * hub pointer (the HTTP layer, the pairwise registry). It is written only by metrics_init and
 * metrics_shutdown, on the main thread, before threads start and after they stop.
 *
 * Exposition (metrics_render, expose.c), the /metrics listener (listener.c) and the hourly
 * aggregates kept in the store for the transparency report (hourly.c) read the same registry. */
#ifndef IDHUB_METRICS_H
#define IDHUB_METRICS_H
#include <idhub/adapter.h>
#include <stdint.h>
#include <time.h>

struct hub_conf;

/* Why a journey failed: a fixed set, the funnel's last step. */
typedef enum {
	MX_FAIL_CANCELLED = 0, /* the citizen cancelled (at the picker or at the IdP) */
	MX_FAIL_LOA,           /* the IdP asserted a lower level than the service needs */
	MX_FAIL_INVALID,       /* the IdP's answer could not be accepted */
	MX_FAIL_UNAVAILABLE,   /* the IdP could not be reached, or was saturated */
	MX_FAIL_EXPIRED,       /* the journey had expired, or was already spent */
	MX_FAIL_BUSY,          /* the hub refused a new journey (store above its high-water mark) */
	MX_FAIL_COUNT
} metrics_fail;

/* The funnel's steps before the outcome. */
typedef enum {
	MX_STEP_STARTED = 0, /* /authorize accepted: the picker is shown */
	MX_STEP_IDP_CHOSEN,  /* the citizen picked an IdP and was sent there */
	MX_STEP_IDP_RETURNED /* the citizen came back to /callback/<idp> for a live journey */
} metrics_step;

typedef enum {
	MX_TOKEN_ID = 0,
	MX_TOKEN_ACCESS,
	MX_TOKEN_REFRESH,
	MX_TOKEN_COUNT
} metrics_token_type;
typedef enum {
	MX_CODE_ISSUED = 0,
	MX_CODE_REDEEMED,
	MX_CODE_REPLAYED,
	MX_CODE_COUNT
} metrics_code_event;

/* Sets up the registry for cfg's IdPs and services (the config must outlive the registry).
 * node_id names this process's hourly records in the store (several nodes share one store);
 * NULL: a random one.
 * Returns 0 or -1 (out of memory). Main thread, before other threads start. */
int metrics_init(const struct hub_conf *cfg, const char *node_id);
/* Frees the registry; hooks do nothing afterwards. Main thread, after other threads stopped. */
void metrics_shutdown(void);

/* A monotonic clock in nanoseconds, for the latency hooks below. */
int64_t metrics_clock_ns(void);

/* HTTP: one call per request when its response is ready, with the time its request line
 * arrived. The endpoint is the path's fixed route (never the path itself). path may be NULL. */
void metrics_http_request(const char *path, int status, const struct timespec *t0);

/* The journey funnel. idp and client_id may be NULL (not known at that step). */
void metrics_journey_step(const char *idp, const char *client_id, metrics_step step);
void metrics_journey_failed(const char *idp, const char *client_id, metrics_fail why);
/* The adapter's refusal (idhub_status) as a failure reason. */
metrics_fail metrics_fail_of_status(idhub_status st);
/* An adapter refused a login at check (a fixed idhub_check; IDHUB_CHECK_UNSAID counts nothing):
 * idhub_idp_refusals_total{idp,check}, next to the journey's reason. */
void metrics_idp_refused(const char *idp, idhub_check check);
/* A code was issued: the journey succeeded. created: the journey's start and upstream_started:
 * when the citizen was sent to the IdP (UNIX seconds; 0: none, a single sign-on from a
 * session); now: the time of the code; loa: the level
 * released; new_citizen: the pairwise record was made by this login (metrics_new_citizen). */
void metrics_journey_succeeded(const char *idp, const char *client_id, int64_t created,
                               int64_t upstream_started, int64_t now, int loa);
/* Called by the pairwise registry when it records a citizen's first sight in a sector: marks this
 * thread's login in progress as a new citizen (read and cleared by metrics_journey_succeeded). */
void metrics_new_citizen(void);

void metrics_code(metrics_code_event what);
void metrics_token(metrics_token_type what);

/* An upstream IdP call (an adapter's start or finish) that began at t0 (metrics_clock_ns) and
 * failed (failed != 0) or not. */
void metrics_idp_call(const char *idp, int64_t t0, int failed);
/* The IdP's remote document (metadata, JWKS, discovery) is `seconds` old now: the adapter host
 * calls this when it fetches or revalidates one (0: just fetched). Exposed as its age. */
void metrics_idp_document_age(const char *idp, int64_t seconds);

#endif
