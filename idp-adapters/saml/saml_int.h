/* saml_int.h — private to the SAML adapter: the instance context, its settings, and the functions
 * one file of the adapter offers another. Nothing here is part of the hub's ABI. */
#ifndef IDHUB_SAML_INT_H
#define IDHUB_SAML_INT_H
#include <idhub/adapter.h>
#include <lasso/lasso.h>
#include <lasso/xml/misc_text_node.h>
#include <lasso/xml/tools.h>
#include <lasso/xml/saml-2.0/saml2_assertion.h>
#include <lasso/xml/saml-2.0/saml2_attribute.h>
#include <lasso/xml/saml-2.0/saml2_attribute_statement.h>
#include <lasso/xml/saml-2.0/saml2_attribute_value.h>
#include <lasso/xml/saml-2.0/saml2_audience_restriction.h>
#include <lasso/xml/saml-2.0/saml2_authn_context.h>
#include <lasso/xml/saml-2.0/saml2_authn_statement.h>
#include <lasso/xml/saml-2.0/saml2_conditions.h>
#include <lasso/xml/saml-2.0/saml2_name_id.h>
#include <lasso/xml/saml-2.0/saml2_subject.h>
#include <lasso/xml/saml-2.0/saml2_subject_confirmation.h>
#include <lasso/xml/saml-2.0/saml2_subject_confirmation_data.h>
#include <lasso/xml/saml-2.0/samlp2_authn_request.h>
#include <lasso/xml/saml-2.0/samlp2_name_id_policy.h>
#include <lasso/xml/saml-2.0/samlp2_requested_authn_context.h>
#include <lasso/xml/saml-2.0/samlp2_response.h>
#include <lasso/xml/saml-2.0/samlp2_status.h>
#include <lasso/xml/saml-2.0/samlp2_status_code.h>
#include <stddef.h>
#include <stdint.h>

#define SAML_MAX_LOAS 8
#define SAML_MAX_ATTRS 16

/* One hub attribute and the SAML attribute names (Name or FriendlyName) it is read from. */
typedef struct saml_attr_map {
	char *claim;
	char *names[6];
	int nnames;
} saml_attr_map;

typedef struct saml_ctx {
	const idhub_services *svc;
	const char *instance_id;
	int checking; /* made for --check-config: no lasso, no keys, no metadata */
	char
	    *callback_url; /* our AssertionConsumerService (the hub's callback for this instance) */
	char *sp_entity_id;
	char *metadata_url; /* where the hub publishes our SP metadata */

	/* SP keys: PEM text. next_* is the rollover pair published alongside the current one. */
	char *sp_key_pem, *sp_cert_pem, *sp_next_key_pem, *sp_next_cert_pem;
	char *sp_metadata; /* our SP metadata document (what lasso and the IdP both read) */

	/* IdP metadata source and trust. */
	char *idp_metadata_file, *idp_metadata_url, *idp_entity_id_setting;
	char *metadata_signing_cert_pem;
	long metadata_refresh; /* seconds between reloads of the IdP metadata */

	/* Checks. */
	int allow_sha1;
	int sign_requests;
	int force_authn;
	long leeway;
	long max_response; /* bytes of base64 */
	char *name_id_format;
	char *subject_attribute;             /* NULL: the NameID is the subject */
	char *comparison;                    /* RequestedAuthnContext Comparison */
	char *authn_contexts[SAML_MAX_LOAS]; /* per hub level; NULL: the IdP has no such level */
	int nloas;
	saml_attr_map attrs[SAML_MAX_ATTRS];
	int nattrs;

	/* The live IdP: a document the hub keeps fresh, read through saml_server_get. */
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

/* The message of err, status st, and -1 (the fuzz target defines its own). */
#define saml_set_err idhub_fail

/* saml_settings.c: the checks that span settings, into ctx (err "<setting>: ..."). */
int saml_settings_parse(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err);
/* The hub's file reader; NULL for an empty file too. */
char *saml_read_file(saml_ctx *c, const char *path, size_t max, size_t *len);

/* saml_keys.c: load the configured SP key and certificate, or make a dev pair in state_dir. */
int saml_keys_load(saml_ctx *c, const idhub_adapter_config *cfg, idhub_error *err);
/* The base64 DER body of a PEM certificate (malloc'd), for metadata. */
char *saml_cert_b64(const char *pem);

/* saml_sp_metadata.c: build ctx->sp_metadata. */
int saml_sp_metadata_build(saml_ctx *c, idhub_error *err);

/* saml_idp_metadata.c: the IdP metadata as a hub document (first load at init), verified, and the
 * LassoServer built from it: saml_server_get gives it with a reference (g_object_unref, free
 * entity_id after). */
int saml_idp_metadata_load(saml_ctx *c, idhub_error *err);
LassoServer *saml_server_get(saml_ctx *c, char **entity_id);
int saml_metadata_verify(const char *xml, size_t len, const char *cert_pem, char *why, size_t n);

/* saml_server.c: a LassoServer for our SP and the IdP of one metadata copy. */
LassoServer *saml_server_new(saml_ctx *c, const char *idp_metadata, char **entity_id,
                             idhub_error *err);

/* saml_request.c: the AuthnRequest (start). */
int saml_start(void *ctx, idhub_arena *a, const idhub_login_request *req, idhub_start_result *out,
               idhub_error *err);

/* saml_precheck.c: structural checks on the decoded Response before lasso parses it. */
int saml_precheck(const char *xml, size_t len, int allow_sha1, idhub_error *err);
int saml_precheck_node(void *xml_node, int allow_sha1, idhub_error *err);

/* saml_time.c: xs:dateTime (UTC) to UNIX seconds; -1 when malformed. */
int64_t saml_parse_time(const char *s);

/* saml_response.c: the Response-processing entry point (finish, and the fuzz target). */
int saml_process_response(saml_ctx *c, idhub_arena *a, const char *b64,
                          const idhub_login_request *req, idhub_identity *out, idhub_error *err);
int saml_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                const idhub_login_request *req, idhub_identity *out, idhub_error *err);

/* saml_logout.c: Single Logout. What it needs of the login (NameID, SessionIndex) as the
 * identity's logout_state (arena; NULL when none); the logout hook; serve() for /slo, the
 * SingleLogoutService (HTTP-Redirect) that saml_slo_url names (malloc'd). */
const char *saml_logout_state(saml_ctx *c, idhub_arena *a, LassoSaml2Assertion *as);
int saml_logout(void *ctx, idhub_arena *a, const idhub_logout_request *req, idhub_start_result *out,
                idhub_error *err);
int saml_serve(void *ctx, idhub_arena *a, const idhub_http_request *r, idhub_http_response *resp);
char *saml_slo_url(const saml_ctx *c);

/* saml_attrs.c: attribute and level-of-assurance mapping. */
int saml_map_attributes(saml_ctx *c, idhub_arena *a, LassoSaml2Assertion *as, idhub_identity *out,
                        const char **subject_attr_value);
int saml_level_of(const saml_ctx *c, const char *class_ref);

/* The xs:ID we send as the AuthnRequest ID for a journey nonce (a leading "_": an NCName). */
char *saml_request_id(idhub_arena *a, const idhub_services *svc, const char *nonce);

#endif
