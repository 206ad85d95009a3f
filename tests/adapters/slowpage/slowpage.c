/* slowpage.c — a network-bound test adapter (IDHUB_ADAPTER_NETWORK) with two pages of its own, for
 * tests/integration/adapter-host.test.mjs (built by `make unit-bins`):
 *   GET /idp/<id>/wait creates <state_dir>/<id>-waiting, then waits (at most 10 s) until the test
 *   creates <state_dir>/<id>-go: serve runs on the blocking pool under the IdP's max_concurrent;
 *   GET /idp/<id>/http?url=U POSTs {"hello":"hub"} to U with a header X-Idhub-Test through the
 *   hub's HTTP client and answers "<status> <body>";
 *   GET /idp/<id>/headers?name=N&value=V answers an HTML page with the extra header N: V (and
 *   X-Not-Allowed: 1), for tests/integration/adapter-page-headers.test.mjs. */
#include <idhub/adapter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *sp_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	(void)cfg;
	(void)err;
	return (void *)svc;
}

static int sp_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                    idhub_start_result *out, idhub_error *err)
{
	(void)ctx, (void)a, (void)req, (void)out;
	return idhub_fail(err, IDHUB_ERR_UNAVAILABLE, "this adapter only serves a page");
}

static int sp_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                     const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	(void)ctx, (void)a, (void)cb, (void)req, (void)out;
	return idhub_fail(err, IDHUB_ERR_INVALID, "this adapter only serves a page");
}

static int http_page(const idhub_services *s, idhub_arena *a, const idhub_http_request *r,
                     idhub_http_response *resp)
{
	const idhub_kv hdr[] = {{"X-Idhub-Test", "yes"}};
	idhub_http_call call = {.method = "POST",
	                        .url = idhub_param(r, "url", NULL),
	                        .headers = hdr,
	                        .nheaders = 1,
	                        .json = "{\"hello\":\"hub\"}",
	                        .timeout_s = 5};
	int status = 0;
	char *body = NULL;
	if (!call.url || s->http(s->inst, &call, &status, &body))
		return -1;
	*resp = (idhub_http_response){.status = 200, .content_type = "text/plain"};
	resp->body = s->sprintf(a, "%d %s", status, body ? body : "");
	free(body);
	return 0;
}

static int headers_page(const idhub_services *s, idhub_arena *a, const idhub_http_request *r,
                        idhub_http_response *resp)
{
	const char *name = idhub_param(r, "name", NULL), *value = idhub_param(r, "value", NULL);
	idhub_kv *h = s->alloc(a, 2 * sizeof *h);
	if (!name || !value || !IDHUB_HAS_REVISION(s, 2))
		return -1;
	h[0] = (idhub_kv){name, value};
	h[1] = (idhub_kv){"X-Not-Allowed", "1"};
	resp->status = 200;
	resp->content_type = "text/html; charset=utf-8";
	resp->body = "<!doctype html><title>headers</title><p>headers</p>";
	resp->headers = h;
	resp->nheaders = 2;
	return 0;
}

static int sp_serve(void *ctx, idhub_arena *a, const idhub_http_request *r,
                    idhub_http_response *resp)
{
	const idhub_services *s = ctx;
	if (strcmp(r->path, "/http") == 0)
		return http_page(s, a, r, resp);
	if (strcmp(r->path, "/headers") == 0)
		return headers_page(s, a, r, resp);
	if (strcmp(r->path, "/wait") != 0)
		return -1;
	char *waiting = s->sprintf(a, "%s/%s-waiting", s->state_dir, s->instance_id);
	char *go = s->sprintf(a, "%s/%s-go", s->state_dir, s->instance_id);
	FILE *f = fopen(waiting, "w");
	if (f)
		fclose(f);
	for (int i = 0; i < 200 && access(go, F_OK) != 0; i++)
		usleep(50 * 1000);
	*resp = (idhub_http_response){.status = 200, .content_type = "text/plain", .body = "done"};
	return 0;
}

static void sp_destroy(void *ctx)
{
	(void)ctx;
}

static const idhub_adapter slowpage = {
    IDHUB_ADAPTER_HEAD("slowpage", "state"),
    .init = sp_init,
    .start = sp_start,
    .finish = sp_finish,
    .serve = sp_serve,
    .destroy = sp_destroy,
    .flags = IDHUB_ADAPTER_NETWORK,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &slowpage;
}
