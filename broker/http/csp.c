/* csp.c — Content-Security-Policy for HTML pages (see csp.h). */
#include "csp.h"
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

const char CSP_AUTOSUBMIT_SCRIPT[] = "document.forms[0].submit();";

static char script_hash[64]; /* base64 SHA-256, written once by csp_init before threads start */
static const char *form_sources = "https:";

void csp_init(int allow_http)
{
	/* Forms may lead anywhere a journey goes: an upstream IdP, then (through redirects that
	 * Chrome checks against form-action) the service. So form-action allows the scheme, not an
	 * origin list; scripts, styles and framing stay locked down. */
	form_sources = allow_http ? "https: http:" : "https:";
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)CSP_AUTOSUBMIT_SCRIPT, strlen(CSP_AUTOSUBMIT_SCRIPT), d);
	EVP_EncodeBlock((unsigned char *)script_hash, d, sizeof d);
}

const char *csp_header(arena *a, const char *page_script)
{
	return arena_printf(
	    a,
	    "default-src 'none'; style-src 'self'; img-src 'self'; "
	    "script-src 'sha256-%s'%s%s%s; %sform-action 'self' %s; frame-ancestors 'none'; "
	    "base-uri 'none'",
	    script_hash, page_script ? " '" : "", page_script ? page_script : "",
	    page_script ? "'" : "", page_script ? "connect-src 'self'; " : "", form_sources);
}
