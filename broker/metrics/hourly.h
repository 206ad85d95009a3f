/* hourly.h — the hourly aggregates kept in the store (NS_REPORT) for the transparency report: how
 * they are flushed from memory, and how a reader walks them. No personal data: counts per IdP or
 * service and hour only.
 *
 * Key: "<kind>|<YYYY-MM-DDTHH>|<node>|<id>" with kind 'i' (an IdP) or 's' (a service; "other" for
 * services the config does not name); the hour in UTC. Each node writes only its own keys (its
 * node id is random per start), adding to what it wrote before, so several nodes sharing one
 * store never overwrite each other; readers sum over nodes. Values (JSON):
 *   i: {"started", "completed", "failed": {reason: n}, "idp_time": [n per mx_idp_bounds bucket,
 *       then the overflow]}   (started: journeys sent to the IdP; idp_time: completed journeys)
 *   s: {"journeys", "signins", "new", "returning", "levels": {"<level>": n}} */
#ifndef IDHUB_METRICS_HOURLY_H
#define IDHUB_METRICS_HOURLY_H
#include "../store/store.h"
#include <jansson.h>

typedef struct metrics_hourly metrics_hourly;

/* Starts the flusher: every interval_s seconds it moves the counts of the hour in memory into
 * st. Returns NULL if there is no registry or the thread cannot start. */
metrics_hourly *metrics_hourly_start(store *st, int interval_s);
/* Stops the flusher after a last flush (at shutdown). */
void metrics_hourly_stop(metrics_hourly *m);
/* Flushes now; 0 or a STORE_ error. */
int metrics_hourly_flush(store *st);

/* The time-at-IdP buckets' upper bounds in seconds (the last bucket is open). */
#define METRICS_IDP_BUCKETS 12
extern const double metrics_idp_bucket_bounds[METRICS_IDP_BUCKETS];
extern const char *const metrics_fail_reasons[6];

typedef struct metrics_hourly_row {
	char kind;     /* 'i' or 's' */
	char hour[14]; /* YYYY-MM-DDTHH */
	char id[256];  /* the IdP id or client_id */
	json_t *val;   /* borrowed for the call */
} metrics_hourly_row;
/* Calls fn for every record (in key order) until fn returns non-zero. fn must not use the store.
 * Returns 0, fn's value, or a STORE_ error. */
int metrics_hourly_iter(store *st, int (*fn)(void *arg, const metrics_hourly_row *row), void *arg);

#endif
