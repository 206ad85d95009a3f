/* page.c — the citizen's signed-in page and "sign out of all services" (see page.h). */
#include "page.h"
#include "session.h"
#include "upstream.h"
#include "../pages/pages.h"
#include "../util/buf.h"
#include "../util/log.h"
#include <openssl/crypto.h>
#include <string.h>

static void services_list(hub *h, http_req *r, buf *b, const session *s)
{
	if (!s->nsvcs)
		return;
	buf_puts(b, "<p>");
	buf_html(b, T("session.services"));
	buf_puts(b, "</p>\n<ul class=\"list\">\n");
	for (size_t i = 0; i < s->nsvcs; i++) {
		const service_conf *svc = hub_service(h, r->a, s->svcs[i].client_id);
		buf_puts(b, "<li>");
		buf_html(b, svc ? svc->name : s->svcs[i].client_id);
		buf_puts(b, "</li>\n");
	}
	buf_puts(b, "</ul>\n");
}

void session_page(hub *h, http_req *r, http_resp *resp)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		http_add_header(resp, "Allow", "GET");
		http_text(resp, 405, "method not allowed\n");
		return;
	}
	session s;
	buf b;
	buf_init(&b, r->a);
	if (session_load(h, r, &s)) {
		buf_puts(&b, "<h1>");
		buf_html(&b, T("session.not_signed_in.heading"));
		buf_puts(&b, "</h1>\n<p>");
		buf_html(&b, T("session.not_signed_in.message"));
		buf_puts(&b, "</p>\n");
		http_html(resp, 200,
		          page_render(r->a, T("session.not_signed_in.heading"), buf_str(&b)));
		return;
	}
	const hub_idp *idp = hub_find_idp(h, s.idp);
	const char *acr = config_loa_acr(h->cfg, s.loa);
	buf_puts(&b, "<h1>");
	buf_html(&b, T("session.signed_in.heading"));
	buf_puts(&b, "</h1>\n<p>");
	buf_html(&b,
	         page_fmt(r->a, T("session.proved_with"),
	                  idp ? page_lang_pick(idp->conf->display_name, idp->conf->display_name_cy)
	                      : s.idp,
	                  page_level_name(r->a, h->cfg, s.loa)));
	buf_puts(&b, "<span class=\"hint\">");
	buf_html(&b, acr ? acr : "");
	buf_puts(&b, "</span></p>\n");
	services_list(h, r, &b, &s);
	buf_puts(&b, "<form method=\"post\" action=\"/session/end\" novalidate>\n"
	             "<input type=\"hidden\" name=\"csrf\" value=\"");
	buf_html(&b, s.csrf);
	buf_puts(&b, "\">\n<button class=\"button\" type=\"submit\">");
	buf_html(&b, T("session.sign_out_all"));
	buf_puts(&b, "</button>\n</form>\n");
	http_html(resp, 200, page_render(r->a, T("session.signed_in.heading"), buf_str(&b)));
}

void session_signout(hub *h, http_req *r, http_resp *resp)
{
	if (strcmp(r->method, "POST") != 0) {
		http_add_header(resp, "Allow", "POST");
		http_text(resp, 405, "method not allowed\n");
		return;
	}
	session s;
	int n = 0;
	const char *csrf = r->body_error ? NULL : form_get(&r->body, "csrf", &n);
	if (session_load(h, r, &s) == 0) {
		/* the token is only in the page the hub served to this session: a cross-site form
		 * cannot know it (and SameSite=Lax keeps the cookie off a cross-site POST anyway)
		 */
		if (n != 1 || strlen(csrf) != 43 || CRYPTO_memcmp(csrf, s.csrf, 43) != 0) {
			http_html(resp, 400,
			          page_error(r->a, T("error.form_expired.heading"),
			                     T("session.form_expired"),
			                     arena_printf(r->a,
			                                  "<p><a class=\"button\" "
			                                  "href=\"/session\">%s</a></p>",
			                                  T("session.your_sign_in"))));
			return;
		}
		session_end(h, r->a, s.key, "the citizen signed out");
		session_clear_cookie(h, r, resp);
		/* the IdP's session too, when its adapter can end it (sessions/upstream.h) */
		if (session_upstream_logout(h, r, resp, &s, NULL))
			return;
	} else {
		session_clear_cookie(h, r, resp);
	}
	http_html(resp, 200,
	          page_render(r->a, T("signed_out.heading"),
	                      arena_printf(r->a, "<h1>%s</h1>\n<p>%s</p>\n",
	                                   T("signed_out.heading"), T("signed_out.message"))));
}
