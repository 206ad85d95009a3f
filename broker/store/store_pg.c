/* store_pg.c — the PostgreSQL backend: the verbs, each one prepared statement (one round trip) on
 * a pooled connection (store_pg_pool.c); batches in one transaction; iteration in one statement,
 * so in one snapshot; the purge through the expiry index; statistics; the backend table. The
 * schema is in store_pg_schema.c. Expiry is always compared with the caller's clock (store_now),
 * passed as a parameter, never the server's. */
#include "store_pg_int.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PURGE_CHUNK = 1000 };

/* The parameters of one statement: text for ns and numbers, binary for keys and values. */
struct args {
	const char *v[5];
	int len[5];
	int fmt[5];
	char num[5][24];
	int n;
};

static void arg_text(struct args *a, const char *t)
{
	a->v[a->n] = t;
	a->len[a->n] = 0;
	a->fmt[a->n++] = 0;
}

static void arg_bin(struct args *a, const void *p, size_t len)
{
	a->v[a->n] = len ? p : "";
	a->len[a->n] = (int)len;
	a->fmt[a->n++] = 1;
}

static void arg_int(struct args *a, int64_t x)
{
	snprintf(a->num[a->n], sizeof a->num[a->n], "%lld", (long long)x);
	arg_text(a, a->num[a->n]);
}

static PGresult *run(PGconn *c, enum pg_q q, store_ns ns, struct args *a)
{
	return PQexecPrepared(c, pg_stmt(q, store_ns_volatile(ns)), a->n, a->v, a->len, a->fmt, 1);
}

/* ns, key (and value, expiry) as the first parameters. */
static void args_kv(struct args *a, store_ns ns, const void *key, size_t klen)
{
	a->n = 0;
	arg_text(a, lmdb_ns_names[ns]);
	arg_bin(a, key, klen);
}

static int64_t be64(const char *p)
{
	uint64_t x = 0;
	for (int i = 0; i < 8; i++)
		x = x << 8 | (unsigned char)p[i];
	return (int64_t)x;
}

/* Copies a binary bytea field out, NUL-terminated, as the store contract wants. */
static int copy_out(PGresult *r, int col, void **val, size_t *vlen)
{
	if (!val)
		return STORE_OK;
	size_t n = (size_t)PQgetlength(r, 0, col);
	char *p = malloc(n + 1);
	if (!p)
		return STORE_ERR;
	memcpy(p, PQgetvalue(r, 0, col), n);
	p[n] = '\0';
	*val = p;
	if (vlen)
		*vlen = n;
	return STORE_OK;
}

/* Runs a statement that returns the value in column 0 of at most one row (get, take, swap). */
static int run_value(store *s, enum pg_q q, store_ns ns, struct args *a, void **val, size_t *vlen,
                     int64_t *expires, const char *what)
{
	if (val)
		*val = NULL;
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	PGresult *r = run(c, q, ns, a);
	pg_release(s, c);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return pg_fail(r, what);
	int rc = STORE_NOTFOUND;
	if (PQntuples(r) == 1) {
		rc = copy_out(r, 0, val, vlen);
		if (expires)
			*expires = be64(PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return rc;
}

static int pg_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
                  int64_t *expires, int64_t now)
{
	struct args a;
	args_kv(&a, ns, key, klen);
	arg_int(&a, now);
	return run_value(s, Q_GET, ns, &a, val, vlen, expires, "get");
}

static int pg_take(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
                   int64_t now)
{
	struct args a;
	args_kv(&a, ns, key, klen);
	arg_int(&a, now);
	return run_value(s, Q_TAKE, ns, &a, val, vlen, NULL, "take");
}

static int pg_swap(store *s, store_ns ns, const void *key, size_t klen, const void *val,
                   size_t vlen, int64_t expires, void **old, size_t *oldlen, int64_t now)
{
	struct args a;
	args_kv(&a, ns, key, klen);
	arg_bin(&a, val, vlen);
	arg_int(&a, expires);
	arg_int(&a, now);
	return run_value(s, Q_SWAP, ns, &a, old, oldlen, NULL, "swap");
}

/* One write on c (put, put_new or a batch's del); the caller holds c. */
static int write_op(PGconn *c, enum store_op_kind kind, store_ns ns, const void *key, size_t klen,
                    const void *val, size_t vlen, int64_t expires, int64_t now)
{
	struct args a;
	args_kv(&a, ns, key, klen);
	enum pg_q q = kind == STORE_OP_DEL ? Q_BDEL : kind == STORE_OP_PUT ? Q_PUT : Q_PUT_NEW;
	if (kind != STORE_OP_DEL) {
		arg_bin(&a, val, vlen);
		arg_int(&a, expires);
		if (kind == STORE_OP_PUT_NEW)
			arg_int(&a, now);
	}
	PGresult *r = run(c, q, ns, &a);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return pg_fail(r, "write");
	int rc = kind == STORE_OP_PUT_NEW && PQntuples(r) == 0 ? STORE_EXISTS : STORE_OK;
	PQclear(r);
	return rc;
}

static int pg_put(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen,
                  int64_t expires, bool only_new, int64_t now)
{
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	int rc = write_op(c, only_new ? STORE_OP_PUT_NEW : STORE_OP_PUT, ns, key, klen, val, vlen,
	                  expires, now);
	pg_release(s, c);
	return rc;
}

static int pg_del(store *s, store_ns ns, const void *key, size_t klen, int64_t now)
{
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	struct args a;
	args_kv(&a, ns, key, klen);
	arg_int(&a, now);
	PGresult *r = run(c, Q_DEL, ns, &a);
	pg_release(s, c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return pg_fail(r, "del");
	int rc = strcmp(PQcmdTuples(r), "0") == 0 ? STORE_NOTFOUND : STORE_OK;
	PQclear(r);
	return rc;
}

static int exec_cmd(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return pg_fail(r, sql);
	PQclear(r);
	return STORE_OK;
}

/* store_append inside a transaction on c: the namespace's lock, then the numbered insert. */
static int append_op(PGconn *c, const struct store_op *o)
{
	struct args a = {0};
	arg_text(&a, lmdb_ns_names[o->ns]);
	PGresult *r = run(c, Q_ALOCK, o->ns, &a);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return pg_fail(r, "append lock");
	PQclear(r);
	arg_bin(&a, o->val, o->vlen);
	arg_int(&a, o->ttl);
	r = run(c, Q_APPEND, o->ns, &a);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		return pg_fail(r, "append");
	PQclear(r);
	return STORE_OK;
}

static int apply_ops(PGconn *c, const struct store_op *ops, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_op *o = &ops[i];
		int rc = o->kind == STORE_OP_APPEND ? append_op(c, o)
		                                    : write_op(c, o->kind, o->ns, o->key, o->klen,
		                                               o->val, o->vlen, o->ttl, now);
		if (rc)
			return rc;
	}
	return STORE_OK;
}

/* Sends an append of a pipelined batch: its lock and its insert, two statements (see Q_ALOCK). */
static int send_append(PGconn *c, const struct store_op *o)
{
	struct args a = {0};
	arg_text(&a, lmdb_ns_names[o->ns]);
	const char *lk = pg_stmt(Q_ALOCK, store_ns_volatile(o->ns));
	if (!PQsendQueryPrepared(c, lk, a.n, a.v, a.len, a.fmt, 1))
		return STORE_ERR;
	arg_bin(&a, o->val, o->vlen);
	arg_int(&a, o->ttl);
	const char *ap = pg_stmt(Q_APPEND, store_ns_volatile(o->ns));
	return PQsendQueryPrepared(c, ap, a.n, a.v, a.len, a.fmt, 1) ? STORE_OK : STORE_ERR;
}

/* Sends one op of a pipelined batch. */
static int send_op(PGconn *c, const struct store_op *o, int64_t now)
{
	if (o->kind == STORE_OP_APPEND)
		return send_append(c, o);
	struct args a;
	args_kv(&a, o->ns, o->key, o->klen);
	enum pg_q q = o->kind == STORE_OP_DEL   ? Q_BDEL
	              : o->kind == STORE_OP_PUT ? Q_PUT
	                                        : Q_BPUT_NEW;
	if (o->kind != STORE_OP_DEL) {
		arg_bin(&a, o->val, o->vlen);
		arg_int(&a, o->ttl);
		if (o->kind == STORE_OP_PUT_NEW)
			arg_int(&a, now);
	}
	return PQsendQueryPrepared(c, pg_stmt(q, store_ns_volatile(o->ns)), a.n, a.v, a.len, a.fmt,
	                           1)
	           ? STORE_OK
	           : STORE_ERR;
}

/* Reads the pipeline's results up to its sync: STORE_OK, STORE_EXISTS (a put_new found a live
 * record: the server rolled the whole batch back) or STORE_ERR. */
static int read_pipeline(PGconn *c, size_t n)
{
	int rc = STORE_OK;
	size_t seen = 0;
	while (seen <= n) { /* n ops, then the sync */
		PGresult *r = PQgetResult(c);
		if (!r) {
			if (PQstatus(c) != CONNECTION_OK)
				return STORE_ERR;
			continue; /* the end of one op's results */
		}
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			break;
		}
		seen++;
		if (st == PGRES_FATAL_ERROR) {
			const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			if (state && !strcmp(state, PG_EXISTS_STATE)) {
				PQclear(r);
				rc = STORE_EXISTS;
				continue;
			}
			pg_fail(r, "batch");
			rc = STORE_ERR;
			continue;
		}
		PQclear(r);
	}
	return rc;
}

/* A batch in one round trip: libpq's pipeline mode, every op up to one sync, which the server
 * runs as one implicit transaction (an error in any op rolls back all of them). The volatile fill
 * level is unknown here (the database manages its space), so a budgeted batch is not refused: the
 * journey budget per source still bounds a flood. */
static int pg_batch(store *s, const struct store_op *ops, size_t n, int64_t now, bool budgeted)
{
	(void)budgeted;
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	int rc = PQenterPipelineMode(c) ? STORE_OK : STORE_ERR;
	size_t sent = 0; /* statements: an append sends two */
	for (size_t i = 0; i < n && !rc; i++) {
		rc = send_op(c, &ops[i], now);
		sent += ops[i].kind == STORE_OP_APPEND ? 2 : 1;
	}
	if (!rc && !PQpipelineSync(c))
		rc = STORE_ERR;
	if (!rc)
		rc = read_pipeline(c, sent);
	if (!PQexitPipelineMode(c)) {
		/* results left unread (a failure while sending): the connection's state is unknown,
		 * so it is closed and the next verb makes a new one */
		pg_discard(s, c);
		return STORE_ERR;
	}
	pg_release(s, c);
	return rc;
}

/* Each batch under a savepoint: one that fails is rolled back alone. */
static int pg_batch_group(store *s, struct store_batch *const *bs, size_t n, int64_t now, int *rcs)
{
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	int rc = exec_cmd(c, "BEGIN");
	for (size_t i = 0; i < n && !rc; i++) {
		if ((rc = exec_cmd(c, "SAVEPOINT b")))
			break;
		rcs[i] = apply_ops(c, bs[i]->ops, bs[i]->n, now);
		rc = exec_cmd(c, rcs[i] ? "ROLLBACK TO SAVEPOINT b" : "RELEASE SAVEPOINT b");
	}
	if (!rc)
		rc = exec_cmd(c, "COMMIT");
	pg_release(s, c);
	return rc;
}

static int pg_iter(store *s, store_ns ns, store_iter_fn fn, void *arg, int64_t now)
{
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	struct args a = {0};
	arg_text(&a, lmdb_ns_names[ns]);
	arg_int(&a, now);
	PGresult *r = run(c, Q_ITER, ns, &a);
	pg_release(s, c); /* fn may use the store: the rows are all here */
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return pg_fail(r, "iter");
	int rc = 0;
	for (int i = 0; i < PQntuples(r) && !rc; i++)
		rc = fn(arg, PQgetvalue(r, i, 0), (size_t)PQgetlength(r, i, 0), PQgetvalue(r, i, 1),
		        (size_t)PQgetlength(r, i, 1), be64(PQgetvalue(r, i, 2)));
	PQclear(r);
	return rc;
}

static long pg_purge(store *s, int64_t now, long max)
{
	long total = 0;
	for (int vol = 1; vol >= 0 && total < max; vol--) {
		store_ns ns = vol ? NS_JOURNEY : NS_PAIRWISE; /* picks the table */
		for (;;) {
			long chunk = max - total < PURGE_CHUNK ? max - total : PURGE_CHUNK;
			PGconn *c = pg_acquire(s);
			if (!c)
				return total ? total : STORE_ERR;
			struct args a = {0};
			arg_int(&a, now);
			arg_int(&a, chunk);
			PGresult *r = run(c, Q_PURGE, ns, &a);
			pg_release(s, c);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				pg_fail(r, "purge");
				return total ? total : STORE_ERR;
			}
			long n = atol(PQcmdTuples(r));
			PQclear(r);
			total += n;
			if (n < chunk || total >= max)
				break;
		}
	}
	return total;
}

static long pg_count(store *s, store_ns ns)
{
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	struct args a = {0};
	arg_text(&a, lmdb_ns_names[ns]);
	PGresult *r = run(c, Q_COUNT, ns, &a);
	pg_release(s, c);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return pg_fail(r, "count");
	long n = (long)be64(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

/* Tables, indexes and TOAST of every idhub relation (a partitioned parent has no storage of its
 * own: its partitions are summed). */
static int64_t pg_disk_bytes(store *s)
{
	PGconn *c = pg_acquire(s);
	if (!c)
		return STORE_ERR;
	PGresult *r = PQexec(c, "SELECT coalesce(sum(pg_total_relation_size(oid)), 0)::bigint"
	                        " FROM pg_class WHERE relkind = 'r' AND relname LIKE 'idhub\\_%'");
	pg_release(s, c);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		return pg_fail(r, "size");
	int64_t n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

/* Every commit is durable when it returns (synchronous_commit): nothing to flush. */
static int pg_sync(store *s)
{
	(void)s;
	return STORE_OK;
}

static size_t pg_max_key(store *s)
{
	(void)s;
	return PG_MAX_KEY;
}

static int pg_check(const store_config *sc, char **err)
{
	if (!sc->conninfo || !*sc->conninfo) {
		if (err)
			*err = strdup("the postgresql store needs a connection string "
			              "(store_conninfo)");
		return -1;
	}
	char *msg = NULL;
	PQconninfoOption *o = PQconninfoParse(sc->conninfo, &msg);
	if (!o) {
		if (err && asprintf(err, "bad store_conninfo: %s", msg ? msg : "out of memory") < 0)
			*err = NULL;
		PQfreemem(msg);
		return -1;
	}
	PQconninfoFree(o);
	if (sc->pool < 0 || sc->pool > 64) {
		if (err)
			*err = strdup("store_pool must be 1..64");
		return -1;
	}
	return 0;
}

static int pg_open(store *s, const store_config *sc, char **err)
{
	return pg_pool_open(s, sc, err);
}

const struct store_backend store_pg_backend = {
    .name = "postgresql",
    .open = pg_open,
    .check = pg_check,
    .close = pg_pool_close,
    .max_key = pg_max_key,
    .get = pg_get,
    .put = pg_put,
    .take = pg_take,
    .swap = pg_swap,
    .del = pg_del,
    .batch = pg_batch,
    .batch_group = pg_batch_group,
    .iter = pg_iter,
    .purge = pg_purge,
    .count = pg_count,
    .disk_bytes = pg_disk_bytes,
    /* no backup (the database's own tools), no reader slots, no fill level */
    .abilities = STORE_ABLE_NOTIFY,
    .sync = pg_sync,
    .watch = pg_watch,
    .epoch = pg_epoch,
};
