/* access.h — checking the hub's own RFC 9068 access tokens, for userinfo, revocation and
 * introspection alike: signature by a published hub key, typ at+jwt, iss, aud, exp, issued after
 * the last unclean start, and (access_token_revoked) not revoked. */
#ifndef IDHUB_OIDC_ACCESS_H
#define IDHUB_OIDC_ACCESS_H
#include "../hub/hub.h"

#define ACCESS_TOKEN_MAX 4096

typedef struct access_info {
	const char *jti, *sub, *client_id, *scope, *acr;
	int64_t iat, exp, auth_time;
} access_info;

/* NULL when tok is a live access token the hub issued (out filled, strings on a), else why not. */
const char *access_token_check(hub *h, arena *a, const char *tok, access_info *out);
/* 1 when the token with this jti was revoked (a replayed code, or RFC 7009), else 0. */
int access_token_revoked(hub *h, const char *jti);
/* Revokes it until it would have expired at exp; its userinfo record goes. 0 or a STORE_ error. */
int access_token_revoke(hub *h, const char *jti, int64_t exp);

#endif
