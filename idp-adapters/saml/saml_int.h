/* saml_int.h — private to the SAML adapter: the instance context, its settings, and the functions
 * one file of the adapter offers another. Nothing here is part of the hub's ABI. */
#ifndef IDHUB_SAML_INT_H
#define IDHUB_SAML_INT_H
#include <idhub/adapter.h>
#include <lasso/lasso.h>
#include <lasso/xml/misc_text_node.h>
#include <lasso/xml/tools.h>
#include <lasso/xml/saml-2.0/saml2_attribute.h>
#include <lasso/xml/saml-2.0/saml2_attribute_statement.h>
#include <lasso/xml/saml-2.0/saml2_attribute_value.h>
#include <lasso/xml/saml-2.0/saml2_audience_restriction.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <libxml/tree.h>

#define SAML_MAX_LOAS 8
#define SAML_MAX_ATTRS 16

/* Strings declared const point into the hub's config (valid until destroy); the others are ours. */
typedef struct saml_ctx {
	const idhub_services *svc;
	const idhub_value *set;   /* the settings as the hub parsed them, by enum saml_setting */
	int checking;             /* made for --check-config: no lasso, no keys, no metadata */
	const char *callback_url; /* our AssertionConsumerService (the hub's callback for us) */
	const char *sp_entity_id;
	char *metadata_url; /* where the hub publishes our SP metadata */

	/* SP keys: PEM text. next_* is the rollover pair published alongside the current one. */
	char *sp_key_pem, *sp_cert_pem, *sp_next_key_pem, *sp_next_cert_pem;
	char *sp_metadata; /* our SP metadata document (what lasso and the IdP both read) */

	/* IdP metadata source and trust. */
	const char *idp_metadata_file, *idp_metadata_url, *idp_entity_id_setting;
	char *metadata_signing_cert_pem;

	/* Checks. */
	int allow_sha1;
	long leeway;
	const char *name_id_format;
	const char *subject_attribute;             /* NULL: the NameID is the subject */
	const char *comparison;                    /* RequestedAuthnContext Comparison */
	const char *authn_contexts[SAML_MAX_LOAS]; /* per hub level; NULL: the IdP has none */
	int nloas;
	/* attribute_map as the hub's map: SAML attribute name -> claim, each claim's names in the
	 * order written (cut from copies of the entries, malloc'd) */
	idhub_kv claim_map[SAML_MAX_ATTRS * 6];
	size_t nclaim;
	char *map_copy[SAML_MAX_ATTRS];

	/* The live IdP: a document the hub keeps fresh, its parsed form a saml_live. */
	idhub_doc *live;
	int loading;        /* at init: a failure is reported as "metadata: ...", not a refresh */
	char last_why[300]; /* the last failure's reason (written by the fetching thread) */
} saml_ctx;

/* The settings, in the order of their declarations (saml_settings.c). */
enum saml_setting {
	S_IDP_METADATA_FILE,
	S_IDP_METADATA_URL,
	S_IDP_ENTITY_ID,
	S_METADATA_SIGNING_CERT,
	S_METADATA_REFRESH,
	S_SP_ENTITY_ID,
	S_SP_KEY_FILE,
	S_SP_CERT_FILE,
	S_SP_NEXT_KEY_FILE,
	S_SP_NEXT_CERT_FILE,
	S_AUTHN_CONTEXTS,
	S_COMPARISON,
	S_ATTRIBUTE_MAP,
	S_SUBJECT_ATTRIBUTE,
	S_NAME_ID_FORMAT,
	S_ALLOW_SHA1,
	S_SIGN_REQUESTS,
	S_FORCE_AUTHN,
	S_CLOCK_LEEWAY,
	S_MAX_RESPONSE_SIZE,
	S_COUNT
};
extern const idhub_setting_decl saml_settings[S_COUNT];

/* saml_settings.c: the checks that span settings, into ctx (err "<setting>: ..."). */
int saml_settings_parse(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err);
/* The PEM text of the file setting k names (malloc'd), or NULL with err filled. */
char *saml_pem_file(saml_ctx *c, const idhub_adapter_config *cfg, int k, idhub_error *err);

/* saml_sp.c: our SP's keys (the configured pair, or the hub's dev pair) and its metadata. */
int saml_sp_load(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err);

/* saml_idp_metadata.c: the IdP metadata as a hub document (first load at init), verified. Its
 * parsed form is a saml_live: a LassoServer for our SP and the one trusted IdP, built from one good
 * copy. The hub keeps the document fresh and hands the current copy out by reference (doc_get,
 * doc_put after use), so a refresh (an IdP certificate rollover) swaps it in while logins on the
 * old one finish; the server is shared read-only by every request thread. */
typedef struct saml_live {
	LassoServer *server;
	char *entity_id;
} saml_live;
int saml_idp_metadata_load(saml_ctx *c, idhub_error *err);

/* saml_request.c: the AuthnRequest (start). */
int saml_start(void *ctx, idhub_arena *a, const idhub_login_request *req, idhub_start_result *out,
               idhub_error *err);

/* saml_precheck.c: the hub's XML rules for a Response (before lasso parses it), and for an
 * assertion lasso decrypted (its copy of the XML). 0, or -1 with err filled. */
int saml_precheck(const idhub_services *svc, const char *xml, size_t len, int allow_sha1,
                  idhub_error *err);
int saml_precheck_node(const idhub_services *svc, xmlNode *n, int allow_sha1, idhub_error *err);

/* saml_response.c: finish. */
int saml_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                const idhub_login_request *req, idhub_identity *out, idhub_error *err);

/* saml_logout.c: Single Logout. What it needs of the login (NameID, SessionIndex) as the
 * identity's logout_state (arena; NULL when none); the logout hook; serve() for /slo, the
 * SingleLogoutService, beside our metadata (ISSUER/idp/<id>/slo). */
const char *saml_logout_state(saml_ctx *c, idhub_arena *a, LassoSaml2Assertion *as);
int saml_logout(void *ctx, idhub_arena *a, const idhub_logout_request *req, idhub_start_result *out,
                idhub_error *err);
int saml_serve(void *ctx, idhub_arena *a, const idhub_http_request *r, idhub_http_response *resp);

/* The xs:ID we send as the AuthnRequest ID for a journey nonce (a leading "_": an NCName). */
char *saml_request_id(idhub_arena *a, const idhub_services *svc, const char *nonce);

#endif
