/* test_lifecycle.c — owns the unit tests of keys/lifecycle.c and keys/schedule.c: rotation only
 * promotes a next key published for a whole JWKS max-age, retirement keeps an algorithm signing,
 * purge waits for the retired key's tokens to expire, emergency revocation unpublishes at once,
 * keys_prepare_next, and the scheduler's one rotation per period (also across two processes).
 * A real store in a mkdtemp directory, with a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pg_fixture.h"
#include "keys/keys.h"
#include "keys/lifecycle.h"
#include "keys/schedule.h"
#include "store/store.h"
#include "tokens/jws.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1700000000LL /* a multiple of 86400 is not needed: periods are computed from it */
#define MAX_AGE 300
/* lifecycle.c's PUBLISH_SLACK: a next key counts as published 2 s after its creation time (the
 * daemon rereads keys at most once a second, and times are whole seconds) */
#define ELIGIBLE (MAX_AGE + 2)
#define LIFETIME 330

static int64_t fake_now = T0;

static int64_t fake_clock(void)
{
	return fake_now;
}

static const keys_policy POLICY = {.jwks_max_age = MAX_AGE, .token_lifetime = LIFETIME};

struct fx {
	char dir[64];
	store *s;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* LMDB under dir, or the PostgreSQL group's database (several nodes share it). */
static store *open_store(const char *dir)
{
	char *err = NULL;
	store_config sc = {.backend = pg_conninfo ? "postgresql" : "lmdb",
	                   .dir = dir,
	                   .map_mib = 16,
	                   .conninfo = pg_conninfo};
	store *s = store_open_config(&sc, &err);
	if (!s)
		fprintf(stderr, "store_open: %s\n", err ? err : "?");
	free(err);
	if (s)
		store_set_clock(s, fake_clock);
	return s;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/idhub-test-lifecycle-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	fake_now = T0;
	if (pg_conninfo && pg_reset())
		return -1;
	f->s = open_store(f->dir);
	if (!f->s)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- helpers: the keys as keyring_load sees them -------------------------------------------- */

typedef struct kview {
	int n;
	struct {
		char kid[48];
		jws_alg alg;
		key_state state;
		int64_t created, activates, retires;
	} k[32];
	char jwks[16384];
} kview;

static void view(store *s, kview *v)
{
	char *err = NULL;
	keyring *kr = keyring_load(s, &err);
	if (!kr)
		fail_msg("keyring_load: %s", err ? err : "?");
	memset(v, 0, sizeof *v);
	assert_true(kr->nkeys <= 32);
	for (size_t i = 0; i < kr->nkeys; i++) {
		snprintf(v->k[i].kid, sizeof v->k[i].kid, "%s", kr->keys[i].kid);
		v->k[i].alg = kr->keys[i].alg;
		v->k[i].state = kr->keys[i].state;
		v->k[i].created = kr->keys[i].created;
		v->k[i].activates = kr->keys[i].activates;
		v->k[i].retires = kr->keys[i].retires;
	}
	v->n = (int)kr->nkeys;
	snprintf(v->jwks, sizeof v->jwks, "%s", kr->jwks_json);
	keyring_unref(kr);
}

static int count_state(const kview *v, jws_alg alg, key_state st)
{
	int n = 0;
	for (int i = 0; i < v->n; i++)
		n += v->k[i].alg == alg && v->k[i].state == st;
	return n;
}

/* The kid of the only key of alg in state st (fails if there is not exactly one). */
static const char *only(const kview *v, jws_alg alg, key_state st)
{
	const char *kid = NULL;
	for (int i = 0; i < v->n; i++)
		if (v->k[i].alg == alg && v->k[i].state == st) {
			if (kid)
				fail_msg("more than one %s %s key", jws_alg_name(alg),
				         key_state_name(st));
			kid = v->k[i].kid;
		}
	if (!kid)
		fail_msg("no %s %s key", jws_alg_name(alg), key_state_name(st));
	return kid;
}

static int find(const kview *v, const char *kid)
{
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->k[i].kid, kid) == 0)
			return i;
	return -1;
}

static key_state state_of(const kview *v, const char *kid)
{
	int i = find(v, kid);
	if (i < 0)
		fail_msg("key %s is gone", kid);
	return v->k[i].state;
}

static void make_current(store *s, char kid[48])
{
	assert_int_equal(keys_ensure_current(s, JWS_ES256), 0);
	kview v;
	view(s, &v);
	snprintf(kid, 48, "%s", only(&v, JWS_ES256, KEY_CURRENT));
}

/* ---- rotate --------------------------------------------------------------------------------- */

static void test_rotate_without_next_publishes_one(void **state)
{
	struct fx *f = *state;
	char cur[48];
	make_current(f->s, cur);
	uint64_t gen = keys_generation(f->s);
	keys_report r = {0};
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	kview v;
	view(f->s, &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), cur);
	const char *next = only(&v, JWS_ES256, KEY_NEXT);
	assert_string_not_equal(next, cur);
	assert_int_equal(v.k[find(&v, next)].created, T0);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_RETIRED), 0);
	assert_true(keys_generation(f->s) > gen);
	assert_non_null(strstr(v.jwks, next)); /* published */
	/* the report names the one change: a new next key */
	assert_int_equal(r.n, 1);
	assert_string_equal(r.change[0].kid, next);
	assert_string_equal(r.change[0].from, "");
	assert_string_equal(r.change[0].to, "next");
	assert_true(r.nnotes >= 1);
}

static void test_rotate_before_max_age_does_not_promote(void **state)
{
	struct fx *f = *state;
	char cur[48];
	make_current(f->s, cur);
	keys_report r = {0};
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	kview v0;
	view(f->s, &v0);
	char next[48];
	snprintf(next, sizeof next, "%s", only(&v0, JWS_ES256, KEY_NEXT));
	uint64_t gen = keys_generation(f->s);

	for (int64_t dt = 0; dt < ELIGIBLE; dt += 37) {
		fake_now = T0 + dt;
		assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
		assert_int_equal(r.n, 0);
		assert_true(r.nnotes >= 1); /* says when it becomes eligible */
	}
	fake_now = T0 + ELIGIBLE - 1;
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	assert_int_equal(r.n, 0);
	kview v;
	view(f->s, &v);
	assert_int_equal(v.n, 2);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), cur);
	assert_string_equal(only(&v, JWS_ES256, KEY_NEXT), next);
	assert_int_equal(keys_generation(f->s), gen);
}

static void test_rotate_after_max_age_promotes(void **state)
{
	struct fx *f = *state;
	char cur[48], next[48];
	make_current(f->s, cur);
	keys_report r = {0};
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	kview v;
	view(f->s, &v);
	snprintf(next, sizeof next, "%s", only(&v, JWS_ES256, KEY_NEXT));

	fake_now = T0 + ELIGIBLE;
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	view(f->s, &v);
	assert_int_equal(v.n, 3);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), next);
	assert_string_equal(only(&v, JWS_ES256, KEY_RETIRED), cur);
	const char *fresh = only(&v, JWS_ES256, KEY_NEXT);
	assert_string_not_equal(fresh, cur);
	assert_string_not_equal(fresh, next);
	assert_int_equal(v.k[find(&v, next)].activates, T0 + ELIGIBLE);
	assert_int_equal(v.k[find(&v, cur)].retires, T0 + ELIGIBLE);
	assert_int_equal(v.k[find(&v, fresh)].created, T0 + ELIGIBLE);
	/* all three are published: the retired one for its tokens, the fresh one for the next turn
	 */
	assert_non_null(strstr(v.jwks, cur));
	assert_non_null(strstr(v.jwks, next));
	assert_non_null(strstr(v.jwks, fresh));
	/* reported: current -> retired, next -> current, (new) -> next */
	int retired = 0, promoted = 0, created = 0;
	for (int i = 0; i < r.n; i++) {
		retired += !strcmp(r.change[i].kid, cur) && !strcmp(r.change[i].from, "current") &&
		           !strcmp(r.change[i].to, "retired");
		promoted += !strcmp(r.change[i].kid, next) && !strcmp(r.change[i].from, "next") &&
		            !strcmp(r.change[i].to, "current");
		created += !strcmp(r.change[i].kid, fresh) && !strcmp(r.change[i].to, "next");
	}
	assert_int_equal(retired, 1);
	assert_int_equal(promoted, 1);
	assert_int_equal(created, 1);

	/* at once again: the fresh key is too young, nothing changes */
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	assert_int_equal(r.n, 0);
	kview v2;
	view(f->s, &v2);
	assert_string_equal(only(&v2, JWS_ES256, KEY_CURRENT), next);
}

static void test_rotate_promotes_oldest_eligible_next(void **state)
{
	struct fx *f = *state;
	char cur[48], old_next[48], young_next[48];
	make_current(f->s, cur);
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_NEXT, old_next), 0);
	fake_now = T0 + 100;
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_NEXT, young_next), 0);
	fake_now = T0 + MAX_AGE + 50; /* the older is eligible, the younger still waits */
	keys_report r = {0};
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	kview v;
	view(f->s, &v);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), old_next);
	assert_int_equal(state_of(&v, young_next), KEY_NEXT);
	assert_int_equal(state_of(&v, cur), KEY_RETIRED);
	/* a next key was already waiting: no extra one */
	assert_int_equal(v.n, 3);
}

/* ---- retire --------------------------------------------------------------------------------- */

static void test_retire(void **state)
{
	struct fx *f = *state;
	char cur[48], nxt[48];
	make_current(f->s, cur);
	uint64_t gen = keys_generation(f->s);
	keys_report r = {0};
	/* the only current key: refused, nothing changes */
	assert_true(keys_retire(f->s, cur, &r) != 0);
	assert_true(r.nnotes >= 1);
	kview v;
	view(f->s, &v);
	assert_int_equal(state_of(&v, cur), KEY_CURRENT);
	assert_int_equal(keys_generation(f->s), gen);

	/* a next key is not a signer: it may retire (stays published) */
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_NEXT, nxt), 0);
	fake_now = T0 + 5;
	assert_int_equal(keys_retire(f->s, nxt, &r), 0);
	view(f->s, &v);
	assert_int_equal(state_of(&v, nxt), KEY_RETIRED);
	assert_int_equal(v.k[find(&v, nxt)].retires, T0 + 5);
	assert_non_null(strstr(v.jwks, nxt));
	assert_int_equal(state_of(&v, cur), KEY_CURRENT);
	/* and the current one is still refused */
	assert_true(keys_retire(f->s, cur, &r) != 0);
	view(f->s, &v);
	assert_int_equal(state_of(&v, cur), KEY_CURRENT);

	/* unknown kid */
	assert_int_equal(keys_retire(f->s, "no-such-kid", &r), STORE_NOTFOUND);
}

/* ---- purge ---------------------------------------------------------------------------------- */

static void test_purge_waits_for_tokens_to_expire(void **state)
{
	struct fx *f = *state;
	char cur[48];
	make_current(f->s, cur);
	keys_report r = {0};
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	fake_now = T0 + ELIGIBLE;
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0); /* cur retires at T0 + ELIGIBLE */
	const int64_t retired_at = T0 + ELIGIBLE;
	kview v;
	view(f->s, &v);
	assert_int_equal(state_of(&v, cur), KEY_RETIRED);

	for (int64_t t = retired_at; t < retired_at + LIFETIME; t += 55) {
		fake_now = t;
		assert_int_equal(keys_purge(f->s, &POLICY, &r), 0);
		assert_int_equal(r.n, 0);
		view(f->s, &v);
		assert_int_equal(state_of(&v, cur), KEY_RETIRED);
	}
	fake_now = retired_at + LIFETIME - 1;
	assert_int_equal(keys_purge(f->s, &POLICY, &r), 0);
	assert_int_equal(r.n, 0);
	view(f->s, &v);
	assert_true(find(&v, cur) >= 0);

	fake_now = retired_at + LIFETIME;
	assert_int_equal(keys_purge(f->s, &POLICY, &r), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.change[0].kid, cur);
	assert_string_equal(r.change[0].to, "");
	view(f->s, &v);
	assert_int_equal(find(&v, cur), -1);
	assert_null(strstr(v.jwks, cur));
	/* current and next are never purged */
	assert_int_equal(v.n, 2);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_CURRENT), 1);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_NEXT), 1);
	fake_now += 100000;
	assert_int_equal(keys_purge(f->s, &POLICY, &r), 0);
	view(f->s, &v);
	assert_int_equal(v.n, 2);
}

/* ---- revoke_now ----------------------------------------------------------------------------- */

static void test_revoke_current_promotes_newest_next(void **state)
{
	struct fx *f = *state;
	char cur[48], older[48], newer[48];
	make_current(f->s, cur);
	fake_now = T0 + 10;
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_NEXT, older), 0);
	fake_now = T0 + 20;
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_NEXT, newer), 0);
	fake_now = T0 + 25; /* neither next key is old enough for a normal rotation: no matter */
	keys_report r = {0};
	assert_int_equal(keys_revoke_now(f->s, cur, &r), 0);
	kview v;
	view(f->s, &v);
	assert_int_equal(find(&v, cur), -1);
	assert_null(strstr(v.jwks, cur));
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), newer);
	assert_int_equal(v.k[find(&v, newer)].activates, T0 + 25);
	assert_int_equal(state_of(&v, older), KEY_NEXT);
	assert_int_equal(v.n, 2);
	assert_true(r.nnotes >= 1); /* says what happens to tokens */
	int removed = 0;
	for (int i = 0; i < r.n; i++)
		removed += !strcmp(r.change[i].kid, cur) && !strcmp(r.change[i].to, "");
	assert_int_equal(removed, 1);
}

static void test_revoke_current_without_next_generates_current(void **state)
{
	struct fx *f = *state;
	char cur[48];
	make_current(f->s, cur);
	keys_report r = {0};
	assert_int_equal(keys_revoke_now(f->s, cur, &r), 0);
	kview v;
	view(f->s, &v);
	assert_int_equal(find(&v, cur), -1);
	assert_null(strstr(v.jwks, cur));
	const char *fresh = only(&v, JWS_ES256, KEY_CURRENT);
	assert_string_not_equal(fresh, cur);
	assert_int_equal(v.n, 1);
}

static void test_revoke_next_and_retired(void **state)
{
	struct fx *f = *state;
	char cur[48], nxt[48];
	make_current(f->s, cur);
	keys_report r = {0};
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	fake_now = T0 + ELIGIBLE;
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0); /* cur retired */
	kview v;
	view(f->s, &v);
	char now_cur[48];
	snprintf(now_cur, sizeof now_cur, "%s", only(&v, JWS_ES256, KEY_CURRENT));
	snprintf(nxt, sizeof nxt, "%s", only(&v, JWS_ES256, KEY_NEXT));
	/* a retired key: removed at once, the signer is unchanged */
	assert_int_equal(keys_revoke_now(f->s, cur, &r), 0);
	view(f->s, &v);
	assert_int_equal(find(&v, cur), -1);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), now_cur);
	/* a next key: removed, the signer is unchanged */
	assert_int_equal(keys_revoke_now(f->s, nxt, &r), 0);
	view(f->s, &v);
	assert_int_equal(find(&v, nxt), -1);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), now_cur);
	assert_int_equal(v.n, 1);
	/* unknown */
	assert_int_equal(keys_revoke_now(f->s, "no-such-kid", &r), STORE_NOTFOUND);
	view(f->s, &v);
	assert_int_equal(v.n, 1);
}

/* ---- prepare_next --------------------------------------------------------------------------- */

static void test_prepare_next(void **state)
{
	struct fx *f = *state;
	keys_report r = {0};
	/* no current key: nothing to prepare */
	assert_int_equal(keys_prepare_next(f->s, &r), 0);
	kview v;
	view(f->s, &v);
	assert_int_equal(v.n, 0);

	char cur[48];
	make_current(f->s, cur);
	assert_int_equal(keys_ensure_current(f->s, JWS_RS256), 0);
	assert_int_equal(keys_prepare_next(f->s, &r), 0);
	view(f->s, &v);
	assert_int_equal(v.n, 4);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_NEXT), 1);
	assert_int_equal(count_state(&v, JWS_RS256, KEY_NEXT), 1);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), cur);
	assert_int_equal(r.n, 2);
	for (int i = 0; i < r.n; i++)
		assert_string_equal(r.change[i].to, "next");
	/* idempotent */
	uint64_t gen = keys_generation(f->s);
	assert_int_equal(keys_prepare_next(f->s, &r), 0);
	assert_int_equal(r.n, 0);
	view(f->s, &v);
	assert_int_equal(v.n, 4);
	assert_int_equal(keys_generation(f->s), gen);
}

/* ---- schedule ------------------------------------------------------------------------------- */

#define PERIOD 86400

static int count_retired(store *s)
{
	kview v;
	view(s, &v);
	return count_state(&v, JWS_ES256, KEY_RETIRED);
}

static void test_schedule_once_per_period(void **state)
{
	struct fx *f = *state;
	char cur[48];
	fake_now = (T0 / PERIOD) * PERIOD + 10; /* early in a period */
	make_current(f->s, cur);
	/* the first tick publishes a next key and claims the period; it cannot promote a key that
	 * was just published */
	assert_int_equal(keys_schedule_tick(f->s, &POLICY, PERIOD), 1);
	kview v;
	view(f->s, &v);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), cur);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_NEXT), 1);

	/* called again and again in the same period, long after max-age: no rotation */
	for (int i = 0; i < 20; i++) {
		fake_now += 3600;
		if (fake_now / PERIOD != (T0 / PERIOD))
			break;
		assert_int_equal(keys_schedule_tick(f->s, &POLICY, PERIOD), 0);
	}
	view(f->s, &v);
	assert_string_equal(only(&v, JWS_ES256, KEY_CURRENT), cur);
	assert_int_equal(count_retired(f->s), 0);

	/* the next period: one rotation, the waiting key signs */
	fake_now = (T0 / PERIOD + 1) * PERIOD + 5;
	assert_int_equal(keys_schedule_tick(f->s, &POLICY, PERIOD), 1);
	view(f->s, &v);
	assert_string_not_equal(only(&v, JWS_ES256, KEY_CURRENT), cur);
	assert_int_equal(state_of(&v, cur), KEY_RETIRED);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_NEXT), 1);
	for (int i = 0; i < 10; i++) {
		fake_now += 1000;
		assert_int_equal(keys_schedule_tick(f->s, &POLICY, PERIOD), 0);
	}
	assert_int_equal(count_retired(f->s), 1);

	/* and the period after: one more (the old retired key is purged by then) */
	fake_now = (T0 / PERIOD + 2) * PERIOD + 5;
	assert_int_equal(keys_schedule_tick(f->s, &POLICY, PERIOD), 1);
	assert_int_equal(keys_schedule_tick(f->s, &POLICY, PERIOD), 0);
	view(f->s, &v);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_CURRENT), 1);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_NEXT), 1);
	assert_int_equal(find(&v, cur), -1); /* retired a period ago: purged */
}

#define NPERIODS 4
#define TICKS_PER_PERIOD 12

/* A child: its own store handle. For each period it waits for the parent's go byte, ticks
 * TICKS_PER_PERIOD times inside that period, and answers a done byte, so both children tick the
 * same period at the same time. Exit status: bit p set if it rotated in period p; 255 on error. */
static void schedule_child(const char *dir, int go_fd, int done_fd)
{
	store *s = open_store(dir);
	if (!s)
		_exit(255);
	int mask = 0;
	for (int p = 0; p < NPERIODS; p++) {
		char c;
		if (read(go_fd, &c, 1) != 1)
			_exit(255);
		for (int i = 0; i < TICKS_PER_PERIOD; i++) {
			fake_now = (T0 / PERIOD + 1 + p) * PERIOD + 10 + i * 60;
			if (keys_schedule_tick(s, &POLICY, PERIOD) == 1) {
				if (mask & (1 << p))
					_exit(254); /* twice in one period in one process */
				mask |= 1 << p;
			}
		}
		if (write(done_fd, "d", 1) != 1)
			_exit(255);
	}
	store_close(s);
	_exit(mask);
}

static void test_schedule_two_processes(void **state)
{
	struct fx *f = *state;
	char cur[48];
	fake_now = (T0 / PERIOD) * PERIOD + 10;
	make_current(f->s, cur);
	keys_report r = {0};
	assert_int_equal(keys_prepare_next(f->s, &r), 0); /* eligible by the first child period */
	int go[2], done[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(done), 0);
	fflush(NULL);
	pid_t pids[2];
	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(go[1]);
			close(done[0]);
			schedule_child(f->dir, go[0], done[1]);
		}
	}
	close(go[0]);
	close(done[1]);
	for (int p = 0; p < NPERIODS; p++) {
		char b[2];
		assert_int_equal(write(go[1], "gg", 2), 2);
		for (int got = 0; got < 2;) {
			ssize_t n = read(done[0], b, (size_t)(2 - got));
			assert_true(n > 0);
			got += (int)n;
		}
	}
	close(go[1]);
	close(done[0]);
	int masks[2];
	for (int i = 0; i < 2; i++) {
		int st = 0;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		masks[i] = WEXITSTATUS(st);
		assert_true(masks[i] < (1 << NPERIODS));
	}
	/* every period rotated exactly once, by one process or the other */
	assert_int_equal(masks[0] & masks[1], 0);
	assert_int_equal(masks[0] | masks[1], (1 << NPERIODS) - 1);
	/* one signer, the first one long gone (retired in the first period, purged in the next) */
	kview v;
	view(f->s, &v);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_CURRENT), 1);
	assert_true(count_state(&v, JWS_ES256, KEY_NEXT) >= 1);
	assert_int_equal(count_state(&v, JWS_ES256, KEY_RETIRED), 1);
	assert_int_equal(find(&v, cur), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rotate_without_next_publishes_one, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_rotate_before_max_age_does_not_promote, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_rotate_after_max_age_promotes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotate_promotes_oldest_eligible_next, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_purge_waits_for_tokens_to_expire, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_current_promotes_newest_next, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_current_without_next_generates_current,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke_next_and_retired, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepare_next, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schedule_once_per_period, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schedule_two_processes, setup, teardown),
	};
	/* rotation exactly once per period also when the processes are nodes on one PostgreSQL */
	const struct CMUnitTest pg_tests[] = {
	    cmocka_unit_test_setup_teardown(test_rotate_after_max_age_promotes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schedule_once_per_period, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_schedule_two_processes, setup, teardown),
	};
	int rc = cmocka_run_group_tests_name("key lifecycle: lmdb", tests, NULL, NULL);
	if (pg_available())
		rc += cmocka_run_group_tests_name("key lifecycle: postgresql", pg_tests,
		                                  pg_group_setup, pg_group_teardown);
	return rc;
}
