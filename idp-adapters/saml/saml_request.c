/* saml_request.c — start(): the AuthnRequest, sent over HTTP-Redirect and signed (RSA-SHA256). Its
 * ID is derived from the journey's nonce (checked as InResponseTo in finish), the RelayState is the
 * hub's request id, and RequestedAuthnContext asks for the IdP's context of the required level. */
#include "saml_int.h"
#include <lasso/utils.h>
#include <string.h>

char *saml_request_id(idhub_arena *a, const idhub_services *svc, const char *nonce)
{
	/* The nonce is base64url: with a leading "_" it is an NCName, as xs:ID must be. */
	return svc->sprintf(a, "_%s", nonce);
}

int saml_start(void *ctx, idhub_arena *a, const idhub_login_request *req, idhub_start_result *out,
               idhub_error *err)
{
	saml_ctx *c = ctx;
	if (req->min_loa < 1 || req->min_loa > c->nloas)
		return idhub_fail(err, IDHUB_ERR_LOA, "no authentication context for level %d",
		                  req->min_loa);
	/* The IdP's context for the required level; with "minimum" the lowest level at or above it
	 * that the IdP has. */
	const char *ctxref = NULL;
	for (int l = req->min_loa; l <= c->nloas && !ctxref; l++) {
		ctxref = c->authn_contexts[l - 1];
		if (strcmp(c->comparison, "exact") == 0)
			break;
	}
	if (!ctxref)
		return idhub_fail(err, IDHUB_ERR_LOA,
		                  "the IdP has no authentication context for level %d",
		                  req->min_loa);
	const saml_live *live = c->svc->doc_get(c->live);
	if (!live)
		return idhub_fail(err, IDHUB_ERR_UNAVAILABLE, "the IdP's metadata is not loaded");
	LassoLogin *login = lasso_login_new(live->server);
	LassoProfile *p = LASSO_PROFILE(login);
	int rc = login ? lasso_login_init_authn_request(login, live->entity_id,
	                                                LASSO_HTTP_METHOD_REDIRECT)
	               : -1;
	if (rc == 0) {
		LassoSamlp2AuthnRequest *ar = LASSO_SAMLP2_AUTHN_REQUEST(p->request);
		LassoSamlp2RequestAbstract *ra = LASSO_SAMLP2_REQUEST_ABSTRACT(ar);
		lasso_assign_string(ra->ID, saml_request_id(a, c->svc, req->nonce));
		/* SAML has no max_age: a service asking for a recent sign-in (prompt=login or
		 * max_age) gets ForceAuthn, and finish checks the AuthnInstant */
		ar->ForceAuthn = c->set[S_FORCE_AUTHN].num ||
		                         (req->flags & (IDHUB_LOGIN_FORCE | IDHUB_LOGIN_MAX_AGE))
		                     ? TRUE
		                     : FALSE;
		ar->IsPassive = FALSE;
		lasso_assign_string(ar->ProtocolBinding, LASSO_SAML2_METADATA_BINDING_POST);
		if (ar->NameIDPolicy) {
			lasso_assign_string(ar->NameIDPolicy->Format, c->name_id_format);
			ar->NameIDPolicy->AllowCreate = TRUE;
		}
		LassoSamlp2RequestedAuthnContext *rac = LASSO_SAMLP2_REQUESTED_AUTHN_CONTEXT(
		    lasso_samlp2_requested_authn_context_new());
		rac->AuthnContextClassRef = g_list_append(NULL, g_strdup(ctxref));
		rac->Comparison = g_strdup(c->comparison);
		lasso_assign_new_gobject(ar->RequestedAuthnContext, rac);
		lasso_assign_string(p->msg_relayState, req->request_id);
		lasso_profile_set_signature_hint(p, c->set[S_SIGN_REQUESTS].num
		                                        ? LASSO_PROFILE_SIGNATURE_HINT_FORCE
		                                        : LASSO_PROFILE_SIGNATURE_HINT_FORBID);
		rc = lasso_login_build_authn_request_msg(login);
	}
	if (rc == 0 && p->msg_url) {
		out->kind = IDHUB_START_REDIRECT;
		out->url = c->svc->strdup(a, p->msg_url);
	} else {
		idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot build the AuthnRequest: %s",
		           lasso_strerror(rc));
	}
	if (login)
		g_object_unref(login);
	c->svc->doc_put(c->live, live);
	return rc == 0 && out->url ? 0 : -1;
}
