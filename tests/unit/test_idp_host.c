/* test_idp_host.c — owns the unit tests of the adapter host's pure parts (broker/idp/): JWS
 * verification against a JWK Set (jose.c: alg allow-list, kid rules, upstream EdDSA and ES384),
 * the strict base64 decoder and the URL check adapters get through idhub_services (services.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "idp/jose.h"
#include "idp/services.h"
#include "tokens/jwk.h"
#include "tokens/jws.h"
#include "util/b64url.h"
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static const char *const all_algs[] = {"ES256", "ES384", "RS256", "EdDSA", NULL};

static json_t *set_of(EVP_PKEY *k1, const char *kid1, jws_alg a1, EVP_PKEY *k2, const char *kid2,
                      jws_alg a2)
{
	json_t *keys = json_array();
	json_array_append_new(keys, jwk_public(k1, kid1, a1));
	if (k2)
		json_array_append_new(keys, jwk_public(k2, kid2, a2));
	return json_pack("{s:o}", "keys", keys);
}

static int verify(const json_t *set, const char *const *algs, const char *tok, char *why)
{
	arena *a = arena_new();
	json_t *pl = NULL;
	int rc = jose_verify_set(set, a, algs, 16384, "ID token", tok, &pl, why, 160);
	if (rc == 0)
		assert_string_equal(json_string_value(json_object_get(pl, "sub")), "someone");
	json_decref(pl);
	arena_free(a);
	return rc;
}

/* Upstream EdDSA (cjose could not verify it) goes through the hub's one JOSE implementation. */
static void test_eddsa_and_allow_list(void **state)
{
	(void)state;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	arena *a = arena_new();
	json_t *claims = json_pack("{s:s}", "sub", "someone"),
	       *set = set_of(ed, "e1", JWS_EDDSA, NULL, NULL, 0);
	const char *tok = jws_sign(a, ed, JWS_EDDSA, "e1", "JWT", claims);
	char why[160];
	assert_int_equal(verify(set, all_algs, tok, why), 0);
	static const char *const no_ed[] = {"ES256", NULL};
	assert_int_equal(verify(set, no_ed, tok, why), -1);
	assert_string_equal(why, "ID token alg not allowed");
	json_decref(set);
	json_decref(claims);
	arena_free(a);
	EVP_PKEY_free(ed);
}

/* A verification-only algorithm (ES384 on P-384): the hub never signs with it, so the token is
 * made here with EVP and the JOSE r||s form. */
static void test_es384(void **state)
{
	(void)state;
	EVP_PKEY *k = EVP_EC_gen("P-384"), *p256 = EVP_EC_gen("P-256");
	unsigned char pub[97];
	size_t pl = 0;
	char xb[80], yb[80];
	assert_int_equal(EVP_PKEY_get_octet_string_param(k, "pub", pub, sizeof pub, &pl), 1);
	assert_int_equal(pl, 97);
	b64url_encode(xb, pub + 1, 48);
	b64url_encode(yb, pub + 49, 48);
	json_t *set = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}]}", "keys", "kty", "EC", "crv",
	                        "P-384", "kid", "p384", "x", xb, "y", yb);
	const char *h = "{\"alg\":\"ES384\",\"kid\":\"p384\"}", *p = "{\"sub\":\"someone\"}";
	char hb[128], pb[128], in[300], sigb[160];
	b64url_encode(hb, h, strlen(h));
	b64url_encode(pb, p, strlen(p));
	snprintf(in, sizeof in, "%s.%s", hb, pb);
	unsigned char der[160], raw[96] = {0};
	size_t dl = sizeof der;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA384", NULL, NULL, k, NULL), 1);
	assert_int_equal(EVP_DigestSign(md, der, &dl, (unsigned char *)in, strlen(in)), 1);
	EVP_MD_CTX_free(md);
	const unsigned char *dp = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &dp, (long)dl);
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	BN_bn2binpad(r, raw, 48);
	BN_bn2binpad(s, raw + 48, 48);
	ECDSA_SIG_free(sig);
	b64url_encode(sigb, raw, 96);
	char tok[600], why[160];
	snprintf(tok, sizeof tok, "%s.%s", in, sigb);
	assert_int_equal(verify(set, all_algs, tok, why), 0);
	/* the same token against a P-256 key under the same kid: the key does not fit ES384 */
	json_t *other = set_of(p256, "p384", JWS_ES256, NULL, NULL, 0);
	json_object_del(json_array_get(json_object_get(other, "keys"), 0), "alg");
	assert_int_equal(verify(other, all_algs, tok, why), -1);
	assert_string_equal(why, "no key of the IdP's JWKS matches the ID token's kid and alg");
	json_decref(other);
	json_decref(set);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p256);
}

/* Kid rules: no kid with several keys is refused even when one key alone fits the alg; with a
 * kid, a failing signature is a failure under that kid. */
static void test_kid_rules(void **state)
{
	(void)state;
	EVP_PKEY *k1 = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256"),
	         *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	arena *a = arena_new();
	json_t *claims = json_pack("{s:s}", "sub", "someone");
	json_t *two = set_of(k1, "a", JWS_ES256, ed, "b", JWS_EDDSA),
	       *one = set_of(k1, "a", JWS_ES256, NULL, NULL, 0);
	char why[160];
	const char *nokid = jws_sign(a, k1, JWS_ES256, NULL, "JWT", claims);
	assert_int_equal(verify(one, all_algs, nokid, why), 0);
	assert_int_equal(verify(two, all_algs, nokid, why), -1);
	assert_string_equal(why, "ID token has no kid and the IdP's JWKS holds several keys");
	const char *forged = jws_sign(a, k2, JWS_ES256, "a", "JWT", claims);
	assert_int_equal(verify(two, all_algs, forged, why), -1);
	assert_string_equal(why, "ID token signature does not verify");
	const char *unknown = jws_sign(a, k1, JWS_ES256, "zz", "JWT", claims);
	assert_int_equal(verify(two, all_algs, unknown, why), -1);
	assert_string_equal(why, "no key of the IdP's JWKS matches the ID token's kid and alg");
	json_decref(one);
	json_decref(two);
	json_decref(claims);
	arena_free(a);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(ed);
}

static long b64(const char *s, uint32_t flags, char *out)
{
	long n = idp_b64_decode(s, strlen(s), flags, (unsigned char *)out);
	return n;
}

static void test_b64_strict(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(b64("aGVsbG8=", 0, out), 5);
	assert_string_equal(out, "hello");
	assert_int_equal(b64("aGVs\r\nbG8=", IDHUB_B64_WRAPPED, out), 5);
	assert_int_equal(b64("aGVs\r\nbG8=", 0, out), -1); /* no white space unless wrapped */
	assert_int_equal(b64("aGVsbG8", 0, out), -1);      /* not whole quanta */
	assert_int_equal(b64("aG=sbG8=", 0, out), -1);     /* '=' inside */
	assert_int_equal(b64("aGVsbG8=YQ==", 0, out), -1); /* data after padding */
	assert_int_equal(b64("", 0, out), -1);
}

static void test_url_check(void **state)
{
	(void)state;
	assert_int_equal(idp_url_check("https://idp.example/x", 0), 0);
	assert_int_equal(idp_url_check("http://127.0.0.1:8080/x", 0), 0);
	assert_int_equal(idp_url_check("http://localhost/x", 0), 0);
	assert_int_equal(idp_url_check("http://[::1]:1/x", 0), 0);
	assert_int_equal(idp_url_check("http://idp.example/x", 0), -1);
	assert_int_equal(idp_url_check("http://idp.example/x", IDHUB_SET_HTTP_ANY), 0);
	assert_int_equal(idp_url_check("http://localhost.evil.example/", 0), -1);
	assert_int_equal(idp_url_check("https://user@idp.example/", 0), -1);
	assert_int_equal(idp_url_check("https://idp.example/#f", 0), -1);
	assert_int_equal(idp_url_check("https://idp.example/?q", IDHUB_SET_NO_QUERY), -1);
	assert_int_equal(idp_url_check("https:///path", 0), -1);
	assert_int_equal(idp_url_check("ftp://idp.example/", 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eddsa_and_allow_list),
	    cmocka_unit_test(test_es384),
	    cmocka_unit_test(test_kid_rules),
	    cmocka_unit_test(test_b64_strict),
	    cmocka_unit_test(test_url_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
