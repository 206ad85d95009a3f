/* token.h — the token endpoint (authorization_code grant with PKCE), and the redemption it shares
 * with the built-in demo service. */
#ifndef IDHUB_TOKEN_H
#define IDHUB_TOKEN_H
#include "provider.h"
#include "../http/http.h"

typedef struct token_result {
	int status;        /* 200, or the HTTP status of the error */
	const char *error; /* OAuth error code when status != 200 */
	const char *description;
	const char *json; /* the token response body when status == 200 */
	const char *id_token, *access_token;
} token_result;

/* Redeems code for client c. verifier may be NULL (no code_verifier sent): PKCE is then refused
 * or required as the code's record and the service's policy say. Always fills out; returns 0 on
 * success. */
int oidc_redeem(hub *h, arena *a, const hub_client *c, const char *code, const char *redirect_uri,
                const char *verifier, token_result *out);
/* POST /token */
void oidc_token(hub *h, http_req *r, http_resp *resp);

#endif
