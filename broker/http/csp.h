/* csp.h — the Content-Security-Policy of the hub's HTML pages, and the one inline script they may
 * run (the auto-submit of a POST form, allowed by its hash so no other inline script can run). */
#ifndef IDHUB_CSP_H
#define IDHUB_CSP_H
#include "../util/arena.h"

/* The exact text of the auto-submit script (put inside <script>...</script> verbatim). */
extern const char CSP_AUTOSUBMIT_SCRIPT[];
/* Computes the script's hash once; call before threads start. allow_http: the hub runs on http. */
void csp_init(int allow_http);
/* The header value for an HTML page. page_script (NULL: none) is one more inline script the page
 * may run, by its hash "sha256-<base64>" (checked by the caller); such a page may also fetch from
 * its own origin (connect-src 'self'), as a waiting page's script polls its status. */
const char *csp_header(arena *a, const char *page_script);

#endif
