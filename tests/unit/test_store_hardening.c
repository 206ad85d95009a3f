/* test_store_hardening.c — unit tests of the store's defences (issue 9): the volatile budget and
 * its high-water mark, the purge on a full map, stale readers of a killed process, verified
 * backups and restores, audit records that ride with their change, the group commit of deferred
 * writes in synced transactions, and key lifecycle changes committed with their audit record. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/audit.h"
#include "keys/keys.h"
#include "keys/lifecycle.h"
#include "keys/schedule.h"
#include "store/store.h"
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1700000000
static _Atomic int64_t fake_now = T0;
static int64_t fake_clock(void)
{
	return fake_now;
}

struct fx {
	char tmp[64], dir[128], bak[128];
	store *s;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static store *open_at(const char *dir, size_t mib)
{
	char *err = NULL;
	store *s = store_open(dir, mib, &err);
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
	strcpy(f->tmp, "/tmp/idhub-test-storeh-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->dir, sizeof f->dir, "%s/store", f->tmp);
	snprintf(f->bak, sizeof f->bak, "%s/backup", f->tmp);
	fake_now = T0;
	f->s = open_at(f->dir, 1); /* a 1 MiB map: full in a few hundred records */
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

static void reopen(struct fx *f)
{
	store_close(f->s);
	f->s = open_at(f->dir, 1);
}

static int has(store *s, store_ns ns, const char *k)
{
	return store_get(s, ns, k, strlen(k), NULL, NULL, NULL) == STORE_OK;
}

/* A new journey as journey_save_upstream writes it: ~1 KB, budgeted. */
static int new_journey(store *s, int i, int64_t ttl)
{
	char k[32], r[32], v[1024];
	snprintf(k, sizeof k, "journey-%06d", i);
	snprintf(r, sizeof r, "rid-%06d", i);
	memset(v, 'j', sizeof v);
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_JOURNEY, k, strlen(k), v, sizeof v, ttl);
	store_batch_put(b, NS_USTATE, r, strlen(r), k, strlen(k), ttl);
	store_batch_budgeted(b);
	return store_batch_commit(s, b);
}

/* ---- item 1: the budget ---- */

static void test_budget_refuses_new_journeys_above_mark(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_set_high_water(f->s, 50), STORE_OK);
	assert_int_equal(store_set_high_water(f->s, 86), STORE_ERR);
	int n = 0, rc = STORE_OK;
	while (n < 5000 && (rc = new_journey(f->s, n, 60)) == STORE_OK)
		n++;
	assert_int_equal(rc, STORE_BUSY);
	assert_true(n > 50);
	assert_true(store_volatile_fill(f->s) >= 50);
	assert_true(store_volatile_fill(f->s) < 60);
	/* the refused journey wrote nothing */
	assert_false(has(f->s, NS_JOURNEY, "journey-000000") == 0);
	char k[32];
	snprintf(k, sizeof k, "rid-%06d", n);
	assert_false(has(f->s, NS_USTATE, k));
	/* journeys under way go on: their codes (unbudgeted) use the headroom ... */
	for (int i = 0; i < 20; i++) {
		snprintf(k, sizeof k, "code-%d", i);
		assert_int_equal(store_put(f->s, NS_CODE, k, strlen(k), "c", 1, 60), STORE_OK);
	}
	/* ... and a budgeted rewrite of a live journey is not a new one */
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_JOURNEY, "journey-000001", 14, "spent", 5, 60);
	store_batch_budgeted(b);
	assert_int_equal(store_batch_commit(f->s, b), STORE_OK);
	/* the store recovers by itself once the flood's records expire */
	fake_now += 61;
	assert_true(store_purge_expired(f->s, fake_now, 1000000) >= 2 * n);
	assert_true(store_volatile_fill(f->s) < 50);
	assert_int_equal(new_journey(f->s, 999999, 60), STORE_OK);
}

static void test_purge_runs_on_a_full_map(void **state)
{
	struct fx *f = *state;
	char k[32], v[600];
	memset(v, 'x', sizeof v);
	int n = 0, rc = STORE_OK;
	/* unbudgeted writes fill the map up to its reserve */
	for (; n < 20000; n++) {
		snprintf(k, sizeof k, "%08x", (unsigned)n * 2654435761u); /* scattered keys */
		if ((rc = store_put(f->s, NS_REPLAY, k, strlen(k), v, sizeof v, 10)) != STORE_OK)
			break;
	}
	assert_int_equal(rc, STORE_FULL);
	assert_true(store_volatile_fill(f->s) >= 89);
	fake_now += 11;
	/* deleting needs free pages: the reserve keeps some, and the purge shrinks its
	 * transactions until they fit */
	assert_int_equal(store_purge_expired(f->s, fake_now, 1000000), n);
	assert_int_equal(store_count(f->s, NS_REPLAY), 0);
	assert_int_equal(store_put(f->s, NS_REPLAY, "after", 5, v, sizeof v, 10), STORE_OK);
	/* and after a clean restart */
	reopen(f);
	assert_true(has(f->s, NS_REPLAY, "after"));
}

/* ---- item 3: stale readers ---- */

static int die_reading(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                       int64_t expires)
{
	(void)arg, (void)key, (void)klen, (void)val, (void)vlen, (void)expires;
	raise(SIGKILL); /* killed in the middle of a read transaction, as a killed backup is */
	return 0;
}

static void test_stale_reader_of_a_killed_process_is_freed(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_put(f->s, NS_KEYS, "k", 1, "v", 1, 0), STORE_OK);
	assert_int_equal(store_reader_check(f->s), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *err = NULL;
		store *s = store_open(f->dir, 1, &err);
		if (s)
			store_iter(s, NS_KEYS, die_reading, NULL);
		_exit(3);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(store_reader_check(f->s), 1); /* the dead reader's slot */
	assert_int_equal(store_reader_check(f->s), 0);
}

/* ---- item 4: backups ---- */

static void backup_ok(struct fx *f)
{
	char *err = NULL;
	assert_int_equal(store_put(f->s, NS_KEYS, "before", 6, "b", 1, 0), STORE_OK);
	int rc = store_backup(f->s, f->bak, &err);
	if (rc)
		fprintf(stderr, "backup: %s\n", err);
	free(err);
	assert_int_equal(rc, STORE_OK);
	/* written after the backup: must survive every refused restore */
	assert_int_equal(store_put(f->s, NS_KEYS, "after", 5, "a", 1, 0), STORE_OK);
	store_close(f->s);
	f->s = NULL;
}

static char *bak_path(struct fx *f, const char *name)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", f->bak, name);
	return p;
}

static void expect_refused(struct fx *f, const char *why)
{
	char *err = NULL;
	assert_int_equal(store_restore(f->dir, f->bak, &err), STORE_ERR);
	assert_non_null(err);
	if (!strstr(err, why))
		fprintf(stderr, "expected '%s' in: %s\n", why, err);
	assert_non_null(strstr(err, why));
	free(err);
	f->s = open_at(f->dir, 1); /* the current store, untouched */
	assert_true(has(f->s, NS_KEYS, "after"));
}

static void test_backup_has_a_manifest_and_restores(void **state)
{
	struct fx *f = *state;
	backup_ok(f);
	FILE *m = fopen(bak_path(f, "MANIFEST"), "r");
	assert_non_null(m);
	char line[256] = "";
	assert_non_null(fgets(line, sizeof line, m));
	fclose(m);
	assert_int_equal(strncmp(line, "idhub-store lmdb 1 ", 19), 0);
	struct stat st;
	assert_int_equal(stat(bak_path(f, "data.mdb"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_not_equal(stat(bak_path(f, "data.mdb.tmp"), &st), 0);
	char *err = NULL;
	assert_int_equal(store_restore(f->dir, f->bak, &err), STORE_OK);
	free(err);
	f->s = open_at(f->dir, 1);
	assert_true(has(f->s, NS_KEYS, "before"));
	assert_false(has(f->s, NS_KEYS, "after"));
	/* a second backup into the same directory is refused, the first one kept */
	err = NULL;
	assert_int_equal(store_backup(f->s, f->bak, &err), STORE_ERR);
	free(err);
}

static void test_restore_refuses_truncated(void **state)
{
	struct fx *f = *state;
	backup_ok(f);
	struct stat st;
	assert_int_equal(stat(bak_path(f, "data.mdb"), &st), 0);
	assert_int_equal(truncate(bak_path(f, "data.mdb"), st.st_size / 2), 0);
	expect_refused(f, "truncated");
}

static void test_restore_refuses_corrupt(void **state)
{
	struct fx *f = *state;
	backup_ok(f);
	int fd = open(bak_path(f, "data.mdb"), O_RDWR);
	assert_true(fd >= 0);
	unsigned char c;
	assert_int_equal(pread(fd, &c, 1, 5000), 1);
	c ^= 0x40;
	assert_int_equal(pwrite(fd, &c, 1, 5000), 1);
	close(fd);
	expect_refused(f, "SHA-256");
}

static void test_restore_refuses_unknown_version(void **state)
{
	struct fx *f = *state;
	backup_ok(f);
	FILE *m = fopen(bak_path(f, "MANIFEST"), "r+");
	assert_non_null(m);
	assert_int_equal(fseek(m, 17, SEEK_SET), 0); /* "idhub-store lmdb " then the version */
	assert_int_equal(fputc('7', m), '7');
	fclose(m);
	expect_refused(f, "version 7");
}

static void test_restore_refuses_an_interrupted_backup(void **state)
{
	struct fx *f = *state;
	backup_ok(f);
	/* what a backup killed before its end leaves: the copy under its temporary name */
	assert_int_equal(rename(bak_path(f, "data.mdb"), bak_path(f, "data.mdb.tmp")), 0);
	assert_int_equal(unlink(bak_path(f, "MANIFEST")), 0);
	expect_refused(f, "MANIFEST");
}

/* ---- item 6: the audit rider ---- */

static void test_attach_commits_with_the_change(void **state)
{
	struct fx *f = *state;
	/* a volatile write does not carry it */
	assert_int_equal(store_attach(f->s, NS_AUDIT, "a1", 2, "rec1", 4), STORE_OK);
	assert_int_equal(store_put(f->s, NS_CODE, "c", 1, "v", 1, 60), STORE_OK);
	assert_false(has(f->s, NS_AUDIT, "a1"));
	/* a del of an absent record changes nothing and leaves it pending */
	assert_int_equal(store_del(f->s, NS_CLIENTS, "none", 4), STORE_NOTFOUND);
	assert_false(has(f->s, NS_AUDIT, "a1"));
	/* the change's write carries it, once */
	assert_int_equal(store_put(f->s, NS_CLIENTS, "svc", 3, "{}", 2, 0), STORE_OK);
	assert_true(has(f->s, NS_AUDIT, "a1"));
	assert_int_equal(store_attach_drop(f->s), 0);
	assert_int_equal(store_put(f->s, NS_CLIENTS, "svc2", 4, "{}", 2, 0), STORE_OK);
	assert_int_equal(store_count(f->s, NS_AUDIT), 1);
	/* del and batch carry it too */
	assert_int_equal(store_attach(f->s, NS_AUDIT, "a2", 2, "rec2", 4), STORE_OK);
	assert_int_equal(store_del(f->s, NS_CLIENTS, "svc2", 4), STORE_OK);
	assert_true(has(f->s, NS_AUDIT, "a2"));
	assert_int_equal(store_attach(f->s, NS_AUDIT, "a3", 2, "rec3", 4), STORE_OK);
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_IDP_STATE, "idp", 3, "{}", 2, 0);
	assert_int_equal(store_batch_commit(f->s, b), STORE_OK);
	assert_true(has(f->s, NS_AUDIT, "a3"));
}

static void test_no_change_without_its_record(void **state)
{
	struct fx *f = *state;
	/* the change fails: no record */
	assert_int_equal(store_put(f->s, NS_CLIENTS, "svc", 3, "{}", 2, 0), STORE_OK);
	assert_int_equal(store_attach(f->s, NS_AUDIT, "a1", 2, "rec", 3), STORE_OK);
	assert_int_equal(store_put_new(f->s, NS_CLIENTS, "svc", 3, "{\"x\":1}", 7, 0),
	                 STORE_EXISTS);
	assert_int_equal(store_attach_drop(f->s), 1);
	assert_false(has(f->s, NS_AUDIT, "a1"));
	/* the record cannot be written (its key is taken: the failure hook): no change */
	assert_int_equal(store_put(f->s, NS_AUDIT, "taken", 5, "old", 3, 0), STORE_OK);
	assert_int_equal(store_attach(f->s, NS_AUDIT, "taken", 5, "new", 3), STORE_OK);
	assert_int_equal(store_put(f->s, NS_KEYS, "kid", 3, "{}", 2, 0), STORE_EXISTS);
	assert_false(has(f->s, NS_KEYS, "kid"));
	store_batch *b = store_batch_new();
	store_batch_del(b, NS_CLIENTS, "svc", 3);
	assert_int_equal(store_batch_commit(f->s, b), STORE_EXISTS);
	assert_true(has(f->s, NS_CLIENTS, "svc"));
	assert_int_equal(store_attach_drop(f->s), 1);
}

/* The durable environment's last transaction id, read with the store closed. */
static size_t durable_txnid(struct fx *f)
{
	store_close(f->s);
	f->s = NULL;
	char p[256];
	snprintf(p, sizeof p, "%s/durable", f->dir);
	MDB_env *e;
	MDB_envinfo info;
	assert_int_equal(mdb_env_create(&e), 0);
	assert_int_equal(mdb_env_open(e, p, MDB_RDONLY | MDB_NOLOCK, 0600), 0);
	assert_int_equal(mdb_env_info(e, &info), 0);
	mdb_env_close(e);
	f->s = open_at(f->dir, 1);
	return info.me_last_txnid;
}

struct find {
	const char *what, *who;
	int n;
};

static int find_rec(void *arg, const json_t *rec)
{
	struct find *fd = arg;
	const char *what = json_string_value(json_object_get(rec, "what"));
	const char *who = json_string_value(json_object_get(rec, "who"));
	if (what && who && strcmp(what, fd->what) == 0 && strcmp(who, fd->who) == 0 &&
	    json_array_size(json_object_get(json_object_get(rec, "after"), "changes")) > 0)
		fd->n++;
	return 0;
}

static int count_audit(store *s, const char *what, const char *who)
{
	struct find fd = {what, who, 0};
	audit_each(s, find_rec, &fd);
	return fd.n;
}

static const keys_policy POLICY = {.jwks_max_age = 300, .token_lifetime = 330};

static void test_key_change_and_audit_in_one_transaction(void **state)
{
	struct fx *f = *state;
	assert_int_equal(keys_ensure_current(f->s, JWS_ES256), 0);
	keys_report r = {.audit_who = "tester", .audit_what = "keys.generate"};
	size_t before = durable_txnid(f);
	assert_int_equal(keys_generate_next(f->s, JWS_ES256, &r), 0);
	/* one transaction holds the new key and its record: no kill can split them */
	assert_int_equal(durable_txnid(f), before + 1);
	assert_int_equal(count_audit(f->s, "keys.generate", "tester"), 1);
	fake_now += 400;
	r = (keys_report){.audit_who = "tester", .audit_what = "keys.rotate"};
	before = durable_txnid(f);
	assert_int_equal(keys_rotate(f->s, &POLICY, &r), 0);
	assert_true(r.n >= 2);
	assert_int_equal(durable_txnid(f), before + 1);
	assert_int_equal(count_audit(f->s, "keys.rotate", "tester"), 1);
}

static void test_scheduled_rotation_is_audited(void **state)
{
	struct fx *f = *state;
	assert_int_equal(keys_ensure_current(f->s, JWS_ES256), 0);
	int64_t period = 86400;
	keys_schedule_tick(f->s, &POLICY, period); /* publishes a next key, claims the period */
	fake_now += period;
	assert_int_equal(keys_schedule_tick(f->s, &POLICY, period), 1);
	const char *who = "idhub (scheduled, hub.key_rotation_days)";
	assert_true(count_audit(f->s, "keys.generate", who) >= 1);
	assert_int_equal(count_audit(f->s, "keys.rotate", who), 1);
}

/* ---- item 5: group commit of deferred writes ---- */

static void test_group_commit_batches_in_synced_transactions(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_put(f->s, NS_PAIRWISE, "taken", 5, "first", 5, 0), STORE_OK);
	assert_int_equal(store_group_commit(f->s, 20), STORE_OK);
	assert_int_equal(store_group_commit(f->s, 20), STORE_ERR); /* one syncer */
	const char *keys[] = {"a", "taken", "b"};
	for (int i = 0; i < 3; i++) {
		store_batch *b = store_batch_new();
		store_batch_put_new(b, NS_PAIRWISE, keys[i], strlen(keys[i]), "new", 3, 0);
		store_batch_put(b, NS_PAIRWISE_SUB, keys[i], strlen(keys[i]), "idx", 3, 0);
		assert_int_equal(store_batch_commit_deferred(f->s, b), STORE_OK);
	}
	/* keys and other durable writes are never deferred */
	assert_int_equal(store_put(f->s, NS_KEYS, "k", 1, "v", 1, 0), STORE_OK);
	assert_int_equal(store_sync(f->s), STORE_OK);
	reopen(f); /* close commits what is queued */
	assert_true(has(f->s, NS_PAIRWISE, "a") && has(f->s, NS_PAIRWISE_SUB, "a"));
	assert_true(has(f->s, NS_PAIRWISE, "b") && has(f->s, NS_PAIRWISE_SUB, "b"));
	/* the batch that failed (its key was taken) was dropped whole, alone */
	assert_false(has(f->s, NS_PAIRWISE_SUB, "taken"));
	void *v;
	size_t n;
	assert_int_equal(store_get(f->s, NS_PAIRWISE, "taken", 5, &v, &n, NULL), STORE_OK);
	assert_string_equal(v, "first");
	free(v);
	/* the durable environment is never opened without sync: its flags say so */
}

/* A deferred write is read back at once (read your own writes), before the syncer commits it:
 * without it a citizen's second login within the interval counted as a new citizen again. */
static void test_deferred_write_is_read_back_before_its_commit(void **state)
{
	struct fx *f = *state;
	assert_int_equal(store_group_commit(f->s, 60000), STORE_OK); /* no flush in this test */
	store_batch *b = store_batch_new();
	store_batch_put_new(b, NS_PAIRWISE, "alice", 5, "rec", 3, 0);
	store_batch_put(b, NS_PAIRWISE_SUB, "idx", 3, "alice", 5, 0);
	assert_int_equal(store_batch_commit_deferred(f->s, b), STORE_OK);
	void *v = NULL;
	size_t n = 0;
	assert_int_equal(store_get(f->s, NS_PAIRWISE, "alice", 5, &v, &n, NULL), STORE_OK);
	assert_int_equal(n, 3);
	assert_string_equal(v, "rec");
	free(v);
	assert_int_equal(store_get(f->s, NS_PAIRWISE_SUB, "idx", 3, NULL, &n, NULL), STORE_OK);
	assert_int_equal(store_get(f->s, NS_PAIRWISE, "bob", 3, &v, &n, NULL), STORE_NOTFOUND);
	/* a later deferred delete hides it again */
	b = store_batch_new();
	store_batch_del(b, NS_PAIRWISE, "alice", 5);
	assert_int_equal(store_batch_commit_deferred(f->s, b), STORE_OK);
	assert_int_equal(store_get(f->s, NS_PAIRWISE, "alice", 5, &v, &n, NULL), STORE_NOTFOUND);
	reopen(f); /* close commits the queue: the delete won */
	assert_false(has(f->s, NS_PAIRWISE, "alice"));
	assert_true(has(f->s, NS_PAIRWISE_SUB, "idx"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_budget_refuses_new_journeys_above_mark),
	    T(test_purge_runs_on_a_full_map),
	    T(test_stale_reader_of_a_killed_process_is_freed),
	    T(test_backup_has_a_manifest_and_restores),
	    T(test_restore_refuses_truncated),
	    T(test_restore_refuses_corrupt),
	    T(test_restore_refuses_unknown_version),
	    T(test_restore_refuses_an_interrupted_backup),
	    T(test_attach_commits_with_the_change),
	    T(test_no_change_without_its_record),
	    T(test_key_change_and_audit_in_one_transaction),
	    T(test_scheduled_rotation_is_audited),
	    T(test_group_commit_batches_in_synced_transactions),
	    T(test_deferred_write_is_read_back_before_its_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
