/* test_form.c — unit tests of the x-www-form-urlencoded parser (broker/util/form.c): decoding of
 * pairs, '+' and %XX, bad escapes and NUL bytes, empty names, names without '=', duplicates and
 * form_get, the parameter, name and value limits (including values whose encoding is longer than
 * the limit), appending a body to a query, and form_decode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/arena.h"
#include "util/form.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
	arena *a = arena_new();
	assert_non_null(a);
	*state = a;
	return 0;
}

static int teardown(void **state)
{
	arena_free(*state);
	return 0;
}

/* Parses the NUL-terminated s into a fresh form with the query limit. */
static int parse(arena *a, form *f, const char *s)
{
	memset(f, 0, sizeof *f);
	return form_parse(a, f, s, strlen(s), FORM_MAX_VALUE);
}

/* Returns a string made of n copies of the NUL-terminated unit, preceded by prefix. */
static char *repeat(arena *a, const char *prefix, const char *unit, size_t n)
{
	size_t lp = strlen(prefix), lu = strlen(unit);
	char *s = arena_alloc(a, lp + lu * n + 1);
	memcpy(s, prefix, lp);
	for (size_t i = 0; i < n; i++)
		memcpy(s + lp + i * lu, unit, lu);
	return s;
}

/* Returns "p0=v0&p1=v1&..." with n pairs, names starting at index first. */
static char *params(arena *a, size_t first, size_t n)
{
	char *s = arena_alloc(a, n * 16 + 1);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(s + o, "%sp%zu=v%zu", i ? "&" : "", first + i, first + i);
	return s;
}

static void assert_pair(const form *f, size_t i, const char *name, const char *value)
{
	assert_true(i < f->n);
	assert_string_equal(f->kv[i].name, name);
	assert_string_equal(f->kv[i].value, value);
}

static void test_basic_pairs(void **state)
{
	form f;
	assert_int_equal(parse(*state, &f, "a=1&b=2"), FORM_OK);
	assert_int_equal(f.n, 2);
	assert_pair(&f, 0, "a", "1");
	assert_pair(&f, 1, "b", "2");
	assert_string_equal(form_get(&f, "a", NULL), "1");
	assert_string_equal(form_get(&f, "b", NULL), "2");
	assert_null(form_get(&f, "c", NULL));
}

static void test_value_keeps_later_equals(void **state)
{
	form f;
	assert_int_equal(parse(*state, &f, "a=b=c&d=="), FORM_OK);
	assert_int_equal(f.n, 2);
	assert_pair(&f, 0, "a", "b=c");
	assert_pair(&f, 1, "d", "=");
}

static void test_len_bounds_input(void **state)
{
	/* only len bytes are read: the input need not be NUL-terminated */
	form f = {0};
	assert_int_equal(form_parse(*state, &f, "a=1&b=2", 3, FORM_MAX_VALUE), FORM_OK);
	assert_int_equal(f.n, 1);
	assert_pair(&f, 0, "a", "1");
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse(*state, &f, "a=%41", 4, FORM_MAX_VALUE), FORM_BAD_ENCODING);
}

static void test_plus_is_space(void **state)
{
	form f;
	assert_int_equal(parse(*state, &f, "q=a+b++c&x+y=1"), FORM_OK);
	assert_pair(&f, 0, "q", "a b  c");
	assert_pair(&f, 1, "x y", "1");
}

static void test_percent_decoding(void **state)
{
	form f;
	assert_int_equal(parse(*state, &f, "v=%41&p=%2B&l=%2b%7e&s=%20&n%61me=%C3%A9"), FORM_OK);
	assert_int_equal(f.n, 5);
	assert_pair(&f, 0, "v", "A");
	assert_pair(&f, 1, "p", "+");
	assert_pair(&f, 2, "l", "+~");
	assert_pair(&f, 3, "s", " ");
	assert_pair(&f, 4, "name", "\xc3\xa9");
	/* an encoded '&' or '=' is data, not a separator */
	assert_int_equal(parse(*state, &f, "a=x%26b%3Dy"), FORM_OK);
	assert_int_equal(f.n, 1);
	assert_pair(&f, 0, "a", "x&b=y");
}

static void test_bad_escapes(void **state)
{
	static const char *const bad[] = {"a=%",    "a=%4",   "a=%zz", "a=%4g", "a=%g4",
	                                  "a=x%&b", "a=%4&b", "%=1",   "%4=1",  "a%zz=1"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		form f;
		int rc = parse(*state, &f, bad[i]);
		if (rc != FORM_BAD_ENCODING)
			fail_msg("\"%s\": %d, expected FORM_BAD_ENCODING", bad[i], rc);
	}
}

static void test_nul_refused(void **state)
{
	form f;
	assert_int_equal(parse(*state, &f, "a=%00"), FORM_BAD_ENCODING);
	assert_int_equal(parse(*state, &f, "a=x%00y"), FORM_BAD_ENCODING);
	assert_int_equal(parse(*state, &f, "a%00b=1"), FORM_BAD_ENCODING);
	/* a raw NUL byte inside len is refused too */
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse(*state, &f, "a=x\0y", 5, FORM_MAX_VALUE), FORM_BAD_ENCODING);
}

static void test_empty_names_skipped(void **state)
{
	form f;
	assert_int_equal(parse(*state, &f, "&&a=1&"), FORM_OK);
	assert_int_equal(f.n, 1);
	assert_pair(&f, 0, "a", "1");
	assert_int_equal(parse(*state, &f, "=x&a=1&&=&b=2"), FORM_OK);
	assert_int_equal(f.n, 2);
	assert_pair(&f, 0, "a", "1");
	assert_pair(&f, 1, "b", "2");
	assert_int_equal(parse(*state, &f, ""), FORM_OK);
	assert_int_equal(f.n, 0);
	assert_int_equal(parse(*state, &f, "&"), FORM_OK);
	assert_int_equal(f.n, 0);
}

static void test_name_without_equals(void **state)
{
	form f;
	assert_int_equal(parse(*state, &f, "a"), FORM_OK);
	assert_int_equal(f.n, 1);
	assert_pair(&f, 0, "a", "");
	assert_int_equal(parse(*state, &f, "a&b=2&c"), FORM_OK);
	assert_int_equal(f.n, 3);
	assert_pair(&f, 0, "a", "");
	assert_pair(&f, 1, "b", "2");
	assert_pair(&f, 2, "c", "");
	assert_int_equal(parse(*state, &f, "a="), FORM_OK);
	assert_pair(&f, 0, "a", "");
}

/* RFC 6749 §3.1: a lone empty parameter is omitted, but an empty duplicate is still a repetition
 * ("client_id=&client_id=x" must not read as client_id=x). */
static void test_param_empty_duplicates(void **state)
{
	form f;
	int count = -1;
	assert_int_equal(parse(*state, &f, "client_id=&client_id=x&state=&nonce=n&a=&a="), FORM_OK);
	assert_string_equal(form_param(&f, "client_id", &count), "x");
	assert_int_equal(count, 2);
	assert_null(form_param(&f, "state", &count));
	assert_int_equal(count, 0);
	assert_string_equal(form_param(&f, "nonce", &count), "n");
	assert_int_equal(count, 1);
	assert_null(form_param(&f, "a", &count));
	assert_int_equal(count, 2);
	assert_int_equal(parse(*state, &f, "client_id=x&client_id="), FORM_OK);
	assert_string_equal(form_param(&f, "client_id", &count), "x");
	assert_int_equal(count, 2);
}

static void test_duplicates(void **state)
{
	form f;
	int count = -1;
	assert_int_equal(parse(*state, &f, "x=1&y=2&x=3&x=&z"), FORM_OK);
	assert_int_equal(f.n, 5);
	assert_pair(&f, 0, "x", "1");
	assert_pair(&f, 1, "y", "2");
	assert_pair(&f, 2, "x", "3");
	assert_pair(&f, 3, "x", "");
	assert_pair(&f, 4, "z", "");
	assert_string_equal(form_get(&f, "x", &count), "1");
	assert_int_equal(count, 3);
	assert_string_equal(form_get(&f, "y", &count), "2");
	assert_int_equal(count, 1);
	count = -1;
	assert_null(form_get(&f, "w", &count));
	assert_int_equal(count, 0);
	/* names compare exactly after decoding: "x" and "%78" are the same name, "X" is not */
	assert_int_equal(parse(*state, &f, "x=1&%78=2&X=3"), FORM_OK);
	assert_string_equal(form_get(&f, "x", &count), "1");
	assert_int_equal(count, 2);
}

static void test_param_limit(void **state)
{
	arena *a = *state;
	form f;
	assert_int_equal(parse(a, &f, params(a, 0, FORM_MAX_PARAMS)), FORM_OK);
	assert_int_equal(f.n, FORM_MAX_PARAMS);
	for (size_t i = 0; i < FORM_MAX_PARAMS; i++) {
		char n[16], v[16];
		snprintf(n, sizeof n, "p%zu", i);
		snprintf(v, sizeof v, "v%zu", i);
		assert_pair(&f, i, n, v);
	}
	assert_int_equal(parse(a, &f, params(a, 0, FORM_MAX_PARAMS + 1)), FORM_TOO_MANY);
	/* skipped empty names do not count */
	char *s = arena_printf(a, "&&%s&&=x&", params(a, 0, FORM_MAX_PARAMS));
	assert_int_equal(parse(a, &f, s), FORM_OK);
	assert_int_equal(f.n, FORM_MAX_PARAMS);
}

static void test_append_respects_total_limit(void **state)
{
	arena *a = *state;
	form f = {0};
	const char *q = params(a, 0, 40);
	const char *b = params(a, 40, 24);
	assert_int_equal(form_parse(a, &f, q, strlen(q), FORM_MAX_VALUE), FORM_OK);
	assert_int_equal(form_parse(a, &f, b, strlen(b), 524288), FORM_OK);
	assert_int_equal(f.n, 64);
	assert_pair(&f, 0, "p0", "v0");
	assert_pair(&f, 39, "p39", "v39");
	assert_pair(&f, 40, "p40", "v40");
	assert_pair(&f, 63, "p63", "v63");
	/* one more pair in a third part goes over */
	assert_int_equal(form_parse(a, &f, "x=1", 3, FORM_MAX_VALUE), FORM_TOO_MANY);

	/* 40 + 25 is over as well */
	memset(&f, 0, sizeof f);
	b = params(a, 40, 25);
	assert_int_equal(form_parse(a, &f, q, strlen(q), FORM_MAX_VALUE), FORM_OK);
	assert_int_equal(form_parse(a, &f, b, strlen(b), 524288), FORM_TOO_MANY);

	/* a query duplicate of a body parameter is visible to form_get */
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse(a, &f, "code=q", 6, FORM_MAX_VALUE), FORM_OK);
	assert_int_equal(form_parse(a, &f, "code=b&g=1", 10, 524288), FORM_OK);
	int count = 0;
	assert_string_equal(form_get(&f, "code", &count), "q");
	assert_int_equal(count, 2);
	assert_pair(&f, 2, "g", "1");
}

static void test_value_limit(void **state)
{
	arena *a = *state;
	form f;
	assert_int_equal(parse(a, &f, repeat(a, "v=", "x", FORM_MAX_VALUE)), FORM_OK);
	assert_int_equal(strlen(f.kv[0].value), FORM_MAX_VALUE);
	assert_int_equal(parse(a, &f, repeat(a, "v=", "x", FORM_MAX_VALUE + 1)), FORM_TOO_LONG);
	/* a small explicit limit */
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse(a, &f, "v=abc", 5, 3), FORM_OK);
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse(a, &f, "v=abcd", 6, 3), FORM_TOO_LONG);
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse(a, &f, "v=%41%42%43", 11, 3), FORM_OK);
	assert_pair(&f, 0, "v", "ABC");
	memset(&f, 0, sizeof f);
	assert_int_equal(form_parse(a, &f, "v=%41%42%43%44", 14, 3), FORM_TOO_LONG);
}

static void test_value_limit_counts_decoded_bytes(void **state)
{
	/* 4096 decoded bytes written as %41 x4096 (12290 encoded bytes) are within the limit */
	arena *a = *state;
	form f;
	assert_int_equal(parse(a, &f, repeat(a, "v=", "%41", FORM_MAX_VALUE)), FORM_OK);
	assert_int_equal(f.n, 1);
	assert_int_equal(strlen(f.kv[0].value), FORM_MAX_VALUE);
	assert_string_equal(f.kv[0].value, repeat(a, "", "A", FORM_MAX_VALUE));
	assert_int_equal(parse(a, &f, repeat(a, "v=", "%41", FORM_MAX_VALUE + 1)), FORM_TOO_LONG);
	/* a body limit well above the query one */
	memset(&f, 0, sizeof f);
	const char *big = repeat(a, "SAMLResponse=", "%2B", 100000);
	assert_int_equal(form_parse(a, &f, big, strlen(big), 524288), FORM_OK);
	assert_int_equal(strlen(f.kv[0].value), 100000);
}

static void test_name_limit(void **state)
{
	arena *a = *state;
	form f;
	const char *n = repeat(a, "", "n", FORM_MAX_NAME);
	assert_int_equal(parse(a, &f, arena_printf(a, "%s=1", n)), FORM_OK);
	assert_string_equal(f.kv[0].name, n);
	assert_int_equal(parse(a, &f, arena_printf(a, "%sn=1", n)), FORM_TOO_LONG);
	/* without '=' too */
	assert_int_equal(parse(a, &f, arena_printf(a, "%sn", n)), FORM_TOO_LONG);
	/* the limit is on the decoded name */
	assert_int_equal(parse(a, &f, repeat(a, "", "%6E", FORM_MAX_NAME)), FORM_OK);
	assert_string_equal(f.kv[0].name, n);
	assert_int_equal(parse(a, &f, repeat(a, "", "%6E", FORM_MAX_NAME + 1)), FORM_TOO_LONG);
}

static void test_form_decode(void **state)
{
	arena *a = *state;
	const char *s = "a+b%20c%2B";
	char *d = form_decode(a, s, strlen(s), 0);
	assert_non_null(d);
	assert_string_equal(d, "a+b c+");
	d = form_decode(a, s, strlen(s), 1);
	assert_non_null(d);
	assert_string_equal(d, "a b c+");
	d = form_decode(a, "", 0, 1);
	assert_non_null(d);
	assert_string_equal(d, "");
	/* only len bytes are read */
	d = form_decode(a, "ab%41", 2, 1);
	assert_non_null(d);
	assert_string_equal(d, "ab");
	assert_null(form_decode(a, "ab%41", 4, 1));
	assert_null(form_decode(a, "%", 1, 0));
	assert_null(form_decode(a, "%4", 2, 0));
	assert_null(form_decode(a, "%zz", 3, 0));
	assert_null(form_decode(a, "x%00", 4, 0));
}

static void test_strerror(void **state)
{
	(void)state;
	const char *ok = form_strerror(FORM_OK), *be = form_strerror(FORM_BAD_ENCODING),
	           *tm = form_strerror(FORM_TOO_MANY), *tl = form_strerror(FORM_TOO_LONG);
	assert_non_null(ok);
	assert_true(*be && *tm && *tl);
	assert_string_not_equal(be, tm);
	assert_string_not_equal(be, tl);
	assert_string_not_equal(tm, tl);
	assert_string_not_equal(ok, be);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_basic_pairs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_keeps_later_equals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_len_bounds_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_plus_is_space, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_percent_decoding, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nul_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_names_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_without_equals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_param_empty_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_param_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_respects_total_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_value_limit_counts_decoded_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_name_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_form_decode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strerror, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
