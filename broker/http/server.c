/* server.c — libmicrohttpd glue: assembles each request within the limits of http.h, calls the
 * handler once, and sends its response with the security headers every response carries. */
#include "server.h"
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
#include <unistd.h>

struct http_server {
	struct MHD_Daemon *d;
	struct hub *hub;
	http_handler handler;
	http_blocks_fn blocks;
	workers *pool;
};

/* Per-request state: created by the URI log callback (which sees the raw URI with its query). */
typedef struct req_ctx {
	http_req req;
	char *body;
	size_t body_len, body_cap, body_max, body_hint;
	int too_large;
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
	(void)con;
	(void)toe;
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

static int is_callback_path(const char *url)
{
	return strncmp(url, "/callback/", 10) == 0;
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
		MHD_add_response_header(mr, "Content-Security-Policy", csp_header(r->a));
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **req_cls)
{
	http_server *s = cls;
	req_ctx *c = *req_cls;
	(void)version;
	if (!c)
		return MHD_NO; /* out of memory in the URI logger */
	if (!c->started) {
		c->started = 1;
		c->req.conn = con;
		c->body_max = is_callback_path(url) ? HTTP_MAX_CALLBACK_BODY : HTTP_MAX_BODY;
		const char *cl =
		    MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Length");
		unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
		if (declared > c->body_max)
			c->too_large = 1; /* refuse early, but still drain what the client sends */
		else
			c->body_hint = (size_t)declared;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!c->too_large) {
			if (c->body_len + *upload_data_size > c->body_max) {
				c->too_large = 1;
			} else {
				size_t need = c->body_len + *upload_data_size + 1;
				if (need > c->body_cap) {
					/* sized from Content-Length, grown if the client sends more
					 */
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
				memcpy(c->body + c->body_len, upload_data, *upload_data_size);
				c->body_len += *upload_data_size;
			}
		}
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
	(void)cls;
	char line[512];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	log_warn("http: %s", line);
}
#pragma GCC diagnostic pop

http_server *http_server_start(struct hub *h, const char *host, int port, int threads,
                               http_handler handler, http_blocks_fn blocks, int blocking_threads,
                               char **err)
{
	struct sockaddr_in6 a6 = {0};
	struct sockaddr_in a4 = {0};
	struct sockaddr *sa;
	unsigned flags =
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&a4;
	} else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)port);
		sa = (struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		if (asprintf(err, "listen address '%s' is not a numeric IP address", host) < 0)
			*err = NULL;
		return NULL;
	}
	http_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->hub = h;
	s->handler = handler;
	s->blocks = blocks;
	if (blocks && blocking_threads > 0 && !(s->pool = workers_new(blocking_threads))) {
		*err = strdup("cannot start the worker threads");
		free(s);
		return NULL;
	}
	s->d = MHD_start_daemon(
	    flags, (uint16_t)port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
	    NULL, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
	    MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed,
	    NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)4096, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
	    MHD_OPTION_END);
	if (!s->d) {
		if (asprintf(err, "cannot listen on %s:%d (in use, or not permitted)", host, port) <
		    0)
			*err = NULL;
		workers_free(s->pool);
		free(s);
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
	MHD_stop_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls); /* quiesce hands the listening socket to us */
	free(s);
}
