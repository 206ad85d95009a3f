/* fuzz_oidc_idtoken.c — owns the libFuzzer target for upstream ID token verification: the adapter
 * host's JWS verification against a JWK Set (broker/idp/jose.c on broker/tokens, what the OIDC
 * adapter's ID tokens go through) and the OIDC adapter's claim checks (idp-adapters/oidc/verify.c,
 * compiled in). The first input byte picks the mode:
 *   0: the rest is a compact token, verified against a fixed EC key set: it must never verify
 *      (the fuzzer cannot sign with our key);
 *   1: the rest is a JWK Set document: a fixed token is verified against it (key import, kid
 * rules); 2: the rest is a claims payload, signed with the fixed key and verified: the claim checks
 *      (iss, aud, azp, exp, iat, nonce, sub) on arbitrary JSON. */
#include "../../idp-adapters/oidc/verify.c"
#include "idp/jose.h"
#include "tokens/jwk.h"
#include "tokens/jws.h"
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <stdint.h>

static EVP_PKEY *fixed_key;
static json_t *fixed_set;
static const char *fixed_token;
static arena *init_arena;
static const char *const algs[] = {"RS256", "PS256", "ES256", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fixed_key = EVP_EC_gen("P-256");
	json_t *jwk = fixed_key ? jwk_public(fixed_key, "k1", JWS_ES256) : NULL;
	init_arena = arena_new();
	fixed_set = json_pack("{s:[o]}", "keys", jwk);
	json_t *claims = json_pack("{s:s}", "sub", "x");
	fixed_token = jws_sign(init_arena, fixed_key, JWS_ES256, "k1", "JWT", claims);
	json_decref(claims);
	if (!fixed_set || !fixed_token)
		abort();
	return 0;
}

static const oidc_verify_params params = {.issuer = "https://idp.example",
                                          .client_id = "idhub",
                                          .nonce = "n-0S6_WzA2Mj",
                                          .now = 1700000000,
                                          .leeway = 30,
                                          .max_age = 600,
                                          .not_before = 1699999000};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 20000)
		return 0;
	char *s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	char why[160];
	json_t *pl = NULL;
	arena *a = arena_new();
	if (data[0] % 3 == 0) {
		if (jose_verify_set(fixed_set, a, algs, 16384, "ID token", s, &pl, why,
		                    sizeof why) == 0)
			abort();
	} else if (data[0] % 3 == 1) {
		json_t *set = json_loads(s, 0, NULL);
		if (json_is_array(json_object_get(set, "keys")))
			jose_verify_set(set, a, algs, 16384, "ID token", fixed_token, &pl, why,
			                sizeof why);
		json_decref(set);
	} else {
		json_t *claims = json_loads(s, 0, NULL);
		const char *tok = json_is_object(claims)
		                      ? jws_sign(a, fixed_key, JWS_ES256, "k1", "JWT", claims)
		                      : NULL;
		if (tok && jose_verify_set(fixed_set, a, algs, 1 << 20, "ID token", tok, &pl, why,
		                           sizeof why))
			abort(); /* our own signature must verify */
		if (pl)
			oidc_claims_ok(&params, pl, why, sizeof why);
		json_decref(claims);
	}
	json_decref(pl);
	arena_free(a);
	free(s);
	return 0;
}
