/* hub.c — opening and closing the daemon's shared context (see hub.h): the state directory, the
 * store, the signing keys (one per configured ID token algorithm), the pairwise secrets, the
 * adapters, and the threads that keep keys and audit heads current. */
#include "hub.h"
#include "../audit/audit.h"
#include "../clients/clients.h"
#include "../idp/adapters.h"
#include "../idp/services.h"
#include "../util/log.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int64_t hub_now(const hub *h)
{
	return store_now(h->st);
}

keys_policy hub_keys_policy(const hub_conf *cfg)
{
	int64_t t =
	    cfg->id_token_ttl > cfg->access_token_ttl ? cfg->id_token_ttl : cfg->access_token_ttl;
	return (keys_policy){.jwks_max_age = cfg->jwks_max_age,
	                     .token_lifetime = t + cfg->clock_leeway};
}

const hub_idp *hub_find_idp(const hub *h, const char *id)
{
	for (size_t i = 0; i < h->nidps; i++)
		if (strcmp(h->idps[i].conf->id, id) == 0)
			return &h->idps[i];
	return NULL;
}

const service_conf *hub_service(const hub *h, arena *a, const char *client_id)
{
	return clients_lookup(h->cfg, h->st, a, client_id);
}

static int make_state_dir(const char *dir, char **err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		if (asprintf(err, "cannot create state directory %s: %s", dir, strerror(errno)) < 0)
			*err = NULL;
		return -1;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		if (asprintf(err, "state directory %s is not a directory", dir) < 0)
			*err = NULL;
		return -1;
	}
	if (st.st_mode & 077) {
		/* private keys and pairwise secrets live here */
		if (chmod(dir, 0700) != 0) {
			if (asprintf(err, "state directory %s is readable by others", dir) < 0)
				*err = NULL;
			return -1;
		}
	}
	return 0;
}

/* A signing key for each configured service's ID token algorithm (ES256, for access tokens, is
 * ensured before). */
static int ensure_service_keys(hub *h, char **err)
{
	for (size_t i = 0; i < h->cfg->nservices; i++)
		if (keys_ensure_current(h->st, h->cfg->services[i].id_token_alg)) {
			*err = strdup("cannot create a signing key");
			return -1;
		}
	return 0;
}

hub *hub_open(hub_conf *cfg, char **err)
{
	*err = NULL;
	hub *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->cfg = cfg;
	if (make_state_dir(cfg->state_dir, err))
		goto fail;
	char path[4096];
	store_config sc;
	hub_conf_store(cfg, &sc, path, sizeof path);
	h->st = store_open_config(&sc, err);
	if (!h->st)
		goto fail;
	store_set_high_water(h->st, (int)cfg->store_high_water);
	/* before anything is audited: a store from before sequence numbers is renumbered */
	if (audit_migrate(h->st) < 0)
		log_warn("audit: cannot renumber the records of an older store");
	if (store_unclean_floor(h->st))
		log_warn("store: the last run did not stop cleanly; short-lived records were "
		         "discarded and anything issued before now is refused");
	/* ES256 always: access tokens are signed with it */
	if (keys_ensure_current(h->st, JWS_ES256)) {
		*err = strdup("cannot create the first signing key");
		goto fail;
	}
	if (ensure_service_keys(h, err))
		goto fail;
	/* several nodes: other nodes' key and service changes are pushed (a no-op on LMDB) */
	store_watch(h->st);
	h->keys = keys_cache_new(h->st, err);
	if (!h->keys)
		goto fail;
	if (pairwise_init(&h->pw, h->st, err))
		goto fail;
	h->idp = (idp_host){.cfg = cfg, .st = h->st, .keys = h->keys};
	if (services_init(&h->idp)) {
		*err = strdup("cannot initialise liboauth2");
		goto fail;
	}
	int loaded = adapters_load(&h->idp, err);
	h->idps = h->idp.idps;
	h->nidps = h->idp.nidps;
	if (loaded)
		goto fail;
	/* Pairwise records are group-committed (batched in one synced transaction every 10 ms, so
	 * an operator's look-up right after a first login finds the record): a
	 * sub is a keyed hash of durable secrets, so one lost in an OS crash is derived again
	 * identically. Every other durable commit (keys, secrets, services, switches, audit) is
	 * synced on its own. */
	if (store_group_commit(h->st, 10))
		log_warn("store: group commit unavailable; every pairwise record is fsync'd");
	keys_policy kp = hub_keys_policy(cfg);
	h->rotation = keys_schedule_start(h->st, &kp, cfg->key_rotation_days, 3600);
	h->audit = audit_heads_start(h->st, h->keys, cfg->issuer, cfg->audit_tree_head_interval,
	                             cfg->audit_retention_days);
	if (!h->audit)
		log_warn("audit: cannot start the tree-head thread; no signed heads until restart");
	if (store_start_purger(h->st, 30))
		log_warn(
		    "store: cannot start the purge thread; expired records stay until restart");
	return h;
fail:
	if (!*err)
		*err = strdup("out of memory");
	hub_close(h);
	return NULL;
}

void hub_close(hub *h)
{
	if (!h)
		return;
	keys_schedule_stop(h->rotation);
	audit_heads_stop(h->audit);
	adapters_unload(&h->idp);
	h->idps = NULL;
	h->nidps = 0;
	services_shutdown(&h->idp);
	if (h->keys)
		keys_cache_free(h->keys);
	if (h->st)
		store_close(h->st);
	config_free(h->cfg);
	OPENSSL_cleanse(h->seal_key, sizeof h->seal_key);
	free(h);
}
