/* pages.h — the HTML the hub shows citizens: one accessible layout (skip link, landmarks, headings,
 * visible focus), error pages with a way forward, and the auto-POST form. Server-rendered, working
 * without JavaScript; every dynamic value is HTML-escaped by these functions or by buf_html. */
#ifndef IDHUB_PAGES_H
#define IDHUB_PAGES_H
#include "../util/arena.h"
#include <idhub/adapter.h>

/* The stylesheet served at /assets/idhub.css. */
extern const char PAGE_CSS[];

/* Called once from hub_open, before any thread serves: with integration set (hub.environment =
 * "integration"), every page carries a banner saying it is an integration environment, not the
 * real service. */
void pages_init(int integration);
/* A whole document: title (escaped here) and a body fragment (already safe HTML). */
const char *page_render(arena *a, const char *title, const char *body_html);
/* An error page: heading and message (escaped here), then actions_html (safe HTML, may be NULL). */
const char *page_error(arena *a, const char *heading, const char *message,
                       const char *actions_html);
/* A page whose form POSTs fields to action: submitted by the CSP-allowed script, or by its button
 * when JavaScript is off. */
const char *page_autopost(arena *a, const char *action, const idhub_kv *fields, size_t nfields,
                          const char *heading, const char *message);

#endif
