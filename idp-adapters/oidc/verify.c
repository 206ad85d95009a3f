/* verify.c — owns ID token verification for the upstream OIDC adapter: the JWS header checks (alg
 * allow-list, no "crit", no embedded keys used), key selection by kid and key type, the signature
 * (cjose, the JOSE library liboauth2 is built on), and every claim check liboauth2's own flow
 * leaves out: iss, aud, azp, exp, iat, nonce. Pure functions of their inputs (the fuzz target calls
 * them). */
#include "oidc_int.h"
#include <openssl/crypto.h>
#include <openssl/obj_mac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} alg_names[] = {
    {"RS256", OIDC_RS256}, {"RS384", OIDC_RS384}, {"RS512", OIDC_RS512},
    {"PS256", OIDC_PS256}, {"PS384", OIDC_PS384}, {"PS512", OIDC_PS512},
    {"ES256", OIDC_ES256}, {"ES384", OIDC_ES384}, {"ES512", OIDC_ES512},
};

unsigned oidc_alg_bit(const char *name)
{
	for (size_t i = 0; name && i < sizeof alg_names / sizeof alg_names[0]; i++)
		if (strcmp(alg_names[i].name, name) == 0)
			return alg_names[i].bit;
	return 0;
}

static int b64val(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

long oidc_b64url_decode(const char *s, size_t len, unsigned char **out)
{
	*out = NULL;
	if (len % 4 == 1)
		return -1;
	unsigned char *o = malloc(len * 3 / 4 + 2);
	if (!o)
		return -1;
	size_t k = 0;
	unsigned acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64val((unsigned char)s[i]);
		if (v < 0) {
			free(o);
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* strict: the unused low bits of the last character must be zero (one encoding per value)
	 */
	if (acc != 0) {
		free(o);
		return -1;
	}
	o[k] = 0;
	*out = o;
	return (long)k;
}

static void say(char *why, size_t n, const char *msg)
{
	if (why && n)
		snprintf(why, n, "%s", msg);
}

/* Does this key fit this algorithm? The key type comes from the IdP's JWKS, the alg from the
 * attacker-controlled header: an RSA key must never be used for ES*, nor a P-384 key for ES256. */
static int key_fits(const oidc_key *k, unsigned alg)
{
	if (alg & (OIDC_RS256 | OIDC_RS384 | OIDC_RS512 | OIDC_PS256 | OIDC_PS384 | OIDC_PS512))
		return k->kty == CJOSE_JWK_KTY_RSA && k->bits >= 2048;
	if (k->kty != CJOSE_JWK_KTY_EC)
		return 0;
	if (alg == OIDC_ES256)
		return k->curve == NID_X9_62_prime256v1;
	if (alg == OIDC_ES384)
		return k->curve == NID_secp384r1;
	if (alg == OIDC_ES512)
		return k->curve == NID_secp521r1;
	return 0;
}

static int json_int(const json_t *o, const char *name, int64_t *v)
{
	const json_t *x = json_object_get(o, name);
	if (json_is_integer(x)) {
		*v = (int64_t)json_integer_value(x);
		return 0;
	}
	if (json_is_real(x)) {
		double d = json_real_value(x);
		if (d > -9e15 && d < 9e15) {
			*v = (int64_t)d;
			return 0;
		}
	}
	return -1;
}

static int streq_ct(const char *a, const char *b)
{
	size_t n = strlen(a);
	return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

/* aud (a string or an array of strings) must contain client_id; with several audiences azp must be
 * present and be client_id (OIDC Core §3.1.3.7 items 3-5); a present azp must be client_id anyway.
 */
static int audience_ok(const json_t *pl, const char *client_id, char *why, size_t wl)
{
	const json_t *aud = json_object_get(pl, "aud");
	size_t naud = 0;
	int found = 0;
	if (json_is_string(aud)) {
		naud = 1;
		found = strcmp(json_string_value(aud), client_id) == 0;
	} else if (json_is_array(aud)) {
		size_t i;
		const json_t *v;
		json_array_foreach(aud, i, v)
		{
			if (!json_is_string(v)) {
				say(why, wl, "aud holds a value that is not a string");
				return 0;
			}
			naud++;
			if (strcmp(json_string_value(v), client_id) == 0)
				found = 1;
		}
	}
	if (!found) {
		say(why, wl, "aud does not contain our client_id");
		return 0;
	}
	const json_t *azp = json_object_get(pl, "azp");
	if (naud > 1 && !azp) {
		say(why, wl, "several audiences and no azp");
		return 0;
	}
	if (azp && (!json_is_string(azp) || strcmp(json_string_value(azp), client_id) != 0)) {
		say(why, wl, "azp is not our client_id");
		return 0;
	}
	return 1;
}

static oidc_verify_rc claims_ok(const oidc_verify_params *p, const json_t *pl, char *why, size_t wl)
{
	const char *iss = json_string_value(json_object_get(pl, "iss"));
	/* exact comparison: no normalisation of case, trailing slash or port (mix-up defence) */
	if (!iss || strcmp(iss, p->issuer) != 0) {
		say(why, wl, "iss is not the discovered issuer");
		return OIDC_V_BAD;
	}
	if (!audience_ok(pl, p->client_id, why, wl))
		return OIDC_V_BAD;
	int64_t exp, iat;
	if (json_int(pl, "exp", &exp) || json_int(pl, "iat", &iat)) {
		say(why, wl, "exp or iat missing");
		return OIDC_V_BAD;
	}
	if (exp <= p->now - p->leeway) {
		say(why, wl, "ID token expired");
		return OIDC_V_BAD;
	}
	if (iat > p->now + p->leeway) {
		say(why, wl, "ID token issued in the future");
		return OIDC_V_BAD;
	}
	/* A token older than the login attempt (or max_age) cannot answer it, whatever its nonce.
	 */
	if (iat < p->now - p->max_age || iat < p->not_before - p->leeway) {
		say(why, wl, "ID token issued before this login began");
		return OIDC_V_BAD;
	}
	const char *nonce = json_string_value(json_object_get(pl, "nonce"));
	if (!nonce || !p->nonce || !streq_ct(nonce, p->nonce)) {
		say(why, wl, "nonce does not match this login");
		return OIDC_V_BAD;
	}
	const char *sub = json_string_value(json_object_get(pl, "sub"));
	if (!sub || !*sub || strlen(sub) > 255) {
		say(why, wl, "sub missing or too long");
		return OIDC_V_BAD;
	}
	return OIDC_V_OK;
}

oidc_verify_rc oidc_idtoken_verify(const oidc_verify_params *p, const oidc_keyset *ks,
                                   const char *token, json_t **payload, char *why, size_t whylen)
{
	*payload = NULL;
	size_t tl = token ? strlen(token) : 0;
	if (tl == 0 || tl > OIDC_MAX_TOKEN) {
		say(why, whylen, "no ID token, or one too long");
		return OIDC_V_BAD;
	}
	const char *d1 = strchr(token, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	/* exactly three parts: a JWE (five) or an unsigned token (empty signature) is refused */
	if (!d1 || !d2 || strchr(d2 + 1, '.') || d2[1] == 0) {
		say(why, whylen, "ID token is not a compact JWS");
		return OIDC_V_BAD;
	}
	unsigned char *hraw;
	long hl = oidc_b64url_decode(token, (size_t)(d1 - token), &hraw);
	json_t *hdr = hl > 0
	                  ? json_loadb((const char *)hraw, (size_t)hl, JSON_REJECT_DUPLICATES, NULL)
	                  : NULL;
	free(hraw);
	if (!json_is_object(hdr)) {
		json_decref(hdr);
		say(why, whylen, "ID token header is not a JSON object");
		return OIDC_V_BAD;
	}
	const char *alg = json_string_value(json_object_get(hdr, "alg"));
	const json_t *kidj = json_object_get(hdr, "kid");
	unsigned bit = oidc_alg_bit(alg);
	oidc_verify_rc rc = OIDC_V_BAD;
	char kid[256] = "";
	if (!(bit & p->algs)) {
		/* none, HS*, or an asymmetric alg not on the allow-list: never looked up in the key
		 * set */
		say(why, whylen, "ID token alg not allowed");
		goto out;
	}
	if (json_object_get(hdr, "crit")) {
		say(why, whylen, "ID token header has crit extensions we do not understand");
		goto out;
	}
	if (kidj && (!json_is_string(kidj) || json_string_length(kidj) >= sizeof kid)) {
		say(why, whylen, "ID token kid is not a short string");
		goto out;
	}
	if (kidj)
		snprintf(kid, sizeof kid, "%s", json_string_value(kidj));
	/* Without a kid the key would be guessed among several: refused, so a token can never be
	 * checked against a key the IdP did not mean (OIDC Core §10.1: kid is needed when a JWKS
	 * holds more than one key). */
	if (!kidj && ks && ks->n > 1) {
		say(why, whylen, "ID token has no kid and the IdP's JWKS holds several keys");
		goto out;
	}
	/* Keys come only from the IdP's JWKS: jwk, jku, x5u and x5c header parameters are ignored.
	 */
	const oidc_key *cand[OIDC_MAX_KEYS];
	size_t nc = 0;
	for (size_t i = 0; ks && i < ks->n; i++) {
		const oidc_key *k = &ks->keys[i];
		if (kidj && (!k->kid || strcmp(k->kid, kid) != 0))
			continue;
		if (k->alg && strcmp(k->alg, alg) != 0)
			continue;
		if (key_fits(k, bit))
			cand[nc++] = k;
	}
	if (nc == 0) {
		rc = OIDC_V_NO_KEY;
		say(why, whylen, "no key of the IdP's JWKS matches the ID token's kid and alg");
		goto out;
	}
	cjose_err cerr;
	cjose_jws_t *jws = cjose_jws_import(token, tl, &cerr);
	if (!jws) {
		say(why, whylen, "ID token does not parse as a JWS");
		goto out;
	}
	int verified = 0;
	for (size_t i = 0; i < nc && !verified; i++)
		verified = cjose_jws_verify(jws, cand[i]->jwk, &cerr);
	if (!verified) {
		cjose_jws_release(jws);
		say(why, whylen, "ID token signature does not verify");
		/* under a kid we know: the IdP may have reused the kid for a new key */
		if (kidj)
			rc = OIDC_V_BAD_SIG;
		goto out;
	}
	uint8_t *pt = NULL;
	size_t ptl = 0;
	json_t *pl = NULL;
	if (cjose_jws_get_plaintext(jws, &pt, &ptl, &cerr) && pt)
		pl = json_loadb((const char *)pt, ptl, JSON_REJECT_DUPLICATES, NULL);
	cjose_jws_release(jws);
	if (!json_is_object(pl)) {
		json_decref(pl);
		say(why, whylen, "ID token payload is not a JSON object");
		goto out;
	}
	rc = claims_ok(p, pl, why, whylen);
	if (rc == OIDC_V_OK)
		*payload = pl;
	else
		json_decref(pl);
out:
	json_decref(hdr);
	return rc;
}
