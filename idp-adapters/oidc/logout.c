/* logout.c — upstream logout for the OIDC adapter: RP-Initiated Logout 1.0 at the IdP's
 * end_session_endpoint, front-channel. At login (finish) the adapter keeps, through the hub's
 * sealed session vault, the IdP's end_session_endpoint and the ID token it was given; at the hub's
 * logout the citizen's browser is sent there with id_token_hint, client_id,
 * post_logout_redirect_uri (the hub's return URL, which must be registered at the IdP) and state.
 *
 * Why front-channel: the IdP's session is a cookie in the citizen's browser, and the ID token
 * (which names the citizen) may be kept only in the vault, which opens only with the citizen's
 * own hub cookie, i.e. during a request from that browser. Back-channel would need the ID token
 * readable without the citizen, and most IdPs do not offer a back-channel logout to their RPs. */
#include "oidc_int.h"

#define LOGOUT_STATE_MAX 20480 /* the ID token and the endpoint */

const char *oidc_logout_state(oidc_ctx *c, idhub_arena *a, const oidc_disco *d, const char *idt)
{
	if (!c->v[S_UPSTREAM_LOGOUT].num || !d || !d->end_session_endpoint || !idt)
		return NULL;
	idhub_kv st[] = {{"e", d->end_session_endpoint}, {"t", idt}};
	return c->svc->record(a, st, 2, LOGOUT_STATE_MAX);
}

int oidc_logout(void *ctx, idhub_arena *a, const idhub_logout_request *req, idhub_start_result *out,
                idhub_error *err)
{
	oidc_ctx *c = ctx;
	const idhub_services *svc = c->svc;
	const char *ep = svc->record_get(a, req->logout_state, "e");
	const char *idt = svc->record_get(a, req->logout_state, "t");
	if (!ep || !idt)
		return idhub_fail(err, IDHUB_ERR_INTERNAL, "no upstream logout state");
	/* the endpoint was checked by discovery at login (https, or loopback http) */
	char *u = svc->url_param(a, ep, "id_token_hint", idt);
	u = svc->url_param(a, u, "client_id", c->v[S_CLIENT_ID].str);
	u = svc->url_param(a, u, "post_logout_redirect_uri", req->return_url);
	u = svc->url_param(a, u, req->return_param, req->return_value);
	out->kind = IDHUB_START_REDIRECT;
	out->url = u;
	svc->log(svc->inst, 6, "upstream logout: sending the browser to the IdP's end_session");
	return 0;
}
