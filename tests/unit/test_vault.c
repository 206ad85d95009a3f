/* test_vault.c — unit tests of the session vault (broker/sessions/vault.c): the sealed identity
 * opens only with the cookie it was sealed for and in the record it was sealed into (the store key
 * is the AAD), any change to the ciphertext is refused, and the subject and attributes round-trip.
 * The code record's sid and session end round-trip too (broker/oidc/code.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "oidc/code.h"
#include "sessions/sessions_int.h"
#include "util/arena.h"
#include <stdlib.h>
#include <string.h>

static const char C1[] = "cookieAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char C2[] = "cookieBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
static const char K1[] = "key1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char K2[] = "key2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

static const char *sealed(hub *h, arena *a)
{
	static const idhub_kv attrs[] = {{"given_name", "Alice"}, {"email", "alice@example.org"}};
	idhub_identity id = {.subject = "upstream-alice", .attrs = attrs, .nattrs = 2};
	const char *v = vault_seal(h, a, C1, K1, &id);
	assert_non_null(v);
	assert_null(strstr(v, "alice")); /* nothing in clear */
	return v;
}

static void test_round_trip(void **state)
{
	(void)state;
	hub h;
	memset(&h, 0, sizeof h);
	memset(h.seal_key, 7, sizeof h.seal_key);
	arena *a = arena_new();
	idhub_identity out;
	assert_int_equal(vault_open(&h, a, C1, K1, sealed(&h, a), &out), 0);
	assert_string_equal(out.subject, "upstream-alice");
	assert_int_equal(out.nattrs, 2);
	int seen = 0;
	for (size_t i = 0; i < out.nattrs; i++)
		seen += !strcmp(out.attrs[i].name, "email") &&
		        !strcmp(out.attrs[i].value, "alice@example.org");
	assert_int_equal(seen, 1);
	arena_free(a);
}

/* The adapter's upstream-logout state (it may name the citizen: an ID token) is sealed with the
 * rest and comes back; a vault without one opens without one. */
static void test_logout_state(void **state)
{
	(void)state;
	hub h;
	memset(&h, 0, sizeof h);
	memset(h.seal_key, 7, sizeof h.seal_key);
	arena *a = arena_new();
	idhub_identity id = {.subject = "upstream-alice",
	                     .logout_state = "{\"t\":\"idtoken-of-alice\"}"},
	               out;
	const char *v = vault_seal(&h, a, C1, K1, &id);
	assert_non_null(v);
	assert_null(strstr(v, "alice"));
	assert_int_equal(vault_open(&h, a, C1, K1, v, &out), 0);
	assert_non_null(out.logout_state);
	assert_string_equal(out.logout_state, "{\"t\":\"idtoken-of-alice\"}");
	assert_int_equal(vault_open(&h, a, C1, K1, sealed(&h, a), &out), 0);
	assert_null(out.logout_state);
	arena_free(a);
}

static void test_needs_cookie_record_and_integrity(void **state)
{
	(void)state;
	hub h;
	memset(&h, 0, sizeof h);
	memset(h.seal_key, 7, sizeof h.seal_key);
	arena *a = arena_new();
	idhub_identity out;
	const char *v = sealed(&h, a);
	assert_int_equal(vault_open(&h, a, C2, K1, v, &out), -1); /* another browser's cookie */
	assert_int_equal(vault_open(&h, a, C1, K2, v, &out), -1); /* copied into another record */
	assert_int_equal(vault_open(&h, a, NULL, K1, v, &out), -1);
	char *t = arena_strdup(a, v);
	t[20] = t[20] == 'A' ? 'B' : 'A';
	assert_int_equal(vault_open(&h, a, C1, K1, t, &out), -1); /* tampered */
	assert_int_equal(vault_open(&h, a, C1, K1, "short", &out), -1);
	assert_int_equal(vault_open(&h, a, C1, K1, NULL, &out), -1);
	hub other;
	memset(&other, 0, sizeof other);
	memset(other.seal_key, 8, sizeof other.seal_key);
	assert_int_equal(vault_open(&other, a, C1, K1, v, &out), -1); /* another hub's secret */
	arena_free(a);
}

static void test_code_sid(void **state)
{
	(void)state;
	arena *a = arena_new();
	code_record c = {.client_id = "svc",
	                 .redirect_uri = "https://svc/cb",
	                 .scope = "openid",
	                 .sub = "s",
	                 .idp = "sandbox",
	                 .sid = "the-sid",
	                 .session_expires = 12345,
	                 .claims = json_object()};
	char *js = code_record_json(&c);
	json_decref(c.claims);
	code_record out;
	assert_int_equal(code_record_parse(a, js, strlen(js), &out), 0);
	assert_string_equal(out.sid, "the-sid");
	assert_int_equal(out.session_expires, 12345);
	code_record_release(&out);
	free(js);
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_logout_state),
	    cmocka_unit_test(test_needs_cookie_record_and_integrity),
	    cmocka_unit_test(test_code_sid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
