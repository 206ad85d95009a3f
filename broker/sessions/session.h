/* session.h — the hub session: what lets a citizen who signed in once use a second service without
 * signing in again (single sign-on), and what logout ends.
 *
 * The browser holds one random cookie, idhub_session (HttpOnly, SameSite=Lax; on an https issuer
 * __Host-idhub_session, Secure, Path=/, no Domain). The store holds the record in NS_SESSION under
 * base64url SHA-256 of the cookie, so a copy of the store names no usable cookie. NS_SESSION is in
 * the volatile class: it survives a clean restart (the volatile environment is kept then), and is
 * lost only after an unclean start, which signs everybody out: acceptable, and safer than keeping
 * sessions whose refresh tokens or logouts may have been lost with them.
 *
 * The record holds: the IdP, the level reached, the upstream auth_time, the upstream assertion id
 * (logs and audit), the creation and last-use times, a CSRF token for
 * the sign-out form, the services signed in (client_id -> sid and pairwise sub, for back-channel
 * logout), and the vault.
 *
 * The vault. A second service in another sector needs its own pairwise sub, which is a keyed hash
 * of the upstream subject, and its own release of claims. The pairwise lookup key cannot serve: it
 * is itself per sector. So the session keeps what the login's journey already held at its end (the
 * upstream subject and the attributes the IdP asserted, and what the IdP adapter's upstream logout
 * needs: identity.logout_state, see upstream.h), sealed with AES-256-GCM under a key
 * derived from the hub's sealing secret AND the cookie value: HMAC-SHA256(secret, "idhub session
 * vault v1" || cookie). The store keeps only SHA-256 of the cookie, so the store (even with the
 * hub's secrets) cannot open a vault; only a request carrying the citizen's own cookie can. When
 * the session ends, the record (and with it the vault) is deleted.
 *
 * Lifetimes: the record expires at min(last use + hub.session_idle_ttl, created +
 * hub.session_max_ttl); every single sign-on moves the idle limit. A new sign-in always rotates the
 * cookie (no session fixation); the services of the previous session are kept when it was the same
 * citizen through the same IdP, and the previous session is ended (logouts sent) otherwise.
 */
#ifndef IDHUB_SESSION_H
#define IDHUB_SESSION_H
#include "../hub/hub.h"
#include "../http/http.h"
#include <idhub/adapter.h>
#include <stdint.h>

#define SESSION_COOKIE "idhub_session"
#define SESSION_COOKIE_HOST "__Host-idhub_session" /* its name on an https issuer */
#define SESSION_MAX_SERVICES 64 /* services one session may hold (bounds the record) */

typedef struct session_service {
	const char *client_id, *sid, *sub;
} session_service;

typedef struct session {
	char key[44];       /* base64url SHA-256 of the cookie: the store key */
	const char *cookie; /* the cookie value, when the session came from a request */
	const char *idp;
	int loa;
	int64_t auth_time, created, last_used;
	const char *upstream_id; /* the upstream assertion / token id (upstream logout) */
	const char *vault;       /* the sealed identity (see above) */
	char csrf[44];           /* CSRF token of the sign-out form */
	session_service *svcs;
	size_t nsvcs;
} session;

/* The cookie's name: __Host-idhub_session on an https issuer, else idhub_session. */
const char *session_cookie_name(const hub *h);

/* The live session of the request's cookie (arena). 0, STORE_NOTFOUND when there is none (no
 * cookie, unknown, idle or past its absolute lifetime, or from before an unclean start), or
 * STORE_ERR. */
int session_load(hub *h, http_req *r, session *s);
/* The session under a store key (no cookie: its vault cannot be opened). Same returns. */
int session_load_key(hub *h, arena *a, const char *key, session *s);

/* The identity sealed in s's vault (strings on a), with s's level and upstream auth_time. 0 or -1
 * (no cookie, or not this session's vault). */
int session_identity(hub *h, arena *a, const session *s, idhub_identity *id);

/* After a successful upstream login: a fresh session for identity id (level loa) through IdP idp,
 * with a new cookie set on resp, into *s. The request's previous session, if any, is carried over
 * (its services kept) when it was the same subject at the same IdP, and is returned in *ended
 * (ended->key[0] set) otherwise, for the caller to end after the login commits. Nothing is written:
 * the caller adds session_batch_save(…, s) to its transaction. 0 or -1. */
int session_begin(hub *h, http_req *r, http_resp *resp, const char *idp, const idhub_identity *id,
                  int loa, session *s, session *ended);

/* The sid of client_id in s, adding it (with the service's pairwise sub) when the service is new
 * to the session. NULL when the session holds too many services. */
const char *session_service_sid(hub *h, arena *a, session *s, const char *client_id,
                                const char *sub);
/* The service entry of client_id in s, or NULL. */
const session_service *session_find_service(const session *s, const char *client_id);

/* Adds the writing of s (last use = now) to b, which must hold only volatile namespaces: for a
 * session just begun (no other request can know its cookie yet). */
void session_batch_save(hub *h, store_batch *b, session *s);
/* Writes a live session s (last use = now) over its record, keeping any service another request
 * added meanwhile (two services signed in at once from two tabs: both keep their sid, so both get
 * their back-channel logout). STORE_NOTFOUND when the session ended meanwhile (nothing written),
 * else 0 or STORE_ERR. */
int session_save(hub *h, arena *a, session *s);

/* Ends the session under key: deletes the record, revokes its services' refresh tokens and queues
 * a back-channel logout to each service that registered one. 0, STORE_NOTFOUND, or STORE_ERR. */
int session_end(hub *h, arena *a, const char *key, const char *why);
/* Adds to resp the Set-Cookie that removes the session cookie. */
void session_clear_cookie(hub *h, http_req *r, http_resp *resp);

#endif
