/* test_srctab.c — unit tests of broker/http/srctab.c and source.c: the bounded per-source table
 * (connection counts never evicted while live, per-minute budgets with eviction of the smallest,
 * fixed memory under a flood of addresses) and address parsing (X-Forwarded-For, IPv6 /64). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http/source.h"
#include "http/srctab.h"

#include <stdio.h>

static http_addr addr(const char *s)
{
	http_addr a;
	assert_int_equal(http_addr_parse(s, &a), 0);
	return a;
}

static http_addr nth(unsigned i)
{
	char s[32];
	snprintf(s, sizeof s, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	return addr(s);
}

static void test_conn_counts(void **state)
{
	(void)state;
	srctab *t = srctab_new(1); /* one bucket of 8 */
	http_addr a = addr("192.0.2.1");
	for (int i = 0; i < 3; i++)
		assert_int_equal(srctab_conn_add(t, &a), 1);
	assert_int_equal(srctab_conn_count(t, &a), 3);
	for (unsigned i = 0; i < 7; i++) {
		http_addr b = nth(i);
		assert_int_equal(srctab_conn_add(t, &b), 1);
	}
	/* full of live sources: a ninth is not counted (and never evicts a live one) */
	http_addr late = nth(100);
	assert_int_equal(srctab_conn_add(t, &late), 0);
	assert_int_equal(srctab_conn_count(t, &a), 3);
	http_addr b0 = nth(0);
	srctab_conn_release(t, &b0);
	assert_int_equal(srctab_conn_add(t, &late), 1);
	for (int i = 0; i < 3; i++)
		srctab_conn_release(t, &a);
	assert_int_equal(srctab_conn_count(t, &a), 0);
	srctab_free(t);
}

static void test_budget(void **state)
{
	(void)state;
	srctab *t = srctab_new(1);
	http_addr heavy = addr("198.51.100.7");
	int64_t now = 6000000; /* a minute's start */
	for (int i = 0; i < 5; i++)
		assert_int_equal(srctab_spend(t, &heavy, now, 5), 0);
	assert_int_equal(srctab_spend(t, &heavy, now + 59, 5), -1);
	/* a flood of other addresses in the same minute evicts the small entries, not the heavy one
	 */
	for (unsigned i = 0; i < 100000; i++) {
		http_addr b = nth(i);
		assert_int_equal(srctab_spend(t, &b, now + 1, 5), 0);
	}
	assert_int_equal(srctab_spend(t, &heavy, now + 2, 5), -1);
	/* the next minute starts again */
	assert_int_equal(srctab_spend(t, &heavy, now + 60, 5), 0);
	srctab_free(t);
}

static void test_addresses(void **state)
{
	(void)state;
	http_addr a, b;
	char text[HTTP_ADDR_TEXT];
	assert_int_equal(http_addr_parse("not an address", &a), -1);
	/* the right-most entry: the one the trusted proxy appended */
	assert_int_equal(http_addr_forwarded("203.0.113.9, 198.51.100.7", &a), 0);
	http_addr_text(&a, text);
	assert_string_equal(text, "198.51.100.7");
	assert_int_equal(http_addr_forwarded("198.51.100.7 ,  2001:db8::1 ", &a), 0);
	http_addr_text(&a, text);
	assert_string_equal(text, "2001:db8::1");
	assert_int_equal(http_addr_forwarded("198.51.100.7, unknown", &a), -1);
	assert_int_equal(http_addr_forwarded("198.51.100.7,", &a), -1);
	assert_int_equal(http_addr_forwarded("", &a), -1);
	assert_int_equal(http_addr_forwarded(NULL, &a), -1);
	/* IPv6 sources are their /64; IPv4 sources the address */
	a = addr("2001:db8:1:2::1");
	b = addr("2001:db8:1:2:ffff::9");
	http_addr sa = http_addr_source(&a), sb = http_addr_source(&b);
	assert_true(http_addr_eq(&sa, &sb));
	a = addr("192.0.2.1");
	b = addr("192.0.2.2");
	sa = http_addr_source(&a);
	sb = http_addr_source(&b);
	assert_false(http_addr_eq(&sa, &sb));
	http_addr proxies[2] = {addr("127.0.0.1"), addr("::1")};
	a = addr("::1");
	assert_true(http_addr_trusted(&a, proxies, 2));
	a = addr("127.0.0.2");
	assert_false(http_addr_trusted(&a, proxies, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conn_counts),
	    cmocka_unit_test(test_budget),
	    cmocka_unit_test(test_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
