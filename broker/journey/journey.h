/* journey.h — the login journey record (one per /authorize), stored in NS_JOURNEY until the code is
 * issued or it expires, and its binding to the browser.
 *
 * Binding: the browser carries one random cookie, idhub_browser (HttpOnly, SameSite=Lax, Secure on
 * https), reused across journeys so several tabs work; each journey stores SHA-256 of it and every
 * step compares in constant time. The journey id travels in URLs (/login/<id>), the upstream
 * request id in state/RelayState; neither is enough without the cookie.
 */
#ifndef IDHUB_JOURNEY_H
#define IDHUB_JOURNEY_H
#include "../hub.h"
#include "../http/http.h"
#include <stdint.h>

#define JOURNEY_COOKIE "idhub_browser"

typedef struct journey {
	char id[44];
	const char *client_id, *redirect_uri, *state, *nonce, *code_challenge, *scope;
	const char *login_hint;
	int required_loa;
	char bh[44];   /* base64url SHA-256 of the browser cookie */
	char csrf[44]; /* CSRF token of the journey's forms */
	int64_t created;
	/* set when the citizen picks an IdP */
	const char *idp, *request_id, *upstream_nonce, *upstream_verifier;
	int64_t upstream_started;
} journey;

/* Creates a journey id and CSRF token and stores j (TTL hub.journey_ttl from j->created). */
int journey_create(hub *h, arena *a, journey *j);
/* Rewrites j and maps its upstream request id (NS_USTATE) to it, in one transaction. */
int journey_save_upstream(hub *h, const journey *j);
/* Loads a live journey; STORE_NOTFOUND when unknown or expired. */
int journey_load(hub *h, arena *a, const char *id, journey *j);
int journey_delete(hub *h, const char *id);

/* The browser cookie's value; when absent and create is set, makes one and adds Set-Cookie to resp.
 * Returns NULL when absent (and not created). */
const char *journey_browser(hub *h, http_req *r, http_resp *resp, int create);
/* Fills bh with the binding hash of a browser cookie value. */
void journey_binding_hash(const char *cookie, char bh[44]);
/* 1 when the request's browser cookie is the one j was bound to (constant-time), else 0. */
int journey_bound(const journey *j, const http_req *r);
/* Constant-time comparison of two NUL-terminated tokens. */
int journey_token_eq(const char *a, const char *b);

#endif
