/* saml_sp_metadata.c — our SP metadata: entityID, the AssertionConsumerService (HTTP-POST to the
 * hub's callback), and a signing and an encryption KeyDescriptor per certificate (the current one
 * and, during a rollover, the next). lasso reads the same document as its own description, and the
 * hub publishes it at ISSUER/idp/<id>/metadata. */
#include "saml_int.h"
#include <libxml/entities.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* XML attribute/text escaping for the few values we put in (URLs from the config). */
static void esc(FILE *f, const char *s)
{
	xmlChar *e = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
	fputs(e ? (const char *)e : "", f);
	xmlFree(e);
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

int saml_sp_metadata_build(saml_ctx *c, idhub_error *err)
{
	char *cur = c->svc->cert_der_b64(c->sp_cert_pem);
	char *next = c->sp_next_cert_pem ? c->svc->cert_der_b64(c->sp_next_cert_pem) : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = cur && (next || !c->sp_next_cert_pem) ? open_memstream(&buf, &len) : NULL;
	if (!f) {
		free(cur);
		free(next);
		idhub_fail(err, IDHUB_ERR_INTERNAL, "sp_cert_file: cannot read the certificate");
		return -1;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<md:EntityDescriptor "
	      "xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" "
	      "xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"",
	      f);
	esc(f, c->sp_entity_id);
	fprintf(
	    f,
	    "\">\n  <md:SPSSODescriptor AuthnRequestsSigned=\"%s\" WantAssertionsSigned=\"true\" "
	    "protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">\n",
	    c->sign_requests ? "true" : "false");
	key_descriptor(f, "signing", cur);
	if (next)
		key_descriptor(f, "signing", next);
	key_descriptor(f, "encryption", cur);
	if (next)
		key_descriptor(f, "encryption", next);
	fputs("    <md:NameIDFormat>", f);
	esc(f, c->name_id_format);
	fputs("</md:NameIDFormat>\n    <md:AssertionConsumerService "
	      "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"",
	      f);
	esc(f, c->callback_url);
	fputs("\" index=\"0\" isDefault=\"true\"/>\n  </md:SPSSODescriptor>\n"
	      "</md:EntityDescriptor>\n",
	      f);
	fclose(f);
	free(cur);
	free(next);
	c->sp_metadata = buf;
	return buf ? 0 : -1;
}
