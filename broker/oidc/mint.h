/* mint.h — the token response both grants give (authorization_code and refresh_token): a signed
 * access token and ID token, the userinfo record for the access token, and optionally a refresh
 * token. */
#ifndef IDHUB_OIDC_MINT_H
#define IDHUB_OIDC_MINT_H
#include "token.h"
#include <jansson.h>

typedef struct mint_input {
	const char *sub, *nonce, *scope, *sid; /* nonce and sid may be NULL */
	int loa;
	int64_t auth_time;
	const json_t *claims, *id_claims; /* released to userinfo / the ID token */
	const char *jti;                  /* the access token's id (43 chars) */
	const char *refresh_token;        /* included in the response when non-NULL */
} mint_input;

/* Signs the tokens for client c and records userinfo. Fills out (status 200 and json on success).
 * 0 or -1. */
int oidc_mint(hub *h, arena *a, const hub_client *c, const mint_input *in, token_result *out);

#endif
