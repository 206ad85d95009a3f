/* hourly.c — the hourly aggregates' flusher and reader (see hourly.h). The counts of each hour
 * wait in memory (metrics_int.h: two generations by the hour's parity) and are added to this
 * node's record of that hour in one durable batch per flush. */
#include "hourly.h"
#include "metrics_int.h"
#include "../util/log.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(MX_FAIL_COUNT == 6, "metrics_fail_reasons has six names");

struct metrics_hourly {
	store *st;
	int interval_s;
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
};

static void hour_text(uint64_t hour, char out[14])
{
	time_t t = (time_t)(hour * 3600);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 14, "%Y-%m-%dT%H", &tm);
}

/* Takes (zeroes) n counters from g into out; returns their total. */
static uint64_t take(_Atomic uint64_t *g, size_t n, uint64_t *out)
{
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += out[i] = atomic_exchange_explicit(&g[i], 0, memory_order_relaxed);
	return total;
}

static void add_int(json_t *o, const char *k, uint64_t n)
{
	json_object_set_new(
	    o, k, json_integer(json_integer_value(json_object_get(o, k)) + (json_int_t)n));
}

static void merge_idp(json_t *v, const uint64_t *c)
{
	add_int(v, "started", c[MX_H_IDP_STARTED]);
	add_int(v, "completed", c[MX_H_IDP_COMPLETED]);
	json_t *f = json_object_get(v, "failed");
	if (!json_is_object(f))
		json_object_set_new(v, "failed", f = json_object());
	for (int w = 0; w < MX_FAIL_COUNT; w++)
		add_int(f, mx_fail_names[w], c[MX_H_IDP_FAIL0 + w]);
	json_t *t = json_object_get(v, "idp_time");
	if (!json_is_array(t) || json_array_size(t) != MX_IDP_NB + 1) {
		json_object_set_new(v, "idp_time", t = json_array());
		for (int b = 0; b <= MX_IDP_NB; b++)
			json_array_append_new(t, json_integer(0));
	}
	for (int b = 0; b <= MX_IDP_NB; b++)
		json_array_set_new(t, (size_t)b,
		                   json_integer(json_integer_value(json_array_get(t, (size_t)b)) +
		                                (json_int_t)c[MX_H_IDP_TIME0 + b]));
}

static void merge_svc(json_t *v, const uint64_t *c)
{
	add_int(v, "journeys", c[MX_H_SVC_JOURNEYS]);
	add_int(v, "signins", c[MX_H_SVC_SIGNINS]);
	add_int(v, "new", c[MX_H_SVC_NEW]);
	add_int(v, "returning", c[MX_H_SVC_RETURNING]);
	json_t *l = json_object_get(v, "levels");
	if (!json_is_object(l))
		json_object_set_new(v, "levels", l = json_object());
	for (int lv = 0; lv < MX_LEVELS; lv++)
		if (c[MX_H_SVC_LEVEL0 + lv]) {
			char k[16];
			snprintf(k, sizeof k, "%d", lv);
			add_int(l, k, c[MX_H_SVC_LEVEL0 + lv]);
		}
}

/* Adds one row's counts c (ncols) to this node's record of the hour, in batch b. */
static void merge_row(store *st, store_batch *b, char kind, const char *hour, const char *id,
                      const uint64_t *c)
{
	char key[512];
	int kl = snprintf(key, sizeof key, "%c|%s|%s|%s", kind, hour, mx_reg->node, id);
	if (kl < 0 || (size_t)kl >= sizeof key)
		return;
	void *old = NULL;
	size_t olen = 0;
	json_t *v = NULL;
	if (store_get(st, NS_REPORT, key, (size_t)kl, &old, &olen, NULL) == 0)
		v = json_loadb(old, olen, 0, NULL);
	free(old);
	if (!json_is_object(v)) {
		json_decref(v);
		v = json_object();
	}
	if (kind == 'i')
		merge_idp(v, c);
	else
		merge_svc(v, c);
	char *js = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(v);
	if (js)
		store_batch_put(b, NS_REPORT, key, (size_t)kl, js, strlen(js), 0);
	free(js);
}

/* Flushes generation g, which holds the counts of the latest hour of its parity. */
static void flush_gen(store *st, store_batch *b, int g, uint64_t now_hour)
{
	const mx_registry *r = mx_reg;
	uint64_t hour = (now_hour & 1) == (uint64_t)g ? now_hour : now_hour - 1;
	char ht[14];
	hour_text(hour, ht);
	_Atomic uint64_t *gen = r->hourly + (size_t)g * r->hourly_n;
	uint64_t c[MX_H_IDP_COLS > MX_H_SVC_COLS ? MX_H_IDP_COLS : MX_H_SVC_COLS];
	for (size_t i = 0; i < r->ni; i++)
		if (take(gen + r->hourly_idp + i * MX_H_IDP_COLS, MX_H_IDP_COLS, c))
			merge_row(st, b, 'i', ht, r->cfg->idps[i].id, c);
	for (size_t s = 0; s <= r->ns; s++)
		if (take(gen + r->hourly_svc + s * MX_H_SVC_COLS, MX_H_SVC_COLS, c))
			merge_row(st, b, 's', ht,
			          s < r->ns ? r->cfg->services[s].client_id : "other", c);
}

int metrics_hourly_flush(store *st)
{
	if (!mx_reg)
		return 0;
	store_batch *b = store_batch_new();
	if (!b)
		return STORE_ERR;
	uint64_t now_hour = (uint64_t)time(NULL) / 3600;
	flush_gen(st, b, 0, now_hour);
	flush_gen(st, b, 1, now_hour);
	int rc = store_batch_commit(st, b);
	if (rc)
		log_warn("metrics: could not write the hourly aggregates (%d)", rc);
	return rc;
}

static void *run(void *arg)
{
	metrics_hourly *m = arg;
	pthread_mutex_lock(&m->mu);
	while (!m->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += m->interval_s;
		pthread_cond_timedwait(&m->cv, &m->mu, &t);
		if (m->stop)
			break;
		pthread_mutex_unlock(&m->mu);
		metrics_hourly_flush(m->st);
		pthread_mutex_lock(&m->mu);
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

metrics_hourly *metrics_hourly_start(store *st, int interval_s)
{
	if (!mx_reg)
		return NULL;
	metrics_hourly *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->st = st;
	m->interval_s = interval_s > 0 ? interval_s : 60;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	if (pthread_create(&m->thread, NULL, run, m)) {
		free(m);
		return NULL;
	}
	return m;
}

void metrics_hourly_stop(metrics_hourly *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = 1;
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	pthread_join(m->thread, NULL);
	metrics_hourly_flush(m->st); /* what the last interval counted */
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

typedef struct iter_ctx {
	int (*fn)(void *, const metrics_hourly_row *);
	void *arg;
} iter_ctx;

static int each(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                int64_t expires)
{
	iter_ctx *c = arg;
	metrics_hourly_row row = {0};
	const char *k = key;
	/* kind | hour(13) | node | id */
	if (klen < 17 || klen > 600 || (k[0] != 'i' && k[0] != 's') || k[1] != '|' || k[15] != '|')
		return 0;
	const char *node_end = memchr(k + 16, '|', klen - 16);
	if (!node_end)
		return 0;
	size_t idlen = klen - (size_t)(node_end + 1 - k);
	if (idlen >= sizeof row.id)
		return 0;
	row.kind = k[0];
	memcpy(row.hour, k + 2, 13);
	memcpy(row.id, node_end + 1, idlen);
	row.val = json_loadb(val, vlen, 0, NULL);
	int rc = json_is_object(row.val) ? c->fn(c->arg, &row) : 0;
	json_decref(row.val);
	return rc;
}

int metrics_hourly_iter(store *st, int (*fn)(void *arg, const metrics_hourly_row *row), void *arg)
{
	iter_ctx c = {fn, arg};
	return store_iter(st, NS_REPORT, each, &c);
}
