/* complete.c — the OpenID Provider's end of a journey (see complete.h): the /callback and cancel
 * routes, which act on the journey's outcome, and the authorization code. The code record holds
 * what the token endpoint needs and the claims released (claims/claims.h); the journey is spent and
 * the session written in the same transaction, so personal attributes live only until the code is
 * redeemed or expires, and in the session's vault (sessions/session.h) until it ends. */
#include "complete.h"
#include "code.h"
#include "respond.h"
#include "../claims/claims.h"
#include "../journey/callback.h"
#include "../journey/picker.h"
#include "../pages/pages.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void unavailable(http_req *r, http_resp *resp)
{
	oidc_error_page(r, resp, 503, T("error.unavailable.heading"),
	                T("error.unavailable.message"), NULL);
}

/* The code for the service of j, for identity id with pairwise sub in session s, committed with
 * the session's record (and, for a journey that was stored or sealed, its spent claim). */
static void issue(hub *h, http_req *r, http_resp *resp, const journey *j, session *s,
                  const idhub_identity *id, const char *sub, int spend)
{
	const service_conf *svc = hub_service(h, r->a, j->client_id);
	const char *sid = svc ? session_service_sid(h, r->a, s, svc->client_id, sub) : NULL;
	char code[44];
	if (!sid || random_token(code)) {
		unavailable(r, resp);
		return;
	}
	int64_t now = hub_now(h);
	code_record c = {.client_id = j->client_id,
	                 .redirect_uri = j->redirect_uri,
	                 .code_challenge = j->code_challenge,
	                 .nonce = j->nonce,
	                 .scope = j->scope,
	                 .sub = sub,
	                 .idp = s->idp,
	                 .upstream_id = id ? id->upstream_id : NULL,
	                 .sid = sid,
	                 .loa = s->loa,
	                 .auth_time = s->auth_time,
	                 .session_expires = s->created + h->cfg->session_max_ttl,
	                 .issued = now};
	/* only what the service is allowed, the IdP asserted and the request asked for */
	claims_release(svc, j->scope, j->claims, id, &c.claims, &c.id_claims);
	char *js = code_record_json(&c);
	code_record_release(&c);
	/* single sign-on: the service and its sid go into the live session first (merged with
	 * what concurrent requests add); a session ended meanwhile yields no code */
	int rc = spend ? 0 : session_save(h, r->a, s);
	store_batch *b = store_batch_new();
	store_batch_put_new(b, NS_CODE, code, strlen(code), js, strlen(js), h->cfg->code_ttl);
	if (spend) {
		journey_spend(h, b, j); /* one code per authorization request */
		session_batch_save(h, b, s);
	}
	if (rc)
		store_batch_free(b);
	else
		rc = store_batch_commit(h->st, b);
	free(js);
	if (rc == STORE_EXISTS) {
		/* spent meanwhile (a cancel, or another callback of a re-picked journey won) */
		log_info("journey: %s: already spent, no second code", svc->client_id);
		journey done = *j;
		done.gone = JOURNEY_GONE_FINISHED;
		journey_gone_page(h, r, resp, &done);
		return;
	}
	if (rc) {
		unavailable(r, resp);
		return;
	}
	metrics_journey_succeeded(s->idp, j->client_id, j->created, j->upstream_started, now,
	                          c.loa);
	metrics_code(MX_CODE_ISSUED);
	log_info("journey: %s signed in to %s through %s at level %d%s", sub, svc->client_id,
	         s->idp, c.loa, spend ? "" : " (single sign-on)");
	oidc_redirect_code(h, r, resp, j->redirect_uri, code, j->state);
}

/* After an upstream login: begins the hub session (sessions/session.h) and issues the code. */
static void complete(hub *h, http_req *r, http_resp *resp, journey_outcome *o)
{
	session s, ended;
	if (session_begin(h, r, resp, o->idp->conf->id, &o->id, o->loa, &s, &ended)) {
		unavailable(r, resp);
		return;
	}
	issue(h, r, resp, &o->j, &s, &o->id, o->sub, 1);
	/* another citizen's session in this browser: ended (its services signed out) */
	if (ended.key[0])
		session_end(h, r->a, ended.key, "another sign-in in the same browser");
}

void oidc_callback(hub *h, http_req *r, http_resp *resp, const char *idp_id)
{
	journey_outcome o;
	if (journey_callback(h, r, resp, idp_id, &o))
		complete(h, r, resp, &o);
}

void oidc_cancel(hub *h, http_req *r, http_resp *resp, const char *id)
{
	journey_outcome o;
	if (journey_cancel(h, r, resp, id, &o))
		oidc_redirect_error(h, r, resp, o.j.redirect_uri, o.error, o.description,
		                    o.j.state);
}

void oidc_complete_sso(hub *h, http_req *r, http_resp *resp, const journey *j, session *s,
                       const idhub_identity *id, const char *sub)
{
	issue(h, r, resp, j, s, id, sub, 0);
}
