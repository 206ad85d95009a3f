/* store_pg_pool.c — the PostgreSQL backend's connection pool: a few connections per process, each
 * with the session's timeouts and every statement prepared once; a verb borrows one for its one
 * statement or transaction. A broken connection is closed and made again by the next verb, so
 * the daemon recovers without a restart when the database returns; while it is down, verbs fail
 * at once (STORE_ERR) instead of each waiting for a connect timeout. Each new connection checks
 * the crash marker of the volatile table and raises the unclean floor when it is gone. */
#include "store_pg_int.h"
#include "util/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- statements ---- */

/* %1$s is the table. $1 ns, $2 key, $3 value, $4 expiry, $5 now (or $3 now for reads). Live means
 * expires = 0 or expires > now. */
static const struct {
	const char *sql;
	int nparams;
	Oid types[5];
} stmts[Q_N] = {
    [Q_GET] = {"SELECT v, expires FROM %1$s WHERE ns = $1 AND k = $2"
               " AND (expires = 0 OR expires > $3)",
               3,
               {25, 17, 20}},
    [Q_PUT] = {"INSERT INTO %1$s (ns, k, v, expires) VALUES ($1, $2, $3, $4)"
               " ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v, expires = excluded.expires",
               4,
               {25, 17, 17, 20}},
    /* one statement: inserts, or replaces an expired record; no row back when a live one is
     * there (a concurrent insert of the same key waits for ours and then sees it live) */
    [Q_PUT_NEW] = {"INSERT INTO %1$s AS t (ns, k, v, expires) VALUES ($1, $2, $3, $4)"
                   " ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v,"
                   " expires = excluded.expires WHERE t.expires <> 0 AND t.expires <= $5"
                   " RETURNING 1",
                   5,
                   {25, 17, 17, 20, 20}},
    [Q_TAKE] = {"DELETE FROM %1$s WHERE ns = $1 AND k = $2 AND (expires = 0 OR expires > $3)"
                " RETURNING v",
                3,
                {25, 17, 20}},
    /* the old value through a row-locking CTE: a concurrent take or swap either happens
     * before (and we see its result) or waits for us */
    [Q_SWAP] = {"WITH o AS (SELECT v FROM %1$s WHERE ns = $1 AND k = $2"
                " AND (expires = 0 OR expires > $5) FOR UPDATE)"
                " UPDATE %1$s AS t SET v = $3, expires = $4 FROM o"
                " WHERE t.ns = $1 AND t.k = $2 RETURNING o.v",
                5,
                {25, 17, 17, 20, 20}},
    [Q_DEL] = {"DELETE FROM %1$s WHERE ns = $1 AND k = $2 AND (expires = 0 OR expires > $3)",
               3,
               {25, 17, 20}},
    [Q_BDEL] = {"DELETE FROM %1$s WHERE ns = $1 AND k = $2", 2, {25, 17}},
    [Q_ITER] = {"SELECT k, v, expires FROM %1$s WHERE ns = $1"
                " AND (expires = 0 OR expires > $2) ORDER BY k",
                2,
                {25, 20}},
    /* through the partial index on expires */
    [Q_PURGE] = {"DELETE FROM %1$s AS t USING (SELECT ns, k FROM %1$s WHERE expires <> 0"
                 " AND expires <= $1 LIMIT $2) d WHERE t.ns = d.ns AND t.k = d.k"
                 " AND t.expires <> 0 AND t.expires <= $1",
                 2,
                 {20, 20}},
    [Q_COUNT] = {"SELECT count(*) FROM %1$s WHERE ns = $1", 1, {25}},
    /* as Q_PUT_NEW, but an error (division by zero, PG_EXISTS_STATE) when a live record is in
     * the way, so that the batch's implicit transaction is rolled back (store_pg.c, pg_batch) */
    [Q_BPUT_NEW] = {"WITH i AS (INSERT INTO %1$s AS t (ns, k, v, expires) VALUES ($1, $2, $3, $4)"
                    " ON CONFLICT (ns, k) DO UPDATE SET v = excluded.v,"
                    " expires = excluded.expires WHERE t.expires <> 0 AND t.expires <= $5"
                    " RETURNING 1) SELECT 1 / (SELECT count(*) FROM i)::int",
                    5,
                    {25, 17, 17, 20, 20}},
    /* Appenders of one namespace are serialised by a transaction-level advisory lock, taken by
     * its own statement before Q_APPEND: under READ COMMITTED each statement reads a new
     * snapshot, so Q_APPEND sees every append committed before the lock was granted, and the
     * numbers are dense, with no gap and no duplicate (the audit log's Merkle tree needs it). */
    [Q_ALOCK] = {"SELECT pg_advisory_xact_lock(7276, hashtext($1))", 1, {25}},
    [Q_APPEND] = {"INSERT INTO %1$s (ns, k, v, expires) SELECT $1,"
                  " decode(lpad(to_hex(coalesce((SELECT ('x' || encode(k, 'hex'))::bit(64)::bigint"
                  " FROM %1$s WHERE ns = $1 AND length(k) = 8 ORDER BY k DESC LIMIT 1), -1) + 1),"
                  " 16, '0'), 'hex'), $2, $3",
                  3,
                  {25, 17, 20}},
};

const char *pg_stmt(enum pg_q q, bool vol)
{
	static const char *const names[2][Q_N] = {
	    {"d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12"},
	    {"v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12"},
	};
	_Static_assert(Q_N == 13, "name every statement");
	return names[vol][q];
}

/* Copies sql to out with each "%1$s" replaced by table. */
static void with_table(char *out, size_t cap, const char *sql, const char *table)
{
	size_t o = 0, tl = strlen(table);
	for (const char *p = sql; *p && o + tl + 1 < cap; p++) {
		if (!strncmp(p, "%1$s", 4)) {
			memcpy(out + o, table, tl);
			o += tl;
			p += 3;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

int pg_prepare_all(PGconn *c)
{
	for (int vol = 0; vol < 2; vol++) {
		const char *table = vol ? "idhub_volatile" : "idhub_durable";
		for (int q = 0; q < Q_N; q++) {
			char sql[1024];
			with_table(sql, sizeof sql, stmts[q].sql, table);
			PGresult *r =
			    PQprepare(c, pg_stmt(q, vol), sql, stmts[q].nparams, stmts[q].types);
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				return pg_fail(r, "prepare");
			PQclear(r);
		}
	}
	return STORE_OK;
}

int pg_fail(PGresult *r, const char *what)
{
	const char *msg = r ? PQresultErrorMessage(r) : "no result";
	store_log_throttled("postgresql", true, "store: postgresql %s: %.300s", what,
	                    msg && *msg ? msg : "connection lost");
	PQclear(r);
	return STORE_ERR;
}

/* ---- connections ---- */

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reads (creating if gone) the volatile table's marker. A marker made now, on a schema that had
 * one, means the table was emptied by a crash or a failover: raise the floor. A marker different
 * from the one this process saw means another node found it gone first: raise it too. */
static int marker_check(store *s, PGconn *c, bool first)
{
	struct pg_store *p = pgctx(s);
	char sql[320];
	long long now = (long long)time(NULL);
	snprintf(sql, sizeof sql,
	         "WITH i AS (INSERT INTO idhub_marker VALUES (1, %lld) ON CONFLICT DO NOTHING"
	         " RETURNING since) SELECT since, 1 FROM i UNION ALL"
	         " SELECT since, 0 FROM idhub_marker WHERE id = 1",
	         now);
	for (int tries = 0; tries < 3; tries++) {
		PGresult *r = PQexec(c, sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			return pg_fail(r, "marker");
		if (PQntuples(r) < 1) { /* another node inserted it meanwhile: read again */
			PQclear(r);
			continue;
		}
		long long since = atoll(PQgetvalue(r, 0, 0));
		bool made = atoi(PQgetvalue(r, 0, 1)) == 1;
		PQclear(r);
		pthread_mutex_lock(&p->mu);
		bool changed = !first && since != p->marker_since;
		p->marker_since = since;
		pthread_mutex_unlock(&p->mu);
		if (made || changed) {
			log_warn("store: the database's volatile records were lost (a crash or a "
			         "failover); anything issued before now is refused");
			store_raise_floor(s, made ? now : since);
		}
		return STORE_OK;
	}
	return STORE_ERR;
}

/* The server's notices (a shutdown's WARNING) go to the debug log, not to stderr. */
static void on_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store: postgresql: %.300s", msg);
}

/* Connects with the session's settings and prepared statements; NULL on failure (logged). */
static PGconn *pg_connect(store *s, bool first, char **err)
{
	struct pg_store *p = pgctx(s);
	char timeout[16];
	snprintf(timeout, sizeof timeout, "%d", PG_CONNECT_TIMEOUT_S);
	/* later keywords override earlier ones: the conninfo (expanded from dbname) wins */
	const char *const kw[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const val[] = {timeout, "idhub", p->conninfo, NULL};
	PGconn *c = PQconnectdbParams(kw, val, 1);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		const char *m = c ? PQerrorMessage(c) : "out of memory";
		if (err && !*err && asprintf(err, "store: cannot connect to postgresql: %s", m) < 0)
			*err = NULL;
		store_log_throttled("postgresql", true,
		                    "store: cannot connect to postgresql: %.300s", m);
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, on_notice, NULL);
	char set[256];
	snprintf(set, sizeof set,
	         "SET statement_timeout = %d; SET lock_timeout = %d;"
	         " SET idle_in_transaction_session_timeout = %d; SET client_min_messages = warning",
	         PG_STATEMENT_MS, PG_STATEMENT_MS, 4 * PG_STATEMENT_MS);
	PGresult *r = PQexec(c, set);
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (ok && first)
		ok = pg_migrate(c, err) == STORE_OK;
	if (ok)
		ok = pg_prepare_all(c) == STORE_OK && marker_check(s, c, first) == STORE_OK;
	if (!ok) {
		if (err && !*err && asprintf(err, "store: postgresql: %s", PQerrorMessage(c)) < 0)
			*err = NULL;
		PQfinish(c);
		return NULL;
	}
	return c;
}

PGconn *pg_acquire(store *s)
{
	struct pg_store *p = pgctx(s);
	int64_t deadline = mono_ms() + PG_WAIT_MS;
	pthread_mutex_lock(&p->mu);
	int i;
	for (;;) {
		for (i = 0; i < p->n && p->slots[i].busy; i++)
			;
		if (i < p->n)
			break;
		int64_t left = deadline - mono_ms();
		if (left <= 0) {
			pthread_mutex_unlock(&p->mu);
			store_log_throttled("postgresql", true,
			                    "store: every postgresql connection stayed busy");
			return NULL;
		}
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_sec += left / 1000;
		t.tv_nsec += (left % 1000) * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &t);
	}
	/* prefer a connected slot */
	for (int j = i; j < p->n; j++)
		if (!p->slots[j].busy && p->slots[j].conn) {
			i = j;
			break;
		}
	struct pg_slot *sl = &p->slots[i];
	sl->busy = true;
	bool down = !sl->conn && mono_ms() < p->retry_after_ms;
	pthread_mutex_unlock(&p->mu);
	if (sl->conn)
		return sl->conn;
	if (down) { /* the database was unreachable a moment ago: fail at once */
		pthread_mutex_lock(&p->mu);
		sl->busy = false;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		return NULL;
	}
	PGconn *c = pg_connect(s, false, NULL);
	pthread_mutex_lock(&p->mu);
	sl->conn = c;
	if (!c) {
		sl->busy = false;
		p->retry_after_ms = mono_ms() + PG_RETRY_MS;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return c;
}

void pg_release(store *s, PGconn *c)
{
	struct pg_store *p = pgctx(s);
	if (!c)
		return;
	if (PQstatus(c) == CONNECTION_OK && PQtransactionStatus(c) != PQTRANS_IDLE)
		PQclear(PQexec(c, "ROLLBACK"));
	bool broken = PQstatus(c) != CONNECTION_OK;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->n; i++) {
		if (p->slots[i].conn != c)
			continue;
		if (broken) {
			PQfinish(c);
			p->slots[i].conn = NULL;
		}
		p->slots[i].busy = false;
		break;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void pg_discard(store *s, PGconn *c)
{
	struct pg_store *p = pgctx(s);
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < p->n; i++)
		if (p->slots[i].conn == c) {
			p->slots[i].conn = NULL;
			p->slots[i].busy = false;
		}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	PQfinish(c);
}

int pg_pool_open(store *s, const store_config *sc, char **err)
{
	struct pg_store *p = calloc(1, sizeof *p);
	if (!p)
		return STORE_ERR;
	p->n = sc->pool > 0 ? sc->pool : PG_POOL_DEFAULT;
	p->conninfo = strdup(sc->conninfo);
	p->slots = calloc((size_t)p->n, sizeof *p->slots);
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	s->be_ctx = p;
	if (!p->conninfo || !p->slots) {
		pg_pool_close(s);
		return STORE_ERR;
	}
	/* the first connection migrates the schema and reads the marker */
	p->slots[0].conn = pg_connect(s, true, err);
	if (!p->slots[0].conn) {
		pg_pool_close(s);
		return STORE_ERR;
	}
	return STORE_OK;
}

void pg_pool_close(store *s)
{
	struct pg_store *p = pgctx(s);
	if (!p)
		return;
	pg_watch_stop(s);
	for (int i = 0; p->slots && i < p->n; i++)
		PQfinish(p->slots[i].conn);
	free(p->slots);
	free(p->conninfo);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	s->be_ctx = NULL;
}
