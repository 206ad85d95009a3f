/* lifecycle.c — key rotation, retirement, purge and emergency revocation (see lifecycle.h). They
 * work on the stored JSON records, so private keys are never decoded here. */
#include "lifecycle.h"
#include "../audit/audit.h"
#include "../util/log.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KEYS 256
#define RETRIES 5
/* A daemon rereads the keys at most once a second and times are whole seconds: a next key counts
 * as published this much after its creation time, so no RP's fresh JWKS copy can lack it. */
#define PUBLISH_SLACK 2

typedef struct krec {
	char kid[48];
	json_t *rec; /* the whole record; modified in place */
	int changed, removed;
} krec;

typedef struct kset {
	krec k[MAX_KEYS];
	int n;
	uint64_t gen;
} kset;

static int collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                   int64_t expires)
{
	(void)expires;
	kset *ks = arg;
	if (ks->n >= MAX_KEYS || klen >= sizeof ks->k[0].kid)
		return 0;
	json_t *rec = json_loadb(val, vlen, 0, NULL);
	if (!json_is_object(rec)) {
		json_decref(rec);
		return 0;
	}
	krec *k = &ks->k[ks->n++];
	memset(k, 0, sizeof *k);
	memcpy(k->kid, key, klen);
	k->kid[klen] = 0;
	k->rec = rec;
	return 0;
}

static void kset_free(kset *ks)
{
	for (int i = 0; i < ks->n; i++) {
		json_t *pem = json_object_get(ks->k[i].rec, "pem");
		if (json_is_string(pem))
			memset((char *)json_string_value(pem), 0, json_string_length(pem));
		json_decref(ks->k[i].rec);
	}
	ks->n = 0;
}

static int kset_load(store *s, kset *ks)
{
	ks->n = 0;
	ks->gen = keys_generation(s);
	return store_iter(s, NS_KEYS, collect, ks) < 0 ? STORE_ERR : 0;
}

static const char *st(const krec *k)
{
	return json_string_value(json_object_get(k->rec, "state"));
}

static const char *alg(const krec *k)
{
	return json_string_value(json_object_get(k->rec, "alg"));
}

static int64_t num(const krec *k, const char *f)
{
	return json_integer_value(json_object_get(k->rec, f));
}

static int is(const krec *k, const char *state)
{
	return !k->removed && st(k) && strcmp(st(k), state) == 0;
}

static void note(keys_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(keys_report *r, const char *fmt, ...)
{
	if (!r || r->nnotes >= KEYS_REPORT_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->note[r->nnotes++], sizeof r->note[0], fmt, ap);
	va_end(ap);
}

static void record_change(keys_report *r, const char *kid, const char *a, const char *from,
                          const char *to)
{
	if (!r || r->n >= KEYS_REPORT_MAX)
		return;
	snprintf(r->change[r->n].kid, sizeof r->change[0].kid, "%s", kid);
	snprintf(r->change[r->n].alg, sizeof r->change[0].alg, "%s", a ? a : "");
	snprintf(r->change[r->n].from, sizeof r->change[0].from, "%s", from ? from : "");
	snprintf(r->change[r->n].to, sizeof r->change[0].to, "%s", to ? to : "");
	r->n++;
}

static void set_state(keys_report *r, krec *k, const char *to, int64_t now)
{
	record_change(r, k->kid, alg(k), st(k), to);
	if (strcmp(to, "current") == 0)
		json_object_set_new(k->rec, "activates", json_integer(now));
	if (strcmp(to, "retired") == 0)
		json_object_set_new(k->rec, "retires", json_integer(now));
	json_object_set_new(k->rec, "state", json_string(to));
	k->changed = 1;
}

static void remove_key(keys_report *r, krec *k)
{
	record_change(r, k->kid, alg(k), st(k), "");
	k->removed = 1;
}

/* New keys a plan asks for, made before the commit so they join its transaction. */
typedef struct newkeys {
	int n;
	char kid[2 * JWS_ALG_COUNT][48];
	char *rec[2 * JWS_ALG_COUNT];
	jws_alg alg[2 * JWS_ALG_COUNT];
	key_state state[2 * JWS_ALG_COUNT];
} newkeys;

static int newkeys_make(newkeys *nk, const jws_alg *algs, int n, key_state st, int64_t now)
{
	for (int i = 0; i < n; i++) {
		int k = nk->n;
		nk->rec[k] = keys_new_record(algs[i], st, now, nk->kid[k]);
		if (!nk->rec[k])
			return STORE_ERR;
		nk->alg[k] = algs[i];
		nk->state[k] = st;
		nk->n++;
	}
	return 0;
}

static void newkeys_free(newkeys *nk)
{
	for (int i = 0; i < nk->n; i++)
		keys_free_record(nk->rec[i]);
	nk->n = 0;
}

/* Writes the changed, removed and new records with the generation bump, in one transaction:
 * a concurrent writer's plan fails on the generation and is made again from what we wrote (so
 * two processes never both add a next key). */
static int kset_commit(store *s, kset *ks, const newkeys *nk, const keys_report *r)
{
	store_batch *b = store_batch_new();
	if (!b)
		return STORE_ERR;
	int any = nk->n > 0;
	for (int i = 0; i < nk->n; i++)
		store_batch_put(b, NS_KEYS, nk->kid[i], strlen(nk->kid[i]), nk->rec[i],
		                strlen(nk->rec[i]), 0);
	for (int i = 0; i < ks->n; i++) {
		krec *k = &ks->k[i];
		if (k->removed) {
			store_batch_del(b, NS_KEYS, k->kid, strlen(k->kid));
			any = 1;
		} else if (k->changed) {
			char *js = json_dumps(k->rec, JSON_COMPACT);
			if (!js) {
				store_batch_free(b);
				return STORE_ERR;
			}
			store_batch_put(b, NS_KEYS, k->kid, strlen(k->kid), js, strlen(js), 0);
			memset(js, 0, strlen(js));
			free(js);
			any = 1;
		}
	}
	if (!any) {
		store_batch_free(b);
		return 0;
	}
	keys_batch_bump(b, ks->gen);
	if (r && r->audit_who) {
		/* the record commits with the change: a kill cannot leave one without the other */
		json_t *after = keys_report_json(r);
		/* no target given (keys generate): the key the change is about */
		const char *target = r->audit_target ? r->audit_target
		                     : r->n          ? r->change[0].kid
		                                     : NULL;
		int arc = audit_batch_put(b, r->audit_who, r->audit_what, target, NULL, after);
		json_decref(after);
		if (arc) {
			store_batch_free(b);
			return STORE_ERR;
		}
	}
	int rc = store_batch_commit(s, b);
	/* a durable commit is synced on its own; a flush that fails now means the disk refuses */
	if (rc == 0 && store_sync(s))
		rc = STORE_ERR;
	return rc;
}

typedef int (*plan_fn)(kset *ks, int64_t now, const void *arg, keys_report *r, jws_alg *gen_next,
                       int *ngen, jws_alg *gen_current, int *ngen_current);

/* Loads, plans, commits; retries from a fresh read when another writer committed in between. */
static int run(store *s, plan_fn plan, const void *arg, keys_report *r)
{
	for (int attempt = 0; attempt < RETRIES; attempt++) {
		kset *ks = calloc(1, sizeof *ks);
		if (!ks)
			return STORE_ERR;
		if (r) {
			keys_report keep = {.audit_who = r->audit_who,
			                    .audit_what = r->audit_what,
			                    .audit_target = r->audit_target};
			*r = keep;
		}
		jws_alg gen_next[JWS_ALG_COUNT], gen_cur[JWS_ALG_COUNT];
		int ngen = 0, ncur = 0;
		newkeys nk = {0};
		int64_t now = store_now(s);
		int rc = kset_load(s, ks);
		if (rc == 0)
			rc = plan(ks, now, arg, r, gen_next, &ngen, gen_cur, &ncur);
		if (rc == 0)
			rc = newkeys_make(&nk, gen_cur, ncur, KEY_CURRENT, now);
		if (rc == 0)
			rc = newkeys_make(&nk, gen_next, ngen, KEY_NEXT, now);
		if (rc == 0) /* reported before the commit: the audit record holds the report */
			for (int i = 0; i < nk.n; i++)
				record_change(r, nk.kid[i], jws_alg_name(nk.alg[i]), "",
				              key_state_name(nk.state[i]));
		if (rc == 0)
			rc = kset_commit(s, ks, &nk, r);
		newkeys_free(&nk);
		kset_free(ks);
		free(ks);
		if (rc != STORE_EXISTS)
			return rc;
	}
	return STORE_ERR;
}

static krec *find_kid(kset *ks, const char *kid)
{
	for (int i = 0; i < ks->n; i++)
		if (!ks->k[i].removed && strcmp(ks->k[i].kid, kid) == 0)
			return &ks->k[i];
	return NULL;
}

static int plan_rotate(kset *ks, int64_t now, const void *arg, keys_report *r, jws_alg *gen,
                       int *ngen, jws_alg *gcur, int *ncur)
{
	const keys_policy *p = arg;
	(void)gcur;
	(void)ncur;
	for (int a = 0; a < JWS_ALG_COUNT; a++) {
		const char *an = jws_alg_name((jws_alg)a);
		krec *eligible = NULL, *waiting = NULL;
		int has_current = 0;
		for (int i = 0; i < ks->n; i++) {
			krec *k = &ks->k[i];
			if (!alg(k) || strcmp(alg(k), an) != 0)
				continue;
			has_current |= is(k, "current");
			if (is(k, "next")) {
				/* published for a whole JWKS cache lifetime: every RP has it now */
				if (num(k, "created") + PUBLISH_SLACK + p->jwks_max_age <= now) {
					if (!eligible ||
					    num(k, "created") < num(eligible, "created"))
						eligible = k;
				} else if (!waiting ||
				           num(k, "created") < num(waiting, "created")) {
					waiting = k;
				}
			}
		}
		if (!has_current)
			continue;
		if (eligible) {
			for (int i = 0; i < ks->n; i++)
				if (is(&ks->k[i], "current") && strcmp(alg(&ks->k[i]), an) == 0)
					set_state(r, &ks->k[i], "retired", now);
			set_state(r, eligible, "current", now);
			note(r,
			     "%s: %s signs from now on; the key it replaces stays published until "
			     "its tokens expire",
			     an, eligible->kid);
			if (!waiting)
				gen[(*ngen)++] = (jws_alg)a; /* ready for the next rotation */
		} else if (waiting) {
			note(
			    r,
			    "%s: next key %s was published less than %lld s ago; it can sign from "
			    "%lld (run rotate again then)",
			    an, waiting->kid, (long long)p->jwks_max_age,
			    (long long)(num(waiting, "created") + PUBLISH_SLACK + p->jwks_max_age));
		} else {
			gen[(*ngen)++] = (jws_alg)a;
			note(
			    r,
			    "%s: a next key is published now; it can sign after %lld s (run rotate "
			    "again then)",
			    an, (long long)(p->jwks_max_age + PUBLISH_SLACK));
		}
	}
	return 0;
}

int keys_rotate(store *s, const keys_policy *p, keys_report *r)
{
	return run(s, plan_rotate, p, r);
}

static int plan_retire(kset *ks, int64_t now, const void *arg, keys_report *r, jws_alg *gen,
                       int *ngen, jws_alg *gcur, int *ncur)
{
	(void)gen;
	(void)ngen;
	(void)gcur;
	(void)ncur;
	krec *k = find_kid(ks, arg);
	if (!k) {
		note(r, "no key %s", (const char *)arg);
		return STORE_NOTFOUND;
	}
	if (is(k, "retired")) {
		note(r, "%s is already retired", k->kid);
		return 0;
	}
	if (is(k, "current")) {
		int others = 0;
		for (int i = 0; i < ks->n; i++)
			others += &ks->k[i] != k && is(&ks->k[i], "current") &&
			          strcmp(alg(&ks->k[i]), alg(k)) == 0;
		if (!others) {
			note(r,
			     "%s is the only current %s key: use 'keys rotate' (or 'keys rotate "
			     "--now --revoke %s' if it is compromised)",
			     k->kid, alg(k), k->kid);
			return STORE_ERR;
		}
	}
	set_state(r, k, "retired", now);
	return 0;
}

int keys_retire(store *s, const char *kid, keys_report *r)
{
	return run(s, plan_retire, kid, r);
}

static int plan_purge(kset *ks, int64_t now, const void *arg, keys_report *r, jws_alg *gen,
                      int *ngen, jws_alg *gcur, int *ncur)
{
	(void)gen;
	(void)ngen;
	(void)gcur;
	(void)ncur;
	const keys_policy *p = arg;
	for (int i = 0; i < ks->n; i++) {
		krec *k = &ks->k[i];
		if (!is(k, "retired"))
			continue;
		/* every token it signed was issued before it retired, so expired by now */
		if (num(k, "retires") + p->token_lifetime <= now)
			remove_key(r, k);
		else
			note(r, "%s stays published until %lld (its last tokens expire)", k->kid,
			     (long long)(num(k, "retires") + p->token_lifetime));
	}
	return 0;
}

int keys_purge(store *s, const keys_policy *p, keys_report *r)
{
	return run(s, plan_purge, p, r);
}

static int plan_revoke(kset *ks, int64_t now, const void *arg, keys_report *r, jws_alg *gen,
                       int *ngen, jws_alg *gcur, int *ncur)
{
	(void)gen;
	(void)ngen;
	krec *k = find_kid(ks, arg);
	if (!k) {
		note(r, "no key %s", (const char *)arg);
		return STORE_NOTFOUND;
	}
	int was_current = is(k, "current");
	remove_key(r, k);
	note(r,
	     "%s is no longer published: ID tokens and access tokens it signed fail signature "
	     "checks at every service that refetches the JWKS, and the hub's userinfo refuses its "
	     "access tokens now",
	     k->kid);
	note(r, "sessions that services opened with those tokens are theirs to end: the hub keeps "
	        "none; tell them to sign those people out");
	if (!was_current)
		return 0;
	krec *next = NULL;
	for (int i = 0; i < ks->n; i++) {
		krec *c = &ks->k[i];
		if (is(c, "next") && strcmp(alg(c), alg(k)) == 0 &&
		    (!next || num(c, "created") > num(next, "created")))
			next = c;
	}
	if (next) {
		set_state(r, next, "current", now);
		note(r,
		     "%s signs from now on; services that cached the JWKS before it was published "
		     "may fail to verify new tokens until they refetch",
		     next->kid);
	} else {
		gcur[(*ncur)++] = jws_alg_from_name(alg(k));
		note(
		    r,
		    "a new %s key signs from now on; services fail to verify new tokens until they "
		    "refetch the JWKS (at most hub.jwks_max_age)",
		    alg(k));
	}
	return 0;
}

int keys_revoke_now(store *s, const char *kid, keys_report *r)
{
	return run(s, plan_revoke, kid, r);
}

static int plan_prepare(kset *ks, int64_t now, const void *arg, keys_report *r, jws_alg *gen,
                        int *ngen, jws_alg *gcur, int *ncur)
{
	(void)now;
	(void)arg;
	(void)r;
	(void)gcur;
	(void)ncur;
	for (int a = 0; a < JWS_ALG_COUNT; a++) {
		const char *an = jws_alg_name((jws_alg)a);
		int cur = 0, nxt = 0;
		for (int i = 0; i < ks->n; i++) {
			if (!alg(&ks->k[i]) || strcmp(alg(&ks->k[i]), an) != 0)
				continue;
			cur |= is(&ks->k[i], "current");
			nxt |= is(&ks->k[i], "next");
		}
		if (cur && !nxt)
			gen[(*ngen)++] = (jws_alg)a;
	}
	return 0;
}

int keys_prepare_next(store *s, keys_report *r)
{
	return run(s, plan_prepare, NULL, r);
}

static int plan_generate(kset *ks, int64_t now, const void *arg, keys_report *r, jws_alg *gen,
                         int *ngen, jws_alg *gcur, int *ncur)
{
	(void)ks;
	(void)now;
	(void)r;
	(void)gcur;
	(void)ncur;
	gen[(*ngen)++] = *(const jws_alg *)arg;
	return 0;
}

int keys_generate_next(store *s, jws_alg alg, keys_report *r)
{
	if ((int)alg < 0 || alg >= JWS_ALG_COUNT)
		return STORE_ERR;
	return run(s, plan_generate, &alg, r);
}

json_t *keys_report_json(const keys_report *r)
{
	json_t *o = json_object(), *ch = json_array(), *notes = json_array();
	for (int i = 0; i < r->n; i++)
		json_array_append_new(ch, json_pack("{s:s, s:s, s:s, s:s}", "kid", r->change[i].kid,
		                                    "alg", r->change[i].alg, "from",
		                                    r->change[i].from, "to", r->change[i].to));
	for (int i = 0; i < r->nnotes; i++)
		json_array_append_new(notes, json_string(r->note[i]));
	json_object_set_new(o, "changes", ch);
	json_object_set_new(o, "notes", notes);
	return o;
}
