/* end_session.c — RP-Initiated Logout 1.0 (§2-3). A service sends the citizen to /logout with
 * id_token_hint, client_id, post_logout_redirect_uri and state.
 *  - The request is tied to the browser's session when id_token_hint is an ID token the hub
 *    issued to that service in this session (its sub and sid are the session's for the service).
 *    Then the session ends at once (sessions/end.c: refresh tokens revoked, back-channel logouts
 *    queued to every other service).
 *  - Otherwise (no hint, a hint of another session, a forged one) the citizen is asked to confirm
 *    (§3: a logout request is a cross-site GET anyone can trigger); the confirmation form carries
 *    the session's CSRF token.
 *  - post_logout_redirect_uri is used only when it is an exact match of one the identified
 *    service registered; otherwise the hub shows its own signed-out page (§3: never an open
 *    redirector). state goes back with it.
 *  - With no session there is nothing to end: a replayed logout just shows the outcome.
 *  - When the session's IdP adapter can end the upstream session (sessions/upstream.h), the
 *    browser goes there first and comes back to /logout/upstream, which finishes as above. */
#include "end_session.h"
#include "hint.h"
#include "respond.h"
#include "../pages/pages.h"
#include "../sessions/session.h"
#include "../sessions/upstream.h"
#include "../util/buf.h"
#include "../util/log.h"
#include <openssl/crypto.h>
#include <string.h>

static const char *const single[] = {"id_token_hint", "client_id",   "post_logout_redirect_uri",
                                     "state",         "csrf",        "confirm",
                                     "ui_locales",    "logout_hint", NULL};

typedef struct logout_req {
	const form *p;
	const char *hint_tok, *client_id, *ruri, *state;
	id_hint hint;
	int hint_ok;
	const service_conf *svc;
	const char *redirect; /* the registered URI to return to, or NULL */
} logout_req;

/* The service: client_id, or the hint's single audience. NULL on a contradiction (*bad set). */
static const char *identify(hub *h, http_req *r, logout_req *l)
{
	l->hint_ok = l->hint_tok && oidc_id_hint(h, r->a, l->hint_tok, &l->hint) == 0;
	const char *cid = l->client_id;
	if (l->hint_ok && cid && !oidc_id_hint_for(&l->hint, cid))
		return T("logout.bad.two_services");
	if (!cid && l->hint_ok && l->hint.aud[0] && !l->hint.aud[1])
		cid = l->hint.aud[0];
	l->svc = cid ? hub_service(h, r->a, cid) : NULL;
	if (l->client_id && !l->svc)
		return T("logout.bad.unregistered");
	for (size_t i = 0; l->svc && l->ruri && i < l->svc->npost_logout_redirect_uris; i++)
		if (strcmp(l->svc->post_logout_redirect_uris[i], l->ruri) == 0)
			l->redirect = l->ruri; /* exact match, as for redirect_uri */
	if (l->ruri && !l->redirect)
		log_info("logout: post_logout_redirect_uri not registered: no redirect");
	return NULL;
}

static int tied(const logout_req *l, const session *s)
{
	const session_service *e = l->svc ? session_find_service(s, l->svc->client_id) : NULL;
	return l->hint_ok && e && strcmp(e->sub, l->hint.sub) == 0 &&
	       (!l->hint.sid || strcmp(e->sid, l->hint.sid) == 0);
}

/* The registered post-logout URI with the service's state, or NULL for the hub's own page. */
static const char *done_url(http_req *r, const logout_req *l)
{
	if (!l->redirect)
		return NULL;
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, l->redirect);
	if (l->state) {
		buf_puts(&b, strchr(l->redirect, '?') ? "&state=" : "?state=");
		buf_urlenc(&b, l->state);
	}
	return buf_str(&b);
}

static void signed_out(hub *h, http_req *r, http_resp *resp, const logout_req *l)
{
	const char *u = done_url(r, l);
	(void)h;
	if (u)
		http_redirect(resp, u);
	else
		session_signed_out_page(r, resp);
}

static void hidden(buf *b, const char *name, const char *value)
{
	if (!value)
		return;
	buf_printf(b, "<input type=\"hidden\" name=\"%s\" value=\"", name);
	buf_html(b, value);
	buf_puts(b, "\">\n");
}

static void confirm_page(http_req *r, http_resp *resp, const logout_req *l, const session *s)
{
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, "<h1>");
	buf_html(&b, T("logout.confirm.heading"));
	buf_puts(&b, "</h1>\n<p>");
	if (l->svc) {
		buf_html(&b, page_fmt(r->a, T("logout.asked"), l->svc->name, NULL));
		buf_puts(&b, " ");
	}
	buf_html(&b, T("logout.explain"));
	buf_puts(&b, "</p>\n<form method=\"post\" action=\"/logout\" novalidate>\n");
	hidden(&b, "csrf", s->csrf);
	hidden(&b, "confirm", "yes");
	hidden(&b, "client_id", l->svc ? l->svc->client_id : NULL);
	hidden(&b, "post_logout_redirect_uri", l->redirect);
	hidden(&b, "state", l->redirect ? l->state : NULL);
	buf_puts(&b, "<button class=\"button\" type=\"submit\">");
	buf_html(&b, T("logout.button"));
	buf_puts(&b, "</button>\n</form>\n");
	http_html(resp, 200, page_render(r->a, T("logout.confirm.heading"), buf_str(&b)));
}

static int confirmed(http_req *r, const logout_req *l, const session *s)
{
	const char *csrf = form_get(l->p, "csrf", NULL), *c = form_get(l->p, "confirm", NULL);
	/* only a POST of the form the hub served to this session */
	return strcmp(r->method, "POST") == 0 && c && strcmp(c, "yes") == 0 && csrf &&
	       strlen(csrf) == 43 && CRYPTO_memcmp(csrf, s->csrf, 43) == 0;
}

static const form *params(http_req *r, http_resp *resp)
{
	int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	if (!get && strcmp(r->method, "POST") != 0) {
		http_add_header(resp, "Allow", "GET, POST");
		http_text(resp, 405, "method not allowed\n");
		return NULL;
	}
	if ((get && r->query_error) || (!get && r->body_error)) {
		oidc_error_page(r, resp, 400, T("logout.bad.heading"), T("logout.bad.malformed"),
		                NULL);
		return NULL;
	}
	const form *p = get ? &r->query : &r->body;
	for (int i = 0; single[i]; i++) {
		int c;
		form_param(p, single[i], &c);
		if (c > 1) {
			oidc_error_page(r, resp, 400, T("logout.bad.heading"),
			                T("logout.bad.repeated"), NULL);
			return NULL;
		}
	}
	return p;
}

void oidc_end_session(hub *h, http_req *r, http_resp *resp)
{
	logout_req l = {.p = params(r, resp)};
	if (!l.p)
		return;
	l.hint_tok = form_param(l.p, "id_token_hint", NULL);
	l.client_id = form_param(l.p, "client_id", NULL);
	l.ruri = form_param(l.p, "post_logout_redirect_uri", NULL);
	l.state = form_param(l.p, "state", NULL);
	const char *bad = identify(h, r, &l);
	if (bad) {
		oidc_error_page(r, resp, 400, T("logout.bad.heading"), bad, NULL);
		return;
	}
	session s;
	if (session_load(h, r, &s) != 0) {
		session_clear_cookie(h, r, resp);
		signed_out(h, r, resp, &l); /* nothing to end: replayed, or never signed in */
		return;
	}
	if (!tied(&l, &s) && !confirmed(r, &l, &s)) {
		confirm_page(r, resp, &l, &s);
		return;
	}
	session_end(h, r->a, s.key,
	            l.svc ? arena_printf(r->a, "logout requested by %s", l.svc->client_id)
	                  : "logout confirmed by the citizen");
	session_clear_cookie(h, r, resp);
	/* the IdP's session too, when its adapter can end it: back through /logout/upstream */
	if (!session_upstream_logout(h, r, resp, &s, done_url(r, &l)))
		signed_out(h, r, resp, &l);
}
