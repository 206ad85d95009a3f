/* complete.c — issues the authorization code (see complete.h). The code record holds what the token
 * endpoint needs and the claims the scope allows; the journey is deleted in the same transaction,
 * so personal attributes live only until the code is redeemed or expires. */
#include "complete.h"
#include "picker.h"
#include "../oidc/code.h"
#include "../oidc/respond.h"
#include "../util/log.h"
#include "../util/random.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* Which identity attributes each scope releases (OIDC Core §5.4). */
static const struct {
	const char *scope;
	const char *claim;
} scope_claims[] = {
    {"profile", "name"},         {"profile", "given_name"}, {"profile", "family_name"},
    {"profile", "middle_name"},  {"profile", "birthdate"},  {"email", "email"},
    {"email", "email_verified"},
};

static int scope_has(const char *scope, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = scope; (p = strstr(p, word)); p += wl)
		if ((p == scope || p[-1] == ' ') && (p[wl] == 0 || p[wl] == ' '))
			return 1;
	return 0;
}

static json_t *released_claims(const char *scope, const idhub_identity *id)
{
	json_t *c = json_object();
	for (size_t i = 0; i < id->nattrs; i++)
		for (size_t k = 0; k < sizeof scope_claims / sizeof scope_claims[0]; k++)
			if (strcmp(id->attrs[i].name, scope_claims[k].claim) == 0 &&
			    scope_has(scope, scope_claims[k].scope) && id->attrs[i].value) {
				if (strcmp(id->attrs[i].name, "email_verified") == 0)
					json_object_set_new(
					    c, "email_verified",
					    json_boolean(strcmp(id->attrs[i].value, "true") == 0));
				else
					json_object_set_new(c, id->attrs[i].name,
					                    json_string(id->attrs[i].value));
			}
	return c;
}

void journey_complete(hub *h, http_req *r, http_resp *resp, const journey *j, const hub_idp *idp,
                      const idhub_identity *id)
{
	const service_conf *svc = hub_service(h, r->a, j->client_id);
	char sub[44];
	int64_t now = hub_now(h);
	if (!svc ||
	    pairwise_sub(&h->pw, h->st, svc->sector, idp->conf->id, id->subject, now, sub)) {
		log_err("journey: cannot record the pairwise subject");
		oidc_error_page(r, resp, 503, "Sorry, there is a problem with the service",
		                "Try again in a few minutes.", NULL);
		return;
	}
	char code[44];
	if (random_token(code)) {
		oidc_error_page(r, resp, 503, "Sorry, there is a problem with the service",
		                "Try again.", NULL);
		return;
	}
	code_record c = {.client_id = j->client_id,
	                 .redirect_uri = j->redirect_uri,
	                 .code_challenge = j->code_challenge,
	                 .nonce = j->nonce,
	                 .scope = j->scope,
	                 .sub = sub,
	                 .idp = idp->conf->id,
	                 .loa = id->loa < idp->conf->max_loa ? id->loa : idp->conf->max_loa,
	                 .auth_time = id->auth_time ? id->auth_time : now,
	                 .issued = now,
	                 .claims = released_claims(j->scope, id)};
	char *js = code_record_json(&c);
	json_decref(c.claims);
	store_batch *b = store_batch_new();
	store_batch_put_new(b, NS_CODE, code, strlen(code), js, strlen(js), h->cfg->code_ttl);
	journey_spend(h, b, j); /* one code per authorization request */
	int rc = store_batch_commit(h->st, b);
	free(js);
	if (rc == STORE_EXISTS) {
		/* spent meanwhile (a cancel, or another callback of a re-picked journey won) */
		log_info("journey: %s: already spent, no second code", svc->client_id);
		journey_gone_page(h, r, resp);
		return;
	}
	if (rc) {
		oidc_error_page(r, resp, 503, "Sorry, there is a problem with the service",
		                "Try again in a few minutes.", NULL);
		return;
	}
	log_info("journey: %s signed in to %s through %s at level %d", sub, svc->client_id,
	         idp->conf->id, c.loa);
	oidc_redirect_code(h, r, resp, j->redirect_uri, code, j->state);
}
