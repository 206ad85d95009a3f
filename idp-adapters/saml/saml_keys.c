/* saml_keys.c — the SP's signing/decryption keys and certificates: the configured PEM files
 * (checked to parse and to match), or a development pair (RSA 3072, self-signed, 10 years) made
 * with OpenSSL at first start in the hub's private state directory and reused after. */
#include "saml_int.h"
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 0 when key_pem is a private key and cert_pem a certificate of its public key. */
static int pair_ok(const char *key_pem, const char *cert_pem)
{
	BIO *kb = BIO_new_mem_buf(key_pem, -1), *cb = BIO_new_mem_buf(cert_pem, -1);
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	int ok = k && x && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA && X509_check_private_key(x, k);
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return ok ? 0 : -1;
}

char *saml_cert_b64(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (!x)
		return NULL;
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	X509_free(x);
	if (n <= 0)
		return NULL;
	char *out = malloc(4 * ((size_t)n + 2) / 3 + 1);
	if (out)
		EVP_EncodeBlock((unsigned char *)out, der, n);
	OPENSSL_free(der);
	return out;
}

static char *bio_string(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (s) {
		memcpy(s, p, (size_t)n);
		s[n] = 0;
	}
	return s;
}

static int write_private(const char *path, const char *data, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t n = strlen(data);
	int rc = write(fd, data, n) == (ssize_t)n ? 0 : -1;
	if (fsync(fd))
		rc = -1;
	close(fd);
	return rc;
}

/* A dev key pair: RSA 3072 and a self-signed certificate naming the instance. */
static int generate(const char *cn, char **key_pem, char **cert_pem)
{
	EVP_PKEY *k = EVP_RSA_gen(3072);
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	int rc = -1;
	if (!k || !x || !kb || !cb)
		goto out;
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	unsigned char rnd[16];
	BIGNUM *bn = NULL;
	if (!serial || RAND_bytes(rnd, sizeof rnd) != 1)
		goto serial_out;
	rnd[0] &= 0x7f;
	bn = BN_bin2bn(rnd, sizeof rnd, NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, serial) || !X509_set_serialNumber(x, serial))
		goto serial_out;
	X509_set_version(x, 2);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, k);
	if (X509_sign(x, k, EVP_sha256()) &&
	    PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) &&
	    PEM_write_bio_X509(cb, x)) {
		*key_pem = bio_string(kb);
		*cert_pem = bio_string(cb);
		rc = *key_pem && *cert_pem ? 0 : -1;
	}
serial_out:
	BN_free(bn);
	ASN1_INTEGER_free(serial);
out:
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

static int load_pair(saml_ctx *c, const idhub_adapter_config *cfg, int key, char **key_pem,
                     char **cert_pem, idhub_error *err)
{
	const char *kf = cfg->values[key].str, *cf = cfg->values[key + 1].str;
	const char *key_name = saml_settings[key].name, *cert_name = saml_settings[key + 1].name;
	*key_pem = saml_read_file(c, kf, 65536, NULL);
	if (!*key_pem)
		return saml_set_err(err, IDHUB_ERR_INTERNAL, "%s: cannot read %s", key_name, kf);
	*cert_pem = saml_read_file(c, cf, 65536, NULL);
	if (!*cert_pem)
		return saml_set_err(err, IDHUB_ERR_INTERNAL, "%s: cannot read %s", cert_name, cf);
	if (pair_ok(*key_pem, *cert_pem))
		return saml_set_err(err, IDHUB_ERR_INTERNAL,
		                    "%s: not an RSA private key matching the certificate in %s",
		                    key_name, cert_name);
	return 0;
}

int saml_keys_load(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	if (cfg->values[S_SP_NEXT_KEY_FILE].set &&
	    load_pair(c, cfg, S_SP_NEXT_KEY_FILE, &c->sp_next_key_pem, &c->sp_next_cert_pem, err))
		return -1;
	if (cfg->values[S_SP_KEY_FILE].set)
		return load_pair(c, cfg, S_SP_KEY_FILE, &c->sp_key_pem, &c->sp_cert_pem, err);

	/* No configured pair: the dev pair in state_dir, made on first start. */
	const char *dir = c->svc->state_dir ? c->svc->state_dir : ".";
	char kp[4096], cp[4096];
	snprintf(kp, sizeof kp, "%s/saml-%s-sp.key", dir, c->instance_id);
	snprintf(cp, sizeof cp, "%s/saml-%s-sp.crt", dir, c->instance_id);
	c->sp_key_pem = saml_read_file(c, kp, 65536, NULL);
	c->sp_cert_pem = saml_read_file(c, cp, 65536, NULL);
	if (c->sp_key_pem && c->sp_cert_pem && pair_ok(c->sp_key_pem, c->sp_cert_pem) == 0)
		return 0;
	if (c->sp_key_pem || c->sp_cert_pem) {
		saml_set_err(
		    err, IDHUB_ERR_INTERNAL,
		    "sp_key_file: the dev key pair %s, %s is incomplete or does not match; "
		    "remove both to make a new one",
		    kp, cp);
		return -1;
	}
	if (generate(c->instance_id, &c->sp_key_pem, &c->sp_cert_pem) ||
	    write_private(kp, c->sp_key_pem, 0600) || write_private(cp, c->sp_cert_pem, 0644))
		return saml_set_err(err, IDHUB_ERR_INTERNAL,
		                    "cannot make the dev SP key pair in %s", dir);
	c->svc->log(c->svc->inst, 5, "made a development SP key pair in %s", dir);
	return 0;
}
