/* store_pg_int.h — inside broker/store/ only: the PostgreSQL backend's state, shared by its files:
 * store_pg.c (the verbs, batches, iteration, purge, statistics, the backend table),
 * store_pg_pool.c (the connection pool: connect, session settings, prepared statements, the
 * crash marker, reconnecting), store_pg_schema.c (the versioned migrations) and store_pg_watch.c
 * (the LISTEN/NOTIFY change feed).
 *
 * Every namespace lives in one of two tables, by class: idhub_durable (LOGGED, partitioned by
 * namespace so keys, secrets, pairwise records, services, switches, audit and meta are each a
 * table of their own) and idhub_volatile (UNLOGGED: a PostgreSQL crash empties it). A row is
 * (ns text, k bytea, v bytea, expires bigint, 0 = never); the namespace's name comes from
 * store_ns_names, so a new namespace needs no change here.
 */
#ifndef IDHUB_STORE_PG_INT_H
#define IDHUB_STORE_PG_INT_H
#include "store_int.h"
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>

/* The prepared statements; each exists for both tables (see pg_stmt). */
#define PG_EXISTS_STATE "22012" /* the SQLSTATE of Q_BPUT_NEW finding a live record */
enum pg_q {
	Q_GET,
	Q_PUT,
	Q_PUT_NEW,
	Q_TAKE,
	Q_SWAP,
	Q_DEL,
	Q_BDEL,
	Q_ITER,
	Q_PURGE,
	Q_COUNT,
	Q_BPUT_NEW, /* put_new inside a pipelined batch: fails (22012) when a live record is there
	             */
	Q_ALOCK,    /* the namespace's append lock, held to the end of the transaction */
	Q_APPEND,   /* store_append: one past the namespace's greatest 8-byte key */
	Q_N
};

enum {
	PG_MAX_KEY = 511,        /* as LMDB's: the same keys work on every backend */
	PG_POOL_DEFAULT = 4,     /* connections per daemon */
	PG_WAIT_MS = 5000,       /* the longest a verb waits for a free connection */
	PG_RETRY_MS = 1000,      /* after a failed connect, verbs fail at once for this long */
	PG_STATEMENT_MS = 5000,  /* statement_timeout and lock_timeout */
	PG_CONNECT_TIMEOUT_S = 2 /* libpq connect_timeout unless the conninfo says */
};

struct pg_slot {
	PGconn *conn; /* NULL: not connected */
	bool busy;
};

struct pg_store {
	char *conninfo;
	int n;
	struct pg_slot *slots;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t retry_after_ms; /* monotonic: no connect attempt before then */
	int64_t marker_since;   /* the volatile table's marker row we last saw */
	/* the change feed (store_pg_watch.c) */
	pthread_t watch_thread;
	bool watching, watch_stop, watch_up;
	uint64_t epoch;
};

static inline struct pg_store *pgctx(store *s)
{
	return s->be_ctx;
}

/* The name of statement q for the table of ns's class. */
const char *pg_stmt(enum pg_q q, bool vol);
/* Prepares every statement on a new connection; 0 or STORE_ERR. */
int pg_prepare_all(PGconn *c);
/* Creates or upgrades the schema (idempotent, serialised by an advisory lock); 0 or STORE_ERR
 * with *err set. */
int pg_migrate(PGconn *c, char **err);
/* The schema version this build writes. */
int pg_schema_version(void);

/* Opens the pool and its first connection (migrating the schema); 0 or STORE_ERR with *err. */
int pg_pool_open(store *s, const store_config *sc, char **err);
void pg_pool_close(store *s);
/* A connected connection for this thread's exclusive use, or NULL (STORE_ERR: the database is
 * unreachable, or every connection stayed busy for PG_WAIT_MS). */
PGconn *pg_acquire(store *s);
/* Gives the connection back; a connection whose link broke is closed and reconnected later. A
 * connection left inside a transaction is rolled back first. */
void pg_release(store *s, PGconn *c);
/* Starts the change feed (LISTEN idhub_changes); 0 or STORE_ERR. */
int pg_watch(store *s);
/* The change counter; 0 when no feed was started. */
uint64_t pg_epoch(store *s);
/* Stops the feed (store_close). */
void pg_watch_stop(store *s);
/* Closes a connection whose state is unknown and frees its slot. */
void pg_discard(store *s, PGconn *c);
/* Logs a failed result (throttled) and returns STORE_ERR; clears r. */
int pg_fail(PGresult *r, const char *what);

#endif
