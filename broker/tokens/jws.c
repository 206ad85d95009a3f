/* jws.c — owns compact JWS: signing (ES256, RS256, PS256, EdDSA) through OpenSSL EVP, parsing of
 * untrusted compact tokens, verification under a caller-chosen algorithm, and the OIDC half hashes
 * (at_hash, c_hash). "none" and HMAC algorithms are never recognised. */
#include "jws.h"
#include "../util/b64url.h"
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>

#define ES256_PART 32 /* bytes of r and of s in the JOSE form */

static const char *const alg_names[JWS_ALG_COUNT] = {
    [JWS_ES256] = "ES256",
    [JWS_RS256] = "RS256",
    [JWS_PS256] = "PS256",
    [JWS_EDDSA] = "EdDSA",
};

jws_alg jws_alg_from_name(const char *name)
{
	if (!name)
		return JWS_ALG_NONE;
	for (int i = 0; i < JWS_ALG_COUNT; i++)
		if (strcmp(name, alg_names[i]) == 0)
			return (jws_alg)i;
	return JWS_ALG_NONE;
}

const char *jws_alg_name(jws_alg alg)
{
	if (alg < 0 || alg >= JWS_ALG_COUNT)
		return NULL;
	return alg_names[alg];
}

static int is_p256(EVP_PKEY *pkey)
{
	char group[64];
	size_t len = 0;
	if (!EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                                   &len) != 1) {
		ERR_clear_error();
		return 0;
	}
	int nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	return nid == NID_X9_62_prime256v1;
}

int jws_alg_fits_key(jws_alg alg, EVP_PKEY *pkey)
{
	if (!pkey)
		return 0;
	switch (alg) {
	case JWS_ES256:
		return is_p256(pkey);
	case JWS_RS256:
	case JWS_PS256:
		return EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= 2048;
	case JWS_EDDSA:
		return EVP_PKEY_is_a(pkey, "ED25519");
	default:
		return 0;
	}
}

/* Sets up ctx for signing (sign != 0) or verifying with key under alg. Returns 0 or -1. */
static int digest_init(EVP_MD_CTX *ctx, EVP_PKEY *key, jws_alg alg, int sign)
{
	EVP_PKEY_CTX *pctx = NULL;
	const char *md = alg == JWS_EDDSA ? NULL : "SHA256";
	int ok = sign ? EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL)
	              : EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL);
	if (ok != 1)
		return -1;
	if (alg == JWS_RS256) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
			return -1;
	} else if (alg == JWS_PS256) {
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1)
			return -1;
	}
	return 0;
}

/* DER ECDSA-Sig-Value -> r||s, 32 bytes each. Returns 0 or -1. */
static int ecdsa_der_to_jose(const unsigned char *der, size_t derlen, unsigned char out[64])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	int rc = -1;
	if (!sig)
		return -1;
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, ES256_PART) == ES256_PART &&
	    BN_bn2binpad(s, out + ES256_PART, ES256_PART) == ES256_PART)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

/* r||s (exactly 64 bytes) -> DER, malloc'd into *der. Returns the DER length or -1. */
static int ecdsa_jose_to_der(const unsigned char *jose, size_t len, unsigned char **der)
{
	if (len != 2 * ES256_PART)
		return -1;
	BIGNUM *r = BN_bin2bn(jose, ES256_PART, NULL);
	BIGNUM *s = BN_bin2bn(jose + ES256_PART, ES256_PART, NULL);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	int n = -1;
	if (!r || !s || !sig || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return -1;
	}
	*der = NULL;
	n = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	if (n <= 0) {
		OPENSSL_free(*der);
		*der = NULL;
		return -1;
	}
	return n;
}

static char *b64_arena(arena *a, const void *data, size_t n)
{
	char *out = arena_alloc(a, b64url_enc_len(n) + 1);
	b64url_encode(out, data, n);
	return out;
}

char *jws_sign(arena *a, EVP_PKEY *key, jws_alg alg, const char *kid, const char *typ,
               const json_t *payload)
{
	if (!a || !key || !payload || !json_is_object(payload) || !jws_alg_fits_key(alg, key))
		return NULL;
	char *result = NULL, *hdr_s = NULL, *pl_s = NULL;
	unsigned char *sig = NULL;
	EVP_MD_CTX *ctx = NULL;
	json_t *hdr = json_object();
	if (!hdr || json_object_set_new(hdr, "alg", json_string(jws_alg_name(alg))) != 0)
		goto out;
	if (kid && json_object_set_new(hdr, "kid", json_string(kid)) != 0)
		goto out;
	if (typ && json_object_set_new(hdr, "typ", json_string(typ)) != 0)
		goto out;
	hdr_s = json_dumps(hdr, JSON_COMPACT);
	pl_s = json_dumps(payload, JSON_COMPACT);
	if (!hdr_s || !pl_s)
		goto out;
	size_t hl = strlen(hdr_s), pl = strlen(pl_s);
	size_t h64 = b64url_enc_len(hl), p64 = b64url_enc_len(pl);
	/* room for the signature part too: RSA-8192 is 1024 bytes, plenty for every alg here */
	size_t cap = h64 + 1 + p64 + 1 + b64url_enc_len(1024) + 1;
	char *buf = arena_alloc(a, cap);
	b64url_encode(buf, hdr_s, hl);
	buf[h64] = '.';
	b64url_encode(buf + h64 + 1, pl_s, pl);
	size_t tbslen = h64 + 1 + p64;

	ctx = EVP_MD_CTX_new();
	if (!ctx || digest_init(ctx, key, alg, 1) != 0)
		goto out;
	size_t siglen = 0;
	if (EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)buf, tbslen) != 1 ||
	    siglen == 0 || siglen > 1024)
		goto out;
	sig = malloc(siglen);
	if (!sig || EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)buf, tbslen) != 1)
		goto out;
	unsigned char jose[2 * ES256_PART];
	const unsigned char *final = sig;
	if (alg == JWS_ES256) {
		if (ecdsa_der_to_jose(sig, siglen, jose) != 0)
			goto out;
		final = jose;
		siglen = sizeof(jose);
	}
	buf[tbslen] = '.';
	b64url_encode(buf + tbslen + 1, final, siglen);
	result = buf;
out:
	if (!result)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(sig);
	free(hdr_s);
	free(pl_s);
	json_decref(hdr);
	return result;
}

/* Decodes one base64url part of a JWS (strict) into a malloc'd buffer. Returns it or NULL. */
static unsigned char *decode_part(const char *s, size_t len, size_t *outlen)
{
	unsigned char *out = malloc(len * 3 / 4 + 1);
	if (!out)
		return NULL;
	long n = b64url_decode(out, s, len);
	if (n < 0) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)n;
	return out;
}

/* Decodes a base64url part that must hold a JSON object. */
static json_t *decode_object(const char *s, size_t len)
{
	size_t n = 0;
	unsigned char *raw = decode_part(s, len, &n);
	if (!raw)
		return NULL;
	json_error_t err;
	json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &err);
	free(raw);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int jws_parse(arena *a, const char *compact, size_t maxlen, jws_parsed *out)
{
	if (!out)
		return -1;
	memset(out, 0, sizeof(*out));
	if (!a || !compact)
		return -1;
	size_t len = strnlen(compact, maxlen + 1);
	if (len > maxlen || len == 0)
		return -1;
	const char *d1 = memchr(compact, '.', len);
	if (!d1)
		return -1;
	const char *d2 = memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - compact));
	if (!d2)
		return -1;
	const char *end = compact + len;
	if (memchr(d2 + 1, '.', (size_t)(end - (d2 + 1))))
		return -1;
	size_t hlen = (size_t)(d1 - compact), plen = (size_t)(d2 - d1 - 1),
	       slen = (size_t)(end - d2 - 1);
	if (hlen == 0 || plen == 0 || slen == 0)
		return -1;

	json_t *hdr = decode_object(compact, hlen);
	if (!hdr)
		return -1;
	json_t *payload = NULL;
	json_t *alg = json_object_get(hdr, "alg");
	json_t *kid = json_object_get(hdr, "kid");
	/* crit names extensions we would have to understand: we understand none */
	if (!json_is_string(alg) || (kid && !json_is_string(kid)) || json_object_get(hdr, "crit"))
		goto fail;
	payload = decode_object(d1 + 1, plen);
	if (!payload)
		goto fail;
	unsigned char *sig = arena_alloc(a, slen * 3 / 4 + 1);
	long siglen = b64url_decode(sig, d2 + 1, slen);
	if (siglen <= 0)
		goto fail;

	out->header = hdr;
	out->payload = payload;
	out->alg = json_string_value(alg);
	out->kid = kid ? json_string_value(kid) : NULL;
	out->signing_input = arena_strndup(a, compact, (size_t)(d2 - compact));
	out->signing_input_len = (size_t)(d2 - compact);
	out->sig = sig;
	out->siglen = (size_t)siglen;
	return 0;
fail:
	json_decref(hdr);
	json_decref(payload);
	return -1;
}

void jws_parsed_free(jws_parsed *p)
{
	if (!p)
		return;
	json_decref(p->header);
	json_decref(p->payload);
	memset(p, 0, sizeof(*p));
}

int jws_verify(const jws_parsed *p, EVP_PKEY *key, jws_alg alg)
{
	if (!p || !p->alg || !p->signing_input || !p->sig || !key)
		return -1;
	if (alg < 0 || alg >= JWS_ALG_COUNT || jws_alg_from_name(p->alg) != alg ||
	    !jws_alg_fits_key(alg, key))
		return -1;
	const unsigned char *sig = p->sig;
	size_t siglen = p->siglen;
	unsigned char *der = NULL;
	switch (alg) {
	case JWS_ES256: {
		int n = ecdsa_jose_to_der(p->sig, p->siglen, &der);
		if (n < 0)
			return -1;
		sig = der;
		siglen = (size_t)n;
		break;
	}
	case JWS_RS256:
	case JWS_PS256:
		if (siglen != (size_t)EVP_PKEY_get_size(key))
			return -1;
		break;
	case JWS_EDDSA:
		if (siglen != 64)
			return -1;
		break;
	default:
		return -1;
	}
	int rc = -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx && digest_init(ctx, key, alg, 0) == 0 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)p->signing_input,
	                     p->signing_input_len) == 1)
		rc = 0;
	if (rc)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

char *jws_half_hash(arena *a, jws_alg alg, const char *value)
{
	if (!a || !value)
		return NULL;
	const EVP_MD *md;
	switch (alg) {
	case JWS_ES256:
	case JWS_RS256:
	case JWS_PS256:
		md = EVP_sha256();
		break;
	case JWS_EDDSA:
		md = EVP_sha512();
		break;
	default:
		return NULL;
	}
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	if (EVP_Digest(value, strlen(value), h, &hl, md, NULL) != 1) {
		ERR_clear_error();
		return NULL;
	}
	return b64_arena(a, h, hl / 2);
}

/* ---- verification under the wider set of algorithms upstream IdPs use ---- */

typedef struct verify_alg {
	const char *name, *md; /* md NULL: EdDSA */
	int pss, curve, part;  /* curve: the EC NID (part: bytes of r and of s), 0 for RSA */
} verify_alg;

static const verify_alg verify_algs[] = {
    {"RS256", "SHA256", 0, 0, 0},
    {"RS384", "SHA384", 0, 0, 0},
    {"RS512", "SHA512", 0, 0, 0},
    {"PS256", "SHA256", 1, 0, 0},
    {"PS384", "SHA384", 1, 0, 0},
    {"PS512", "SHA512", 1, 0, 0},
    {"ES256", "SHA256", 0, NID_X9_62_prime256v1, 32},
    {"ES384", "SHA384", 0, NID_secp384r1, 48},
    {"ES512", "SHA512", 0, NID_secp521r1, 66},
    {"EdDSA", NULL, 0, 0, 0},
};

static const verify_alg *verify_alg_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof verify_algs / sizeof verify_algs[0]; i++)
		if (strcmp(verify_algs[i].name, name) == 0)
			return &verify_algs[i];
	return NULL;
}

int jws_verify_alg_known(const char *name)
{
	return verify_alg_of(name) != NULL;
}

static int ec_nid(EVP_PKEY *pkey)
{
	char group[64];
	size_t len = 0;
	if (!EVP_PKEY_is_a(pkey, "EC") ||
	    EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
	                                   &len) != 1) {
		ERR_clear_error();
		return NID_undef;
	}
	int nid = OBJ_sn2nid(group);
	return nid == NID_undef ? EC_curve_nist2nid(group) : nid;
}

static int fits(const verify_alg *va, EVP_PKEY *key)
{
	if (!va->md)
		return EVP_PKEY_is_a(key, "ED25519");
	if (va->curve)
		return ec_nid(key) == va->curve;
	return EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048;
}

/* r||s of the JOSE form -> DER; returns the DER length or -1. */
static int ec_jose_to_der(const unsigned char *jose, size_t len, int part, unsigned char **der)
{
	if (len != 2 * (size_t)part)
		return -1;
	BIGNUM *r = BN_bin2bn(jose, part, NULL), *s = BN_bin2bn(jose + part, part, NULL);
	ECDSA_SIG *sig = ECDSA_SIG_new();
	if (!r || !s || !sig || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return -1;
	}
	*der = NULL;
	int n = i2d_ECDSA_SIG(sig, der);
	ECDSA_SIG_free(sig);
	return n > 0 ? n : -1;
}

int jws_key_fits_named(EVP_PKEY *key, const char *name)
{
	const verify_alg *va = verify_alg_of(name);
	return va && key && fits(va, key);
}

int jws_verify_named(const jws_parsed *p, EVP_PKEY *key, const char *name)
{
	const verify_alg *va = verify_alg_of(name);
	if (!va || !p || !p->alg || !p->sig || !key || strcmp(p->alg, name) || !fits(va, key))
		return -1;
	const unsigned char *sig = p->sig;
	size_t siglen = p->siglen;
	unsigned char *der = NULL;
	if (va->curve) {
		int n = ec_jose_to_der(p->sig, p->siglen, va->part, &der);
		if (n < 0)
			return -1;
		sig = der;
		siglen = (size_t)n;
	} else if (siglen != (size_t)EVP_PKEY_get_size(key)) {
		return -1;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = ctx && EVP_DigestVerifyInit_ex(ctx, &pctx, va->md, NULL, NULL, key, NULL) == 1;
	if (ok && !va->curve && va->md)
		ok = EVP_PKEY_CTX_set_rsa_padding(pctx, va->pss ? RSA_PKCS1_PSS_PADDING
		                                                : RSA_PKCS1_PADDING) == 1 &&
		     (!va->pss ||
		      (EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, va->md, NULL) == 1 &&
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1));
	ok = ok && EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)p->signing_input,
	                            p->signing_input_len) == 1;
	if (!ok)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}
