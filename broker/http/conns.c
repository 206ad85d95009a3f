/* conns.c — per-source connection limit and request-header deadline (see conns.h). */
#include "conns.h"
#include "lograte.h"
#include "srctab.h"
#include "../util/log.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

enum { SWEEP_MS = 250, CONN_BUCKETS = 1024 }; /* 8192 entries: twice the connection limit */

typedef struct conn {
	struct conn *prev, *next;
	http_conns *owner;
	http_addr peer;
	int trusted, counted, cut;
	int waiting;   /* waiting for a request's headers */
	int64_t since; /* monotonic ms: when the wait began */
	int fd;
	struct MHD_Connection *con;
	int lingering;        /* suspended after a refusal (http_conns_linger) */
	int64_t linger_until; /* monotonic ms: when to resume it */
} conn;

struct http_conns {
	http_conns_conf conf;
	http_addr *proxies;
	srctab *open;
	pthread_mutex_t mu; /* guards the list and each conn's fields */
	pthread_cond_t cv;
	conn *head;
	int stopping;
	pthread_t sweeper;
	log_rate over_limit, too_slow;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Shuts down every connection past its header deadline. The list is walked under the mutex, and
 * a connection leaves the list (http_conns_notify CLOSED) before libmicrohttpd closes its socket,
 * so the descriptor shut down here is always still that connection's. */
static void *sweep_main(void *arg)
{
	http_conns *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += SWEEP_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&c->cv, &c->mu, &until);
		int64_t now = mono_ms(), limit = (int64_t)c->conf.header_timeout * 1000;
		unsigned cut = 0, nresume = 0;
		struct MHD_Connection *resume[64];
		for (conn *k = c->head; k; k = k->next) {
			if (k->waiting && !k->cut && now - k->since > limit) {
				shutdown(k->fd, SHUT_RDWR);
				k->cut = 1;
				cut++;
			}
			if (k->lingering && now >= k->linger_until && nresume < 64) {
				k->lingering = 0;
				resume[nresume++] = k->con;
			}
		}
		/* resumed outside the mutex (libmicrohttpd takes its own locks); a suspended
		 * connection is not closed, so each is still there */
		pthread_mutex_unlock(&c->mu);
		for (unsigned i = 0; i < nresume; i++)
			MHD_resume_connection(resume[i]);
		pthread_mutex_lock(&c->mu);
		for (unsigned i = 0; i < cut; i++)
			log_rate_refused(&c->too_slow, time(NULL),
			                 "http: connections closed for sending request headers too "
			                 "slowly");
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

http_conns *http_conns_new(const http_conns_conf *conf)
{
	http_conns *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->conf = *conf;
	c->proxies = calloc(conf->nproxies ? conf->nproxies : 1, sizeof *c->proxies);
	c->open = srctab_new(CONN_BUCKETS);
	if (!c->proxies || !c->open) {
		srctab_free(c->open);
		free(c->proxies);
		free(c);
		return NULL;
	}
	if (conf->nproxies)
		memcpy(c->proxies, conf->proxies, conf->nproxies * sizeof *c->proxies);
	c->conf.proxies = c->proxies;
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->sweeper, NULL, sweep_main, c) != 0) {
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		srctab_free(c->open);
		free(c->proxies);
		free(c);
		return NULL;
	}
	return c;
}

void http_conns_free(http_conns *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->sweeper, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	srctab_free(c->open);
	free(c->proxies);
	free(c);
}

enum MHD_Result http_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	http_conns *c = cls;
	http_addr peer;
	(void)addrlen;
	if (!c->conf.per_source || http_addr_from_sockaddr(addr, &peer))
		return MHD_YES;
	if (http_addr_trusted(&peer, c->proxies, c->conf.nproxies))
		return MHD_YES;
	http_addr src = http_addr_source(&peer);
	/* counted when the connection starts (same thread, right after this): a race between the
	 * event-loop threads can let one source exceed its limit by at most one per thread */
	if (srctab_conn_count(c->open, &src) < c->conf.per_source)
		return MHD_YES;
	log_rate_refused(
	    &c->over_limit, time(NULL),
	    "http: connections over the per-source limit (hub.connections_per_source)");
	return MHD_NO;
}

static void conn_started(http_conns *c, struct MHD_Connection *con, void **socket_context)
{
	conn *k = calloc(1, sizeof *k);
	if (!k)
		return; /* untracked: no deadline, not counted */
	const union MHD_ConnectionInfo *ai =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const union MHD_ConnectionInfo *fi =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
	k->owner = c;
	k->con = con;
	k->fd = fi ? fi->connect_fd : -1;
	if (ai && http_addr_from_sockaddr(ai->client_addr, &k->peer) == 0) {
		k->trusted = http_addr_trusted(&k->peer, c->proxies, c->conf.nproxies);
		if (!k->trusted) {
			http_addr src = http_addr_source(&k->peer);
			k->counted = srctab_conn_add(c->open, &src);
		}
	}
	k->waiting = 1;
	k->since = mono_ms();
	pthread_mutex_lock(&c->mu);
	if (k->fd >= 0) {
		k->next = c->head;
		if (c->head)
			c->head->prev = k;
		c->head = k;
	}
	pthread_mutex_unlock(&c->mu);
	*socket_context = k;
}

static void conn_closed(http_conns *c, void **socket_context)
{
	conn *k = *socket_context;
	if (!k)
		return;
	pthread_mutex_lock(&c->mu);
	if (k->prev)
		k->prev->next = k->next;
	else if (c->head == k)
		c->head = k->next;
	if (k->next)
		k->next->prev = k->prev;
	pthread_mutex_unlock(&c->mu);
	if (k->counted) {
		http_addr src = http_addr_source(&k->peer);
		srctab_conn_release(c->open, &src);
	}
	free(k);
	*socket_context = NULL;
}

void http_conns_notify(void *cls, struct MHD_Connection *con, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		conn_started(cls, con, socket_context);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		conn_closed(cls, socket_context);
}

static conn *conn_of(struct MHD_Connection *con)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void set_waiting(struct MHD_Connection *con, int waiting)
{
	conn *k = conn_of(con);
	if (!k)
		return;
	pthread_mutex_lock(&k->owner->mu);
	k->waiting = waiting;
	k->since = mono_ms();
	pthread_mutex_unlock(&k->owner->mu);
}

int http_conns_linger(struct MHD_Connection *con, unsigned ms)
{
	conn *k = conn_of(con);
	if (!k || k->fd < 0)
		return -1; /* not in the list: the sweeper would never resume it */
	MHD_suspend_connection(con);
	pthread_mutex_lock(&k->owner->mu);
	k->lingering = 1;
	k->linger_until = mono_ms() + ms;
	pthread_mutex_unlock(&k->owner->mu);
	return 0;
}

void http_conns_resume_all(http_conns *c)
{
	for (;;) {
		struct MHD_Connection *con = NULL;
		pthread_mutex_lock(&c->mu);
		for (conn *k = c->head; k && !con; k = k->next)
			if (k->lingering) {
				k->lingering = 0;
				con = k->con;
			}
		pthread_mutex_unlock(&c->mu);
		if (!con)
			return;
		MHD_resume_connection(con);
	}
}

void http_conns_headers_done(struct MHD_Connection *con)
{
	set_waiting(con, 0);
}

void http_conns_request_done(struct MHD_Connection *con)
{
	set_waiting(con, 1);
}

int http_conns_peer(struct MHD_Connection *con, http_addr *peer, int *trusted)
{
	conn *k = conn_of(con);
	if (k) {
		*peer = k->peer;
		*trusted = k->trusted;
		return 0;
	}
	const union MHD_ConnectionInfo *ai =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	*trusted = 0;
	return ai ? http_addr_from_sockaddr(ai->client_addr, peer) : -1;
}
