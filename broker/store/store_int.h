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

enum store_op_kind { STORE_OP_PUT, STORE_OP_PUT_NEW, STORE_OP_DEL };

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
	bool failed; /* an allocation or argument failed: the commit returns STORE_ERR */
};

struct store_backend {
	const char *name;
	/* Opens the backend, sets s->be_ctx and s->unclean_floor; on error a malloc'd *err. */
	int (*open)(store *s, const char *dir, size_t map_mib, char **err);
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
	/* ops are checked: all in one environment class; ttl already >= 0. */
	int (*batch)(store *s, const struct store_op *ops, size_t n, int64_t now);
	int (*iter)(store *s, store_ns ns, store_iter_fn fn, void *arg, int64_t now);
	long (*purge)(store *s, int64_t now, long max);
	long (*count)(store *s, store_ns ns);
	int64_t (*disk_bytes)(store *s);
};

struct store {
	const struct store_backend *be;
	void *be_ctx;
	int64_t (*clock)(void); /* NULL: time(NULL) */
	int64_t unclean_floor;

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

#endif
