/* wallet_stub.h — the adapter host's services as the wallet adapter's fuzz targets need them
 * (arena, strict base64 and base64url, SHA-256 digests, the clock), over libidhub.a, and a
 * configuration with the adapter's defaults; no network (the HTTP client always fails). */
#ifndef WALLET_STUB_H
#define WALLET_STUB_H
#include "idp/services.h"
#include "util/arena.h"
#include "util/b64url.h"
#include "wallet_int.h"
#include <stdarg.h>
#include <time.h>

static int64_t stub_now(idhub_instance *i)
{
	(void)i;
	return (int64_t)time(NULL);
}
__attribute__((format(printf, 3, 4))) static void stub_log(idhub_instance *i, int l,
                                                           const char *fmt, ...)
{
	(void)i, (void)l, (void)fmt;
}
static void *stub_alloc(idhub_arena *a, size_t n)
{
	return arena_alloc((arena *)a, n);
}
static char *stub_strdup(idhub_arena *a, const char *s)
{
	return arena_strdup((arena *)a, s);
}
__attribute__((format(printf, 2, 3))) static char *stub_sprintf(idhub_arena *a, const char *fmt,
                                                                ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *r = arena_vprintf((arena *)a, fmt, ap);
	va_end(ap);
	return r;
}
static char *stub_b64url_encode(idhub_arena *a, const void *p, size_t n)
{
	char *out = arena_alloc((arena *)a, b64url_enc_len(n) + 1);
	b64url_encode(out, p, n);
	return out;
}
static char *stub_digest_b64url(idhub_arena *a, const void *p, size_t n)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	return EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) ? stub_b64url_encode(a, md, mdlen)
	                                                        : NULL;
}
static long stub_b64url_decode(idhub_arena *a, const char *s, unsigned char **out)
{
	size_t len = strlen(s);
	*out = arena_alloc((arena *)a, len * 3 / 4 + 2);
	return b64url_decode(*out, s, len);
}
static long stub_b64_decode(idhub_arena *a, const char *s, size_t len, uint32_t flags,
                            unsigned char **out)
{
	*out = arena_alloc((arena *)a, len * 3 / 4 + 3);
	return idp_b64_decode(s, len, flags, *out);
}
static int stub_http(idhub_instance *i, const idhub_http_call *c, int *st, char **body)
{
	(void)i, (void)c, (void)st, (void)body;
	return -1;
}

static const idhub_services stub_svc = {
    .version = IDHUB_ADAPTER_ABI_VERSION,
    .size = sizeof(idhub_services),
    .instance_id = "wallet",
    .now = stub_now,
    .log = stub_log,
    .alloc = stub_alloc,
    .strdup = stub_strdup,
    .sprintf = stub_sprintf,
    .b64url_encode = stub_b64url_encode,
    .b64url_decode = stub_b64url_decode,
    .b64_decode = stub_b64_decode,
    .url_check = idp_url_check,
    .http = stub_http,
    .digest_b64url = stub_digest_b64url,
};

static const char *const stub_vct[] = {"urn:eudi:pid:1", NULL};
static const char *const stub_claims[] = {"given_name", "family_name", "birthdate", NULL};
static idhub_value stub_values[S_COUNT];
static idhub_adapter_config stub_cfg = {.instance_id = "wallet",
                                        .hub_base_url = "https://hub.test",
                                        .callback_url = "https://hub.test/callback/wallet",
                                        .values = stub_values,
                                        .nloas = 3};

/* A wallet with the adapter's defaults, an empty trust store and a fixed verifier key. */
static wallet *stub_wallet(void)
{
	static wallet w;
	stub_values[S_VCT] = (idhub_value){.set = 1, .items = stub_vct, .nitems = 1};
	stub_values[S_CLAIMS] = (idhub_value){.set = 1, .items = stub_claims, .nitems = 3};
	stub_values[S_LEVEL] = (idhub_value){.set = 1, .num = 3};
	stub_values[S_KB_MAX_AGE] = (idhub_value){.set = 1, .num = 300};
	stub_values[S_LEEWAY] = (idhub_value){.set = 1, .num = 30};
	stub_values[S_SUBJECT_CLAIM] =
	    (idhub_value){.set = 1, .str = "personal_administrative_number"};
	w.svc = &stub_svc;
	w.cfg = &stub_cfg;
	w.anchors = X509_STORE_new();
	w.verifier_key = EVP_EC_gen("P-256");
	snprintf(w.client_id, sizeof w.client_id, "x509_san_dns:hub.test");
	return &w;
}
#endif
