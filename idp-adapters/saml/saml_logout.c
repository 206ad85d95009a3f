/* saml_logout.c — SAML 2.0 Single Logout, SP-initiated, through lasso: the adapter's logout hook
 * sends a signed LogoutRequest (NameID and SessionIndex of the login) to the IdP's
 * SingleLogoutService over HTTP-Redirect, and serve() takes the IdP's LogoutResponse at
 * /idp/<id>/slo (our SP metadata's SingleLogoutService, HTTP-POST: lasso 2.8 leaks a buffer
 * on every HTTP-Redirect message whose query signature it checks, and the POST binding's XML
 * signature is what the login's Response uses too), checks it, and sends the browser back to
 * the hub.
 *
 * What SLO needs of the login (the NameID with its qualifiers, and the SessionIndex) is captured in
 * finish as identity.logout_state, which the hub keeps only in the session's sealed vault.
 *
 * The request's ID is derived from the hub's return token (its RelayState), so the response is
 * bound to our request without any state here: its InResponseTo must be that ID, its signature the
 * IdP's (lasso checks it against the IdP's metadata keys), its status Success. */
#include "saml_int.h"
#include <lasso/xml/saml-2.0/samlp2_logout_request.h>
#include <lasso/xml/saml-2.0/samlp2_logout_response.h>
#include <string.h>

#define LOGOUT_STATE_MAX 4096
#define RETURN_MAX 4096 /* the hub's return token */

/* "_" + base64url(SHA-256("idhub saml slo" || token)): an xs:ID only this token yields. */
static const char *request_id(const saml_ctx *c, idhub_arena *a, const char *token)
{
	const char *m = c->svc->sprintf(a, "idhub saml slo %s", token);
	return c->svc->sprintf(a, "_%s", c->svc->digest_b64url(a, m, strlen(m)));
}

const char *saml_logout_state(saml_ctx *c, idhub_arena *a, LassoSaml2Assertion *as)
{
	LassoSaml2NameID *nid = as && as->Subject ? as->Subject->NameID : NULL;
	LassoSaml2AuthnStatement *st = as && as->AuthnStatement ? as->AuthnStatement->data : NULL;
	if (!nid || !nid->content)
		return NULL;
	idhub_kv kv[] = {{"n", nid->content},
	                 {"f", nid->Format},
	                 {"q", nid->NameQualifier},
	                 {"s", nid->SPNameQualifier},
	                 {"i", LASSO_IS_SAML2_AUTHN_STATEMENT(st) ? st->SessionIndex : NULL}};
	return c->svc->record(a, kv, 5, LOGOUT_STATE_MAX);
}

/* A lasso session holding a minimal assertion of the login (NameID, SessionIndex), which is what
 * lasso's SP-initiated logout reads. */
static LassoSession *login_session(saml_ctx *c, idhub_arena *a, const char *idp, const char *state)
{
#define GET(k) c->svc->record_get(a, state, k)
	LassoSaml2NameID *nid =
	    LASSO_SAML2_NAME_ID(lasso_saml2_name_id_new_with_string((char *)GET("n")));
	nid->Format = g_strdup(GET("f"));
	nid->NameQualifier = g_strdup(GET("q"));
	nid->SPNameQualifier = g_strdup(GET("s"));
	LassoSaml2Subject *subj = LASSO_SAML2_SUBJECT(lasso_saml2_subject_new());
	subj->NameID = nid;
	LassoSaml2AuthnStatement *st =
	    LASSO_SAML2_AUTHN_STATEMENT(lasso_saml2_authn_statement_new());
	st->SessionIndex = g_strdup(GET("i"));
#undef GET
	LassoSaml2Assertion *as = LASSO_SAML2_ASSERTION(lasso_saml2_assertion_new());
	as->Subject = subj;
	as->AuthnStatement = g_list_append(NULL, st);
	LassoSession *sess = lasso_session_new();
	lasso_session_add_assertion(sess, idp, LASSO_NODE(as));
	g_object_unref(as);
	return sess;
}

static int build_request(saml_ctx *c, idhub_arena *a, LassoServer *s, const char *idp,
                         const idhub_logout_request *req, idhub_start_result *out, idhub_error *err)
{
	LassoLogout *lo = lasso_logout_new(s);
	LassoProfile *p = LASSO_PROFILE(lo);
	/* the profile owns the session from here (freed with lo) */
	p->session = login_session(c, a, idp, req->logout_state);
	int rc = lasso_logout_init_request(lo, (char *)idp, LASSO_HTTP_METHOD_REDIRECT);
	if (rc == 0) {
		LassoSamlp2RequestAbstract *ra = LASSO_SAMLP2_REQUEST_ABSTRACT(p->request);
		LassoSamlp2LogoutRequest *lr = LASSO_SAMLP2_LOGOUT_REQUEST(p->request);
		g_free(ra->ID);
		ra->ID = g_strdup(request_id(c, a, req->return_value));
		const char *i = c->svc->record_get(a, req->logout_state, "i");
		if (i && !lr->SessionIndex)
			lr->SessionIndex = g_strdup(i);
		g_free(p->msg_relayState);
		p->msg_relayState = g_strdup(req->return_value);
		lasso_profile_set_signature_hint(p, LASSO_PROFILE_SIGNATURE_HINT_FORCE);
		rc = lasso_logout_build_request_msg(lo);
	}
	if (rc == 0 && p->msg_url) {
		out->kind = IDHUB_START_REDIRECT;
		out->url = c->svc->strdup(a, p->msg_url);
	}
	g_object_unref(lo);
	if (rc != 0 || !out->url)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "cannot build the LogoutRequest: %s",
		                  lasso_strerror(rc));
	c->svc->log(c->svc->inst, 6, "single logout: LogoutRequest sent to the IdP");
	return 0;
}

int saml_logout(void *ctx, idhub_arena *a, const idhub_logout_request *req, idhub_start_result *out,
                idhub_error *err)
{
	saml_ctx *c = ctx;
	if (!c->svc->record_get(a, req->logout_state, "n") || !req->return_value ||
	    strlen(req->return_value) > RETURN_MAX)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "no single logout state");
	const saml_live *live = c->svc->doc_get(c->live);
	LassoServer *s = live ? live->server : NULL;
	const char *idp = live ? live->entity_id : NULL;
	LassoProvider *prov = s ? lasso_server_get_provider(s, idp) : NULL;
	char *slo = prov
	                ? lasso_provider_get_metadata_one(prov, "SingleLogoutService HTTP-Redirect")
	                : NULL;
	int rc;
	if (!s)
		rc = idhub_fail(err, IDHUB_ERR_UNAVAILABLE, "the IdP's metadata is not loaded");
	else if (!slo)
		rc = 1; /* the IdP offers no Single Logout over HTTP-Redirect: nothing to do */
	else
		rc = build_request(c, a, s, idp, req, out, err);
	g_free(slo);
	if (live)
		c->svc->doc_put(c->live, live);
	return rc;
}

/* The LogoutResponse (base64, HTTP-POST): lasso parses it and verifies the IdP's XML signature
 * and its status; then its Issuer and InResponseTo. 0, or -1 with err filled. */
static int check_response(saml_ctx *c, idhub_arena *a, const char *msg, const char *relay,
                          idhub_error *err)
{
	const saml_live *live = c->svc->doc_get(c->live);
	if (!live)
		return idhub_fail(err, IDHUB_ERR_UNAVAILABLE, "the IdP's metadata is not loaded");
	const char *idp = live->entity_id;
	LassoLogout *lo = lasso_logout_new(live->server);
	LassoProfile *p = LASSO_PROFILE(lo);
	lasso_profile_set_signature_verify_hint(p, LASSO_PROFILE_SIGNATURE_VERIFY_HINT_FORCE);
	char *q = g_strdup(msg);
	int lrc = lasso_logout_process_response_msg(lo, q);
	g_free(q);
	LassoSamlp2StatusResponse *r = LASSO_IS_SAMLP2_STATUS_RESPONSE(p->response)
	                                   ? LASSO_SAMLP2_STATUS_RESPONSE(p->response)
	                                   : NULL;
	const char *want = request_id(c, a, relay);
	int rc = 0;
	if (lrc != 0 || !r)
		rc = idhub_fail(err, IDHUB_ERR_INVALID, "LogoutResponse refused: %s",
		                lasso_strerror(lrc));
	else if (!r->Issuer || !r->Issuer->content || strcmp(r->Issuer->content, idp) != 0)
		rc = idhub_fail(err, IDHUB_ERR_INVALID, "the LogoutResponse is not the IdP's");
	/* bound to our request: the ID only this RelayState yields */
	else if (!r->InResponseTo || strcmp(r->InResponseTo, want) != 0)
		rc = idhub_fail(err, IDHUB_ERR_INVALID,
		                "the LogoutResponse answers another request");
	g_object_unref(lo);
	c->svc->doc_put(c->live, live);
	return rc;
}

int saml_serve(void *ctx, idhub_arena *a, const idhub_http_request *r, idhub_http_response *resp)
{
	saml_ctx *c = ctx;
	if (strcmp(r->path, "/slo") != 0)
		return -1;
	int nr, ns;
	const char *relay = idhub_param(r, "RelayState", &nr);
	const char *msg = idhub_param(r, "SAMLResponse", &ns);
	idhub_error err = {0};
	/* HTTP-POST only: the XML signature is lasso's as for the login's Response */
	if (strcmp(r->method, "POST") != 0 || nr != 1 || ns != 1 || strlen(relay) > RETURN_MAX ||
	    (int64_t)strlen(msg) > c->set[S_MAX_RESPONSE_SIZE].num ||
	    check_response(c, a, msg, relay, &err) != 0) {
		c->svc->log(c->svc->inst, 4, "single logout: %s",
		            err.message[0] ? err.message : "no LogoutResponse");
		return c->svc->respond_page(
		    c->svc->inst, a, resp, 400, 0, "Sign-out at the identity provider",
		    "<h1>Sign-out at the identity provider</h1>\n<p>The identity provider's answer "
		    "could not be accepted. You are signed out of the hub; close the browser to "
		    "end your sign-in at the identity provider.</p>\n");
	}
	c->svc->log(c->svc->inst, 6, "single logout: the IdP confirmed");
	return c->svc->respond_logout_done(c->svc->inst, a, resp, relay);
}
