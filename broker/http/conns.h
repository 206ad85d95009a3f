/* conns.h — the server's view of its connections, below HTTP: a per-source limit on open
 * connections (checked when a connection is accepted) and a total deadline for each request's
 * headers (libmicrohttpd's own timeout is an idle timeout, reset by every byte, so a client
 * trickling one header byte at a time would hold its connection forever).
 *
 * Behind a trusted proxy every connection comes from the proxy's address: connections from a
 * trusted proxy are not limited here (the proxy limits its clients: limit_conn in
 * deploy/nginx-idhub.conf); the global connection limit still applies to them.
 *
 * The deadline runs from the connection's start, and again from the end of each response on a
 * kept-alive connection, until the request's headers are complete. A sweep thread shuts down the
 * sockets of connections past it; libmicrohttpd then closes them as if the client had. */
#ifndef IDHUB_CONNS_H
#define IDHUB_CONNS_H
#include "source.h"
#include <microhttpd.h>

typedef struct http_conns http_conns;

typedef struct http_conns_conf {
	const http_addr *proxies; /* trusted proxies (copied) */
	size_t nproxies;
	unsigned per_source;     /* most open connections per source; 0: no limit */
	unsigned header_timeout; /* seconds to send a request's headers */
} http_conns_conf;

/* Starts the sweep thread. NULL on error. */
http_conns *http_conns_new(const http_conns_conf *conf);
/* Stops the sweep thread and frees; call after the daemon has stopped. */
void http_conns_free(http_conns *c);

/* libmicrohttpd callbacks (cls = the http_conns): MHD_OPTION_NOTIFY_CONNECTION and the accept
 * policy of MHD_start_daemon. */
void http_conns_notify(void *cls, struct MHD_Connection *con, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
enum MHD_Result http_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);

/* Suspends con (from its access handler) for ms milliseconds, then resumes it: a refused client
 * reads its answer while nothing more is read from it. 0, or -1 when con cannot linger. */
int http_conns_linger(struct MHD_Connection *con, unsigned ms);
/* Resumes every lingering connection now (before the daemon stops). */
void http_conns_resume_all(http_conns *c);
/* The connection's request headers are complete: its deadline stops. */
void http_conns_headers_done(struct MHD_Connection *con);
/* The connection's request is answered: the next request's deadline starts. */
void http_conns_request_done(struct MHD_Connection *con);
/* The socket peer of con and whether it is a trusted proxy. 0, or -1 when unknown. */
int http_conns_peer(struct MHD_Connection *con, http_addr *peer, int *trusted);

#endif
