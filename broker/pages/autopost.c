/* autopost.c — the auto-submitting POST form (SAML-style HTTP-POST binding, and the re-post that
 * brings back a SameSite=Lax cookie after a cross-site POST). */
#include "pages.h"
#include "../http/csp.h"
#include "../util/buf.h"

const char *page_autopost(arena *a, const char *action, const idhub_kv *fields, size_t nfields,
                          const char *heading, const char *message)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "<h1>");
	buf_html(&b, heading);
	buf_puts(&b, "</h1>\n<p>");
	buf_html(&b, message);
	buf_puts(&b, "</p>\n<form method=\"post\" action=\"");
	buf_html(&b, action);
	buf_puts(&b, "\">\n");
	for (size_t i = 0; i < nfields; i++) {
		buf_puts(&b, "<input type=\"hidden\" name=\"");
		buf_html(&b, fields[i].name);
		buf_puts(&b, "\" value=\"");
		buf_html(&b, fields[i].value);
		buf_puts(&b, "\">\n");
	}
	buf_puts(&b, "<button class=\"button\" type=\"submit\">");
	buf_html(&b, T("common.continue"));
	buf_puts(&b, "</button>\n</form>\n<script>");
	buf_puts(&b, CSP_AUTOSUBMIT_SCRIPT);
	buf_puts(&b, "</script>\n");
	return page_render(a, heading, buf_str(&b));
}
