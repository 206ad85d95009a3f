/* adapters.c — IdP adapter loading and instance lifecycle (see adapters.h). */
#include "adapters.h"
#include "../http/lograte.h"
#include "../util/log.h"
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct idp_gate {
	atomic_int inflight;
	int limit;
	log_rate refused;
	char what[96];
};

int adapters_gate_enter(const hub_idp *idp, int64_t now)
{
	struct idp_gate *g = idp->gate;
	if (!g)
		return 0;
	if (atomic_fetch_add(&g->inflight, 1) < g->limit)
		return 0;
	atomic_fetch_sub(&g->inflight, 1);
	log_rate_refused(&g->refused, now, g->what);
	return -1;
}

void adapters_gate_leave(const hub_idp *idp)
{
	if (idp->gate)
		atomic_fetch_sub(&idp->gate->inflight, 1);
}

/* The line of the setting an adapter's message starts with ("name: ..."), else the IdP's line. */
static int error_line(const idp_conf *ic, const char *msg)
{
	for (size_t i = 0; i < ic->nsettings; i++) {
		size_t n = strlen(ic->settings[i].name);
		if (strncmp(msg, ic->settings[i].name, n) == 0 && msg[n] == ':')
			return ic->settings[i].line;
	}
	return ic->line;
}

static int load_one(hub *h, const idp_conf *ic, hub_idp *out, char **err)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/idhub-adapter-%s.so", h->cfg->adapter_dir, ic->adapter);
	out->conf = ic;
	if (!(out->gate = calloc(1, sizeof *out->gate)))
		return -1;
	out->gate->limit = ic->max_concurrent;
	snprintf(out->gate->what, sizeof out->gate->what,
	         "idp %s: logins over its max_concurrent (%d)", ic->id, ic->max_concurrent);
	out->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!out->dl) {
		if (asprintf(err, "%s:%d: idp '%s': cannot load adapter '%s': %s", h->cfg->file,
		             ic->line, ic->id, ic->adapter, dlerror()) < 0)
			*err = NULL;
		return -1;
	}
	const idhub_adapter *(*entry)(void) =
	    (const idhub_adapter *(*)(void))dlsym(out->dl, IDHUB_ADAPTER_ENTRY);
	const idhub_adapter *ops = entry ? entry() : NULL;
	if (!ops || ops->abi_version != IDHUB_ADAPTER_ABI_VERSION || !ops->init || !ops->start ||
	    !ops->finish || !ops->destroy || !ops->state_param) {
		if (asprintf(err, "%s:%d: idp '%s': %s is not an idhub adapter of ABI version %d",
		             h->cfg->file, ic->line, ic->id, path, IDHUB_ADAPTER_ABI_VERSION) < 0)
			*err = NULL;
		return -1;
	}
	if (asprintf(&out->callback_url, "%s/callback/%s", h->cfg->issuer, ic->id) < 0)
		return -1;
	idhub_adapter_config ac = {.instance_id = ic->id,
	                           .config_file = h->cfg->file,
	                           .hub_base_url = h->cfg->issuer,
	                           .callback_url = out->callback_url,
	                           .settings = ic->settings,
	                           .nsettings = ic->nsettings,
	                           .loa_acrs = (const char *const *)h->cfg->loa_acrs,
	                           .nloas = h->cfg->nloas};
	idhub_error e = {0};
	out->ctx = ops->init(&ac, &h->services, &e);
	if (!out->ctx) {
		if (asprintf(err, "%s:%d: idp '%s': %s", h->cfg->file, error_line(ic, e.message),
		             ic->id, e.message[0] ? e.message : "adapter failed to start") < 0)
			*err = NULL;
		return -1;
	}
	out->ops = ops;
	log_info("idp %s: adapter %s loaded", ic->id, ops->name);
	return 0;
}

int adapters_load(hub *h, char **err)
{
	h->idps = calloc(h->cfg->nidps ? h->cfg->nidps : 1, sizeof(*h->idps));
	if (!h->idps)
		return -1;
	for (size_t i = 0; i < h->cfg->nidps; i++) {
		h->nidps = i + 1;
		if (load_one(h, &h->cfg->idps[i], &h->idps[i], err))
			return -1;
	}
	return 0;
}

void adapters_unload(hub *h)
{
	for (size_t i = 0; i < h->nidps; i++) {
		hub_idp *p = &h->idps[i];
		if (p->ops && p->ctx)
			p->ops->destroy(p->ctx);
		/* not dlclose'd: a library may have registered thread-exit or atexit work */
		free(p->callback_url);
		free(p->gate);
	}
	free(h->idps);
	h->idps = NULL;
	h->nidps = 0;
}
