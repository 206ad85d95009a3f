/* adapters.h — the adapter host's face to the daemon: the instance registry (hub_idp, idp_host),
 * loading IdP adapters (dlopen of <adapter_dir>/idhub-adapter-<name>.so), checking their ABI
 * version, and creating one instance per configured IdP. */
#ifndef IDHUB_ADAPTERS_H
#define IDHUB_ADAPTERS_H
#include "../config/config.h"
#include "../keys/keys.h"
#include "../store/store.h"
#include <idhub/adapter.h>

struct idp_gate;
struct idhub_instance;
struct idp_timer;

/* One configured IdP instance: its adapter, the adapter's context, and the host's record. */
typedef struct hub_idp {
	const idp_conf *conf;
	const idhub_adapter *ops;
	void *ctx;
	void *dl;
	char *callback_url;
	struct idp_gate *gate;       /* its calls under way on the upstream pool */
	struct idhub_instance *inst; /* settings, services and documents (host_int.h) */
} hub_idp;

/* What the adapter host needs of the daemon, and the instance registry it keeps: filled by
 * hub_open (cfg, st, keys), then by services_init (oauth2_log) and adapters_load (idps). The
 * host sees nothing else of the hub, so it includes no header of the folder above it. */
typedef struct idp_host {
	const hub_conf *cfg;
	store *st;
	keys_cache *keys;
	void *oauth2_log; /* liboauth2 log handle for the HTTP client */
	hub_idp *idps;
	size_t nidps;
	struct idp_timer *timer; /* refreshes adapters' documents (docs.c) */
} idp_host;

/* Loads every configured IdP into h->idps and starts the document timer. Errors name the config
 * file and line. 0 or -1. */
int adapters_load(idp_host *h, char **err);
void adapters_unload(idp_host *h);

/* The concurrency gate of each IdP: at most idp.max_concurrent calls to one IdP wait on the
 * upstream pool at once, so a slow IdP cannot take every thread of the pool from the others.
 * Thread-safe. adapters_gate_enter: 0 when the call may run (then adapters_gate_leave after it),
 * -1 when the IdP is saturated (the refusal is counted in a rate-limited log line). */
int adapters_gate_enter(const hub_idp *idp, int64_t now);
void adapters_gate_leave(const hub_idp *idp);

#endif
