/* provider.h — the OpenID Provider's own part of the daemon's context (h->oidc): the services of
 * the config file with their inline JWKS parsed once, the endpoints named in audiences, and the
 * discovery document. Only broker/oidc (and the demo services, which act as one) see it: the
 * journey and the sessions see the shared context (hub/hub.h) alone. */
#ifndef IDHUB_OIDC_PROVIDER_H
#define IDHUB_OIDC_PROVIDER_H
#include "../hub/hub.h"
#include <jansson.h>

typedef struct hub_client {
	const service_conf *conf;
	json_t *jwks; /* private_key_jwt with an inline JWKS (parsed once) */
} hub_client;

struct oidc_provider {
	hub_client *clients; /* the config file's services */
	size_t nclients;
	char *token_endpoint; /* issuer + "/token", for client-assertion audiences */
	char *userinfo_endpoint;
	char *discovery_json;
};

/* Builds h->oidc after hub_open (daemon.c). 0, or -1 with a malloc'd message in *err (NULL: out
 * of memory). */
int oidc_provider_open(hub *h, char **err);
/* Frees h->oidc (NULL is fine). */
void oidc_provider_close(hub *h);

/* The service with client_id, from the config file or registered in the store (the latter
 * allocated on a). NULL when unknown. */
const hub_client *hub_find_client(const hub *h, arena *a, const char *client_id);

#endif
