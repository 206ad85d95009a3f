/* certs.c — the wallet adapter's certificates: the verifier's key and x5c chain (whose DNS name is
 * the x509_san_dns client_id), the trust anchors for PID issuers, and the check of an issuer's
 * x5c chain against them with X509_verify_cert. */
#include "wallet_int.h"
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static BIO *file_bio(const wallet *w, int setting, char **buf)
{
	size_t len = 0;
	*buf = w->svc->read_file(w->cfg->values[setting].str, 1 << 20, &len);
	return *buf ? BIO_new_mem_buf(*buf, (int)len) : NULL;
}

static int load_chain(wallet *w, idhub_error *err)
{
	char *buf;
	BIO *b = file_bio(w, S_VERIFIER_CERT, &buf);
	X509 *c;
	int n = 0, ok = 1;
	w->x5c = json_array();
	while (b && (c = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		/* the leaf must carry the DNS name the client_id claims (x509_san_dns) */
		const char *host = w->client_id + strlen("x509_san_dns:");
		if (n == 0 &&
		    X509_check_host(c, host, strlen(host), X509_CHECK_FLAG_NO_WILDCARDS, NULL) != 1)
			ok = 0;
		unsigned char *der = NULL;
		int dlen = i2d_X509(c, &der);
		if (dlen > 0) {
			char *b64 = malloc(((size_t)dlen + 2) / 3 * 4 + 1);
			if (b64) {
				EVP_EncodeBlock((unsigned char *)b64, der, dlen);
				json_array_append_new(w->x5c, json_string(b64));
			}
			free(b64);
		}
		OPENSSL_free(der);
		X509_free(c);
		n++;
	}
	ERR_clear_error();
	BIO_free(b);
	free(buf);
	if (!n)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "verifier_cert: no PEM certificate");
	if (!ok)
		return idhub_fail(
		    err, IDHUB_ERR_INTERNAL,
		    "verifier_cert: the certificate has no DNS name %s (client_id_dns)",
		    w->client_id + strlen("x509_san_dns:"));
	return 0;
}

int wallet_load_verifier(wallet *w, idhub_error *err)
{
	char *buf;
	BIO *b = file_bio(w, S_VERIFIER_KEY, &buf);
	w->verifier_key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	if (buf)
		OPENSSL_cleanse(buf, strlen(buf));
	free(buf);
	ERR_clear_error();
	if (!w->verifier_key || EVP_PKEY_get_base_id(w->verifier_key) != EVP_PKEY_EC ||
	    EVP_PKEY_get_bits(w->verifier_key) != 256)
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "verifier_key: not a PEM P-256 private key");
	return load_chain(w, err);
}

/* PEM certificates into a new store (NULL when there is none). */
static X509_STORE *anchors_from(const char *pem, size_t len)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);
	X509_STORE *st = X509_STORE_new();
	X509 *c;
	int n = 0;
	while (b && st && (c = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
		n += X509_STORE_add_cert(st, c) == 1;
		X509_free(c);
	}
	ERR_clear_error();
	BIO_free(b);
	if (!n) {
		X509_STORE_free(st);
		return NULL;
	}
	return st;
}

static void *parse_anchors(void *arg, const char *body, size_t len, char *why, size_t whylen)
{
	(void)arg;
	X509_STORE *st = anchors_from(body, len);
	if (!st)
		snprintf(why, whylen, "trust_anchors: no PEM certificate");
	return st;
}

static void release_anchors(void *st)
{
	X509_STORE_free(st);
}

/* The anchors are read now (errors at the setting's line) and then kept fresh by the hub's
 * document service from the same file, so a changed trust list needs no restart. */
int wallet_load_anchors(wallet *w, idhub_error *err)
{
	const char *path = w->cfg->values[S_TRUST_ANCHORS].str;
	size_t len = 0;
	char *buf = w->svc->read_file(path, 1 << 20, &len), abs[PATH_MAX], url[PATH_MAX + 8];
	w->anchors = buf ? anchors_from(buf, len) : NULL;
	free(buf);
	if (!w->anchors)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "trust_anchors: no PEM certificate");
	if (w->cfg->checking || !realpath(path, abs))
		return 0;
	snprintf(url, sizeof url, "file://%s", abs);
	idhub_doc_spec spec = {.name = "trust_anchors",
	                       .url = url,
	                       .refresh = w->cfg->values[S_TRUST_REFRESH].num,
	                       .min_refetch = 1,
	                       .max_size = 1 << 20,
	                       .parse = parse_anchors,
	                       .release = release_anchors};
	w->anchors_doc = w->svc->doc_watch(w->svc->inst, &spec);
	return 0;
}

static X509 *der_cert(const wallet *w, idhub_arena *a, json_t *v)
{
	const char *s = json_string_value(v);
	unsigned char *der = NULL;
	long n = s ? w->svc->b64_decode(a, s, strlen(s), 0, &der) : -1;
	const unsigned char *p = der;
	return n > 0 ? d2i_X509(NULL, &p, n) : NULL;
}

/* Whether the leaf's subjectAltName holds iss as a URI, or (an https iss) its host as a DNS name.
 */
static int names_iss(X509 *leaf, const char *iss)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	int ok = 0;
	for (int i = 0; names && !ok && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type == GEN_URI) {
			const ASN1_IA5STRING *u = g->d.uniformResourceIdentifier;
			ok = (size_t)u->length == strlen(iss) && !memcmp(u->data, iss, strlen(iss));
		}
	}
	GENERAL_NAMES_free(names);
	if (!ok && !strncmp(iss, "https://", 8)) {
		size_t n = strcspn(iss + 8, ":/?#");
		ok = X509_check_host(leaf, iss + 8, n, X509_CHECK_FLAG_NO_WILDCARDS, NULL) == 1;
	}
	return ok;
}

int wallet_x5c_key(const wallet *w, idhub_arena *a, json_t *x5c, const char *iss, EVP_PKEY **key,
                   char *why, size_t whylen)
{
	size_t n = json_array_size(x5c);
	if (!n || n > 5) {
		snprintf(why, whylen, "x5c: missing or longer than 5 certificates");
		return -1;
	}
	X509 *leaf = der_cert(w, a, json_array_get(x5c, 0));
	STACK_OF(X509) *chain = sk_X509_new_null();
	int rc = -1;
	for (size_t i = 1; leaf && chain && i < n; i++) {
		X509 *c = der_cert(w, a, json_array_get(x5c, i));
		if (!c || !sk_X509_push(chain, c)) {
			X509_free(c);
			goto out;
		}
	}
	if (!leaf || !chain) {
		snprintf(why, whylen, "x5c: malformed certificate");
		goto out;
	}
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	const void *fresh = w->anchors_doc ? w->svc->doc_get(w->anchors_doc) : NULL;
	X509_STORE *anchors = fresh ? (X509_STORE *)fresh : w->anchors;
	/* the chain is checked at the hub's clock; the leaf's intermediates come only from x5c,
	 * the roots only from the configured trust anchors */
	if (ctx && X509_STORE_CTX_init(ctx, anchors, leaf, chain) == 1) {
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
		                           (time_t)w->svc->now(w->svc->inst));
		if (X509_verify_cert(ctx) != 1)
			snprintf(why, whylen, "x5c chain not trusted: %s",
			         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		else if (iss && !names_iss(leaf, iss))
			snprintf(why, whylen, "the certificate does not name iss %.100s", iss);
		else {
			*key = X509_get_pubkey(leaf);
			rc = *key ? 0 : -1;
		}
	}
	X509_STORE_CTX_free(ctx);
	if (fresh)
		w->svc->doc_put(w->anchors_doc, fresh);
out:
	ERR_clear_error();
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
