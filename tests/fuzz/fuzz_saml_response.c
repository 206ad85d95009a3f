/* fuzz_saml_response.c — libFuzzer on the SAML adapter's Response pre-processing: strict base64 of
 * the SAMLResponse field, then the structural checks (DTD, comments, one assertion, signature
 * placement, IDs, algorithms) that run on every response before lasso sees it, and the xs:dateTime
 * parser. Built with lasso's flags (idp-adapters/saml/adapter.mk). */
#include "../../idp-adapters/saml/saml_precheck.c"
#include "../../idp-adapters/saml/saml_time.c"
#include <stdarg.h>
#include <stdio.h>

void saml_set_err(idhub_error *e, idhub_status st, const char *fmt, ...)
{
	va_list ap;
	e->status = st;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 20)
		return 0;
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	idhub_error err = {0};
	unsigned char *xml;
	size_t xlen;
	/* as the field arrives: base64, then the pre-checks on what it decodes to */
	if (saml_b64_decode_strict(s, size, &xml, &xlen) == 0) {
		saml_precheck((const char *)xml, xlen, 0, &err);
		free(xml);
	}
	/* and the raw bytes as XML, so the fuzzer need not learn base64 to reach the parser */
	saml_precheck(s, size, size & 1, &err);
	saml_parse_time(s);
	free(s);
	return 0;
}
