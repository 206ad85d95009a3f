/* pages.h — the HTML the hub shows citizens: one accessible layout (skip link, a header naming the
 * deployment's service, landmarks, headings, visible focus, a footer of the deployment's links),
 * error pages with a way forward, and the auto-POST form. Server-rendered, working without
 * JavaScript; every dynamic value is HTML-escaped by these functions or by buf_html. */
#ifndef IDHUB_PAGES_H
#define IDHUB_PAGES_H
#include "catalog.h"
#include "../config/config.h"
#include "../http/http.h"
#include "../util/arena.h"
#include <idhub/adapter.h>

/* Called once from hub_open, before any thread serves: the deployment's branding (kept, so cfg
 * must outlive the serving threads) and, with hub.environment = "integration", a banner on every
 * page saying it is an integration environment, not the real service. */
void pages_init(const hub_conf *cfg);
/* The stylesheet served at /assets/idhub.css (the branding's colours in it). */
const char *pages_css(void);

/* Picks the language of request r (catalog.h: T, pages_lang) and the language toggle's link: the
 * toggle's ?lang=cy|en (kept in a cookie), else ui_locales at /authorize (kept likewise), else
 * the cookie, else Accept-Language, else English. Called at the start of every request. */
void pages_pick_lang(http_req *r, http_resp *resp, int secure);
/* A journey's page: the language sealed in the journey at /authorize (ui_locales) wins over a
 * guess from Accept-Language (not over the toggle or its cookie). */
void pages_adopt_lang(http_req *r, int lang);
/* Points the toggle at path (a journey's picker) instead of the request's own URL; NULL: none. */
void pages_toggle_to(http_req *r, const char *path);
/* The toggle's link for the current request. */
const char *pages_toggle_href(void);

/* What a page shows around its body. */
typedef struct page_opts {
	const char *title;     /* escaped here */
	const char *back_href; /* a Back link above the content, or NULL */
	int error;             /* the title starts "Error: " (a form came back with errors) */
	int demo;              /* the demo service's own look and name (not the deployment's) */
	const char *site_name; /* with demo: the name in its header */
} page_opts;

const char *page_render_opts(arena *a, const page_opts *o, const char *body_html);
/* A whole document: title (escaped here) and a body fragment (already safe HTML). */
const char *page_render(arena *a, const char *title, const char *body_html);
/* An error page: heading and message (escaped here), then actions_html (safe HTML). With no
 * actions, the deployment's help link is the way forward (or the advice to start again). */
const char *page_error(arena *a, const char *heading, const char *message,
                       const char *actions_html);
/* The "get help" action (a button link to branding.help_url), or advice to start again. */
const char *page_help_action(arena *a);
/* A catalog text with its placeholders ("%s" or "%d", in order) filled by arg1 and arg2 (not
 * escaped: escape the result). A text is never used as a printf format. */
const char *page_fmt(arena *a, const char *text, const char *arg1, const char *arg2);
/* en, or cy when the citizen reads Welsh and cy is set (the config's *_cy names). */
const char *page_lang_pick(const char *en, const char *cy);
/* A level of assurance as citizens read it: "Low", "Substantial", "High" for the three eIDAS
 * levels (the default loa list), else "Level N". */
const char *page_level_name(arena *a, const hub_conf *cfg, int level);
/* A page whose form POSTs fields to action: submitted by the CSP-allowed script, or by its button
 * when JavaScript is off. */
const char *page_autopost(arena *a, const char *action, const idhub_kv *fields, size_t nfields,
                          const char *heading, const char *message);

#endif
