/* test_b64url.c — unit tests of base64url and base64 (broker/util/b64url.c): the RFC 4648 §10 test
 * vectors both ways, the URL alphabet, refusal of padding, of non-canonical trailing bits, of
 * impossible lengths and of foreign characters, standard base64 with padding, b64url_enc_len, and
 * round trips of every length up to 300 bytes with exactly-sized output buffers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/b64url.h"
#include <stdlib.h>
#include <string.h>

/* RFC 4648 §10, base64url without padding */
static const struct {
	const char *plain, *url, *std;
} vectors[] = {
    {"", "", ""},
    {"f", "Zg", "Zg=="},
    {"fo", "Zm8", "Zm8="},
    {"foo", "Zm9v", "Zm9v"},
    {"foob", "Zm9vYg", "Zm9vYg=="},
    {"fooba", "Zm9vYmE", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
};

/* Decodes the NUL-terminated in with the given decoder into a buffer of exactly the documented size
 * (so ASan sees any overrun); returns the length and copies at most cap bytes to out. */
static long dec(long (*fn)(void *, const char *, size_t), const char *in, void *out, size_t cap)
{
	size_t len = strlen(in);
	unsigned char *tmp = malloc(len * 3 / 4 + 1);
	assert_non_null(tmp);
	long n = fn(tmp, in, len);
	if (n > 0)
		memcpy(out, tmp, (size_t)n < cap ? (size_t)n : cap);
	free(tmp);
	return n;
}

static void test_rfc4648_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
		char out[16];
		memset(out, 'X', sizeof out);
		size_t n = b64url_encode(out, vectors[i].plain, strlen(vectors[i].plain));
		assert_int_equal(n, strlen(vectors[i].url));
		assert_string_equal(out, vectors[i].url);
		assert_int_equal(b64url_enc_len(strlen(vectors[i].plain)), n);
	}
}

static void test_rfc4648_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) {
		char out[16] = {0};
		long n = dec(b64url_decode, vectors[i].url, out, sizeof out);
		assert_int_equal(n, strlen(vectors[i].plain));
		assert_memory_equal(out, vectors[i].plain, (size_t)n);
		/* standard base64, padded and unpadded */
		memset(out, 0, sizeof out);
		n = dec(b64_decode, vectors[i].std, out, sizeof out);
		assert_int_equal(n, strlen(vectors[i].plain));
		assert_memory_equal(out, vectors[i].plain, (size_t)n);
		memset(out, 0, sizeof out);
		n = dec(b64_decode, vectors[i].url, out, sizeof out);
		assert_int_equal(n, strlen(vectors[i].plain));
		assert_memory_equal(out, vectors[i].plain, (size_t)n);
	}
}

static void test_url_alphabet(void **state)
{
	(void)state;
	const unsigned char two[] = {0xfb, 0xff}, three[] = {0xfb, 0xef, 0xbe};
	char out[8];
	assert_int_equal(b64url_encode(out, two, 2), 3);
	assert_string_equal(out, "-_8");
	assert_int_equal(b64url_encode(out, three, 3), 4);
	assert_string_equal(out, "----");
	const unsigned char ff[] = {0xff, 0xff, 0xff};
	assert_int_equal(b64url_encode(out, ff, 3), 4);
	assert_string_equal(out, "____");

	unsigned char d[8] = {0};
	assert_int_equal(dec(b64url_decode, "-_8", d, sizeof d), 2);
	assert_memory_equal(d, two, 2);
	assert_int_equal(dec(b64url_decode, "____", d, sizeof d), 3);
	assert_memory_equal(d, ff, 3);
	/* the standard alphabet's '+' and '/' are not base64url */
	assert_int_equal(dec(b64url_decode, "+/8", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "////", d, sizeof d), -1);
}

static void test_url_refuses_padding(void **state)
{
	(void)state;
	unsigned char d[8];
	assert_int_equal(dec(b64url_decode, "Zg==", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "Zg=", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "Zm8=", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "Zm9vYg==", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "====", d, sizeof d), -1);
}

static void test_noncanonical_trailing_bits(void **state)
{
	(void)state;
	unsigned char d[8];
	/* "Zg" is "f"; "Zh".."Zv" carry non-zero unused bits */
	assert_int_equal(dec(b64url_decode, "Zg", d, sizeof d), 1);
	assert_int_equal(d[0], 'f');
	static const char *const bad2[] = {"Zh", "Zi", "Zj", "Zk", "Zl",
	                                   "Zm", "Zn", "Zo", "Zp", "Zv"};
	for (size_t i = 0; i < sizeof bad2 / sizeof *bad2; i++)
		if (dec(b64url_decode, bad2[i], d, sizeof d) != -1)
			fail_msg("\"%s\" was accepted by b64url_decode", bad2[i]);
	/* "Zm8" is "fo"; "Zm9" differs only in the 2 unused bits */
	assert_int_equal(dec(b64url_decode, "Zm8", d, sizeof d), 2);
	assert_int_equal(dec(b64url_decode, "Zm9", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "Zm-", d, sizeof d), -1);
	/* the same rule for standard base64 */
	assert_int_equal(dec(b64_decode, "Zh==", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zm9=", d, sizeof d), -1);
}

static void test_impossible_length(void **state)
{
	(void)state;
	unsigned char d[8];
	assert_int_equal(dec(b64url_decode, "A", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "Zm9vY", d, sizeof d), -1);
	assert_int_equal(dec(b64url_decode, "Zm9vYmFyZ", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zm9vY", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zm9vY===", d, sizeof d), -1);
}

static void test_foreign_characters(void **state)
{
	(void)state;
	unsigned char d[8];
	static const char *const bad[] = {"Zm9 v", "Zm9v\n",      " Zm9v",
	                                  "Zm.v",  "Zm9\xc3\xa9", "Zm*v"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		if (dec(b64url_decode, bad[i], d, sizeof d) != -1)
			fail_msg("b64url_decode accepted \"%s\"", bad[i]);
		if (dec(b64_decode, bad[i], d, sizeof d) != -1)
			fail_msg("b64_decode accepted \"%s\"", bad[i]);
	}
	/* a NUL byte inside len */
	unsigned char out[8];
	assert_int_equal(b64url_decode(out, "Zm\0v", 4), -1);
	assert_int_equal(b64_decode(out, "Zm\0v", 4), -1);
}

static void test_std_alphabet_and_padding(void **state)
{
	(void)state;
	unsigned char d[8] = {0};
	assert_int_equal(dec(b64_decode, "Zm9vYg==", d, sizeof d), 4);
	assert_memory_equal(d, "foob", 4);
	assert_int_equal(dec(b64_decode, "+/8=", d, sizeof d), 2);
	assert_int_equal(d[0], 0xfb);
	assert_int_equal(d[1], 0xff);
	assert_int_equal(dec(b64_decode, "////", d, sizeof d), 3);
	assert_memory_equal(d, "\xff\xff\xff", 3);
	/* HTTP Basic credentials */
	char cred[32] = {0};
	assert_int_equal(dec(b64_decode, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==", cred, sizeof cred), 19);
	assert_memory_equal(cred, "Aladdin:open sesame", 19);
	/* the URL alphabet is refused */
	assert_int_equal(dec(b64_decode, "-_8=", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "-_8", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "____", d, sizeof d), -1);
	/* padding in the wrong amount or place */
	assert_int_equal(dec(b64_decode, "Zg=", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zm8==", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zm9v=", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zm9v====", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zg===", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Zg==Zg==", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "Z=g=", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "=", d, sizeof d), -1);
	assert_int_equal(dec(b64_decode, "==", d, sizeof d), -1);
}

static void test_enc_len(void **state)
{
	(void)state;
	static const size_t want[] = {0, 2, 3, 4, 6, 7, 8, 10, 11, 12};
	for (size_t n = 0; n < sizeof want / sizeof *want; n++)
		assert_int_equal(b64url_enc_len(n), want[n]);
	assert_int_equal(b64url_enc_len(32), 43); /* a SHA-256 digest, as in pairwise subs */
	assert_int_equal(b64url_enc_len(64), 86);
	assert_int_equal(b64url_enc_len(3000), 4000);
}

static void test_round_trip_all_lengths(void **state)
{
	(void)state;
	unsigned char in[300];
	unsigned int x = 12345;
	for (size_t i = 0; i < sizeof in; i++) {
		x = x * 1103515245u + 12345u;
		in[i] = (unsigned char)(x >> 16);
	}
	for (size_t n = 0; n <= sizeof in; n++) {
		size_t el = b64url_enc_len(n);
		char *e = malloc(el + 1);
		assert_non_null(e);
		assert_int_equal(b64url_encode(e, in, n), el);
		assert_int_equal(strlen(e), el);
		unsigned char *d = malloc(el * 3 / 4 + 1);
		assert_non_null(d);
		assert_int_equal(b64url_decode(d, e, el), (long)n);
		assert_memory_equal(d, in, n);
		free(d);
		free(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc4648_encode),
	    cmocka_unit_test(test_rfc4648_decode),
	    cmocka_unit_test(test_url_alphabet),
	    cmocka_unit_test(test_url_refuses_padding),
	    cmocka_unit_test(test_noncanonical_trailing_bits),
	    cmocka_unit_test(test_impossible_length),
	    cmocka_unit_test(test_foreign_characters),
	    cmocka_unit_test(test_std_alphabet_and_padding),
	    cmocka_unit_test(test_enc_len),
	    cmocka_unit_test(test_round_trip_all_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
