/* pairwise.c — pairwise subject derivation and registry (see pairwise.h). */
#include "pairwise.h"
#include "../audit/audit.h"
#include "../util/b64url.h"
#include "../util/log.h"
#include "../util/random.h"
#include "../metrics/metrics.h"
#include <jansson.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_INDEX "pairwise.index"
#define SECRET_DERIVE "pairwise.derive"
#define LAST_SEEN_REFRESH 86400

static int read_secret(store *s, const char *name, unsigned char out[32])
{
	void *v;
	size_t n;
	int rc = store_get(s, NS_SECRETS, name, strlen(name), &v, &n, NULL);
	if (rc)
		return rc;
	if (n != 32) {
		free(v);
		return STORE_ERR;
	}
	memcpy(out, v, 32);
	free(v);
	return 0;
}

static int has_records(store *s)
{
	return store_count(s, NS_PAIRWISE) > 0;
}

int pairwise_init(pairwise_ctx *pw, store *s, char **err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int a = read_secret(s, SECRET_INDEX, pw->index_key);
		int b = read_secret(s, SECRET_DERIVE, pw->derive_key);
		if (a == 0 && b == 0)
			return 0;
		if (a != STORE_NOTFOUND || b != STORE_NOTFOUND || has_records(s)) {
			/* Never regenerate silently: new secrets would change every citizen's sub.
			 */
			if (asprintf(err, "pairwise secrets are missing or damaged while pairwise "
			                  "records exist; "
			                  "restore the state directory from a backup (refusing to "
			                  "derive new subs)") < 0)
				*err = NULL;
			return -1;
		}
		unsigned char ik[32], dk[32];
		if (random_bytes(ik, 32) || random_bytes(dk, 32)) {
			*err = strdup("random number generator failed");
			return -1;
		}
		store_batch *bt = store_batch_new();
		store_batch_put_new(bt, NS_SECRETS, SECRET_INDEX, strlen(SECRET_INDEX), ik, 32, 0);
		store_batch_put_new(bt, NS_SECRETS, SECRET_DERIVE, strlen(SECRET_DERIVE), dk, 32,
		                    0);
		/* a change the daemon makes itself: audited with it (never the secret) */
		audit_batch_put(bt, "idhub (first start)", "secrets.create", "pairwise", NULL,
		                NULL);
		int rc = store_batch_commit(s, bt);
		if (rc == 0 && store_sync(s) != 0) {
			*err = strdup("cannot flush the pairwise secrets to disk");
			return -1;
		}
		if (rc == 0) {
			log_info("pairwise: created the derivation secrets (first start)");
			continue; /* read them back */
		}
		if (rc != STORE_EXISTS) {
			*err = strdup("cannot store the pairwise secrets");
			return -1;
		}
		/* another process created them at the same moment: read theirs */
	}
	*err = strdup("cannot load the pairwise secrets");
	return -1;
}

static void keyed_hash(const unsigned char key[32], const char *sector, const char *idp,
                       const char *subject, int gen, unsigned char out[32])
{
	/* NUL separators make the encoding injective: ("a","bc") and ("ab","c") differ; after an
	 * erasure the generation is appended, so the new sub cannot be linked to the old */
	char g[16] = "";
	size_t lg = gen > 0 ? (size_t)snprintf(g, sizeof g, "%c%d", 0, gen) : 0;
	size_t ls = strlen(sector) + 1, li = strlen(idp) + 1, lu = strlen(subject);
	unsigned char *msg = malloc(ls + li + lu + lg + 1);
	if (!msg)
		abort();
	memcpy(msg, sector, ls);
	memcpy(msg + ls, idp, li);
	memcpy(msg + ls + li, subject, lu);
	memcpy(msg + ls + li + lu, g, lg);
	unsigned int olen = 32;
	HMAC(EVP_sha256(), key, 32, msg, ls + li + lu + lg, out, &olen);
	free(msg);
}

/* 0 for a live record, 1 for an erasure tombstone (rec->gen set), or STORE_ERR. */
static int parse_record(const void *v, size_t n, pairwise_record *rec)
{
	json_t *j = json_loadb(v, n, 0, NULL);
	if (!j)
		return STORE_ERR;
	memset(rec, 0, sizeof *rec);
	rec->gen = (int)json_integer_value(json_object_get(j, "gen"));
	if (json_is_true(json_object_get(j, "erased"))) {
		json_decref(j);
		return 1;
	}
	const char *sub = json_string_value(json_object_get(j, "sub"));
	const char *idp = json_string_value(json_object_get(j, "idp"));
	int rc = STORE_ERR;
	if (sub && idp && strlen(sub) < sizeof rec->sub && strlen(idp) < sizeof rec->idp) {
		snprintf(rec->sub, sizeof rec->sub, "%s", sub);
		snprintf(rec->idp, sizeof rec->idp, "%s", idp);
		rec->first_seen = json_integer_value(json_object_get(j, "first"));
		rec->last_seen = json_integer_value(json_object_get(j, "last"));
		rc = 0;
	}
	json_decref(j);
	return rc;
}

static char *record_json(const pairwise_record *rec)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:I, s:i}", "sub", rec->sub, "idp", rec->idp,
	                      "first", (json_int_t)rec->first_seen, "last",
	                      (json_int_t)rec->last_seen, "gen", rec->gen);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static void sub_index_key(const char *sector, const char *sub, char *out, size_t outlen,
                          size_t *klen)
{
	size_t ls = strlen(sector);
	snprintf(out, outlen, "%s", sector);
	snprintf(out + ls + 1, outlen - ls - 1, "%s", sub);
	*klen = ls + 1 + strlen(sub);
}

int pairwise_sub(const pairwise_ctx *pw, store *s, const char *sector, const char *idp,
                 const char *subject, int64_t now, char out[44])
{
	/* bounded by config (sector <= 255, IdP id <= 32); refuse rather than truncate a key */
	if (strlen(sector) > 255 || strlen(idp) >= sizeof(((pairwise_record *)0)->idp))
		return STORE_ERR;
	unsigned char lk[32];
	keyed_hash(pw->index_key, sector, idp, subject, 0, lk);
	for (int attempt = 0; attempt < 2; attempt++) {
		void *v;
		size_t n;
		int gen = 0, erased = 0;
		pairwise_record rec;
		int rc = store_get(s, NS_PAIRWISE, lk, sizeof lk, &v, &n, NULL);
		if (rc == 0) {
			rc = parse_record(v, n, &rec);
			free(v);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				memcpy(out, rec.sub, 44);
				if (now - rec.last_seen >= LAST_SEEN_REFRESH) {
					rec.last_seen = now;
					char *js = record_json(&rec);
					/* synced, not deferred: a deferred rewrite read before an
					 * erasure could land after it and undo it */
					if (store_put(s, NS_PAIRWISE, lk, sizeof lk, js, strlen(js),
					              0))
						log_warn("pairwise: could not refresh last_seen");
					free(js);
				}
				return 0;
			}
			erased = 1; /* an erasure tombstone: derive the next generation */
			gen = rec.gen;
		} else if (rc != STORE_NOTFOUND) {
			return rc;
		}
		unsigned char d[32];
		keyed_hash(pw->derive_key, sector, idp, subject, gen, d);
		rec = (pairwise_record){.first_seen = now, .last_seen = now, .gen = gen};
		b64url_encode(rec.sub, d, sizeof d);
		snprintf(rec.idp, sizeof rec.idp, "%s", idp);
		char *js = record_json(&rec);
		char ik[512];
		size_t iklen;
		sub_index_key(sector, rec.sub, ik, sizeof ik, &iklen);
		/* the record and its operator index are written together, durably; in the daemon
		 * group-committed (store_batch_commit_deferred): lost in an OS crash, the record is
		 * derived again identically at the next login (a keyed hash of durable secrets) */
		store_batch *b = store_batch_new();
		if (erased) /* the tombstone gives way to the new generation's record */
			store_batch_put(b, NS_PAIRWISE, lk, sizeof lk, js, strlen(js), 0);
		else
			store_batch_put_new(b, NS_PAIRWISE, lk, sizeof lk, js, strlen(js), 0);
		store_batch_put(b, NS_PAIRWISE_SUB, ik, iklen, lk, sizeof lk, 0);
		rc = store_batch_commit_deferred(s, b);
		free(js);
		if (rc == 0) {
			memcpy(out, rec.sub, 44);
			metrics_new_citizen(); /* first sight: the login counts as a new citizen */
			return 0;
		}
		if (rc != STORE_EXISTS)
			return rc;
		/* a concurrent first login recorded it: read theirs (same value) */
	}
	return STORE_ERR;
}

int pairwise_lookup(store *s, const char *sector, const char *sub, pairwise_record *rec)
{
	char ik[512];
	size_t iklen;
	if (strlen(sector) + strlen(sub) + 2 > sizeof ik)
		return STORE_NOTFOUND;
	sub_index_key(sector, sub, ik, sizeof ik, &iklen);
	void *lk;
	size_t n;
	int rc = store_get(s, NS_PAIRWISE_SUB, ik, iklen, &lk, &n, NULL);
	if (rc)
		return rc;
	void *v;
	size_t vn;
	rc = store_get(s, NS_PAIRWISE, lk, n, &v, &vn, NULL);
	free(lk);
	if (rc)
		return rc;
	rc = parse_record(v, vn, rec);
	free(v);
	return rc == 1 ? STORE_NOTFOUND : rc;
}

int pairwise_forget(store *s, const char *sector, const char *sub, int64_t now)
{
	char ik[512];
	size_t iklen;
	if (strlen(sector) + strlen(sub) + 2 > sizeof ik)
		return STORE_NOTFOUND;
	sub_index_key(sector, sub, ik, sizeof ik, &iklen);
	void *lk, *v;
	size_t n, vn;
	int rc = store_get(s, NS_PAIRWISE_SUB, ik, iklen, &lk, &n, NULL);
	if (rc)
		return rc;
	pairwise_record rec;
	rc = store_get(s, NS_PAIRWISE, lk, n, &v, &vn, NULL);
	if (rc == 0) {
		rc = parse_record(v, vn, &rec);
		free(v);
	}
	if (rc) {
		free(lk);
		return rc < 0 ? rc : STORE_NOTFOUND;
	}
	json_t *t = json_pack("{s:b, s:i, s:I}", "erased", 1, "gen", rec.gen + 1, "erased_at",
	                      (json_int_t)now);
	char *js = json_dumps(t, JSON_COMPACT);
	json_decref(t);
	store_batch *b = store_batch_new();
	store_batch_put(b, NS_PAIRWISE, lk, n, js, strlen(js), 0);
	store_batch_del(b, NS_PAIRWISE_SUB, ik, iklen);
	rc = store_batch_commit(s, b);
	free(js);
	free(lk);
	return rc;
}
