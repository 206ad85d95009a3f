/* adapters.c — IdP adapter loading (ABI version and struct-size checks), the instance registry
 * and its lifecycle (bound services, parsed settings, documents), the per-IdP concurrency gate, and
 * the adapter check of --check-config (see adapters.h). */
#include "adapters.h"
#include "host_int.h"
#include "services.h"
#include "../http/lograte.h"
#include "../util/log.h"
#include <dlfcn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
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

__attribute__((format(printf, 2, 3))) static int say(char **err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
	return -1;
}

/* dlopens the adapter of ic and checks its ABI: the version range, the struct size, the
 * mandatory functions. Returns its definition, or NULL with *err set. */
static const idhub_adapter *open_adapter(const hub_conf *c, const idp_conf *ic, void **dl,
                                         char **err)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/idhub-adapter-%s.so", c->adapter_dir, ic->adapter);
	*dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*dl) {
		say(err, "%s:%d: idp '%s': cannot load adapter '%s': %s", c->file, ic->line, ic->id,
		    ic->adapter, dlerror());
		return NULL;
	}
	const idhub_adapter *(*entry)(void) =
	    (const idhub_adapter *(*)(void))dlsym(*dl, IDHUB_ADAPTER_ENTRY);
	const idhub_adapter *ops = entry ? entry() : NULL;
	/* the struct's first fields are fixed for every version; later ones are read only within
	 * struct_size (an older adapter's struct is shorter) */
	if (!ops || ops->abi_version < IDHUB_ADAPTER_ABI_MIN ||
	    ops->abi_version > IDHUB_ADAPTER_ABI_VERSION ||
	    ops->struct_size < offsetof(idhub_adapter, flags) + sizeof ops->flags || !ops->init ||
	    !ops->start || !ops->finish || !ops->destroy || !ops->state_param || !ops->name) {
		say(err, "%s:%d: idp '%s': %s is not an idhub adapter of ABI version %d to %d",
		    c->file, ic->line, ic->id, path, IDHUB_ADAPTER_ABI_MIN,
		    IDHUB_ADAPTER_ABI_VERSION);
		return NULL;
	}
	return ops;
}

/* Creates the instance of ic: its bound services, its parsed settings, then the adapter's init.
 * h is a real hub, or (checking) one with only the config. */
static void *instantiate(idp_host *h, const idp_conf *ic, const idhub_adapter *ops,
                         idhub_instance *in, const char *callback_url, int checking, char **err)
{
	const hub_conf *c = h->cfg;
	if (services_bind(in, h, ic->id))
		return NULL;
	in->adapter_name = ops->name;
	in->checking = checking;
	if (settings_parse(in, c->file, ic, ops, err))
		return NULL;
	in->cfg = (idhub_adapter_config){.instance_id = ic->id,
	                                 .config_file = c->file,
	                                 .hub_base_url = c->issuer,
	                                 .callback_url = callback_url,
	                                 .values = in->values,
	                                 .loa_acrs = (const char *const *)c->loa_acrs,
	                                 .nloas = c->nloas,
	                                 .checking = checking};
	idhub_error e = {0};
	void *ctx = ops->init(&in->cfg, &in->svc, &e);
	if (!ctx)
		say(err, "%s:%d: idp '%s': %s", c->file, error_line(ic, e.message), ic->id,
		    e.message[0] ? e.message : "adapter failed to start");
	return ctx;
}

static void instance_free(idhub_instance *in)
{
	if (!in)
		return;
	docs_free_all(in);
	settings_free(in);
	free(in);
}

static int load_one(idp_host *h, const idp_conf *ic, hub_idp *out, char **err)
{
	out->conf = ic;
	if (!(out->gate = calloc(1, sizeof *out->gate)) ||
	    !(out->inst = calloc(1, sizeof *out->inst)))
		return -1;
	out->gate->limit = ic->max_concurrent;
	snprintf(out->gate->what, sizeof out->gate->what,
	         "idp %s: logins over its max_concurrent (%d)", ic->id, ic->max_concurrent);
	const idhub_adapter *ops = open_adapter(h->cfg, ic, &out->dl, err);
	if (!ops)
		return -1;
	if (asprintf(&out->callback_url, "%s/callback/%s", h->cfg->issuer, ic->id) < 0)
		return -1;
	out->ctx = instantiate(h, ic, ops, out->inst, out->callback_url, 0, err);
	if (!out->ctx)
		return -1;
	out->ops = ops;
	log_info("idp %s: adapter %s loaded", ic->id, ops->name);
	return 0;
}

/* --check-config: every adapter loads, its settings parse and its init accepts them, with nothing
 * fetched and nothing started (no store: the instance's services are not called). */
int config_check_adapters(const hub_conf *c, char **err)
{
	*err = NULL;
	idp_host h = {.cfg = c};
	for (size_t i = 0; i < c->nidps; i++) {
		const idp_conf *ic = &c->idps[i];
		void *dl; /* not dlclose'd: a library may have registered thread-exit or atexit work
		           */
		const idhub_adapter *ops = open_adapter(c, ic, &dl, err);
		idhub_instance *in = ops ? calloc(1, sizeof *in) : NULL;
		void *ctx = in ? instantiate(&h, ic, ops, in, c->issuer, 1, err) : NULL;
		if (in)
			docs_free_all(in);
		if (ctx)
			ops->destroy(ctx);
		instance_free(in);
		if (!ctx) {
			if (!*err)
				*err = strdup("out of memory");
			return -1;
		}
	}
	return 0;
}

int adapters_load(idp_host *h, char **err)
{
	h->idps = calloc(h->cfg->nidps ? h->cfg->nidps : 1, sizeof(*h->idps));
	if (!h->idps)
		return -1;
	for (size_t i = 0; i < h->cfg->nidps; i++) {
		h->nidps = i + 1;
		if (load_one(h, &h->cfg->idps[i], &h->idps[i], err))
			return -1;
	}
	return docs_timer_start(h);
}

void adapters_unload(idp_host *h)
{
	docs_timer_stop(h);
	for (size_t i = 0; i < h->nidps; i++) {
		hub_idp *p = &h->idps[i];
		/* documents first: their release callbacks may need the adapter (and its libraries)
		 * still alive */
		if (p->inst)
			docs_free_all(p->inst);
		if (p->ops && p->ctx)
			p->ops->destroy(p->ctx);
		instance_free(p->inst);
		/* not dlclose'd: a library may have registered thread-exit or atexit work */
		free(p->callback_url);
		free(p->gate);
	}
	free(h->idps);
	h->idps = NULL;
	h->nidps = 0;
}
