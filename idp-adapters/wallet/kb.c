/* kb.c — the key-binding JWT (RFC 9901 §4.3, OpenID4VP 1.0 Appendix B.3.6): typ kb+jwt, signed
 * with the key in the credential's cnf, aud equal to the verifier's client_id, nonce equal to
 * this login's, iat fresh, and sd_hash over the issuer JWT and the disclosures presented. This is
 * what makes a copied PID useless without the holder's key, and a presentation useless in any
 * other login. */
#include "wallet_int.h"
#include <string.h>

static int no(char *why, size_t whylen, const char *m)
{
	snprintf(why, whylen, "key binding: %s", m);
	return -1;
}

int wallet_kb_verify(const wallet *w, idhub_arena *a, json_t *payload, const char *kbjwt,
                     const char *presented, size_t presented_len, const wallet_kb_expect *kb,
                     int64_t *iat, char *why, size_t whylen)
{
	if (!*kbjwt)
		return no(why, whylen, "missing key-binding JWT");
	EVP_PKEY *hk =
	    wallet_jwk_to_key(w, a, json_object_get(json_object_get(payload, "cnf"), "jwk"));
	if (!hk)
		return no(why, whylen, "cnf has no P-256 jwk");
	json_t *h, *p;
	char sub[160];
	int rc = wallet_es256_verify(w, a, hk, kbjwt, &h, &p, sub, sizeof sub);
	EVP_PKEY_free(hk);
	if (rc) {
		snprintf(why, whylen, "key binding: %s (not the cnf key?)", sub);
		return -1;
	}
	const char *typ = json_string_value(json_object_get(h, "typ")),
	           *aud = json_string_value(json_object_get(p, "aud")),
	           *nonce = json_string_value(json_object_get(p, "nonce")),
	           *sd_hash = json_string_value(json_object_get(p, "sd_hash"));
	json_t *ji = json_object_get(p, "iat");
	int64_t t = json_is_integer(ji) ? json_integer_value(ji) : 0,
	        leeway = w->cfg->values[S_LEEWAY].num;
	const char *want = w->svc->digest_b64url(a, presented, presented_len);
	rc = -1;
	if (!typ || strcmp(typ, "kb+jwt"))
		no(why, whylen, "typ is not kb+jwt");
	else if (!aud || strcmp(aud, w->client_id))
		no(why, whylen, "aud is not the verifier's client_id");
	/* constant time is not needed: the nonce is no secret once the request object is out */
	else if (!nonce || strcmp(nonce, kb->nonce))
		no(why, whylen, "nonce is not this login's (replayed from another login?)");
	else if (!t || t > kb->now + leeway ||
	         t < kb->now - w->cfg->values[S_KB_MAX_AGE].num - leeway ||
	         (kb->started && t < kb->started - leeway))
		no(why, whylen, "iat missing or not fresh");
	else if (!sd_hash || !want || strcmp(sd_hash, want))
		no(why, whylen, "sd_hash does not match the presented disclosures");
	else
		rc = 0, *iat = t;
	json_decref(h);
	json_decref(p);
	return rc;
}
