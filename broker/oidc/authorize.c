/* authorize.c — the authorization endpoint: validates an authentication request (RFC 6749 §4.1,
 * OIDC Core §3.1.2, PKCE RFC 7636) and starts a journey. Until client_id and redirect_uri are
 * trusted, every error is a page; after that, an OAuth error redirect with state and iss. */
#include "authorize.h"
#include "../claims/claims.h"
#include "respond.h"
#include "sso.h"
#include "../journey/eligibility.h"
#include "../journey/journey.h"
#include "../pages/catalog.h"
#include "../util/form.h"
#include "../util/buf.h"
#include "../util/log.h"
#include "../metrics/metrics.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const single_params[] = {
    "response_type", "client_id",  "redirect_uri",   "scope",
    "state",         "nonce",      "code_challenge", "code_challenge_method",
    "acr_values",    "prompt",     "max_age",        "login_hint",
    "response_mode", "ui_locales", "claims",         "request",
    "request_uri",   "display",    "id_token_hint",  NULL};

static int is_b64url_of_len(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* The scopes granted: the requested ones the service allows (unknown ones are dropped, as RFC 6749
 * §3.3 permits), "openid" first. NULL when openid is missing. */
static const char *granted_scope(arena *a, const service_conf *svc, const char *scope)
{
	if (!form_has_word(scope, "openid"))
		return NULL;
	buf b;
	buf_init(&b, a);
	buf_puts(&b, "openid");
	static const char *const known[] = {"profile", "email", "address", "phone", NULL};
	for (int i = 0; known[i]; i++)
		if (form_has_word(scope, known[i]) && service_allows_scope(svc, known[i]))
			buf_printf(&b, " %s", known[i]);
	/* a refresh token that outlives the hub session: only where the service may have one */
	if (form_has_word(scope, "offline_access") && svc->offline_access)
		buf_puts(&b, " offline_access");
	return buf_str(&b);
}

/* The service's policy (README "Certification"): state, nonce and PKCE are required unless the
 * service relaxes them; an empty value counts as absent. A code_challenge that is sent is always
 * checked and bound to the code, so that code is redeemed only with its verifier (RFC 7636 §4.6);
 * a method other than S256 is refused, never downgraded to "no PKCE" (RFC 9700 §2.1.1). Returns
 * NULL, or the invalid_request description (*echo_state 0: do not send state back). */
static const char *policy_error(const service_conf *svc, const char **state, const char **nonce,
                                const char *cc, const char *ccm, int *echo_state)
{
	if (*state && !**state)
		*state = NULL;
	if (*nonce && !**nonce)
		*nonce = NULL;
	*echo_state = 0;
	if (!*state && svc->require_state)
		return "state is required";
	if ((*state && strlen(*state) > JOURNEY_MAX_PARAM) ||
	    (*nonce && strlen(*nonce) > JOURNEY_MAX_PARAM))
		/* both travel sealed in the picker's URL, which has a length limit */
		return "state and nonce may be at most 1024 characters";
	*echo_state = 1;
	if (!*nonce && svc->require_nonce)
		return "nonce is required";
	if ((cc || ccm || svc->require_pkce) && (!cc || !ccm || strcmp(ccm, "S256") != 0))
		return "PKCE with code_challenge_method=S256 is required";
	if (cc && !is_b64url_of_len(cc, 43, 43))
		return "code_challenge must be the base64url SHA-256 of the verifier";
	return NULL;
}

/* The level required: the service's minimum, raised to the lowest known level the request asks
 * for. Returns -1 when acr_values names no level the hub knows. */
static int required_loa(const hub *h, const service_conf *svc, const char *acr_values)
{
	int req = 0;
	if (acr_values && *acr_values) {
		char *copy = strdup(acr_values), *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
			int l = config_loa_level(h->cfg, t);
			if (l > 0 && (req == 0 || l < req))
				req = l;
		}
		free(copy);
		if (req == 0)
			return -1;
	}
	return req > svc->min_loa ? req : svc->min_loa;
}

/* max_age (OIDC Core §3.1.2.1): 1 and *out when present, 0 when absent, -1 when malformed. The
 * journey passes it (and prompt=login) to the IdP and the callback checks the upstream
 * authentication time against it. */
static int max_age_param(const form *p, int64_t *out)
{
	const char *max_age = form_param(p, "max_age", NULL);
	*out = 0;
	if (!max_age)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(max_age, &end, 10);
	if (!*max_age || *end || v < 0 || errno)
		return -1;
	*out = v;
	return 1;
}

/* The request's parameters: the query of a GET (or HEAD), the body of a POST. NULL after answering
 * resp (unreadable, or another method). */
static const form *request_form(http_req *r, http_resp *resp)
{
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) {
		if (!r->query_error)
			return &r->query;
		oidc_error_page(r, resp, 400, T("authorize.bad_link.heading"),
		                T("authorize.bad_link.message"), NULL);
	} else if (strcmp(r->method, "POST") == 0) {
		if (!r->body_error)
			return &r->body;
		oidc_error_page(r, resp, r->body_error == HTTP_BODY_TOO_LARGE ? 413 : 400,
		                T("authorize.bad_request.heading"), T("common.malformed"), NULL);
	} else {
		http_text(resp, 405, "method not allowed\n");
		http_add_header(resp, "Allow", "GET, POST");
	}
	return NULL;
}

/* Step 1, client_id and redirect_uri: until both are trusted, never redirect anywhere. The
 * service, with *redirect_uri, or NULL after answering resp with a page. */
static const service_conf *trusted_service(hub *h, http_req *r, http_resp *resp, const form *p,
                                           const char **redirect_uri)
{
	int n_cid, n_ruri;
	const char *client_id = form_param(p, "client_id", &n_cid);
	*redirect_uri = form_param(p, "redirect_uri", &n_ruri);
	const service_conf *svc = n_cid == 1 ? hub_service(h, r->a, client_id) : NULL;
	if (!svc) {
		oidc_error_page(
		    r, resp, 400, T("authorize.unknown_service.heading"),
		    T(n_cid > 1 ? "authorize.repeated_service" : "authorize.unregistered"), NULL);
		return NULL;
	}
	int uri_ok = 0;
	if (n_ruri == 1)
		for (size_t i = 0; i < svc->nredirect_uris; i++)
			/* exact string match: no prefix, case or normalisation games (OAuth 2.1) */
			if (strcmp(svc->redirect_uris[i], *redirect_uri) == 0)
				uri_ok = 1;
	if (!uri_ok) {
		log_info("authorize: client %s: redirect_uri not registered", svc->client_id);
		oidc_error_page(r, resp, 400, T("authorize.unknown_service.heading"),
		                T("authorize.bad_return"), NULL);
		return NULL;
	}
	return svc;
}

/* An OAuth error for the service: its code and description. */
typedef struct authz_error {
	const char *error, *description;
} authz_error;

static int refuse(authz_error *e, const char *error, const char *description)
{
	e->error = error;
	e->description = description;
	return -1;
}

/* Step 2a, the protocol: no repeated parameter, no request object, response_type=code in query
 * mode. 0, or -1 with *e. */
static int check_protocol(arena *a, const form *p, authz_error *e)
{
	for (int i = 0; single_params[i]; i++) {
		int c;
		form_param(p, single_params[i], &c);
		if (c > 1)
			return refuse(
			    e, "invalid_request",
			    arena_printf(a, "parameter %s is repeated", single_params[i]));
	}
	if (form_param(p, "request", NULL))
		return refuse(e, "request_not_supported", "request objects are not supported");
	if (form_param(p, "request_uri", NULL))
		return refuse(e, "request_uri_not_supported", "request_uri is not supported");
	const char *response_type = form_param(p, "response_type", NULL);
	if (!response_type)
		return refuse(e, "invalid_request", "response_type is required");
	if (strcmp(response_type, "code") != 0)
		return refuse(e, "unsupported_response_type",
		              "only response_type=code is supported");
	const char *mode = form_param(p, "response_mode", NULL);
	if (mode && strcmp(mode, "query") != 0)
		return refuse(e, "invalid_request", "only response_mode=query is supported");
	return 0;
}

/* Step 2b, the request for service svc into j (client, redirect_uri and state already set; the
 * service's policy may drop state, then the error goes without it). 0, or -1 with *e. */
static int read_request(hub *h, arena *a, const service_conf *svc, const form *p, journey *j,
                        authz_error *e)
{
	j->scope = granted_scope(a, svc, form_param(p, "scope", NULL));
	if (!j->scope)
		return refuse(e, "invalid_scope", "scope must include openid");
	j->nonce = form_param(p, "nonce", NULL);
	j->code_challenge = form_param(p, "code_challenge", NULL);
	int echo_state = 1;
	const char *bad = policy_error(svc, &j->state, &j->nonce, j->code_challenge,
	                               form_param(p, "code_challenge_method", NULL), &echo_state);
	if (bad) {
		if (!echo_state)
			j->state = NULL;
		return refuse(e, "invalid_request", bad);
	}
	const char *claims_why;
	j->claims = claims_request_parse(a, form_param(p, "claims", NULL), &claims_why);
	if (claims_why)
		return refuse(e, "invalid_request", claims_why);
	j->has_max_age = max_age_param(p, &j->max_age);
	if (j->has_max_age < 0)
		return refuse(e, "invalid_request", "max_age must be a non-negative integer");
	j->required_loa = required_loa(h, svc, form_param(p, "acr_values", NULL));
	if (j->required_loa < 0)
		return refuse(e, "invalid_request",
		              "acr_values names no supported level of assurance");
	if (idp_eligible_count(h, svc, j->required_loa) == 0)
		return refuse(e, "unmet_authentication_requirements",
		              "no identity provider can reach the requested level of assurance");
	j->login_hint = form_param(p, "login_hint", NULL);
	j->force_login = form_has_word(form_param(p, "prompt", NULL), "login");
	return 0;
}

void oidc_authorize(hub *h, http_req *r, http_resp *resp)
{
	const form *p = request_form(r, resp);
	const char *redirect_uri;
	const service_conf *svc = p ? trusted_service(h, r, resp, p, &redirect_uri) : NULL;
	if (!svc)
		return;
	/* 2. from here on, errors go back to the service */
	int n_state;
	journey j = {.client_id = svc->client_id,
	             .redirect_uri = redirect_uri,
	             .state = form_param(p, "state", &n_state)};
	if (n_state != 1)
		j.state = NULL;
	authz_error e;
	if (check_protocol(r->a, p, &e) || read_request(h, r->a, svc, p, &j, &e)) {
		oidc_redirect_error(h, r, resp, redirect_uri, e.error, e.description, j.state);
		return;
	}
	/* 3. start the journey, bound to this browser */
	const char *browser = journey_browser(h, r, resp, 1);
	if (!browser) {
		oidc_redirect_error(h, r, resp, redirect_uri, "server_error",
		                    "random source failed", j.state);
		return;
	}
	journey_binding_hash(browser, j.bh);
	/* single sign-on, prompt=none and id_token_hint (sso.c): answered from the hub session */
	if (oidc_sso(h, r, resp, svc, &j, form_param(p, "prompt", NULL),
	             form_param(p, "id_token_hint", NULL)))
		return;
	if (journey_create(h, r->a, &j)) {
		oidc_redirect_error(h, r, resp, redirect_uri, "server_error",
		                    "the hub cannot start the sign-in now", j.state);
		return;
	}
	metrics_journey_step(NULL, svc->client_id, MX_STEP_STARTED);
	http_redirect(resp, arena_printf(r->a, "%s/login/%s", h->cfg->issuer, j.token));
}
