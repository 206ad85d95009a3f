/* test_pages.c — the citizen's pages' catalogs (broker/pages/catalog.c): both languages hold every
 * key with the same placeholders, no text names the product, lookups fall back to English then
 * to the key; the language parsing of ui_locales / Accept-Language; page_fmt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "pages/pages.h"

/* The placeholders of a text, in order ("%s%d"). */
static void placeholders(const char *t, char out[16])
{
	size_t n = 0;
	for (const char *p = t; *p && n < 14; p++)
		if (p[0] == '%' && (p[1] == 's' || p[1] == 'd')) {
			out[n++] = '%';
			out[n++] = p[1];
			p++;
		}
	out[n] = 0;
}

static int names_product(const char *t)
{
	for (const char *p = t; (p = strstr(p, "hub")); p++) {
		int before = p == t || !((p[-1] | 32) >= 'a' && (p[-1] | 32) <= 'z');
		int after = !((p[3] | 32) >= 'a' && (p[3] | 32) <= 'z');
		if ((before || (p - t >= 2 && !strncmp(p - 2, "id", 2))) && after)
			return 1;
	}
	return 0;
}

static void test_catalogs_match(void **state)
{
	(void)state;
	size_t n = catalog_count(LANG_EN);
	assert_true(n > 50);
	assert_int_equal(catalog_count(LANG_CY), n);
	for (size_t i = 0; i < n; i++) {
		const char *k = catalog_key(LANG_EN, i);
		assert_non_null(k);
		if (!*k)
			continue; /* the .mo header */
		const char *en = T_in(LANG_EN, k), *cy = T_in(LANG_CY, k);
		char pe[16], pc[16];
		placeholders(en, pe);
		placeholders(cy, pc);
		if (strcmp(pe, pc))
			fail_msg("%s: placeholders \"%s\" in English, \"%s\" in Welsh", k, pe, pc);
		if (en == k || names_product(en) || names_product(cy))
			fail_msg("%s: missing, or names the product: \"%s\" / \"%s\"", k, en, cy);
	}
}

static void test_lookup(void **state)
{
	(void)state;
	assert_string_equal(T_in(LANG_EN, "layout.back"), "Back");
	assert_string_equal(T_in(LANG_CY, "layout.back"), "Yn ôl");
	assert_string_equal(T_in(LANG_CY, "no.such.key"), "no.such.key");
	pages_set_lang(LANG_CY);
	assert_string_equal(T("level.2"), "Sylweddol");
	assert_string_equal(pages_lang_code(), "cy");
	pages_set_lang(7); /* out of range: English */
	assert_string_equal(T("level.2"), "Substantial");
}

static void test_lang_parse(void **state)
{
	(void)state;
	assert_int_equal(pages_lang_parse("cy"), LANG_CY);
	assert_int_equal(pages_lang_parse("cy-GB en"), LANG_CY);
	assert_int_equal(pages_lang_parse("fr-FR, en-GB;q=0.8, cy;q=0.5"), LANG_EN);
	assert_int_equal(pages_lang_parse("de, CY;q=0.9"), LANG_CY);
	assert_int_equal(pages_lang_parse("cy;q=0, en"), LANG_EN);
	assert_int_equal(pages_lang_parse("fr de"), -1);
	assert_int_equal(pages_lang_parse(""), -1);
	assert_int_equal(pages_lang_parse(NULL), -1);
	assert_int_equal(pages_lang_parse("cym"), -1);
}

static void test_fmt(void **state)
{
	(void)state;
	arena *a = arena_new();
	assert_string_equal(page_fmt(a, "Return to %s", "Parking", NULL), "Return to Parking");
	assert_string_equal(page_fmt(a, "%s at %s.", "A", "B"), "A at B.");
	assert_string_equal(page_fmt(a, "Level %d", "4", NULL), "Level 4");
	/* a text is never a format: a stray %n or a missing argument is harmless */
	assert_string_equal(page_fmt(a, "100%n %s %s", "x", NULL), "100%n x ");
	/* a '%' that is no placeholder stays, at the end too; a third placeholder is emptied */
	assert_string_equal(page_fmt(a, "50%", "x", NULL), "50%");
	assert_string_equal(page_fmt(a, "%%s%", "x", NULL), "%x%");
	assert_string_equal(page_fmt(a, "%s%s%s!", "a", "b"), "ab!");
	assert_string_equal(page_fmt(a, "", "a", "b"), "");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogs_match),
	    cmocka_unit_test(test_lookup),
	    cmocka_unit_test(test_lang_parse),
	    cmocka_unit_test(test_fmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
