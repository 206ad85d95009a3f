/* test_refresh.c — unit tests of refresh-token families (broker/sessions/refresh.c) on a real
 * store with a fake clock: rotation, reuse revoking the family, binding to the client (a foreign
 * client neither uses nor revokes), expiry at the session's absolute end, an ended session's
 * online families revoked while offline ones live on, and unknown or malformed tokens.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hub_fixture.h"
#include "sessions/refresh.h"

#define T0 HUB_FIXTURE_T0

static int setup(void **state)
{
	struct fx *f = hub_fixture_open("refresh");
	f->cfg.session_max_ttl = 1000;
	f->cfg.refresh_offline_ttl = 5000;
	*state = f;
	return 0;
}

static void issue(struct fx *f, const char *sid, int offline, char tok[44])
{
	json_t *c = json_pack("{s:s}", "email", "a@example.org");
	refresh_grant g = {.client_id = "svc",
	                   .sub = "sub-1",
	                   .sid = sid,
	                   .scope = "openid email",
	                   .idp = "sandbox",
	                   .loa = 2,
	                   .auth_time = T0 - 5,
	                   .expires = T0 + (offline ? 5000 : 100),
	                   .offline = offline,
	                   .claims = c,
	                   .id_claims = c};
	assert_int_equal(refresh_issue(&f->h, &g, tok), 0);
	json_decref(c);
}

static int rotate(struct fx *f, const char *client, const char *tok, char next[44])
{
	refresh_grant g;
	int rc = refresh_rotate(&f->h, f->a, client, tok, &g, next);
	if (rc == 0) {
		assert_string_equal(g.sub, "sub-1");
		assert_int_equal(g.loa, 2);
		assert_int_equal(g.auth_time, T0 - 5);
		assert_string_equal(json_string_value(json_object_get(g.claims, "email")),
		                    "a@example.org");
		refresh_grant_release(&g);
	}
	return rc;
}

static void test_rotation_and_reuse(void **state)
{
	struct fx *f = *state;
	char t1[44], t2[44], t3[44], t4[44];
	issue(f, "sid-1", 0, t1);
	assert_int_equal(rotate(f, "svc", t1, t2), 0);
	assert_string_not_equal(t1, t2);
	assert_int_equal(rotate(f, "svc", t2, t3), 0);
	/* t1 again: reuse; the whole family goes, t3 (the live one) with it */
	assert_int_equal(rotate(f, "svc", t1, t4), REFRESH_REUSED);
	assert_int_equal(rotate(f, "svc", t3, t4), REFRESH_INVALID);
}

static void test_bound_to_client(void **state)
{
	struct fx *f = *state;
	char t1[44], t2[44];
	issue(f, "sid-1", 0, t1);
	refresh_grant g;
	assert_int_equal(rotate(f, "other", t1, t2), REFRESH_INVALID);
	assert_int_equal(refresh_revoke(&f->h, f->a, "other", t1), REFRESH_INVALID);
	assert_int_equal(refresh_peek(&f->h, f->a, "other", t1, &g), REFRESH_INVALID);
	assert_int_equal(refresh_peek(&f->h, f->a, "svc", t1, &g), 0);
	refresh_grant_release(&g);
	assert_int_equal(rotate(f, "svc", t1, t2), 0); /* untouched by the foreign client */
	assert_int_equal(refresh_revoke(&f->h, f->a, "svc", t2), 0);
	assert_int_equal(rotate(f, "svc", t2, t1), REFRESH_INVALID);
}

static void test_expiry_and_logout(void **state)
{
	struct fx *f = *state;
	char on[44], off[44], next[44];
	issue(f, "sid-1", 0, on);
	issue(f, NULL, 1, off);
	fake_now = T0 + 101; /* past the session's absolute end */
	assert_int_equal(rotate(f, "svc", on, next), REFRESH_INVALID);
	assert_int_equal(rotate(f, "svc", off, next), 0); /* offline: its own lifetime */
	char on2[44];
	refresh_grant dead = {.client_id = "svc",
	                      .sub = "s",
	                      .sid = "sid-2",
	                      .scope = "openid",
	                      .idp = "sandbox",
	                      .expires = T0 + 100};
	assert_int_equal(refresh_issue(&f->h, &dead, on2), STORE_ERR); /* born dead: refused */
	fake_now = T0;
	char on3[44], tmp[44];
	issue(f, "sid-3", 0, on3);
	assert_int_equal(refresh_revoke_sid(&f->h, "sid-3"), 0); /* the session ended */
	assert_int_equal(rotate(f, "svc", on3, tmp), REFRESH_INVALID);
	assert_int_equal(rotate(f, "svc", next, tmp), 0); /* the offline family lives on */
}

static void test_malformed(void **state)
{
	struct fx *f = *state;
	char next[44];
	assert_int_equal(rotate(f, "svc", "", next), REFRESH_INVALID);
	assert_int_equal(rotate(f, "svc", "short", next), REFRESH_INVALID);
	assert_int_equal(rotate(f, "svc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", next),
	                 REFRESH_INVALID);
	assert_int_equal(rotate(f, "svc", NULL, next), REFRESH_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rotation_and_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound_to_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_and_logout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
