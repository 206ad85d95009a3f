/* fuzz_saml_response.c — libFuzzer on the SAML adapter's Response pre-processing: strict base64 of
 * the SAMLResponse field (the adapter host's decoder, as the adapter calls it), then the rules
 * every response is held to before lasso sees it (the host's XML service under the adapter's
 * rules: DTD, comments, one Response, one assertion, signature placement, IDs, algorithms), the
 * same rules on a subtree (as on a decrypted assertion), and the host's xs:dateTime parser (which
 * the adapter calls). Built with lasso's flags (idp-adapters/saml/adapter.mk). */
#include "../../idp-adapters/saml/saml_precheck.c"
#include "idp/datetime.h"
#include "idp/services.h"
#include "idp/xml.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	static const idhub_services svc = {.xml_read = idp_xml_read, .xml_check = idp_xml_check};
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	idhub_error err = {0};
	unsigned char *xml = malloc(size * 3 / 4 + 3);
	/* as the field arrives: base64, then the pre-checks on what it decodes to */
	long xlen = xml ? idp_b64_decode(s, size, IDHUB_B64_WRAPPED, xml) : -1;
	if (xlen > 0)
		saml_precheck(&svc, (const char *)xml, (size_t)xlen, 0, &err);
	free(xml);
	/* and the raw bytes as XML, so the fuzzer need not learn base64 to reach the parser; the
	 * root's first child as a subtree of its own */
	void *doc = NULL;
	if (idp_xml_read(s, size, NULL, &doc, &err) == 0) {
		xmlNode *root = xmlDocGetRootElement(doc);
		saml_precheck_node(&svc, root->children, (int)(size & 1), &err);
		xmlFreeDoc(doc);
	}
	saml_precheck(&svc, s, size, (int)(size & 1), &err);
	idp_parse_time(s);
	free(s);
	return 0;
}
