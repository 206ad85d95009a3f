/* store_int.h — inside broker/store/ only: the backend vtable, the store and batch structs.
 *
 * store.c is the backend-neutral front (argument checks, ttl to expiry, the batch list, the clock,
 * the purger thread); a backend (store_lmdb.c) implements struct store_backend. Backends get
 * checked arguments and absolute expiry times (0 = none) and return the STORE_* codes.
 */
#ifndef IDHUB_STORE_INT_H
#define IDHUB_STORE_INT_H
#include "store.h"
#include <pthread.h>
#include <stdbool.h>

/* STORE_OP_APPEND: a put whose key the backend assigns inside the write transaction: 8 bytes,
 * big-endian, one past the greatest key of the namespace (0 when it is empty), so concurrent
 * appenders get dense, ordered sequence numbers with no gap and no duplicate (store_append). */
enum store_op_kind { STORE_OP_PUT, STORE_OP_PUT_NEW, STORE_OP_DEL, STORE_OP_APPEND };

struct store_op {
	enum store_op_kind kind;
	store_ns ns;
	void *key; /* owned copies */
	size_t klen;
	void *val;
	size_t vlen;
	int64_t ttl;
};

struct store_batch {
	struct store_op *ops;
	size_t n, cap;
	bool failed;   /* an allocation or argument failed: the commit returns STORE_ERR */
	bool budgeted; /* a new journey: refused above the high-water mark */
	struct store_batch *next; /* the group-commit queue */
};

/* What a backend can do beyond the verbs (as curl's vtls backends declare theirs). */
enum {
	STORE_ABLE_BACKUP = 1 << 0,       /* backup, restore, dir_in_use */
	STORE_ABLE_READER_CHECK = 1 << 1, /* stale readers can be cleared */
	STORE_ABLE_FILL = 1 << 2,         /* the volatile fill level is known (budgeted writes) */
	STORE_ABLE_NOTIFY = 1 << 3,       /* other processes' changes are pushed (store_watch) */
};

struct store_backend {
	const char *name;
	/* Opens the backend, sets s->be_ctx and s->unclean_floor; on error a malloc'd *err. */
	int (*open)(store *s, const store_config *sc, char **err);
	/* Checks sc without opening anything (store_check_config). */
	int (*check)(const store_config *sc, char **err);
	void (*close)(store *s);
	/* The largest key the backend accepts. */
	size_t (*max_key)(store *s);
	/* val may be NULL (only the status is wanted). */
	int (*get)(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
	           int64_t *expires, int64_t now);
	int (*put)(store *s, store_ns ns, const void *key, size_t klen, const void *val,
	           size_t vlen, int64_t expires, bool only_new, int64_t now);
	int (*take)(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
	            int64_t now);
	int (*swap)(store *s, store_ns ns, const void *key, size_t klen, const void *val,
	            size_t vlen, int64_t expires, void **old, size_t *oldlen, int64_t now);
	int (*del)(store *s, store_ns ns, const void *key, size_t klen, int64_t now);
	/* ops are checked: all in one environment class; ttl already >= 0. budgeted: see
	 * store_batch_budgeted (STORE_BUSY at or above s->high_water). */
	int (*batch)(store *s, const struct store_op *ops, size_t n, int64_t now, bool budgeted);
	/* Durable batches in one synced transaction, each all or nothing; rcs[i] is batch i's
	 * result. Returns STORE_OK when the transaction committed (whatever the rcs). */
	int (*batch_group)(store *s, struct store_batch *const *bs, size_t n, int64_t now,
	                   int *rcs);
	int (*iter)(store *s, store_ns ns, store_iter_fn fn, void *arg, int64_t now);
	long (*purge)(store *s, int64_t now, long max);
	long (*count)(store *s, store_ns ns);
	int64_t (*disk_bytes)(store *s);
	unsigned abilities; /* STORE_ABLE_* */
	/* percent of the volatile map in use */
	int (*fill)(store *s);
	/* stale reader slots freed */
	int (*reader_check)(store *s);
	int (*sync)(store *s);
	int (*backup)(store *s, const char *backup_dir, char **err);
	/* on a closed store: no handle */
	int (*restore)(const char *dir, const char *backup_dir, char **err);
	int (*dir_in_use)(const char *dir);
	/* STORE_ABLE_NOTIFY: start the change feed; the change counter (0: none) */
	int (*watch)(store *s);
	uint64_t (*epoch)(store *s);
};

struct store {
	const struct store_backend *be;
	void *be_ctx;
	int64_t (*clock)(void); /* NULL: time(NULL) */
	int64_t unclean_floor;
	int high_water; /* percent of the volatile map; budgeted writes refused at or above it */

	/* group commit of deferred batches (store_batch_commit_deferred) */
	pthread_mutex_t gc_mu;
	pthread_cond_t gc_cv;
	pthread_t gc_thread;
	struct store_batch *gc_head, **gc_tail;
	struct store_batch *gc_flight; /* the batches being committed now (still readable) */
	unsigned long gc_flushes;      /* flights committed so far (read atomically) */
	/* the namespaces with a write queued or in flight, one bit each (read atomically: a miss in
	 * any other skips the lock; only the pairwise ones are ever deferred) */
	uint32_t gc_busy;
	size_t gc_len;
	bool gc_running, gc_stop;
	int gc_interval_ms;

	/* the purger thread */
	pthread_mutex_t purge_mu;
	pthread_cond_t purge_cv;
	pthread_t purge_thread;
	bool purge_running, purge_stop;
	int purge_interval;
};

static inline bool store_ns_volatile(store_ns ns)
{
	return ns < NS_VOLATILE_END;
}

extern const struct store_backend store_lmdb_backend;
extern const struct store_backend store_pg_backend;
/* Every namespace's stable name (store_lmdb_env.c): adding a namespace is one line there. */
extern const char *const lmdb_ns_names[NS_COUNT];
/* The backend named name (NULL: lmdb), or NULL when unknown. */
const struct store_backend *store_backend_find(const char *name);
/* Raises the unclean floor to t (never lowers it); any thread. */
void store_raise_floor(store *s, int64_t t);

/* Logs a store failure, at most once per interval per kind: repeats in between are counted and
 * reported with the next line (a flood must not write a line per request). kind is a short
 * static string ("map full", "busy", "error"). */
void store_log_throttled(const char *kind, bool err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Checks a batch and turns its ttls into absolute expiries (store.c); 0 or a STORE_ code. */
int store_batch_prepare(store *s, store_batch *b, int64_t now);
/* A durable record written by a deferred commit that is queued or being committed (read your own
 * writes: a login right after the first must find the pairwise record the first queued). STORE_OK
 * with a copy as store_get gives, else STORE_NOTFOUND (nothing pending, or deleted). A flight
 * committed since s->gc_flushes read `since` may hold it: *recheck says to read the backend again.
 * Read-uncommitted: a queued put_new is seen though its commit may yet fail (STORE_EXISTS), which
 * suits the only deferred writer, pairwise, whose values are derived identically every time.
 */
int store_pending_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
                      int64_t *expires, int64_t now, unsigned long since, bool *recheck);
/* Stops the group-commit thread after committing what is queued (store_admin.c). */
void store_group_commit_stop(store *s);
/* Writes the pending counts of store_log_throttled (the purger calls it). */
void store_log_flush(void);

#endif
