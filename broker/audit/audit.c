/* audit.c — the audit log (see audit.h): records written alone, in a change's batch, or riding with
 * a change's write (store_attach). */
#include "audit.h"
#include "../util/log.h"
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

const char *audit_actor(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	const char *user = pw ? pw->pw_name : "?";
	const char *sudo = getenv("SUDO_USER");
	if (sudo && *sudo)
		snprintf(buf, len, "%s (via sudo by %s)", user, sudo);
	else
		snprintf(buf, len, "%s", user);
	return buf;
}

/* The record's JSON (malloc'd); 0 or STORE_ERR. Its key, the sequence number, is given by the
 * store inside the write transaction (store_append). */
static int make_record(char **json, const char *who, const char *what, const char *target,
                       const json_t *before, const json_t *after)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	json_t *rec = json_pack("{s:I, s:s, s:s, s:s}", "at", (json_int_t)tv.tv_sec, "who", who,
	                        "what", what, "target", target ? target : "");
	if (!rec)
		return STORE_ERR;
	if (before)
		json_object_set(rec, "before", (json_t *)before);
	if (after)
		json_object_set(rec, "after", (json_t *)after);
	*json = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	return *json ? STORE_OK : STORE_ERR;
}

int audit_append(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after)
{
	char *js;
	if (make_record(&js, who, what, target, before, after))
		return STORE_ERR;
	int rc = store_append(s, NS_AUDIT, js, strlen(js));
	free(js);
	return rc;
}

int audit_batch_put(store_batch *b, const char *who, const char *what, const char *target,
                    const json_t *before, const json_t *after)
{
	char *js;
	if (make_record(&js, who, what, target, before, after))
		return STORE_ERR;
	store_batch_append(b, NS_AUDIT, js, strlen(js));
	free(js);
	return STORE_OK;
}

int audit_attach(store *s, const char *who, const char *what, const char *target,
                 const json_t *before, const json_t *after)
{
	char *js;
	if (make_record(&js, who, what, target, before, after))
		return STORE_ERR;
	int rc = store_attach_append(s, NS_AUDIT, js, strlen(js));
	free(js);
	return rc;
}

/* Token issuances wait here, in one batch, for at most AUDIT_BATCH_MS or AUDIT_BATCH_MAX records,
 * then commit in one synced transaction: a login does not pay for an fsync of its own (measured:
 * a synced record per token made each sequential login ~35 % slower; see README). One queue per
 * process (the daemon has one store). */
#define AUDIT_BATCH_MS 1000
#define AUDIT_BATCH_MAX 256

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	store *s;
	store_batch *b;
	size_t n;
	int64_t since_ms;
} q;

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Takes the queued batch (for s, or any when s is NULL) if it is due or force is set. */
static store_batch *q_take(store *s, int force, store **owner)
{
	store_batch *b = NULL;
	pthread_mutex_lock(&q_mu);
	if (q.b && (!s || q.s == s) &&
	    (force || q.n >= AUDIT_BATCH_MAX || now_ms() - q.since_ms >= AUDIT_BATCH_MS)) {
		b = q.b;
		*owner = q.s;
		memset(&q, 0, sizeof q);
	}
	pthread_mutex_unlock(&q_mu);
	return b;
}

static int q_commit(store *s, store_batch *b)
{
	int rc = store_batch_commit(s, b);
	if (rc)
		log_err("audit: a batch of token issuance records could not be written");
	return rc;
}

int audit_flush(store *s, int force)
{
	store *owner = NULL;
	store_batch *b = q_take(s, force, &owner);
	return b ? q_commit(owner, b) : STORE_OK;
}

int audit_token(store *s, const char *service, const char *sub, const char *idp, int loa,
                const char *assertion, const char *jti)
{
	json_t *after =
	    json_pack("{s:s, s:s, s:s, s:i, s:s?, s:s}", "service", service, "sub", sub, "idp",
	              idp ? idp : "", "loa", loa, "assertion", assertion, "jti", jti);
	char *js;
	if (!after || make_record(&js, "idhub", "token.issue", sub, NULL, after) != STORE_OK) {
		json_decref(after);
		return STORE_ERR;
	}
	json_decref(after);
	int rc = STORE_OK;
	store *other = NULL;
	store_batch *old = NULL;
	pthread_mutex_lock(&q_mu);
	if (q.b && q.s != s) { /* another store (tests): its queue goes first */
		old = q.b;
		other = q.s;
		memset(&q, 0, sizeof q);
	}
	if (!q.b && (q.b = store_batch_new())) {
		q.s = s;
		q.since_ms = now_ms();
	}
	if (q.b) {
		store_batch_append(q.b, NS_AUDIT, js, strlen(js));
		q.n++;
	} else
		rc = STORE_ERR;
	pthread_mutex_unlock(&q_mu);
	free(js);
	if (old)
		q_commit(other, old);
	return rc ? rc : audit_flush(s, 0);
}

struct each_ctx {
	int (*fn)(void *arg, const json_t *rec);
	void *arg;
};

static int each_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expires)
{
	(void)key;
	(void)klen;
	(void)expires;
	struct each_ctx *c = arg;
	json_t *rec = json_loadb(val, vlen, 0, NULL);
	int rc = rec ? c->fn(c->arg, rec) : 0;
	json_decref(rec);
	return rc;
}

int audit_each(store *s, int (*fn)(void *arg, const json_t *rec), void *arg)
{
	struct each_ctx c = {fn, arg};
	return store_iter(s, NS_AUDIT, each_one, &c);
}

/* ---- records of a store from before the sequence numbers ---- */

struct legacy_ctx {
	store_batch *b;
	json_t *vals;
};

static int legacy_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                      int64_t expires)
{
	(void)expires;
	struct legacy_ctx *c = arg;
	if (klen == 8)
		return 0;
	json_t *v = json_stringn(val, vlen);
	/* a record that cannot be carried over stops the whole renumbering (nothing is lost) */
	if (!v || json_array_append_new(c->vals, v))
		return 1;
	store_batch_del(c->b, NS_AUDIT, key, klen);
	return 0;
}

long audit_migrate(store *s)
{
	struct legacy_ctx c = {store_batch_new(), json_array()};
	long rc = -1, n = 0;
	if (c.b && c.vals && store_iter(s, NS_AUDIT, legacy_one, &c) == 0) {
		n = (long)json_array_size(c.vals);
		/* one transaction: every old key goes, then each record is appended in the old
		 * keys' (time) order; an append numbers after the greatest key, so the old ones
		 * must be gone first */
		for (long i = 0; i < n; i++) {
			json_t *v = json_array_get(c.vals, (size_t)i);
			store_batch_append(c.b, NS_AUDIT, json_string_value(v),
			                   json_string_length(v));
		}
		rc = n == 0 ? 0 : store_batch_commit(s, c.b) ? -1 : n;
		if (n)
			c.b = NULL;
	}
	store_batch_free(c.b);
	json_decref(c.vals);
	return rc;
}
