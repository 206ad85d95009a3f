/* server.h — the libmicrohttpd server: thread pool with epoll, request assembly within limits,
 * security headers on every response, dispatch to the router. */
#ifndef IDHUB_SERVER_H
#define IDHUB_SERVER_H
#include "http.h"
#include "../config/config.h"

struct hub;
typedef struct http_server http_server;

/* The function that handles every complete request. */
typedef void (*http_handler)(struct hub *h, http_req *r, http_resp *resp);
/* Whether a parsed request's handler may wait on the network (an upstream IdP): such requests
 * run on a separate pool while their connection is suspended, so the event-loop threads keep
 * serving everyone else. It may leave a note in r->route_note for the handler. NULL: never. */
typedef int (*http_blocks_fn)(struct hub *h, http_req *r);

/* Starts listening on cfg's listen address and port with cfg->threads event-loop threads and,
 * if blocks is set, cfg->upstream_threads threads for blocking handlers; applies cfg's
 * per-source limits (trusted_proxies, connections_per_source, header_timeout,
 * journeys_per_minute). Returns NULL with a message in *err. */
http_server *http_server_start(struct hub *h, const hub_conf *cfg, http_handler handler,
                               http_blocks_fn blocks, char **err);
void http_server_stop(http_server *s);

#endif
