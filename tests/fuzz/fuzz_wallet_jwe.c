/* fuzz_wallet_jwe.c — libFuzzer on the wallet adapter's direct_post.jwt decryption: a compact JWE
 * (header, epk import, Concat KDF, AES-GCM) from untrusted input, with a fixed recipient key;
 * and, from the same bytes, an EC JWK import. Built with the adapter's sources. */
#include "../../idp-adapters/wallet/es256.c"
#include "../../idp-adapters/wallet/jwe.c"
#include "wallet_stub.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wallet *w;
	static EVP_PKEY *key;
	if (!w) {
		w = stub_wallet();
		key = wallet_ephemeral_new();
	}
	if (size > WALLET_MAX_RESPONSE + 16)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	arena *a = arena_new();
	size_t len;
	char why[160];
	/* without the recipient's key nothing can decrypt: a plaintext means a bug */
	if (wallet_jwe_decrypt(w, (idhub_arena *)a, key, "kid", s, &len, why, sizeof why))
		abort();
	json_t *j = json_loadb(s, size, 0, NULL);
	EVP_PKEY_free(wallet_jwk_to_key(w, (idhub_arena *)a, j));
	json_decref(j);
	arena_free(a);
	free(s);
	return 0;
}
