/* keypair.c — the adapter host's key-pair services (include/idhub/adapter.h): a development key
 * pair (RSA 3072 and a self-signed certificate, 10 years) made with OpenSSL at an instance's first
 * start in the hub's private state directory and reused after, so that an adapter needing its own
 * certificate (a SAML SP) runs before an operator configures one; the check that a PEM private key
 * and a PEM certificate belong together; and a certificate's DER in base64 (for metadata). */
#include "host_int.h"
#include "keypair.h"
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_MAX 65536

const char *idp_key_pair_check(const char *key_pem, const char *cert_pem)
{
	BIO *kb = BIO_new_mem_buf(key_pem, -1), *cb = BIO_new_mem_buf(cert_pem, -1);
	EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	const char *type = NULL;
	if (k && x && X509_check_private_key(x, k)) {
		int id = EVP_PKEY_get_base_id(k);
		type = id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC" : "other";
	}
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(kb);
	BIO_free(cb);
	return type;
}

char *idp_cert_der_b64(const char *pem)
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

/* Created, never replaced (O_EXCL), and on disk before it is used. */
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

/* A random positive 128-bit serial number for x. */
static int set_serial(X509 *x)
{
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	unsigned char rnd[16];
	BIGNUM *bn = NULL;
	int ok = serial && RAND_bytes(rnd, sizeof rnd) == 1;
	if (ok) {
		rnd[0] &= 0x7f;
		bn = BN_bin2bn(rnd, sizeof rnd, NULL);
		ok = bn && BN_to_ASN1_INTEGER(bn, serial) && X509_set_serialNumber(x, serial);
	}
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	return ok ? 0 : -1;
}

/* RSA 3072 and a self-signed certificate naming cn, as PEM text (malloc'd). */
static int generate(const char *cn, char **key_pem, char **cert_pem)
{
	EVP_PKEY *k = EVP_RSA_gen(3072);
	X509 *x = X509_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	int rc = -1;
	if (k && x && kb && cb && set_serial(x) == 0) {
		X509_set_version(x, 2);
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
		X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 86400);
		X509_NAME *name = X509_get_subject_name(x);
		X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
		                           -1, 0);
		X509_set_issuer_name(x, name);
		X509_set_pubkey(x, k);
		if (X509_sign(x, k, EVP_sha256()) &&
		    PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL) &&
		    PEM_write_bio_X509(cb, x)) {
			*key_pem = bio_string(kb);
			*cert_pem = bio_string(cb);
			rc = *key_pem && *cert_pem ? 0 : -1;
		}
	}
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

/* The instance's file reader, with the rule that an empty file is no file. */
static char *read_pem(idhub_instance *in, const char *path)
{
	size_t n = 0;
	char *s = in->svc.read_file(path, PEM_MAX, &n);
	if (s && !n) {
		free(s);
		s = NULL;
	}
	return s;
}

int idp_dev_key_pair(idhub_instance *in, const char *name, char **key_pem, char **cert_pem,
                     char *why, size_t whylen)
{
	const char *dir = in->h->cfg->state_dir ? in->h->cfg->state_dir : ".";
	char kp[4096], cp[4096];
	snprintf(kp, sizeof kp, "%s/%s-%s-%s.key", dir, in->adapter_name, in->id, name);
	snprintf(cp, sizeof cp, "%s/%s-%s-%s.crt", dir, in->adapter_name, in->id, name);
	*key_pem = read_pem(in, kp);
	*cert_pem = read_pem(in, cp);
	if (*key_pem && *cert_pem && idp_key_pair_check(*key_pem, *cert_pem))
		return 0;
	if (*key_pem || *cert_pem) {
		snprintf(why, whylen,
		         "the dev key pair %s, %s is incomplete or does not match; remove both to "
		         "make a new one",
		         kp, cp);
	} else if (generate(in->id, key_pem, cert_pem) || write_private(kp, *key_pem, 0600) ||
	           write_private(cp, *cert_pem, 0644)) {
		snprintf(why, whylen, "cannot make the dev key pair in %s", dir);
	} else {
		in->svc.log(in, 5, "made a development %s key pair in %s", name, dir);
		return 0;
	}
	free(*key_pem);
	free(*cert_pem);
	*key_pem = *cert_pem = NULL;
	return -1;
}
