/* test_pairwise.c — unit tests of pairwise subject derivation (broker/pairwise/pairwise.c) over a
 * real LMDB store in a temporary directory: secret creation, stability of subs across calls,
 * restarts and a change of derivation key, separation by sector, IdP and subject (and injectivity
 * of the input encoding), operator look-up, absence of the raw upstream subject from the store
 * files, refusal to regenerate lost secrets, the once-a-day last_seen refresh, and memory safety
 * with a long sector.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pairwise/pairwise.h"
#include "store/store.h"
#include "util/b64url.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1700000000
#define DAY 86400
#define IDX "pairwise.index"
#define DRV "pairwise.derive"
#define RAW_SUBJECT "upstream-subject-XYZZY-1234"

static int64_t fake_now = T0;

static int64_t fake_clock(void)
{
	return fake_now;
}

struct fx {
	char dir[64]; /* the mkdtemp directory, given to store_open */
	store *s;
	pairwise_ctx pw;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static store *open_store(const char *dir)
{
	char *err = NULL;
	store *s = store_open(dir, 64, &err);
	if (!s)
		fprintf(stderr, "store_open: %s\n", err ? err : "?");
	free(err);
	assert_non_null(s);
	store_set_clock(s, fake_clock);
	return s;
}

static void init_ok(struct fx *f)
{
	char *err = NULL;
	int rc = pairwise_init(&f->pw, f->s, &err);
	if (rc)
		fail_msg("pairwise_init: %s", err ? err : "?");
	assert_null(err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	strcpy(f->dir, "/tmp/idhub-test-pairwise-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	fake_now = T0;
	f->s = open_store(f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->s)
		store_close(f->s);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	store_close(f->s);
	f->s = open_store(f->dir);
}

/* The stored secret name (32 bytes expected), or NULL when absent. Caller frees. */
static unsigned char *get_secret(store *s, const char *name, size_t *n)
{
	void *v = NULL;
	int rc = store_get(s, NS_SECRETS, name, strlen(name), &v, n, NULL);
	if (rc == STORE_NOTFOUND)
		return NULL;
	assert_int_equal(rc, STORE_OK);
	return v;
}

static void sub_ok(struct fx *f, const char *sector, const char *idp, const char *subject,
                   char out[44])
{
	memset(out, 'X', 44);
	assert_int_equal(pairwise_sub(&f->pw, f->s, sector, idp, subject, fake_now, out), STORE_OK);
}

static void assert_sub_shape(const char *sub)
{
	assert_int_equal(strlen(sub), 43);
	unsigned char d[44];
	assert_int_equal(b64url_decode(d, sub, 43), 32);
}

static void test_init_creates_secrets(void **state)
{
	struct fx *f = *state;
	size_t n;
	assert_null(get_secret(f->s, IDX, &n));
	assert_null(get_secret(f->s, DRV, &n));
	init_ok(f);
	unsigned char *ik = get_secret(f->s, IDX, &n);
	assert_non_null(ik);
	assert_int_equal(n, 32);
	unsigned char *dk = get_secret(f->s, DRV, &n);
	assert_non_null(dk);
	assert_int_equal(n, 32);
	assert_memory_equal(ik, f->pw.index_key, 32);
	assert_memory_equal(dk, f->pw.derive_key, 32);
	assert_memory_not_equal(ik, dk, 32);
	/* a second start loads the same secrets */
	pairwise_ctx first = f->pw;
	memset(&f->pw, 0, sizeof f->pw);
	reopen(f);
	init_ok(f);
	assert_memory_equal(&first, &f->pw, sizeof first);
	free(ik);
	free(dk);
}

static void test_sub_stable(void **state)
{
	struct fx *f = *state;
	init_ok(f);
	char a[44], b[44];
	sub_ok(f, "rp.example", "sandbox", RAW_SUBJECT, a);
	assert_sub_shape(a);
	sub_ok(f, "rp.example", "sandbox", RAW_SUBJECT, b);
	assert_string_equal(a, b);
	/* across a restart */
	reopen(f);
	memset(&f->pw, 0, sizeof f->pw);
	init_ok(f);
	sub_ok(f, "rp.example", "sandbox", RAW_SUBJECT, b);
	assert_string_equal(a, b);
	/* and once recorded, the sub no longer depends on the derivation key */
	f->pw.derive_key[0] ^= 1;
	sub_ok(f, "rp.example", "sandbox", RAW_SUBJECT, b);
	assert_string_equal(a, b);
	/* whereas a new subject gets a sub from the (changed) key: the record is what is read back
	 */
	char c[44];
	sub_ok(f, "rp.example", "sandbox", "another-subject", c);
	assert_sub_shape(c);
	assert_string_not_equal(a, c);
}

static void test_sub_separation(void **state)
{
	struct fx *f = *state;
	init_ok(f);
	char base[44], s2[44], s3[44], s4[44], s5[44], s6[44], s7[44];
	sub_ok(f, "rp.example", "sandbox", "alice", base);
	sub_ok(f, "other.example", "sandbox", "alice", s2);
	sub_ok(f, "rp.example", "saml-gov", "alice", s3);
	sub_ok(f, "rp.example", "sandbox", "alice2", s4);
	assert_string_not_equal(base, s2);
	assert_string_not_equal(base, s3);
	assert_string_not_equal(base, s4);
	assert_string_not_equal(s2, s3);
	/* the input encoding is injective: moving a boundary gives another sub */
	sub_ok(f, "ab", "c", "u", s5);
	sub_ok(f, "a", "bc", "u", s6);
	assert_string_not_equal(s5, s6);
	sub_ok(f, "s", "ab", "c", s5);
	sub_ok(f, "s", "a", "bc", s6);
	assert_string_not_equal(s5, s6);
	/* a fresh store (new secrets) gives unrelated subs for the same input */
	char other_dir[64];
	strcpy(other_dir, "/tmp/idhub-test-pairwise-XXXXXX");
	assert_non_null(mkdtemp(other_dir));
	store *o = open_store(other_dir);
	pairwise_ctx opw;
	char *err = NULL;
	assert_int_equal(pairwise_init(&opw, o, &err), 0);
	assert_int_equal(pairwise_sub(&opw, o, "rp.example", "sandbox", "alice", T0, s7), 0);
	assert_string_not_equal(base, s7);
	store_close(o);
	nftw(other_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_lookup(void **state)
{
	struct fx *f = *state;
	init_ok(f);
	char sub[44], sub2[44];
	sub_ok(f, "rp.example", "sandbox", "alice", sub);
	fake_now = T0 + 100;
	sub_ok(f, "other.example", "saml-gov", "alice", sub2);
	pairwise_record rec;
	memset(&rec, 0x55, sizeof rec);
	assert_int_equal(pairwise_lookup(f->s, "rp.example", sub, &rec), STORE_OK);
	assert_string_equal(rec.sub, sub);
	assert_string_equal(rec.idp, "sandbox");
	assert_int_equal(rec.first_seen, T0);
	assert_int_equal(rec.last_seen, T0);
	assert_int_equal(pairwise_lookup(f->s, "other.example", sub2, &rec), STORE_OK);
	assert_string_equal(rec.idp, "saml-gov");
	assert_int_equal(rec.first_seen, T0 + 100);
	/* a sub is only known in its own sector */
	assert_int_equal(pairwise_lookup(f->s, "other.example", sub, &rec), STORE_NOTFOUND);
	assert_int_equal(pairwise_lookup(f->s, "rp.example", sub2, &rec), STORE_NOTFOUND);
	assert_int_equal(pairwise_lookup(f->s, "rp.exampl", sub, &rec), STORE_NOTFOUND);
	assert_int_equal(pairwise_lookup(f->s, "rp.example", "nonexistent", &rec), STORE_NOTFOUND);
	/* the look-up survives a restart */
	reopen(f);
	assert_int_equal(pairwise_lookup(f->s, "rp.example", sub, &rec), STORE_OK);
	assert_string_equal(rec.idp, "sandbox");
}

/* Reads a whole file; returns NULL if it does not exist. */
static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long sz = ftell(fp);
	assert_true(sz >= 0);
	rewind(fp);
	unsigned char *p = malloc((size_t)sz + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)sz, fp), (size_t)sz);
	fclose(fp);
	*n = (size_t)sz;
	return p;
}

static void test_raw_subject_not_stored(void **state)
{
	struct fx *f = *state;
	init_ok(f);
	char sub[44];
	sub_ok(f, "rp.example", "sandbox", RAW_SUBJECT, sub);
	fake_now += 2 * DAY; /* a last_seen refresh rewrites the record */
	sub_ok(f, "rp.example", "sandbox", RAW_SUBJECT, sub);
	store_close(f->s);
	f->s = NULL;
	static const char *const files[] = {"durable/data.mdb", "volatile/data.mdb"};
	int found_sub = 0;
	for (size_t i = 0; i < 2; i++) {
		char path[128];
		snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
		size_t n = 0;
		unsigned char *data = slurp(path, &n);
		if (i == 0)
			assert_non_null(data);
		if (!data)
			continue;
		if (memmem(data, n, RAW_SUBJECT, strlen(RAW_SUBJECT)))
			fail_msg("the raw upstream subject is stored in %s", files[i]);
		/* the search is meaningful: what is stored is found */
		if (memmem(data, n, sub, strlen(sub)))
			found_sub = 1;
		free(data);
	}
	assert_true(found_sub);
}

static void test_lost_secrets_refused(void **state)
{
	struct fx *f = *state;
	init_ok(f);
	char sub[44];
	sub_ok(f, "rp.example", "sandbox", "alice", sub);
	assert_int_equal(store_del(f->s, NS_SECRETS, IDX, strlen(IDX)), STORE_OK);
	assert_int_equal(store_del(f->s, NS_SECRETS, DRV, strlen(DRV)), STORE_OK);
	char *err = NULL;
	pairwise_ctx pw;
	assert_int_equal(pairwise_init(&pw, f->s, &err), -1);
	assert_non_null(err);
	assert_true(strlen(err) > 0);
	free(err);
	size_t n;
	assert_null(get_secret(f->s, IDX, &n));
	assert_null(get_secret(f->s, DRV, &n));
	/* still refused after a restart */
	reopen(f);
	err = NULL;
	assert_int_equal(pairwise_init(&pw, f->s, &err), -1);
	assert_non_null(err);
	free(err);
	assert_null(get_secret(f->s, IDX, &n));
	assert_null(get_secret(f->s, DRV, &n));
}

static void test_one_lost_secret_refused(void **state)
{
	struct fx *f = *state;
	init_ok(f);
	char sub[44];
	sub_ok(f, "rp.example", "sandbox", "alice", sub);
	size_t n;
	unsigned char *dk = get_secret(f->s, DRV, &n);
	assert_non_null(dk);
	assert_int_equal(store_del(f->s, NS_SECRETS, DRV, strlen(DRV)), STORE_OK);
	char *err = NULL;
	pairwise_ctx pw;
	assert_int_equal(pairwise_init(&pw, f->s, &err), -1);
	assert_non_null(err);
	free(err);
	assert_null(get_secret(f->s, DRV, &n));
	/* a damaged (wrong-length) secret is refused as well, and left as it is */
	assert_int_equal(store_put(f->s, NS_SECRETS, DRV, strlen(DRV), dk, 16, 0), STORE_OK);
	err = NULL;
	assert_int_equal(pairwise_init(&pw, f->s, &err), -1);
	assert_non_null(err);
	free(err);
	unsigned char *now = get_secret(f->s, DRV, &n);
	assert_non_null(now);
	assert_int_equal(n, 16);
	free(now);
	free(dk);
}

static void test_last_seen_refresh(void **state)
{
	struct fx *f = *state;
	init_ok(f);
	store_set_clock(f->s, fake_clock);
	char sub[44], again[44];
	pairwise_record rec;
	sub_ok(f, "rp.example", "sandbox", "alice", sub);

	/* an hour later: not refreshed */
	fake_now = T0 + 3600;
	sub_ok(f, "rp.example", "sandbox", "alice", again);
	assert_string_equal(sub, again);
	assert_int_equal(pairwise_lookup(f->s, "rp.example", sub, &rec), STORE_OK);
	assert_int_equal(rec.first_seen, T0);
	assert_int_equal(rec.last_seen, T0);

	/* two days later: refreshed, first_seen kept */
	fake_now = T0 + 2 * DAY;
	sub_ok(f, "rp.example", "sandbox", "alice", again);
	assert_string_equal(sub, again);
	assert_int_equal(pairwise_lookup(f->s, "rp.example", sub, &rec), STORE_OK);
	assert_int_equal(rec.first_seen, T0);
	assert_int_equal(rec.last_seen, T0 + 2 * DAY);

	/* another hour: not refreshed again */
	fake_now = T0 + 2 * DAY + 3600;
	sub_ok(f, "rp.example", "sandbox", "alice", again);
	assert_int_equal(pairwise_lookup(f->s, "rp.example", sub, &rec), STORE_OK);
	assert_int_equal(rec.last_seen, T0 + 2 * DAY);
	assert_int_equal(rec.first_seen, T0);
}

static void test_long_sector_memory_safe(void **state)
{
	/* pairwise_sub must return 0 or a STORE_ error for any sector, never write out of bounds.
	 * Run in a child (with its own store: an LMDB environment must not cross a fork) so that a
	 * sanitizer abort fails this test only. */
	struct fx *f = *state;
	store_close(f->s);
	f->s = NULL;
	static const size_t lens[] = {255, 470, 500, 600};
	for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
		fflush(NULL);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char *err = NULL;
			store *s = store_open(f->dir, 64, &err);
			pairwise_ctx pw;
			if (!s || pairwise_init(&pw, s, &err))
				_exit(3);
			char *sector = malloc(lens[i] + 1);
			memset(sector, 's', lens[i]);
			sector[lens[i]] = 0;
			char out[44];
			int rc = pairwise_sub(&pw, s, sector, "sandbox", "alice", T0, out);
			int ok = rc == 0 ? strlen(out) == 43 : rc < 0;
			free(sector);
			store_close(s);
			_exit(ok ? 0 : 4);
		}
		int status = 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("pairwise_sub with a %zu-byte sector: child %s %d", lens[i],
			         WIFEXITED(status) ? "exited with" : "killed by signal",
			         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_creates_secrets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sub_stable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sub_separation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_raw_subject_not_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lost_secrets_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_lost_secret_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_seen_refresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_sector_memory_safe, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
