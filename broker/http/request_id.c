/* request_id.c — request IDs, the thread's log context while a handler runs, and the access line
 * (see request_id.h). */
#include "request_id.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <stdint.h>
#include <string.h>

/* The next 64 bits of the calling thread's generator: splitmix64, seeded once per thread from the
 * CSPRNG. A request ID only tells log lines apart and authorizes nothing, so it need not be
 * unpredictable; this costs a few nanoseconds where RAND_bytes costs about a microsecond a request.
 * Seeded per thread, the IDs of different threads and runs do not collide in practice. */
static uint64_t next64(void)
{
	static __thread uint64_t state;
	static __thread int seeded;
	if (!seeded) {
		if (random_bytes(&state, sizeof state))
			state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
		seeded = 1;
	}
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void request_id_start(request_id *q)
{
	clock_gettime(CLOCK_MONOTONIC, &q->t0);
	/* the hub's own ID, never one a client sends: a client could otherwise make its requests
	 * look like somebody else's in the log */
	uint64_t r[2] = {next64(), next64()};
	b64url_encode(q->id, r, 12);
}

void request_id_enter(const request_id *q)
{
	log_set_request(q->id);
}

static int id_char(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '_' || ch == '.';
}

int request_id_acceptable(const char *s)
{
	size_t n = 0;
	if (!s)
		return 0;
	while (s[n] && n <= LOG_ID_MAX && id_char((unsigned char)s[n]))
		n++;
	return n >= 1 && n <= LOG_ID_MAX && s[n] == 0;
}

void request_id_log_path(const char *path, char *out, size_t cap)
{
	size_t o = 0;
	const char *p = path ? path : "";
	if (cap < 2) {
		if (cap)
			out[0] = 0;
		return;
	}
	while (*p) {
		const char *seg = p + (*p == '/');
		size_t n = strcspn(seg, "/"), ok = 1;
		for (size_t i = 0; i < n; i++)
			ok &= (size_t)id_char((unsigned char)seg[i]);
		/* journey tokens and keys are 43 characters and more; ids and names are shorter */
		const char *w = ok && n <= 32 ? seg : "*";
		size_t wl = ok && n <= 32 ? n : 1;
		if (o + 1 + wl + 1 > cap)
			break;
		if (*p == '/')
			out[o++] = '/';
		memcpy(out + o, w, wl);
		o += wl;
		p = seg + n;
	}
	out[o] = 0;
}

void request_id_finish(const request_id *q, const http_req *r, http_resp *resp)
{
	http_add_header(resp, "X-Request-Id", q->id);
	metrics_http_request(r ? r->path : NULL, resp->status, &q->t0);
	if (log_enabled(LOG_DEBUG_)) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long long us =
		    (t.tv_sec - q->t0.tv_sec) * 1000000LL + (t.tv_nsec - q->t0.tv_nsec) / 1000;
		char path[160];
		request_id_log_path(r ? r->path : NULL, path, sizeof path);
		const char *front = r ? http_header(r, "X-Request-Id") : NULL;
		log_field f[] = {{"method", r && r->method ? r->method : "-", 0},
		                 {"path", path, 0},
		                 {"status", NULL, resp->status},
		                 {"duration_us", NULL, us},
		                 {"front_request_id", front, 0}};
		int n = request_id_acceptable(front) ? 5 : 4;
		log_fields(LOG_DEBUG_, "http: request", f, n);
	}
	log_set_request(NULL);
}
