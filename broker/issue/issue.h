/* issue.h — the tokens a service receives: the ID token (OIDC Core §2) signed with the service's
 * algorithm, and an RFC 9068 JWT access token ("typ": "at+jwt") for the hub's userinfo. */
#ifndef IDHUB_ISSUE_H
#define IDHUB_ISSUE_H
#include "../keys/keys.h"
#include "../tokens/jws.h"
#include "../util/arena.h"
#include <jansson.h>
#include <stdint.h>

typedef struct token_input {
	const char *issuer, *audience_at; /* audience_at: the resource (userinfo endpoint) */
	const char *client_id, *sub, *nonce, *acr, *scope, *jti; /* nonce may be NULL */
	const char *sid; /* the hub session's id for this service, or NULL */
	int64_t now, auth_time, id_ttl, at_ttl;
	const json_t *claims; /* released identity claims for the ID token */
} token_input;

/* A Back-Channel Logout 1.0 logout token (§2.4): iss, sub, aud, iat, exp, jti, sid and the
 * backchannel-logout event, never a nonce; typ logout+jwt (§2.4, RFC 8417 explicit typing). */
typedef struct logout_input {
	const char *issuer, *client_id, *sub, *sid, *jti;
	int64_t now, ttl;
} logout_input;

/* Signs the logout token with kr's current key for alg (the service's ID token algorithm). */
char *token_logout(arena *a, const keyring *kr, jws_alg alg, const logout_input *in);

/* Signs the access token with kr's current ES256 key. NULL on error. */
char *token_access(arena *a, const keyring *kr, const token_input *in);
/* Signs the ID token with kr's current key for alg, including at_hash of access_token. */
char *token_id(arena *a, const keyring *kr, jws_alg alg, const token_input *in,
               const char *access_token);

#endif
