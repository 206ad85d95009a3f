/* test_idp_xml.c — owns the unit tests of the adapter host's XML service (broker/idp/xml.c,
 * adapter ABI revision 6: xml_read, xml_check), called as an adapter calls it through an
 * instance's bound idhub_services: DTDs refused before parsing, each rule (strict, root,
 * one_child, signed_by, signed root, SHA-1) refusing the shape it exists for and accepting the
 * shape next to it, and xml_check on a subtree. The signatures here are structural only: the
 * rules are checked before any signature library runs. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "idp/host_int.h"
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <stdio.h>
#include <string.h>

#define P "urn:oasis:names:tc:SAML:2.0:protocol"
#define A "urn:oasis:names:tc:SAML:2.0:assertion"
#define DS "http://www.w3.org/2000/09/xmldsig#"
#define OPEN "<p:Response xmlns:p=\"" P "\" xmlns:a=\"" A "\" xmlns:ds=\"" DS "\" ID=\"r1\">"
#define SIG(ref, digest)                                                                           \
	"<ds:Signature><ds:SignedInfo><ds:SignatureMethod Algorithm=\"" DS "rsa-sha256\"/>"        \
	"<ds:Reference URI=\"#" ref "\"><ds:DigestMethod Algorithm=\"" digest                      \
	"\"/></ds:Reference>"                                                                      \
	"</ds:SignedInfo></ds:Signature>"
#define SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define SHA1 DS "sha1"
#define ASSERTION(id, inner) "<a:Assertion ID=\"" id "\">" inner "</a:Assertion>"

static char *loas[] = {"urn:loa:low"};
static idp_conf idps[1] = {{.id = "saml"}};
static hub_conf cfg = {
    .issuer = "https://hub.example", .loa_acrs = loas, .nloas = 1, .idps = idps, .nidps = 1};
static idp_host host = {.cfg = &cfg};
static idhub_instance inst;
static const idhub_services *svc;

static const char *const one[] = {"{" A "}Assertion", "{" A "}EncryptedAssertion", NULL};
static const char *const signable[] = {"{" P "}Response", "{" A "}Assertion", NULL};
static const idhub_xml_rules saml = {.what = "the response",
                                     .flags = IDHUB_XML_STRICT,
                                     .root = "{" P "}Response",
                                     .one_child = one,
                                     .signed_by = signable};

static int setup(void **state)
{
	(void)state;
	memset(&inst, 0, sizeof inst);
	assert_int_equal(services_bind(&inst, &host, "saml"), 0);
	svc = &inst.svc;
	assert_true(IDHUB_HAS_SERVICE(svc, xml_check));
	assert_true(IDHUB_HAS_REVISION(svc, 6));
	return 0;
}

/* Reads xml under rules: 0 (the document freed), or -1 with the reason in why. */
static int read_xml(const char *xml, const idhub_xml_rules *rules, char *why)
{
	void *doc = (void *)1;
	idhub_error err = {0};
	int rc = svc->xml_read(xml, strlen(xml), rules, &doc, &err);
	if (rc) {
		assert_null(doc);
		assert_int_equal(err.status, IDHUB_ERR_INVALID);
		snprintf(why, sizeof err.message, "%s", err.message);
	} else {
		assert_non_null(doc);
		xmlFreeDoc(doc);
	}
	return rc;
}

#define REFUSED(xml, rules, part)                                                                  \
	do {                                                                                       \
		char why_[256];                                                                    \
		assert_int_equal(read_xml(xml, rules, why_), -1);                                  \
		if (!strstr(why_, part))                                                           \
			fail_msg("%s: refused as \"%s\", expected \"%s\"", #xml, why_, part);      \
	} while (0)
#define ACCEPTED(xml, rules)                                                                       \
	do {                                                                                       \
		char why_[256] = "";                                                               \
		if (read_xml(xml, rules, why_))                                                    \
			fail_msg("%s: refused as \"%s\"", #xml, why_);                             \
	} while (0)

static void test_dtd_and_well_formedness(void **state)
{
	(void)state;
	REFUSED("<!DOCTYPE x [<!ENTITY a \"aaaa\">]><x>&a;</x>", NULL,
	        "the document contains a DTD");
	REFUSED("<!doctype x><x/>", &saml, "the response contains a DTD");
	REFUSED("<x><y></x>", NULL, "is not well-formed XML");
	REFUSED("", NULL, "is not well-formed XML");
	ACCEPTED("<x><!-- a comment --></x>", NULL);
	REFUSED("<a:Assertion xmlns:a=\"" A "\"/>", &saml, "the response is not a Response");
}

/* A DTD in UTF-16, which a byte search for "<!DOCTYPE" cannot see, still stops the parser. */
static void test_dtd_in_utf16(void **state)
{
	(void)state;
	const char *ascii = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE x [<!ENTITY a "
	                    "\"aaaa\">]><x a=\"&a;\"/>";
	char u16[512];
	size_t n = 0;
	u16[n++] = (char)0xff, u16[n++] = (char)0xfe; /* little-endian byte order mark */
	for (const char *c = ascii; *c; c++)
		u16[n++] = *c, u16[n++] = 0;
	void *doc = (void *)1;
	idhub_error err = {0};
	assert_int_equal(svc->xml_read(u16, n, NULL, &doc, &err), -1);
	assert_null(doc);
	assert_string_equal(err.message, "the document contains a DTD (refused)");
	/* the same document without its DTD is read */
	const char *plain = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><x a=\"b\"/>";
	n = 2;
	for (const char *c = plain; *c; c++)
		u16[n++] = *c, u16[n++] = 0;
	assert_int_equal(svc->xml_read(u16, n, NULL, &doc, &err), 0);
	xmlFreeDoc(doc);
}

static void test_strict(void **state)
{
	(void)state;
	/* the CVE-2017-11427 shape: a comment splitting a signed NameID */
	REFUSED(OPEN SIG("r1", SHA256)
	            ASSERTION("a1", "<a:NameID>victim<!---->.evil</a:NameID>") "</p:Response>",
	        &saml, "comments or processing instructions");
	REFUSED(OPEN ASSERTION("a1", "<?pi x?>") "</p:Response>", &saml, "processing instructions");
	REFUSED(OPEN ASSERTION("r1", "") "</p:Response>", &saml, "repeats an ID");
	ACCEPTED(OPEN SIG("r1", SHA256)
	             ASSERTION("a1", SIG("a1", SHA256) "<a:NameID>x</a:NameID>") "</p:Response>",
	         &saml);
	/* without IDHUB_XML_STRICT, comments and a repeated ID pass */
	idhub_xml_rules lax = saml;
	lax.flags = 0;
	ACCEPTED(OPEN "<!-- c -->" ASSERTION("r1", "") "</p:Response>", &lax);
}

/* An ID repeated after many others is still found (no fixed-size table to overflow). */
static void test_many_ids(void **state)
{
	(void)state;
	char xml[16384];
	size_t n = (size_t)snprintf(xml, sizeof xml, "%s", OPEN ASSERTION("a1", ""));
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(xml + n, sizeof xml - n, "<p:Extensions ID=\"e%d\"/>", i);
	snprintf(xml + n, sizeof xml - n, "<p:Extensions ID=\"e7\"/></p:Response>");
	REFUSED(xml, &saml, "repeats an ID");
}

static void test_root_and_one_child(void **state)
{
	(void)state;
	REFUSED(OPEN ASSERTION("a1", OPEN "</p:Response>") "</p:Response>", &saml,
	        "holds more than one Response");
	REFUSED(OPEN "</p:Response>", &saml, "must hold exactly one Assertion");
	REFUSED(OPEN ASSERTION("a1", "") ASSERTION("a2", "") "</p:Response>", &saml,
	        "must hold exactly one Assertion");
	/* one assertion, but hidden below another element: wrapping */
	REFUSED(OPEN "<p:Extensions>" ASSERTION("a1", "") "</p:Extensions></p:Response>", &saml,
	        "must hold exactly one Assertion");
	REFUSED(OPEN ASSERTION("a1", "") "<a:EncryptedAssertion/></p:Response>", &saml,
	        "must hold exactly one Assertion");
	ACCEPTED(OPEN "<a:EncryptedAssertion/></p:Response>", &saml);
}

static void test_signature_placement(void **state)
{
	(void)state;
	/* over another element than its parent */
	REFUSED(OPEN SIG("a1", SHA256) ASSERTION("a1", "") "</p:Response>", &saml,
	        "a signature is misplaced or does not reference its parent");
	/* under an element that may not be signed */
	REFUSED(OPEN ASSERTION(
	            "a1", "<a:Subject ID=\"s1\">" SIG("s1", SHA256) "</a:Subject>") "</p:Response>",
	        &saml, "a signature is misplaced");
	/* two signatures under one parent (a copy of the valid one) */
	REFUSED(OPEN SIG("r1", SHA256) SIG("r1", SHA256) ASSERTION("a1", "") "</p:Response>", &saml,
	        "a signature is misplaced");
	/* two References in one SignedInfo */
	REFUSED(OPEN
	        "<ds:Signature><ds:SignedInfo><ds:Reference URI=\"#r1\"/><ds:Reference "
	        "URI=\"#a1\"/></ds:SignedInfo></ds:Signature>" ASSERTION("a1", "") "</p:Response>",
	        &saml, "a signature is misplaced");
	/* without signed_by, placement is not checked */
	idhub_xml_rules any = saml;
	any.signed_by = NULL;
	ACCEPTED(OPEN SIG("a1", SHA256) ASSERTION("a1", "") "</p:Response>", &any);
}

static void test_sha1(void **state)
{
	(void)state;
	const char *xml = OPEN SIG("r1", SHA1) ASSERTION("a1", "") "</p:Response>";
	REFUSED(xml, &saml, "the response is signed with SHA-1");
	/* as the signature method, in the assertion's signature, and MD5 */
	REFUSED(OPEN
	        "<ds:Signature><ds:SignedInfo><ds:SignatureMethod Algorithm=\"" DS
	        "rsa-sha1\"/><ds:Reference URI=\"#r1\"/></ds:SignedInfo></ds:Signature>" ASSERTION(
	            "a1", "") "</p:Response>",
	        &saml, "SHA-1");
	REFUSED(OPEN ASSERTION("a1", SIG("a1", SHA1)) "</p:Response>", &saml, "SHA-1");
	REFUSED(OPEN ASSERTION(
	            "a1", SIG("a1", "http://www.w3.org/2001/04/xmldsig-more#md5")) "</p:Response>",
	        &saml, "SHA-1 or MD5");
	idhub_xml_rules sha1 = saml;
	sha1.flags |= IDHUB_XML_ALLOW_SHA1;
	ACCEPTED(xml, &sha1);
}

static void test_signed_root(void **state)
{
	(void)state;
	const idhub_xml_rules md = {.what = "the metadata", .flags = IDHUB_XML_SIGNED_ROOT};
#define MD(inner)                                                                                  \
	"<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"" DS    \
	"\" ID=\"m1\" entityID=\"https://idp.example\">" inner "</md:EntityDescriptor>"
	REFUSED(MD("<md:IDPSSODescriptor/>"), &md, "the metadata is not signed");
	REFUSED(MD(SIG("m1", SHA256) SIG("m1", SHA256)), &md, "the metadata is not signed");
	REFUSED(MD(SIG("x1", SHA256) "<md:IDPSSODescriptor ID=\"x1\"/>"), &md,
	        "the metadata signature does not cover its root element");
	REFUSED(MD(SIG("m1", SHA1)), &md, "the metadata is signed with SHA-1");
	/* accepted, and the root's ID is an XML ID, as a signature library resolves "#m1" */
	const char *good = MD(SIG("m1", SHA256) "<md:IDPSSODescriptor/>");
	void *doc = NULL;
	idhub_error err = {0};
	assert_int_equal(svc->xml_read(good, strlen(good), &md, &doc, &err), 0);
	xmlAttr *id = xmlGetID(doc, (const xmlChar *)"m1");
	assert_non_null(id);
	assert_ptr_equal(id->parent, xmlDocGetRootElement(doc));
	xmlFreeDoc(doc);
	/* rules this hub does not know are refused, not ignored */
	idhub_xml_rules future = md;
	future.flags |= 1u << 20;
	assert_int_equal(svc->xml_read(good, strlen(good), &future, &doc, &err), -1);
	assert_null(doc);
}

/* xml_check: a subtree (a decrypted assertion) under the same rules, minus root and one_child;
 * its siblings are not visited. */
static void test_check_subtree(void **state)
{
	(void)state;
	const char *xml = OPEN "<!-- beside -->" ASSERTION(
	    "a1",
	    SIG("a1", SHA256) "<a:NameID>x</a:NameID>") "<a:Evil><!--c--></a:Evil></p:Response>";
	void *doc = NULL;
	idhub_error err = {0};
	assert_int_equal(svc->xml_read(xml, strlen(xml), NULL, &doc, &err), 0);
	xmlNode *as = xmlDocGetRootElement(doc)->children;
	while (as && !(as->type == XML_ELEMENT_NODE && xmlStrEqual(as->name, BAD_CAST "Assertion")))
		as = as->next;
	assert_non_null(as);
	assert_int_equal(svc->xml_check(as, &saml, &err), 0);
	assert_int_equal(svc->xml_check(NULL, &saml, &err), -1); /* nothing checked: no pass */
	/* a SHA-1 signature inside the subtree */
	xmlNode *sig = xmlFirstElementChild(as);
	xmlNode *dm = xmlFirstElementChild(xmlLastElementChild(xmlFirstElementChild(sig)));
	xmlSetProp(dm, BAD_CAST "Algorithm", BAD_CAST SHA1);
	assert_int_equal(svc->xml_check(as, &saml, &err), -1);
	assert_non_null(strstr(err.message, "SHA-1"));
	xmlSetProp(dm, BAD_CAST "Algorithm", BAD_CAST SHA256);
	xmlNode *name_id = xmlLastElementChild(as);
	xmlAddChild(name_id, xmlNewComment(BAD_CAST "split"));
	assert_int_equal(svc->xml_check(as, &saml, &err), -1);
	assert_non_null(strstr(err.message, "comments"));
	xmlFreeDoc(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dtd_and_well_formedness),
	    cmocka_unit_test(test_dtd_in_utf16),
	    cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_many_ids),
	    cmocka_unit_test(test_root_and_one_child),
	    cmocka_unit_test(test_signature_placement),
	    cmocka_unit_test(test_sha1),
	    cmocka_unit_test(test_signed_root),
	    cmocka_unit_test(test_check_subtree),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
