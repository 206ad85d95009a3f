/* saml_response.c — finish(): the SAMLResponse posted to our ACS. The Response-processing entry
 * point process_response() runs, in order: size, strict base64, the structural pre-checks
 * (saml_precheck.c), lasso (parse, decrypt, signatures with verification forced), then the checks
 * lasso leaves to the SP, as mod_auth_mellon does them: status, one assertion, Destination,
 * InResponseTo, issuers, bearer SubjectConfirmation (Recipient, NotBefore, NotOnOrAfter),
 * Conditions (times, AudienceRestriction), the replay cache, then attributes and the level. */
#include "saml_int.h"
#include <string.h>

#define BEARER "urn:oasis:names:tc:SAML:2.0:cm:bearer"

/* A non-success status: the person cancelled, could not sign in, or the IdP refused. */
static int status_error(LassoProfile *p, idhub_error *err)
{
	const char *top = NULL, *sub = NULL;
	if (LASSO_IS_SAMLP2_STATUS_RESPONSE(p->response)) {
		LassoSamlp2Status *st = LASSO_SAMLP2_STATUS_RESPONSE(p->response)->Status;
		if (st && st->StatusCode) {
			top = st->StatusCode->Value;
			if (st->StatusCode->StatusCode)
				sub = st->StatusCode->StatusCode->Value;
		}
	}
	if (sub && strcmp(sub, LASSO_SAML2_STATUS_CODE_NO_PASSIVE) == 0)
		idhub_fail(err, IDHUB_ERR_LOGIN_REQUIRED,
		           "the IdP needs an interaction (NoPassive)");
	else if (sub && strcmp(sub, LASSO_SAML2_STATUS_CODE_NO_AUTHN_CONTEXT) == 0)
		idhub_fail(err, IDHUB_ERR_LOA,
		           "the IdP cannot authenticate at the requested level (NoAuthnContext)");
	else
		idhub_fail(err, IDHUB_ERR_ACCESS_DENIED,
		           "the IdP did not sign the person in (%s%s%s)", top ? top : "no status",
		           sub ? " / " : "", sub ? sub : "");
	return -1;
}

/* One time window: NotBefore (optional) and NotOnOrAfter (required when must_end), with leeway. */
static int window_ok(saml_ctx *c, int64_t now, const char *nb, const char *noa, int must_end,
                     int64_t *end)
{
	if (nb) {
		int64_t t = c->svc->parse_time(nb);
		if (t < 0 || now + c->leeway < t)
			return 0;
	}
	if (!noa)
		return !must_end;
	int64_t t = c->svc->parse_time(noa);
	if (t < 0 || now - c->leeway >= t)
		return 0;
	if (end && (*end == 0 || t < *end))
		*end = t;
	return 1;
}

/* The Response around the assertion: its Destination, InResponseTo, Issuer and signature, and
 * exactly one assertion, by the IdP. 0 with *out the assertion, or -1 with err filled. */
static int verify_response(saml_ctx *c, LassoProfile *p, const char *idp, const char *want_irt,
                           LassoSaml2Assertion **out, idhub_error *err)
{
	LassoSamlp2Response *resp =
	    LASSO_IS_SAMLP2_RESPONSE(p->response) ? LASSO_SAMLP2_RESPONSE(p->response) : NULL;
	LassoSamlp2StatusResponse *sr = resp ? &resp->parent : NULL;
	if (!sr)
		return idhub_fail(err, IDHUB_ERR_INVALID, "not a SAML Response");
	/* Destination is required: it binds the message to our ACS (an assertion for another SP
	 * posted to us fails here or at the Recipient below). */
	if (!sr->Destination || strcmp(sr->Destination, c->callback_url) != 0)
		return idhub_fail(err, IDHUB_ERR_INVALID, "wrong or missing Destination");
	if (!sr->InResponseTo || strcmp(sr->InResponseTo, want_irt) != 0)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "InResponseTo does not match the request of this journey");
	if (sr->Issuer && (!sr->Issuer->content || strcmp(sr->Issuer->content, idp) != 0))
		return idhub_fail(err, IDHUB_ERR_INVALID, "the Response's Issuer is not the IdP");
	/* lasso (verification forced) has verified the Response's signature; check it once more on
	 * the very node we read, so that no lasso code path that tolerates a missing signature can
	 * slip through. */
	LassoProvider *prov = lasso_server_get_provider(p->server, idp);
	if (!prov ||
	    lasso_provider_verify_single_node_signature(prov, LASSO_NODE(p->response), "ID") != 0)
		return idhub_fail(err, IDHUB_ERR_INVALID, "the Response is not signed by the IdP");
	if (g_list_length(resp->Assertion) != 1 || g_list_length(resp->EncryptedAssertion) > 1)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "the response must hold exactly one assertion");
	LassoSaml2Assertion *as = *out = resp->Assertion->data;
	if (!LASSO_IS_SAML2_ASSERTION(as) || !as->ID || !as->Issuer || !as->Issuer->content ||
	    strcmp(as->Issuer->content, idp) != 0)
		return idhub_fail(err, IDHUB_ERR_INVALID, "the assertion's Issuer is not the IdP");
	/* A decrypted assertion was not visible to the pre-checks: run them on lasso's copy. */
	if (resp->EncryptedAssertion &&
	    saml_precheck_node(c->svc, lasso_node_get_original_xmlnode(LASSO_NODE(as)),
	                       c->allow_sha1, err))
		return -1;
	return 0;
}

/* The assertion's bearer confirmation, validity windows, audience, issue time and single use.
 * 0, or -1 with err filled. */
static int verify_assertion(saml_ctx *c, LassoSaml2Assertion *as, const char *want_irt,
                            const idhub_login_request *req, int64_t now, idhub_error *err)
{
	LassoSaml2Subject *subj = as->Subject;
	LassoSaml2SubjectConfirmation *sc = subj ? subj->SubjectConfirmation : NULL;
	LassoSaml2SubjectConfirmationData *scd = sc ? sc->SubjectConfirmationData : NULL;
	if (!sc || !sc->Method || strcmp(sc->Method, BEARER) != 0 || !scd)
		return idhub_fail(err, IDHUB_ERR_INVALID, "no bearer SubjectConfirmation");
	if (!scd->Recipient || strcmp(scd->Recipient, c->callback_url) != 0)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "SubjectConfirmation Recipient is not our ACS");
	if (!scd->InResponseTo || strcmp(scd->InResponseTo, want_irt) != 0)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "SubjectConfirmation InResponseTo does not match this journey");
	int64_t end = 0;
	if (!window_ok(c, now, scd->NotBefore, scd->NotOnOrAfter, 1, &end))
		return idhub_fail(
		    err, IDHUB_ERR_INVALID,
		    "the assertion has expired or is not yet valid (SubjectConfirmation)");
	LassoSaml2Conditions *cond = as->Conditions;
	if (!cond || !window_ok(c, now, cond->NotBefore, cond->NotOnOrAfter, 0, &end))
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "the assertion has expired or is not yet valid (Conditions)");
	/* Every AudienceRestriction must name us, and there must be at least one. */
	int audiences = 0;
	for (GList *i = cond->AudienceRestriction; i; i = i->next) {
		LassoSaml2AudienceRestriction *ar = i->data;
		if (!LASSO_IS_SAML2_AUDIENCE_RESTRICTION(ar) || !ar->Audience ||
		    strcmp(ar->Audience, c->sp_entity_id) != 0) {
			audiences = -1;
			break;
		}
		audiences++;
	}
	if (audiences <= 0)
		return idhub_fail(err, IDHUB_ERR_INVALID, "the assertion's Audience is not us");
	int64_t issued = c->svc->parse_time(as->IssueInstant);
	if (issued < 0 || issued > now + c->leeway || issued < c->svc->replay_floor(c->svc->inst) ||
	    issued < req->started_at - c->leeway)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "the assertion was not issued for this login");
	/* Single use: the assertion ID is remembered until it could no longer be accepted. */
	int seen = c->svc->replay_seen(c->svc->inst, as->ID, end + c->leeway);
	if (seen != 0)
		return idhub_fail(err, seen < 0 ? IDHUB_ERR_INTERNAL : IDHUB_ERR_INVALID,
		                  seen < 0 ? "the replay cache is not available"
		                           : "assertion replayed");

	return 0;
}

/* The text of an AttributeValue: lasso keeps simple content as LassoMiscTextNode children. */
static const char *value_text(gpointer v)
{
	if (LASSO_IS_SAML2_ATTRIBUTE_VALUE(v)) {
		LassoSaml2AttributeValue *av = v;
		for (GList *i = av->any; i; i = i->next)
			if (LASSO_IS_MISC_TEXT_NODE(i->data) &&
			    ((LassoMiscTextNode *)i->data)->text_child)
				return ((LassoMiscTextNode *)i->data)->content;
	}
	return NULL;
}

/* The attributes, each by Name and by FriendlyName, mapped to the hub's claims by the hub
 * (attrs_from_pairs); the first value of subject_attribute, if set, in *subject. 0 or -1. */
static int map_attributes(saml_ctx *c, idhub_arena *a, LassoSaml2Assertion *as, idhub_identity *out,
                          const char **subject)
{
	size_t n = 0, max = 0;
	for (GList *s = as->AttributeStatement; s; s = s->next)
		if (LASSO_IS_SAML2_ATTRIBUTE_STATEMENT(s->data))
			max += g_list_length(LASSO_SAML2_ATTRIBUTE_STATEMENT(s->data)->Attribute);
	idhub_kv *kv = c->svc->alloc(a, (2 * max + 1) * sizeof *kv);
	*subject = NULL;
	for (GList *s = as->AttributeStatement; s && kv; s = s->next)
		for (GList *i = LASSO_IS_SAML2_ATTRIBUTE_STATEMENT(s->data)
		                    ? LASSO_SAML2_ATTRIBUTE_STATEMENT(s->data)->Attribute
		                    : NULL;
		     i; i = i->next) {
			LassoSaml2Attribute *at =
			    LASSO_IS_SAML2_ATTRIBUTE(i->data) ? i->data : NULL;
			const char *v =
			    at && at->AttributeValue ? value_text(at->AttributeValue->data) : NULL;
			if (!v || !*v || strlen(v) > 1024)
				continue;
			kv[n++] = (idhub_kv){at->Name, v};
			kv[n++] = (idhub_kv){at->FriendlyName, v};
			if (c->subject_attribute && !*subject &&
			    ((at->Name && !strcmp(at->Name, c->subject_attribute)) ||
			     (at->FriendlyName && !strcmp(at->FriendlyName, c->subject_attribute))))
				*subject = c->svc->strdup(a, v);
		}
	return kv ? c->svc->attrs_from_pairs(c->svc->inst, a, kv, n, c->claim_map, c->nclaim, out)
	          : -1;
}

/* The level, the freshness and the subject of the assertion, into out. 0, or -1 with err. */
static int verify_statement(saml_ctx *c, idhub_arena *a, LassoSaml2Assertion *as,
                            const idhub_login_request *req, int64_t now, idhub_identity *out,
                            idhub_error *err)
{
	LassoSaml2Subject *subj = as->Subject;
	/* The level: from the AuthnContextClassRef of the (one) AuthnStatement. */
	LassoSaml2AuthnStatement *st =
	    as->AuthnStatement && !as->AuthnStatement->next ? as->AuthnStatement->data : NULL;
	if (!LASSO_IS_SAML2_AUTHN_STATEMENT(st) || !st->AuthnContext)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "the assertion has no single AuthnStatement");
	const char *cref = st->AuthnContext->AuthnContextClassRef;
	int loa = 0; /* the AuthnContextClassRef's place in authn_contexts */
	for (int i = 0; cref && i < c->nloas; i++)
		if (c->authn_contexts[i] && strcmp(c->authn_contexts[i], cref) == 0)
			loa = i + 1;
	if (loa < 1)
		return idhub_fail(err, IDHUB_ERR_LOA, "unknown authentication context %.120s",
		                  cref ? cref : "(none)");
	if (loa < req->min_loa)
		return idhub_fail(err, IDHUB_ERR_LOA, "the IdP asserted level %d, %d required", loa,
		                  req->min_loa);
	/* max_age and prompt=login: the AuthnInstant (required then) must be recent enough */
	int64_t at = c->svc->parse_time(st->AuthnInstant);
	int fresh = c->svc->auth_fresh(c->svc->inst, req, at, c->leeway);
	if (fresh)
		return idhub_fail(
		    err, IDHUB_ERR_INVALID, "%s",
		    fresh == IDHUB_FRESH_BEFORE_LOGIN
		        ? "ForceAuthn was sent and the IdP's AuthnInstant predates the "
		          "login"
		        : "the IdP's AuthnInstant is older than max_age");
	const char *sattr = NULL;
	if (map_attributes(c, a, as, out, &sattr))
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "out of memory");
	const char *subject = NULL;
	if (c->subject_attribute) {
		subject = sattr;
	} else if (subj->NameID && subj->NameID->content && *subj->NameID->content) {
		const char *fmt = subj->NameID->Format;
		if (fmt && strcmp(fmt, LASSO_SAML2_NAME_IDENTIFIER_FORMAT_TRANSIENT) == 0)
			return idhub_fail(err, IDHUB_ERR_INVALID,
			                  "a transient NameID cannot name a person (set "
			                  "subject_attribute)");
		subject = subj->NameID->content;
	}
	if (!subject || !*subject || strlen(subject) > 1024)
		return idhub_fail(err, IDHUB_ERR_INVALID, "the assertion names nobody");
	out->subject = c->svc->strdup(a, subject);
	out->loa = loa;
	out->auth_time = at > 0 && at <= now + c->leeway ? at : now;
	out->upstream_id = c->svc->strdup(a, as->ID);
	return 0;
}

static int process_response(saml_ctx *c, idhub_arena *a, const char *b64,
                            const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	size_t len = strlen(b64);
	if ((int64_t)len > c->set[S_MAX_RESPONSE_SIZE].num)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "the response is over the size limit (%ld bytes)",
		                  (long)c->set[S_MAX_RESPONSE_SIZE].num);
	unsigned char *xml;
	long xlen = c->svc->b64_decode(a, b64, len, IDHUB_B64_WRAPPED, &xml);
	if (xlen <= 0)
		return idhub_fail(err, IDHUB_ERR_INVALID, "SAMLResponse is not valid base64");
	int rc = saml_precheck(c->svc, (const char *)xml, (size_t)xlen, c->allow_sha1, err);
	if (rc)
		return -1;
	const saml_live *live = c->svc->doc_get(c->live);
	if (!live)
		return idhub_fail(err, IDHUB_ERR_UNAVAILABLE, "the IdP's metadata is not loaded");
	/* One LassoLogin per request, on the shared read-only server. */
	LassoLogin *login = lasso_login_new(live->server);
	LassoProfile *p = LASSO_PROFILE(login);
	lasso_profile_set_signature_verify_hint(p, LASSO_PROFILE_SIGNATURE_VERIFY_HINT_FORCE);
	char *msg = g_strdup(b64);
	int lrc = lasso_login_process_authn_response_msg(login, msg);
	g_free(msg);
	if (lrc == LASSO_LOGIN_ERROR_STATUS_NOT_SUCCESS ||
	    lrc == LASSO_LOGIN_ERROR_REQUEST_DENIED || lrc == LASSO_LOGIN_ERROR_UNKNOWN_PRINCIPAL ||
	    lrc == LASSO_LOGIN_ERROR_FEDERATION_NOT_FOUND) {
		rc = status_error(p, err);
	} else if (lrc != 0) {
		idhub_fail(err, IDHUB_ERR_INVALID, "lasso refused the response: %s",
		           lasso_strerror(lrc));
		rc = -1;
	} else {
		int64_t now = c->svc->now(c->svc->inst);
		const char *want_irt = saml_request_id(a, c->svc, req->nonce);
		LassoSaml2Assertion *as = NULL;
		if (verify_response(c, p, live->entity_id, want_irt, &as, err) ||
		    verify_assertion(c, as, want_irt, req, now, err) ||
		    verify_statement(c, a, as, req, now, out, err))
			rc = -1;
		else /* what Single Logout needs later (saml_logout.c) */
			out->logout_state = saml_logout_state(c, a, as);
	}
	g_object_unref(login);
	c->svc->doc_put(c->live, live);
	return rc;
}

int saml_finish(void *ctx, idhub_arena *a, const idhub_http_request *cb,
                const idhub_login_request *req, idhub_identity *out, idhub_error *err)
{
	saml_ctx *c = ctx;
	int n;
	const char *b64 = idhub_param(cb, "SAMLResponse", &n);
	if (!b64 || n != 1 || strcmp(cb->method, "POST") != 0)
		return idhub_fail(err, IDHUB_ERR_INVALID,
		                  "expected one SAMLResponse over HTTP-POST");
	int rc = process_response(c, a, b64, req, out, err);
	if (rc)
		c->svc->log(c->svc->inst, 6, "response refused: %s", err->message);
	return rc;
}
