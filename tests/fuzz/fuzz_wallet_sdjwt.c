/* fuzz_wallet_sdjwt.c — libFuzzer on the wallet adapter's SD-JWT VC handling of untrusted
 * presentations: the whole verification (split, issuer JWT, x5c, signature), then — past the
 * signature, which random input cannot make — the disclosure walk (_sd digests, "..." array
 * elements, duplicates, unreferenced disclosures, nesting), the key-binding checks, the status
 * list entry and the mapping on the issuer payload as given. Built with the adapter's sources. */
#include "../../idp-adapters/wallet/certs.c"
#include "../../idp-adapters/wallet/disclose.c"
#include "../../idp-adapters/wallet/dcql.c"
#include "../../idp-adapters/wallet/es256.c"
#include "../../idp-adapters/wallet/kb.c"
#include "../../idp-adapters/wallet/mapping.c"
#include "../../idp-adapters/wallet/sdjwt.c"
#include "wallet_stub.h"
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void unsigned_paths(wallet *w, arena *a, const char *s)
{
	char *c = arena_strdup(a, s), *parts[66];
	size_t n = 0;
	for (char *t = c; t && n < 66; n++) {
		parts[n] = t;
		t = strchr(t, '~');
		if (t)
			*t++ = 0;
	}
	json_t *h, *p;
	char why[256];
	if (n < 2 || wallet_jws_parts(w, (idhub_arena *)a, parts[0], &h, &p))
		return;
	int64_t iat;
	wallet_kb_expect kb = {"nonce", stub_now(NULL), 0};
	wallet_kb_verify(w, (idhub_arena *)a, p, parts[n - 1], s, strlen(s), &kb, &iat, why,
	                 sizeof why);
	if (!wallet_disclose(w, (idhub_arena *)a, p, parts + 1, n - 2, why, sizeof why)) {
		idhub_identity id;
		idhub_error err;
		idhub_login_request req = {0};
		wallet_map(w, (idhub_arena *)a, &req, p, 0, "fuzz", &id, &err);
	}
	json_decref(h);
	json_decref(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static wallet *w;
	if (!w)
		w = stub_wallet();
	if (size > WALLET_MAX_RESPONSE)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	arena *a = arena_new();
	json_t *claims = NULL;
	int64_t t;
	char why[256];
	wallet_kb_expect kb = {"nonce", stub_now(NULL), 0};
	if (!wallet_sdjwt_verify(w, (idhub_arena *)a, s, &kb, &claims, &t, why, sizeof why))
		abort(); /* nothing is signed by a trusted issuer: acceptance is a bug */
	unsigned_paths(w, a, s);
	json_t *wanted = wallet_wanted(w, &(idhub_login_request){0});
	json_decref(wallet_dcql(w, wanted));
	json_decref(wanted);
	arena_free(a);
	free(s);
	return 0;
}
