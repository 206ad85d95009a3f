/* backchannel.c — the back-channel logout queue and its delivery worker (see backchannel.h). */
#include "backchannel.h"
#include "../audit/audit.h"
#include "../issue/issue.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../idp/services.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 16         /* deliveries taken per pass */
#define HTTP_TIMEOUT_S 5 /* per attempt: a service that is down must not hold the queue */
#define LOGOUT_TOKEN_TTL 120

struct backchannel {
	hub *h;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, kick;
};

/* Wakes the daemon's worker (h->backchannel, set before the server starts and cleared after it
 * stops), if this process has one. */
static void wake(hub *h)
{
	backchannel *b = h->backchannel;
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->kick = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

int backchannel_enqueue(hub *h, const service_conf *svc, const char *sub, const char *sid)
{
	char jti[44];
	if (!svc->backchannel_logout_uri || random_token(jti))
		return STORE_ERR;
	int64_t now = hub_now(h);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:I}", "cid", svc->client_id, "uri",
	              svc->backchannel_logout_uri, "sub", sub, "sid", sid, "state", "pending",
	              "attempts", 0, "next", (json_int_t)now, "created", (json_int_t)now);
	char *js = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	int rc =
	    js ? store_put(h->st, NS_LOGOUT, jti, 43, js, strlen(js), BACKCHANNEL_KEEP) : STORE_ERR;
	free(js);
	/* durable before the citizen is told they are signed out */
	if (rc == 0 && store_sync(h->st))
		rc = STORE_ERR;
	wake(h);
	return rc;
}

typedef struct due {
	char jti[44];
	json_t *rec;
} due;

typedef struct due_list {
	due items[BATCH];
	int n;
	int64_t now, soonest;
} due_list;

static int collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                   int64_t expires)
{
	(void)expires;
	due_list *l = arg;
	json_t *o = json_loadb(val, vlen, 0, NULL);
	const char *st = json_string_value(json_object_get(o, "state"));
	int64_t next = json_integer_value(json_object_get(o, "next"));
	if (klen != 43 || !st || strcmp(st, "pending") != 0) {
		json_decref(o);
		return 0;
	}
	if (next > l->now) {
		if (!l->soonest || next < l->soonest)
			l->soonest = next;
		json_decref(o);
		return 0;
	}
	memcpy(l->items[l->n].jti, key, 43);
	l->items[l->n].jti[43] = 0;
	l->items[l->n++].rec = o;
	return l->n == BATCH;
}

/* POSTs the logout token through the hub's HTTP client (broker/idp); 0 on a 2xx answer, else -1
 * with *status (0: no answer). */
static int post(hub *h, const char *uri, const char *token, int *status)
{
	idhub_kv form[] = {{"logout_token", token}};
	idhub_http_call call = {.url = uri, .form = form, .nform = 1, .timeout_s = HTTP_TIMEOUT_S};
	char *body = NULL;
	int rc = idp_http(&h->idp, &call, status, &body);
	free(body);
	return rc == 0 && *status >= 200 && *status < 300 ? 0 : -1;
}

static const char *sign(hub *h, arena *a, const char *jti, json_t *rec)
{
	const service_conf *svc = hub_service(h, a, json_string_value(json_object_get(rec, "cid")));
	keyring *kr = keys_cache_get(h->keys);
	logout_input in = {.issuer = h->cfg->issuer,
	                   .client_id = json_string_value(json_object_get(rec, "cid")),
	                   .sub = json_string_value(json_object_get(rec, "sub")),
	                   .sid = json_string_value(json_object_get(rec, "sid")),
	                   .jti = jti,
	                   .now = hub_now(h),
	                   .ttl = LOGOUT_TOKEN_TTL};
	const char *t =
	    svc && kr && in.sub && in.sid ? token_logout(a, kr, svc->id_token_alg, &in) : NULL;
	keyring_unref(kr);
	return t;
}

/* Writes the delivery's updated record and, when it is finished (delivered or given up), its
 * audit record in the same transaction: the queue never says "delivered" or "failed" without
 * the audit log saying so too, nor the other way round. 0 or a STORE_ code. */
static int record(hub *h, due *d, const char *state, int attempts, int status, const char *cid)
{
	char *js = json_dumps(d->rec, JSON_COMPACT);
	if (!js)
		return STORE_ERR;
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_LOGOUT, d->jti, 43, js, strlen(js), BACKCHANNEL_KEEP);
	free(js);
	int finished = strcmp(state, "pending") != 0, rc = 0;
	if (finished) {
		json_t *after = json_pack("{s:s, s:s, s:i, s:i}", "jti", d->jti, "state", state,
		                          "attempts", attempts, "status", status);
		rc =
		    audit_batch_put(b, "idhub",
		                    strcmp(state, "delivered") == 0 ? "backchannel_logout.delivered"
		                                                    : "backchannel_logout.failed",
		                    cid, NULL, after);
		json_decref(after);
	}
	if (rc) {
		store_batch_free(b);
		return rc;
	}
	rc = store_batch_commit(h->st, b);
	if (rc == 0 && finished && store_sync(h->st))
		rc = STORE_ERR;
	return rc;
}

/* One attempt at one delivery, and its record updated (and audited when finished). Returns the
 * time of its next attempt, or 0 when it is finished. */
static int64_t attempt(hub *h, due *d)
{
	arena *a = arena_new();
	const char *uri = json_string_value(json_object_get(d->rec, "uri"));
	const char *cid = json_string_value(json_object_get(d->rec, "cid"));
	int attempts = (int)json_integer_value(json_object_get(d->rec, "attempts")) + 1;
	const char *tok = sign(h, a, d->jti, d->rec);
	int status = 0, ok = tok && uri && post(h, uri, tok, &status) == 0;
	const char *state = ok                                              ? "delivered"
	                    : attempts >= (int)h->cfg->backchannel_attempts ? "failed"
	                                                                    : "pending";
	int64_t delay = h->cfg->backchannel_retry_base << (attempts - 1 < 20 ? attempts - 1 : 20);
	int64_t next = hub_now(h) + (delay < 3600 ? delay : 3600);
	json_object_set_new(d->rec, "state", json_string(state));
	json_object_set_new(d->rec, "attempts", json_integer(attempts));
	json_object_set_new(d->rec, "next", json_integer(next));
	json_object_set_new(d->rec, "status", json_integer(status));
	json_object_set_new(d->rec, "last", json_integer(hub_now(h)));
	if (record(h, d, state, attempts, status, cid))
		log_err("logout: cannot record the outcome of a back-channel delivery to %s", cid);
	if (ok)
		log_info("logout: back-channel logout delivered to %s", cid);
	else
		log_warn("logout: back-channel logout to %s failed (attempt %d, HTTP %d)%s", cid,
		         attempts, status, strcmp(state, "failed") == 0 ? ": given up" : "");
	arena_free(a);
	return strcmp(state, "pending") == 0 ? next : 0;
}

/* One pass: every due delivery, at most BATCH. Returns the time of the next one due (0: none). */
static int64_t pass(hub *h)
{
	due_list l = {.now = hub_now(h)};
	store_iter(h->st, NS_LOGOUT, collect, &l);
	for (int i = 0; i < l.n; i++) {
		int64_t next = attempt(h, &l.items[i]);
		if (next && (!l.soonest || next < l.soonest))
			l.soonest = next; /* the retry of what was just attempted */
		json_decref(l.items[i].rec);
	}
	return l.n == BATCH ? l.now : l.soonest;
}

static void *run(void *arg)
{
	backchannel *b = arg;
	pthread_mutex_lock(&b->mu);
	while (!b->stop) {
		b->kick = 0;
		pthread_mutex_unlock(&b->mu);
		int64_t next = pass(b->h), now = hub_now(b->h);
		pthread_mutex_lock(&b->mu);
		if (b->stop || b->kick)
			continue;
		/* sleep until the next due delivery (at most a minute) or an enqueue */
		int64_t wait = next ? next - now : 60;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += wait < 1 ? 1 : wait > 60 ? 60 : wait;
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

backchannel *backchannel_start(hub *h)
{
	backchannel *b = calloc(1, sizeof *b);
	if (!b)
		return NULL;
	b->h = h;
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	if (pthread_create(&b->thread, NULL, run, b)) {
		pthread_mutex_destroy(&b->mu);
		pthread_cond_destroy(&b->cv);
		free(b);
		return NULL;
	}
	return b;
}

void backchannel_stop(backchannel *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stop = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	pthread_mutex_destroy(&b->mu);
	pthread_cond_destroy(&b->cv);
	free(b);
}
