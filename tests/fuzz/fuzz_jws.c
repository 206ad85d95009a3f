/* fuzz_jws.c — owns the libFuzzer target for untrusted compact JWS: jws_parse on every input and,
 * when it parses, jws_verify with a fixed P-256 key; a parsed payload is also tried as a JWK and a
 * JWKS. */
#include "tokens/jwk.h"
#include "tokens/jws.h"
#include "util/arena.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEN 16384

static EVP_PKEY *fixed_key;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixed_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!fixed_key)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	arena *a = arena_new();
	jws_parsed p;
	if (jws_parse(a, s, MAXLEN, &p) == 0) {
		/* a valid ES256 signature by the fixed key cannot be forged by the fuzzer */
		if (jws_verify(&p, fixed_key, JWS_ES256) == 0)
			abort();
		jws_verify(&p, fixed_key, jws_alg_from_name(p.alg));
		char err[128];
		EVP_PKEY *k = jwk_to_pkey(p.payload, err, sizeof(err));
		EVP_PKEY_free(k);
		k = jwks_find(p.payload, p.kid, JWS_ES256, err, sizeof(err));
		EVP_PKEY_free(k);
		jws_parsed_free(&p);
	}
	arena_free(a);
	free(s);
	return 0;
}
