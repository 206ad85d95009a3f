/* vault.c — the session's sealed identity (see session.h "The vault"): the upstream subject and
 * the attributes the IdP asserted, AES-256-GCM under a key that needs both the hub's sealing
 * secret and the session cookie, which only the citizen's browser holds; and what the IdP adapter's
 * upstream logout needs (idhub_identity.logout_state), which may name the citizen too. */
#include "sessions_int.h"
#include "../util/b64url.h"
#include "../util/random.h"
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define IV_LEN 12
#define TAG_LEN 16
#define VAULT_MAX 65536

static const char vault_label[] = "idhub session vault v1";

static int vault_key(const hub *h, const char *cookie, unsigned char key[32])
{
	unsigned char msg[sizeof vault_label + 64];
	size_t cl = strlen(cookie);
	if (cl > 64)
		return -1;
	memcpy(msg, vault_label, sizeof vault_label); /* the label and its NUL separate */
	memcpy(msg + sizeof vault_label, cookie, cl);
	unsigned int n = 32;
	return HMAC(EVP_sha256(), h->seal_key, sizeof h->seal_key, msg, sizeof vault_label + cl,
	            key, &n)
	           ? 0
	           : -1;
}

/* The AAD is the session's store key: a vault copied into another record does not open. */
const char *vault_seal(const hub *h, arena *a, const char *cookie, const char *key,
                       const idhub_identity *id)
{
	json_t *attrs = json_object();
	for (size_t i = 0; i < id->nattrs; i++)
		if (id->attrs[i].name && id->attrs[i].value)
			json_object_set_new(attrs, id->attrs[i].name,
			                    json_string(id->attrs[i].value));
	json_t *o = json_pack("{s:s, s:o}", "s", id->subject, "a", attrs);
	/* what the adapter's upstream logout needs (it may name the citizen: sealed like the rest)
	 */
	if (o && id->logout_state)
		json_object_set_new(o, "l", json_string(id->logout_state));
	char *plain = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!plain)
		return NULL;
	size_t n = strlen(plain);
	unsigned char *out = arena_alloc_uninit(a, IV_LEN + n + TAG_LEN), k[32];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0,
	    ok = c && n < VAULT_MAX && random_bytes(out, IV_LEN) == 0 &&
	         vault_key(h, cookie, k) == 0 &&
	         EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, out) == 1 &&
	         EVP_EncryptUpdate(c, NULL, &len, (const unsigned char *)key, (int)strlen(key)) ==
	             1 &&
	         EVP_EncryptUpdate(c, out + IV_LEN, &len, (const unsigned char *)plain, (int)n) ==
	             1 &&
	         EVP_EncryptFinal_ex(c, out + IV_LEN + len, &len) == 1 &&
	         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + IV_LEN + n) == 1;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(plain, n);
	free(plain);
	if (!ok)
		return NULL;
	char *s = arena_alloc_uninit(a, b64url_enc_len(IV_LEN + n + TAG_LEN) + 1);
	b64url_encode(s, out, IV_LEN + n + TAG_LEN);
	return s;
}

static int vault_fill(arena *a, const char *plain, size_t n, idhub_identity *id)
{
	json_t *o = json_loadb(plain, n, 0, NULL), *attrs = json_object_get(o, "a");
	const char *subject = json_string_value(json_object_get(o, "s"));
	if (!subject || !json_is_object(attrs)) {
		json_decref(o);
		return -1;
	}
	id->subject = arena_strdup(a, subject);
	id->logout_state = arena_strdup(a, json_string_value(json_object_get(o, "l")));
	idhub_kv *kv = arena_alloc(a, (json_object_size(attrs) + 1) * sizeof *kv);
	size_t i = 0;
	const char *name;
	json_t *v;
	json_object_foreach(attrs, name, v)
	{
		if (!json_is_string(v))
			continue;
		kv[i].name = arena_strdup(a, name);
		kv[i].value = arena_strdup(a, json_string_value(v));
		i++;
	}
	id->attrs = kv;
	id->nattrs = i;
	json_decref(o);
	return 0;
}

int vault_open(const hub *h, arena *a, const char *cookie, const char *key, const char *vault,
               idhub_identity *id)
{
	size_t vl = vault ? strlen(vault) : 0;
	if (!cookie || vl > VAULT_MAX * 2)
		return -1;
	unsigned char *raw = arena_alloc_uninit(a, vl * 3 / 4 + 2), k[32];
	long rn = b64url_decode(raw, vault, vl);
	if (rn < IV_LEN + TAG_LEN + 2)
		return -1;
	size_t n = (size_t)rn - IV_LEN - TAG_LEN;
	char *plain = arena_alloc_uninit(a, n + 1);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int len = 0,
	    ok = c && vault_key(h, cookie, k) == 0 &&
	         EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k, raw) == 1 &&
	         EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)key, (int)strlen(key)) ==
	             1 &&
	         EVP_DecryptUpdate(c, (unsigned char *)plain, &len, raw + IV_LEN, (int)n) == 1 &&
	         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + IV_LEN + n) == 1 &&
	         EVP_DecryptFinal_ex(c, (unsigned char *)plain + len, &len) == 1;
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(k, sizeof k);
	if (!ok)
		return -1;
	plain[n] = 0;
	return vault_fill(a, plain, n, id);
}
