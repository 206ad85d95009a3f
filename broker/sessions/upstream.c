/* upstream.c — logout at the upstream IdP (see upstream.h): after the hub session has ended in
 * the citizen's browser, the IdP adapter's logout hook (idhub/adapter.h) sends the browser to the
 * IdP, which sends it back to /logout/upstream; the hub then finishes its own logout (the
 * service's post-logout redirect, or its signed-out page). What the hook needs was captured at
 * login in the session's vault, which opens only with the citizen's cookie: so this runs only in
 * the citizen's own request, never from a back-channel or an expiry. */
#include "upstream.h"
#include "session.h"
#include "../pages/catalog.h"
#include "../pages/pages.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define RETURN_TTL 600  /* seconds the citizen may spend at the IdP's logout */
#define RETURN_MAX 4096 /* longest return token accepted */
static const char ret_label[] = "idhub upstream logout return v1";

static void ret_mac(const hub *h, const char *text, size_t n, unsigned char mac[32])
{
	unsigned char msg[RETURN_MAX + sizeof ret_label];
	unsigned int ml = 32;
	memcpy(msg, ret_label, sizeof ret_label); /* the label and its NUL separate */
	memcpy(msg + sizeof ret_label, text, n);
	HMAC(EVP_sha256(), h->seal_key, sizeof h->seal_key, msg, sizeof ret_label + n, mac, &ml);
}

/* The return token: where to finish (a URL the hub already checked, or "" for its own page) and
 * until when, MAC'd under the hub's sealing secret, so the IdP round trip cannot turn the hub into
 * an open redirector. */
static const char *ret_seal(hub *h, arena *a, const char *done)
{
	json_t *o = json_pack("{s:s, s:I}", "u", done ? done : "", "x",
	                      (json_int_t)(hub_now(h) + RETURN_TTL));
	char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	size_t n = js ? strlen(js) : 0;
	if (!js || b64url_enc_len(n) + 45 > RETURN_MAX) {
		free(js);
		return NULL;
	}
	unsigned char mac[32];
	ret_mac(h, js, n, mac);
	char *out = arena_alloc(a, b64url_enc_len(n) + b64url_enc_len(32) + 2);
	size_t l = b64url_encode(out, js, n);
	out[l] = '.';
	b64url_encode(out + l + 1, mac, 32);
	free(js);
	return out;
}

/* The checked destination of a return token ("" for the hub's page), or NULL. */
static const char *ret_open(hub *h, arena *a, const char *tok)
{
	const char *dot = tok && strlen(tok) <= RETURN_MAX ? strchr(tok, '.') : NULL;
	if (!dot || strlen(dot + 1) != 43) /* base64url of the 32-byte MAC */
		return NULL;
	char *text = arena_alloc(a, RETURN_MAX);
	unsigned char mac[40], want[32];
	long n = b64url_decode(text, tok, (size_t)(dot - tok));
	long m = b64url_decode(mac, dot + 1, strlen(dot + 1));
	if (n <= 0 || m != 32 || memchr(text, 0, (size_t)n))
		return NULL;
	ret_mac(h, text, (size_t)n, want);
	if (CRYPTO_memcmp(want, mac, 32) != 0)
		return NULL;
	json_t *o = json_loadb(text, (size_t)n, 0, NULL);
	const char *u = json_string_value(json_object_get(o, "u"));
	json_int_t x = json_integer_value(json_object_get(o, "x"));
	const char *out = u && x >= hub_now(h) ? arena_strdup(a, u) : NULL;
	json_decref(o);
	return out;
}

int session_upstream_logout(hub *h, http_req *r, http_resp *resp, const session *s,
                            const char *done)
{
	const hub_idp *idp = hub_find_idp(h, s->idp);
	int (*hook)(void *, idhub_arena *, const idhub_logout_request *, idhub_start_result *,
	            idhub_error *) = idp && idp->ops ? IDHUB_ADAPTER_LOGOUT(idp->ops) : NULL;
	idhub_identity id;
	if (!hook || session_identity(h, r->a, s, &id) || !id.logout_state)
		return 0;
	const char *tok = ret_seal(h, r->a, done);
	idhub_logout_request lr = {.logout_state = id.logout_state,
	                           .return_url =
	                               arena_printf(r->a, "%s/logout/upstream", h->cfg->issuer),
	                           .return_param = "state",
	                           .return_value = tok};
	idhub_start_result out = {0};
	idhub_error err = {0};
	int rc = tok ? hook(idp->ctx, (idhub_arena *)r->a, &lr, &out, &err) : -1;
	if (rc < 0)
		log_warn("session: upstream logout at %s failed: %s", s->idp,
		         tok ? err.message : "no return token");
	if (rc != 0 || !out.url)
		return 0;
	if (out.kind == IDHUB_START_POST_FORM)
		http_html(resp, 200,
		          page_autopost(r->a, out.url, out.fields, out.nfields, "Continue",
		                        "Select Continue to sign out at the identity provider."));
	else
		http_redirect(resp, out.url);
	log_info("session: upstream logout at %s begun", s->idp);
	return 1;
}

void session_signed_out_page(http_req *r, http_resp *resp)
{
	http_html(
	    resp, 200,
	    page_render(r->a, T("signed_out.heading"),
	                arena_printf(r->a, "<h1>%s</h1>\n<p>%s %s</p>\n", T("signed_out.heading"),
	                             T("signed_out.message"), T("signed_out.close"))));
}

void session_upstream_return(hub *h, http_req *r, http_resp *resp)
{
	int n = 0;
	const char *tok = r->query_error ? NULL : form_get(&r->query, "state", &n);
	const char *done = n == 1 ? ret_open(h, r->a, tok) : NULL;
	if (!done) {
		/* a stale or forged return: the hub session is over anyway; no redirect */
		log_info("session: upstream logout return without a valid state");
		session_signed_out_page(r, resp);
		return;
	}
	log_info("session: upstream logout done");
	if (*done)
		http_redirect(resp, done);
	else
		session_signed_out_page(r, resp);
}
