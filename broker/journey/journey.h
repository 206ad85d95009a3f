/* journey.h — the login journey (one per /authorize) and its binding to the browser.
 *
 * The first leg keeps no server state: /authorize seals the validated request (AES-256-GCM under a
 * hub secret, with its creation time) into the journey token that travels in the picker's URL
 * (/login/<token>), so a flood of /authorize requests cannot fill the store. When the citizen picks
 * an IdP, the journey is stored in NS_JOURNEY under SHA-256 of the token (its key), and from then
 * on the stored record wins over the token; pages then link to /login/<key>. When the code is
 * issued (or the citizen cancels) the journey is spent until the token would have expired, so one
 * authorization request yields at most one code. Spending is a compare-and-swap: the first writer
 * of the journey's spent claim (store_put_new in NS_REPLAY, in the same transaction as the code)
 * wins, so a re-pick or a cancel racing a slow callback can never yield two codes, or a code after
 * a cancel. After an unclean start a sealed token created before it is refused: the spent claim it
 * may have had was in the volatile store that was discarded.
 *
 * Binding: the browser carries one random cookie, idhub_browser (HttpOnly, SameSite=Lax; on an
 * https issuer __Host-idhub_browser, Secure, Path=/ and no Domain, so no sibling host can set it),
 * reused across journeys so several tabs work; each journey holds SHA-256 of it and every step
 * compares in constant time. Neither the token nor the upstream request id is enough without the
 * cookie.
 */
#ifndef IDHUB_JOURNEY_H
#define IDHUB_JOURNEY_H
#include "../hub/hub.h"
#include "../http/http.h"
#include <stdint.h>

#define JOURNEY_COOKIE "idhub_browser"
#define JOURNEY_COOKIE_HOST "__Host-idhub_browser" /* its name on an https issuer */
/* The longest state or nonce a service may send: both travel sealed in the picker's URL. */
#define JOURNEY_MAX_PARAM 1024

typedef struct journey {
	const char *token; /* in URLs: the sealed request, or the key once the journey is stored */
	char key[44];      /* base64url SHA-256 of the token: the store key */
	const char *client_id, *redirect_uri, *state, *nonce, *code_challenge, *scope;
	const char *login_hint;
	const char *claims; /* the reduced claims request parameter (claims/claims.h), or NULL */
	int required_loa;
	int force_login; /* prompt=login */
	int has_max_age; /* max_age was sent... */
	int64_t max_age; /* ...with this value (seconds) */
	char bh[44];     /* base64url SHA-256 of the browser cookie */
	char csrf[44];   /* CSRF token of the journey's forms */
	int64_t created;
	const char *run; /* the run_id of the hub that sealed it */
	/* set when the citizen picks an IdP */
	const char *idp, *request_id, *upstream_nonce, *upstream_verifier;
	int64_t upstream_started;
	/* why journey_load found nothing (client_id, redirect_uri and state are then set when the
	 * request is still known: an expired token, or a finished journey's marker) */
	int gone;
	int lang; /* the language at /authorize (ui_locales first: pages_pick_lang), or -1 */
} journey;

enum { JOURNEY_GONE_INVALID = 0, JOURNEY_GONE_EXPIRED = 1, JOURNEY_GONE_FINISHED = 2 };

/* Loads (creating on a first start) the hub secret that seals journey tokens. 0 or -1 + *err. */
int journey_init_secret(hub *h, char **err);
/* Fills j's CSRF token and creation time and seals it into j->token (arena). No store write. */
int journey_create(hub *h, arena *a, journey *j);
/* Stores j under its key and maps its upstream request id (NS_USTATE) to that key, in one
 * transaction, until the journey expires. STORE_BUSY (nothing written) when the store is at its
 * high-water mark and this is a new record. */
int journey_save_upstream(hub *h, const journey *j);
/* The journey of a token or key: the stored record if the citizen has picked an IdP, else the
 * unsealed token. STORE_NOTFOUND when forged, expired or spent. */
int journey_load(hub *h, arena *a, const char *token, journey *j);
/* The stored journey under key (from NS_USTATE). STORE_NOTFOUND when absent or spent. */
int journey_load_key(hub *h, arena *a, const char *key, journey *j);
/* Adds to b the marking of j as spent (no second code, no reuse of its token). The batch fails
 * with STORE_EXISTS when j was already spent (by a code, or a cancel): the compare-and-swap. */
void journey_spend(hub *h, store_batch *b, const journey *j);
/* The idhub_login_request fields the service's request decides (prompt=login, max_age,
 * login_hint). */
void journey_login_flags(const journey *j, idhub_login_request *lr);
/* lr->claims: the claims the journey's service is allowed and asked for (claims_wanted). */
void journey_login_claims(const hub *h, arena *a, const journey *j, idhub_login_request *lr);

/* The name of the browser cookie: __Host-idhub_browser on an https issuer, else idhub_browser. */
const char *journey_cookie_name(const hub *h);
/* The browser cookie's value; when absent and create is set, makes one and adds Set-Cookie to resp.
 * Returns NULL when absent (and not created). */
const char *journey_browser(hub *h, http_req *r, http_resp *resp, int create);
/* Fills bh with the binding hash of a browser cookie value. */
void journey_binding_hash(const char *cookie, char bh[44]);
/* 1 when the request's browser cookie is the one j was bound to (constant-time), else 0. */
int journey_bound(const hub *h, const journey *j, const http_req *r);
/* Constant-time comparison of two NUL-terminated tokens. */
int journey_token_eq(const char *a, const char *b);

#endif
