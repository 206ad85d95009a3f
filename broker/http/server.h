/* server.h — the libmicrohttpd server: thread pool with epoll, request assembly within limits,
 * security headers on every response, dispatch to the router. */
#ifndef IDHUB_SERVER_H
#define IDHUB_SERVER_H
#include "http.h"

struct hub;
typedef struct http_server http_server;

/* The function that handles every complete request. */
typedef void (*http_handler)(struct hub *h, http_req *r, http_resp *resp);

/* Starts listening on host:port with threads workers. Returns NULL with a message in *err. */
http_server *http_server_start(struct hub *h, const char *host, int port, int threads,
			       http_handler handler, char **err);
void http_server_stop(http_server *s);

#endif
