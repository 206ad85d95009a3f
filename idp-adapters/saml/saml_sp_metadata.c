/* saml_sp_metadata.c — our SP metadata: entityID, the AssertionConsumerService (HTTP-POST to the
 * hub's callback), and a signing and an encryption KeyDescriptor per certificate (the current one
 * and, during a rollover, the next), and the SingleLogoutService (HTTP-POST, saml_logout.c).
 * lasso reads the same document as its own description, and the hub publishes it at
 * ISSUER/idp/<id>/metadata. */
#include "saml_int.h"
#include <libxml/xmlsave.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* XML attribute/text escaping for the few values we put in (URLs from the config). */
static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
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
	char *cur = saml_cert_b64(c->sp_cert_pem);
	char *next = c->sp_next_cert_pem ? saml_cert_b64(c->sp_next_cert_pem) : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = cur && (next || !c->sp_next_cert_pem) ? open_memstream(&buf, &len) : NULL;
	if (!f) {
		free(cur);
		free(next);
		saml_set_err(err, IDHUB_ERR_INTERNAL, "sp_cert_file: cannot read the certificate");
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
	char *slo = saml_slo_url(c); /* Single Logout (saml_logout.c); before NameIDFormat */
	if (slo) {
		fputs("    <md:SingleLogoutService "
		      "Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\" Location=\"",
		      f);
		esc(f, slo);
		fputs("\"/>\n", f);
	}
	free(slo);
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
