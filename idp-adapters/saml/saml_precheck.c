/* saml_precheck.c — what the adapter checks on a SAMLResponse before lasso sees it: strict base64,
 * no DTD (so no entity expansion: billion laughs, external entities), no comments or processing
 * instructions (the CVE-2017-11427 class: a comment splits NameID text, c14n drops it, and the
 * signature still verifies over a different reading), one Response root, exactly one assertion
 * (plain or encrypted) in the whole document and placed as a child of the Response, signatures only
 * as direct children of the Response or the Assertion with one Reference to their parent's ID,
 * unique IDs, and no SHA-1 unless allowed. Together these refuse every signature-wrapping shape of
 * Somorovsky et al. (a second copy of the signed element hidden elsewhere) before lasso's own
 * reference-to-parent check is even reached. */
#include "saml_int.h"
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

static const xmlChar P_NS[] = "urn:oasis:names:tc:SAML:2.0:protocol";
static const xmlChar A_NS[] = "urn:oasis:names:tc:SAML:2.0:assertion";
int saml_is_el(const xmlNode *n, const xmlChar *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, ns) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

typedef struct walk {
	int assertions, responses, bad_sig, weak, comments, entities;
	int allow_sha1;
	xmlChar *ids[64];
	int nids, dup_id;
} walk;

static int weak_alg(const xmlChar *alg)
{
	return alg &&
	       (xmlStrstr(alg, (const xmlChar *)"sha1") || xmlStrstr(alg, (const xmlChar *)"md5"));
}

xmlNode *saml_child(xmlNode *n, const xmlChar *ns, const char *name, int *count)
{
	xmlNode *found = NULL;
	int k = 0;
	for (xmlNode *x = n ? n->children : NULL; x; x = x->next)
		if (saml_is_el(x, ns, name)) {
			found = found ? found : x;
			k++;
		}
	if (count)
		*count = k;
	return found;
}

/* Whether sig holds one SignedInfo with one Reference, to "#" and the ID of parent (a signature
 * over any other element would "verify" without covering parent: signature wrapping). *weak is set
 * when its signature or digest algorithm is SHA-1 or MD5. */
int saml_sig_covers(xmlNode *sig, xmlNode *parent, int *weak)
{
	int nsi, nref;
	xmlNode *si = saml_child(sig, SAML_DS_NS, "SignedInfo", &nsi);
	xmlNode *ref = saml_child(si, SAML_DS_NS, "Reference", &nref);
	if (nsi != 1 || nref != 1)
		return 0;
	xmlChar *uri = xmlGetProp(ref, (const xmlChar *)"URI");
	xmlChar *id = xmlGetProp(parent, (const xmlChar *)"ID");
	int ok = uri && id && uri[0] == '#' && xmlStrEqual(uri + 1, id);
	xmlFree(uri);
	xmlFree(id);
	xmlNode *sm = saml_child(si, SAML_DS_NS, "SignatureMethod", NULL);
	xmlNode *dm = saml_child(ref, SAML_DS_NS, "DigestMethod", NULL);
	xmlChar *sa = sm ? xmlGetProp(sm, (const xmlChar *)"Algorithm") : NULL;
	xmlChar *da = dm ? xmlGetProp(dm, (const xmlChar *)"Algorithm") : NULL;
	if (weak_alg(sa) || weak_alg(da))
		*weak = 1;
	xmlFree(sa);
	xmlFree(da);
	return ok;
}

/* A ds:Signature: its parent must be a Response or an Assertion, it must be the only one there,
 * and its single Reference must name the parent's ID (what lasso verifies, spelled out). */
static void check_signature(walk *w, xmlNode *sig)
{
	xmlNode *parent = sig->parent;
	int nsig;
	saml_child(parent, SAML_DS_NS, "Signature", &nsig);
	if (!(saml_is_el(parent, P_NS, "Response") || saml_is_el(parent, A_NS, "Assertion")) ||
	    nsig != 1 || !saml_sig_covers(sig, parent, &w->weak))
		w->bad_sig = 1;
}

static void visit(walk *w, xmlNode *n)
{
	for (; n; n = n->next) {
		switch (n->type) {
		case XML_COMMENT_NODE:
		case XML_PI_NODE:
			w->comments = 1;
			continue;
		case XML_ENTITY_REF_NODE:
		case XML_ENTITY_NODE:
		case XML_ENTITY_DECL:
		case XML_DTD_NODE:
			w->entities = 1;
			continue;
		case XML_ELEMENT_NODE:
			break;
		default:
			continue;
		}
		if (saml_is_el(n, A_NS, "Assertion") || saml_is_el(n, A_NS, "EncryptedAssertion")) {
			w->assertions++;
			if (!saml_is_el(n->parent, P_NS, "Response"))
				w->assertions += 100; /* an assertion anywhere else: wrapping */
		}
		if (saml_is_el(n, P_NS, "Response"))
			w->responses++;
		if (saml_is_el(n, SAML_DS_NS, "Signature"))
			check_signature(w, n);
		xmlChar *id = xmlGetProp(n, (const xmlChar *)"ID");
		for (int i = 0; id && i < w->nids; i++)
			if (xmlStrEqual(w->ids[i], id))
				w->dup_id = 1;
		if (id && w->nids < 64)
			w->ids[w->nids++] = id;
		else
			xmlFree(id);
		visit(w, n->children);
	}
}

static int verdict(walk *w, int whole, idhub_error *err)
{
	const char *why = NULL;
	if (w->entities)
		why = "the response contains a DTD or entity references";
	else if (w->comments)
		why = "the response contains XML comments or processing instructions";
	else if (whole && w->responses != 1)
		why = "the message holds more than one Response (signature wrapping)";
	else if (whole && w->assertions != 1)
		why = "the response must hold exactly one assertion, as a child of the Response";
	else if (w->bad_sig)
		why = "a signature is misplaced or does not reference its parent (signature "
		      "wrapping)";
	else if (w->dup_id)
		why = "the response repeats an ID (signature wrapping)";
	else if (w->weak && !w->allow_sha1)
		why = "the response is signed with SHA-1, which this IdP is not allowed to use";
	for (int i = 0; i < w->nids; i++)
		xmlFree(w->ids[i]);
	return why ? idhub_fail(err, IDHUB_ERR_INVALID, "%s", why) : 0;
}

int saml_read_xml(const char *xml, size_t len, xmlDoc **doc)
{
	/* Refused before parsing: libxml2 then never reads a DTD, so it never expands or fetches an
	 * entity (the "billion laughs" and external-entity attacks). */
	*doc = NULL;
	if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8) ||
	    memmem(xml, len, "<!doctype", 9))
		return -1;
	if (len > 0x7fffffff)
		return -2;
	*doc = xmlReadMemory(xml, (int)len, NULL, NULL,
	                     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (*doc && xmlDocGetRootElement(*doc) && !(*doc)->intSubset && !(*doc)->extSubset)
		return 0;
	xmlFreeDoc(*doc);
	*doc = NULL;
	return -2;
}

int saml_precheck(const char *xml, size_t len, int allow_sha1, idhub_error *err)
{
	xmlDoc *doc;
	int rc = saml_read_xml(xml, len, &doc);
	if (rc)
		return idhub_fail(err, IDHUB_ERR_INVALID, "%s",
		                  rc == -1 ? "the response contains a DTD (refused)"
		                           : "the response is not well-formed XML");
	if (!saml_is_el(xmlDocGetRootElement(doc), P_NS, "Response")) {
		xmlFreeDoc(doc);
		return idhub_fail(err, IDHUB_ERR_INVALID, "the message is not a SAML 2.0 Response");
	}
	walk w = {.allow_sha1 = allow_sha1};
	visit(&w, doc->children);
	xmlFreeDoc(doc);
	return verdict(&w, 1, err);
}

/* The same checks on a decrypted assertion (lasso's copy of its XML), minus the document counts. */
int saml_precheck_node(xmlNode *n, int allow_sha1, idhub_error *err)
{
	if (!n)
		return 0;
	walk w = {.allow_sha1 = allow_sha1};
	xmlNode *save = n->next;
	n->next = NULL; /* visit this subtree only */
	visit(&w, n);
	n->next = save;
	return verdict(&w, 0, err);
}
