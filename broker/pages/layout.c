/* layout.c — the page shell and stylesheet every hub page uses (see pages.h). */
#include "pages.h"
#include "../util/buf.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* %1$s header background, %2$s header text, %3$s links, %4$s button background, %5$s its text.
 * Mobile first: one column, nothing wider than the viewport (WCAG 1.4.10 reflow at 320 px). */
static const char css_template[] =
    "*,*::before,*::after{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%%}"
    "body{margin:0;font:19px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "color:#0b0c0c;background:#fff;overflow-wrap:break-word}"
    ".skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fd0;"
    "color:#0b0c0c;padding:8px}"
    ".hdr{background:%1$s;color:%2$s;padding:12px 16px;border-bottom:8px solid %3$s}"
    ".hdr-in{max-width:720px;margin:0 auto;display:flex;flex-wrap:wrap;align-items:center;"
    "gap:4px 12px}"
    ".hdr img{max-height:40px;max-width:160px}.org{font-weight:400}"
    /* an adapter's picture (the wallet's QR code) shrinks to a narrow screen */
    "main svg{max-width:100%%;height:auto}"
    ".svc{font-weight:700;font-size:1.1rem}.lang{margin-left:auto}.lang a{color:%2$s}"
    ".wrap{max-width:720px;margin:0 auto;padding:0 16px}"
    "main{padding:16px 0 24px}main:focus{outline:0}"
    "h1{font-size:1.8rem;line-height:1.2;margin:0 0 16px}"
    "fieldset{border:0;padding:0;margin:0 0 24px;min-width:0}legend{font-size:1.3rem;"
    "font-weight:700;margin-bottom:12px}"
    ".option{display:flex;align-items:flex-start;gap:12px;margin:0 0 12px}"
    ".option input[type=radio]{width:28px;height:28px;margin:0;flex:none}"
    ".option label{cursor:pointer;min-width:0}.hint{display:block;color:#505a5f;font-size:.9rem}"
    "input[type=text],select{font:inherit;padding:6px;border:2px solid #0b0c0c;width:100%%;"
    "max-width:20em}"
    ".button{font:inherit;font-weight:600;background:%4$s;color:%5$s;border:0;"
    "box-shadow:0 2px 0 #0b0c0c;padding:10px 18px;cursor:pointer;margin:0 12px 12px 0;"
    "display:inline-block;text-decoration:none;max-width:100%%}"
    ".button.secondary{background:#f3f2f1;color:#0b0c0c;box-shadow:0 2px 0 #929191}"
    "a{color:%3$s}.link-button{font:inherit;background:none;border:0;padding:0;color:%3$s;text-"
    "align:left;"
    "text-decoration:underline;cursor:pointer}"
    ".back{display:inline-block;margin-top:16px;color:#0b0c0c}"
    ".back::before{content:'\\2039\\00a0'}"
    ":focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 -2px #fd0,0 4px #0b0c0c}"
    ".error-summary{border:5px solid #d4351c;padding:16px;margin-bottom:24px}"
    ".error-summary:focus{outline:3px solid #fd0}"
    ".error-summary h2{margin-top:0}.error-message{color:#d4351c;font-weight:700;display:block}"
    ".vh{position:absolute!important;width:1px;height:1px;margin:0;padding:0;overflow:hidden;"
    "clip:rect(0 0 0 0);white-space:nowrap;border:0}"
    ".form-group-error{border-left:5px solid #d4351c;padding-left:12px}"
    ".reveal{display:none;margin:0 0 16px 40px;padding-left:16px;border-left:4px solid #b1b4b6}"
    "input:checked~.reveal,.option:has(input:checked)+.reveal{display:block}"
    "dl.claims{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px}"
    "dl.claims dt{font-weight:700}dl.claims dd{margin:0;word-break:break-all;"
    "font-family:ui-monospace,monospace}"
    "@media (max-width:30em){dl.claims{grid-template-columns:1fr}}"
    "footer{border-top:2px solid #1d70b8;background:#f3f2f1;margin-top:32px;padding:16px;"
    "font-size:.9rem}footer ul{list-style:none;padding:0;margin:0 0 8px;display:flex;"
    "flex-wrap:wrap;gap:8px 20px}footer a{color:#0b0c0c}.foot-in{max-width:720px;margin:0 auto}"
    ".env-banner{background:#fd0;color:#0b0c0c;padding:8px 16px;font-weight:700;"
    "border-bottom:4px solid #0b0c0c}"
    /* the demo service: visibly another site (a purple header, a serif face, no hub footer) */
    ".demo{font-family:Georgia,'Times New Roman',serif;background:#fbf8ff}"
    ".demo .hdr{background:#4c2c92;color:#fff;border-bottom-color:#28a197}"
    ".demo .button{background:#4c2c92;color:#fff}.demo a{color:#4c2c92}"
    ".demo footer{border-top-color:#4c2c92;background:#efe9f8}";

/* Set once at start-up (pages_init), read-only while threads serve: part of the config snapshot. */
static int integration_env;
static const branding_conf *brand;
static char *css;

void pages_init(const hub_conf *cfg)
{
	integration_env = cfg->integration;
	brand = &cfg->branding;
	const branding_conf *b = brand;
	free(css);
	if (asprintf(&css, css_template, b->header_background, b->header_text, b->link_colour,
	             b->button_background, b->button_text) < 0)
		css = NULL;
}

const char *pages_css(void)
{
	return css ? css : "";
}

static const char *service_name(void)
{
	if (brand && pages_lang() == LANG_CY && brand->service_name_cy)
		return brand->service_name_cy;
	return brand && brand->service_name ? brand->service_name : T("layout.service_name");
}

/* Cymraeg / English: each name in its own language, the link to the same page in the other. */
static void toggle(buf *b)
{
	const char *href = pages_toggle_href();
	if (!href)
		return;
	int cy = pages_lang() == LANG_CY;
	buf_puts(b, "<nav class=\"lang\" aria-label=\"");
	buf_html(b, T("layout.language"));
	buf_puts(b, "\"><a href=\"");
	buf_html(b, href);
	buf_puts(b, cy ? "\" hreflang=\"en\" lang=\"en\">English</a>"
	               : "\" hreflang=\"cy\" lang=\"cy\">Cymraeg</a>");
	buf_puts(b, "</nav>");
}

static void footer_link(buf *b, const char *href, const char *label)
{
	if (!href)
		return;
	buf_puts(b, "<li><a href=\"");
	buf_html(b, href);
	buf_puts(b, "\">");
	buf_html(b, label);
	buf_puts(b, "</a></li>");
}

static void header(buf *b, const page_opts *o)
{
	buf_puts(b, "<header class=\"hdr\" role=\"banner\"><div class=\"hdr-in\">");
	if (o->demo) {
		buf_puts(b, "<span class=\"svc\">");
		buf_html(b, o->site_name ? o->site_name : "Demo service");
		buf_puts(b, "</span></div></header>\n");
		return;
	}
	if (brand && brand->logo_url) {
		buf_puts(b, "<img alt=\"\" src=\"");
		buf_html(b, brand->logo_url);
		buf_puts(b, "\">");
	}
	if (brand && brand->organisation) {
		buf_puts(b, "<span class=\"org\">");
		buf_html(b, brand->organisation);
		buf_puts(b, "</span>");
	}
	buf_puts(b, "<span class=\"svc\">");
	buf_html(b, service_name());
	buf_puts(b, "</span>");
	toggle(b);
	buf_puts(b, "</div></header>\n");
}

static void footer(buf *b, const page_opts *o)
{
	buf_puts(b, "<footer role=\"contentinfo\"><div class=\"foot-in\">");
	if (o->demo) {
		buf_puts(b, "<p>");
		buf_html(b, T("layout.demo_footer"));
		buf_puts(b, "</p>");
	} else if (brand) {
		buf_puts(b, "<h2 class=\"vh\">");
		buf_html(b, T("layout.support_links"));
		buf_puts(b, "</h2><ul>");
		footer_link(b, brand->help_url, T("layout.help"));
		footer_link(b, brand->accessibility_url, T("layout.accessibility"));
		footer_link(b, brand->privacy_url, T("layout.privacy"));
		footer_link(b, brand->cookies_url, T("layout.cookies"));
		buf_puts(b, "</ul>");
		if (brand->organisation) {
			buf_puts(b, "<p>");
			buf_html(b, brand->organisation);
			buf_puts(b, "</p>");
		}
	}
	buf_puts(b, "</div></footer>\n");
}

const char *page_render_opts(arena *a, const page_opts *o, const char *body_html)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "<!doctype html>\n<html lang=\"");
	buf_puts(&b, o->demo ? "en" : pages_lang_code());
	buf_puts(&b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	             "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	             "<title>");
	if (o->error) {
		buf_html(&b, T("layout.error_prefix"));
		buf_puts(&b, " ");
	}
	buf_html(&b, o->title);
	buf_puts(&b, " – ");
	buf_html(&b, o->demo ? (o->site_name ? o->site_name : "Demo service") : service_name());
	buf_puts(&b,
	         "</title>\n<link rel=\"stylesheet\" href=\"/assets/idhub.css\">\n</head>\n<body");
	if (o->demo)
		buf_puts(&b, " class=\"demo\"");
	buf_puts(&b, ">\n<a class=\"skip\" href=\"#main\">");
	buf_html(&b, o->demo ? "Skip to main content" : T("layout.skip"));
	buf_puts(&b, "</a>\n");
	header(&b, o);
	if (integration_env) {
		buf_puts(&b,
		         "<div class=\"env-banner\" role=\"note\" id=\"integration-environment\">");
		buf_html(&b, T("layout.banner"));
		buf_puts(&b, "</div>\n");
	}
	buf_puts(&b, "<div class=\"wrap\">\n");
	if (o->back_href) {
		buf_puts(&b, "<a class=\"back\" href=\"");
		buf_html(&b, o->back_href);
		buf_puts(&b, "\">");
		buf_html(&b, T("layout.back"));
		buf_puts(&b, "</a>\n");
	}
	buf_puts(&b, "<main id=\"main\" tabindex=\"-1\">\n");
	buf_puts(&b, body_html);
	buf_puts(&b, "\n</main>\n</div>\n");
	footer(&b, o);
	buf_puts(&b, "</body>\n</html>\n");
	return buf_str(&b);
}

const char *page_render(arena *a, const char *title, const char *body_html)
{
	page_opts o = {.title = title};
	return page_render_opts(a, &o, body_html);
}

const char *page_fmt(arena *a, const char *text, const char *arg1, const char *arg2)
{
	buf b;
	buf_init(&b, a);
	const char *args[2] = {arg1, arg2};
	int k = 0;
	/* the text between placeholders goes in whole; a '%' not before 's' or 'd' is text */
	for (const char *p = text;;) {
		const char *q = strchr(p, '%');
		while (q && q[1] != 's' && q[1] != 'd')
			q = strchr(q + 1, '%');
		if (!q) {
			buf_puts(&b, p);
			break;
		}
		buf_add(&b, p, (size_t)(q - p));
		buf_puts(&b, k < 2 && args[k] ? args[k] : "");
		k++;
		p = q + 2;
	}
	return buf_str(&b);
}

const char *page_lang_pick(const char *en, const char *cy)
{
	return pages_lang() == LANG_CY && cy ? cy : en;
}

const char *page_level_name(arena *a, const hub_conf *cfg, int level)
{
	static const char *const eidas[] = {"level.1", "level.2", "level.3"};
	if (cfg->nloas == 3 && level >= 1 && level <= 3)
		return T(eidas[level - 1]);
	return page_fmt(a, T("level.n"), arena_printf(a, "%d", level), NULL);
}

const char *page_help_action(arena *a)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "<p>");
	buf_html(&b, T("help.start_again"));
	buf_puts(&b, "</p>\n");
	if (brand && brand->help_url) {
		buf_puts(&b, "<p><a class=\"button\" href=\"");
		buf_html(&b, brand->help_url);
		buf_puts(&b, "\">");
		buf_html(&b, T("help.button"));
		buf_puts(&b, "</a></p>\n");
	}
	return buf_str(&b);
}

const char *page_error(arena *a, const char *heading, const char *message, const char *actions_html)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "<h1>");
	buf_html(&b, heading);
	buf_puts(&b, "</h1>\n<p>");
	buf_html(&b, message);
	buf_puts(&b, "</p>\n");
	buf_puts(&b, actions_html ? actions_html : page_help_action(a));
	return page_render(a, heading, buf_str(&b));
}
