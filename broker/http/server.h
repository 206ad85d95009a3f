/* server.h — the libmicrohttpd server: thread pool with epoll, request assembly within limits,
 * security headers on every response, dispatch to the router. */
#ifndef IDHUB_SERVER_H
#define IDHUB_SERVER_H
#include "http.h"

struct hub;
typedef struct http_server http_server;

/* The function that handles every complete request. */
typedef void (*http_handler)(struct hub *h, http_req *r, http_resp *resp);
/* Whether a parsed request's handler may wait on the network (an upstream IdP): such requests
 * run on a separate pool while their connection is suspended, so the event-loop threads keep
 * serving everyone else. NULL: never. */
typedef int (*http_blocks_fn)(struct hub *h, const http_req *r);

/* Starts listening on host:port with threads event-loop threads and, if blocks is set,
 * blocking_threads threads for blocking handlers. Returns NULL with a message in *err. */
http_server *http_server_start(struct hub *h, const char *host, int port, int threads,
                               http_handler handler, http_blocks_fn blocks, int blocking_threads,
                               char **err);
void http_server_stop(http_server *s);

#endif
