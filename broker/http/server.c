/* server.c — libmicrohttpd glue: assembles each request within the limits of http.h, calls the
 * handler once, and sends its response with the security headers every response carries. */
#include "server.h"
#include "budget.h"
#include "conns.h"
#include "csp.h"
#include "request_id.h"
#include "workers.h"
#include "../util/log.h"
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http_server {
	struct MHD_Daemon *d;
	struct hub *hub;
	http_handler handler;
	http_blocks_fn blocks;
	workers *pool;
	http_conns *conns;  /* per-source connection limit, header deadline (conns.h) */
	http_budget budget; /* journeys per minute per source (budget.h) */
	log_rate mhd_lines; /* libmicrohttpd's own messages */
};

/* Per-request state: created by the URI log callback (which sees the raw URI with its query). */
typedef struct req_ctx {
	http_req req;
	char *body;
	size_t body_len, body_cap, body_max, body_hint;
	int too_large;
	int refused; /* answered 413 before its body was read (refuse_too_large) */
	int uri_too_long;
	const char *raw_query;
	size_t raw_query_len;
	int started;
	int parsed;     /* query and body parsed into req */
	int done;       /* an offloaded handler finished: resp is ready */
	http_resp resp; /* the offloaded handler's response */
	http_server *srv;
	struct MHD_Connection *con;
	request_id rid; /* its log lines and X-Request-Id */
} req_ctx;

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
	(void)cls;
	(void)con;
	arena *a = arena_new();
	if (!a)
		return NULL;
	req_ctx *c = arena_alloc(a, sizeof(*c));
	c->req.a = a;
	request_id_start(&c->rid);
	size_t len = strlen(uri);
	if (len > HTTP_MAX_URL) {
		c->uri_too_long = 1;
		return c;
	}
	const char *q = strchr(uri, '?');
	if (q) {
		c->raw_query = arena_strndup(a, q + 1, len - (size_t)(q + 1 - uri));
		c->raw_query_len = strlen(c->raw_query);
	}
	return c;
}

static void completed(void *cls, struct MHD_Connection *con, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)toe;
	http_conns_request_done(con);
	req_ctx *c = *req_cls;
	if (c)
		arena_free(c->req.a);
	*req_cls = NULL;
}

const char *http_header(const http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_cookie(const http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

void http_add_header(http_resp *resp, const char *name, const char *value)
{
	if (resp->nhdr >= HTTP_MAX_HEADERS_OUT) {
		log_err("http: too many response headers, dropped %s", name);
		return;
	}
	resp->hdr_name[resp->nhdr] = name;
	resp->hdr_value[resp->nhdr] = value;
	resp->nhdr++;
}

void http_html(http_resp *resp, int status, const char *html)
{
	resp->status = status;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = html;
	resp->body_len = strlen(html);
}

void http_json(http_resp *resp, int status, const char *json)
{
	resp->status = status;
	resp->content_type = "application/json";
	resp->body = json;
	resp->body_len = strlen(json);
}

void http_text(http_resp *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = text;
	resp->body_len = strlen(text);
}

void http_redirect(http_resp *resp, const char *url)
{
	resp->status = 303;
	http_add_header(resp, "Location", url);
	resp->content_type = "text/plain; charset=utf-8";
	resp->body = "";
	resp->body_len = 0;
}

/* Paths that take an IdP's answer, which may be large (a SAML response, a wallet's encrypted
 * presentation posted to an adapter's own page under /idp/<id>/): the callback body limits. */
static int is_callback_path(const char *url)
{
	return strncmp(url, "/callback/", 10) == 0 || strncmp(url, "/idp/", 5) == 0;
}

static enum MHD_Result send_resp(struct MHD_Connection *con, http_req *r, http_resp *resp)
{
	struct MHD_Response *mr = MHD_create_response_from_buffer(
	    resp->body_len, (void *)resp->body, MHD_RESPMEM_MUST_COPY);
	if (!mr)
		return MHD_NO;
	if (resp->content_type)
		MHD_add_response_header(mr, "Content-Type", resp->content_type);
	for (int i = 0; i < resp->nhdr; i++)
		MHD_add_response_header(mr, resp->hdr_name[i], resp->hdr_value[i]);
	if (resp->max_age > 0) {
		char cc[64];
		snprintf(cc, sizeof cc, "public, max-age=%d", resp->max_age);
		MHD_add_response_header(mr, "Cache-Control", cc);
	} else {
		MHD_add_response_header(mr, "Cache-Control", "no-store");
		MHD_add_response_header(mr, "Pragma", "no-cache");
	}
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(mr, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(mr, "X-Frame-Options", "DENY");
	if (resp->content_type && strncmp(resp->content_type, "text/html", 9) == 0)
		MHD_add_response_header(mr, "Content-Security-Policy",
		                        csp_header(r->a, resp->csp_script));
	else
		MHD_add_response_header(mr, "Content-Security-Policy",
		                        "default-src 'none'; frame-ancestors 'none'");
	enum MHD_Result ret = MHD_queue_response(con, (unsigned)resp->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

/* Runs an offloaded handler and hands the connection back to its event loop, which then calls
 * on_request again and sends c->resp. */
static void run_offloaded(void *arg)
{
	req_ctx *c = arg;
	request_id_enter(&c->rid);
	c->srv->handler(c->srv->hub, &c->req, &c->resp);
	if (!c->resp.status)
		http_text(&c->resp, 500, "internal error\n");
	request_id_finish(&c->rid, &c->req, &c->resp);
	c->done = 1;
	MHD_resume_connection(c->con);
}

static int is_form_content(const char *ct)
{
	if (!ct)
		return 0;
	size_t n = strlen("application/x-www-form-urlencoded");
	return strncasecmp(ct, "application/x-www-form-urlencoded", n) == 0 &&
	       (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

/* Appends a piece of the body (within body_max) to the request's buffer. */
static void append_body(req_ctx *c, const char *data, size_t n)
{
	size_t need = c->body_len + n + 1;
	if (need > c->body_cap) {
		/* sized from Content-Length, grown if the client sends more */
		size_t cap = c->body_cap ? c->body_cap * 2 : 1024;
		if (cap < c->body_hint + 1)
			cap = c->body_hint + 1;
		if (cap < need)
			cap = need;
		if (cap > c->body_max + 1)
			cap = c->body_max + 1;
		char *nb = arena_alloc_uninit(c->req.a, cap);
		if (c->body_len)
			memcpy(nb, c->body, c->body_len);
		c->body = nb;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, data, n);
	c->body_len += n;
}

/* A body over the limit, declared or chunked, is answered 413 at once and its connection closed,
 * so that no more than the limit is ever read (an endless chunked body was once read for 28 GB).
 * libmicrohttpd 0.9.75 (Debian 12) cannot queue a response once it is reading a body, so the
 * answer is written to the socket here, while libmicrohttpd has written nothing of its own, and
 * the socket's sending side is shut. The connection is then suspended for HTTP_LINGER_MS, so
 * that nothing more is read while the client reads the answer: closing a socket with unread data
 * sends a reset, and a client that gets the reset before it has read the answer drops it. When
 * it resumes, the connection is closed. */
static enum MHD_Result refuse_too_large(struct MHD_Connection *con, req_ctx *c,
                                        size_t *upload_data_size)
{
	static const char answer[] = "HTTP/1.1 413 Content Too Large\r\n"
	                             "Connection: close\r\n"
	                             "Content-Type: text/plain; charset=utf-8\r\n"
	                             "Content-Length: 23\r\n"
	                             "Cache-Control: no-store\r\n"
	                             "X-Content-Type-Options: nosniff\r\n"
	                             "Referrer-Policy: no-referrer\r\n"
	                             "X-Frame-Options: DENY\r\n"
	                             "Content-Security-Policy: default-src 'none'; "
	                             "frame-ancestors 'none'\r\n\r\n"
	                             "request body too large\n";
	const union MHD_ConnectionInfo *fi =
	    MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD);
	c->too_large = c->refused = 1;
	*upload_data_size = 0;
	if (!fi || send(fi->connect_fd, answer, sizeof answer - 1, MSG_NOSIGNAL) < 0)
		return MHD_NO;
	shutdown(fi->connect_fd, SHUT_WR);
	/* after the pause, a client that neither sends nor closes is dropped soon */
	MHD_set_connection_option(con, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)1);
	return http_conns_linger(con, HTTP_LINGER_MS) == 0 ? MHD_YES : MHD_NO;
}

/* The value of the last header called name (a proxy's header comes after the client's). */
static enum MHD_Result last_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	(void)kind;
	const char **out = ((const char **)cls);
	if (strcasecmp(key, out[0]) == 0)
		out[1] = value;
	return MHD_YES;
}

/* Sets r->source: the socket peer, or, from a trusted proxy, the client it forwarded for. */
static void request_source(http_server *s, struct MHD_Connection *con, http_req *r)
{
	http_addr peer, fwd;
	int trusted;
	r->budget = &s->budget;
	if (http_conns_peer(con, &peer, &trusted))
		return;
	r->source_addr = peer;
	if (trusted) {
		/* only the right-most entry is the proxy's own: those before it came from the
		 * client. A trusted proxy that sends none leaves its own address as the source. */
		const char *q[2] = {"X-Forwarded-For", NULL};
		MHD_get_connection_values(con, MHD_HEADER_KIND, last_value, q);
		if (http_addr_forwarded(q[1], &fwd) == 0)
			r->source_addr = fwd;
	}
	char *t = arena_alloc(r->a, HTTP_ADDR_TEXT);
	http_addr_text(&r->source_addr, t);
	r->source = t;
}

/* The first call for a request: its headers are complete. */
static enum MHD_Result request_begin(http_server *s, req_ctx *c, struct MHD_Connection *con,
                                     const char *url, size_t *upload_data_size)
{
	http_conns_headers_done(con);
	c->started = 1;
	c->req.conn = con;
	request_source(s, con, &c->req);
	c->body_max = is_callback_path(url) ? HTTP_MAX_CALLBACK_BODY : HTTP_MAX_BODY;
	const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
	unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
	if (declared > c->body_max)
		return refuse_too_large(con, c, upload_data_size);
	c->body_hint = (size_t)declared;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	http_server *s = cls;
	req_ctx *c = *req_cls;
	(void)version;
	if (!c)
		return MHD_NO; /* out of memory in the URI logger */
	if (!c->started)
		return request_begin(s, c, con, url, upload_data_size);
	if (c->refused)
		return MHD_NO; /* back from lingering (refuse_too_large): close */
	if (*upload_data_size) {
		if (c->body_len + *upload_data_size > c->body_max)
			return refuse_too_large(con, c, upload_data_size);
		append_body(c, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}

	http_req *r = &c->req;
	if (c->done)
		return send_resp(con, r, &c->resp);
	http_resp resp = {0};
	r->method = method;
	r->path = url;
	if (c->uri_too_long) {
		http_text(&resp, 414, "URI too long\n");
		request_id_finish(&c->rid, r, &resp);
		return send_resp(con, r, &resp);
	}
	if (!c->parsed) {
		c->parsed = 1;
		size_t vmax = is_callback_path(url) ? HTTP_MAX_CALLBACK_VALUE : FORM_MAX_VALUE;
		if (c->raw_query)
			r->query_error =
			    form_parse(r->a, &r->query, c->raw_query, c->raw_query_len, vmax);
		if (c->too_large) {
			r->body_error = HTTP_BODY_TOO_LARGE;
		} else if (c->body_len || strcmp(method, "POST") == 0) {
			r->raw_body = c->body ? c->body : "";
			r->body_len = c->body_len;
			if (c->body)
				c->body[c->body_len] = 0;
			const char *ct =
			    MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
			if (is_form_content(ct))
				r->body_error =
				    form_parse(r->a, &r->body, r->raw_body, r->body_len, vmax);
			else
				r->body_error = HTTP_BODY_NOT_FORM;
		}
	}
	if (s->pool && s->blocks && s->blocks(s->hub, r)) {
		/* the handler may wait on an upstream IdP: run it off this event-loop thread */
		c->srv = s;
		c->con = con;
		MHD_suspend_connection(con);
		if (workers_submit(s->pool, run_offloaded, c) == 0)
			return MHD_YES;
		run_offloaded(c); /* the pool is stopping: run it here, then resume at once */
		return MHD_YES;
	}
	request_id_enter(&c->rid);
	s->handler(s->hub, r, &resp);
	if (!resp.status)
		http_text(&resp, 500, "internal error\n");
	request_id_finish(&c->rid, r, &resp);
	return send_resp(con, r, &resp);
}

/* libmicrohttpd hands us its own format strings: the one place a non-literal format is expected */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	/* a client can make libmicrohttpd speak on every connection (a dropped body, a reset): at
	 * most one of its lines per interval, with the count */
	http_server *s = cls;
	unsigned long count = 0;
	if (!log_rate_take(&s->mhd_lines, (int64_t)time(NULL), &count))
		return;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	if (count > 1)
		log_warn("http: %s (and %lu more libmicrohttpd messages since the last line)", line,
		         count - 1);
	else
		log_warn("http: %s", line);
}
#pragma GCC diagnostic pop

/* The listening address; NULL with a message in *err. */
static struct sockaddr *listen_addr(const char *host, int port, struct sockaddr_in *a4,
                                    struct sockaddr_in6 *a6, unsigned *flags, char **err)
{
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		return (struct sockaddr *)a4;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*flags |= MHD_USE_IPv6;
		return (struct sockaddr *)a6;
	}
	if (asprintf(err, "listen address '%s' is not a numeric IP address", host) < 0)
		*err = NULL;
	return NULL;
}

/* The per-source limits of the config: connections, header deadline, journey budget. */
static int limits_start(http_server *s, const hub_conf *cfg)
{
	http_addr proxies[HUB_MAX_TRUSTED_PROXIES];
	size_t n = 0;
	for (size_t i = 0; i < cfg->ntrusted_proxies && n < HUB_MAX_TRUSTED_PROXIES; i++)
		if (http_addr_parse(cfg->trusted_proxies[i], &proxies[n]) == 0)
			n++;
	http_conns_conf cc = {.proxies = proxies,
	                      .nproxies = n,
	                      .per_source = (unsigned)cfg->connections_per_source,
	                      .header_timeout = (unsigned)cfg->header_timeout};
	if (!(s->conns = http_conns_new(&cc)))
		return -1;
	return http_budget_init(&s->budget, (unsigned)cfg->journeys_per_minute);
}

static void server_free(http_server *s)
{
	workers_free(s->pool);
	http_conns_free(s->conns);
	http_budget_fini(&s->budget);
	free(s);
}

http_server *http_server_start(struct hub *h, const hub_conf *cfg, http_handler handler,
                               http_blocks_fn blocks, char **err)
{
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	unsigned flags =
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	struct sockaddr *sa =
	    listen_addr(cfg->listen_host, cfg->listen_port, &a4, &a6, &flags, err);
	if (!sa)
		return NULL;
	http_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hub = h;
	s->handler = handler;
	s->blocks = blocks;
	if ((blocks && cfg->upstream_threads > 0 &&
	     !(s->pool = workers_new((int)cfg->upstream_threads))) ||
	    limits_start(s, cfg)) {
		*err = strdup("cannot start the worker threads");
		server_free(s);
		return NULL;
	}
	s->d = MHD_start_daemon(
	    flags, (uint16_t)cfg->listen_port, http_conns_accept, s->conns, on_request, s,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads, MHD_OPTION_URI_LOG_CALLBACK,
	    uri_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, http_conns_notify, s->conns,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)4096, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_END);
	if (!s->d) {
		if (asprintf(err, "cannot listen on %s:%d (in use, or not permitted)",
		             cfg->listen_host, cfg->listen_port) < 0)
			*err = NULL;
		server_free(s);
		return NULL;
	}
	return s;
}

void http_server_stop(http_server *s)
{
	if (!s)
		return;
	/* no new connections; then every offloaded handler finishes and resumes its connection,
	 * since stopping the daemon with a suspended connection is not allowed */
	MHD_socket ls = MHD_quiesce_daemon(s->d);
	workers_free(s->pool);
	s->pool = NULL;
	http_conns_resume_all(s->conns); /* connections paused after a 413 */
	MHD_stop_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls); /* quiesce hands the listening socket to us */
	server_free(s);
}
