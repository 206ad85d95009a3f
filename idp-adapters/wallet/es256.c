/* es256.c — the wallet adapter's ES256 JWS (P-256, SHA-256) over OpenSSL: signing its request
 * object, verifying the PID issuer's and the holder's signatures with keys that come from the
 * credential itself (x5c, cnf), which the hub's JWKS-based jws_verify does not cover; EC JWK
 * import and export. */
#include "wallet_int.h"
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/param_build.h>
#include <string.h>

static char *json_b64url(const wallet *w, idhub_arena *a, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	if (!s)
		return NULL;
	char *r = w->svc->b64url_encode(a, s, strlen(s));
	free(s);
	return r;
}

const char *wallet_es256_sign(const wallet *w, idhub_arena *a, EVP_PKEY *key, json_t *header,
                              json_t *payload)
{
	const idhub_services *s = w->svc;
	char *h = json_b64url(w, a, header), *p = json_b64url(w, a, payload);
	if (!h || !p)
		return NULL;
	char *input = s->sprintf(a, "%s.%s", h, p);
	unsigned char der[80], raw[64] = {0};
	size_t dlen = sizeof der;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	         EVP_DigestSign(md, der, &dlen, (unsigned char *)input, strlen(input)) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return NULL;
	const unsigned char *q = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)dlen);
	if (!sig)
		return NULL;
	ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
	     BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32;
	ECDSA_SIG_free(sig);
	return ok ? s->sprintf(a, "%s.%s", input, s->b64url_encode(a, raw, 64)) : NULL;
}

static json_t *b64url_json(const wallet *w, idhub_arena *a, const char *p, size_t n)
{
	char *seg = w->svc->alloc(a, n + 1);
	memcpy(seg, p, n);
	unsigned char *out;
	long len = w->svc->b64url_decode(a, seg, &out);
	if (len < 0)
		return NULL;
	json_t *j = json_loadb((char *)out, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
	if (j && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int wallet_jws_parts(const wallet *w, idhub_arena *a, const char *tok, json_t **header,
                     json_t **payload)
{
	const char *d1 = strchr(tok, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d1 || !d2 || strchr(d2 + 1, '.'))
		return -1;
	*header = b64url_json(w, a, tok, (size_t)(d1 - tok));
	*payload = b64url_json(w, a, d1 + 1, (size_t)(d2 - d1 - 1));
	if (*header && *payload)
		return 0;
	json_decref(*header);
	json_decref(*payload);
	*header = *payload = NULL;
	return -1;
}

static int check_sig(const wallet *w, idhub_arena *a, EVP_PKEY *key, const char *tok)
{
	const char *dot = strrchr(tok, '.');
	unsigned char *raw;
	if (w->svc->b64url_decode(a, dot + 1, &raw) != 64)
		return -1;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL), *sv = BN_bin2bn(raw + 32, 32, NULL);
	if (!sig || !r || !sv || !ECDSA_SIG_set0(sig, r, sv)) {
		BN_free(r);
		BN_free(sv);
		ECDSA_SIG_free(sig);
		return -1;
	}
	unsigned char *der = NULL;
	int dlen = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = dlen > 0 && md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	         EVP_DigestVerify(md, der, (size_t)dlen, (const unsigned char *)tok,
	                          (size_t)(dot - tok)) == 1;
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

int wallet_es256_verify(const wallet *w, idhub_arena *a, EVP_PKEY *key, const char *tok,
                        json_t **header, json_t **payload, char *why, size_t whylen)
{
	*header = *payload = NULL;
	if (wallet_jws_parts(w, a, tok, header, payload)) {
		snprintf(why, whylen, "malformed JWS");
		return -1;
	}
	const char *alg = json_string_value(json_object_get(*header, "alg"));
	/* the algorithm is pinned (HAIP): never none, never one the token chooses */
	if (!alg || strcmp(alg, "ES256") != 0)
		snprintf(why, whylen, "alg %s is not ES256", alg ? alg : "(missing)");
	else if (json_object_get(*header, "crit"))
		snprintf(why, whylen, "crit header not understood");
	else if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC || EVP_PKEY_get_bits(key) != 256)
		snprintf(why, whylen, "key is not P-256");
	else if (check_sig(w, a, key, tok))
		snprintf(why, whylen, "signature does not verify");
	else
		return 0;
	json_decref(*header);
	json_decref(*payload);
	*header = *payload = NULL;
	return -1;
}

EVP_PKEY *wallet_jwk_to_key(const wallet *w, idhub_arena *a, json_t *jwk)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty")),
	           *crv = json_string_value(json_object_get(jwk, "crv")),
	           *x = json_string_value(json_object_get(jwk, "x")),
	           *y = json_string_value(json_object_get(jwk, "y"));
	unsigned char *xb, *yb, pt[65] = {4};
	if (!kty || !crv || !x || !y || strcmp(kty, "EC") || strcmp(crv, "P-256") ||
	    json_object_get(jwk, "d") || w->svc->b64url_decode(a, x, &xb) != 32 ||
	    w->svc->b64url_decode(a, y, &yb) != 32)
		return NULL;
	memcpy(pt + 1, xb, 32);
	memcpy(pt + 33, yb, 32);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	/* fromdata checks the point is on the curve */
	if (b && c &&
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt) &&
	    (params = OSSL_PARAM_BLD_to_param(b)) && EVP_PKEY_fromdata_init(c) == 1 &&
	    EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(c);
	return k;
}

json_t *wallet_key_to_jwk(const wallet *w, idhub_arena *a, EVP_PKEY *key)
{
	unsigned char pt[65];
	size_t n = 0;
	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &n) ||
	    n != 65 || pt[0] != 4)
		return NULL;
	return json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x",
	                 w->svc->b64url_encode(a, pt + 1, 32), "y",
	                 w->svc->b64url_encode(a, pt + 33, 32));
}
