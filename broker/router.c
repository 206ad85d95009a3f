/* router.c — maps each request path to its handler. The table is the hub's whole HTTP surface. */
#include "router.h"
#include "demo/demo.h"
#include "http/http.h"
#include "idp/adapters.h"
#include "journey/callback.h"
#include "oidc/complete.h"
#include "journey/picker.h"
#include "oidc/authorize.h"
#include "oidc/discovery.h"
#include "oidc/end_session.h"
#include "oidc/introspect.h"
#include "oidc/respond.h"
#include "oidc/revoke.h"
#include "oidc/token.h"
#include "oidc/userinfo.h"
#include "pages/pages.h"
#include "sessions/page.h"
#include "sessions/upstream.h"
#include "util/log.h"
#include <string.h>
#include <strings.h>

static void not_found(http_req *r, http_resp *resp)
{
	oidc_error_page(r, resp, 404, T("error.not_found.heading"), T("error.not_found.message"),
	                NULL);
}

/* If path is prefix + one segment (no further '/'), returns the segment; else NULL. */
static const char *segment(http_req *r, const char *path, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);
	if (strncmp(path, prefix, n) != 0 || !path[n])
		return NULL;
	const char *s = path + n, *slash = strchr(s, '/');
	if (rest)
		*rest = slash ? slash : "";
	else if (slash)
		return NULL;
	return slash ? arena_strndup(r->a, s, (size_t)(slash - s)) : s;
}

/* Whether v is "sha256-" and the base64 of 32 bytes: a CSP hash source, and nothing else. */
static int is_script_hash(const char *v)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	return v && strlen(v) == 51 && strncmp(v, "sha256-", 7) == 0 && strspn(v + 7, b64) == 43 &&
	       v[50] == '=';
}

/* An adapter page's extra headers (adapter.h): only allow-listed names, so an adapter cannot
 * weaken the hub's own (CSP, cookies, caching), and only printable ASCII values (no header
 * splitting). Refresh: a page that waits reloads itself without a meta refresh. CSP-Script is
 * not sent: it names, by its hash, the one inline script of the page (progressive enhancement,
 * e.g. a waiting page that polls its status), which the page's CSP then allows with
 * connect-src 'self'; no other source can be added. */
static void adapter_headers(const hub_idp *idp, http_resp *resp, const idhub_http_response *ar)
{
	static const char *const allowed[] = {"Refresh", "CSP-Script"};
	for (size_t i = 0; ar->headers && i < ar->nheaders && i < 8; i++) {
		const idhub_kv *h = &ar->headers[i];
		const char *name = NULL;
		for (size_t k = 0; h->name && k < sizeof allowed / sizeof allowed[0]; k++)
			if (strcasecmp(h->name, allowed[k]) == 0)
				name = allowed[k];
		int ok = name && h->value && strlen(h->value) <= 1024;
		for (const char *c = h->value; ok && *c; c++)
			ok = *c >= 0x20 && *c < 0x7f;
		if (ok && name == allowed[1])
			ok = is_script_hash(h->value);
		if (ok && name == allowed[1])
			resp->csp_script = h->value;
		else if (ok)
			http_add_header(resp, name, h->value);
		else
			log_warn("idp %s: page header %.40s dropped (not allowed)", idp->conf->id,
			         h->name ? h->name : "(null)");
	}
}

static void adapter_route(hub *h, http_req *r, http_resp *resp, const char *id, const char *rest)
{
	const hub_idp *idp = hub_find_idp(h, id);
	if (!idp || !idp->ops) {
		not_found(r, resp);
		return;
	}
	if (strcmp(rest, "/metadata") == 0 && idp->ops->metadata) {
		const char *ct = NULL, *body = NULL;
		if (idp->ops->metadata(idp->ctx, (idhub_arena *)r->a, &ct, &body) == 0 && body) {
			http_text(resp, 200, body);
			resp->content_type = ct ? ct : "application/xml";
			return;
		}
	}
	if (!idp->ops->serve) {
		not_found(r, resp);
		return;
	}
	if (r->query_error || (r->body_error && r->body_error != HTTP_BODY_NOT_FORM)) {
		oidc_error_page(r, resp, r->body_error == HTTP_BODY_TOO_LARGE ? 413 : 400,
		                T("error.bad_request.heading"), T("common.malformed"), NULL);
		return;
	}
	idhub_http_request areq;
	journey_adapter_request(r, &areq);
	areq.path = rest;
	idhub_http_response ar = {0};
	if (idp->ops->serve(idp->ctx, (idhub_arena *)r->a, &areq, &ar) != 0 || !ar.status) {
		not_found(r, resp);
		return;
	}
	resp->status = ar.status;
	resp->content_type = ar.content_type;
	resp->body = ar.body ? ar.body : "";
	resp->body_len = ar.body ? (ar.body_len ? ar.body_len : strlen(ar.body)) : 0;
	if (ar.location)
		http_add_header(resp, "Location", ar.location);
	adapter_headers(idp, resp, &ar);
}

/* What hub_route_blocks tells hub_route about a request for a network IdP: it holds a place in
 * the IdP's gate (release it when done), or the IdP is saturated (refuse at once). */
typedef struct idp_note {
	const hub_idp *idp;
	int held;
} idp_note;

int hub_route_blocks(hub *h, http_req *r)
{
	const char *p = r->path, *id = NULL, *rest;
	/* a sign-out may call the IdP adapter's logout hook (sessions/upstream.h), which may wait
	 * on a document refresh: off the event loop, without a gate place (no IdP round trip) */
	if (strcmp(p, "/logout") == 0 || strcmp(p, "/session/end") == 0)
		return 1;
	if (strncmp(p, "/callback/", 10) == 0)
		id = p + 10;
	else if (strncmp(p, "/idp/", 5) == 0) /* an adapter's own pages (serve) */
		id = segment(r, p, "/idp/", &rest);
	else if (strncmp(p, "/login/", 7) == 0 && strcmp(r->method, "POST") == 0)
		id = form_get(&r->body, "idp", NULL);
	const hub_idp *idp = id ? hub_find_idp(h, id) : NULL;
	if (!idp || !idp->ops || !(idp->ops->flags & IDHUB_ADAPTER_NETWORK))
		return 0;
	idp_note *n = arena_alloc(r->a, sizeof *n);
	n->idp = idp;
	n->held = adapters_gate_enter(idp, hub_now(h)) == 0;
	r->route_note = n;
	return n->held; /* a saturated IdP is refused on the event loop, without waiting */
}

static void dispatch(hub *h, http_req *r, http_resp *resp);

void hub_route(hub *h, http_req *r, http_resp *resp)
{
	idp_note *n = r->route_note;
	pages_pick_lang(r, resp, h->cfg->secure_cookies); /* the citizen's language (pages.h) */
	if (n && !n->held) {
		const char *id = strncmp(r->path, "/login/", 7) == 0
		                     ? segment(r, r->path, "/login/", NULL)
		                     : NULL;
		journey_idp_unavailable(h, r, resp, id, n->idp);
		return;
	}
	dispatch(h, r, resp);
	if (n)
		adapters_gate_leave(n->idp);
}

static void dispatch(hub *h, http_req *r, http_resp *resp)
{
	const char *p = r->path, *id, *rest;
	if (strcmp(p, "/healthz") == 0) {
		http_text(resp, 200, "ok\n");
	} else if (strcmp(p, "/.well-known/openid-configuration") == 0) {
		oidc_discovery(h, r, resp);
	} else if (strcmp(p, "/jwks") == 0) {
		oidc_jwks(h, r, resp);
	} else if (strcmp(p, "/authorize") == 0) {
		oidc_authorize(h, r, resp);
	} else if (strcmp(p, "/token") == 0) {
		oidc_token(h, r, resp);
	} else if (strcmp(p, "/userinfo") == 0) {
		oidc_userinfo(h, r, resp);
	} else if (strcmp(p, "/logout") == 0) {
		oidc_end_session(h, r, resp);
	} else if (strcmp(p, "/logout/upstream") == 0) {
		session_upstream_return(h, r, resp);
	} else if (strcmp(p, "/revoke") == 0) {
		oidc_revoke(h, r, resp);
	} else if (strcmp(p, "/introspect") == 0) {
		oidc_introspect(h, r, resp);
	} else if (strcmp(p, "/session") == 0) {
		session_page(h, r, resp);
	} else if (strcmp(p, "/session/end") == 0) {
		session_signout(h, r, resp);
	} else if ((id = segment(r, p, "/login/", &rest))) {
		if (!*rest)
			journey_picker(h, r, resp, id);
		else if (strcmp(rest, "/cancel") == 0)
			oidc_cancel(h, r, resp, id);
		else
			not_found(r, resp);
	} else if ((id = segment(r, p, "/callback/", NULL))) {
		oidc_callback(h, r, resp, id);
	} else if ((id = segment(r, p, "/idp/", &rest))) {
		adapter_route(h, r, resp, id, rest);
	} else if (strcmp(p, "/assets/idhub.css") == 0) {
		http_text(resp, 200, pages_css());
		resp->content_type = "text/css; charset=utf-8";
		resp->max_age = 3600;
	} else if (h->cfg->demo && strncmp(p, "/demo", 5) == 0) {
		demo_route(h, r, resp);
	} else if (strcmp(p, "/") == 0) {
		if (h->cfg->demo)
			http_redirect(resp, arena_printf(r->a, "%s/demo", h->cfg->issuer));
		else
			http_html(
			    resp, 200,
			    page_render(r->a, T("layout.service_name"),
			                arena_printf(r->a, "<h1>%s</h1>\n<p>%s</p>\n",
			                             T("layout.service_name"), T("home.message"))));
	} else {
		not_found(r, resp);
	}
}
