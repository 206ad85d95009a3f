/* saml_idp_metadata.c — the IdP's metadata: a document the hub keeps fresh (read from a file or
 * fetched from a URL, every metadata_refresh seconds, the last good copy kept in the hub's store),
 * read by the hub's XML service (no DTD; with a metadata signing certificate, one enveloped
 * signature covering the root), that signature verified with xmlsec, its validUntil honoured, the
 * IdP's EntityDescriptor picked out, and a LassoServer built from it (our SP and that one IdP): an
 * IdP certificate rollover needs no restart. */
#include "saml_int.h"
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#define MAX_METADATA (4 * 1024 * 1024)

static const xmlChar MD_NS[] = "urn:oasis:names:tc:SAML:2.0:metadata";
static const xmlChar DS_NS[] = "http://www.w3.org/2000/09/xmldsig#";

static int is_el(const xmlNode *n, const xmlChar *ns, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && xmlStrEqual(n->ns->href, ns) &&
	       xmlStrEqual(n->name, (const xmlChar *)name);
}

static xmlNode *child(xmlNode *n, const xmlChar *ns, const char *name)
{
	for (xmlNode *x = n->children; x; x = x->next)
		if (is_el(x, ns, name))
			return x;
	return NULL;
}

/* The transforms an enveloped signature needs, and nothing else (no XPath or XSLT from the
 * document); SHA-1 only with allow_sha1. */
static void enable_transforms(xmlSecDSigCtxPtr d, int allow_sha1)
{
	const xmlSecTransformId refs[] = {xmlSecTransformEnvelopedId, xmlSecTransformExclC14NId,
	                                  xmlSecTransformInclC14NId,  xmlSecTransformSha256Id,
	                                  xmlSecTransformSha384Id,    xmlSecTransformSha512Id};
	const xmlSecTransformId sigs[] = {xmlSecTransformExclC14NId, xmlSecTransformInclC14NId,
	                                  xmlSecTransformRsaSha256Id, xmlSecTransformRsaSha384Id,
	                                  xmlSecTransformRsaSha512Id};
	for (size_t i = 0; i < sizeof refs / sizeof *refs; i++)
		xmlSecDSigCtxEnableReferenceTransform(d, refs[i]);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		xmlSecDSigCtxEnableSignatureTransform(d, sigs[i]);
	if (allow_sha1) {
		xmlSecDSigCtxEnableReferenceTransform(d, xmlSecTransformSha1Id);
		xmlSecDSigCtxEnableSignatureTransform(d, xmlSecTransformRsaSha1Id);
	}
}

/* Fills why with msg; returns -1. */
static int refuse(char *why, size_t n, const char *msg)
{
	snprintf(why, n, "%s", msg);
	return -1;
}

/* Verify the root's enveloped signature (the hub's XML service checked it is the root's one
 * signature and covers the root) with the configured certificate; only the transforms an enveloped
 * signature needs are enabled. */
static int verify_root(xmlDoc *doc, const char *cert_pem, int allow_sha1, char *why, size_t n)
{
	xmlNode *sig = child(xmlDocGetRootElement(doc), DS_NS, "Signature");
	xmlSecKeyPtr key =
	    xmlSecCryptoAppKeyLoadMemory((const xmlSecByte *)cert_pem, (xmlSecSize)strlen(cert_pem),
	                                 xmlSecKeyDataFormatCertPem, NULL, NULL, NULL);
	xmlSecDSigCtxPtr d = key ? xmlSecDSigCtxCreate(NULL) : NULL;
	if (!d) {
		xmlSecKeyDestroy(key);
		return refuse(why, n, "metadata_signing_cert: not a usable certificate");
	}
	d->signKey = key;
	d->enabledReferenceUris = xmlSecTransformUriTypeSameDocument;
	enable_transforms(d, allow_sha1);
	int rc = 0;
	if (xmlSecDSigCtxVerify(d, sig) < 0 || d->status != xmlSecDSigStatusSucceeded)
		rc = refuse(why, n,
		            "the metadata signature does not verify with metadata_signing_cert");
	xmlSecDSigCtxDestroy(d); /* destroys signKey too */
	return rc;
}

static int expired(saml_ctx *c, xmlNode *n)
{
	xmlChar *vu = xmlGetProp(n, (const xmlChar *)"validUntil");
	int64_t t = vu ? c->svc->parse_time((const char *)vu) : 0;
	xmlFree(vu);
	return t < 0 || (t > 0 && t < c->svc->now(c->svc->inst));
}

/* The IdP entities at or under x (an EntitiesDescriptor nests others) named want (NULL: any):
 * how many in *count, the first in *found. */
static void find_idp(xmlNode *x, const char *want, int *count, xmlNode **found)
{
	if (is_el(x, MD_NS, "EntitiesDescriptor")) {
		for (xmlNode *k = x->children; k; k = k->next)
			find_idp(k, want, count, found);
	} else if (is_el(x, MD_NS, "EntityDescriptor") && child(x, MD_NS, "IDPSSODescriptor")) {
		xmlChar *eid = xmlGetProp(x, (const xmlChar *)"entityID");
		if (eid && (!want || xmlStrEqual(eid, (const xmlChar *)want))) {
			(*count)++;
			if (!*found)
				*found = x;
		}
		xmlFree(eid);
	}
}

/* The metadata verified and unexpired, and the one IdP in it: 0 with *ed its EntityDescriptor, or
 * -1 with why filled. */
static int choose(saml_ctx *c, xmlDoc *doc, xmlNode **ed, char *why, size_t n)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	if (c->metadata_signing_cert_pem &&
	    verify_root(doc, c->metadata_signing_cert_pem, c->allow_sha1, why, n))
		return -1;
	if (expired(c, root))
		return refuse(why, n, "the metadata has expired (validUntil)");
	int count = 0;
	find_idp(root, c->idp_entity_id_setting, &count, ed);
	if (!*ed || count != 1) {
		snprintf(why, n,
		         count > 1 ? "the metadata holds several IdPs: set idp_entity_id"
		                   : "the metadata has no IDPSSODescriptor for %s",
		         c->idp_entity_id_setting ? c->idp_entity_id_setting : "the IdP");
		return -1;
	}
	if (*ed != root && expired(c, *ed))
		return refuse(why, n, "the IdP's EntityDescriptor has expired (validUntil)");
	return 0;
}

/* ed as a document of its own (malloc'd text), its entityID in *entity_id; NULL on failure. */
static char *own_document(xmlNode *ed, char **entity_id)
{
	xmlDoc *one = xmlNewDoc((const xmlChar *)"1.0");
	xmlNode *copy = xmlDocCopyNode(ed, one, 1);
	xmlDocSetRootElement(one, copy);
	xmlReconciliateNs(one, copy);
	xmlChar *mem = NULL;
	xmlDocDumpMemory(one, &mem, NULL);
	xmlChar *eid = xmlGetProp(ed, (const xmlChar *)"entityID");
	char *out = NULL;
	if (mem && eid) {
		out = strdup((const char *)mem);
		*entity_id = strdup((const char *)eid);
	}
	xmlFree(eid);
	xmlFree(mem);
	xmlFreeDoc(one);
	return out;
}

/* Read, verify, choose the IdP; returns its EntityDescriptor as a document of its own. */
static char *extract(saml_ctx *c, const char *xml, size_t len, char **entity_id, char *why,
                     size_t n)
{
	idhub_xml_rules r = {.what = "the metadata",
	                     .flags = (c->allow_sha1 ? IDHUB_XML_ALLOW_SHA1 : 0) |
	                              (c->metadata_signing_cert_pem ? IDHUB_XML_SIGNED_ROOT : 0)};
	idhub_error err = {0};
	void *doc;
	xmlNode *ed = NULL;
	if (c->svc->xml_read(xml, len, &r, &doc, &err)) {
		refuse(why, n, err.message);
		return NULL;
	}
	char *out = choose(c, doc, &ed, why, n) ? NULL : own_document(ed, entity_id);
	xmlFreeDoc(doc);
	return out;
}

static void live_release(void *p)
{
	saml_live *l = p;
	g_object_unref(l->server);
	free(l->entity_id);
	free(l);
}

/* A LassoServer for our SP (its description and keys) and the IdP of one metadata copy. */
static LassoServer *server_new(saml_ctx *c, const char *idp_metadata, char *why, size_t n)
{
	LassoServer *s = lasso_server_new_from_buffers(c->sp_metadata, c->sp_key_pem, NULL, NULL);
	if (!s) {
		snprintf(why, n, "sp_key_file: lasso refused our SP key/metadata");
		return NULL;
	}
	/* AuthnRequests are signed with RSA-SHA256, never lasso's historical RSA-SHA1 default. */
	s->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	int rc;
	if (lasso_server_set_encryption_private_key_with_password(s, c->sp_key_pem, NULL) != 0 ||
	    (c->sp_next_key_pem &&
	     lasso_server_set_encryption_private_key_with_password(s, c->sp_next_key_pem, NULL)))
		snprintf(why, n, "sp_key_file: lasso refused the decryption key");
	else if ((rc = lasso_server_add_provider_from_buffer(s, LASSO_PROVIDER_ROLE_IDP,
	                                                     idp_metadata, NULL, NULL)) != 0)
		snprintf(why, n, "the IdP metadata was refused by lasso: %.141s",
		         lasso_strerror(rc));
	else
		return s;
	g_object_unref(s);
	return NULL;
}

static void *live_parse(void *arg, const char *xml, size_t len, char *why, size_t n)
{
	saml_ctx *c = arg;
	char *eid = NULL, *one = extract(c, xml, len, &eid, why, n);
	saml_live *l = one ? calloc(1, sizeof *l) : NULL;
	if (l && (l->server = server_new(c, one, why, n))) {
		l->entity_id = eid;
		free(one);
		return l;
	}
	free(one);
	free(eid);
	free(l);
	return NULL;
}

/* The hub's report of a failed fetch or read: worded as the adapter always has. */
static void live_report(void *arg, int event, const char *url, int status, const char *why)
{
	saml_ctx *c = arg;
	if (event == IDHUB_DOC_LAST_GOOD) {
		c->svc->log(c->svc->inst, 4, "using the last good copy of the metadata");
		return;
	}
	if (status == 200)
		snprintf(c->last_why, sizeof c->last_why, "%s", why);
	else if (c->idp_metadata_file)
		snprintf(c->last_why, sizeof c->last_why, "cannot read %s", c->idp_metadata_file);
	else
		snprintf(c->last_why, sizeof c->last_why, "cannot fetch %s (HTTP %d)", url, status);
	if (!c->loading)
		c->svc->log(c->svc->inst, 4,
		            "metadata refresh failed, keeping the last good copy: %s", c->last_why);
	else if (c->idp_metadata_url)
		c->svc->log(c->svc->inst, 4, "metadata: %s", c->last_why);
}

int saml_idp_metadata_load(saml_ctx *c, idhub_error *err)
{
	char file[4200];
	snprintf(file, sizeof file, "file://%s", c->idp_metadata_file ? c->idp_metadata_file : "");
	idhub_doc_spec spec = {.name = "idp-metadata",
	                       .url = c->idp_metadata_url ? c->idp_metadata_url : file,
	                       .refresh = c->set[S_METADATA_REFRESH].num,
	                       .min_refetch = c->set[S_METADATA_REFRESH].num,
	                       .max_size = MAX_METADATA,
	                       .timeout_s = 10,
	                       .parse = live_parse,
	                       .release = live_release,
	                       .arg = c,
	                       .report = live_report};
	c->live = c->svc->doc_watch(c->svc->inst, &spec);
	c->loading = 1;
	const void *l = c->live ? c->svc->doc_get(c->live) : NULL;
	c->loading = 0;
	if (l) {
		c->svc->doc_put(c->live, l);
		return 0;
	}
	return idhub_fail(err, IDHUB_ERR_INTERNAL, "%s: %s",
	                  c->idp_metadata_file ? "idp_metadata_file" : "idp_metadata_url",
	                  c->last_why[0] ? c->last_why : "cannot load the metadata");
}
