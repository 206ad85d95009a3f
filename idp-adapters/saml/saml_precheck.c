/* saml_precheck.c — the rules a SAMLResponse is held to before lasso sees it, checked by the hub's
 * XML service (xml_read, xml_check): no DTD (so no entity expansion: billion laughs, external
 * entities), no comments or processing instructions (the CVE-2017-11427 class: a comment splits
 * NameID text, c14n drops it, and the signature still verifies over a different reading), one
 * Response root and no other Response, exactly one assertion (plain or encrypted) in the whole
 * document and placed as a child of the Response, signatures only as the one direct child of the
 * Response or an Assertion with one Reference to their parent's ID, unique IDs, and no SHA-1
 * unless allowed. Together these refuse every signature-wrapping shape of Somorovsky et al. (a
 * second copy of the signed element hidden elsewhere) before lasso's own reference-to-parent check
 * is even reached. */
#include "saml_int.h"

#define P_NS "{urn:oasis:names:tc:SAML:2.0:protocol}"
#define A_NS "{urn:oasis:names:tc:SAML:2.0:assertion}"
static const char *const one_assertion[] = {A_NS "Assertion", A_NS "EncryptedAssertion", NULL};
static const char *const signable[] = {P_NS "Response", A_NS "Assertion", NULL};

static idhub_xml_rules rules(int allow_sha1)
{
	return (idhub_xml_rules){.what = "the response",
	                         .flags =
	                             IDHUB_XML_STRICT | (allow_sha1 ? IDHUB_XML_ALLOW_SHA1 : 0),
	                         .root = P_NS "Response",
	                         .one_child = one_assertion,
	                         .signed_by = signable};
}

int saml_precheck(const idhub_services *svc, const char *xml, size_t len, int allow_sha1,
                  idhub_error *err)
{
	void *doc;
	idhub_xml_rules r = rules(allow_sha1);
	if (svc->xml_read(xml, len, &r, &doc, err))
		return -1;
	xmlFreeDoc(doc);
	return 0;
}

int saml_precheck_node(const idhub_services *svc, xmlNode *n, int allow_sha1, idhub_error *err)
{
	idhub_xml_rules r = rules(allow_sha1);
	return svc->xml_check(n, &r, err);
}
