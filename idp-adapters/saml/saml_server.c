/* saml_server.c — the LassoServer of an instance: our SP description and keys plus the one trusted
 * IdP. Built once per (re)load of the IdP metadata (saml_idp_metadata.c) and shared read-only by
 * every request thread, each holding its own GObject reference. */
#include "saml_int.h"
#include <stdlib.h>
#include <string.h>

LassoServer *saml_server_new(saml_ctx *c, const char *idp_metadata, char **entity_id,
                             idhub_error *err)
{
	(void)entity_id;
	LassoServer *s = lasso_server_new_from_buffers(c->sp_metadata, c->sp_key_pem, NULL, NULL);
	if (!s) {
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "sp_key_file: lasso refused our SP key/metadata");
		return NULL;
	}
	/* AuthnRequests are signed with RSA-SHA256, never lasso's historical RSA-SHA1 default. */
	s->signature_method = LASSO_SIGNATURE_METHOD_RSA_SHA256;
	if (lasso_server_set_encryption_private_key_with_password(s, c->sp_key_pem, NULL) != 0 ||
	    (c->sp_next_key_pem &&
	     lasso_server_set_encryption_private_key_with_password(s, c->sp_next_key_pem, NULL))) {
		g_object_unref(s);
		saml_set_err(err, IDHUB_ERR_INTERNAL,
		             "sp_key_file: lasso refused the decryption key");
		return NULL;
	}
	int rc = lasso_server_add_provider_from_buffer(s, LASSO_PROVIDER_ROLE_IDP, idp_metadata,
	                                               NULL, NULL);
	if (rc != 0) {
		g_object_unref(s);
		saml_set_err(err, IDHUB_ERR_UNAVAILABLE,
		             "the IdP metadata was refused by lasso: %s", lasso_strerror(rc));
		return NULL;
	}
	return s;
}
