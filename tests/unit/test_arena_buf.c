/* test_arena_buf.c — unit tests of the arena allocator (broker/util/arena.c) and the arena buffer
 * (broker/util/buf.c): zeroed, distinct, 16-byte-aligned allocations of small and large (> 4 KiB,
 * > chunk) sizes, the string helpers and arena_printf, buffer growth, buf_html escaping and
 * buf_urlenc percent-encoding.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/arena.h"
#include "util/buf.h"
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

enum { NALLOC = 600 };

/* Size of the i-th allocation: mostly small, with some over 4 KiB and some over a 16 KiB chunk. */
static size_t alloc_size(size_t i)
{
	if (i % 50 == 7)
		return 5000 + i;
	if (i % 97 == 3)
		return 40000 + i;
	if (i % 13 == 0)
		return 4097;
	return 1 + (i * 37) % 300;
}

static void test_alloc_zeroed_distinct_aligned(void **state)
{
	arena *a = *state;
	unsigned char *p[NALLOC];
	for (size_t i = 0; i < NALLOC; i++) {
		size_t n = alloc_size(i);
		p[i] = arena_alloc(a, n);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		for (size_t k = 0; k < n; k++)
			if (p[i][k])
				fail_msg("allocation %zu (%zu bytes) not zeroed at %zu", i, n, k);
		/* fill the whole block: ASan flags any overrun, later checks any overlap */
		memset(p[i], (int)(i % 251) + 1, n);
	}
	for (size_t i = 0; i < NALLOC; i++) {
		size_t n = alloc_size(i);
		for (size_t k = 0; k < n; k++)
			if (p[i][k] != (unsigned char)(i % 251 + 1))
				fail_msg("allocation %zu overwritten at %zu", i, k);
	}
}

static void test_alloc_type_alignment(void **state)
{
	/* odd sizes do not misalign what follows */
	arena *a = *state;
	for (size_t i = 1; i < 100; i++) {
		(void)arena_alloc(a, i);
		long double *ld = arena_alloc(a, sizeof *ld);
		assert_int_equal((uintptr_t)ld % _Alignof(max_align_t), 0);
		*ld = (long double)i;
	}
}

static void test_string_helpers(void **state)
{
	arena *a = *state;
	const char *src = "hello, world";
	char *d = arena_strdup(a, src);
	assert_ptr_not_equal(d, src);
	assert_string_equal(d, src);
	assert_null(arena_strdup(a, NULL));
	char *n = arena_strndup(a, "abcdef", 3);
	assert_string_equal(n, "abc");
	n = arena_strndup(a, "a\0c", 3);
	assert_memory_equal(n, "a\0c\0", 4);
	unsigned char bytes[5] = {0, 1, 2, 0xff, 0};
	unsigned char *m = arena_memdup(a, bytes, sizeof bytes);
	assert_ptr_not_equal(m, bytes);
	assert_memory_equal(m, bytes, sizeof bytes);
	bytes[1] = 9;
	assert_int_equal(m[1], 1);
}

static void test_printf(void **state)
{
	arena *a = *state;
	assert_string_equal(arena_printf(a, "%s-%d-%05.1f-%x", "x", -42, 3.14159, 255u),
	                    "x--42-003.1-ff");
	assert_string_equal(arena_printf(a, "%s", ""), "");
	/* longer than a chunk */
	char *big = malloc(40001);
	assert_non_null(big);
	memset(big, 'z', 40000);
	big[40000] = 0;
	char *p = arena_printf(a, "<%s>", big);
	assert_int_equal(strlen(p), 40002);
	assert_int_equal(p[0], '<');
	assert_int_equal(p[40001], '>');
	assert_memory_equal(p + 1, big, 40000);
	free(big);
}

static void test_buf_growth(void **state)
{
	arena *a = *state;
	buf b;
	buf_init(&b, a);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(b.len, 0);
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "%04d,", i);
	assert_int_equal(b.len, 25000);
	assert_int_equal(strlen(buf_str(&b)), 25000);
	const char *s = buf_str(&b);
	for (int i = 0; i < 5000; i += 499) {
		char want[16];
		snprintf(want, sizeof want, "%04d,", i);
		assert_memory_equal(s + i * 5, want, 5);
	}
	buf_add(&b, "\0x", 2);
	assert_int_equal(b.len, 25002);
	assert_memory_equal(buf_str(&b) + 25000, "\0x\0", 3);
}

static const char *html(arena *a, const char *s)
{
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "[");
	buf_html(&b, s);
	buf_puts(&b, "]");
	return buf_str(&b);
}

static void test_buf_html(void **state)
{
	arena *a = *state;
	assert_string_equal(html(a, "a&b<c>d\"e'f"), "[a&amp;b&lt;c&gt;d&quot;e&#39;f]");
	assert_string_equal(html(a, "<script>alert('x')</script>"),
	                    "[&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;]");
	assert_string_equal(html(a, "&amp;"), "[&amp;amp;]");
	assert_string_equal(html(a, "plain text \xc3\xa9 / = ?"), "[plain text \xc3\xa9 / = ?]");
	assert_string_equal(html(a, ""), "[]");
	assert_string_equal(html(a, NULL), "[]");
}

static const char *urlenc(arena *a, const char *s)
{
	buf b;
	buf_init(&b, a);
	buf_urlenc(&b, s);
	return buf_str(&b);
}

static void test_buf_urlenc(void **state)
{
	arena *a = *state;
	const char *unreserved =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
	assert_string_equal(urlenc(a, unreserved), unreserved);
	assert_string_equal(urlenc(a, " "), "%20");
	assert_string_equal(urlenc(a, "/"), "%2F");
	assert_string_equal(urlenc(a, "\xc3\xa9\xe2\x82\xac"), "%C3%A9%E2%82%AC");
	assert_string_equal(urlenc(a, "a+b=c&d?e#f%g"), "a%2Bb%3Dc%26d%3Fe%23f%25g");
	assert_string_equal(urlenc(a, "https://rp.example/cb?x=1"),
	                    "https%3A%2F%2Frp.example%2Fcb%3Fx%3D1");
	assert_string_equal(urlenc(a, "\x01\x7f\xff"), "%01%7F%FF");
	assert_string_equal(urlenc(a, ""), "");
	/* every byte but the unreserved ones is encoded, as %XX with uppercase hex */
	for (int c = 1; c < 256; c++) {
		char in[2] = {(char)c, 0};
		const char *out = urlenc(a, in);
		if (strchr(unreserved, c)) {
			assert_int_equal(strlen(out), 1);
		} else {
			char want[4];
			snprintf(want, sizeof want, "%%%02X", c);
			assert_string_equal(out, want);
		}
	}
}

/* The escapers as they were written first, a byte at a time: the run-at-a-time ones must give
 * the same bytes for any input (the pages' output does not change with their speed). */
static void ref_html(char *out, const char *s)
{
	for (; *s; s++) {
		const char *e = *s == '&'    ? "&amp;"
		                : *s == '<'  ? "&lt;"
		                : *s == '>'  ? "&gt;"
		                : *s == '"'  ? "&quot;"
		                : *s == '\'' ? "&#39;"
		                             : NULL;
		if (e) {
			strcpy(out, e);
			out += strlen(e);
		} else {
			*out++ = *s;
		}
	}
	*out = 0;
}

static void ref_urlenc(char *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || strchr("-._~", *p))
			*out++ = (char)*p;
		else
			out += sprintf(out, "%%%02X", *p);
	}
	*out = 0;
}

static void test_escapers_match_reference(void **state)
{
	arena *a = *state;
	static const char pool[] = "ab Z9-._~&<>\"'%/?=\xc3\xa9\x01\x7f\xff";
	static char in[700], want[700 * 6 + 1], with[700 * 6 + 3];
	unsigned seed = 12345;
	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)(round * 7 % 697);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = pool[(seed >> 16) % (sizeof pool - 1)];
		}
		in[n] = 0;
		ref_html(want, in);
		snprintf(with, sizeof with, "[%s]", want);
		assert_string_equal(html(a, in), with);
		ref_urlenc(want, in);
		assert_string_equal(urlenc(a, in), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_alloc_zeroed_distinct_aligned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_alloc_type_alignment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_string_helpers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_printf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buf_growth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buf_html, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_buf_urlenc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escapers_match_reference, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
