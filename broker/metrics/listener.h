/* listener.h — /metrics on its own listener (hub.metrics_listen), never on the public port, and the
 * text it serves. */
#ifndef IDHUB_METRICS_LISTENER_H
#define IDHUB_METRICS_LISTENER_H
#include "../config/config.h"
#include "../keys/keys.h"
#include "../store/store.h"
#include <stdio.h>

typedef struct metrics_listener metrics_listener;

/* Starts a small libmicrohttpd daemon (one thread) on cfg->metrics_listen serving GET /metrics
 * (404 for any other path) from the registry, st and the key snapshot of kc. Returns NULL with a
 * malloc'd message in *err; when metrics_listen is "off" returns NULL with *err NULL. */
metrics_listener *metrics_listener_start(const hub_conf *cfg, store *st, keys_cache *kc,
                                         char **err);
void metrics_listener_stop(metrics_listener *l);

/* The whole exposition (registry, then the scrape-time gauges of st and kc; none when st is
 * NULL), malloc'd, NUL-terminated; *len its length. NULL when out of memory. */
char *metrics_render(store *st, keys_cache *kc, size_t *len);
/* The registry's counters and histograms (expose.c). */
void metrics_render_registry(FILE *f);
/* The gauges read at scrape time: signing keys, store use, process, build info (gauges.c). */
void metrics_render_gauges(FILE *f, store *st, keys_cache *kc, const hub_conf *cfg);

#endif
