/* csp.h — the Content-Security-Policy of the hub's HTML pages, and the one inline script they may
 * run (the auto-submit of a POST form, allowed by its hash so no other inline script can run). */
#ifndef IDHUB_CSP_H
#define IDHUB_CSP_H
#include "../util/arena.h"

/* The exact text of the auto-submit script (put inside <script>...</script> verbatim). */
extern const char CSP_AUTOSUBMIT_SCRIPT[];
/* Computes the script's hash once; call before threads start. allow_http: the hub runs on http. */
void csp_init(int allow_http);
/* The header value for an HTML page. */
const char *csp_header(arena *a);

#endif
