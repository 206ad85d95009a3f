/* callback.c — /callback/<idp>: where an upstream IdP sends the citizen back. Finds the journey by
 * the hub-owned state/RelayState, checks the browser binding (when a cross-site POST dropped the
 * SameSite=Lax cookie: parks the POST and redirects to a GET that carries it, see resume below),
 * consumes the upstream state (single use), and asks the adapter to verify the response. */
#include "callback.h"
#include "journey.h"
#include "picker.h"
#include "problem.h"
#include "ustate.h"
#include "../pages/pages.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <stdlib.h>
#include <string.h>

static const char *header_cb(const idhub_http_request *req, const char *name)
{
	return http_header(req->hub_private, name);
}

void journey_adapter_request(http_req *r, idhub_http_request *out)
{
	size_t n = r->query.n + r->body.n;
	idhub_kv *kv = arena_alloc(r->a, (n ? n : 1) * sizeof(*kv));
	if (r->query.n)
		memcpy(kv, r->query.kv, r->query.n * sizeof(*kv));
	if (r->body.n)
		memcpy(kv + r->query.n, r->body.kv, r->body.n * sizeof(*kv));
	out->method = r->method;
	out->path = r->path;
	out->params = kv;
	out->nparams = n;
	out->header = header_cb;
	out->hub_private = r;
}

static void repost_page(hub *h, http_req *r, http_resp *resp)
{
	idhub_kv *kv = arena_alloc(r->a, (r->body.n + 1) * sizeof(*kv));
	memcpy(kv, r->body.kv, r->body.n * sizeof(*kv));
	kv[r->body.n].name = "idhub_repost";
	kv[r->body.n].value = "1";
	http_html(resp, 200,
	          page_autopost(r->a, arena_printf(r->a, "%s%s", h->cfg->issuer, r->path), kv,
	                        r->body.n + 1, T("callback.repost.heading"),
	                        T("callback.repost.message")));
}

/*
 * POST/redirect/GET for a cross-site POST (SAML's HTTP-POST binding, the sandbox's auto-POST): it
 * carries no SameSite=Lax cookie, so the hub parks its body and answers 303 to
 * GET /callback/<idp>?resume=<id>, a top-level navigation that does carry the cookie; the GET
 * takes the body back and goes on as the same-site POST would. No page of the browser's history
 * is then the answer to a POST, so Back and reload never ask to resubmit.
 *
 * Only a POST whose state is a live upstream login of this IdP gets here (callback_journey found
 * it in NS_USTATE, where only the hub writes its random 256-bit request ids, and loaded its
 * journey): a forged or stale state never writes. Once per upstream login (a put_new claim), the
 * body as the HTTP layer capped it, for RESUME_TTL seconds, in a budgeted batch: above the
 * store's high-water mark it is refused like a new journey, and the hub falls back to the re-post
 * page, which writes nothing. It is not counted in the per-source budget: each claim is tied to a
 * stored journey, which was. The resume id is bound to nothing but the state in the body: the
 * browser binding is checked at the GET, before the body is taken (single use).
 */
#define RESUME_TTL 60
/* NS_USTATE keys of parked bodies: "p:" and 43 characters, never the 43 of a state */
#define RESUME_PREFIX "p:"

/* The largest body parked. A signed, encrypted SAML Response with a certificate is well under
 * this; a callback body may be 512 KiB, and an anonymous client that starts journeys could
 * otherwise hold that much of the store per journey for RESUME_TTL. Above it: the re-post page. */
#define PARK_MAX (64 * 1024)

static int park_post(hub *h, http_req *r, const journey *j, const char *rid, char id[44])
{
	int64_t left = j->created + h->cfg->journey_ttl - hub_now(h);
	if (left <= 0 || r->body_len > PARK_MAX || random_token(id))
		return -1;
	char key[64], claim[64];
	snprintf(key, sizeof key, RESUME_PREFIX "%s", id);
	snprintf(claim, sizeof claim, "parked:%s", rid);
	store_batch *b = store_batch_new();
	store_batch_put_new(b, NS_REPLAY, claim, strlen(claim), "", 0, left);
	store_batch_put(b, NS_USTATE, key, strlen(key), r->raw_body ? r->raw_body : "", r->body_len,
	                RESUME_TTL);
	store_batch_budgeted(b);
	return store_batch_commit(h->st, b);
}

/* GET /callback/<idp>?resume=<id>: puts the parked body back in r as the POST it was (not taken
 * yet: see callback_journey). The resume id, or NULL when r is no resume or its body is gone. */
static const char *resume_post(hub *h, http_req *r)
{
	int n;
	const char *id = form_get(&r->query, "resume", &n);
	if (!id || n != 1 || strlen(id) != 43)
		return NULL;
	char key[64];
	snprintf(key, sizeof key, RESUME_PREFIX "%s", id);
	void *v;
	size_t len;
	if (store_get(h->st, NS_USTATE, key, strlen(key), &v, &len, NULL))
		return NULL;
	char *body = arena_alloc(r->a, len + 1);
	memcpy(body, v, len);
	body[len] = 0;
	free(v);
	r->raw_body = body;
	r->body_len = len;
	r->body_error = form_parse(r->a, &r->body, body, len, HTTP_MAX_CALLBACK_VALUE);
	r->query.n = 0; /* the adapter sees the IdP's POST (finish), and nothing of ours */
	return id;
}

/* A cross-site POST (SAML HTTP-POST binding) does not carry our SameSite=Lax cookie: on to a GET
 * that does (park_post), or, when the store cannot take it, the same fields re-posted from our own
 * origin (a same-site POST carries the cookie). */
static void cross_site_post(hub *h, http_req *r, http_resp *resp, const journey *j, const char *rid)
{
	char id[44];
	int rc = park_post(h, r, j, rid, id);
	if (rc == 0) {
		http_redirect(resp,
		              arena_printf(r->a, "%s%s?resume=%s", h->cfg->issuer, r->path, id));
		return;
	}
	log_info("journey: cross-site POST not parked (%d): re-post page", rc);
	repost_page(h, r, resp);
}

/* Takes (single use) the body parked under resume id: 0, or -1 when it was taken already. */
static int take_parked(hub *h, const char *id)
{
	char key[64];
	void *v;
	size_t n;
	snprintf(key, sizeof key, RESUME_PREFIX "%s", id);
	if (store_take(h->st, NS_USTATE, key, strlen(key), &v, &n))
		return -1;
	free(v);
	return 0;
}

static journey_problem refusal_problem(idhub_status st)
{
	switch (st) {
	case IDHUB_ERR_ACCESS_DENIED:
		return JP_CANCELLED;
	case IDHUB_ERR_TIMEOUT:
		return JP_TIMED_OUT;
	case IDHUB_ERR_UNAVAILABLE:
		return JP_IDP_UNAVAILABLE;
	case IDHUB_ERR_LOA:
		return JP_LOA;
	case IDHUB_ERR_LOGIN_REQUIRED:
		return JP_LOGIN_REQUIRED;
	default:
		return JP_REFUSED;
	}
}

/* max_age and prompt=login (OIDC Core §3.1.2.1), checked by the hub whatever the adapter did: the
 * upstream authentication (auth_time / AuthnInstant) must be recent enough. An adapter that does
 * not know the time reports 0, which fails a max_age check. */
static int fresh_enough(hub *h, const journey *j, const idhub_identity *id)
{
	int64_t now = hub_now(h), leeway = h->cfg->clock_leeway;
	if (j->has_max_age && (id->auth_time <= 0 || id->auth_time < now - j->max_age - leeway)) {
		log_info("journey: upstream authentication older than max_age %lld",
		         (long long)j->max_age);
		return 0;
	}
	if (j->force_login && id->auth_time > 0 && id->auth_time < j->upstream_started - leeway) {
		log_info(
		    "journey: prompt=login, but the upstream authentication predates the login");
		return 0;
	}
	return 1;
}

/* The journey named by the callback's state parameter, checked to be bound to this browser, its
 * upstream state spent (single use). 0, or -1 after answering resp. */
static int callback_journey(hub *h, http_req *r, http_resp *resp, const hub_idp *idp, journey *j,
                            const char *resume)
{
	const form *f = resume || strcmp(r->method, "POST") == 0 ? &r->body : &r->query;
	int n;
	const char *rid = form_get(f, idp->ops->state_param, &n);
	if (!rid || n != 1 || strlen(rid) != 43) {
		journey_gone_page(h, r, resp, NULL);
		return -1;
	}
	void *jid;
	size_t jlen;
	if (store_get(h->st, NS_USTATE, rid, strlen(rid), &jid, &jlen, NULL)) {
		/* unknown, expired or already used (a replayed callback, Back after finishing): the
		 * state itself says which, without a store write (ustate.h) */
		journey gone = {.gone = ustate_gone(h, rid)};
		journey_gone_page(h, r, resp, &gone);
		return -1;
	}
	int rc = journey_load_key(h, r->a, jid, j);
	free(jid);
	if (rc == 0) {
		pages_adopt_lang(r, j->lang);
		pages_toggle_to(r, arena_printf(r->a, "/login/%s", j->token));
	}
	if (rc || !j->idp || strcmp(j->idp, idp->conf->id) != 0 ||
	    !journey_token_eq(j->request_id, rid)) {
		journey_gone_page(h, r, resp, rc ? j : NULL);
		return -1;
	}
	if (!journey_bound(h, j, r)) {
		if (!resume && strcmp(r->method, "POST") == 0 &&
		    !http_cookie(r, journey_cookie_name(h)) &&
		    !form_get(&r->body, "idhub_repost", NULL)) {
			cross_site_post(h, r, resp, j, rid);
			return -1;
		}
		journey_other_browser_page(h, r, resp, j);
		return -1;
	}
	/* single use: a second callback with this state (or resume id) finds nothing */
	void *taken;
	size_t tlen;
	if ((resume && take_parked(h, resume)) ||
	    store_take(h->st, NS_USTATE, rid, strlen(rid), &taken, &tlen)) {
		j->gone = JOURNEY_GONE_FINISHED;
		journey_gone_page(h, r, resp, j);
		return -1;
	}
	free(taken);
	return 0;
}

/* Asks the adapter to verify the IdP's answer to journey j (resumed: a parked POST, which the
 * adapter sees as the POST it was). 0 with *id, or -1 after answering resp with the refusal's
 * page. */
static int finish(hub *h, http_req *r, http_resp *resp, const hub_idp *idp, journey *j, int resumed,
                  idhub_identity *id)
{
	idhub_http_request areq;
	journey_adapter_request(r, &areq);
	if (resumed)
		areq.method = "POST"; /* the IdP's POST, parked (see park_post) */
	idhub_login_request lr = {.request_id = j->request_id,
	                          .nonce = j->upstream_nonce,
	                          .verifier = j->upstream_verifier,
	                          .callback_url = idp->callback_url,
	                          .min_loa = j->required_loa,
	                          .started_at = j->upstream_started};
	journey_login_flags(j, &lr);
	journey_login_claims(h, r->a, j, &lr);
	idhub_error err = {0};
	int64_t t0 = metrics_clock_ns();
	int failed = idp->ops->finish(idp->ctx, (idhub_arena *)r->a, &areq, &lr, id, &err) != 0;
	/* the person's choice, or their time running out, is no failure of the IdP */
	metrics_idp_call(idp->conf->id, t0,
	                 failed && err.status != IDHUB_ERR_ACCESS_DENIED &&
	                     err.status != IDHUB_ERR_TIMEOUT);
	if (!failed)
		return 0;
	if (err.status == IDHUB_OK)
		err.status = IDHUB_ERR_INVALID;
	metrics_journey_failed(j->idp, j->client_id, metrics_fail_of_status(err.status));
	metrics_idp_refused(j->idp, err.check);
	log_info("journey: %s refused: %s", idp->conf->id, err.message);
	journey_problem_page(h, r, resp, refusal_problem(err.status), j, 1,
	                     page_lang_pick(idp->conf->display_name, idp->conf->display_name_cy));
	if (err.status == IDHUB_ERR_UNAVAILABLE)
		resp->status = 502;
	return -1;
}

/* The hub's own checks of a verified identity: a subject, recent enough, at the level required.
 * 0, or -1 after answering resp. */
static int acceptable(hub *h, http_req *r, http_resp *resp, const hub_idp *idp, const journey *j,
                      const idhub_identity *id)
{
	journey_problem p;
	if (!id->subject || !*id->subject) {
		metrics_journey_failed(j->idp, j->client_id, MX_FAIL_INVALID);
		p = JP_REFUSED;
	} else if (!fresh_enough(h, j, id)) {
		metrics_journey_failed(j->idp, j->client_id, MX_FAIL_INVALID);
		p = JP_STALE;
	} else if (id->loa < j->required_loa) {
		log_info("journey: %s asserted level %d, %d required", idp->conf->id, id->loa,
		         j->required_loa);
		metrics_journey_failed(j->idp, j->client_id, MX_FAIL_LOA);
		p = JP_LOA;
	} else {
		return 0;
	}
	journey_problem_page(h, r, resp, p, j, 1, NULL);
	return -1;
}

int journey_callback(hub *h, http_req *r, http_resp *resp, const char *idp_id, journey_outcome *out)
{
	memset(out, 0, sizeof *out);
	const hub_idp *idp = hub_find_idp(h, idp_id);
	if (!idp || !idp->ops) {
		journey_error_page(r, resp, 404, T("error.not_found.heading"),
		                   T("error.not_found.message"), NULL);
		return 0;
	}
	if (r->query_error || r->body_error) {
		journey_error_page(r, resp, r->body_error == HTTP_BODY_TOO_LARGE ? 413 : 400,
		                   T("callback.unreadable.heading"),
		                   T("callback.unreadable.message"), NULL);
		return 0;
	}
	const char *resume = NULL;
	if (strcmp(r->method, "GET") == 0 && form_get(&r->query, "resume", NULL) &&
	    !(resume = resume_post(h, r))) {
		/* used already, expired, or never ours */
		journey gone = {.gone = JOURNEY_GONE_FINISHED};
		journey_gone_page(h, r, resp, &gone);
		return 0;
	}
	journey *j = &out->j;
	if (callback_journey(h, r, resp, idp, j, resume))
		return 0;
	metrics_journey_step(j->idp, j->client_id, MX_STEP_IDP_RETURNED);
	if (finish(h, r, resp, idp, j, resume != NULL, &out->id) ||
	    acceptable(h, r, resp, idp, j, &out->id))
		return 0;
	/* the outcome: the pairwise sub for the service's sector, and the level the IdP may assert
	 */
	const service_conf *svc = hub_service(h, r->a, j->client_id);
	if (!svc || pairwise_sub(&h->pw, h->st, svc->sector, idp->conf->id, out->id.subject,
	                         hub_now(h), out->sub)) {
		log_err("journey: cannot record the pairwise subject");
		journey_error_page(r, resp, 503, T("error.unavailable.heading"),
		                   T("error.unavailable.message"), NULL);
		return 0;
	}
	out->idp = idp;
	out->loa = out->id.loa < idp->conf->max_loa ? out->id.loa : idp->conf->max_loa;
	return 1;
}
