/* test_store.c — the store's conformance suite (broker/store/): the same tests of the verbs,
 * expiry, batches, purge, persistence, the unclean-restart floor, races between threads and
 * between processes, take and swap atomicity, the iteration snapshot and an unreachable backend,
 * run against every backend: LMDB always, and PostgreSQL on a private cluster that this test
 * starts (tests/pg/cluster.sh: PostgreSQL 15 in a temporary directory on a Unix socket, stopped
 * at the end) when PostgreSQL 15 is installed. A few tests are one backend's own (LMDB's file
 * modes, full map and RUNNING marker; PostgreSQL's crash and outage).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pg_fixture.h"
#include "store/store.h"
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 1700000000

static _Atomic int64_t fake_now = T0;

static int64_t fake_clock(void)
{
	return fake_now;
}

struct fx {
	char tmp[64];  /* the mkdtemp directory */
	char dir[128]; /* tmp/store, what store_open gets */
	store *s;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* The store under test: LMDB under f->dir, or the cluster's database. */
static store *open_any(const char *dir, size_t map_mib, char **err)
{
	store_config sc = {.backend = pg_conninfo ? "postgresql" : "lmdb",
	                   .dir = dir,
	                   .map_mib = map_mib,
	                   .conninfo = pg_conninfo};
	return store_open_config(&sc, err);
}

static store *fx_open(struct fx *f, size_t map_mib)
{
	char *err = NULL;
	store *s = open_any(f->dir, map_mib, &err);
	if (!s)
		fprintf(stderr, "store_open: %s\n", err ? err : "?");
	free(err);
	assert_non_null(s);
	store_set_clock(s, fake_clock);
	return s;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->tmp, "/tmp/idhub-test-store-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->dir, sizeof f->dir, "%s/store", f->tmp);
	fake_now = T0;
	if (pg_conninfo) /* each test on an empty database: the store migrates it */
		assert_int_equal(pg_reset(), 0);
	f->s = fx_open(f, 16);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	nftw(f->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void fx_reopen(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
	f->s = fx_open(f, 16);
}

static int put_s(store *s, store_ns ns, const char *k, const char *v, int64_t ttl)
{
	return store_put(s, ns, k, strlen(k), v, strlen(v), ttl);
}

static int put_new_s(store *s, store_ns ns, const char *k, const char *v, int64_t ttl)
{
	return store_put_new(s, ns, k, strlen(k), v, strlen(v), ttl);
}

/* Asserts that k holds the text v (or is absent when v is NULL). */
static void expect(store *s, store_ns ns, const char *k, const char *v)
{
	void *val = NULL;
	size_t vlen = 0;
	int rc = store_get(s, ns, k, strlen(k), &val, &vlen, NULL);
	if (!v) {
		assert_int_equal(rc, STORE_NOTFOUND);
		assert_null(val);
		return;
	}
	assert_int_equal(rc, STORE_OK);
	assert_int_equal(vlen, strlen(v));
	assert_string_equal(val, v);
	free(val);
}

/* ---- verbs ---- */

static void test_put_get_roundtrip(void **state)
{
	struct fx *f = *state;
	unsigned char bin[5] = {0, 1, 2, 0, 255};
	assert_int_equal(store_put(f->s, NS_PAIRWISE, "k\0b", 3, bin, sizeof bin, 0), STORE_OK);
	void *val = NULL;
	size_t vlen = 0;
	int64_t exp = -1;
	assert_int_equal(store_get(f->s, NS_PAIRWISE, "k\0b", 3, &val, &vlen, &exp), STORE_OK);
	assert_int_equal(vlen, sizeof bin);
	assert_memory_equal(val, bin, sizeof bin);
	assert_int_equal(((unsigned char *)val)[vlen], 0); /* the NUL after the value */
	assert_int_equal(exp, 0);
	free(val);

	assert_int_equal(put_s(f->s, NS_JOURNEY, "j1", "hello", 60), STORE_OK);
	assert_int_equal(store_get(f->s, NS_JOURNEY, "j1", 2, &val, &vlen, &exp), STORE_OK);
	assert_string_equal(val, "hello");
	assert_int_equal(exp, T0 + 60);
	free(val);

	/* replace, and an empty value */
	assert_int_equal(put_s(f->s, NS_JOURNEY, "j1", "", 0), STORE_OK);
	expect(f->s, NS_JOURNEY, "j1", "");
	/* same key, other namespace: independent */
	expect(f->s, NS_CODE, "j1", NULL);
}

static void test_get_missing(void **state)
{
	struct fx *f = *state;
	void *val = NULL;
	size_t vlen = 7;
	assert_int_equal(store_get(f->s, NS_CODE, "nope", 4, &val, &vlen, NULL), STORE_NOTFOUND);
	assert_null(val);
	assert_int_equal(store_get(f->s, NS_KEYS, "nope", 4, &val, &vlen, NULL), STORE_NOTFOUND);
}

static void test_bad_arguments(void **state)
{
	struct fx *f = *state;
	char big[600];
	memset(big, 'k', sizeof big);
	assert_int_equal(store_put(f->s, NS_CODE, big, 511, "v", 1, 0), STORE_OK);
	assert_int_equal(store_put(f->s, NS_CODE, big, sizeof big, "v", 1, 0), STORE_ERR);
	assert_int_equal(store_get(f->s, NS_CODE, big, sizeof big, NULL, NULL, NULL), STORE_ERR);
	assert_int_equal(store_put(f->s, NS_CODE, "", 0, "v", 1, 0), STORE_ERR);
	assert_int_equal(store_put(f->s, NS_CODE, "k", 1, "v", 1, -1), STORE_ERR);
	assert_int_equal(store_put(f->s, NS_COUNT, "k", 1, "v", 1, 0), STORE_ERR);
	assert_int_equal(store_count(f->s, NS_CODE), 1);
}

static void test_ttl_expiry(void **state)
{
	struct fx *f = *state;
	const char *keys[] = {"g", "t", "s", "n", "d"};
	for (int i = 0; i < 5; i++)
		assert_int_equal(put_s(f->s, NS_CODE, keys[i], "old", 10), STORE_OK);
	fake_now = T0 + 9;
	expect(f->s, NS_CODE, "g", "old");
	fake_now = T0 + 10; /* now >= expiry: gone */
	expect(f->s, NS_CODE, "g", NULL);

	void *val = NULL;
	size_t vlen;
	assert_int_equal(store_take(f->s, NS_CODE, "t", 1, &val, &vlen), STORE_NOTFOUND);
	assert_null(val);
	assert_int_equal(store_swap(f->s, NS_CODE, "s", 1, "new", 3, 0, &val, &vlen),
	                 STORE_NOTFOUND);
	assert_null(val);
	expect(f->s, NS_CODE, "s", NULL); /* swap wrote nothing */
	assert_int_equal(store_del(f->s, NS_CODE, "d", 1), STORE_NOTFOUND);

	/* put_new over an expired record succeeds */
	assert_int_equal(put_new_s(f->s, NS_CODE, "n", "fresh", 10), STORE_OK);
	int64_t exp;
	assert_int_equal(store_get(f->s, NS_CODE, "n", 1, &val, &vlen, &exp), STORE_OK);
	assert_string_equal(val, "fresh");
	assert_int_equal(exp, T0 + 20);
	free(val);
}

static void test_put_new_twice(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_new_s(f->s, NS_REPLAY, "jti-1", "first", 60), STORE_OK);
	assert_int_equal(put_new_s(f->s, NS_REPLAY, "jti-1", "second", 60), STORE_EXISTS);
	expect(f->s, NS_REPLAY, "jti-1", "first");
	assert_int_equal(put_new_s(f->s, NS_SECRETS, "s", "a", 0), STORE_OK);
	assert_int_equal(put_new_s(f->s, NS_SECRETS, "s", "b", 0), STORE_EXISTS);
}

static void test_take_once(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_CODE, "code", "grant", 60), STORE_OK);
	void *val = NULL;
	size_t vlen = 0;
	assert_int_equal(store_take(f->s, NS_CODE, "code", 4, &val, &vlen), STORE_OK);
	assert_int_equal(vlen, 5);
	assert_string_equal(val, "grant");
	free(val);
	val = NULL;
	assert_int_equal(store_take(f->s, NS_CODE, "code", 4, &val, &vlen), STORE_NOTFOUND);
	assert_null(val);
	expect(f->s, NS_CODE, "code", NULL);
}

static void test_swap(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_CODE, "c", "issued", 60), STORE_OK);
	void *old = NULL;
	size_t oldlen = 0;
	assert_int_equal(store_swap(f->s, NS_CODE, "c", 1, "redeemed", 8, 120, &old, &oldlen),
	                 STORE_OK);
	assert_int_equal(oldlen, 6);
	assert_string_equal(old, "issued");
	free(old);
	int64_t exp;
	void *val;
	size_t vlen;
	assert_int_equal(store_get(f->s, NS_CODE, "c", 1, &val, &vlen, &exp), STORE_OK);
	assert_string_equal(val, "redeemed");
	assert_int_equal(exp, T0 + 120);
	free(val);

	old = NULL;
	assert_int_equal(store_swap(f->s, NS_CODE, "missing", 7, "x", 1, 0, &old, &oldlen),
	                 STORE_NOTFOUND);
	assert_null(old);
	expect(f->s, NS_CODE, "missing", NULL);
	assert_int_equal(store_count(f->s, NS_CODE), 1);
}

static void test_del(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_KEYS, "kid", "key", 0), STORE_OK);
	assert_int_equal(store_del(f->s, NS_KEYS, "kid", 3), STORE_OK);
	expect(f->s, NS_KEYS, "kid", NULL);
	assert_int_equal(store_del(f->s, NS_KEYS, "kid", 3), STORE_NOTFOUND);
	assert_int_equal(store_count(f->s, NS_KEYS), 0);
}

static int iter_collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                        int64_t expires)
{
	char *out = arg;
	(void)val, (void)vlen, (void)expires;
	strncat(out, key, klen);
	return strncmp(key, "c", klen) == 0 ? 42 : 0;
}

static void test_iter(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_AUDIT, "b", "2", 0), STORE_OK);
	assert_int_equal(put_s(f->s, NS_AUDIT, "a", "1", 0), STORE_OK);
	assert_int_equal(put_s(f->s, NS_AUDIT, "x", "expiring", 5), STORE_OK);
	assert_int_equal(put_s(f->s, NS_AUDIT, "d", "4", 0), STORE_OK);
	fake_now = T0 + 5;
	char seen[16] = "";
	assert_int_equal(store_iter(f->s, NS_AUDIT, iter_collect, seen), 0);
	assert_string_equal(seen, "abd"); /* key order, expired skipped */
	assert_int_equal(put_s(f->s, NS_AUDIT, "c", "3", 0), STORE_OK);
	seen[0] = '\0';
	assert_int_equal(store_iter(f->s, NS_AUDIT, iter_collect, seen), 42);
	assert_string_equal(seen, "abc");
}

/* ---- batches ---- */

static void test_batch_all_or_nothing(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_CODE, "taken", "live", 60), STORE_OK);
	assert_int_equal(put_s(f->s, NS_CODE, "keep", "still", 0), STORE_OK);

	store_batch *b = store_batch_new();
	assert_non_null(b);
	store_batch_put(b, NS_CODE, "a", 1, "A", 1, 0);
	store_batch_del(b, NS_CODE, "keep", 4);
	store_batch_put_new(b, NS_CODE, "taken", 5, "mine", 4, 60);
	store_batch_put(b, NS_JOURNEY, "j", 1, "J", 1, 0);
	assert_int_equal(store_batch_commit(f->s, b), STORE_EXISTS);
	expect(f->s, NS_CODE, "a", NULL);
	expect(f->s, NS_CODE, "keep", "still");
	expect(f->s, NS_CODE, "taken", "live");
	expect(f->s, NS_JOURNEY, "j", NULL);

	/* the same batch once the conflicting record has expired: all applied */
	fake_now = T0 + 60;
	b = store_batch_new();
	store_batch_put(b, NS_CODE, "a", 1, "A", 1, 0);
	store_batch_del(b, NS_CODE, "keep", 4);
	store_batch_del(b, NS_CODE, "absent", 6); /* not an error */
	store_batch_put_new(b, NS_CODE, "taken", 5, "mine", 4, 60);
	store_batch_put(b, NS_JOURNEY, "j", 1, "J", 1, 0);
	assert_int_equal(store_batch_commit(f->s, b), STORE_OK);
	expect(f->s, NS_CODE, "a", "A");
	expect(f->s, NS_CODE, "keep", NULL);
	expect(f->s, NS_CODE, "taken", "mine");
	expect(f->s, NS_JOURNEY, "j", "J");

	/* an empty batch commits; an unused one is freed */
	assert_int_equal(store_batch_commit(f->s, store_batch_new()), STORE_OK);
	b = store_batch_new();
	store_batch_put(b, NS_CODE, "z", 1, "Z", 1, 0);
	store_batch_free(b);
	expect(f->s, NS_CODE, "z", NULL);
}

static void test_batch_mixed_envs(void **state)
{
	struct fx *f = *state;
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_CODE, "c", 1, "volatile", 8, 0);
	store_batch_put(b, NS_PAIRWISE, "p", 1, "durable", 7, 0);
	assert_int_equal(store_batch_commit(f->s, b), STORE_ERR);
	expect(f->s, NS_CODE, "c", NULL);
	expect(f->s, NS_PAIRWISE, "p", NULL);

	/* a durable-only batch is fine */
	b = store_batch_new();
	store_batch_put(b, NS_PAIRWISE, "p", 1, "durable", 7, 0);
	store_batch_put(b, NS_PAIRWISE_SUB, "q", 1, "lookup", 6, 0);
	assert_int_equal(store_batch_commit(f->s, b), STORE_OK);
	expect(f->s, NS_PAIRWISE, "p", "durable");
	expect(f->s, NS_PAIRWISE_SUB, "q", "lookup");
}

/* ---- purge ---- */

static void test_purge(void **state)
{
	struct fx *f = *state;
	char k[32];
	for (int i = 0; i < 2500; i++) {
		snprintf(k, sizeof k, "exp%05d", i);
		assert_int_equal(put_s(f->s, NS_REPLAY, k, "x", 10), STORE_OK);
	}
	for (int i = 0; i < 7; i++) {
		snprintf(k, sizeof k, "live%d", i);
		assert_int_equal(put_s(f->s, NS_REPLAY, k, "y", i % 2 ? 0 : 100), STORE_OK);
	}
	assert_int_equal(put_s(f->s, NS_AUDIT, "old", "a", 10), STORE_OK);
	assert_int_equal(put_s(f->s, NS_AUDIT, "new", "b", 0), STORE_OK);
	assert_int_equal(store_count(f->s, NS_REPLAY), 2507);

	assert_int_equal(store_purge_expired(f->s, T0 + 9, 1L << 30), 0); /* nothing expired yet */
	fake_now = T0 + 10;
	assert_int_equal(store_purge_expired(f->s, T0 + 10, 1200), 1200); /* max respected */
	assert_int_equal(store_count(f->s, NS_REPLAY), 1307);
	assert_int_equal(store_purge_expired(f->s, T0 + 10, 1L << 30), 1301);
	assert_int_equal(store_count(f->s, NS_REPLAY), 7);
	assert_int_equal(store_count(f->s, NS_AUDIT), 1);
	expect(f->s, NS_AUDIT, "new", "b");
	for (int i = 0; i < 7; i++) {
		snprintf(k, sizeof k, "live%d", i);
		expect(f->s, NS_REPLAY, k, "y");
	}
	assert_int_equal(store_purge_expired(f->s, T0 + 10, 1L << 30), 0);
}

static void test_purger_thread(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_REVOKED, "jti", "", 5), STORE_OK);
	assert_int_equal(put_s(f->s, NS_REVOKED, "keep", "", 0), STORE_OK);
	assert_int_equal(store_start_purger(f->s, 1), STORE_OK);
	assert_int_equal(store_start_purger(f->s, 1), STORE_ERR); /* one purger */
	fake_now = T0 + 5;
	long n = 0;
	for (int i = 0; i < 50 && (n = store_count(f->s, NS_REVOKED)) != 1; i++)
		usleep(100 * 1000);
	assert_int_equal(n, 1);
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	store_close(f->s); /* prompt even though the purger sleeps */
	f->s = NULL;
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms < 500);
}

/* ---- persistence and restarts ---- */

static void test_persistence(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_unclean_floor(f->s), 0);
	assert_int_equal(put_s(f->s, NS_PAIRWISE, "p", "durable", 0), STORE_OK);
	assert_int_equal(put_s(f->s, NS_JOURNEY, "j", "volatile", 3600), STORE_OK);
	assert_true(store_disk_bytes(f->s) > 0);
	fx_reopen(f);
	assert_int_equal(store_unclean_floor(f->s), 0);
	expect(f->s, NS_PAIRWISE, "p", "durable");
	expect(f->s, NS_JOURNEY, "j", "volatile");
}

static void test_unclean_restart(void **state)
{
	struct fx *f = *state;
	store_close(f->s); /* the child must be the only opener */
	f->s = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		store *s = store_open(f->dir, 16, NULL);
		int ok = s && put_s(s, NS_CODE, "c", "volatile", 0) == STORE_OK &&
		         put_s(s, NS_PAIRWISE, "p", "durable", 0) == STORE_OK;
		_exit(ok ? 0 : 1); /* a crash: no store_close */
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	char marker[200];
	snprintf(marker, sizeof marker, "%s/volatile/RUNNING", f->dir);
	assert_int_equal(access(marker, F_OK), 0);
	int64_t before = time(NULL);
	f->s = fx_open(f, 16);
	assert_true(store_unclean_floor(f->s) >= before);
	expect(f->s, NS_CODE, "c", NULL);
	expect(f->s, NS_PAIRWISE, "p", "durable");
	assert_int_equal(store_count(f->s, NS_CODE), 0);
	/* the fresh volatile environment works */
	assert_int_equal(put_s(f->s, NS_CODE, "c2", "v", 0), STORE_OK);

	fx_reopen(f); /* a clean stop this time */
	assert_int_equal(store_unclean_floor(f->s), 0);
	expect(f->s, NS_CODE, "c2", "v");
}

/* A second process (idhubctl) opening and closing the store must neither wipe nor mark clean the
 * volatile environment of a running first process. */
static void test_second_opener(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_CODE, "c", "live", 0), STORE_OK);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		store *s = store_open(f->dir, 16, NULL);
		int ok = s && store_unclean_floor(s) == 0 &&
		         store_get(s, NS_CODE, "c", 1, NULL, NULL, NULL) == STORE_OK;
		store_close(s);
		_exit(ok ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char marker[200];
	snprintf(marker, sizeof marker, "%s/volatile/RUNNING", f->dir);
	assert_int_equal(access(marker, F_OK), 0); /* we still run */
	expect(f->s, NS_CODE, "c", "live");
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(access(marker, F_OK), -1);
	f->s = fx_open(f, 16);
	assert_int_equal(store_unclean_floor(f->s), 0);
	expect(f->s, NS_CODE, "c", "live");
}

static void expect_mode(const char *dir, const char *name, mode_t want)
{
	char p[256];
	snprintf(p, sizeof p, "%s%s", dir, name);
	struct stat st;
	if (stat(p, &st) != 0)
		fail_msg("stat %s: %s", p, strerror(errno));
	if ((st.st_mode & 07777) != want)
		fail_msg("%s has mode %o, want %o", p, (unsigned)(st.st_mode & 07777),
		         (unsigned)want);
}

static void test_file_modes(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_CODE, "c", "v", 0), STORE_OK);
	expect_mode(f->dir, "", 0700);
	expect_mode(f->dir, "/durable", 0700);
	expect_mode(f->dir, "/volatile", 0700);
	expect_mode(f->dir, "/durable/data.mdb", 0600);
	expect_mode(f->dir, "/durable/lock.mdb", 0600);
	expect_mode(f->dir, "/volatile/data.mdb", 0600);
	expect_mode(f->dir, "/volatile/lock.mdb", 0600);
	expect_mode(f->dir, "/volatile/RUNNING", 0600);
}

/* ---- concurrency ---- */

enum { TAKE_KEYS = 200, TAKE_THREADS = 4 };

struct take_arg {
	store *s;
	_Atomic int *taken;
	int errors;
};

static void *take_worker(void *p)
{
	struct take_arg *a = p;
	for (int i = 0; i < TAKE_KEYS; i++) {
		char k[16];
		snprintf(k, sizeof k, "code%03d", i);
		void *val = NULL;
		size_t vlen;
		int rc = store_take(a->s, NS_CODE, k, strlen(k), &val, &vlen);
		if (rc == STORE_OK) {
			if (vlen != strlen(k) || strcmp(val, k) != 0)
				a->errors++;
			atomic_fetch_add(&a->taken[i], 1);
			free(val);
		} else if (rc != STORE_NOTFOUND) {
			a->errors++;
		}
	}
	return NULL;
}

static void test_concurrent_take(void **state)
{
	struct fx *f = *state;
	for (int i = 0; i < TAKE_KEYS; i++) {
		char k[16];
		snprintf(k, sizeof k, "code%03d", i);
		assert_int_equal(put_s(f->s, NS_CODE, k, k, 60), STORE_OK);
	}
	static _Atomic int taken[TAKE_KEYS];
	for (int i = 0; i < TAKE_KEYS; i++)
		taken[i] = 0;
	pthread_t th[TAKE_THREADS];
	struct take_arg args[TAKE_THREADS];
	for (int t = 0; t < TAKE_THREADS; t++) {
		args[t] = (struct take_arg){.s = f->s, .taken = taken};
		assert_int_equal(pthread_create(&th[t], NULL, take_worker, &args[t]), 0);
	}
	for (int t = 0; t < TAKE_THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(args[t].errors, 0);
	}
	for (int i = 0; i < TAKE_KEYS; i++)
		assert_int_equal(taken[i], 1);
	assert_int_equal(store_count(f->s, NS_CODE), 0);
}

/* ---- a full map ---- */

static void test_map_full(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	f->s = NULL;
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	f->s = fx_open(f, 1);

	char val[4000];
	memset(val, 'v', sizeof val);
	char k[32];
	int n = 0, rc = STORE_OK;
	for (; n < 10000; n++) {
		snprintf(k, sizeof k, "key%05d", n);
		rc = store_put(f->s, NS_PAIRWISE, k, strlen(k), val, sizeof val, 0);
		if (rc != STORE_OK)
			break;
	}
	assert_int_equal(rc, STORE_FULL);
	assert_true(n > 10);
	assert_int_equal(store_count(f->s, NS_PAIRWISE), n);
	/* the failed key was not half-written, the earlier ones are intact */
	snprintf(k, sizeof k, "key%05d", n);
	expect(f->s, NS_PAIRWISE, k, NULL);
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof k, "key%05d", i);
		void *got;
		size_t glen;
		assert_int_equal(store_get(f->s, NS_PAIRWISE, k, strlen(k), &got, &glen, NULL),
		                 STORE_OK);
		assert_int_equal(glen, sizeof val);
		assert_memory_equal(got, val, sizeof val);
		free(got);
	}
	/* a batch that does not fit fails whole */
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_KEYS, "small", 5, "s", 1, 0);
	for (int i = 0; i < 50; i++) {
		snprintf(k, sizeof k, "batch%02d", i);
		store_batch_put(b, NS_KEYS, k, strlen(k), val, sizeof val, 0);
	}
	assert_int_equal(store_batch_commit(f->s, b), STORE_FULL);
	expect(f->s, NS_KEYS, "small", NULL);
	/* the store still works after deletes */
	for (int i = 0; i < n / 2; i++) {
		snprintf(k, sizeof k, "key%05d", i);
		assert_int_equal(store_del(f->s, NS_PAIRWISE, k, strlen(k)), STORE_OK);
	}
	assert_int_equal(put_s(f->s, NS_KEYS, "small", "s", 0), STORE_OK);
	expect(f->s, NS_KEYS, "small", "s");
}

/* ---- races (every backend) ---- */

enum { RACE_KEYS = 40, RACE_THREADS = 6, RACE_PROCS = 4 };

struct race_arg {
	store *s;
	int id;
	_Atomic int *wins; /* per key */
	int errors;
};

static void *put_new_worker(void *p)
{
	struct race_arg *a = p;
	char k[16], v[16];
	snprintf(v, sizeof v, "w%d", a->id);
	for (int i = 0; i < RACE_KEYS; i++) {
		snprintf(k, sizeof k, "race%03d", i);
		int rc = put_new_s(a->s, NS_REPLAY, k, v, 60);
		if (rc == STORE_OK)
			atomic_fetch_add(&a->wins[i], 1);
		else if (rc != STORE_EXISTS)
			a->errors++;
	}
	return NULL;
}

/* put_new from several threads at once: exactly one winner per key, and its value stays. */
static void test_put_new_race_threads(void **state)
{
	struct fx *f = *state;
	static _Atomic int wins[RACE_KEYS];
	for (int i = 0; i < RACE_KEYS; i++)
		wins[i] = 0;
	pthread_t th[RACE_THREADS];
	struct race_arg args[RACE_THREADS];
	for (int t = 0; t < RACE_THREADS; t++) {
		args[t] = (struct race_arg){.s = f->s, .id = t, .wins = wins};
		assert_int_equal(pthread_create(&th[t], NULL, put_new_worker, &args[t]), 0);
	}
	for (int t = 0; t < RACE_THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(args[t].errors, 0);
	}
	for (int i = 0; i < RACE_KEYS; i++)
		assert_int_equal(wins[i], 1);
	assert_int_equal(store_count(f->s, NS_REPLAY), RACE_KEYS);
}

/* put_new from several processes, each with its own store handle: exactly one winner per key. */
static void test_put_new_race_processes(void **state)
{
	struct fx *f = *state;
	pid_t pids[RACE_PROCS];
	for (int p = 0; p < RACE_PROCS; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			store *s = open_any(f->dir, 16, NULL);
			int won = 0;
			char k[16], v[16];
			snprintf(v, sizeof v, "p%d", p);
			for (int i = 0; s && i < RACE_KEYS; i++) {
				snprintf(k, sizeof k, "race%03d", i);
				int rc = put_new_s(s, NS_REPLAY, k, v, 60);
				if (rc == STORE_OK)
					won++;
				else if (rc != STORE_EXISTS)
					_exit(255);
			}
			store_close(s);
			_exit(s ? won : 255);
		}
	}
	int total = 0;
	for (int p = 0; p < RACE_PROCS; p++) {
		int st;
		assert_int_equal(waitpid(pids[p], &st, 0), pids[p]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 255);
		total += WEXITSTATUS(st);
	}
	assert_int_equal(total, RACE_KEYS);
	assert_int_equal(store_count(f->s, NS_REPLAY), RACE_KEYS);
}

enum { SWAPS = 60 };

struct swap_arg {
	store *s;
	int id;
	char (*olds)[32]; /* SWAPS per thread */
	int errors;
};

static void *swap_worker(void *p)
{
	struct swap_arg *a = p;
	for (int i = 0; i < SWAPS; i++) {
		char v[16];
		snprintf(v, sizeof v, "t%d-%03d", a->id, i);
		void *old = NULL;
		size_t oldlen;
		if (store_swap(a->s, NS_CODE, "ctr", 3, v, strlen(v), 60, &old, &oldlen) !=
		        STORE_OK ||
		    oldlen >= 32) {
			a->errors++;
			free(old);
			continue;
		}
		memcpy(a->olds[a->id * SWAPS + i], old, oldlen + 1);
		free(old);
	}
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Concurrent swaps: every value written is returned as the old value of exactly one later swap
 * (or is the final value), and the first value once: none lost, none seen twice. */
static void test_swap_atomic(void **state)
{
	struct fx *f = *state;
	enum { N = 4 };
	assert_int_equal(put_s(f->s, NS_CODE, "ctr", "start", 60), STORE_OK);
	static char olds[N * SWAPS + 1][32];
	memset(olds, 0, sizeof olds);
	pthread_t th[N];
	struct swap_arg args[N];
	for (int t = 0; t < N; t++) {
		args[t] = (struct swap_arg){.s = f->s, .id = t, .olds = olds};
		assert_int_equal(pthread_create(&th[t], NULL, swap_worker, &args[t]), 0);
	}
	for (int t = 0; t < N; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(args[t].errors, 0);
	}
	void *fin;
	size_t flen;
	assert_int_equal(store_get(f->s, NS_CODE, "ctr", 3, &fin, &flen, NULL), STORE_OK);
	memcpy(olds[N * SWAPS], fin, flen + 1);
	free(fin);
	/* olds plus the final value must be exactly "start" and every value written */
	static char want[N * SWAPS + 1][32];
	strcpy(want[0], "start");
	for (int t = 0; t < N; t++)
		for (int i = 0; i < SWAPS; i++)
			snprintf(want[1 + t * SWAPS + i], 32, "t%d-%03d", t, i);
	qsort(olds, N * SWAPS + 1, 32, cmp_str);
	qsort(want, N * SWAPS + 1, 32, cmp_str);
	for (int i = 0; i < N * SWAPS + 1; i++)
		assert_string_equal(olds[i], want[i]);
}

enum { SNAP_KEYS = 30, SNAP_ROUNDS = 30 };

static _Atomic int snap_stop;

/* Rewrites every key to one letter per batch, alternating. */
static void *snap_writer(void *p)
{
	store *s = p;
	for (int round = 0; round < 4 * SNAP_ROUNDS && !snap_stop; round++) {
		store_batch *b = store_batch_new();
		char k[16], v[2] = {(char)('A' + round % 2), 0};
		for (int i = 0; i < SNAP_KEYS; i++) {
			snprintf(k, sizeof k, "snap%02d", i);
			store_batch_put(b, NS_AUDIT, k, strlen(k), v, 1, 0);
		}
		if (store_batch_commit(s, b) != STORE_OK)
			return (void *)1;
	}
	return NULL;
}

struct snap_seen {
	char first;
	int n, mixed;
};

static int snap_check(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                      int64_t expires)
{
	struct snap_seen *ss = arg;
	(void)key, (void)klen, (void)expires;
	char c = vlen == 1 ? *(const char *)val : '?';
	if (ss->n++ == 0)
		ss->first = c;
	else if (c != ss->first)
		ss->mixed++;
	return 0;
}

/* Batches are atomic and an iteration is one snapshot: while a writer rewrites every key in one
 * batch after another, each iteration sees all the keys, all with the same value. */
static void test_batch_iter_snapshot(void **state)
{
	struct fx *f = *state;
	char k[16];
	for (int i = 0; i < SNAP_KEYS; i++) {
		snprintf(k, sizeof k, "snap%02d", i);
		assert_int_equal(put_s(f->s, NS_AUDIT, k, "B", 0), STORE_OK);
	}
	snap_stop = 0;
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, snap_writer, f->s), 0);
	for (int r = 0; r < SNAP_ROUNDS; r++) {
		struct snap_seen ss = {0};
		assert_int_equal(store_iter(f->s, NS_AUDIT, snap_check, &ss), 0);
		assert_int_equal(ss.n, SNAP_KEYS);
		assert_int_equal(ss.mixed, 0);
	}
	snap_stop = 1;
	void *wrc;
	pthread_join(th, &wrc);
	assert_null(wrc);
}

/* ---- PostgreSQL's own: a crash, an outage ---- */

/* Retries a read until the store answers again (bounded), returning its last code. */
static int get_until_answered(store *s, store_ns ns, const char *k)
{
	int rc = STORE_ERR;
	for (int i = 0; i < 40 && rc == STORE_ERR; i++) {
		rc = store_get(s, ns, k, strlen(k), NULL, NULL, NULL);
		if (rc == STORE_ERR)
			usleep(100 * 1000);
	}
	return rc;
}

/* A crash of the server (immediate stop) empties the UNLOGGED volatile table: the store notices
 * it on reconnecting and raises the unclean floor; durable records survive; a new opener of the
 * same database sees the raised floor's reason too (the marker was recreated, so its own floor
 * stays 0 — it never saw the records that were lost). */
static void test_pg_crash_floor(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_unclean_floor(f->s), 0);
	assert_int_equal(put_s(f->s, NS_CODE, "c", "volatile", 0), STORE_OK);
	assert_int_equal(put_s(f->s, NS_PAIRWISE, "p", "durable", 0), STORE_OK);
	int64_t before = time(NULL);
	assert_int_equal(pg_cluster("crash"), 0);
	assert_int_equal(get_until_answered(f->s, NS_PAIRWISE, "p"), STORE_OK);
	assert_true(store_unclean_floor(f->s) >= before);
	expect(f->s, NS_CODE, "c", NULL);
	expect(f->s, NS_PAIRWISE, "p", "durable");
	assert_int_equal(put_s(f->s, NS_CODE, "c2", "v", 0), STORE_OK);
	expect(f->s, NS_CODE, "c2", "v");
}

static int64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* While the database is down every verb fails with STORE_ERR, quickly (the bound: no
 * verb hangs; here each must answer within 3 s, the connect timeout being 2 s), nothing is
 * half-written, and the same store works again once the database is back, without reopening. */
static void test_pg_unreachable(void **state)
{
	struct fx *f = *state;
	assert_int_equal(put_s(f->s, NS_KEYS, "k", "before", 0), STORE_OK);
	assert_int_equal(pg_cluster("kill"), 0);
	for (int i = 0; i < 5; i++) {
		int64_t t0 = mono_ms();
		assert_int_equal(put_s(f->s, NS_KEYS, "k", "during", 0), STORE_ERR);
		assert_int_equal(store_get(f->s, NS_KEYS, "k", 1, NULL, NULL, NULL), STORE_ERR);
		store_batch *b = store_batch_new();
		store_batch_put(b, NS_KEYS, "a", 1, "x", 1, 0);
		store_batch_put(b, NS_KEYS, "b", 1, "y", 1, 0);
		assert_int_equal(store_batch_commit(f->s, b), STORE_ERR);
		assert_true(mono_ms() - t0 < 3000);
	}
	assert_int_equal(pg_cluster("start"), 0);
	assert_int_equal(get_until_answered(f->s, NS_KEYS, "k"), STORE_OK);
	expect(f->s, NS_KEYS, "k", "before");
	expect(f->s, NS_KEYS, "a", NULL);
	assert_int_equal(put_s(f->s, NS_KEYS, "k", "after", 0), STORE_OK);
	expect(f->s, NS_KEYS, "k", "after");
}

/* The change feed: a key written through another handle (another node, idhubctl) changes this
 * handle's change counter within a second (the bound); a pairwise record does not. */
static void test_pg_change_feed(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_change_epoch(f->s), 0); /* no feed yet */
	assert_int_equal(store_watch(f->s), STORE_OK);
	assert_int_equal(store_watch(f->s), STORE_ERR); /* one feed */
	store *other = open_any(f->dir, 16, NULL);
	assert_non_null(other);
	uint64_t e0 = 0, e1;
	/* wait for the feed to be connected and quiet */
	for (int i = 0; i < 50; i++) {
		usleep(50 * 1000);
		e1 = store_change_epoch(f->s);
		if (e1 == e0)
			break;
		e0 = e1;
	}
	assert_int_equal(put_s(other, NS_PAIRWISE, "p", "v", 0), STORE_OK);
	usleep(300 * 1000);
	assert_int_equal(store_change_epoch(f->s), e0);
	int64_t t0 = mono_ms();
	assert_int_equal(put_s(other, NS_KEYS, "kid", "key", 0), STORE_OK);
	while (store_change_epoch(f->s) == e0 && mono_ms() - t0 < 1000)
		usleep(10 * 1000);
	assert_int_not_equal(store_change_epoch(f->s), e0);
	store_close(other);
}

/* ---- store_append: dense sequence numbers ---- */

enum { APPEND_WRITERS = 3, APPEND_EACH = 40 };

static void *append_worker(void *p)
{
	store *s = p;
	long bad = 0;
	for (int i = 0; i < APPEND_EACH; i++)
		if (store_append(s, NS_AUDIT, "rec", 3))
			bad++;
	return (void *)bad;
}

struct seq_check {
	uint64_t next;
	int bad;
};

static int seq_fn(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                  int64_t expires)
{
	(void)val, (void)vlen, (void)expires;
	struct seq_check *c = arg;
	uint64_t k = 0;
	for (size_t i = 0; i < klen; i++)
		k = k << 8 | ((const unsigned char *)key)[i];
	if (klen != 8 || k != c->next)
		c->bad++;
	c->next++;
	return 0;
}

/* Appends from threads of this process and from another process at once: the keys are 0..N-1,
 * with no gap and no duplicate (the audit log's Merkle tree numbers records by them). */
static void test_append_dense(void **state)
{
	struct fx *f = *state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		store *s = open_any(f->dir, 16, NULL);
		long bad = s ? (long)append_worker(s) : 1;
		if (s)
			store_close(s);
		_exit(bad ? 1 : 0);
	}
	pthread_t th[APPEND_WRITERS];
	for (int t = 0; t < APPEND_WRITERS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, append_worker, f->s), 0);
	for (int t = 0; t < APPEND_WRITERS; t++) {
		void *bad;
		pthread_join(th[t], &bad);
		assert_null(bad);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	struct seq_check c = {0};
	assert_int_equal(store_iter(f->s, NS_AUDIT, seq_fn, &c), 0);
	assert_int_equal(c.bad, 0);
	assert_int_equal(c.next, (APPEND_WRITERS + 1) * APPEND_EACH);
}

/* ---- the groups ---- */

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define CONFORMANCE                                                                                \
	T(test_put_get_roundtrip), T(test_get_missing), T(test_bad_arguments), T(test_ttl_expiry), \
	    T(test_put_new_twice), T(test_take_once), T(test_swap), T(test_del), T(test_iter),     \
	    T(test_batch_all_or_nothing), T(test_batch_mixed_envs), T(test_purge),                 \
	    T(test_purger_thread), T(test_persistence), T(test_concurrent_take),                   \
	    T(test_put_new_race_threads), T(test_put_new_race_processes), T(test_swap_atomic),     \
	    T(test_batch_iter_snapshot), T(test_append_dense)

int main(void)
{
	const struct CMUnitTest lmdb_tests[] = {
	    CONFORMANCE,        T(test_unclean_restart), T(test_second_opener),
	    T(test_file_modes), T(test_map_full),
	};
	const struct CMUnitTest pg_tests[] = {
	    CONFORMANCE,
	    T(test_pg_crash_floor),
	    T(test_pg_unreachable),
	    T(test_pg_change_feed),
	};
	int rc = cmocka_run_group_tests_name("store conformance: lmdb", lmdb_tests, NULL, NULL);
	if (!pg_available()) {
		printf("store conformance: postgresql skipped (PostgreSQL 15 is not installed: "
		       "deploy/install-deps.sh --with-tests)\n");
		return rc;
	}
	rc += cmocka_run_group_tests_name("store conformance: postgresql", pg_tests, pg_group_setup,
	                                  pg_group_teardown);
	return rc;
}
