/* test_audit_tree.c — unit tests of the provable audit log (issue 12 item 3): RFC 9162 tree hashes
 * and inclusion paths against the definition, dense sequence numbers with two processes appending
 * at once, signed heads, and verify naming the first bad record after edits, deletions, reorders,
 * insertions and truncations made directly in the store; retention keeps the tree provable. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit/audit.h"
#include "audit/audit_tree.h"
#include "audit/merkle.h"
#include "keys/keys.h"
#include <ftw.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the tree against RFC 9162 §2.1.1, written as the RFC defines it ---- */

static void leaf_of(int i, merkle_hash out)
{
	char rec[32];
	int n = snprintf(rec, sizeof rec, "record %d", i);
	merkle_leaf(rec, (size_t)n, out);
}

static void mth(int lo, int hi, merkle_hash out)
{
	if (hi - lo == 0) {
		SHA256((const unsigned char *)"", 0, out);
		return;
	}
	if (hi - lo == 1) {
		leaf_of(lo, out);
		return;
	}
	int k = 1;
	while (k * 2 < hi - lo)
		k *= 2;
	merkle_hash l, r;
	mth(lo, lo + k, l);
	mth(lo + k, hi, r);
	merkle_node(l, r, out);
}

static void test_tree_matches_rfc9162(void **state)
{
	(void)state;
	merkle_hash leaves[70], want, got, path[MERKLE_MAX_PATH];
	for (int i = 0; i < 70; i++)
		leaf_of(i, leaves[i]);
	/* the known root of the empty tree: SHA-256("") */
	merkle_frontier f = {0};
	merkle_frontier_root(&f, got);
	assert_int_equal(got[0], 0xe3);
	for (int n = 1; n <= 70; n++) {
		merkle_frontier_add(&f, leaves[n - 1]);
		mth(0, n, want);
		merkle_frontier_root(&f, got);
		assert_memory_equal(got, want, MERKLE_HASH);
		/* every base k (a purged prefix) gives the same root and valid paths after it */
		merkle_frontier base = {0};
		for (int k = 0; k <= n; k++) {
			merkle_tree t = {&base, (const merkle_hash *)leaves + k, (uint64_t)n};
			assert_int_equal(merkle_root(&t, got), 0);
			assert_memory_equal(got, want, MERKLE_HASH);
			for (int m = k; m < n; m++) {
				int np = merkle_path(&t, (uint64_t)m, path);
				assert_true(np >= 0);
				assert_true(merkle_path_ok((uint64_t)m, (uint64_t)n, leaves[m],
				                           (const merkle_hash *)path, np, want));
				/* the wrong index or a wrong leaf fails */
				assert_false(merkle_path_ok((uint64_t)(m ^ 1), (uint64_t)n,
				                            leaves[m], (const merkle_hash *)path,
				                            np, want) &&
				             (m ^ 1) < n && memcmp(leaves[m], leaves[m ^ 1], 32));
				assert_false(merkle_path_ok((uint64_t)m, (uint64_t)n,
				                            leaves[(m + 1) % n],
				                            (const merkle_hash *)path, np, want) &&
				             n > 1);
			}
			if (k < n)
				merkle_frontier_add(&base, leaves[k]);
		}
	}
}

/* ---- the log in a store ---- */

struct fx {
	char tmp[64], dir[128];
	store *s;
	EVP_PKEY *key, *other;
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	strcpy(f->tmp, "/tmp/idhub-test-audit-XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	snprintf(f->dir, sizeof f->dir, "%s/store", f->tmp);
	char *err = NULL;
	f->s = store_open(f->dir, 16, &err);
	assert_non_null(f->s);
	f->key = keys_new_pkey(JWS_ES256);
	f->other = keys_new_pkey(JWS_ES256);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	store_close(f->s);
	EVP_PKEY_free(f->key);
	EVP_PKEY_free(f->other);
	nftw(f->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static EVP_PKEY *find_key(void *arg, const char *kid, jws_alg *alg)
{
	*alg = JWS_ES256;
	return strcmp(kid, "test-kid") == 0 ? arg : NULL;
}

static void append_n(store *s, int from, int n)
{
	for (int i = from; i < from + n; i++) {
		char t[16];
		snprintf(t, sizeof t, "t%d", i);
		assert_int_equal(audit_append(s, "tester", "test.change", t, NULL, NULL), 0);
	}
}

static void sign(struct fx *f)
{
	audit_signer sg = {f->key, JWS_ES256, "test-kid"};
	char *err = NULL;
	assert_int_equal(audit_tree_head(f->s, &sg, "https://hub.test", &err), 0);
}

static audit_head head(struct fx *f)
{
	audit_head h;
	char *jws = audit_head_jws(f->s), *err = NULL;
	assert_non_null(jws);
	assert_int_equal(audit_head_check(jws, find_key, f->key, &h, &err), 0);
	free(jws);
	return h;
}

static void key8(unsigned char k[8], uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		k[i] = (unsigned char)(seq >> (56 - 8 * i));
}

static char *get_rec(store *s, uint64_t seq)
{
	unsigned char k[8];
	key8(k, seq);
	void *v;
	size_t n;
	assert_int_equal(store_get(s, NS_AUDIT, k, 8, &v, &n, NULL), 0);
	return v;
}

static void put_rec(store *s, uint64_t seq, const char *v)
{
	unsigned char k[8];
	key8(k, seq);
	assert_int_equal(store_put(s, NS_AUDIT, k, 8, v, strlen(v), 0), 0);
}

static void del_rec(store *s, uint64_t seq)
{
	unsigned char k[8];
	key8(k, seq);
	assert_int_equal(store_del(s, NS_AUDIT, k, 8), 0);
}

/* verify's answer: -1 when the log matches, else the first bad index; why gets the reason */
static long verify(struct fx *f, char *why, size_t len)
{
	audit_head h = head(f);
	audit_problem p;
	char *err = NULL;
	int rc = audit_verify(f->s, &h, &p, &err);
	assert_true(rc >= 0);
	if (rc == 0)
		return -1;
	snprintf(why, len, "%s", p.why);
	return (long)p.index;
}

static int seq_ok(void *arg, uint64_t seq, const json_t *rec)
{
	(void)rec;
	uint64_t *next = arg;
	if (seq != *next)
		return 1;
	(*next)++;
	return 0;
}

static void test_sequence_is_dense_with_two_writers(void **state)
{
	struct fx *f = *state;
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			/* another process, its own handle: the daemon and idhubctl */
			store *s = store_open(f->dir, 16, NULL);
			int bad = !s;
			for (int i = 0; s && i < 150; i++) {
				if (i % 3 == 0) {
					store_batch *b = store_batch_new();
					store_batch_put(b, NS_META, "x", 1, "y", 1, 0);
					bad |= audit_batch_put(b, "w", "batch", "", NULL, NULL) ||
					       store_batch_commit(s, b);
				} else if (i % 3 == 1) {
					bad |= audit_attach(s, "w", "attach", "", NULL, NULL) ||
					       store_put(s, NS_CLIENTS, "c", 1, "{}", 2, 0);
				} else
					bad |= audit_append(s, "w", "append", "", NULL, NULL);
			}
			store_close(s);
			_exit(bad);
		}
	}
	append_n(f->s, 0, 100); /* and this one */
	for (int k = 0; k < 2; k++) {
		int st;
		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	uint64_t next = 0;
	assert_int_equal(audit_each_seq(f->s, seq_ok, &next), 0);
	assert_int_equal(next, 400); /* 0..399: no gap, no duplicate */
	assert_int_equal(store_count(f->s, NS_AUDIT), 400);
}

static void test_verify_accepts_an_intact_log(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	assert_int_equal(head(f).size, 10);
	assert_int_equal(verify(f, why, sizeof why), -1);
	/* records after the head are not an error; the next head covers them, incrementally */
	append_n(f->s, 10, 1500);
	assert_int_equal(verify(f, why, sizeof why), -1);
	sign(f);
	assert_int_equal(head(f).size, 1510);
	assert_int_equal(verify(f, why, sizeof why), -1);
}

static void test_head_signature_is_checked(void **state)
{
	struct fx *f = *state;
	append_n(f->s, 0, 3);
	sign(f);
	char *jws = audit_head_jws(f->s), *err = NULL;
	audit_head h;
	/* another key under the same kid */
	assert_int_equal(audit_head_check(jws, find_key, f->other, &h, &err), -1);
	free(err);
	err = NULL;
	/* a payload changed (the size) */
	char *dot = strchr(jws, '.');
	dot[3] ^= 1;
	assert_int_equal(audit_head_check(jws, find_key, f->key, &h, &err), -1);
	free(err);
	free(jws);
}

static void test_verify_names_an_edited_record(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	char *r = get_rec(f->s, 4);
	r[strlen(r) - 2] = 'X'; /* the target "t4" -> "tX" */
	put_rec(f->s, 4, r);
	free(r);
	assert_int_equal(verify(f, why, sizeof why), 4);
	assert_non_null(strstr(why, "altered"));
}

static void test_verify_names_a_deleted_record(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	del_rec(f->s, 6);
	assert_int_equal(verify(f, why, sizeof why), 6);
	assert_non_null(strstr(why, "missing"));
}

static void test_verify_names_reordered_records(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	char *a = get_rec(f->s, 3), *b = get_rec(f->s, 7);
	put_rec(f->s, 3, b);
	put_rec(f->s, 7, a);
	free(a);
	free(b);
	assert_int_equal(verify(f, why, sizeof why), 3);
	assert_non_null(strstr(why, "out of place"));
}

static void test_verify_names_an_inserted_record(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	/* shifted: records 5.. move up one and a forged one takes 5 */
	for (int i = 9; i >= 5; i--) {
		char *r = get_rec(f->s, (uint64_t)i);
		put_rec(f->s, (uint64_t)i + 1, r);
		free(r);
	}
	put_rec(f->s, 5, "{\"at\":1,\"who\":\"forger\",\"what\":\"x\",\"target\":\"\"}");
	assert_int_equal(verify(f, why, sizeof why), 5);
	assert_non_null(strstr(why, "altered"));
}

static void test_verify_names_a_record_with_a_foreign_key(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	/* not a sequence number: sorts after the 8-byte keys, past the head */
	assert_int_equal(store_put(f->s, NS_AUDIT, "zz", 2, "{}", 2, 0), 0);
	assert_int_equal(verify(f, why, sizeof why), 10);
	assert_non_null(strstr(why, "not a sequence number"));
}

static void test_verify_names_a_truncation(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	for (int i = 7; i < 10; i++)
		del_rec(f->s, (uint64_t)i);
	assert_int_equal(verify(f, why, sizeof why), 7);
	assert_non_null(strstr(why, "truncated"));
}

static void test_verify_catches_a_forged_leaf_index_and_record(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	/* both the record and the covered leaf hash rewritten consistently: the root differs */
	put_rec(f->s, 2, "{\"at\":1,\"who\":\"forger\",\"what\":\"x\",\"target\":\"\"}");
	void *v;
	size_t n;
	assert_int_equal(store_get(f->s, NS_META, "audit.lh.0000000000000000", 25, &v, &n, NULL),
	                 0);
	const char *fake = "{\"at\":1,\"who\":\"forger\",\"what\":\"x\",\"target\":\"\"}";
	merkle_leaf(fake, strlen(fake), (unsigned char *)v + 2 * MERKLE_HASH);
	assert_int_equal(store_put(f->s, NS_META, "audit.lh.0000000000000000", 25, v, n, 0), 0);
	free(v);
	assert_true(verify(f, why, sizeof why) >= 0);
}

static void test_retention_keeps_the_tree_provable(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 20);
	sign(f);
	int64_t later = time(NULL) + 3 * 86400;
	/* all are 3 days old then: purged but for the newest; the purge is itself audited */
	assert_int_equal(audit_retain(f->s, 2, later, 1000), 19);
	assert_int_equal(store_count(f->s, NS_AUDIT), 2);
	assert_int_equal(verify(f, why, sizeof why), -1);
	sign(f);
	audit_head h = head(f);
	assert_int_equal(h.size, 21);
	assert_int_equal(verify(f, why, sizeof why), -1);
	/* a proof of a retained record checks against the head; a purged one has none */
	char *err = NULL;
	json_t *p = audit_prove(f->s, &h, 20, &err);
	assert_non_null(p);
	merkle_hash leaf, root, path[MERKLE_MAX_PATH];
	json_t *a = json_object_get(p, "audit_path");
	for (size_t i = 0; i < json_array_size(a); i++)
		assert_int_equal(merkle_unhex(json_string_value(json_array_get(a, i)), path[i]), 0);
	assert_int_equal(merkle_unhex(json_string_value(json_object_get(p, "leaf_hash")), leaf), 0);
	memcpy(root, h.root, MERKLE_HASH);
	assert_true(
	    merkle_path_ok(20, 21, leaf, (const merkle_hash *)path, (int)json_array_size(a), root));
	json_decref(p);
	assert_null(audit_prove(f->s, &h, 5, &err));
	free(err);
	/* tampering after a purge is still caught */
	put_rec(f->s, 19, "{\"at\":1,\"who\":\"forger\",\"what\":\"x\",\"target\":\"\"}");
	assert_int_equal(verify(f, why, sizeof why), 19);
	/* so is a forged base */
	assert_int_equal(
	    store_put(f->s, NS_META, "audit.base", 10, "{\"size\":0,\"frontier\":[]}", 24, 0), 0);
	assert_true(verify(f, why, sizeof why) >= 0);
}

static void test_a_published_head_catches_a_rebuilt_tree(void **state)
{
	struct fx *f = *state;
	char why[256];
	append_n(f->s, 0, 10);
	sign(f);
	char *published = audit_head_jws(f->s), *err = NULL;
	/* someone with the store (and so the key) edits a record and rebuilds the tree and head */
	put_rec(f->s, 4, "{\"at\":1,\"who\":\"forger\",\"what\":\"x\",\"target\":\"\"}");
	/* the hub's own head maker extends the stored tree: the edit still shows */
	sign(f);
	assert_int_equal(verify(f, why, sizeof why), 4);
	assert_int_equal(store_del(f->s, NS_META, "audit.tree", 10), 0);
	assert_int_equal(store_del(f->s, NS_META, "audit.lh.0000000000000000", 25), 0);
	sign(f);
	assert_int_equal(verify(f, why, sizeof why), -1); /* the rebuilt head agrees with itself */
	/* but not with the head published before */
	audit_head h;
	assert_int_equal(audit_head_check(published, find_key, f->key, &h, &err), 0);
	audit_problem p;
	assert_int_equal(audit_verify(f->s, &h, &p, &err), 1);
	/* with the covered hashes rebuilt too, the head alone cannot say which record changed */
	assert_int_equal(p.index, 0);
	assert_non_null(strstr(p.why, "differ from the signed head"));
	free(published);
}

static int seq_what(void *arg, uint64_t seq, const json_t *rec)
{
	char *out = arg;
	char buf[32];
	snprintf(buf, sizeof buf, "%llu=%s ", (unsigned long long)seq,
	         json_string_value(json_object_get(rec, "target")));
	strcat(out, buf);
	return 0;
}

static void test_records_of_an_older_store_are_renumbered(void **state)
{
	struct fx *f = *state;
	/* the old keys: 8 bytes of microseconds, 8 random */
	const char *names[] = {"first", "second", "third"};
	for (int i = 0; i < 3; i++) {
		unsigned char k[16] = {0, 6, 0, 0, 0, 0, 0, (unsigned char)(9 - i)};
		k[7] = (unsigned char)(i + 1);
		char v[80];
		snprintf(v, sizeof v, "{\"at\":1,\"who\":\"w\",\"what\":\"old\",\"target\":\"%s\"}",
		         names[i]);
		assert_int_equal(store_put(f->s, NS_AUDIT, k, 16, v, strlen(v), 0), 0);
	}
	/* an append cannot number after them */
	assert_true(audit_append(f->s, "w", "new", "x", NULL, NULL) != 0);
	assert_int_equal(audit_migrate(f->s), 3);
	assert_int_equal(audit_migrate(f->s), 0);
	assert_int_equal(audit_append(f->s, "w", "new", "fourth", NULL, NULL), 0);
	char out[256] = "";
	audit_each_seq(f->s, seq_what, out);
	assert_string_equal(out, "0=first 1=second 2=third 3=fourth ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_matches_rfc9162),
	    cmocka_unit_test_setup_teardown(test_sequence_is_dense_with_two_writers, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_verify_accepts_an_intact_log, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_head_signature_is_checked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_an_edited_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_a_deleted_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_reordered_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_an_inserted_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_a_record_with_a_foreign_key, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_a_truncation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_catches_a_forged_leaf_index_and_record,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention_keeps_the_tree_provable, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_a_published_head_catches_a_rebuilt_tree, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_records_of_an_older_store_are_renumbered, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
