/* hub.h — the daemon's shared context: the config snapshot, the store, the keys, the loaded IdP
 * adapters and per-service data derived from the config at start. Read-only after hub_open, except
 * through the thread-safe objects it points to (store, keys cache). It sits below every part it
 * serves (oidc, journey, sessions, demo) and includes none of them: what those parts add at start
 * (the journey's seal key, the discovery document, the back-channel worker) is composed in
 * daemon.c. */
#ifndef IDHUB_HUB_H
#define IDHUB_HUB_H
#include "../config/config.h"
#include "../idp/adapters.h"
#include "../util/arena.h"
#include "../keys/audit_heads.h"
#include "../keys/keys.h"
#include "../keys/schedule.h"
#include "../pairwise/pairwise.h"
#include "../store/store.h"
#include <idhub/adapter.h>

typedef struct hub {
	hub_conf *cfg;
	store *st;
	keys_cache *keys;
	pairwise_ctx pw;
	unsigned char
	    seal_key[32]; /* seals journey tokens (journey.h); set by journey_init_secret */
	char run_id[23];  /* random per start: marks the tokens this run sealed */
	idp_host idp;     /* the adapter host (idp/adapters.h) */
	hub_idp *idps;    /* = idp.idps, the configured IdPs (read-only after hub_open) */
	size_t nidps;
	/* the OpenID Provider's own (services' JWKS, endpoints, discovery): oidc/provider.h */
	struct oidc_provider *oidc;
	keys_schedule *rotation; /* automatic key rotation, when hub.key_rotation_days is set */
	struct backchannel
	    *backchannel; /* the back-channel logout worker (sessions/backchannel.h), daemon.c's */
	audit_heads *audit; /* signed audit tree heads and retention (audit_heads.h) */
} hub;

/* Opens the store, keys, pairwise secrets and adapters for cfg (which the hub then owns).
 * Returns NULL with a malloc'd message in *err. */
hub *hub_open(hub_conf *cfg, char **err);
void hub_close(hub *h);
int64_t hub_now(const hub *h);

/* The key lifecycle's timing from the config: the JWKS max-age, and the longest token lifetime. */
keys_policy hub_keys_policy(const hub_conf *cfg);

const hub_idp *hub_find_idp(const hub *h, const char *id);
/* The service with client_id, from the config file or registered in the store (the latter
 * allocated on a). NULL when unknown. */
const service_conf *hub_service(const hub *h, arena *a, const char *client_id);

#endif
