/* test_store.c — unit tests of the store interface (broker/store/) on its LMDB backend: the verbs,
 * expiry, batches, purge, persistence, unclean restarts, file modes, concurrency and a full map.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

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

static store *fx_open(struct fx *f, size_t map_mib)
{
	char *err = NULL;
	store *s = store_open(f->dir, map_mib, &err);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_put_get_roundtrip),
	    T(test_get_missing),
	    T(test_bad_arguments),
	    T(test_ttl_expiry),
	    T(test_put_new_twice),
	    T(test_take_once),
	    T(test_swap),
	    T(test_del),
	    T(test_iter),
	    T(test_batch_all_or_nothing),
	    T(test_batch_mixed_envs),
	    T(test_purge),
	    T(test_purger_thread),
	    T(test_persistence),
	    T(test_unclean_restart),
	    T(test_second_opener),
	    T(test_file_modes),
	    T(test_concurrent_take),
	    T(test_map_full),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
