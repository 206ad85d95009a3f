/* saml_idp_metadata.c — the IdP's metadata: read from a file or fetched from a URL (the last good
 * copy kept in the hub's store), parsed without DTDs, its XML signature verified with xmlsec when a
 * metadata signing certificate is configured, its validUntil honoured, the IdP's EntityDescriptor
 * picked out, and a new LassoServer built from it and swapped in. Called at init and by the refresh
 * thread: an IdP certificate rollover needs no restart. */
#include "saml_int.h"
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

#define MAX_METADATA (4 * 1024 * 1024)
#define CACHE_KEY "idp-metadata"
#define CACHE_TTL (30L * 86400)

static const xmlChar MD_NS[] = "urn:oasis:names:tc:SAML:2.0:metadata";
static const xmlChar DS_NS[] = "http://www.w3.org/2000/09/xmldsig#";

static int is_el(const xmlNode *n, const xmlChar *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, ns) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

static xmlNode *child(xmlNode *n, const xmlChar *ns, const char *name, int *count)
{
	xmlNode *found = NULL;
	int k = 0;
	for (xmlNode *x = n ? n->children : NULL; x; x = x->next)
		if (is_el(x, ns, name)) {
			if (!found)
				found = x;
			k++;
		}
	if (count)
		*count = k;
	return found;
}

static int weak_alg(const xmlChar *alg)
{
	return alg &&
	       (xmlStrstr(alg, (const xmlChar *)"sha1") || xmlStrstr(alg, (const xmlChar *)"md5"));
}

/* Verify the enveloped signature over the metadata's root element with the configured certificate.
 * Non-obvious checks: the one Reference must point at the root itself (else a signature over some
 * other element would "verify" the document: signature wrapping), and only the transforms an
 * enveloped signature needs are enabled (no XPath or XSLT from the document). */
static int verify_root(xmlDoc *doc, const char *cert_pem, int allow_sha1, char *why, size_t n)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	int nsig;
	xmlNode *sig = child(root, DS_NS, "Signature", &nsig);
	if (!sig || nsig != 1) {
		snprintf(why, n, "the metadata is not signed (one enveloped signature required)");
		return -1;
	}
	xmlNode *si = child(sig, DS_NS, "SignedInfo", NULL);
	int nref;
	xmlNode *ref = child(si, DS_NS, "Reference", &nref);
	xmlChar *uri = ref ? xmlGetProp(ref, (const xmlChar *)"URI") : NULL;
	xmlAttr *idattr = xmlHasProp(root, (const xmlChar *)"ID");
	xmlChar *id = idattr ? xmlNodeGetContent((xmlNode *)idattr) : NULL;
	int ok = nref == 1 && uri && id && uri[0] == '#' && xmlStrEqual(uri + 1, id);
	xmlNode *sm = child(si, DS_NS, "SignatureMethod", NULL);
	xmlNode *dm = child(ref, DS_NS, "DigestMethod", NULL);
	xmlChar *sa = sm ? xmlGetProp(sm, (const xmlChar *)"Algorithm") : NULL;
	xmlChar *da = dm ? xmlGetProp(dm, (const xmlChar *)"Algorithm") : NULL;
	int weak = weak_alg(sa) || weak_alg(da);
	xmlFree(sa);
	xmlFree(da);
	xmlFree(uri);
	if (!ok) {
		xmlFree(id);
		snprintf(why, n, "the metadata signature does not cover its root element");
		return -1;
	}
	if (weak && !allow_sha1) {
		xmlFree(id);
		snprintf(why, n, "the metadata signature uses SHA-1 (allow_sha1 is false)");
		return -1;
	}
	xmlAttr *prev = xmlHasProp(root, (const xmlChar *)"ID");
	if (!xmlGetID(doc, id))
		xmlAddID(NULL, doc, id, prev);
	xmlFree(id);

	xmlSecKeyPtr key =
	    xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)cert_pem, (xmlSecSize)strlen(cert_pem),
	                                 xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
	xmlSecDSigCtxPtr d = key ? xmlSecDSigCtxCreate(NULL) : NULL;
	int rc = -1;
	if (!d) {
		xmlSecKeyDestroy(key);
		snprintf(why, n, "metadata_signing_cert: not a usable certificate");
		return -1;
	}
	d->signKey = key;
	d->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformEnvelopedId);
	xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformExclC14NId);
	xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformInclC14NId);
	xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha256Id);
	xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha384Id);
	xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha512Id);
	xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformExclC14NId);
	xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformInclC14NId);
	xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformRsaSha256Id);
	xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformRsaSha384Id);
	xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformRsaSha512Id);
	if (allow_sha1) {
		xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha1Id);
		xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformRsaSha1Id);
	}
	if (xmlSecDSigCtxVerify(d, sig) < 0 || d->status != xmlSecDSigStatusSucceeded)
		snprintf(why, n,
		         "the metadata signature does not verify with metadata_signing_cert");
	else
		rc = 0;
	xmlSecDSigCtxDestroy(d); /* destroys signKey too */
	return rc;
}

static int expired(saml_ctx *c, xmlNode *n)
{
	xmlChar *vu = xmlGetProp(n, (const xmlChar *)"validUntil");
	int64_t t = vu ? saml_parse_time((const char *)vu) : 0;
	xmlFree(vu);
	return t < 0 || (t > 0 && t < c->svc->now(c->svc->inst));
}

static int has_idp_role(xmlNode *ed)
{
	return child(ed, MD_NS, "IDPSSODescriptor", NULL) != NULL;
}

static xmlNode *find_idp(xmlNode *n, const char *want, int *count, xmlNode **found)
{
	for (xmlNode *x = n->children; x; x = x->next) {
		if (is_el(x, MD_NS, "EntitiesDescriptor")) {
			find_idp(x, want, count, found);
		} else if (is_el(x, MD_NS, "EntityDescriptor") && has_idp_role(x)) {
			xmlChar *eid = xmlGetProp(x, (const xmlChar *)"entityID");
			if (eid && (!want || xmlStrEqual(eid, (const xmlChar *)want))) {
				(*count)++;
				if (!*found)
					*found = x;
			}
			xmlFree(eid);
		}
	}
	return *found;
}

/* Parse, verify, choose the IdP; returns its EntityDescriptor as a document of its own. */
static char *extract(saml_ctx *c, const char *xml, size_t len, char **entity_id, char *why,
                     size_t n)
{
	if (memmem(xml, len, "<!DOCTYPE", 9) || memmem(xml, len, "<!ENTITY", 8)) {
		snprintf(why, n, "the metadata has a DTD (refused)");
		return NULL;
	}
	xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL,
	                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	char *out = NULL;
	if (!root || doc->intSubset || doc->extSubset) {
		snprintf(why, n, "the metadata is not well-formed XML");
		goto done;
	}
	if (c->metadata_signing_cert_pem &&
	    verify_root(doc, c->metadata_signing_cert_pem, c->allow_sha1, why, n))
		goto done;
	if (expired(c, root)) {
		snprintf(why, n, "the metadata has expired (validUntil)");
		goto done;
	}
	xmlNode *ed = NULL;
	int count = 0;
	if (is_el(root, MD_NS, "EntityDescriptor")) {
		xmlChar *eid = xmlGetProp(root, (const xmlChar *)"entityID");
		if (has_idp_role(root) && eid &&
		    (!c->idp_entity_id_setting ||
		     xmlStrEqual(eid, (const xmlChar *)c->idp_entity_id_setting))) {
			ed = root;
			count = 1;
		}
		xmlFree(eid);
	} else if (is_el(root, MD_NS, "EntitiesDescriptor")) {
		find_idp(root, c->idp_entity_id_setting, &count, &ed);
	}
	if (!ed || count != 1) {
		snprintf(why, n,
		         count > 1 ? "the metadata holds several IdPs: set idp_entity_id"
		                   : "the metadata has no IDPSSODescriptor for %s",
		         c->idp_entity_id_setting ? c->idp_entity_id_setting : "the IdP");
		goto done;
	}
	if (ed != root && expired(c, ed)) {
		snprintf(why, n, "the IdP's EntityDescriptor has expired (validUntil)");
		goto done;
	}
	xmlDoc *one = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *copy = xmlDocCopyNode(ed, one, 1);
	xmlDocSetRootElement(one, copy);
	xmlReconciliateNs(one, copy);
	xmlChar *mem = NULL;
	int mlen = 0;
	xmlDocDumpMemory(one, &mem, &mlen);
	xmlChar *eid = xmlGetProp(ed, (const xmlChar *)"entityID");
	if (mem && eid) {
		out = strdup((const char *)mem);
		*entity_id = strdup((const char *)eid);
	}
	xmlFree(eid);
	xmlFree(mem);
	xmlFreeDoc(one);
done:
	xmlFreeDoc(doc);
	return out;
}

static char *digest_of(const char *s)
{
	unsigned char d[32];
	unsigned int dl = sizeof d;
	EVP_Digest(s, strlen(s), d, &dl, EVP_sha256(), NULL);
	char *hex = malloc(65);
	for (int i = 0; hex && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return hex;
}

/* Build and swap in a server from one copy of the metadata; 0, or -1 with why. */
static int install(saml_ctx *c, const char *xml, char *why, size_t n)
{
	char *digest = digest_of(xml);
	pthread_mutex_lock(&c->lock);
	int same = digest && c->metadata_digest && strcmp(digest, c->metadata_digest) == 0;
	pthread_mutex_unlock(&c->lock);
	if (same) {
		free(digest);
		return 0; /* unchanged: keep the server we have */
	}
	char *eid = NULL;
	char *one = extract(c, xml, strlen(xml), &eid, why, n);
	if (!one) {
		free(digest);
		return -1;
	}
	idhub_error e = {0};
	LassoServer *s = saml_server_new(c, one, &eid, &e);
	free(one);
	if (!s) {
		snprintf(why, n, "%.180s", e.message);
		free(eid);
		free(digest);
		return -1;
	}
	saml_server_swap(c, s, eid, digest);
	return 0;
}

int saml_idp_metadata_load(saml_ctx *c, int at_init, idhub_error *err)
{
	char why[200] = "";
	if (c->idp_metadata_file) {
		char *xml = saml_read_file(c, c->idp_metadata_file, MAX_METADATA, NULL);
		if (!xml) {
			saml_set_err(err, IDHUB_ERR_INTERNAL, "idp_metadata_file: cannot read %s",
			             c->idp_metadata_file);
			return -1;
		}
		int rc = install(c, xml, why, sizeof why);
		free(xml);
		if (rc)
			saml_set_err(err, IDHUB_ERR_INTERNAL, "idp_metadata_file: %s", why);
		return rc;
	}
	int status = 0;
	char *body = NULL;
	idhub_http_call call = {
	    .url = c->idp_metadata_url, .timeout_s = 10, .max_body = MAX_METADATA};
	int fetched = c->svc->http(c->svc->inst, &call, &status, &body) == 0 && status == 200 &&
	              body && strlen(body) < MAX_METADATA;
	if (fetched) {
		if (install(c, body, why, sizeof why) == 0) {
			c->svc->cache_put(c->svc->inst, CACHE_KEY, body, CACHE_TTL);
			free(body);
			return 0;
		}
	} else {
		snprintf(why, sizeof why, "cannot fetch %s (HTTP %d)", c->idp_metadata_url, status);
	}
	free(body);
	c->svc->log(c->svc->inst, 4, "metadata: %s", why);
	if (!at_init) {
		saml_set_err(err, IDHUB_ERR_UNAVAILABLE, "%s", why);
		return -1;
	}
	/* At start, fall back on the last good copy (verified again like a fresh one). */
	char *cached = c->svc->cache_get(c->svc->inst, CACHE_KEY);
	char why2[200] = "";
	if (cached && install(c, cached, why2, sizeof why2) == 0) {
		free(cached);
		c->svc->log(c->svc->inst, 4, "using the last good copy of the metadata");
		return 0;
	}
	free(cached);
	saml_set_err(err, IDHUB_ERR_INTERNAL, "idp_metadata_url: %s", why);
	return -1;
}
