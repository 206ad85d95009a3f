/* test_keys.c — owns the unit tests of keys/keys.c: key generation and records, keyring loading and
 * the published JWKS, keys_ensure_current (idempotent, and exclusive across processes), and the
 * keys_cache reload after another process changes the keys. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "keys/keys.h"
#include "store/store.h"
#include "tokens/jwk.h"
#include "tokens/jws.h"
#include "util/arena.h"
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct fixture {
	char dir[64];
	store *s;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_keys.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char *err = NULL;
	f->s = store_open(f->dir, 16, &err);
	if (!f->s) {
		fprintf(stderr, "store_open: %s\n", err ? err : "?");
		free(err);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	store_close(f->s);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static int count_cb(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expires)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(void)expires;
	(*(int *)arg)++;
	return 0;
}

static int count_keys(store *s)
{
	int n = 0;
	assert_int_equal(store_iter(s, NS_KEYS, count_cb, &n), 0);
	return n;
}

static keyring *load(store *s)
{
	char *err = NULL;
	keyring *kr = keyring_load(s, &err);
	if (!kr)
		fail_msg("keyring_load: %s", err ? err : "?");
	return kr;
}

/* Runs fn(dir) in a child process with its own store handle, as idhubctl would; asserts exit 0. */
static void in_other_process(const char *dir, int (*fn)(store *s))
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char *err = NULL;
		store *s = store_open(dir, 16, &err);
		int rc = s ? fn(s) : 99;
		if (s)
			store_close(s);
		_exit(rc == 0 ? 0 : 1);
	}
	int st = 0;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(key_state_name(KEY_NEXT), "next");
	assert_string_equal(key_state_name(KEY_CURRENT), "current");
	assert_string_equal(key_state_name(KEY_RETIRED), "retired");
	assert_null(key_state_name((key_state)7));
}

static void test_generate_and_load(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(keys_generation(f->s), 0);
	char es[48], ed[48], es_next[48];
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_CURRENT, es), 0);
	assert_int_equal(keys_generate(f->s, JWS_EDDSA, KEY_CURRENT, ed), 0);
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_NEXT, es_next), 0);
	assert_int_equal(strlen(es), 43);
	assert_string_not_equal(es, es_next);
	assert_int_equal(count_keys(f->s), 3);
	assert_int_equal(keys_generation(f->s), 3);

	/* the counter is 8 bytes little-endian */
	void *val = NULL;
	size_t vlen = 0;
	assert_int_equal(store_get(f->s, NS_META, "keys.generation", 15, &val, &vlen, NULL), 0);
	assert_int_equal(vlen, 8);
	assert_memory_equal(val, "\x03\0\0\0\0\0\0\0", 8);
	free(val);

	/* the record: compact JSON in the agreed member order, PKCS#8 PEM */
	assert_int_equal(store_get(f->s, NS_KEYS, es, strlen(es), &val, &vlen, NULL), 0);
	const char *rec = val;
	char *prefix = NULL;
	assert_true(asprintf(&prefix,
	                     "{\"kid\":\"%s\",\"alg\":\"ES256\",\"state\":\"current\",\"created\":",
	                     es) > 0);
	assert_memory_equal(rec, prefix, strlen(prefix));
	free(prefix);
	const char *order[] = {"\"created\":", "\"activates\":", "\"retires\":", "\"pem\":"};
	const char *at = rec;
	for (size_t i = 0; i < 4; i++) {
		const char *p = strstr(at, order[i]);
		assert_non_null(p);
		at = p;
	}
	assert_non_null(strstr(rec, "\"pem\":\"-----BEGIN PRIVATE KEY-----\\n"));
	free(val);

	keyring *kr = load(f->s);
	assert_int_equal(kr->nkeys, 3);
	assert_int_equal(kr->generation, 3);
	assert_int_equal(kr->refs, 1);
	const signing_key *k = keyring_current(kr, JWS_ES256);
	assert_non_null(k);
	assert_string_equal(k->kid, es);
	assert_int_equal(k->state, KEY_CURRENT);
	assert_true(k->created > 1600000000);
	assert_int_equal(k->activates, k->created);
	assert_true(jws_alg_fits_key(JWS_ES256, k->pkey));
	/* the kid is the key's RFC 7638 thumbprint */
	char tp[44];
	assert_int_equal(jwk_thumbprint(k->pkey, tp), 0);
	assert_string_equal(tp, es);
	k = keyring_current(kr, JWS_EDDSA);
	assert_non_null(k);
	assert_string_equal(k->kid, ed);
	assert_null(keyring_current(kr, JWS_RS256));
	assert_null(keyring_current(kr, JWS_PS256));
	k = keyring_find(kr, es_next);
	assert_non_null(k);
	assert_int_equal(k->state, KEY_NEXT);
	assert_null(keyring_find(kr, "nope"));
	keyring_ref(kr);
	assert_int_equal(kr->refs, 2);
	keyring_unref(kr);
	keyring_unref(kr);
}

static void test_jwks_all_states(void **state)
{
	struct fixture *f = *state;
	char next[48], cur[48], ret[48];
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_NEXT, next), 0);
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_CURRENT, cur), 0);
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_RETIRED, ret), 0);
	keyring *kr = load(f->s);
	json_error_t jerr;
	json_t *jwks = json_loads(kr->jwks_json, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(jwks);
	assert_null(strchr(kr->jwks_json, ' '));
	assert_null(strstr(kr->jwks_json, "\"d\""));
	json_t *keys = json_object_get(jwks, "keys");
	assert_int_equal(json_array_size(keys), 3);
	const char *kids[] = {next, cur, ret};
	for (size_t i = 0; i < 3; i++) {
		int found = 0;
		size_t j;
		json_t *jwk;
		json_array_foreach(keys, j, jwk)
		{
			if (strcmp(json_string_value(json_object_get(jwk, "kid")), kids[i]) == 0) {
				found = 1;
				assert_string_equal(json_string_value(json_object_get(jwk, "alg")),
				                    "ES256");
				assert_string_equal(json_string_value(json_object_get(jwk, "use")),
				                    "sig");
			}
		}
		assert_true(found);
	}

	/* a token signed with the current key verifies with the key the JWKS publishes */
	const signing_key *k = keyring_current(kr, JWS_ES256);
	assert_non_null(k);
	assert_string_equal(k->kid, cur);
	arena *a = arena_new();
	json_t *pl = json_pack("{s:s}", "sub", "x");
	char *tok = jws_sign(a, k->pkey, k->alg, k->kid, "JWT", pl);
	assert_non_null(tok);
	jws_parsed p;
	assert_int_equal(jws_parse(a, tok, 8192, &p), 0);
	char err[128];
	EVP_PKEY *pub = jwks_find(jwks, p.kid, JWS_ES256, err, sizeof(err));
	assert_non_null(pub);
	assert_int_equal(jws_verify(&p, pub, JWS_ES256), 0);
	EVP_PKEY_free(pub);
	/* and not with the retired one */
	pub = jwks_find(jwks, ret, JWS_ES256, err, sizeof(err));
	assert_non_null(pub);
	assert_int_equal(jws_verify(&p, pub, JWS_ES256), -1);
	EVP_PKEY_free(pub);
	jws_parsed_free(&p);
	json_decref(pl);
	arena_free(a);
	json_decref(jwks);
	keyring_unref(kr);
}

static void test_only_next_is_not_current(void **state)
{
	struct fixture *f = *state;
	char kid[48];
	assert_int_equal(keys_generate(f->s, JWS_EDDSA, KEY_NEXT, kid), 0);
	keyring *kr = load(f->s);
	assert_null(keyring_current(kr, JWS_EDDSA));
	assert_non_null(keyring_find(kr, kid));
	assert_non_null(strstr(kr->jwks_json, kid));
	keyring_unref(kr);
	/* ensure_current then makes a current key beside it */
	assert_int_equal(keys_ensure_current(f->s, JWS_EDDSA), 0);
	kr = load(f->s);
	const signing_key *k = keyring_current(kr, JWS_EDDSA);
	assert_non_null(k);
	assert_string_not_equal(k->kid, kid);
	assert_int_equal(kr->nkeys, 2);
	keyring_unref(kr);
}

static void test_ensure_current_idempotent(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(keys_ensure_current(f->s, JWS_ES256), 0);
	assert_int_equal(count_keys(f->s), 1);
	uint64_t g = keys_generation(f->s);
	assert_int_equal(g, 1);
	assert_int_equal(keys_ensure_current(f->s, JWS_ES256), 0);
	assert_int_equal(count_keys(f->s), 1);
	assert_int_equal(keys_generation(f->s), g);
	/* RSA (the one RSA key of this file: 3072-bit keygen is slow) */
	assert_int_equal(keys_ensure_current(f->s, JWS_RS256), 0);
	assert_int_equal(keys_ensure_current(f->s, JWS_RS256), 0);
	assert_int_equal(count_keys(f->s), 2);
	keyring *kr = load(f->s);
	const signing_key *k = keyring_current(kr, JWS_RS256);
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_get_bits(k->pkey), 3072);
	assert_non_null(keyring_current(kr, JWS_ES256));
	keyring_unref(kr);
	assert_int_equal(keys_ensure_current(f->s, JWS_ALG_NONE), STORE_ERR);
}

static int ensure_es256(store *s)
{
	return keys_ensure_current(s, JWS_ES256);
}

/* Several processes starting at once create one current key between them. */
static void test_ensure_current_concurrent(void **state)
{
	struct fixture *f = *state;
	enum { N = 6 };
	pid_t pids[N];
	fflush(NULL);
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			char *err = NULL;
			store *s = store_open(f->dir, 16, &err);
			int rc = s ? keys_ensure_current(s, JWS_ES256) : 99;
			if (s)
				store_close(s);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < N; i++) {
		int st = 0;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(count_keys(f->s), 1);
	assert_int_equal(keys_generation(f->s), 1);
	in_other_process(f->dir, ensure_es256);
	assert_int_equal(count_keys(f->s), 1);
}

static int generate_es256_next(store *s)
{
	return keys_generate(s, JWS_ES256, KEY_NEXT, NULL);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void test_cache_reloads(void **state)
{
	struct fixture *f = *state;
	char first[48];
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_CURRENT, first), 0);
	char *err = NULL;
	keys_cache *c = keys_cache_new(f->s, &err);
	assert_non_null(c);
	keyring *kr1 = keys_cache_get(c);
	assert_non_null(kr1);
	assert_int_equal(kr1->generation, 1);
	assert_int_equal(kr1->nkeys, 1);
	assert_string_equal(keyring_current(kr1, JWS_ES256)->kid, first);

	/* idhubctl, in another process with its own store handle, adds a next key */
	in_other_process(f->dir, generate_es256_next);
	assert_int_equal(keys_generation(f->s), 2);
	assert_int_equal(count_keys(f->s), 2);

	/* the next check, a second later, sees the new generation */
	sleep_ms(1100);
	keyring *kr2 = keys_cache_get(c);
	assert_ptr_not_equal(kr2, kr1);
	assert_int_equal(kr2->generation, 2);
	assert_int_equal(kr2->nkeys, 2);
	assert_string_equal(keyring_current(kr2, JWS_ES256)->kid, first);
	const signing_key *k = &kr2->keys[0];
	if (strcmp(k->kid, first) == 0)
		k = &kr2->keys[1];
	assert_int_equal(k->state, KEY_NEXT);
	assert_ptr_equal(keyring_find(kr2, k->kid), k);
	assert_non_null(strstr(kr2->jwks_json, k->kid));
	assert_null(strstr(kr1->jwks_json, k->kid));
	/* the old snapshot stays valid for whoever still holds it */
	assert_int_equal(kr1->nkeys, 1);
	assert_non_null(strstr(kr1->jwks_json, first));
	keyring_unref(kr1);

	/* no change: the same snapshot, one more reference */
	sleep_ms(1100);
	keyring *kr3 = keys_cache_get(c);
	assert_ptr_equal(kr3, kr2);
	keyring_unref(kr3);
	keyring_unref(kr2);
	keys_cache_free(c);
}

static void test_cache_throttled(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(keys_generate(f->s, JWS_EDDSA, KEY_CURRENT, NULL), 0);
	char *err = NULL;
	keys_cache *c = keys_cache_new(f->s, &err);
	assert_non_null(c);
	keyring *kr1 = keys_cache_get(c);
	assert_int_equal(keys_generate(f->s, JWS_EDDSA, KEY_NEXT, NULL), 0);
	/* checked at most once a second: an immediate get still returns the old snapshot */
	keyring *kr2 = keys_cache_get(c);
	assert_ptr_equal(kr1, kr2);
	assert_int_equal(kr2->nkeys, 1);
	keyring_unref(kr2);
	sleep_ms(1100);
	kr2 = keys_cache_get(c);
	assert_int_equal(kr2->nkeys, 2);
	keyring_unref(kr2);
	keyring_unref(kr1);
	keys_cache_free(c);
}

static void test_bump_generation(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(keys_bump_generation(f->s), 0);
	assert_int_equal(keys_bump_generation(f->s), 0);
	assert_int_equal(keys_generation(f->s), 2);
	assert_int_equal(count_keys(f->s), 0);
	keyring *kr = load(f->s);
	assert_int_equal(kr->nkeys, 0);
	assert_string_equal(kr->jwks_json, "{\"keys\":[]}");
	assert_int_equal(kr->generation, 2);
	keyring_unref(kr);
}

static void test_bad_record_skipped(void **state)
{
	struct fixture *f = *state;
	char kid[48];
	assert_int_equal(keys_generate(f->s, JWS_ES256, KEY_CURRENT, kid), 0);
	const char *junk = "{\"kid\":\"x\",\"alg\":\"HS256\",\"state\":\"current\",\"created\":1,"
	                   "\"activates\":1,\"retires\":0,\"pem\":\"nope\"}";
	assert_int_equal(store_put(f->s, NS_KEYS, "x", 1, junk, strlen(junk), 0), 0);
	assert_int_equal(store_put(f->s, NS_KEYS, "y", 1, "not json", 8, 0), 0);
	keyring *kr = load(f->s);
	assert_int_equal(kr->nkeys, 1);
	assert_string_equal(keyring_current(kr, JWS_ES256)->kid, kid);
	keyring_unref(kr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_setup_teardown(test_generate_and_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jwks_all_states, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_next_is_not_current, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ensure_current_idempotent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ensure_current_concurrent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_reloads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_throttled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bump_generation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_record_skipped, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
