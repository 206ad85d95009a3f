/* test_session.c — unit tests of hub session records (broker/sessions/session.c) on a real store
 * with a fake clock: the idle lifetime moves with each use, the absolute lifetime does not; the
 * services and their sids round-trip, and two requests adding a service at once both keep theirs;
 * the cookie is __Host- prefixed on an https issuer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hub_fixture.h"
#include "sessions/session.h"

#define T0 HUB_FIXTURE_T0
#define KEY "sessionkeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static int setup(void **state)
{
	struct fx *f = hub_fixture_open("session");
	f->cfg.session_idle_ttl = 1800;
	f->cfg.session_max_ttl = 28800;
	*state = f;
	return 0;
}

/* Saves s (last use = now) in its own batch. */
static void save(struct fx *f, session *s)
{
	store_batch *b = store_batch_new();
	session_batch_save(&f->h, b, s);
	assert_int_equal(store_batch_commit(f->h.st, b), 0);
}

static void fresh(struct fx *f, session *s)
{
	memset(s, 0, sizeof *s);
	memcpy(s->key, KEY, 44);
	memcpy(s->csrf, KEY, 44);
	s->idp = "sandbox";
	s->loa = 2;
	s->auth_time = T0 - 10;
	s->created = T0;
	s->vault = "vault";
	session_service_sid(&f->h, f->a, s, "svc-a", "sub-a");
	save(f, s);
}

static void test_idle_and_absolute(void **state)
{
	struct fx *f = *state;
	session s, l;
	fresh(f, &s);
	fake_now = T0 + 1700;
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), 0);
	save(f, &l); /* a single sign-on: the idle limit moves */
	fake_now = T0 + 3000;
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), 0);
	fake_now = T0 + 3000 + 1801;
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), STORE_NOTFOUND); /* idle */
	/* kept busy, it still ends session_max_ttl after the sign-in */
	fresh(f, &s);
	for (fake_now = T0; fake_now < T0 + 28800; fake_now += 1500) {
		assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), 0);
		save(f, &l);
	}
	fake_now = T0 + 28801;
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), STORE_NOTFOUND);
}

static void test_services_and_sids(void **state)
{
	struct fx *f = *state;
	session s, l;
	fresh(f, &s);
	const char *sid_a = session_find_service(&s, "svc-a")->sid;
	const char *sid_b = session_service_sid(&f->h, f->a, &s, "svc-b", "sub-b");
	assert_non_null(sid_b);
	assert_string_not_equal(sid_a, sid_b);
	assert_string_equal(session_service_sid(&f->h, f->a, &s, "svc-a", "sub-a"), sid_a);
	save(f, &s);
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), 0);
	assert_int_equal(l.nsvcs, 2);
	assert_string_equal(session_find_service(&l, "svc-b")->sid, sid_b);
	assert_string_equal(session_find_service(&l, "svc-b")->sub, "sub-b");
	assert_int_equal(l.loa, 2);
	assert_int_equal(l.auth_time, T0 - 10);
	assert_null(session_find_service(&l, "svc-c"));
	/* without the cookie the vault does not open */
	idhub_identity id;
	assert_int_equal(session_identity(&f->h, f->a, &l, &id), -1);
	assert_int_equal(session_load_key(&f->h, f->a, "short", &l), STORE_NOTFOUND);
}

static void test_concurrent_services_merge(void **state)
{
	struct fx *f = *state;
	session s, t1, t2, l;
	fresh(f, &s);
	/* two requests load the session at once, each signs in to another service */
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &t1), 0);
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &t2), 0);
	const char *sid_b = session_service_sid(&f->h, f->a, &t1, "svc-b", "sub-b");
	const char *sid_c = session_service_sid(&f->h, f->a, &t2, "svc-c", "sub-c");
	assert_int_equal(session_save(&f->h, f->a, &t1), 0);
	assert_int_equal(session_save(&f->h, f->a, &t2), 0);
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), 0);
	assert_int_equal(l.nsvcs, 3);
	assert_string_equal(session_find_service(&l, "svc-b")->sid, sid_b);
	assert_string_equal(session_find_service(&l, "svc-c")->sid, sid_c);
	assert_non_null(session_find_service(&l, "svc-a"));
	/* a session ended meanwhile is not brought back */
	assert_int_equal(store_del(f->h.st, NS_SESSION, KEY, 43), 0);
	assert_int_equal(session_save(&f->h, f->a, &l), STORE_NOTFOUND);
	assert_int_equal(session_load_key(&f->h, f->a, KEY, &l), STORE_NOTFOUND);
}

static void test_cookie_name(void **state)
{
	struct fx *f = *state;
	f->cfg.secure_cookies = 1;
	assert_string_equal(session_cookie_name(&f->h), "__Host-idhub_session");
	f->cfg.secure_cookies = 0;
	assert_string_equal(session_cookie_name(&f->h), "idhub_session");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_idle_and_absolute, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_services_and_sids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_services_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cookie_name, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
