/* complete.c — issues the authorization code (see complete.h). The code record holds what the token
 * endpoint needs and the claims released (oidc/claims.h); the journey is deleted in the same
 * transaction, so personal attributes live only until the code is redeemed or expires. */
#include "complete.h"
#include "picker.h"
#include "../oidc/claims.h"
#include "../oidc/code.h"
#include "../oidc/respond.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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
	                 .issued = now};
	/* only what the service is allowed, the IdP asserted and the request asked for */
	claims_release(svc, j->scope, j->claims, id, &c.claims, &c.id_claims);
	char *js = code_record_json(&c);
	code_record_release(&c);
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
	metrics_journey_succeeded(idp->conf->id, j->client_id, j->created, j->upstream_started, now,
	                          c.loa);
	metrics_code(MX_CODE_ISSUED);
	log_info("journey: %s signed in to %s through %s at level %d", sub, svc->client_id,
	         idp->conf->id, c.loa);
	oidc_redirect_code(h, r, resp, j->redirect_uri, code, j->state);
}
