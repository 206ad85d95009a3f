/* test_jws.c — owns the unit tests of tokens/jws.c and tokens/jwk.c: sign/parse/verify round trips,
 * refusals of hostile or mismatched tokens, JWK export/import, RFC 7638 thumbprints, half hashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tokens/jwk.h"
#include "tokens/jws.h"
#include "util/arena.h"
#include "util/b64url.h"
#include <openssl/core_names.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEN 16384

static EVP_PKEY *ec_key, *ec_key2, *rsa_key, *ed_key;

static EVP_PKEY *key_for(jws_alg alg)
{
	switch (alg) {
	case JWS_ES256:
		return ec_key;
	case JWS_RS256:
	case JWS_PS256:
		return rsa_key;
	case JWS_EDDSA:
		return ed_key;
	default:
		return NULL;
	}
}

static int group_setup(void **state)
{
	(void)state;
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ec_key2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return ec_key && ec_key2 && rsa_key && ed_key ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(ec_key2);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ed_key);
	return 0;
}

static int arena_setup(void **state)
{
	*state = arena_new();
	return *state ? 0 : -1;
}

static int arena_teardown(void **state)
{
	arena_free(*state);
	return 0;
}

static json_t *sample_payload(void)
{
	return json_pack("{s:s, s:s, s:I, s:s}", "iss", "https://hub.example", "sub", "abc", "exp",
	                 (json_int_t)2000000000, "name", "J\xc3\xa9r\xc3\xb4me");
}

/* Parses compact and verifies it with key under alg: 0 only if both succeed. */
static int parse_verify(arena *a, const char *compact, EVP_PKEY *key, jws_alg alg)
{
	jws_parsed p;
	if (jws_parse(a, compact, MAXLEN, &p) != 0)
		return -2;
	int rc = jws_verify(&p, key, alg);
	jws_parsed_free(&p);
	return rc;
}

static char *b64(arena *a, const void *data, size_t n)
{
	char *s = arena_alloc(a, b64url_enc_len(n) + 1);
	b64url_encode(s, data, n);
	return s;
}

/* A compact JWS from raw header and payload JSON text and raw signature bytes. */
static char *mk_token(arena *a, const char *hdr, const char *payload, const void *sig,
                      size_t siglen)
{
	return arena_printf(a, "%s.%s.%s", b64(a, hdr, strlen(hdr)),
	                    b64(a, payload, strlen(payload)), b64(a, sig, siglen));
}

static unsigned char *raw_sign(EVP_PKEY *key, const char *md, const char *tbs, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key, NULL), 1);
	assert_int_equal(EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)tbs, strlen(tbs)),
	                 1);
	sig = malloc(*siglen);
	assert_non_null(sig);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen, (const unsigned char *)tbs, strlen(tbs)),
	                 1);
	EVP_MD_CTX_free(ctx);
	return sig;
}

static void test_alg_names(void **state)
{
	(void)state;
	assert_int_equal(jws_alg_from_name("ES256"), JWS_ES256);
	assert_int_equal(jws_alg_from_name("RS256"), JWS_RS256);
	assert_int_equal(jws_alg_from_name("PS256"), JWS_PS256);
	assert_int_equal(jws_alg_from_name("EdDSA"), JWS_EDDSA);
	assert_int_equal(jws_alg_from_name("none"), JWS_ALG_NONE);
	assert_int_equal(jws_alg_from_name("HS256"), JWS_ALG_NONE);
	assert_int_equal(jws_alg_from_name("es256"), JWS_ALG_NONE);
	assert_int_equal(jws_alg_from_name(NULL), JWS_ALG_NONE);
	for (int i = 0; i < JWS_ALG_COUNT; i++)
		assert_int_equal(jws_alg_from_name(jws_alg_name((jws_alg)i)), i);
	assert_null(jws_alg_name(JWS_ALG_NONE));
}

static void test_alg_fits_key(void **state)
{
	(void)state;
	assert_true(jws_alg_fits_key(JWS_ES256, ec_key));
	assert_false(jws_alg_fits_key(JWS_RS256, ec_key));
	assert_false(jws_alg_fits_key(JWS_EDDSA, ec_key));
	assert_true(jws_alg_fits_key(JWS_RS256, rsa_key));
	assert_true(jws_alg_fits_key(JWS_PS256, rsa_key));
	assert_false(jws_alg_fits_key(JWS_ES256, rsa_key));
	assert_true(jws_alg_fits_key(JWS_EDDSA, ed_key));
	assert_false(jws_alg_fits_key(JWS_ES256, ed_key));
	assert_false(jws_alg_fits_key(JWS_ALG_NONE, ec_key));
	EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	assert_non_null(p384);
	assert_false(jws_alg_fits_key(JWS_ES256, p384));
	arena *a = arena_new();
	json_t *pl = sample_payload();
	assert_null(jws_sign(a, p384, JWS_ES256, "k", NULL, pl));
	json_decref(pl);
	arena_free(a);
	EVP_PKEY_free(p384);
}

static void round_trip(arena *a, jws_alg alg)
{
	EVP_PKEY *key = key_for(alg);
	json_t *pl = sample_payload();
	char *tok = jws_sign(a, key, alg, "kid-1", "JWT", pl);
	assert_non_null(tok);

	jws_parsed p;
	assert_int_equal(jws_parse(a, tok, MAXLEN, &p), 0);
	assert_string_equal(p.alg, jws_alg_name(alg));
	assert_string_equal(p.kid, "kid-1");
	assert_string_equal(json_string_value(json_object_get(p.header, "typ")), "JWT");
	assert_true(json_equal(p.payload, pl));
	assert_int_equal(jws_verify(&p, key, alg), 0);
	if (alg == JWS_ES256 || alg == JWS_EDDSA)
		assert_int_equal(p.siglen, 64);
	jws_parsed_free(&p);

	/* the header is exactly {"alg","kid","typ"}, compact, in that order */
	const char *dot = strchr(tok, '.');
	char hdr[256];
	long hl = b64url_decode(hdr, tok, (size_t)(dot - tok));
	assert_true(hl > 0);
	assert_string_equal(hdr,
	                    arena_printf(a, "{\"alg\":\"%s\",\"kid\":\"kid-1\",\"typ\":\"JWT\"}",
	                                 jws_alg_name(alg)));

	/* typ omitted when NULL */
	char *tok2 = jws_sign(a, key, alg, "kid-1", NULL, pl);
	assert_non_null(tok2);
	assert_int_equal(jws_parse(a, tok2, MAXLEN, &p), 0);
	assert_null(json_object_get(p.header, "typ"));
	assert_int_equal(jws_verify(&p, key, alg), 0);
	jws_parsed_free(&p);
	json_decref(pl);
}

static void test_round_trip_es256(void **state)
{
	round_trip(*state, JWS_ES256);
}

static void test_round_trip_rs256(void **state)
{
	round_trip(*state, JWS_RS256);
}

static void test_round_trip_ps256(void **state)
{
	round_trip(*state, JWS_PS256);
}

static void test_round_trip_eddsa(void **state)
{
	round_trip(*state, JWS_EDDSA);
}

/* Replaces the payload of tok with another object's, keeping header and signature. */
static char *swap_payload(arena *a, const char *tok, const char *payload_json)
{
	const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
	return arena_printf(a, "%.*s.%s%s", (int)(d1 - tok), tok,
	                    b64(a, payload_json, strlen(payload_json)), d2);
}

static void test_tampered_payload(void **state)
{
	arena *a = *state;
	json_t *pl = sample_payload();
	for (int i = 0; i < JWS_ALG_COUNT; i++) {
		jws_alg alg = (jws_alg)i;
		char *tok = jws_sign(a, key_for(alg), alg, "k", NULL, pl);
		assert_non_null(tok);
		assert_int_equal(parse_verify(a, tok, key_for(alg), alg), 0);
		char *bad =
		    swap_payload(a, tok, "{\"iss\":\"https://hub.example\",\"sub\":\"admin\"}");
		assert_int_equal(parse_verify(a, bad, key_for(alg), alg), -1);
		/* one flipped bit in the signature */
		char *flip = arena_strdup(a, tok);
		char *last = flip + strlen(flip) - 2;
		*last = *last == 'A' ? 'B' : 'A';
		assert_int_equal(parse_verify(a, flip, key_for(alg), alg), -1);
	}
	json_decref(pl);
}

static void test_other_key(void **state)
{
	arena *a = *state;
	json_t *pl = sample_payload();
	char *tok = jws_sign(a, ec_key, JWS_ES256, "k", NULL, pl);
	assert_non_null(tok);
	assert_int_equal(parse_verify(a, tok, ec_key, JWS_ES256), 0);
	assert_int_equal(parse_verify(a, tok, ec_key2, JWS_ES256), -1);
	EVP_PKEY *ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	tok = jws_sign(a, ed_key, JWS_EDDSA, "k", NULL, pl);
	assert_int_equal(parse_verify(a, tok, ed_key, JWS_EDDSA), 0);
	assert_int_equal(parse_verify(a, tok, ed2, JWS_EDDSA), -1);
	/* a key of the wrong type for the alg */
	assert_int_equal(parse_verify(a, tok, ec_key, JWS_EDDSA), -1);
	EVP_PKEY_free(ed2);
	json_decref(pl);
}

static void test_alg_mismatch(void **state)
{
	arena *a = *state;
	json_t *pl = sample_payload();
	/* RS256 token checked as PS256 with the same key: header alg differs from the expected */
	char *tok = jws_sign(a, rsa_key, JWS_RS256, "k", NULL, pl);
	assert_int_equal(parse_verify(a, tok, rsa_key, JWS_RS256), 0);
	assert_int_equal(parse_verify(a, tok, rsa_key, JWS_PS256), -1);
	tok = jws_sign(a, rsa_key, JWS_PS256, "k", NULL, pl);
	assert_int_equal(parse_verify(a, tok, rsa_key, JWS_PS256), 0);
	assert_int_equal(parse_verify(a, tok, rsa_key, JWS_RS256), -1);
	/* header claims PS256 but the signature is RS256's */
	char *rs = jws_sign(a, rsa_key, JWS_RS256, "k", NULL, pl);
	const char *d1 = strchr(rs, '.');
	const char *hdr = "{\"alg\":\"PS256\",\"kid\":\"k\"}";
	char *relabel = arena_printf(a, "%s%s", b64(a, hdr, strlen(hdr)), d1);
	assert_int_equal(parse_verify(a, relabel, rsa_key, JWS_PS256), -1);
	assert_int_equal(parse_verify(a, relabel, rsa_key, JWS_RS256), -1);
	/* a signature valid for the expected alg under a header naming another alg is refused */
	const char *hdrs[] = {"{\"alg\":\"PS256\"}", "{\"alg\":\"HS256\"}", "{\"alg\":\"none\"}"};
	const char *body = "{\"sub\":\"x\"}";
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		char *tbs = arena_printf(a, "%s.%s", b64(a, hdrs[i], strlen(hdrs[i])),
		                         b64(a, body, strlen(body)));
		size_t siglen = 0;
		unsigned char *sig = raw_sign(rsa_key, "SHA256", tbs, &siglen);
		char *t = arena_printf(a, "%s.%s", tbs, b64(a, sig, siglen));
		free(sig);
		assert_int_equal(parse_verify(a, t, rsa_key, JWS_RS256), -1);
		sig = raw_sign(ed_key, NULL, tbs, &siglen);
		t = arena_printf(a, "%s.%s", tbs, b64(a, sig, siglen));
		free(sig);
		assert_int_equal(parse_verify(a, t, ed_key, JWS_EDDSA), -1);
	}
	/* control: the same construction with the right header verifies */
	const char *rh = "{\"alg\":\"RS256\"}";
	char *tbs = arena_printf(a, "%s.%s", b64(a, rh, strlen(rh)), b64(a, body, strlen(body)));
	size_t siglen = 0;
	unsigned char *sig = raw_sign(rsa_key, "SHA256", tbs, &siglen);
	char *t = arena_printf(a, "%s.%s", tbs, b64(a, sig, siglen));
	free(sig);
	assert_int_equal(parse_verify(a, t, rsa_key, JWS_RS256), 0);
	json_decref(pl);
}

/* PS256 and RS256 interoperate with OpenSSL configured independently (PSS: MGF1-SHA256, salt 32).
 */
static void test_rsa_padding_params(void **state)
{
	arena *a = *state;
	const char *hdr = "{\"alg\":\"PS256\"}", *body = "{\"sub\":\"x\"}";
	char *tbs = arena_printf(a, "%s.%s", b64(a, hdr, strlen(hdr)), b64(a, body, strlen(body)));
	for (int salt = 20; salt <= 32; salt += 12) {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		EVP_PKEY_CTX *pctx = NULL;
		assert_int_equal(
		    EVP_DigestSignInit_ex(ctx, &pctx, "SHA256", NULL, NULL, rsa_key, NULL), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
		assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt), 1);
		unsigned char sig[512];
		size_t siglen = sizeof(sig);
		assert_int_equal(
		    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)tbs, strlen(tbs)), 1);
		EVP_MD_CTX_free(ctx);
		char *t = arena_printf(a, "%s.%s", tbs, b64(a, sig, siglen));
		assert_int_equal(parse_verify(a, t, rsa_key, JWS_PS256), salt == 32 ? 0 : -1);
	}
	/* and our PS256 signature passes an independent verifier demanding salt 32 */
	json_t *pl = sample_payload();
	char *tok = jws_sign(a, rsa_key, JWS_PS256, NULL, NULL, pl);
	json_decref(pl);
	jws_parsed p;
	assert_int_equal(jws_parse(a, tok, MAXLEN, &p), 0);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, &pctx, "SHA256", NULL, NULL, rsa_key, NULL),
	                 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32), 1);
	assert_int_equal(EVP_DigestVerify(ctx, p.sig, p.siglen,
	                                  (const unsigned char *)p.signing_input,
	                                  p.signing_input_len),
	                 1);
	EVP_MD_CTX_free(ctx);
	jws_parsed_free(&p);
}

static void test_none_and_hs256(void **state)
{
	arena *a = *state;
	const char *pl = "{\"sub\":\"admin\"}";
	jws_parsed p;
	/* unsecured JWS: empty signature part */
	char *none =
	    arena_printf(a, "%s.%s.", b64(a, "{\"alg\":\"none\"}", 14), b64(a, pl, strlen(pl)));
	assert_int_not_equal(jws_parse(a, none, MAXLEN, &p), 0);
	/* "none" with some signature bytes parses but never verifies */
	char *none2 = mk_token(a, "{\"alg\":\"none\"}", pl, "x", 1);
	assert_int_equal(jws_parse(a, none2, MAXLEN, &p), 0);
	for (int i = 0; i < JWS_ALG_COUNT; i++)
		assert_int_equal(jws_verify(&p, key_for((jws_alg)i), (jws_alg)i), -1);
	assert_int_equal(jws_verify(&p, ec_key, JWS_ALG_NONE), -1);
	jws_parsed_free(&p);

	/* HS256, keyed with the RSA public key PEM (the classic algorithm-confusion attack) */
	BIO *bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_PUBKEY(bio, rsa_key), 1);
	char *pem = NULL;
	long pemlen = BIO_get_mem_data(bio, &pem);
	const char *hdr = "{\"alg\":\"HS256\",\"kid\":\"k\"}";
	char *tbs = arena_printf(a, "%s.%s", b64(a, hdr, strlen(hdr)), b64(a, pl, strlen(pl)));
	unsigned char mac[32];
	unsigned int maclen = 0;
	assert_non_null(
	    HMAC(EVP_sha256(), pem, (int)pemlen, (unsigned char *)tbs, strlen(tbs), mac, &maclen));
	BIO_free(bio);
	char *hs = arena_printf(a, "%s.%s", tbs, b64(a, mac, maclen));
	assert_int_equal(jws_parse(a, hs, MAXLEN, &p), 0);
	assert_string_equal(p.alg, "HS256");
	for (int i = 0; i < JWS_ALG_COUNT; i++)
		assert_int_equal(jws_verify(&p, key_for((jws_alg)i), (jws_alg)i), -1);
	assert_int_equal(jws_verify(&p, rsa_key, JWS_ALG_NONE), -1);
	jws_parsed_free(&p);
}

static void test_es256_sig_length(void **state)
{
	arena *a = *state;
	const char *hdr = "{\"alg\":\"ES256\",\"kid\":\"k\"}", *pl = "{\"sub\":\"x\"}";
	char *tbs = arena_printf(a, "%s.%s", b64(a, hdr, strlen(hdr)), b64(a, pl, strlen(pl)));
	size_t derlen = 0;
	unsigned char *der = raw_sign(ec_key, "SHA256", tbs, &derlen);
	/* a DER signature (valid, but not the JOSE form) is refused */
	char *tok = arena_printf(a, "%s.%s", tbs, b64(a, der, derlen));
	assert_int_equal(parse_verify(a, tok, ec_key, JWS_ES256), -1);

	/* the same signature converted to r||s verifies; with a byte more or less it does not */
	const unsigned char *q = der;
	ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
	assert_non_null(es);
	unsigned char rs[66] = {0};
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(es, &r, &s);
	assert_int_equal(BN_bn2binpad(r, rs, 32), 32);
	assert_int_equal(BN_bn2binpad(s, rs + 32, 32), 32);
	ECDSA_SIG_free(es);
	free(der);
	tok = arena_printf(a, "%s.%s", tbs, b64(a, rs, 64));
	assert_int_equal(parse_verify(a, tok, ec_key, JWS_ES256), 0);
	tok = arena_printf(a, "%s.%s", tbs, b64(a, rs, 65));
	assert_int_equal(parse_verify(a, tok, ec_key, JWS_ES256), -1);
	tok = arena_printf(a, "%s.%s", tbs, b64(a, rs, 63));
	assert_int_equal(parse_verify(a, tok, ec_key, JWS_ES256), -1);
	memmove(rs + 1, rs, 64);
	rs[0] = 0;
	tok = arena_printf(a, "%s.%s", tbs, b64(a, rs, 66));
	assert_int_equal(parse_verify(a, tok, ec_key, JWS_ES256), -1);
}

static void test_parse_refusals(void **state)
{
	arena *a = *state;
	jws_parsed p;
	const char *hdr = "{\"alg\":\"ES256\"}", *pl = "{\"a\":1}";
	char *good = mk_token(a, hdr, pl, "sig", 3);
	assert_int_equal(jws_parse(a, good, MAXLEN, &p), 0);
	assert_null(p.kid);
	assert_int_equal(p.siglen, 3);
	assert_memory_equal(p.sig, "sig", 3);
	assert_int_equal(p.signing_input_len, (size_t)(strrchr(good, '.') - good));
	jws_parsed_free(&p);

	char *h = b64(a, hdr, strlen(hdr)), *b = b64(a, pl, strlen(pl)), *s = b64(a, "sig", 3);
	const char *bad[] = {
	    arena_printf(a, "%s.%s", h, b),             /* two parts */
	    arena_printf(a, "%s.%s.%s.%s", h, b, s, s), /* four parts */
	    arena_printf(a, "%s.%s.%s.", h, b, s),      /* trailing dot */
	    arena_printf(a, "%s..%s", h, s),            /* empty payload */
	    arena_printf(a, ".%s.%s", b, s),            /* empty header */
	    arena_printf(a, "%s.%s.%s=", h, b, s),      /* padding */
	    arena_printf(a, "%s.%s.c2l+", h, b),        /* standard base64 alphabet */
	    arena_printf(a, "%s.%s.c2lh", "eyJhbGciOiJFUzI1NiJ9==", b), /* padded header */
	    arena_printf(a, "%s.%s.%s", h, b, "c2lf"),  /* fine: control for the next */
	    arena_printf(a, "%s.%s.%s", h, b, "c2lnB"), /* impossible length */
	    arena_printf(a, "%s.%s.%s", h, b, "c2lnZ"), /* impossible length */
	    arena_printf(a, "%s.%s.%s", h, b, "c2k"),   /* control: "si" */
	    arena_printf(a, "%s.%s.%s", h, b, "c2l"),   /* non-zero trailing bits */
	    arena_printf(a, "%s .%s.%s", h, b, s),      /* whitespace */
	    "",
	    "..",
	};
	const int ok[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = jws_parse(a, bad[i], MAXLEN, &p);
		if (ok[i]) {
			assert_int_equal(rc, 0);
			jws_parsed_free(&p);
		} else {
			if (rc == 0)
				fail_msg("accepted #%zu: %s", i, bad[i]);
			assert_null(p.header);
			assert_null(p.payload);
		}
	}

	/* JSON: objects only, no duplicates, a string alg, no crit, a string kid */
	const char *hdrs[] = {
	    "[\"alg\",\"ES256\"]",
	    "\"ES256\"",
	    "123",
	    "null",
	    "{\"alg\":\"ES256\",\"alg\":\"none\"}",
	    "{\"alg\":\"ES256\",\"kid\":\"a\",\"kid\":\"b\"}",
	    "{\"kid\":\"k\"}",
	    "{\"alg\":256}",
	    "{\"alg\":null}",
	    "{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}",
	    "{\"alg\":\"ES256\",\"kid\":7}",
	    "{\"alg\":\"ES256\"} x",
	    "{\"alg\":\"ES\\u0000256\"}",
	    "{\"alg\":\"ES256\"",
	};
	for (size_t i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		char *t = mk_token(a, hdrs[i], pl, "sig", 3);
		if (jws_parse(a, t, MAXLEN, &p) == 0)
			fail_msg("accepted header %s", hdrs[i]);
	}
	const char *pls[] = {"[1,2]", "\"text\"", "42", "true", "{\"a\":1,\"a\":2}", "{\"a\":"};
	for (size_t i = 0; i < sizeof(pls) / sizeof(pls[0]); i++) {
		char *t = mk_token(a, hdr, pls[i], "sig", 3);
		if (jws_parse(a, t, MAXLEN, &p) == 0)
			fail_msg("accepted payload %s", pls[i]);
	}

	/* length limit */
	size_t len = strlen(good);
	assert_int_equal(jws_parse(a, good, len, &p), 0);
	jws_parsed_free(&p);
	assert_int_equal(jws_parse(a, good, len - 1, &p), -1);
	size_t big = 100000;
	char *huge = arena_alloc(a, big + 1);
	memset(huge, 'A', big);
	memcpy(huge, good, len);
	huge[len] = 'A'; /* still three parts, longer signature */
	assert_int_equal(jws_parse(a, huge, MAXLEN, &p), -1);
	assert_int_equal(jws_parse(a, NULL, MAXLEN, &p), -1);
}

static void test_half_hash(void **state)
{
	arena *a = *state;
	/* printf %s V | openssl dgst -sha256 -binary | head -c 16 | basenc --base64url (and
	 * sha512/32) */
	const char *v = "dNZX1hEZ9wBCzNL40Upu646bdzQA";
	assert_string_equal(jws_half_hash(a, JWS_ES256, v), "wfgvmE9VxjAudsl9lc6TqA");
	assert_string_equal(jws_half_hash(a, JWS_RS256, v), "wfgvmE9VxjAudsl9lc6TqA");
	assert_string_equal(jws_half_hash(a, JWS_PS256, v), "wfgvmE9VxjAudsl9lc6TqA");
	assert_string_equal(jws_half_hash(a, JWS_EDDSA, v),
	                    "8xltSlOGYrWy8W9yNvRlEth1i_bXW-JROWPLvCv5zog");
	assert_null(jws_half_hash(a, JWS_ALG_NONE, v));
}

static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPeb"
    "WKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368Q"
    "QMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2"
    "NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

static void test_thumbprint_rfc7638(void **state)
{
	(void)state;
	json_t *jwk = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kty", "RSA", "n", rfc7638_n, "e",
	                        "AQAB", "alg", "RS256", "kid", "2011-04-29");
	char err[128];
	EVP_PKEY *pk = jwk_to_pkey(jwk, err, sizeof(err));
	if (!pk)
		fail_msg("import: %s", err);
	assert_int_equal(EVP_PKEY_get_bits(pk), 2048);
	char tp[44];
	assert_int_equal(jwk_thumbprint(pk, tp), 0);
	assert_string_equal(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	/* re-export gives back the same n and e */
	json_t *pub = jwk_public(pk, "2011-04-29", JWS_RS256);
	assert_string_equal(json_string_value(json_object_get(pub, "n")), rfc7638_n);
	assert_string_equal(json_string_value(json_object_get(pub, "e")), "AQAB");
	assert_string_equal(json_string_value(json_object_get(pub, "use")), "sig");
	json_decref(pub);
	EVP_PKEY_free(pk);
	json_decref(jwk);
}

/* Exports key's public JWK, serialises and re-imports it, and verifies a fresh token with it. */
static void jwk_round_trip(arena *a, jws_alg alg, const char *kty)
{
	EVP_PKEY *key = key_for(alg);
	json_t *jwk = jwk_public(key, "kid-x", alg);
	assert_non_null(jwk);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")), kty);
	assert_string_equal(json_string_value(json_object_get(jwk, "alg")), jws_alg_name(alg));
	assert_string_equal(json_string_value(json_object_get(jwk, "kid")), "kid-x");
	assert_string_equal(json_string_value(json_object_get(jwk, "use")), "sig");
	assert_null(json_object_get(jwk, "d"));
	char *text = json_dumps(jwk, JSON_COMPACT);
	json_decref(jwk);
	json_t *back = json_loads(text, 0, NULL);
	free(text);
	char err[128];
	EVP_PKEY *pub = jwk_to_pkey(back, err, sizeof(err));
	if (!pub)
		fail_msg("import: %s", err);
	assert_int_equal(EVP_PKEY_eq(pub, key), 1);

	json_t *pl = sample_payload();
	char *tok = jws_sign(a, key, alg, "kid-x", NULL, pl);
	assert_int_equal(parse_verify(a, tok, pub, alg), 0);
	/* and the thumbprint is the same from either side */
	char t1[44], t2[44];
	assert_int_equal(jwk_thumbprint(key, t1), 0);
	assert_int_equal(jwk_thumbprint(pub, t2), 0);
	assert_string_equal(t1, t2);
	assert_int_equal(strlen(t1), 43);

	/* found in a JWKS by kid and, being the only one fitting alg, without */
	json_t *jwks = json_pack("{s:[O]}", "keys", back);
	EVP_PKEY *f = jwks_find(jwks, "kid-x", alg, err, sizeof(err));
	assert_non_null(f);
	assert_int_equal(EVP_PKEY_eq(f, key), 1);
	EVP_PKEY_free(f);
	f = jwks_find(jwks, NULL, alg, err, sizeof(err));
	assert_non_null(f);
	EVP_PKEY_free(f);
	assert_null(jwks_find(jwks, "other", alg, err, sizeof(err)));
	json_decref(jwks);

	json_decref(pl);
	json_decref(back);
	EVP_PKEY_free(pub);
}

static void test_jwk_round_trip_ec(void **state)
{
	jwk_round_trip(*state, JWS_ES256, "EC");
	json_t *jwk = jwk_public(ec_key, NULL, JWS_ES256);
	assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
	assert_null(json_object_get(jwk, "kid"));
	json_decref(jwk);
	/* an alg the key cannot do */
	assert_null(jwk_public(ec_key, "k", JWS_RS256));
}

/* A P-256 key whose x or y has a leading zero byte still exports 32-byte coordinates. */
static void test_jwk_ec_padding(void **state)
{
	(void)state;
	EVP_PKEY *k = NULL;
	for (int i = 0; i < 20000 && !k; i++) {
		EVP_PKEY *c = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		BIGNUM *x = NULL, *y = NULL;
		assert_int_equal(EVP_PKEY_get_bn_param(c, OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
		assert_int_equal(EVP_PKEY_get_bn_param(c, OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
		if (BN_num_bytes(x) < 32 || BN_num_bytes(y) < 32)
			k = c;
		else
			EVP_PKEY_free(c);
		BN_free(x);
		BN_free(y);
	}
	assert_non_null(k);
	json_t *jwk = jwk_public(k, NULL, JWS_ES256);
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
	char err[128];
	EVP_PKEY *pub = jwk_to_pkey(jwk, err, sizeof(err));
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_eq(pub, k), 1);
	EVP_PKEY_free(pub);
	json_decref(jwk);
	EVP_PKEY_free(k);
}

static void test_jwk_round_trip_rsa(void **state)
{
	jwk_round_trip(*state, JWS_RS256, "RSA");
	jwk_round_trip(*state, JWS_PS256, "RSA");
}

static void test_jwk_round_trip_okp(void **state)
{
	jwk_round_trip(*state, JWS_EDDSA, "OKP");
	json_t *jwk = jwk_public(ed_key, NULL, JWS_EDDSA);
	assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "Ed25519");
	assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
	json_decref(jwk);
}

static void test_jwk_refusals(void **state)
{
	arena *a = *state;
	char err[128];
	/* private members */
	const char *priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
	for (size_t i = 0; i < sizeof(priv) / sizeof(priv[0]); i++) {
		json_t *jwk = jwk_public(ec_key, "k", JWS_ES256);
		json_object_set_new(jwk, priv[i], json_string("AAAA"));
		assert_null(jwk_to_pkey(jwk, err, sizeof(err)));
		assert_non_null(strstr(err, "private"));
		json_decref(jwk);
	}
	/* an exported private EC key as a JWK with d: build d from the real key */
	{
		BIGNUM *d = NULL;
		assert_int_equal(EVP_PKEY_get_bn_param(ec_key, OSSL_PKEY_PARAM_PRIV_KEY, &d), 1);
		unsigned char db[32];
		assert_int_equal(BN_bn2binpad(d, db, 32), 32);
		BN_clear_free(d);
		json_t *jwk = jwk_public(ec_key, "k", JWS_ES256);
		json_object_set_new(jwk, "d", json_string(b64(a, db, 32)));
		assert_null(jwk_to_pkey(jwk, err, sizeof(err)));
		json_decref(jwk);
	}
	/* a point not on the curve: flip a bit of y */
	{
		json_t *jwk = jwk_public(ec_key, "k", JWS_ES256);
		const char *y = json_string_value(json_object_get(jwk, "y"));
		unsigned char yb[33];
		assert_int_equal(b64url_decode(yb, y, strlen(y)), 32);
		yb[31] ^= 1;
		json_t *off = json_deep_copy(jwk);
		json_object_set_new(off, "y", json_string(b64(a, yb, 32)));
		EVP_PKEY *ok = jwk_to_pkey(jwk, err, sizeof(err));
		assert_non_null(ok);
		EVP_PKEY_free(ok);
		assert_null(jwk_to_pkey(off, err, sizeof(err)));
		/* wrong coordinate lengths, wrong curve */
		json_object_set_new(off, "y", json_string(b64(a, yb, 31)));
		assert_null(jwk_to_pkey(off, err, sizeof(err)));
		json_object_set(off, "y", json_object_get(jwk, "y"));
		json_object_set_new(off, "crv", json_string("P-384"));
		assert_null(jwk_to_pkey(off, err, sizeof(err)));
		json_decref(off);
		json_decref(jwk);
	}
	/* a 1024-bit RSA modulus (the top half of the RFC 7638 key's, made odd) */
	{
		unsigned char nb[300];
		long nl = b64url_decode(nb, rfc7638_n, strlen(rfc7638_n));
		assert_int_equal(nl, 256);
		nb[127] |= 1;
		json_t *jwk =
		    json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", b64(a, nb, 128), "e", "AQAB");
		assert_null(jwk_to_pkey(jwk, err, sizeof(err)));
		assert_non_null(strstr(err, "1024"));
		json_decref(jwk);
		/* control: the full 2048-bit one is accepted */
		jwk = json_pack("{s:s, s:s, s:s}", "kty", "RSA", "n", rfc7638_n, "e", "AQAB");
		EVP_PKEY *pk = jwk_to_pkey(jwk, err, sizeof(err));
		assert_non_null(pk);
		EVP_PKEY_free(pk);
		/* even exponent, padded base64url */
		json_object_set_new(jwk, "e", json_string("AQAA"));
		assert_null(jwk_to_pkey(jwk, err, sizeof(err)));
		json_object_set_new(jwk, "e", json_string("AQAB="));
		assert_null(jwk_to_pkey(jwk, err, sizeof(err)));
		json_decref(jwk);
	}
	/* other shapes */
	json_t *j = json_pack("{s:s, s:s}", "kty", "oct", "x", "AAAA");
	assert_null(jwk_to_pkey(j, err, sizeof(err)));
	json_decref(j);
	j = json_pack("{s:s, s:s, s:s}", "kty", "OKP", "crv", "X25519", "x",
	              "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	assert_null(jwk_to_pkey(j, err, sizeof(err)));
	json_decref(j);
	j = json_array();
	assert_null(jwk_to_pkey(j, err, sizeof(err)));
	json_decref(j);
	assert_null(jwk_to_pkey(NULL, NULL, 0));
}

static void test_jwks_find(void **state)
{
	(void)state;
	char err[128];
	json_t *keys = json_array();
	json_array_append_new(keys, jwk_public(ec_key, "ec1", JWS_ES256));
	json_array_append_new(keys, jwk_public(ec_key2, "ec2", JWS_ES256));
	json_array_append_new(keys, jwk_public(ed_key, "ed", JWS_EDDSA));
	json_t *enc = jwk_public(rsa_key, "rsa-enc", JWS_ALG_NONE);
	json_object_set_new(enc, "use", json_string("enc"));
	json_array_append_new(keys, enc);
	json_array_append_new(keys, json_pack("{s:s, s:s}", "kty", "oct", "kid", "junk"));
	json_t *jwks = json_pack("{s:o}", "keys", keys);

	EVP_PKEY *k = jwks_find(jwks, "ec2", JWS_ES256, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_eq(k, ec_key2), 1);
	EVP_PKEY_free(k);
	/* kid right, alg wrong */
	assert_null(jwks_find(jwks, "ec2", JWS_EDDSA, err, sizeof(err)));
	/* two EC keys: no kid is ambiguous */
	assert_null(jwks_find(jwks, NULL, JWS_ES256, err, sizeof(err)));
	/* one Ed25519 key: no kid is fine */
	k = jwks_find(jwks, NULL, JWS_EDDSA, err, sizeof(err));
	assert_non_null(k);
	assert_int_equal(EVP_PKEY_eq(k, ed_key), 1);
	EVP_PKEY_free(k);
	/* an encryption key is not a signing key */
	assert_null(jwks_find(jwks, "rsa-enc", JWS_RS256, err, sizeof(err)));
	assert_null(jwks_find(jwks, "junk", JWS_ES256, err, sizeof(err)));
	assert_null(jwks_find(jwks, "ec1", JWS_ALG_NONE, err, sizeof(err)));
	json_decref(jwks);
	json_t *notjwks = json_pack("{s:s}", "keys", "x");
	assert_null(jwks_find(notjwks, NULL, JWS_ES256, err, sizeof(err)));
	json_decref(notjwks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alg_names),
	    cmocka_unit_test(test_alg_fits_key),
	    cmocka_unit_test_setup_teardown(test_round_trip_es256, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_rs256, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_ps256, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_round_trip_eddsa, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_tampered_payload, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_other_key, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_alg_mismatch, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_rsa_padding_params, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_none_and_hs256, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_es256_sig_length, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_parse_refusals, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_half_hash, arena_setup, arena_teardown),
	    cmocka_unit_test(test_thumbprint_rfc7638),
	    cmocka_unit_test_setup_teardown(test_jwk_round_trip_ec, arena_setup, arena_teardown),
	    cmocka_unit_test(test_jwk_ec_padding),
	    cmocka_unit_test_setup_teardown(test_jwk_round_trip_rsa, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_jwk_round_trip_okp, arena_setup, arena_teardown),
	    cmocka_unit_test_setup_teardown(test_jwk_refusals, arena_setup, arena_teardown),
	    cmocka_unit_test(test_jwks_find),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
