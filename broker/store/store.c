/* store.c — the backend-neutral front of the store: argument checks, ttl to expiry, the clock,
 * the batch list, audit riders, and the background purger thread. The backend itself is behind
 * store_int.h; the group commit of deferred writes and the operator functions (sync, backup,
 * restore, reader check, fill) are in store_admin.c.
 */
#include "store_int.h"
#include "util/log.h"
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { PURGE_MAX_PER_RUN = 1000000, HIGH_WATER_DEFAULT = 75 };

/* ---- open, close, clock ---- */

const struct store_backend *store_backend_find(const char *name)
{
	if (!name || !strcmp(name, "lmdb"))
		return &store_lmdb_backend;
	if (!strcmp(name, "postgresql"))
		return &store_pg_backend;
	return NULL;
}

int store_check_config(const store_config *sc, char **err)
{
	if (err)
		*err = NULL;
	const struct store_backend *be = sc ? store_backend_find(sc->backend) : NULL;
	if (!be) {
		if (err && asprintf(err, "unknown store backend '%s' (lmdb or postgresql)",
		                    sc && sc->backend ? sc->backend : "") < 0)
			*err = NULL;
		return -1;
	}
	return be->check(sc, err);
}

int store_config_can_backup(const store_config *sc)
{
	const struct store_backend *be = sc ? store_backend_find(sc->backend) : NULL;
	return be && (be->abilities & STORE_ABLE_BACKUP) ? 1 : 0;
}

store *store_open_config(const store_config *sc, char **err)
{
	if (err)
		*err = NULL;
	if (store_check_config(sc, err))
		return NULL;
	store *s = calloc(1, sizeof *s);
	if (!s) {
		if (err)
			*err = strdup("store: out of memory");
		return NULL;
	}
	s->be = store_backend_find(sc->backend);
	s->high_water = HIGH_WATER_DEFAULT;
	s->gc_tail = &s->gc_head;
	pthread_mutex_init(&s->gc_mu, NULL);
	pthread_cond_init(&s->gc_cv, NULL);
	pthread_mutex_init(&s->purge_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->purge_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (s->be->open(s, sc, err) != STORE_OK) {
		pthread_cond_destroy(&s->purge_cv);
		pthread_mutex_destroy(&s->purge_mu);
		pthread_cond_destroy(&s->gc_cv);
		pthread_mutex_destroy(&s->gc_mu);
		free(s);
		return NULL;
	}
	return s;
}

store *store_open(const char *dir, size_t map_mib, char **err)
{
	store_config sc = {.backend = "lmdb", .dir = dir, .map_mib = map_mib};
	if (!dir) {
		if (err)
			*err = strdup("store: no directory given");
		return NULL;
	}
	return store_open_config(&sc, err);
}

const char *store_backend_name(const store *s)
{
	return s ? s->be->name : NULL;
}

const char *store_ns_name(store_ns ns)
{
	return (int)ns >= 0 && ns < NS_COUNT ? lmdb_ns_names[ns] : NULL;
}

void store_raise_floor(store *s, int64_t t)
{
	int64_t cur = __atomic_load_n(&s->unclean_floor, __ATOMIC_ACQUIRE);
	while (t > cur && !__atomic_compare_exchange_n(&s->unclean_floor, &cur, t, false,
	                                               __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		;
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
	store_group_commit_stop(s); /* commits what is still queued */
	store_attach_drop(s);
	s->be->close(s);
	pthread_cond_destroy(&s->purge_cv);
	pthread_mutex_destroy(&s->purge_mu);
	pthread_cond_destroy(&s->gc_cv);
	pthread_mutex_destroy(&s->gc_mu);
	free(s);
}

int64_t store_unclean_floor(const store *s)
{
	return s ? __atomic_load_n(&s->unclean_floor, __ATOMIC_ACQUIRE) : 0;
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

/* ---- the audit rider (store_attach) ---- */

/* One per thread: idhubctl is single-threaded, and a daemon thread attaches and writes in one go.
 */
static __thread struct rider {
	store *s;
	struct store_op op; /* owned key and val */
} rider;

int store_attach(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen)
{
	if (check_key(s, ns, key, klen) || store_ns_volatile(ns) || (!val && vlen))
		return STORE_ERR;
	store_attach_drop(s);
	struct store_op op = {.kind = STORE_OP_PUT_NEW, .ns = ns, .klen = klen, .vlen = vlen};
	op.key = malloc(klen);
	op.val = malloc(vlen ? vlen : 1);
	if (!op.key || !op.val) {
		free(op.key);
		free(op.val);
		return STORE_ERR;
	}
	memcpy(op.key, key, klen);
	if (vlen)
		memcpy(op.val, val, vlen);
	rider.s = s;
	rider.op = op;
	return STORE_OK;
}

int store_attach_append(store *s, store_ns ns, const void *val, size_t vlen)
{
	static const unsigned char zero[8];
	int rc = store_attach(s, ns, zero, sizeof zero, val, vlen);
	if (rc == STORE_OK)
		rider.op.kind = STORE_OP_APPEND;
	return rc;
}

int store_attach_drop(store *s)
{
	if (!s || rider.s != s)
		return 0;
	free(rider.op.key);
	free(rider.op.val);
	memset(&rider, 0, sizeof rider);
	return 1;
}

/* The rider for a durable write on s by this thread, or NULL. */
static const struct store_op *rider_for(store *s, store_ns ns)
{
	return rider.s == s && !store_ns_volatile(ns) ? &rider.op : NULL;
}

/* Writes op together with the rider in one backend batch; the rider is spent on success. */
static int with_rider(store *s, const struct store_op *op, int64_t now)
{
	struct store_op ops[2] = {*op, rider.op};
	int rc = s->be->batch(s, ops, 2, now, false);
	if (rc == STORE_OK)
		store_attach_drop(s);
	return rc;
}

/* ---- verbs ---- */

int store_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
              int64_t *expires)
{
	int rc = check_key(s, ns, key, klen);
	if (rc)
		return rc;
	int64_t now = store_now(s);
	unsigned long flushes = __atomic_load_n(&s->gc_flushes, __ATOMIC_ACQUIRE);
	rc = s->be->get(s, ns, key, klen, val, vlen, expires, now);
	if (rc != STORE_NOTFOUND || store_ns_volatile(ns))
		return rc;
	/* not in the backend: it may be queued for the group commit. When it is neither queued nor
	 * in flight but a flight was committed since the first read, read once more. */
	bool recheck;
	/* the common miss: nothing of ns pending */
	if (!(__atomic_load_n(&s->gc_busy, __ATOMIC_ACQUIRE) & (1u << ns)))
		recheck = __atomic_load_n(&s->gc_flushes, __ATOMIC_ACQUIRE) != flushes;
	else
		rc =
		    store_pending_get(s, ns, key, klen, val, vlen, expires, now, flushes, &recheck);
	if (rc == STORE_NOTFOUND && recheck)
		rc = s->be->get(s, ns, key, klen, val, vlen, expires, now);
	return rc;
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
	if (rider_for(s, ns)) {
		struct store_op op = {.kind = only_new ? STORE_OP_PUT_NEW : STORE_OP_PUT,
		                      .ns = ns,
		                      .key = (void *)key,
		                      .klen = klen,
		                      .val = (void *)(val ? val : ""),
		                      .vlen = vlen,
		                      .ttl = exp};
		return with_rider(s, &op, now);
	}
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
	int64_t now = store_now(s);
	if (rider_for(s, ns)) {
		/* a batch del of an absent key succeeds: look first, so nothing is audited for a
		 * record that was not there (a concurrent del in between is audited; harmless) */
		rc = s->be->get(s, ns, key, klen, NULL, NULL, NULL, now);
		if (rc)
			return rc;
		struct store_op op = {
		    .kind = STORE_OP_DEL, .ns = ns, .key = (void *)key, .klen = klen};
		return with_rider(s, &op, now);
	}
	return s->be->del(s, ns, key, klen, now);
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

void store_batch_append(store_batch *b, store_ns ns, const void *val, size_t vlen)
{
	static const unsigned char zero[8]; /* replaced by the backend */
	if (store_ns_volatile(ns) && b)
		b->failed = true;
	batch_add(b, STORE_OP_APPEND, ns, zero, sizeof zero, val, vlen, 0);
}

int store_append(store *s, store_ns ns, const void *val, size_t vlen)
{
	store_batch *b = store_batch_new();
	if (!b)
		return STORE_ERR;
	store_batch_append(b, ns, val, vlen);
	return store_batch_commit(s, b);
}

void store_batch_del(store_batch *b, store_ns ns, const void *key, size_t klen)
{
	batch_add(b, STORE_OP_DEL, ns, key, klen, NULL, 0, 0);
}

void store_batch_budgeted(store_batch *b)
{
	if (b)
		b->budgeted = true;
}

/* Checks the batch and turns its ttls into absolute expiries; 0 or a STORE_ code. */
int store_batch_prepare(store *s, store_batch *b, int64_t now)
{
	if (!s || !b || b->failed)
		return STORE_ERR;
	if (b->n == 0)
		return STORE_OK;
	int rc;
	bool vol = store_ns_volatile(b->ops[0].ns);
	for (size_t i = 0; i < b->n; i++) {
		if (store_ns_volatile(b->ops[i].ns) != vol) {
			log_err("store: a batch mixes volatile and durable namespaces");
			return STORE_ERR;
		}
		if ((rc = check_key(s, b->ops[i].ns, b->ops[i].key, b->ops[i].klen)))
			return rc;
	}
	for (size_t i = 0; i < b->n; i++) {
		int64_t exp;
		if (ttl_expiry(now, b->ops[i].ttl, &exp))
			return STORE_ERR;
		b->ops[i].ttl = exp; /* the backend reads ttl as the absolute expiry */
	}
	return STORE_OK;
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
	const struct store_op *r = rider_for(s, b->ops[0].ns);
	if (r)
		batch_add(b, r->kind, r->ns, r->key, r->klen, r->val, r->vlen, 0);
	int64_t now = store_now(s);
	if ((rc = store_batch_prepare(s, b, now)))
		goto out;
	rc = s->be->batch(s, b->ops, b->n, now, b->budgeted);
	if (rc == STORE_OK && r)
		store_attach_drop(s);
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

/* One purger round: expired records, stale readers, and the throttled log's counts. */
static void purge_round(store *s)
{
	long n = store_purge_expired(s, store_now(s), PURGE_MAX_PER_RUN);
	if (n > 0)
		log_debug("store: purged %ld expired records", n);
	store_reader_check(s);
	store_log_flush();
}

/* Wakes every second; purges every purge_interval seconds, or at once while the volatile store is
 * at or above its high-water mark (a flood's records are freed as soon as they expire). The first
 * round runs a second after the start, so a store left full by the last run recovers at once. */
static void *purger_main(void *arg)
{
	store *s = arg;
	int since = s->purge_interval;
	pthread_mutex_lock(&s->purge_mu);
	while (!s->purge_stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 1;
		while (!s->purge_stop) {
			int rc = pthread_cond_timedwait(&s->purge_cv, &s->purge_mu, &until);
			if (rc == ETIMEDOUT)
				break;
		}
		if (s->purge_stop)
			break;
		pthread_mutex_unlock(&s->purge_mu);
		since++;
		int fill = store_volatile_fill(s);
		if (since >= s->purge_interval || fill >= s->high_water) {
			purge_round(s);
			since = 0;
		}
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
