/* http.h — the request and response the hub's handlers see, independent of libmicrohttpd.
 *
 * A request owns an arena freed when the request ends; everything a handler allocates for the
 * response comes from it. Limits (documented in README "Limits"): URL 8 KiB, 64 parameters, a value
 * 4 KiB (64 KiB for the POST fields callbacks carry), a body 64 KiB (512 KiB on /callback/).
 */
#ifndef IDHUB_HTTP_H
#define IDHUB_HTTP_H
#include "../util/arena.h"
#include "../util/form.h"
#include "source.h"
#include <stddef.h>
#include <stdint.h>

enum {
	HTTP_MAX_URL = 8192,
	HTTP_MAX_BODY = 65536,
	HTTP_MAX_CALLBACK_BODY = 524288,
	HTTP_MAX_CALLBACK_VALUE = 524288,
	HTTP_MAX_HEADERS_OUT = 12,
	HTTP_LINGER_MS = 2000 /* a connection refused 413 waits so long before it closes */
};

typedef struct http_req {
	arena *a;
	const char *method; /* "GET", "POST", "HEAD", ... */
	const char *path;   /* decoded path, no query */
	form query;         /* parsed query string */
	form body;          /* parsed body when it is application/x-www-form-urlencoded */
	int query_error;    /* FORM_ code of the query parse (0 = ok) */
	int body_error;     /* FORM_ code of the body parse, or HTTP_BODY_TOO_LARGE, or
	                       HTTP_BODY_NOT_FORM */
	const char *raw_body;
	size_t body_len;
	void *conn; /* the server's connection handle, for headers */
	/* The client's address: the socket peer, or, when the peer is a trusted proxy
	 * (hub.trusted_proxies), the address that proxy appended to X-Forwarded-For. Text, or NULL
	 * when unknown. */
	const char *source;
	http_addr source_addr;
	struct http_budget *budget; /* the server's per-source journey budget (budget.h) */
	void *route_note;           /* the router's own note from http_blocks_fn to its handler */
} http_req;

enum { HTTP_BODY_TOO_LARGE = -100, HTTP_BODY_NOT_FORM = -101 };

typedef struct http_resp {
	int status;
	const char *content_type;
	const char *body;
	size_t body_len;
	const char *hdr_name[HTTP_MAX_HEADERS_OUT];
	const char *hdr_value[HTTP_MAX_HEADERS_OUT];
	int nhdr;
	int max_age; /* >0: Cache-Control public, max-age; otherwise no-store */
	/* An HTML page's own inline script, "sha256-<base64>" (NULL: none): its CSP allows that
	 * script and connect-src 'self' (csp.h). */
	const char *csp_script;
} http_resp;

/* A request header's value, or NULL. */
const char *http_header(const http_req *r, const char *name);
/* A cookie's value, or NULL. */
const char *http_cookie(const http_req *r, const char *name);
/* Adds a response header (both strings must outlive the response: use the arena). */
void http_add_header(http_resp *resp, const char *name, const char *value);

/* Counts a new journey against r's source budget (hub.journeys_per_minute) at time now. 0, or -1
 * when the source is over its budget (the refusal is counted in a rate-limited log line). */
int http_journey_budget(const http_req *r, int64_t now);

/* Response helpers: set status, content type and body. */
void http_html(http_resp *resp, int status, const char *html);
void http_json(http_resp *resp, int status, const char *json);
void http_text(http_resp *resp, int status, const char *text);
/* 303 See Other to url (absolute). */
void http_redirect(http_resp *resp, const char *url);

#endif
