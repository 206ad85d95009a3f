/* lang.c — picks the language of each request (see pages.h, pages_pick_lang) and the language
 * toggle's link: the toggle (?lang=), then ui_locales at /authorize, then the cookie the toggle or
 * ui_locales set, then Accept-Language; English by default. */
#include "catalog.h"
#include "pages.h"
#include "../util/buf.h"
#include <string.h>

#define LANG_COOKIE "lang"

/* The toggle's href for this request (on its arena). Made when a page first asks for it: most
 * requests (redirects, the token endpoint, JSON) show no page, and a long query is costly to
 * re-encode. Until then toggle_req and toggle_lang say what to make it from. */
static _Thread_local const char *toggle_href;
static _Thread_local http_req *toggle_req;
static _Thread_local int toggle_lang, toggle_made;

static int exact(const char *v)
{
	for (int l = 0; v && l < LANG_COUNT; l++)
		if (!strcmp(v, pages_lang_name(l)))
			return l;
	return -1;
}

/* The same page in the other language: GET path, its query without lang, then lang=other. A
 * POST's page goes to its path (a GET of it shows that page afresh). */
static const char *toggle(http_req *r, int other)
{
	/* an IdP's answer is not replayed by a toggle (its state is single use): the journey's
	 * pages point it at the picker (pages_toggle_to), other callback pages have none */
	if (!strncmp(r->path, "/callback/", 10))
		return NULL;
	buf b;
	buf_init(&b, r->a);
	buf_puts(&b, strcmp(r->path, "/session/end") ? r->path : "/session");
	buf_puts(&b, "?");
	if (strcmp(r->method, "POST") != 0)
		for (size_t i = 0; i < r->query.n; i++) {
			if (!strcmp(r->query.kv[i].name, "lang"))
				continue;
			buf_urlenc(&b, r->query.kv[i].name);
			buf_puts(&b, "=");
			buf_urlenc(&b, r->query.kv[i].value);
			buf_puts(&b, "&");
		}
	buf_puts(&b, "lang=");
	buf_puts(&b, pages_lang_name(other));
	return buf_str(&b);
}

const char *pages_toggle_href(void)
{
	if (!toggle_made) {
		toggle_href = toggle_req ? toggle(toggle_req, toggle_lang) : NULL;
		toggle_made = 1;
	}
	return toggle_href;
}

/* Whether this request's language was only guessed (Accept-Language or the default). */
static _Thread_local int guessed;

void pages_pick_lang(http_req *r, http_resp *resp, int secure)
{
	int l = exact(form_get(&r->query, "lang", NULL)), set = l >= 0;
	if (l < 0 && (!strcmp(r->path, "/authorize") || !strcmp(r->path, "/logout"))) {
		/* OIDC Core §3.1.2.1 ui_locales: the service's choice, kept for the journey */
		l = pages_lang_parse(form_get(&r->query, "ui_locales", NULL));
		set = l >= 0;
	}
	if (l < 0)
		l = exact(http_cookie(r, LANG_COOKIE));
	guessed = l < 0;
	if (l < 0)
		l = pages_lang_parse(http_header(r, "Accept-Language"));
	if (l < 0)
		l = LANG_EN;
	if (set && resp)
		http_add_header(resp, "Set-Cookie",
		                arena_printf(r->a,
		                             "%s=%s; Path=/; Max-Age=31536000; HttpOnly; "
		                             "SameSite=Lax%s",
		                             LANG_COOKIE, pages_lang_name(l),
		                             secure ? "; Secure" : ""));
	pages_set_lang(l);
	toggle_req = r;
	toggle_lang = l == LANG_EN ? LANG_CY : LANG_EN;
	toggle_href = NULL;
	toggle_made = 0;
}

void pages_toggle_to(http_req *r, const char *path)
{
	toggle_made = 1;
	toggle_href =
	    path ? arena_printf(r->a, "%s?lang=%s", path,
	                        pages_lang_name(pages_lang() == LANG_EN ? LANG_CY : LANG_EN))
	         : NULL;
}

void pages_adopt_lang(http_req *r, int lang)
{
	if (!guessed || lang < 0 || lang >= LANG_COUNT)
		return;
	pages_set_lang(lang);
	toggle_req = r;
	toggle_lang = lang == LANG_EN ? LANG_CY : LANG_EN;
	if (toggle_made && toggle_href)
		toggle_href = toggle(r, toggle_lang);
}
