/* xml.c — the adapter host's XML service (adapter ABI revision 6: xml_read, xml_check): XML read
 * with libxml2 without ever reading a DTD (no entity is expanded or fetched: "billion laughs",
 * external entities), then held to rules that refuse, before any XML-signature library sees the
 * document, the shapes in which a valid signature vouches for something other than what is read:
 * a comment splitting a signed text (CVE-2017-11427), a signature misplaced or over another
 * element, a second copy of the signed element hidden elsewhere or an ID used twice (the
 * signature-wrapping attacks of Somorovsky et al.), and SHA-1 or MD5. The SAML adapter holds its
 * responses and its IdP's metadata to them. */
#include "xml.h"
#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static const xmlChar DS_NS[] = "http://www.w3.org/2000/09/xmldsig#";
#define KNOWN_FLAGS (IDHUB_XML_STRICT | IDHUB_XML_SIGNED_ROOT | IDHUB_XML_ALLOW_SHA1)

/* What one walk over a tree found. libxml2 refuses trees deeper than 256 levels, which bounds the
 * recursion of visit. */
typedef struct walk {
	const idhub_xml_rules *r;
	xmlNode *root;     /* the document's root element; NULL for a subtree (xml_check) */
	xmlHashTable *ids; /* the ID values seen (IDHUB_XML_STRICT) */
	int roots, ones, bad_sig, weak, comments, entities, dup_id;
} walk;

/* Whether n is the element qname, written "{namespace}local". */
static int is_named(const xmlNode *n, const char *qname)
{
	const char *close = qname && qname[0] == '{' ? strchr(qname, '}') : NULL;
	if (!close || !n || n->type != XML_ELEMENT_NODE || !n->ns || !n->ns->href)
		return 0;
	size_t nslen = (size_t)(close - qname - 1);
	const char *href = (const char *)n->ns->href;
	return strlen(href) == nslen && memcmp(href, qname + 1, nslen) == 0 &&
	       strcmp((const char *)n->name, close + 1) == 0;
}

static int is_any(const xmlNode *n, const char *const *list)
{
	for (; list && *list; list++)
		if (is_named(n, *list))
			return 1;
	return 0;
}

static int is_ds(const xmlNode *n, const char *local)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, DS_NS) &&
	       xmlStrEqual(n->name, (const xmlChar *)local);
}

/* The first child ds:local of n, and how many there are in *count. */
static xmlNode *ds_child(xmlNode *n, const char *local, int *count)
{
	xmlNode *found = NULL;
	*count = 0;
	for (xmlNode *x = n ? n->children : NULL; x; x = x->next)
		if (is_ds(x, local)) {
			found = found ? found : x;
			(*count)++;
		}
	return found;
}

static int weak_alg(xmlNode *method)
{
	xmlChar *alg = method ? xmlGetProp(method, (const xmlChar *)"Algorithm") : NULL;
	int weak = alg && (xmlStrstr(alg, (const xmlChar *)"sha1") ||
	                   xmlStrstr(alg, (const xmlChar *)"md5"));
	xmlFree(alg);
	return weak;
}

/* Whether sig holds one SignedInfo with one Reference, to "#" and the ID of parent. *weak is set
 * when its signature or digest method is SHA-1 or MD5. */
static int covers(xmlNode *sig, xmlNode *parent, int *weak)
{
	int nsi, nref, k;
	xmlNode *si = ds_child(sig, "SignedInfo", &nsi);
	xmlNode *ref = ds_child(si, "Reference", &nref);
	if (nsi != 1 || nref != 1)
		return 0;
	xmlChar *uri = xmlGetProp(ref, (const xmlChar *)"URI");
	xmlChar *id = xmlGetProp(parent, (const xmlChar *)"ID");
	int ok = uri && id && uri[0] == '#' && xmlStrEqual(uri + 1, id);
	xmlFree(uri);
	xmlFree(id);
	if (weak_alg(ds_child(si, "SignatureMethod", &k)) ||
	    weak_alg(ds_child(ref, "DigestMethod", &k)))
		*weak = 1;
	return ok;
}

static void element(walk *w, xmlNode *n)
{
	const idhub_xml_rules *r = w->r;
	if (w->root && r->root && is_named(n, r->root))
		w->roots++;
	if (w->root && is_any(n, r->one_child))
		w->ones += n->parent == w->root ? 1 : 100; /* anywhere else: wrapping */
	if (r->signed_by && is_ds(n, "Signature")) {
		int nsig;
		ds_child(n->parent, "Signature", &nsig);
		if (!is_any(n->parent, r->signed_by) || nsig != 1 ||
		    !covers(n, n->parent, &w->weak))
			w->bad_sig = 1;
	}
	xmlChar *id = r->flags & IDHUB_XML_STRICT ? xmlGetProp(n, (const xmlChar *)"ID") : NULL;
	if (id && xmlHashAddEntry(w->ids, id, w) != 0)
		w->dup_id = 1;
	xmlFree(id);
}

static void visit(walk *w, xmlNode *n)
{
	switch (n->type) {
	case XML_COMMENT_NODE:
	case XML_PI_NODE:
		w->comments |= (w->r->flags & IDHUB_XML_STRICT) != 0;
		return;
	case XML_ENTITY_REF_NODE:
	case XML_ENTITY_NODE:
	case XML_ENTITY_DECL:
	case XML_DTD_NODE:
		w->entities = 1;
		return;
	case XML_ELEMENT_NODE:
		element(w, n);
		for (xmlNode *k = n->children; k; k = k->next)
			visit(w, k);
		return;
	default:
		return;
	}
}

/* "{ns}Assertion" -> "Assertion" */
static const char *local(const char *qname)
{
	const char *close = qname ? strchr(qname, '}') : NULL;
	return close ? close + 1 : qname ? qname : "";
}

/* The root's one signature, which must cover it: 0 with the root's ID made an XML ID (for the
 * signature library), or -1 with err filled. */
static int signed_root(walk *w, xmlNode *top, const char *what, idhub_error *err)
{
	int nsig;
	xmlNode *sig = ds_child(top, "Signature", &nsig);
	if (!sig || nsig != 1)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "%s is not signed (one enveloped signature required)", what);
	if (!covers(sig, top, &w->weak))
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "%s signature does not cover its root element", what);
	xmlAttr *attr = xmlHasProp(top, (const xmlChar *)"ID");
	xmlChar *id = xmlNodeGetContent((xmlNode *)attr);
	if (id && top->doc && !xmlGetID(top->doc, id))
		xmlAddID(NULL, top->doc, id, attr);
	xmlFree(id);
	return 0;
}

/* What the walk found, as the first rule broken: 0, or -1 with err filled. */
static int verdict(walk *w, xmlNode *top, idhub_error *err)
{
	const idhub_xml_rules *r = w->r;
	const char *what = r->what ? r->what : "the document";
	if (w->entities)
		return idhub_fail(err, IDHUB_ERR_INVALID, "%s contains a DTD or entity references",
		                  what);
	if (w->comments)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "%s contains XML comments or processing instructions", what);
	if (w->root && r->root && w->roots != 1)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "%s holds more than one %s (signature wrapping)", what,
		                  local(r->root));
	if (w->root && r->one_child && w->ones != 1) {
		char names[160] = "";
		for (const char *const *n = r->one_child; *n; n++)
			snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
			         n == r->one_child ? "" : " or ", local(*n));
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "%s must hold exactly one %s, as a child of its root", what,
		                  names);
	}
	if (w->bad_sig)
		return idhub_fail(
		    err, IDHUB_ERR_INVALID,
		    "in %s, a signature is misplaced or does not reference its parent "
		    "(signature wrapping)",
		    what);
	if (w->dup_id)
		return idhub_fail(err, IDHUB_ERR_INVALID, "%s repeats an ID (signature wrapping)",
		                  what);
	if ((r->flags & IDHUB_XML_SIGNED_ROOT) && signed_root(w, top, what, err))
		return -1;
	if (w->weak && !(r->flags & IDHUB_XML_ALLOW_SHA1))
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "%s is signed with SHA-1 or MD5, which is not allowed", what);
	return 0;
}

/* Walks the tree from first (and its siblings when whole) under r; 0 or -1 with err filled. */
static int check(xmlNode *first, xmlNode *root, int whole, const idhub_xml_rules *r,
                 idhub_error *err)
{
	if (r->flags & ~KNOWN_FLAGS)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "XML rules this hub does not know");
	walk w = {.r = r, .root = root, .ids = xmlHashCreate(16)};
	if (!w.ids)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "out of memory");
	for (xmlNode *n = first; n; n = whole ? n->next : NULL)
		visit(&w, n);
	int rc = verdict(&w, whole ? root : first, err);
	xmlHashFree(w.ids, NULL);
	return rc;
}

void idp_xml_init(void)
{
	xmlInitParser();
}

/* A DOCTYPE stops the parser where it stands, before any of it is read: whatever the encoding the
 * document claims (UTF-16 or UTF-7 would hide "<!DOCTYPE" from a byte search). */
static void no_dtd(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	(void)name, (void)eid, (void)sid;
	xmlParserCtxtPtr c = ctx;
	c->_private = c; /* seen */
	xmlStopParser(c);
}

/* Parses text: 0 with *doc, -1 when it has a DTD, -2 when it is not well-formed. */
static int parse(const char *text, size_t len, xmlDoc **doc)
{
	*doc = NULL;
	if (memmem(text, len, "<!DOCTYPE", 9) || memmem(text, len, "<!doctype", 9) ||
	    memmem(text, len, "<!ENTITY", 8))
		return -1;
	xmlParserCtxtPtr c = len <= INT_MAX ? xmlCreateMemoryParserCtxt(text, (int)len) : NULL;
	if (!c)
		return -2;
	xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	c->sax->internalSubset = no_dtd; /* the context's own copy of the SAX handler */
	c->sax->externalSubset = no_dtd;
	xmlParseDocument(c);
	int rc = c->_private ? -1 : c->wellFormed && c->myDoc ? 0 : -2;
	if (rc == 0)
		*doc = c->myDoc;
	else
		xmlFreeDoc(c->myDoc);
	xmlFreeParserCtxt(c);
	return rc;
}

int idp_xml_read(const char *text, size_t len, const idhub_xml_rules *rules, void **out,
                 idhub_error *err)
{
	const char *what = rules && rules->what ? rules->what : "the document";
	xmlDoc *doc;
	*out = NULL;
	int rc = parse(text, len, &doc);
	if (rc == -1)
		return idhub_fail(err, IDHUB_ERR_INVALID, "%s contains a DTD (refused)", what);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root || doc->intSubset || doc->extSubset)
		rc = idhub_fail(err, IDHUB_ERR_INVALID, "%s is not well-formed XML", what);
	else if (rules && rules->root && !is_named(root, rules->root))
		rc = idhub_fail(err, IDHUB_ERR_INVALID, "%s is not a %s", what, local(rules->root));
	else if (rules)
		rc = check(doc->children, root, 1, rules, err);
	if (rc)
		xmlFreeDoc(doc);
	else
		*out = doc;
	return rc;
}

int idp_xml_check(void *node, const idhub_xml_rules *rules, idhub_error *err)
{
	if (!node || !rules) /* nothing to hold to the rules is not a pass */
		return idhub_fail(err, IDHUB_ERR_INVALID, "no XML to check");
	return check(node, NULL, 0, rules, err);
}
