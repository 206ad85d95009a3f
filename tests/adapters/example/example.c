/* example.c — the smallest useful idhub adapter (ABI v2), built and tested under tests/ and walked
 * through in docs/writing-an-adapter.md. Its "IdP" is one page it serves itself: start() parks the
 * login in the journey's scratch record and sends the browser to the page; the page's POST (which
 * could come from another user agent, a phone) parks the answer there; finish() takes it. */
#include <idhub/adapter.h>
#include <stdlib.h>
#include <string.h>

enum { S_LEVEL, S_ANSWER_TTL, S_COUNT };
static const idhub_setting_decl settings[S_COUNT] = {
    [S_LEVEL] = {"level", IDHUB_SET_INT, "1", 1, 3}, /* the level it asserts */
    [S_ANSWER_TTL] = {"answer_ttl", IDHUB_SET_DURATION, "2m", 10, 600},
};

typedef struct example {
	const idhub_services *svc;
	const idhub_adapter_config *cfg; /* the hub keeps it valid until destroy */
} example;

static void *ex_init(const idhub_adapter_config *cfg, const idhub_services *svc, idhub_error *err)
{
	example *x = calloc(1, sizeof *x);
	if (!x)
		idhub_fail(err, IDHUB_ERR_INTERNAL, "out of memory");
	else
		*x = (example){svc, cfg};
	return x;
}

static int ex_start(void *ctx, idhub_arena *a, const idhub_login_request *req,
                    idhub_start_result *out, idhub_error *err)
{
	example *x = ctx;
	const idhub_services *s = x->svc;
	if (s->scratch_put(s->inst, req->request_id, "-", 1, x->cfg->values[S_ANSWER_TTL].num))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot park the login");
	out->kind = IDHUB_START_REDIRECT;
	out->url = s->sprintf(a, "%s/idp/%s/page?rid=%s", x->cfg->hub_base_url, s->instance_id,
	                      s->url_escape(a, req->request_id));
	return 0;
}

static int page(const idhub_services *s, idhub_arena *a, idhub_http_response *r, const char *html)
{
	*r = (idhub_http_response){.status = 200, .content_type = "text/html; charset=utf-8"};
	r->body = s->page(s->inst, a, "Example identity provider", html);
	r->body_len = strlen(r->body);
	return 0;
}

static int ex_serve(void *ctx, idhub_arena *a, const idhub_http_request *r,
                    idhub_http_response *resp)
{
	example *x = ctx;
	const idhub_services *s = x->svc;
	int n;
	const char *rid = idhub_param(r, "rid", &n), *who = idhub_param(r, "persona", NULL);
	/* the request_id is unguessable: knowing it is the right to answer this login */
	if (strcmp(r->path, "/page") || n != 1 || !s->scratch_get(s->inst, a, rid, NULL, 0))
		return -1;
	if (strcmp(r->method, "POST") != 0)
		return page(
		    s, a, resp,
		    s->sprintf(
		        a,
		        "<h1>Example identity provider</h1>\n<form method=\"post\" action=\"page\">"
		        "<input type=\"hidden\" name=\"rid\" value=\"%s\"><label>Name "
		        "<input name=\"persona\" maxlength=\"32\"></label>"
		        "<button name=\"action\" value=\"login\">Sign in</button></form>",
		        s->html_escape(a, rid)));
	if (!who || !*who || strlen(who) > 32 ||
	    strspn(who, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(who) ||
	    s->scratch_put(s->inst, rid, who, strlen(who), x->cfg->values[S_ANSWER_TTL].num))
		return -1;
	return page(s, a, resp,
	            s->sprintf(a,
	                       "<form method=\"post\" action=\"%s\"><input type=\"hidden\" "
	                       "name=\"state\" value=\"%s\"><button>Continue</button></form>",
	                       s->html_escape(a, x->cfg->callback_url), s->html_escape(a, rid)));
}

static int ex_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                     const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	example *x = ctx;
	const idhub_services *s = x->svc;
	(void)cb; /* the hub matched cb's state to req; the answer is in the scratch record */
	const char *who = s->scratch_get(s->inst, a, req->request_id, NULL, 1);
	if (!who || !strcmp(who, "-"))
		return idhub_fail(err, IDHUB_ERR_INVALID, "no answer for this login");
	*out = (idhub_identity){.subject = s->sprintf(a, "example:%s", who),
	                        .loa = (int)x->cfg->values[S_LEVEL].num,
	                        .auth_time = s->now(s->inst),
	                        .upstream_id = req->request_id};
	return 0;
}

static const idhub_adapter example_adapter = {
    IDHUB_ADAPTER_HEAD("example", "state"),
    .settings = settings,
    .nsettings = S_COUNT,
    .init = ex_init,
    .start = ex_start,
    .finish = ex_finish,
    .serve = ex_serve,
    .destroy = free,
};

const idhub_adapter *idhub_adapter_entry(void)
{
	return &example_adapter;
}
