/* jwk.c — owns JSON Web Keys: public JWK export of EVP_PKEYs (EC P-256, RSA, OKP Ed25519), strict
 * import of public JWKs (private members refused, EC points checked, RSA >= 2048 bits), RFC 7638
 * thumbprints, and key selection from a JWKS. */
#include "jwk.h"
#include "../util/b64url.h"
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EC_COORD 32
#define ED25519_LEN 32
#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 8192

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static json_t *b64_json(const unsigned char *data, size_t n)
{
	char *s = malloc(b64url_enc_len(n) + 1);
	if (!s)
		return NULL;
	b64url_encode(s, data, n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

/* The base64url of a BIGNUM's minimal big-endian form, or left-padded to pad bytes if pad > 0. */
static json_t *bn_json(const BIGNUM *bn, int pad)
{
	int n = pad > 0 ? pad : BN_num_bytes(bn);
	if (n <= 0)
		n = 1; /* zero encodes as one zero byte */
	unsigned char *buf = malloc((size_t)n);
	if (!buf)
		return NULL;
	json_t *j = NULL;
	if (BN_bn2binpad(bn, buf, n) == n)
		j = b64_json(buf, (size_t)n);
	free(buf);
	return j;
}

static int set_bn(json_t *o, EVP_PKEY *pkey, const char *param, const char *member, int pad)
{
	BIGNUM *bn = NULL;
	if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
		return -1;
	json_t *j = bn_json(bn, pad);
	BN_free(bn);
	return j ? json_object_set_new(o, member, j) : -1;
}

json_t *jwk_public(EVP_PKEY *pkey, const char *kid, jws_alg alg)
{
	if (!pkey)
		return NULL;
	if (alg != JWS_ALG_NONE && !jws_alg_fits_key(alg, pkey))
		return NULL;
	json_t *o = json_object();
	int rc = -1;
	if (!o)
		return NULL;
	if (jws_alg_fits_key(JWS_ES256, pkey)) {
		rc = json_object_set_new(o, "kty", json_string("EC")) ||
		     json_object_set_new(o, "crv", json_string("P-256")) ||
		     set_bn(o, pkey, OSSL_PKEY_PARAM_EC_PUB_X, "x", EC_COORD) ||
		     set_bn(o, pkey, OSSL_PKEY_PARAM_EC_PUB_Y, "y", EC_COORD);
	} else if (EVP_PKEY_is_a(pkey, "RSA")) {
		rc = json_object_set_new(o, "kty", json_string("RSA")) ||
		     set_bn(o, pkey, OSSL_PKEY_PARAM_RSA_N, "n", 0) ||
		     set_bn(o, pkey, OSSL_PKEY_PARAM_RSA_E, "e", 0);
	} else if (EVP_PKEY_is_a(pkey, "ED25519")) {
		unsigned char x[ED25519_LEN];
		size_t xl = sizeof(x);
		rc = EVP_PKEY_get_raw_public_key(pkey, x, &xl) != 1 || xl != sizeof(x) ||
		     json_object_set_new(o, "kty", json_string("OKP")) ||
		     json_object_set_new(o, "crv", json_string("Ed25519")) ||
		     json_object_set_new(o, "x", b64_json(x, xl));
	}
	if (rc == 0 && kid)
		rc = json_object_set_new(o, "kid", json_string(kid));
	if (rc == 0 && alg != JWS_ALG_NONE)
		rc = json_object_set_new(o, "alg", json_string(jws_alg_name(alg)));
	if (rc == 0)
		rc = json_object_set_new(o, "use", json_string("sig"));
	if (rc != 0) {
		ERR_clear_error();
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Strictly decodes the base64url string member name of jwk into a malloc'd buffer. */
static unsigned char *member_bytes(const json_t *jwk, const char *name, size_t *len)
{
	const char *s = json_string_value(json_object_get(jwk, name));
	if (!s)
		return NULL;
	size_t sl = strlen(s);
	unsigned char *out = malloc(sl * 3 / 4 + 1);
	if (!out)
		return NULL;
	long n = b64url_decode(out, s, sl);
	if (n <= 0) {
		free(out);
		return NULL;
	}
	*len = (size_t)n;
	return out;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;
	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* The curves of EC JWKs: P-256 for the hub's own keys and clients (ES256), P-384 and P-521 for
 * upstream IdPs' ES384 / ES512 ID tokens (verification only). */
static const struct {
	const char *crv, *group;
	size_t coord;
} ec_curves[] = {
    {"P-256", "prime256v1", 32}, {"P-384", "secp384r1", 48}, {"P-521", "secp521r1", 66}};

static EVP_PKEY *import_ec(const json_t *jwk, char *err, size_t errlen)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	size_t c = 0;
	while (crv && c < sizeof ec_curves / sizeof ec_curves[0] && strcmp(crv, ec_curves[c].crv))
		c++;
	if (!crv || c == sizeof ec_curves / sizeof ec_curves[0]) {
		set_err(err, errlen, "unsupported EC curve");
		return NULL;
	}
	const size_t coord = ec_curves[c].coord;
	size_t xl = 0, yl = 0;
	unsigned char *x = member_bytes(jwk, "x", &xl), *y = member_bytes(jwk, "y", &yl);
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	if (!x || !y || xl != coord || yl != coord) {
		set_err(err, errlen, "EC x and y must be %zu bytes of base64url", coord);
		goto out;
	}
	unsigned char point[1 + 2 * 66];
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, x, coord);
	memcpy(point + 1 + coord, y, coord);
	bld = OSSL_PARAM_BLD_new();
	if (!bld ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ec_curves[c].group,
	                                    0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * coord) !=
	        1) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	pkey = from_params("EC", bld);
	if (!pkey) {
		set_err(err, errlen, "invalid EC public key");
		goto out;
	}
	EVP_PKEY_CTX *cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	int ok = cctx && EVP_PKEY_public_check(cctx) == 1;
	EVP_PKEY_CTX_free(cctx);
	if (!ok) {
		set_err(err, errlen, "EC point is not on the curve");
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
out:
	OSSL_PARAM_BLD_free(bld);
	free(x);
	free(y);
	return pkey;
}

static EVP_PKEY *import_rsa(const json_t *jwk, char *err, size_t errlen)
{
	size_t nl = 0, el = 0;
	unsigned char *nb = member_bytes(jwk, "n", &nl), *eb = member_bytes(jwk, "e", &el);
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	EVP_PKEY *pkey = NULL;
	if (!nb || !eb) {
		set_err(err, errlen, "RSA n and e must be base64url");
		goto out;
	}
	n = BN_bin2bn(nb, (int)nl, NULL);
	e = BN_bin2bn(eb, (int)el, NULL);
	if (!n || !e) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	int bits = BN_num_bits(n);
	if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
		set_err(err, errlen, "RSA modulus of %d bits (need %d to %d)", bits, RSA_MIN_BITS,
		        RSA_MAX_BITS);
		goto out;
	}
	/* a small odd public exponent: anything else is a broken or hostile key */
	if (!BN_is_odd(n) || !BN_is_odd(e) || BN_is_one(e) || BN_num_bits(e) > 64) {
		set_err(err, errlen, "invalid RSA public key");
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (!bld || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1) {
		set_err(err, errlen, "out of memory");
		goto out;
	}
	pkey = from_params("RSA", bld);
	if (!pkey)
		set_err(err, errlen, "invalid RSA public key");
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(nb);
	free(eb);
	return pkey;
}

static EVP_PKEY *import_okp(const json_t *jwk, char *err, size_t errlen)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	if (!crv || strcmp(crv, "Ed25519") != 0) {
		set_err(err, errlen, "unsupported OKP curve");
		return NULL;
	}
	size_t xl = 0;
	unsigned char *x = member_bytes(jwk, "x", &xl);
	EVP_PKEY *pkey = NULL;
	if (!x || xl != ED25519_LEN)
		set_err(err, errlen, "Ed25519 x must be 32 bytes of base64url");
	else if (!(pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xl)))
		set_err(err, errlen, "invalid Ed25519 public key");
	free(x);
	return pkey;
}

EVP_PKEY *jwk_to_pkey(const json_t *jwk, char *err, size_t errlen)
{
	static const char *const private_members[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};
	set_err(err, errlen, "%s", "");
	if (!json_is_object(jwk)) {
		set_err(err, errlen, "JWK is not an object");
		return NULL;
	}
	for (size_t i = 0; i < sizeof(private_members) / sizeof(private_members[0]); i++) {
		if (json_object_get(jwk, private_members[i])) {
			set_err(err, errlen, "JWK carries private member \"%s\"",
			        private_members[i]);
			return NULL;
		}
	}
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	EVP_PKEY *pkey = NULL;
	if (!kty)
		set_err(err, errlen, "JWK has no kty");
	else if (strcmp(kty, "EC") == 0)
		pkey = import_ec(jwk, err, errlen);
	else if (strcmp(kty, "RSA") == 0)
		pkey = import_rsa(jwk, err, errlen);
	else if (strcmp(kty, "OKP") == 0)
		pkey = import_okp(jwk, err, errlen);
	else
		set_err(err, errlen, "unsupported kty");
	if (!pkey)
		ERR_clear_error();
	return pkey;
}

static const char *str_member(const json_t *o, const char *name)
{
	return json_string_value(json_object_get(o, name));
}

int jwk_thumbprint(EVP_PKEY *pkey, char out[44])
{
	json_t *jwk = jwk_public(pkey, NULL, JWS_ALG_NONE);
	if (!jwk)
		return -1;
	const char *kty = str_member(jwk, "kty");
	char *canon = NULL;
	int n = -1;
	/* RFC 7638 §3.2: the required members only, in lexicographic order, no whitespace */
	if (kty && strcmp(kty, "EC") == 0)
		n = asprintf(&canon, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
		             str_member(jwk, "crv"), str_member(jwk, "x"), str_member(jwk, "y"));
	else if (kty && strcmp(kty, "RSA") == 0)
		n = asprintf(&canon, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
		             str_member(jwk, "e"), str_member(jwk, "n"));
	else if (kty && strcmp(kty, "OKP") == 0)
		n = asprintf(&canon, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}",
		             str_member(jwk, "crv"), str_member(jwk, "x"));
	json_decref(jwk);
	if (n < 0)
		return -1;
	unsigned char h[32];
	unsigned int hl = 0;
	int rc = -1;
	if (EVP_Digest(canon, (size_t)n, h, &hl, EVP_sha256(), NULL) == 1 && hl == sizeof(h)) {
		b64url_encode(out, h, hl);
		rc = 0;
	} else {
		ERR_clear_error();
	}
	free(canon);
	return rc;
}

/* A key usable for signatures under alg, judged from its declared members before import. */
static int declared_for(const json_t *k, jws_alg alg)
{
	const char *use = str_member(k, "use");
	const char *kalg = str_member(k, "alg");
	if (use && strcmp(use, "sig") != 0)
		return 0;
	if (json_object_get(k, "use") && !use)
		return 0;
	if (kalg && jws_alg_from_name(kalg) != alg)
		return 0;
	if (json_object_get(k, "alg") && !kalg)
		return 0;
	return 1;
}

EVP_PKEY *jwks_find(const json_t *jwks, const char *kid, jws_alg alg, char *err, size_t errlen)
{
	set_err(err, errlen, "%s", "");
	const json_t *keys = json_object_get(jwks, "keys");
	if (!json_is_array(keys)) {
		set_err(err, errlen, "JWKS has no keys array");
		return NULL;
	}
	if (!jws_alg_name(alg)) {
		set_err(err, errlen, "unsupported algorithm");
		return NULL;
	}
	EVP_PKEY *found = NULL;
	int nfit = 0;
	size_t i;
	const json_t *k;
	json_array_foreach(keys, i, k)
	{
		if (!json_is_object(k))
			continue;
		const char *kkid = str_member(k, "kid");
		if (kid && (!kkid || strcmp(kkid, kid) != 0))
			continue;
		if (!declared_for(k, alg))
			continue;
		EVP_PKEY *pk = jwk_to_pkey(k, NULL, 0);
		if (!pk)
			continue;
		if (!jws_alg_fits_key(alg, pk)) {
			EVP_PKEY_free(pk);
			continue;
		}
		nfit++;
		if (!found) {
			found = pk;
			if (kid)
				break; /* kids are unique per JWKS; the first usable one wins */
		} else {
			EVP_PKEY_free(pk);
		}
	}
	if (!kid && nfit > 1) {
		EVP_PKEY_free(found);
		set_err(err, errlen, "no kid and %d keys fit %s", nfit, jws_alg_name(alg));
		return NULL;
	}
	if (!found)
		set_err(err, errlen, "no usable key%s%s for %s", kid ? " with kid " : "",
		        kid ? kid : "", jws_alg_name(alg));
	return found;
}
