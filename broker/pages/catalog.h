/* catalog.h — the citizen's language and the message catalogs (broker/pages/po/<lang>.po, compiled
 * by msgfmt at build and linked into the binary). Every citizen-facing word lives in the catalogs,
 * looked up by key; the language is the request's (set once per request by pages_pick_lang). */
#ifndef IDHUB_CATALOG_H
#define IDHUB_CATALOG_H
#include <stddef.h>

enum { LANG_EN = 0, LANG_CY = 1, LANG_COUNT };

/* The text of key in the current request's language, else in English, else key itself. */
const char *T(const char *key);
/* The same in language lang. */
const char *T_in(int lang, const char *key);
/* The current request's language (LANG_EN by default), its BCP 47 code ("en", "cy"). */
int pages_lang(void);
const char *pages_lang_code(void);
void pages_set_lang(int lang);
/* The language named first in a space-separated ui_locales or an Accept-Language header that the
 * hub speaks, or -1. */
int pages_lang_parse(const char *list);
/* The language code of lang ("en", "cy"), or NULL. */
const char *pages_lang_name(int lang);
/* Catalog contents, for the tests: the number of entries of lang, and the key of entry i. */
size_t catalog_count(int lang);
const char *catalog_key(int lang, size_t i);
#endif
