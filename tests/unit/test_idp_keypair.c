/* test_idp_keypair.c — owns the unit tests of the adapter host's key-pair and time services
 * (broker/idp/keypair.c, datetime.c): the development key pair made once in the state directory
 * and reused, never replaced when half of it is gone; the key/certificate match check; a
 * certificate's DER in base64; the strict RFC 3339 (xs:dateTime) parser. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "idp/datetime.h"
#include "idp/host_int.h"
#include "idp/keypair.h"
#include "idp/services.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void no_log(idhub_instance *in, int level, const char *fmt, ...)
{
	(void)in;
	(void)level;
	(void)fmt;
}

/* An EC private key as PEM text (malloc'd): a key that matches no RSA certificate. */
static char *ec_key_pem(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	BIO *b = BIO_new(BIO_s_mem());
	assert_true(k && b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL));
	char *p;
	long n = BIO_get_mem_data(b, &p);
	/* the BIO's memory is not NUL-terminated: copied by length (strndup would read past it) */
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	BIO_free(b);
	EVP_PKEY_free(k);
	return s;
}

/* The base64 body of a PEM block, line breaks removed (malloc'd). */
static char *pem_body(const char *pem)
{
	const char *p = strchr(pem, '\n') + 1, *end = strstr(p, "-----END");
	char *out = calloc(1, (size_t)(end - p) + 1), *o = out;
	for (; p < end; p++)
		if (*p != '\n')
			*o++ = *p;
	return out;
}

static void test_dev_key_pair(void **state)
{
	(void)state;
	char dir[] = "/tmp/idhub-keypair-XXXXXX", kp[128], cp[128], why[300];
	assert_non_null(mkdtemp(dir));
	hub_conf cfg = {.state_dir = dir};
	idp_host h = {.cfg = &cfg};
	idhub_instance in = {.h = &h, .id = "gov", .adapter_name = "saml"};
	in.svc.log = no_log;
	in.svc.read_file = idp_read_file;
	snprintf(kp, sizeof kp, "%s/saml-gov-sp.key", dir);
	snprintf(cp, sizeof cp, "%s/saml-gov-sp.crt", dir);

	/* made on first use: the key file private, the pair an RSA key and its certificate */
	char *key, *cert, *key2, *cert2;
	assert_int_equal(idp_dev_key_pair(&in, "sp", &key, &cert, why, sizeof why), 0);
	struct stat st;
	assert_int_equal(stat(kp, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_string_equal(idp_key_pair_check(key, cert), "RSA");

	/* reused after */
	assert_int_equal(idp_dev_key_pair(&in, "sp", &key2, &cert2, why, sizeof why), 0);
	assert_string_equal(key2, key);
	assert_string_equal(cert2, cert);

	/* a certificate's DER in base64 is the PEM body */
	char *b64 = idp_cert_der_b64(cert), *body = pem_body(cert);
	assert_string_equal(b64, body);
	assert_null(idp_cert_der_b64("not a certificate"));

	/* a key of another type, or text that is not PEM, does not match */
	char *ec = ec_key_pem();
	assert_null(idp_key_pair_check(ec, cert));
	assert_null(idp_key_pair_check("junk", cert));

	/* half a pair is refused and left alone: the operator removes it */
	assert_int_equal(unlink(cp), 0);
	char *k3 = NULL, *c3 = NULL;
	assert_int_equal(idp_dev_key_pair(&in, "sp", &k3, &c3, why, sizeof why), -1);
	assert_non_null(strstr(why, "incomplete or does not match"));
	assert_null(k3);
	assert_null(c3);
	assert_int_equal(access(cp, F_OK), -1);
	assert_int_equal(unlink(kp), 0);
	assert_int_equal(rmdir(dir), 0);
	free(key);
	free(cert);
	free(key2);
	free(cert2);
	free(b64);
	free(body);
	free(ec);
}

static void test_parse_time(void **state)
{
	(void)state;
	assert_int_equal(idp_parse_time("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(idp_parse_time("2024-02-29T12:34:56Z"), 1709210096);
	assert_int_equal(idp_parse_time("2024-02-29T12:34:56.789Z"), 1709210096);
	assert_int_equal(idp_parse_time("2024-02-29T14:34:56+02:00"), 1709210096);
	assert_int_equal(idp_parse_time("2024-02-29T10:34:56-02:00"), 1709210096);
	assert_int_equal(idp_parse_time(NULL), -1);
	assert_int_equal(idp_parse_time("2024-02-29T12:34:56"), -1);       /* no zone */
	assert_int_equal(idp_parse_time("2024-02-29T12:34:56.Z"), -1);     /* empty fraction */
	assert_int_equal(idp_parse_time("2024-13-01T00:00:00Z"), -1);      /* month */
	assert_int_equal(idp_parse_time("1969-12-31T23:59:59Z"), -1);      /* before 1970 */
	assert_int_equal(idp_parse_time("2024-02-29T12:34:56Z "), -1);     /* trailing text */
	assert_int_equal(idp_parse_time("2024-02-29T12:34:56+15:00"), -1); /* offset */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dev_key_pair),
	    cmocka_unit_test(test_parse_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
