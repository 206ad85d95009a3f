/* docs.c — remote documents the adapter host keeps fresh for adapters (discovery documents, JWK
 * Sets, SAML metadata): one fetch at a time per document however many ask (single-flight), a
 * size cap, the adapter's parse/validate callback, a last good copy in the store (NS_CACHE) that
 * survives restarts and outages, a minimum interval between fetches, and a timer thread that
 * refreshes documents when they are due. Parsed copies are shared by reference count. */
#include "host_int.h"
#include "services.h"
#include "../metrics/metrics.h"
#include "../util/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_LKG_TTL (7 * 86400) /* how long a last good copy is kept in the store */
#define DOC_MAX_DEFAULT (256 * 1024)

typedef struct holder {
	struct holder *next;
	void *parsed;
	int refs; /* users, plus one while it is the document's current copy */
} holder;

struct idhub_doc {
	idhub_instance *inst;
	const char *adapter;
	idhub_doc_spec spec;
	char *name, *url;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	holder *cur, *old; /* old: replaced copies still referenced */
	int64_t fetched, attempt;
	int busy;
};

struct idp_timer {
	idp_host *h;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

__attribute__((format(printf, 2, 3))) static void doc_log(idhub_doc *d, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	log_msg(LOG_WARN_, "%s %s: %s", d->adapter, d->inst->id, line);
}

static void *parse(idhub_doc *d, const char *body, size_t len, char *why, size_t wl)
{
	if (d->spec.kind != IDHUB_DOC_JWKS)
		return d->spec.parse(d->spec.arg, body, len, why, wl);
	json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(json_object_get(o, "keys"))) {
		json_decref(o);
		snprintf(why, wl, "not a JWK Set");
		return NULL;
	}
	return o;
}

static void release(idhub_doc *d, void *p)
{
	if (d->spec.kind == IDHUB_DOC_JWKS)
		json_decref(p);
	else if (d->spec.release)
		d->spec.release(p);
}

/* Makes parsed the current copy (under d->mu). */
static void install(idhub_doc *d, void *parsed, int64_t when)
{
	holder *n = calloc(1, sizeof *n);
	if (!n) {
		release(d, parsed);
		return;
	}
	n->parsed = parsed;
	n->refs = 1;
	if (d->cur) {
		if (--d->cur->refs == 0) {
			release(d, d->cur->parsed);
			free(d->cur);
		} else {
			d->cur->next = d->old;
			d->old = d->cur;
		}
	}
	d->cur = n;
	d->fetched = when;
	/* the age of the IdP's newest document (discovery, JWKS, metadata) for /metrics */
	metrics_idp_document_age(d->inst->id, (int64_t)time(NULL) - when);
}

static void failed(idhub_doc *d, const char *url, int status, const char *why)
{
	if (d->spec.report)
		d->spec.report(d->spec.arg, IDHUB_DOC_FAILED, url, status, why);
	else if (!status)
		doc_log(d, "%s%s failed (unreachable or timed out)", d->name,
		        d->spec.kind == IDHUB_DOC_JWKS ? " fetch" : "");
	else if (status != 200)
		doc_log(d, "%s refused: HTTP status %d", d->name, status);
	else
		doc_log(d, "%s refused: %s", d->name, why);
}

/* The body at url: fetched over HTTP, or read from a local file:// one. 0 or -1. */
static int get_body(idhub_doc *d, const char *url, size_t max, int *status, char **body)
{
	if (strncmp(url, "file://", 7) == 0) {
		*body = idp_read_file(url + 7, max, NULL);
		*status = *body ? 200 : 0;
		return *body ? 0 : -1;
	}
	idhub_http_call call = {.url = url, .timeout_s = d->spec.timeout_s, .max_body = max};
	return idp_http(d->inst->h, &call, status, body);
}

/* One fetch, by the single caller that set d->busy; d->mu not held. Returns 1 or -1. */
static int fetch(idhub_doc *d, const char *url)
{
	idp_host *h = d->inst->h;
	size_t max = d->spec.max_size ? d->spec.max_size : DOC_MAX_DEFAULT;
	int status = 0;
	char *body = NULL, why[200] = "";
	if (get_body(d, url, max, &status, &body)) {
		failed(d, url, 0, NULL);
		return -1;
	}
	void *p = NULL;
	if (status == 200 && !(p = parse(d, body, strlen(body), why, sizeof why)) && !why[0])
		snprintf(why, sizeof why, "does not parse");
	if (!p) {
		failed(d, url, status, why);
		free(body);
		return -1;
	}
	/* the last good copy, for restarts while the IdP is down: "<url>\n<body>" */
	char *rec; /* (a local file is its own last good copy) */
	if (strncmp(url, "file://", 7) && asprintf(&rec, "%s\n%s", url, body) >= 0) {
		idp_cache_put(h, d->inst->id, d->name, rec, DOC_LKG_TTL);
		free(rec);
	}
	free(body);
	pthread_mutex_lock(&d->mu);
	install(d, p, store_now(h->st));
	pthread_mutex_unlock(&d->mu);
	return 1;
}

/* The last good copy from the store, when it was fetched from the URL asked for. */
static void load_last_good(idhub_doc *d, const char *url)
{
	char *rec = idp_cache_get(d->inst->h, d->inst->id, d->name),
	     *nl = rec ? strchr(rec, '\n') : NULL;
	char why[160] = "";
	void *p = NULL;
	if (nl && (size_t)(nl - rec) == strlen(url) && !strncmp(rec, url, (size_t)(nl - rec)))
		p = parse(d, nl + 1, strlen(nl + 1), why, sizeof why);
	free(rec);
	if (!p)
		return;
	/* fetched long ago as far as the refresh goes: the next use tries for a fresher one */
	pthread_mutex_lock(&d->mu);
	install(d, p, 0);
	pthread_mutex_unlock(&d->mu);
	if (d->spec.report)
		d->spec.report(d->spec.arg, IDHUB_DOC_LAST_GOOD, url, 0, NULL);
	else
		doc_log(d, "using the last-known-good %s", d->name);
}

/* Fetches when due (force: when the rate limit allows) unless another thread is; waits for that
 * one when there is no copy yet. Returns 1 when this call fetched a new copy, 0 when it did not
 * need to or could not, -1 when its fetch failed. */
static int refresh(idhub_doc *d, int force)
{
	pthread_mutex_lock(&d->mu);
	int64_t now = store_now(d->inst->h->st);
	int limited = d->attempt && now - d->attempt < d->spec.min_refetch;
	int due = d->url && !limited && (force || !d->cur || now - d->fetched >= d->spec.refresh);
	if (!due || d->busy) {
		int64_t before = d->fetched;
		while (d->busy && (!d->cur || force))
			pthread_cond_wait(&d->cv, &d->mu);
		int got = force && d->fetched != before;
		pthread_mutex_unlock(&d->mu);
		return got;
	}
	d->busy = 1;
	d->attempt = now;
	char *url = strdup(d->url);
	pthread_mutex_unlock(&d->mu);
	int rc = url ? fetch(d, url) : -1;
	pthread_mutex_lock(&d->mu);
	int none = !d->cur;
	pthread_mutex_unlock(&d->mu);
	if (rc < 0 && none && url) /* never had one in this run: the copy kept in the store */
		load_last_good(d, url);
	free(url);
	pthread_mutex_lock(&d->mu);
	d->busy = 0;
	pthread_cond_broadcast(&d->cv);
	pthread_mutex_unlock(&d->mu);
	return rc;
}

idhub_doc *docs_watch(idhub_instance *in, const idhub_doc_spec *spec)
{
	idhub_doc *d = calloc(1, sizeof *d);
	idhub_doc **list = d ? realloc(in->docs, (in->ndocs + 1) * sizeof *list) : NULL;
	if (!list || (spec->kind != IDHUB_DOC_JWKS && !spec->parse)) {
		free(d);
		return NULL;
	}
	in->docs = list;
	in->docs[in->ndocs++] = d;
	d->inst = in;
	d->adapter = in->adapter_name;
	d->spec = *spec;
	d->name = strdup(spec->name ? spec->name : "document");
	d->url = spec->url ? strdup(spec->url) : NULL;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	return d;
}

void docs_set_url(idhub_doc *d, const char *url)
{
	pthread_mutex_lock(&d->mu);
	int same = d->url && url && !strcmp(d->url, url);
	if (!same) {
		free(d->url);
		d->url = url ? strdup(url) : NULL;
		d->fetched = 0; /* due: the copy in hand came from elsewhere */
		d->attempt = 0;
	}
	pthread_mutex_unlock(&d->mu);
}

const void *docs_get(idhub_doc *d)
{
	if (!d->inst->checking)
		refresh(d, 0);
	pthread_mutex_lock(&d->mu);
	holder *c = d->cur;
	if (c)
		c->refs++;
	pthread_mutex_unlock(&d->mu);
	return c ? c->parsed : NULL;
}

void docs_put(idhub_doc *d, const void *parsed)
{
	if (!parsed)
		return;
	pthread_mutex_lock(&d->mu);
	holder **pp = &d->old, *hd = d->cur && d->cur->parsed == parsed ? d->cur : NULL;
	if (hd)
		hd->refs--;
	while (!hd && *pp) {
		if ((*pp)->parsed == parsed && --(*pp)->refs == 0) {
			hd = *pp;
			*pp = hd->next;
			release(d, hd->parsed);
			free(hd);
			break;
		}
		pp = &(*pp)->next;
	}
	pthread_mutex_unlock(&d->mu);
}

int docs_refetch(idhub_doc *d)
{
	return d->inst->checking ? 0 : refresh(d, 1);
}

int docs_is_jwks(const idhub_doc *d)
{
	return d->spec.kind == IDHUB_DOC_JWKS;
}

void docs_free_all(idhub_instance *in)
{
	for (size_t i = 0; i < in->ndocs; i++) {
		idhub_doc *d = in->docs[i];
		if (d->cur) {
			release(d, d->cur->parsed);
			free(d->cur);
		}
		for (holder *hd = d->old, *n; hd; hd = n) {
			n = hd->next;
			release(d, hd->parsed);
			free(hd);
		}
		pthread_mutex_destroy(&d->mu);
		pthread_cond_destroy(&d->cv);
		free(d->name);
		free(d->url);
		free(d);
	}
	free(in->docs);
	in->docs = NULL;
	in->ndocs = 0;
}

/* ---- the timer: every few seconds, refreshes the documents that are due ---- */

static void *timer_main(void *arg)
{
	struct idp_timer *t = arg;
	pthread_mutex_lock(&t->mu);
	while (!t->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		pthread_cond_timedwait(&t->cv, &t->mu, &ts);
		if (t->stop)
			break;
		pthread_mutex_unlock(&t->mu);
		for (size_t i = 0; i < t->h->nidps; i++) {
			idhub_instance *in = t->h->idps[i].inst;
			for (size_t k = 0; in && k < in->ndocs; k++)
				if (in->docs[k]->cur) /* a document never had: fetched on use */
					refresh(in->docs[k], 0);
		}
		pthread_mutex_lock(&t->mu);
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

int docs_timer_start(idp_host *h)
{
	struct idp_timer *t = calloc(1, sizeof *t);
	if (!t)
		return -1;
	t->h = h;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->cv, NULL);
	if (pthread_create(&t->th, NULL, timer_main, t)) {
		free(t);
		return -1;
	}
	h->timer = t;
	return 0;
}

void docs_timer_stop(idp_host *h)
{
	struct idp_timer *t = h->timer;
	if (!t)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->th, NULL);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->cv);
	free(t);
	h->timer = NULL;
}
