/* saml_sp.c — our Service Provider: its signing/decryption keys and certificates (the configured
 * PEM files, checked to parse and to match, or the hub's development pair for this instance, made
 * at first start in the hub's private state directory: the dev_key_pair service), and its metadata:
 * entityID, the AssertionConsumerService (HTTP-POST to the hub's callback), the SingleLogoutService
 * (HTTP-POST, saml_logout.c), and a signing and an
 * encryption KeyDescriptor per certificate (the current one and, during a rollover, the next).
 * lasso reads the same document as its own description, and the hub publishes it at
 * ISSUER/idp/<id>/metadata. */
#include "saml_int.h"
#include <libxml/entities.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_pair(saml_ctx *c, const idhub_adapter_config *cfg, int key, char **key_pem,
                     char **cert_pem, idhub_error *err)
{
	if (!(*key_pem = saml_pem_file(c, cfg, key, err)) ||
	    !(*cert_pem = saml_pem_file(c, cfg, key + 1, err)))
		return -1;
	const char *type = c->svc->key_pair_check(*key_pem, *cert_pem);
	if (!type || strcmp(type, "RSA") != 0)
		return idhub_fail(err, IDHUB_ERR_INTERNAL,
		                  "%s: not an RSA private key matching the certificate in %s",
		                  saml_settings[key].name, saml_settings[key + 1].name);
	return 0;
}

static void key_descriptor(FILE *f, const char *use, const char *b64)
{
	fprintf(
	    f,
	    "    <md:KeyDescriptor use=\"%s\">\n      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>"
	    "%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\n%s    </md:KeyDescriptor>\n",
	    use, b64,
	    strcmp(use, "encryption") == 0
	        ? "      <md:EncryptionMethod "
	          "Algorithm=\"http://www.w3.org/2009/xmlenc11#aes256-gcm\"/>\n"
	          "      <md:EncryptionMethod "
	          "Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes256-cbc\"/>\n"
	          "      <md:EncryptionMethod "
	          "Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"/>\n"
	        : "");
}

/* The SingleLogoutService (HTTP-POST, saml_logout.c): ISSUER/idp/<id>/slo beside the metadata. */
static void single_logout(FILE *f, saml_ctx *c)
{
	xmlChar *md = xmlEncodeSpecialChars(NULL, (const xmlChar *)c->metadata_url);
	if (md)
		fprintf(f,
		        "    <md:SingleLogoutService "
		        "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" "
		        "Location=\"%.*sslo\"/>\n",
		        (int)(xmlStrlen(md) - (int)strlen("metadata")), md);
	xmlFree(md);
}

/* The metadata document into c->sp_metadata; the values we put in are escaped for XML. */
static int build_metadata(saml_ctx *c, idhub_error *err)
{
	char *cur = c->svc->cert_der_b64(c->sp_cert_pem), *buf = NULL;
	char *next = c->sp_next_cert_pem ? c->svc->cert_der_b64(c->sp_next_cert_pem) : NULL;
	xmlChar *eid = xmlEncodeSpecialChars(NULL, (const xmlChar *)c->sp_entity_id);
	xmlChar *nif = xmlEncodeSpecialChars(NULL, (const xmlChar *)c->name_id_format);
	xmlChar *acs = xmlEncodeSpecialChars(NULL, (const xmlChar *)c->callback_url);
	size_t len = 0;
	FILE *f = cur && (next || !c->sp_next_cert_pem) && eid && nif && acs
	              ? open_memstream(&buf, &len)
	              : NULL;
	if (f) {
		fprintf(f,
		        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor "
		        "xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
		        "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"%s\">\n"
		        "  <md:SPSSODescriptor AuthnRequestsSigned=\"%s\" "
		        "WantAssertionsSigned=\"true\" "
		        "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
		        eid, c->set[S_SIGN_REQUESTS].num ? "true" : "false");
		const char *const uses[] = {"signing", "encryption"};
		for (int u = 0; u < 2; u++) {
			key_descriptor(f, uses[u], cur);
			if (next)
				key_descriptor(f, uses[u], next);
		}
		single_logout(f, c); /* before NameIDFormat, as the schema orders them */
		fprintf(
		    f,
		    "    <md:NameIDFormat>%s</md:NameIDFormat>\n    <md:AssertionConsumerService "
		    "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"%s\" "
		    "index=\"0\" isDefault=\"true\"/>\n  </md:SPSSODescriptor>\n"
		    "</md:EntityDescriptor>\n",
		    nif, acs);
		fclose(f);
	}
	free(cur);
	free(next);
	xmlFree(eid);
	xmlFree(nif);
	xmlFree(acs);
	c->sp_metadata = buf;
	return buf ? 0
	           : idhub_fail(err, IDHUB_ERR_INTERNAL,
	                        "sp_cert_file: cannot read the certificate");
}

int saml_sp_load(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err)
{
	char why[256];
	if (cfg->values[S_SP_NEXT_KEY_FILE].set &&
	    load_pair(c, cfg, S_SP_NEXT_KEY_FILE, &c->sp_next_key_pem, &c->sp_next_cert_pem, err))
		return -1;
	if (cfg->values[S_SP_KEY_FILE].set) {
		if (load_pair(c, cfg, S_SP_KEY_FILE, &c->sp_key_pem, &c->sp_cert_pem, err))
			return -1;
	} else if (c->svc->dev_key_pair(c->svc->inst, "sp", &c->sp_key_pem, &c->sp_cert_pem, why,
	                                sizeof why)) {
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "sp_key_file: %s", why);
	}
	return build_metadata(c, err);
}
