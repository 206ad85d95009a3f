/* test_code.c — unit tests of the authorization-code record (broker/oidc/code.c): code_record_json
 * then code_record_parse round-trips every field and the claims object, the redeemed tombstone
 * parses with its jti, and malformed JSON, non-objects, wrong types and missing required fields are
 * refused without leaking (ASan's leak check runs at exit).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "oidc/code.h"
#include "util/arena.h"
#include <jansson.h>
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

static json_t *sample_claims(void)
{
	json_t *c = json_pack("{s:s, s:b, s:s, s:{s:s, s:s}, s:[i,i]}", "email",
	                      "alice@example.org", "email_verified", 1, "name",
	                      "Al\xc3\xaf"
	                      "ce \"Q\" O'Brien",
	                      "address", "locality", "Gent", "country", "BE", "amr", 1, 2);
	assert_non_null(c);
	return c;
}

/* A record with every field set to a distinct value. */
static code_record sample(json_t *claims)
{
	return (code_record){.client_id = "client-1",
	                     .redirect_uri = "https://rp.example/cb?x=1&y=\"2\"",
	                     .code_challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
	                     .nonce = "n-0S6_WzA2Mj",
	                     .scope = "openid email profile",
	                     .sub = "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8",
	                     .idp = "saml-gov",
	                     .loa = 3,
	                     .auth_time = 4102444800123LL, /* beyond 32 bits */
	                     .issued = 1700000001,
	                     .claims = claims};
}

static void test_round_trip(void **state)
{
	arena *a = *state;
	json_t *claims = sample_claims();
	code_record c = sample(claims);
	char *js = code_record_json(&c);
	assert_non_null(js);
	assert_int_equal(claims->refcount, 1); /* borrowed, not stolen */

	code_record out;
	memset(&out, 0x5a, sizeof out);
	assert_int_equal(code_record_parse(a, js, strlen(js), &out), 0);
	assert_string_equal(out.client_id, c.client_id);
	assert_string_equal(out.redirect_uri, c.redirect_uri);
	assert_string_equal(out.code_challenge, c.code_challenge);
	assert_string_equal(out.nonce, c.nonce);
	assert_string_equal(out.scope, c.scope);
	assert_string_equal(out.sub, c.sub);
	assert_string_equal(out.idp, c.idp);
	assert_int_equal(out.loa, 3);
	assert_int_equal(out.auth_time, 4102444800123LL);
	assert_int_equal(out.issued, 1700000001);
	assert_int_equal(out.redeemed, 0);
	assert_null(out.jti);
	assert_non_null(out.claims);
	assert_true(json_is_object(out.claims));
	assert_true(json_equal(out.claims, claims));
	/* the parsed strings are copies, not pointers into the JSON text */
	assert_true(out.client_id < js || out.client_id >= js + strlen(js));
	free(js);
	assert_string_equal(out.sub, c.sub);
	code_record_release(&out);
	json_decref(claims);
}

static void test_round_trip_empty_claims(void **state)
{
	arena *a = *state;
	json_t *claims = json_object();
	code_record c = sample(claims);
	c.loa = 1;
	c.auth_time = 0;
	char *js = code_record_json(&c);
	assert_non_null(js);
	code_record out;
	assert_int_equal(code_record_parse(a, js, strlen(js), &out), 0);
	assert_int_equal(out.loa, 1);
	assert_int_equal(out.auth_time, 0);
	assert_true(json_is_object(out.claims));
	assert_int_equal(json_object_size(out.claims), 0);
	free(js);
	code_record_release(&out);
	json_decref(claims);
}

static void test_parse_respects_len(void **state)
{
	arena *a = *state;
	json_t *claims = sample_claims();
	code_record c = sample(claims);
	char *js = code_record_json(&c);
	assert_non_null(js);
	size_t n = strlen(js);
	char *padded = malloc(n + 8);
	assert_non_null(padded);
	memcpy(padded, js, n);
	memcpy(padded + n, "garbage", 8);
	code_record out;
	assert_int_equal(code_record_parse(a, padded, n, &out), 0);
	assert_string_equal(out.client_id, "client-1");
	code_record_release(&out);
	/* cut short, it is malformed */
	assert_int_equal(code_record_parse(a, js, n - 1, &out), -1);
	assert_null(out.claims);
	free(padded);
	free(js);
	json_decref(claims);
}

static void test_tombstone(void **state)
{
	arena *a = *state;
	char *js = code_tombstone_json("client-1", "jti-abc-123");
	assert_non_null(js);
	code_record out;
	memset(&out, 0x5a, sizeof out);
	assert_int_equal(code_record_parse(a, js, strlen(js), &out), 0);
	assert_int_equal(out.redeemed, 1);
	assert_string_equal(out.jti, "jti-abc-123");
	assert_string_equal(out.client_id, "client-1");
	assert_null(out.claims);
	free(js);
	/* a tombstone without its jti is refused */
	const char *nojti = "{\"redeemed\":true,\"cid\":\"client-1\"}";
	assert_int_equal(code_record_parse(a, nojti, strlen(nojti), &out), -1);
	/* "redeemed": false is a plain record, which then lacks its fields */
	const char *notred = "{\"redeemed\":false,\"cid\":\"c\",\"jti\":\"j\"}";
	assert_int_equal(code_record_parse(a, notred, strlen(notred), &out), -1);
	assert_null(out.claims);
}

/* A record without code_challenge and nonce parses with both NULL; the ID token claims default to
 * the userinfo claims. */
static void test_optional_pkce_and_nonce(void **state)
{
	arena *a = *state;
	json_t *claims = sample_claims();
	code_record c = sample(claims);
	c.code_challenge = NULL;
	c.nonce = NULL;
	char *js = code_record_json(&c);
	assert_non_null(js);
	assert_null(strstr(js, "\"cc\""));
	code_record out;
	assert_int_equal(code_record_parse(a, js, strlen(js), &out), 0);
	assert_null(out.code_challenge);
	assert_null(out.nonce);
	assert_true(json_equal(out.id_claims, claims));
	code_record_release(&out);
	free(js);
	json_decref(claims);
}

static void test_malformed_refused(void **state)
{
	arena *a = *state;
	static const char *const bad[] = {
	    "",     "{",    "{\"cid\":", "not json",         "[1,2]", "\"x\"", "42",
	    "null", "true", "{}",        "[{\"cid\":\"c\"}]"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		code_record out;
		memset(&out, 0x5a, sizeof out);
		if (code_record_parse(a, bad[i], strlen(bad[i]), &out) != -1)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_null(out.claims);
	}
}

static void test_missing_or_mistyped_required_field(void **state)
{
	arena *a = *state;
	json_t *claims = sample_claims();
	code_record c = sample(claims);
	char *js = code_record_json(&c);
	assert_non_null(js);
	/* cc and nonce may be absent (a service whose policy relaxes them), but never mistyped */
	static const char *const required[] = {"cid", "ruri", "sub", "scope", "cc", "nonce"};
	for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
		for (int mistyped = i >= 4; mistyped < 2; mistyped++) {
			json_t *o = json_loads(js, 0, NULL);
			assert_non_null(o);
			if (mistyped)
				json_object_set_new(o, required[i], json_integer(7));
			else
				assert_int_equal(json_object_del(o, required[i]), 0);
			char *m = json_dumps(o, JSON_COMPACT);
			json_decref(o);
			code_record out;
			memset(&out, 0x5a, sizeof out);
			if (code_record_parse(a, m, strlen(m), &out) != -1)
				fail_msg("a record %s \"%s\" was accepted",
				         mistyped ? "with a numeric" : "without", required[i]);
			assert_null(out.claims); /* nothing left to release */
			free(m);
		}
	}
	free(js);
	json_decref(claims);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_empty_claims, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse_respects_len, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tombstone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_optional_pkce_and_nonce, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_or_mistyped_required_field, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
