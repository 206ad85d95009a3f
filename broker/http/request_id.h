/* request_id.h — each request's ID: made by the hub, set as the handling thread's log context,
 * echoed in the X-Request-Id response header, and closed by one access line at debug level. */
#ifndef IDHUB_REQUEST_ID_H
#define IDHUB_REQUEST_ID_H
#include "http.h"
#include <time.h>

#define REQUEST_ID_LEN 16 /* base64url of 12 random bytes */

typedef struct request_id {
	char id[REQUEST_ID_LEN + 1];
	struct timespec t0;
} request_id;

/* Makes a fresh ID and notes the start time (when the request line arrives). */
void request_id_start(request_id *q);
/* Makes q the calling thread's log context (log_set_request), before the handler runs. */
void request_id_enter(const request_id *q);
/* After the handler, on the same thread: adds X-Request-Id to resp, logs the access line (method,
 * a path with its tokens masked, status, duration, and a front proxy's own X-Request-Id when it is
 * well-formed), and clears the thread's log context. r may be NULL (a refused URI). */
void request_id_finish(const request_id *q, const http_req *r, http_resp *resp);
/* 1 when s is 1..64 characters of [A-Za-z0-9._-]: a front proxy's ID that is safe to log. */
int request_id_acceptable(const char *s);
/* Writes path into out (cap bytes) with every segment that could be a token (longer than 32
 * characters, or with other characters than [A-Za-z0-9._-]) replaced by "*". */
void request_id_log_path(const char *path, char *out, size_t cap);

#endif
