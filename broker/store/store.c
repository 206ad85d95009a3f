/* store.c — the backend-neutral front of the store: argument checks, ttl to expiry, the clock,
 * the batch list and the background purger thread. The backend itself is behind store_int.h.
 */
#include "store_int.h"
#include "util/log.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PURGE_MAX_PER_RUN = 1000000 };

/* ---- open, close, clock ---- */

store *store_open(const char *dir, size_t map_mib, char **err)
{
	if (err)
		*err = NULL;
	store *s = calloc(1, sizeof *s);
	if (!s) {
		if (err)
			*err = strdup("store: out of memory");
		return NULL;
	}
	s->be = &store_lmdb_backend;
	pthread_mutex_init(&s->purge_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->purge_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (!dir || s->be->open(s, dir, map_mib, err) != STORE_OK) {
		if (!dir && err)
			*err = strdup("store: no directory given");
		pthread_cond_destroy(&s->purge_cv);
		pthread_mutex_destroy(&s->purge_mu);
		free(s);
		return NULL;
	}
	return s;
}

void store_close(store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->purge_mu);
	bool running = s->purge_running;
	s->purge_stop = true;
	pthread_cond_broadcast(&s->purge_cv);
	pthread_mutex_unlock(&s->purge_mu);
	if (running)
		pthread_join(s->purge_thread, NULL);
	s->be->close(s);
	pthread_cond_destroy(&s->purge_cv);
	pthread_mutex_destroy(&s->purge_mu);
	free(s);
}

int64_t store_unclean_floor(const store *s)
{
	return s ? s->unclean_floor : 0;
}

int64_t store_now(const store *s)
{
	if (s && s->clock)
		return s->clock();
	return (int64_t)time(NULL);
}

void store_set_clock(store *s, int64_t (*now)(void))
{
	if (s)
		s->clock = now;
}

/* ---- checks ---- */

static bool ns_ok(store_ns ns)
{
	return (int)ns >= 0 && ns < NS_COUNT;
}

static int check_key(store *s, store_ns ns, const void *key, size_t klen)
{
	if (!s || !ns_ok(ns) || !key || klen == 0)
		return STORE_ERR;
	if (klen > s->be->max_key(s)) {
		log_err("store: key of %zu bytes is longer than the backend's %zu", klen,
		        s->be->max_key(s));
		return STORE_ERR;
	}
	return STORE_OK;
}

/* Absolute expiry for ttl seconds from now (0 = none), or STORE_ERR for a bad ttl. */
static int ttl_expiry(int64_t now, int64_t ttl, int64_t *expires)
{
	if (ttl < 0 || (ttl > 0 && ttl > INT64_MAX - now))
		return STORE_ERR;
	*expires = ttl ? now + ttl : 0;
	return STORE_OK;
}

/* ---- verbs ---- */

int store_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
              int64_t *expires)
{
	int rc = check_key(s, ns, key, klen);
	if (rc)
		return rc;
	return s->be->get(s, ns, key, klen, val, vlen, expires, store_now(s));
}

static int put_common(store *s, store_ns ns, const void *key, size_t klen, const void *val,
                      size_t vlen, int64_t ttl, bool only_new)
{
	int rc = check_key(s, ns, key, klen);
	if (rc)
		return rc;
	if (!val && vlen)
		return STORE_ERR;
	int64_t now = store_now(s), exp;
	if (ttl_expiry(now, ttl, &exp))
		return STORE_ERR;
	return s->be->put(s, ns, key, klen, val, vlen, exp, only_new, now);
}

int store_put(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen,
              int64_t ttl)
{
	return put_common(s, ns, key, klen, val, vlen, ttl, false);
}

int store_put_new(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen,
                  int64_t ttl)
{
	return put_common(s, ns, key, klen, val, vlen, ttl, true);
}

int store_take(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen)
{
	int rc = check_key(s, ns, key, klen);
	if (rc)
		return rc;
	return s->be->take(s, ns, key, klen, val, vlen, store_now(s));
}

int store_swap(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen,
               int64_t ttl, void **old, size_t *oldlen)
{
	int rc = check_key(s, ns, key, klen);
	if (rc)
		return rc;
	if (!val && vlen)
		return STORE_ERR;
	int64_t now = store_now(s), exp;
	if (ttl_expiry(now, ttl, &exp))
		return STORE_ERR;
	return s->be->swap(s, ns, key, klen, val, vlen, exp, old, oldlen, now);
}

int store_del(store *s, store_ns ns, const void *key, size_t klen)
{
	int rc = check_key(s, ns, key, klen);
	if (rc)
		return rc;
	return s->be->del(s, ns, key, klen, store_now(s));
}

int store_iter(store *s, store_ns ns, store_iter_fn fn, void *arg)
{
	if (!s || !ns_ok(ns) || !fn)
		return STORE_ERR;
	return s->be->iter(s, ns, fn, arg, store_now(s));
}

/* ---- batch ---- */

store_batch *store_batch_new(void)
{
	return calloc(1, sizeof(store_batch));
}

void store_batch_free(store_batch *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->ops[i].key);
		free(b->ops[i].val);
	}
	free(b->ops);
	free(b);
}

static void batch_add(store_batch *b, enum store_op_kind kind, store_ns ns, const void *key,
                      size_t klen, const void *val, size_t vlen, int64_t ttl)
{
	if (!b || b->failed)
		return;
	if (!ns_ok(ns) || !key || klen == 0 || (!val && vlen) || ttl < 0)
		goto fail;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 8;
		struct store_op *ops = realloc(b->ops, cap * sizeof *ops);
		if (!ops)
			goto fail;
		b->ops = ops;
		b->cap = cap;
	}
	struct store_op *op = &b->ops[b->n];
	*op = (struct store_op){.kind = kind, .ns = ns, .klen = klen, .vlen = vlen, .ttl = ttl};
	op->key = malloc(klen);
	op->val = kind == STORE_OP_DEL ? NULL : malloc(vlen ? vlen : 1);
	if (!op->key || (kind != STORE_OP_DEL && !op->val)) {
		free(op->key);
		free(op->val);
		goto fail;
	}
	memcpy(op->key, key, klen);
	if (vlen)
		memcpy(op->val, val, vlen);
	b->n++;
	return;
fail:
	b->failed = true;
}

void store_batch_put(store_batch *b, store_ns ns, const void *key, size_t klen, const void *val,
                     size_t vlen, int64_t ttl)
{
	batch_add(b, STORE_OP_PUT, ns, key, klen, val, vlen, ttl);
}

void store_batch_put_new(store_batch *b, store_ns ns, const void *key, size_t klen, const void *val,
                         size_t vlen, int64_t ttl)
{
	batch_add(b, STORE_OP_PUT_NEW, ns, key, klen, val, vlen, ttl);
}

void store_batch_del(store_batch *b, store_ns ns, const void *key, size_t klen)
{
	batch_add(b, STORE_OP_DEL, ns, key, klen, NULL, 0, 0);
}

int store_batch_commit(store *s, store_batch *b)
{
	int rc = STORE_OK;
	if (!s || !b || b->failed) {
		rc = STORE_ERR;
		goto out;
	}
	if (b->n == 0)
		goto out;
	bool vol = store_ns_volatile(b->ops[0].ns);
	for (size_t i = 0; i < b->n; i++) {
		if (store_ns_volatile(b->ops[i].ns) != vol) {
			log_err("store: a batch mixes volatile and durable namespaces");
			rc = STORE_ERR;
			goto out;
		}
		if ((rc = check_key(s, b->ops[i].ns, b->ops[i].key, b->ops[i].klen)))
			goto out;
	}
	int64_t now = store_now(s);
	for (size_t i = 0; i < b->n; i++) {
		int64_t exp;
		if (ttl_expiry(now, b->ops[i].ttl, &exp)) {
			rc = STORE_ERR;
			goto out;
		}
		b->ops[i].ttl = exp; /* the backend reads ttl as the absolute expiry */
	}
	rc = s->be->batch(s, b->ops, b->n, now);
out:
	store_batch_free(b);
	return rc;
}

/* ---- purge ---- */

long store_purge_expired(store *s, int64_t now, long max)
{
	if (!s)
		return STORE_ERR;
	if (max <= 0)
		return 0;
	return s->be->purge(s, now, max);
}

static void *purger_main(void *arg)
{
	store *s = arg;
	pthread_mutex_lock(&s->purge_mu);
	while (!s->purge_stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += s->purge_interval;
		while (!s->purge_stop) {
			int rc = pthread_cond_timedwait(&s->purge_cv, &s->purge_mu, &until);
			if (rc == ETIMEDOUT)
				break;
		}
		if (s->purge_stop)
			break;
		pthread_mutex_unlock(&s->purge_mu);
		long n = store_purge_expired(s, store_now(s), PURGE_MAX_PER_RUN);
		if (n > 0)
			log_debug("store: purged %ld expired records", n);
		pthread_mutex_lock(&s->purge_mu);
	}
	pthread_mutex_unlock(&s->purge_mu);
	return NULL;
}

int store_start_purger(store *s, int interval_s)
{
	if (!s || interval_s <= 0)
		return STORE_ERR;
	int rc = STORE_OK;
	pthread_mutex_lock(&s->purge_mu);
	if (s->purge_running || s->purge_stop) {
		rc = STORE_ERR;
	} else {
		s->purge_interval = interval_s;
		if (pthread_create(&s->purge_thread, NULL, purger_main, s) != 0) {
			log_err("store: cannot start the purger thread");
			rc = STORE_ERR;
		} else {
			s->purge_running = true;
		}
	}
	pthread_mutex_unlock(&s->purge_mu);
	return rc;
}

/* ---- statistics ---- */

long store_count(store *s, store_ns ns)
{
	if (!s || !ns_ok(ns))
		return STORE_ERR;
	return s->be->count(s, ns);
}

int64_t store_disk_bytes(store *s)
{
	if (!s)
		return STORE_ERR;
	return s->be->disk_bytes(s);
}
