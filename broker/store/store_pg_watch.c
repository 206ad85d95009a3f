/* store_pg_watch.c — the PostgreSQL backend's change feed: one connection per daemon that LISTENs
 * on idhub_changes, which triggers on the keys, meta, services and IdP-switch tables notify (schema
 * migration 2). Each notification advances a counter that caches compare (store_change_epoch), so
 * a change made by another node or by idhubctl reaches every node within a second without a query
 * per request. While the feed's connection is down the counter advances on every read, so callers
 * fall back to checking the store themselves. */
#include "store_pg_int.h"
#include "util/log.h"
#include <poll.h>
#include <stdlib.h>
#include <string.h>

/* Wakes at least this often to notice store_close. */
enum { WATCH_POLL_MS = 200, WATCH_RETRY_MS = 1000 };

static PGconn *watch_connect(store *s)
{
	struct pg_store *p = pgctx(s);
	const char *const kw[] = {"connect_timeout", "application_name", "dbname", NULL};
	const char *const val[] = {"2", "idhub-watch", p->conninfo, NULL};
	PGconn *c = PQconnectdbParams(kw, val, 1);
	if (PQstatus(c) == CONNECTION_OK) {
		PGresult *r = PQexec(c, "LISTEN idhub_changes");
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (ok)
			return c;
	}
	store_log_throttled("postgresql", true, "store: the change feed cannot connect: %.300s",
	                    PQerrorMessage(c));
	PQfinish(c);
	return NULL;
}

static void bump(struct pg_store *p)
{
	__atomic_add_fetch(&p->epoch, 1, __ATOMIC_ACQ_REL);
}

static void *watch_main(void *arg)
{
	store *s = arg;
	struct pg_store *p = pgctx(s);
	PGconn *c = NULL;
	while (!__atomic_load_n(&p->watch_stop, __ATOMIC_ACQUIRE)) {
		if (!c) {
			c = watch_connect(s);
			__atomic_store_n(&p->watch_up, c != NULL, __ATOMIC_RELEASE);
			bump(p); /* whatever happened while it was down: look again */
			if (!c) {
				poll(NULL, 0, WATCH_RETRY_MS);
				continue;
			}
		}
		struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
		if (poll(&pfd, 1, WATCH_POLL_MS) < 0)
			continue;
		if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
			__atomic_store_n(&p->watch_up, false, __ATOMIC_RELEASE);
			PQfinish(c);
			c = NULL;
			bump(p);
			continue;
		}
		PGnotify *n;
		while ((n = PQnotifies(c))) {
			bump(p);
			PQfreemem(n);
		}
	}
	PQfinish(c);
	return NULL;
}

int pg_watch(store *s)
{
	struct pg_store *p = pgctx(s);
	if (p->watching)
		return STORE_ERR;
	p->epoch = 1;
	if (pthread_create(&p->watch_thread, NULL, watch_main, s) != 0)
		return STORE_ERR;
	p->watching = true;
	return STORE_OK;
}

uint64_t pg_epoch(store *s)
{
	struct pg_store *p = pgctx(s);
	if (!p->watching)
		return 0;
	if (!__atomic_load_n(&p->watch_up, __ATOMIC_ACQUIRE))
		bump(p); /* no feed: every read is a change, the caller checks */
	return __atomic_load_n(&p->epoch, __ATOMIC_ACQUIRE);
}

void pg_watch_stop(store *s)
{
	struct pg_store *p = pgctx(s);
	if (!p || !p->watching)
		return;
	__atomic_store_n(&p->watch_stop, true, __ATOMIC_RELEASE);
	pthread_join(p->watch_thread, NULL);
	p->watching = false;
}
