/* store_admin.c — the store's operator side, backend-neutral (each goes through the backend table
 * and its abilities): the group commit of deferred writes, sync, the volatile fill level and its
 * high-water mark, stale-reader checks, backup and restore, and the throttled log of store
 * failures. */
#include "store_int.h"
#include "util/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* More queued than this and a deferred commit is made at once (a stalled syncer must not let the
 * queue grow without bound). */
enum { GC_QUEUE_MAX = 4096, LOG_INTERVAL_S = 10 };

/* ---- group commit of deferred writes ---- */

_Static_assert(NS_COUNT <= 32, "gc_busy has a bit for each namespace");

/* The namespaces the batches from b on write (gc_busy). */
static uint32_t ns_bits(const store_batch *b)
{
	uint32_t bits = 0;
	for (; b; b = b->next)
		for (size_t i = 0; i < b->n; i++)
			bits |= 1u << b->ops[i].ns;
	return bits;
}

/* Commits the queued batches in one synced transaction; returns how many were queued. */
static size_t gc_flush(store *s)
{
	pthread_mutex_lock(&s->gc_mu);
	store_batch *head = s->gc_head;
	s->gc_flight = head; /* readable by store_pending_get until committed */
	s->gc_head = NULL;
	s->gc_tail = &s->gc_head;
	s->gc_len = 0;
	pthread_mutex_unlock(&s->gc_mu);
	size_t n = 0;
	for (store_batch *b = head; b; b = b->next)
		n++;
	if (!n)
		return 0;
	store_batch **bs = malloc(n * sizeof *bs);
	int *rcs = calloc(n, sizeof *rcs);
	if (bs && rcs) {
		size_t i = 0;
		for (store_batch *b = head; b; b = b->next)
			bs[i++] = b;
		if (s->be->batch_group(s, bs, n, store_now(s), rcs) != STORE_OK)
			store_log_throttled("error", true,
			                    "store: a group commit of %zu deferred writes failed",
			                    n);
	} else {
		log_err("store: out of memory in the group commit; %zu deferred writes lost", n);
	}
	free(bs);
	free(rcs);
	pthread_mutex_lock(&s->gc_mu);
	s->gc_flight = NULL;
	/* counted before gc_busy drops: a reader that sees it idle also sees the count moved */
	__atomic_add_fetch(&s->gc_flushes, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&s->gc_busy, ns_bits(s->gc_head), __ATOMIC_RELEASE);
	pthread_mutex_unlock(&s->gc_mu);
	while (head) {
		store_batch *next = head->next;
		store_batch_free(head);
		head = next;
	}
	return n;
}

static void *gc_main(void *arg)
{
	store *s = arg;
	pthread_mutex_lock(&s->gc_mu);
	while (!s->gc_stop) {
		/* asleep while nothing is queued; then the interval gathers a group */
		while (!s->gc_stop && !s->gc_head)
			pthread_cond_wait(&s->gc_cv, &s->gc_mu);
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += (long)s->gc_interval_ms * 1000000L;
		t.tv_sec += t.tv_nsec / 1000000000L;
		t.tv_nsec %= 1000000000L;
		while (!s->gc_stop && pthread_cond_timedwait(&s->gc_cv, &s->gc_mu, &t) == 0)
			;
		pthread_mutex_unlock(&s->gc_mu);
		gc_flush(s);
		pthread_mutex_lock(&s->gc_mu);
	}
	pthread_mutex_unlock(&s->gc_mu);
	return NULL;
}

int store_group_commit(store *s, int interval_ms)
{
	if (!s || interval_ms < 1 || !s->be->batch_group)
		return STORE_ERR;
	pthread_mutex_lock(&s->gc_mu);
	int rc = STORE_OK;
	if (s->gc_running) {
		rc = STORE_ERR;
	} else {
		s->gc_interval_ms = interval_ms;
		s->gc_stop = false;
		if (pthread_create(&s->gc_thread, NULL, gc_main, s) != 0)
			rc = STORE_ERR;
		else
			s->gc_running = true;
	}
	pthread_mutex_unlock(&s->gc_mu);
	return rc;
}

void store_group_commit_stop(store *s)
{
	pthread_mutex_lock(&s->gc_mu);
	bool running = s->gc_running;
	s->gc_stop = true;
	pthread_cond_signal(&s->gc_cv);
	pthread_mutex_unlock(&s->gc_mu);
	if (running)
		pthread_join(s->gc_thread, NULL);
	s->gc_running = false;
	gc_flush(s);
}

int store_batch_commit_deferred(store *s, store_batch *b)
{
	if (!s || !b || b->failed || b->n == 0 || store_ns_volatile(b->ops[0].ns))
		return store_batch_commit(s, b);
	pthread_mutex_lock(&s->gc_mu);
	bool defer = s->gc_running && !s->gc_stop && s->gc_len < GC_QUEUE_MAX;
	int rc = STORE_OK;
	if (defer) {
		if ((rc = store_batch_prepare(s, b, store_now(s))) == STORE_OK) {
			b->next = NULL;
			*s->gc_tail = b;
			s->gc_tail = &b->next;
			__atomic_store_n(&s->gc_busy, s->gc_busy | ns_bits(b), __ATOMIC_RELEASE);
			if (s->gc_len++ == 0)
				pthread_cond_signal(&s->gc_cv); /* wakes the syncer */
		}
	}
	pthread_mutex_unlock(&s->gc_mu);
	if (!defer)
		return store_batch_commit(s, b);
	if (rc)
		store_batch_free(b);
	return rc;
}

/* The latest queued or in-flight write of (ns, key) in list, from its first batch to its last. */
static int pending_in(const store_batch *list, store_ns ns, const void *key, size_t klen,
                      const struct store_op **found)
{
	int hit = 0;
	for (const store_batch *b = list; b; b = b->next)
		for (size_t i = 0; i < b->n; i++) {
			const struct store_op *op = &b->ops[i];
			if (op->ns == ns && op->klen == klen && memcmp(op->key, key, klen) == 0) {
				*found = op->kind == STORE_OP_DEL ? NULL : op;
				hit = 1;
			}
		}
	return hit;
}

int store_pending_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
                      int64_t *expires, int64_t now, unsigned long since, bool *recheck)
{
	const struct store_op *op = NULL;
	int rc = STORE_NOTFOUND;
	pthread_mutex_lock(&s->gc_mu);
	*recheck = s->gc_flushes != since;
	int hit = pending_in(s->gc_flight, ns, key, klen, &op);
	hit |= pending_in(s->gc_head, ns, key, klen, &op);
	if (hit && op && (op->kind == STORE_OP_PUT || op->kind == STORE_OP_PUT_NEW) &&
	    (op->ttl == 0 || op->ttl > now)) {
		char *copy = val ? malloc(op->vlen + 1) : NULL; /* NUL-terminated, as a backend's */
		if (val && !copy) {
			rc = STORE_ERR;
		} else {
			if (val) {
				memcpy(copy, op->val, op->vlen);
				copy[op->vlen] = 0;
				*val = copy;
			}
			if (vlen)
				*vlen = op->vlen;
			if (expires)
				*expires = op->ttl;
			rc = STORE_OK;
		}
	}
	pthread_mutex_unlock(&s->gc_mu);
	return rc;
}

int store_sync(store *s)
{
	if (!s || !s->be->sync)
		return STORE_ERR;
	return s->be->sync(s);
}

/* ---- capacity ---- */

int store_set_high_water(store *s, int percent)
{
	if (!s || percent < 10 || percent > 85)
		return STORE_ERR;
	s->high_water = percent;
	return STORE_OK;
}

int store_volatile_fill(store *s)
{
	if (!s || !(s->be->abilities & STORE_ABLE_FILL))
		return STORE_ERR;
	return s->be->fill(s);
}

int store_reader_check(store *s)
{
	if (!s || !(s->be->abilities & STORE_ABLE_READER_CHECK))
		return STORE_ERR;
	int n = s->be->reader_check(s);
	if (n > 0)
		log_warn("store: freed %d reader slot(s) left by a process that died reading", n);
	return n;
}

/* ---- the change feed ---- */

int store_watch(store *s)
{
	if (!s || !(s->be->abilities & STORE_ABLE_NOTIFY))
		return STORE_ERR;
	return s->be->watch(s);
}

uint64_t store_change_epoch(store *s)
{
	if (!s || !(s->be->abilities & STORE_ABLE_NOTIFY))
		return 0;
	return s->be->epoch(s);
}

/* ---- backup and restore ---- */

int store_backup(store *s, const char *backup_dir, char **err)
{
	if (!s || !(s->be->abilities & STORE_ABLE_BACKUP)) {
		if (err && !*err)
			*err = strdup("backup: this store backend has no backup");
		return STORE_ERR;
	}
	return s->be->backup(s, backup_dir, err);
}

/* The backend of a store that is not open: the only one today (the config will choose later). */
static const struct store_backend *closed_backend(void)
{
	return &store_lmdb_backend;
}

int store_dir_in_use(const char *dir)
{
	const struct store_backend *be = closed_backend();
	return be->abilities & STORE_ABLE_BACKUP ? be->dir_in_use(dir) : -1;
}

int store_restore(const char *dir, const char *backup_dir, char **err)
{
	const struct store_backend *be = closed_backend();
	if (!(be->abilities & STORE_ABLE_BACKUP)) {
		if (err && !*err)
			*err = strdup("restore: this store backend has no restore");
		return STORE_ERR;
	}
	return be->restore(dir, backup_dir, err);
}

/* ---- the throttled log ---- */

enum { LOG_KINDS = 8 };
static struct {
	const char *kind;
	int64_t last; /* monotonic seconds of the last line */
	long suppressed;
} log_slots[LOG_KINDS];
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static int64_t mono_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec;
}

void store_log_throttled(const char *kind, bool err, const char *fmt, ...)
{
	int64_t now = mono_s();
	long before = -1;
	pthread_mutex_lock(&log_mu);
	int i = 0;
	while (i < LOG_KINDS && log_slots[i].kind && strcmp(log_slots[i].kind, kind) != 0)
		i++;
	if (i == LOG_KINDS) {
		i = LOG_KINDS - 1; /* more kinds than slots: share the last one */
	} else if (!log_slots[i].kind) {
		log_slots[i].kind = kind;
		log_slots[i].last = now - LOG_INTERVAL_S;
	}
	if (now - log_slots[i].last >= LOG_INTERVAL_S) {
		before = log_slots[i].suppressed;
		log_slots[i].suppressed = 0;
		log_slots[i].last = now;
	} else {
		log_slots[i].suppressed++;
	}
	pthread_mutex_unlock(&log_mu);
	if (before < 0)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (before > 0)
		log_msg(err ? LOG_ERR_ : LOG_WARN_, "%s (and %ld more like it in the last %d s)",
		        msg, before, LOG_INTERVAL_S);
	else
		log_msg(err ? LOG_ERR_ : LOG_WARN_, "%s", msg);
}

void store_log_flush(void)
{
	int64_t now = mono_s();
	pthread_mutex_lock(&log_mu);
	for (int i = 0; i < LOG_KINDS && log_slots[i].kind; i++) {
		if (log_slots[i].suppressed && now - log_slots[i].last >= LOG_INTERVAL_S) {
			log_warn("store: %ld more '%s' failures in the last %d s",
			         log_slots[i].suppressed, log_slots[i].kind, LOG_INTERVAL_S);
			log_slots[i].suppressed = 0;
			log_slots[i].last = now;
		}
	}
	pthread_mutex_unlock(&log_mu);
}
