/* client_auth.h — authenticating a service at the token endpoint: client_secret_basic,
 * client_secret_post and private_key_jwt (RFC 7523 with OIDC Core §9 rules). Exactly one method may
 * be presented, and it must be the one registered for the service. */
#ifndef IDHUB_CLIENT_AUTH_H
#define IDHUB_CLIENT_AUTH_H
#include "provider.h"
#include "../http/http.h"

typedef struct client_auth_error {
	int status;          /* 400 or 401 */
	const char *error;   /* invalid_client or invalid_request */
	const char *message; /* error_description */
	int basic_challenge; /* add WWW-Authenticate: Basic */
} client_auth_error;

/* Returns the authenticated client, or NULL with err filled. */
const hub_client *client_authenticate(hub *h, http_req *r, client_auth_error *err);
/* SHA-256 of secret compared in constant time with the stored hash (or the previous one, until
 * its grace period ends). 1 when equal. */
int client_secret_matches(const service_conf *svc, const char *secret, int64_t now);

#endif
