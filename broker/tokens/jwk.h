/* jwk.h — JSON Web Keys (RFC 7517/7518/8037) to and from OpenSSL EVP_PKEY, and RFC 7638
 * thumbprints. */
#ifndef IDHUB_JWK_H
#define IDHUB_JWK_H
#include "jws.h"
#include <jansson.h>
#include <openssl/evp.h>

/* The public JWK of pkey: {kty, crv|n,e, x,y, kid, alg, use:"sig"}. New reference, or NULL. */
json_t *jwk_public(EVP_PKEY *pkey, const char *kid, jws_alg alg);
/* Imports a public JWK (EC P-256, RSA, OKP Ed25519). Private members are refused. Returns a new
 * EVP_PKEY or NULL, with a reason in err. */
EVP_PKEY *jwk_to_pkey(const json_t *jwk, char *err, size_t errlen);
/* RFC 7638 SHA-256 thumbprint, base64url, into out[44]. Returns 0 or -1. */
int jwk_thumbprint(EVP_PKEY *pkey, char out[44]);
/* Finds the key in a JWKS ({"keys":[...]}) matching kid (or the only key fitting alg when kid is
 * NULL and exactly one fits). Returns a new EVP_PKEY or NULL. */
EVP_PKEY *jwks_find(const json_t *jwks, const char *kid, jws_alg alg, char *err, size_t errlen);

#endif
