/* jws.h — compact JWS signing and verification with OpenSSL EVP (ES256, RS256, PS256, EdDSA).
 *
 * Signing goes through EVP so that an HSM/provider key works unchanged; cjose is not used because
 * it cannot do EdDSA. Verification is for tokens the hub receives (client assertions) and for the
 * demo service; the algorithm is always chosen by the caller's allow-list, never by the token's
 * header.
 */
#ifndef IDHUB_JWS_H
#define IDHUB_JWS_H
#include "../util/arena.h"
#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

typedef enum {
	JWS_ES256 = 0,
	JWS_RS256,
	JWS_PS256,
	JWS_EDDSA,
	JWS_ALG_COUNT,
	JWS_ALG_NONE = -1
} jws_alg;

/* "ES256" -> JWS_ES256; anything else (including "none", "HS256") -> JWS_ALG_NONE. */
jws_alg jws_alg_from_name(const char *name);
const char *jws_alg_name(jws_alg alg);
/* Whether pkey's type fits alg (EC P-256 for ES256, RSA >= 2048 for RS/PS256, Ed25519 for EdDSA).
 */
int jws_alg_fits_key(jws_alg alg, EVP_PKEY *pkey);

/* Signs header {"alg","kid","typ"} . payload. Returns the compact JWS in the arena, or NULL on
 * error. */
char *jws_sign(arena *a, EVP_PKEY *key, jws_alg alg, const char *kid, const char *typ,
               const json_t *payload);

/* A compact JWS split and decoded, before any trust decision. header and payload are owned by the
 * struct: release with jws_parsed_free. */
typedef struct jws_parsed {
	json_t *header;
	json_t *payload;
	const char *alg;           /* header "alg" (inside header) */
	const char *kid;           /* header "kid" or NULL */
	const char *signing_input; /* arena copy of "b64header.b64payload" */
	size_t signing_input_len;
	unsigned char *sig; /* arena */
	size_t siglen;
} jws_parsed;

/* Parses a compact JWS of at most maxlen bytes: three base64url parts, JSON objects for header and
 * payload, a string "alg". Returns 0 or -1 (with nothing to free). */
int jws_parse(arena *a, const char *compact, size_t maxlen, jws_parsed *out);
void jws_parsed_free(jws_parsed *p);
/* Verifies p's signature with key under alg (which must equal the header's alg and fit the key).
 * Returns 0 when valid, -1 otherwise. Constant-time where OpenSSL is. */
int jws_verify(const jws_parsed *p, EVP_PKEY *key, jws_alg alg);

/* Verification under an algorithm named in a caller's allow-list, for tokens from upstream IdPs:
 * RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA (the hub signs only with the jws_alg
 * ones). The name must equal the header's alg, and the key fit it (RSA >= 2048 bits, the EC curve
 * of the alg, Ed25519). jws_verify_alg_known: 1 for those names, else 0. 0 when valid, or -1. */
int jws_verify_alg_known(const char *name);
int jws_verify_named(const jws_parsed *p, EVP_PKEY *key, const char *name);
/* Whether key fits the algorithm called name (as jws_verify_named requires). */
int jws_key_fits_named(EVP_PKEY *key, const char *name);

/* OIDC at_hash / c_hash: base64url of the left half of the alg's hash of the ASCII value
 * (SHA-256 for *256, SHA-512 for EdDSA with Ed25519). */
char *jws_half_hash(arena *a, jws_alg alg, const char *value);

#endif
