/* fuzz_oidc_idtoken.c — owns the libFuzzer target for the upstream OIDC adapter's ID token
 * verification (idp-adapters/oidc/verify.c) and JWKS parsing (jwks.c), which it compiles in. The
 * first input byte picks the mode:
 *   0: the rest is a compact token, verified against a fixed EC key set: it must never verify
 *      (the fuzzer cannot sign with our key);
 *   1: the rest is a JWKS document, parsed into a key set;
 *   2: the rest is a claims payload, signed with the fixed key and verified: the claim checks
 *      (iss, aud, azp, exp, iat, nonce, sub) on arbitrary JSON. */
#include "../../idp-adapters/oidc/jwks.c"
#include "../../idp-adapters/oidc/verify.c"
#include <stdint.h>

static cjose_jwk_t *fixed_key;
static oidc_keyset *fixed_set;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	cjose_err err;
	fixed_key = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &err);
	if (!fixed_key || !cjose_jwk_set_kid(fixed_key, "k1", 2, &err))
		abort();
	char *pub = cjose_jwk_to_json(fixed_key, false, &err);
	char jwks[1024], why[128];
	snprintf(jwks, sizeof jwks, "{\"keys\":[%s]}", pub ? pub : "");
	free(pub);
	fixed_set = oidc_keyset_parse(jwks, why, sizeof why);
	if (!fixed_set || fixed_set->n != 1)
		abort();
	return 0;
}

static const oidc_verify_params params = {.issuer = "https://idp.example",
                                          .client_id = "idhub",
                                          .nonce = "n-0S6_WzA2Mj",
                                          .algs = OIDC_ALGS_DEFAULT,
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
	if (data[0] % 3 == 0) {
		if (oidc_idtoken_verify(&params, fixed_set, s, &pl, why, sizeof why) == OIDC_V_OK)
			abort();
	} else if (data[0] % 3 == 1) {
		oidc_keyset_free(oidc_keyset_parse(s, why, sizeof why));
	} else {
		cjose_err err;
		cjose_header_t *h = cjose_header_new(&err);
		cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_ES256, &err);
		cjose_header_set(h, CJOSE_HDR_KID, "k1", &err);
		cjose_jws_t *jws = cjose_jws_sign(fixed_key, h, (const uint8_t *)s, size - 1, &err);
		const char *tok = NULL;
		if (jws && cjose_jws_export(jws, &tok, &err) && tok) {
			oidc_idtoken_verify(&params, fixed_set, tok, &pl, why, sizeof why);
			json_decref(pl);
		}
		cjose_jws_release(jws);
		cjose_header_release(h);
	}
	free(s);
	return 0;
}
