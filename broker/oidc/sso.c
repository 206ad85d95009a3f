/* sso.c — single sign-on (see sso.h). The rules, in order:
 *  - an id_token_hint that is not an ID token the hub issued: login_required (it cannot name the
 *    citizen of any session); one that is, but names another citizen than the live session's for
 *    this service (another sub, or not issued to this service): login_required, never a code for
 *    the session's citizen;
 *  - prompt=login forces the journey (the IdP is told; journey_login_flags);
 *  - a live session whose upstream sign-in is recent enough for max_age and whose level meets
 *    the request's: the code, at once, with the service's own pairwise sub and sid;
 *  - otherwise the journey: the picker offers only IdPs that reach the level (step-up), and with
 *    prompt=none the service gets login_required (no session, or too old for max_age) or
 *    interaction_required (a session at too low a level: the citizen must choose another way to
 *    prove their identity). */
#include "sso.h"
#include "hint.h"
#include "respond.h"
#include "complete.h"
#include "../journey/eligibility.h"
#include "../sessions/session.h"
#include "../util/form.h"
#include "../util/log.h"
#include <string.h>

static int answer(hub *h, http_req *r, http_resp *resp, const journey *j, const char *error,
                  const char *why)
{
	log_info("authorize: %s: %s (%s)", j->client_id, error, why);
	oidc_redirect_error(h, r, resp, j->redirect_uri, error, why, j->state);
	return 1;
}

/* 0 when the hint (if any) names the session's citizen for this service, else why not. */
static const char *hint_mismatch(hub *h, http_req *r, const journey *j, const char *hint_tok,
                                 const char *sub)
{
	id_hint hint;
	if (!hint_tok)
		return NULL;
	if (oidc_id_hint(h, r->a, hint_tok, &hint))
		return "id_token_hint is not an ID token issued by the hub";
	if (!oidc_id_hint_for(&hint, j->client_id))
		return "id_token_hint was issued to another service";
	if (!sub)
		return "no sign-in session for the citizen of id_token_hint";
	if (strcmp(hint.sub, sub) != 0)
		return "id_token_hint names another citizen than the signed-in one";
	return NULL;
}

/* The service's pairwise sub for the session's citizen (recorded on first sight), into sub. */
static int session_sub(hub *h, const service_conf *svc, const session *s, const idhub_identity *id,
                       char sub[44])
{
	return pairwise_sub(&h->pw, h->st, svc->sector, s->idp, id->subject, hub_now(h), sub);
}

int oidc_sso(hub *h, http_req *r, http_resp *resp, const service_conf *svc, const journey *j,
             const char *prompt, const char *id_token_hint)
{
	int none = form_has_word(prompt, "none");
	if (none && (form_has_word(prompt, "login") || form_has_word(prompt, "consent") ||
	             form_has_word(prompt, "select_account")))
		return answer(h, r, resp, j, "invalid_request",
		              "prompt=none may not be combined with other values");
	session s;
	idhub_identity id;
	char sub[44];
	int live = session_load(h, r, &s) == 0 && session_identity(h, r->a, &s, &id) == 0;
	/* the sub is derived (and, in a new sector, recorded) only when it is needed: to check a
	 * hint, or to issue the code */
	int have_sub = 0;
	if (live && id_token_hint)
		have_sub = session_sub(h, svc, &s, &id, sub) == 0;
	const char *why = hint_mismatch(h, r, j, id_token_hint, have_sub ? sub : NULL);
	if (why && (live || none || strncmp(why, "no sign-in", 10) != 0))
		return answer(h, r, resp, j, "login_required", why);
	if (j->force_login)
		return 0;
	if (!live)
		return none ? answer(h, r, resp, j, "login_required", "no sign-in session") : 0;
	if (j->has_max_age && hub_now(h) - s.auth_time > j->max_age)
		return none ? answer(h, r, resp, j, "login_required",
		                     "the sign-in is older than max_age")
		            : 0;
	const hub_idp *idp = hub_find_idp(h, s.idp);
	/* the session's IdP must still be one this service accepts and the operator offers */
	if (s.loa < j->required_loa || !idp || !idp_eligible(h, idp, svc, 0))
		return none ? answer(h, r, resp, j, "interaction_required",
		                     "a higher level of assurance needs the citizen")
		            : 0;
	if (!have_sub && session_sub(h, svc, &s, &id, sub) != 0)
		return answer(h, r, resp, j, "temporarily_unavailable",
		              "the hub cannot sign in now");
	oidc_complete_sso(h, r, resp, j, &s, &id, sub);
	return 1;
}
