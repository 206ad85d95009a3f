/* jwe.c — direct_post.jwt: a fresh P-256 key per request (kept, PEM, in the journey's scratch
 * record) and the decryption of the wallet's compact JWE with ECDH-ES (direct key agreement,
 * Concat KDF of RFC 7518 §4.6) and A128GCM or A256GCM, on OpenSSL. */
#include "wallet_int.h"
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

EVP_PKEY *wallet_ephemeral_new(void)
{
	return EVP_EC_gen("P-256");
}

char *wallet_ephemeral_save(const wallet *w, idhub_arena *a, EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *r = NULL;
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1) {
		long n = BIO_get_mem_data(b, &p);
		r = n > 0 ? w->svc->alloc(a, (size_t)n + 1) : NULL;
		if (r) {
			memcpy(r, p, (size_t)n);
			r[n] = '\0'; /* the BIO's memory is not NUL-terminated */
		}
	}
	BIO_free(b);
	return r;
}

EVP_PKEY *wallet_ephemeral_load(const wallet *w, idhub_arena *a, const char *saved)
{
	(void)w, (void)a;
	BIO *b = BIO_new_mem_buf(saved, -1);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	return k;
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Concat KDF (NIST SP 800-56A) with SHA-256, one round: keylen is at most 32 bytes. */
static int concat_kdf(const wallet *w, idhub_arena *a, const unsigned char *z, size_t zlen,
                      const char *enc, json_t *hdr, unsigned char *out, size_t keylen)
{
	const char *apu = json_string_value(json_object_get(hdr, "apu")),
	           *apv = json_string_value(json_object_get(hdr, "apv"));
	unsigned char *u = (unsigned char *)"", *v = (unsigned char *)"", n4[4];
	long ul = apu ? w->svc->b64url_decode(a, apu, &u) : 0,
	     vl = apv ? w->svc->b64url_decode(a, apv, &v) : 0;
	if (ul < 0 || vl < 0 || ul > 512 || vl > 512)
		return -1;
	unsigned char md[32];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	be32(n4, 1);
	ok = ok && EVP_DigestUpdate(c, n4, 4) && EVP_DigestUpdate(c, z, zlen);
	be32(n4, (uint32_t)strlen(enc));
	ok = ok && EVP_DigestUpdate(c, n4, 4) && EVP_DigestUpdate(c, enc, strlen(enc));
	be32(n4, (uint32_t)ul);
	ok = ok && EVP_DigestUpdate(c, n4, 4) && EVP_DigestUpdate(c, u, (size_t)ul);
	be32(n4, (uint32_t)vl);
	ok = ok && EVP_DigestUpdate(c, n4, 4) && EVP_DigestUpdate(c, v, (size_t)vl);
	be32(n4, (uint32_t)(keylen * 8));
	ok = ok && EVP_DigestUpdate(c, n4, 4) && EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
	memcpy(out, md, keylen);
	OPENSSL_cleanse(md, sizeof md);
	return ok ? 0 : -1;
}

static int ecdh(EVP_PKEY *priv, EVP_PKEY *peer, unsigned char *z, size_t *zlen)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(priv, NULL);
	int ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, peer) == 1 &&
	         EVP_PKEY_derive(c, z, zlen) == 1;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : -1;
}

static int gcm_open(const unsigned char *key, size_t keylen, const unsigned char *iv,
                    const char *aad, const unsigned char *ct, long ctlen, const unsigned char *tag,
                    unsigned char *pt)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0;
	int ok =
	    c &&
	    EVP_DecryptInit_ex(c, keylen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), NULL, key,
	                       iv) == 1 &&
	    EVP_DecryptUpdate(c, NULL, &n, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
	    EVP_DecryptUpdate(c, pt, &n, ct, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)tag) == 1 &&
	    EVP_DecryptFinal_ex(c, pt + n, &f) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? n + f : -1;
}

/* the five segments of a compact JWE, NUL-terminated copies on the arena */
static int split5(const wallet *w, idhub_arena *a, const char *jwe, char *seg[5])
{
	char *c = w->svc->strdup(a, jwe);
	for (int i = 0; i < 5; i++) {
		seg[i] = c;
		c = strchr(c, '.');
		if ((i < 4) != (c != NULL))
			return -1;
		if (c)
			*c++ = 0;
	}
	return 0;
}

static char *fail(char *why, size_t whylen, const char *m)
{
	snprintf(why, whylen, "%s", m);
	return NULL;
}

char *wallet_jwe_decrypt(const wallet *w, idhub_arena *a, EVP_PKEY *key, const char *kid,
                         const char *jwe, size_t *len, char *why, size_t whylen)
{
	const idhub_services *s = w->svc;
	char *seg[5];
	unsigned char *hb, *iv, *ct, *tag, *ek;
	if (strlen(jwe) > WALLET_MAX_RESPONSE || split5(w, a, jwe, seg))
		return fail(why, whylen, "JWE: not a compact JWE");
	long hl = s->b64url_decode(a, seg[0], &hb);
	json_t *h =
	    hl > 0 ? json_loadb((char *)hb, (size_t)hl, JSON_REJECT_DUPLICATES, NULL) : NULL;
	const char *alg = json_string_value(json_object_get(h, "alg")),
	           *enc = json_string_value(json_object_get(h, "enc")),
	           *hkid = json_string_value(json_object_get(h, "kid"));
	char *out = NULL;
	size_t keylen = enc && !strcmp(enc, "A128GCM")   ? 16
	                : enc && !strcmp(enc, "A256GCM") ? 32
	                                                 : 0;
	EVP_PKEY *epk = NULL;
	unsigned char z[32], cek[32];
	size_t zlen = sizeof z;
	long ctlen;
	if (!json_is_object(h))
		fail(why, whylen, "JWE: malformed header");
	else if (!alg || strcmp(alg, "ECDH-ES") || !keylen)
		fail(why, whylen, "JWE: alg must be ECDH-ES and enc A128GCM or A256GCM");
	else if (json_object_get(h, "crit") || json_object_get(h, "zip"))
		fail(why, whylen, "JWE: crit or zip not supported");
	else if (hkid && strcmp(hkid, kid))
		fail(why, whylen, "JWE: encrypted to another request's key");
	else if (s->b64url_decode(a, seg[1], &ek) != 0)
		fail(why, whylen, "JWE: ECDH-ES has no encrypted key");
	else if (s->b64url_decode(a, seg[2], &iv) != 12 ||
	         s->b64url_decode(a, seg[4], &tag) != 16 ||
	         (ctlen = s->b64url_decode(a, seg[3], &ct)) < 0)
		fail(why, whylen, "JWE: malformed iv, ciphertext or tag");
	else if (!(epk = wallet_jwk_to_key(w, a, json_object_get(h, "epk"))))
		fail(why, whylen, "JWE: epk is not a P-256 public key");
	else if (ecdh(key, epk, z, &zlen) || concat_kdf(w, a, z, zlen, enc, h, cek, keylen))
		fail(why, whylen, "JWE: key agreement failed");
	else {
		unsigned char *pt = s->alloc(a, (size_t)ctlen + 1);
		int n = gcm_open(cek, keylen, iv, seg[0], ct, ctlen, tag, pt);
		if (n < 0)
			fail(why, whylen,
			     "JWE: decryption failed (another request's key, or tampered)");
		else
			out = (char *)pt, *len = (size_t)n;
	}
	OPENSSL_cleanse(z, sizeof z);
	OPENSSL_cleanse(cek, sizeof cek);
	EVP_PKEY_free(epk);
	json_decref(h);
	ERR_clear_error();
	return out;
}
