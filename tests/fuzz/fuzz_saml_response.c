/* fuzz_saml_response.c — libFuzzer on the SAML adapter's Response pre-processing: strict base64 of
 * the SAMLResponse field (the adapter host's decoder, as the adapter calls it), then the structural
 * checks (DTD, comments, one assertion, signature placement, IDs, algorithms) that run on every
 * response before lasso sees it, and the host's xs:dateTime parser (which the adapter calls). Built
 * with lasso's flags (idp-adapters/saml/adapter.mk). */
#include "../../idp-adapters/saml/saml_precheck.c"
#include "idp/datetime.h"
#include "idp/services.h"
#include <stdarg.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	idhub_error err = {0};
	unsigned char *xml = malloc(size * 3 / 4 + 3);
	/* as the field arrives: base64, then the pre-checks on what it decodes to */
	long xlen = xml ? idp_b64_decode(s, size, IDHUB_B64_WRAPPED, xml) : -1;
	if (xlen > 0)
		saml_precheck((const char *)xml, (size_t)xlen, 0, &err);
	free(xml);
	/* and the raw bytes as XML, so the fuzzer need not learn base64 to reach the parser */
	saml_precheck(s, size, size & 1, &err);
	idp_parse_time(s);
	free(s);
	return 0;
}
