/* audit_tree.c — the audit log's Merkle tree state, signed heads, verify and proofs (see
 * audit_tree.h); retention is in audit_retain.c. */
#include "audit_tree.h"
#include "audit_tree_int.h"
#include "../util/arena.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

/* ---- frontiers and leaf-hash chunks in NS_META ---- */

int tree_state_get(store *s, const char *name, merkle_frontier *f)
{
	memset(f, 0, sizeof *f);
	void *v;
	size_t n;
	int rc = store_get(s, NS_META, name, strlen(name), &v, &n, NULL);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc)
		return -1;
	json_t *o = json_loadb(v, n, 0, NULL);
	free(v);
	json_t *a = json_object_get(o, "frontier");
	json_int_t size = json_integer_value(json_object_get(o, "size"));
	rc = json_is_array(a) && size >= 0 && json_array_size(a) <= MERKLE_MAX_PATH ? 0 : -1;
	f->size = (uint64_t)size;
	for (size_t i = 0; rc == 0 && i < json_array_size(a); i++)
		rc = merkle_unhex(json_string_value(json_array_get(a, i)), f->h[i]);
	f->n = (int)json_array_size(a);
	/* a frontier has one subtree per set bit of its size */
	if (rc == 0 && f->n != __builtin_popcountll(f->size))
		rc = -1;
	json_decref(o);
	return rc;
}

char *tree_state_json(const merkle_frontier *f)
{
	json_t *a = json_array();
	for (int i = 0; i < f->n; i++) {
		char hx[65];
		merkle_hex(f->h[i], hx);
		json_array_append_new(a, json_string(hx));
	}
	json_t *o = json_pack("{s:I, s:o}", "size", (json_int_t)f->size, "frontier", a);
	char *js = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return js;
}

void chunk_key(char out[32], uint64_t chunk)
{
	snprintf(out, 32, "audit.lh.%016llx", (unsigned long long)chunk);
}

/* Reads the covered leaf hashes [from, to) into out; 0, or -1 when one is not stored. */
int leaf_hashes_get(store *s, uint64_t from, uint64_t to, merkle_hash *out)
{
	for (uint64_t i = from; i < to;) {
		uint64_t chunk = i / LH_CHUNK, end = (chunk + 1) * LH_CHUNK;
		if (end > to)
			end = to;
		char k[32];
		chunk_key(k, chunk);
		void *v;
		size_t n;
		if (store_get(s, NS_META, k, strlen(k), &v, &n, NULL))
			return -1;
		if (n < (end - chunk * LH_CHUNK) * MERKLE_HASH) {
			free(v);
			return -1; /* a chunk shorter than the heads covered */
		}
		memcpy(out[i - from], (char *)v + (i % LH_CHUNK) * MERKLE_HASH,
		       (end - i) * MERKLE_HASH);
		free(v);
		i = end;
	}
	return 0;
}

/* ---- the records ---- */

static int load_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expires)
{
	(void)expires;
	audit_records *r = arg;
	uint64_t want = r->first + r->n;
	if (klen != 8) {
		r->bad = 1;
		snprintf(r->why, sizeof r->why,
		         "a record whose key is not a sequence number was inserted here");
		return 1;
	}
	uint64_t seq = 0;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | ((const unsigned char *)key)[i];
	if (seq < r->first && r->skip)
		return 0; /* already in the tree */
	if (seq != want) {
		r->bad = 1;
		snprintf(r->why, sizeof r->why,
		         seq > want
		             ? "missing: the next record is %llu (deleted)"
		             : "a record numbered %llu, before the retained log, was inserted",
		         (unsigned long long)seq);
		return 1;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		merkle_hash *l = realloc(r->leaves, cap * sizeof *l);
		if (!l) {
			r->oom = 1;
			return 1;
		}
		r->leaves = l;
		r->cap = cap;
	}
	merkle_leaf(val, vlen, r->leaves[r->n++]);
	return 0;
}

int records_load(store *s, uint64_t first, int skip, audit_records *r)
{
	memset(r, 0, sizeof *r);
	r->first = first;
	r->skip = skip;
	int rc = store_iter(s, NS_AUDIT, load_one, r);
	if (rc < 0 || r->oom) {
		free(r->leaves);
		r->leaves = NULL;
		return -1;
	}
	return 0;
}

struct seq_ctx {
	int (*fn)(void *arg, uint64_t seq, const json_t *rec);
	void *arg;
};

static int seq_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                   int64_t expires)
{
	(void)expires;
	struct seq_ctx *c = arg;
	uint64_t seq = 0;
	for (size_t i = 0; i < klen && i < 8; i++)
		seq = seq << 8 | ((const unsigned char *)key)[i];
	json_t *rec = json_loadb(val, vlen, 0, NULL);
	int rc = rec ? c->fn(c->arg, seq, rec) : 0;
	json_decref(rec);
	return rc;
}

int audit_each_seq(store *s, int (*fn)(void *arg, uint64_t seq, const json_t *rec), void *arg)
{
	struct seq_ctx c = {fn, arg};
	return store_iter(s, NS_AUDIT, seq_one, &c);
}

/* ---- signed heads ---- */

static int fail(char **err, const char *msg)
{
	if (err)
		*err = strdup(msg);
	return -1;
}

/* Adds the leaf hashes [f->size, upto) of r to the chunks in batch b and to f. */
static int extend(store *s, store_batch *b, merkle_frontier *f, const audit_records *r)
{
	uint64_t upto = r->first + r->n;
	while (f->size < upto) {
		uint64_t chunk = f->size / LH_CHUNK;
		unsigned char buf[LH_CHUNK * MERKLE_HASH];
		size_t have = (size_t)(f->size % LH_CHUNK) * MERKLE_HASH;
		if (have && leaf_hashes_get(s, chunk * LH_CHUNK, f->size, (merkle_hash *)buf))
			return -1;
		while (f->size < upto && (f->size / LH_CHUNK) == chunk) {
			const unsigned char *leaf = r->leaves[f->size - r->first];
			memcpy(buf + have, leaf, MERKLE_HASH);
			have += MERKLE_HASH;
			merkle_frontier_add(f, leaf);
		}
		char k[32];
		chunk_key(k, chunk);
		store_batch_put(b, NS_META, k, strlen(k), buf, have, 0);
	}
	return 0;
}

int audit_tree_head(store *s, const audit_signer *k, const char *iss, char **err)
{
	merkle_frontier f, base;
	if (tree_state_get(s, TREE_KEY, &f) || tree_state_get(s, BASE_KEY, &base))
		return fail(err, "the audit tree state is unreadable");
	if (f.size < base.size)
		f = base;
	audit_records r;
	if (records_load(s, f.size, 1, &r))
		return fail(err, "cannot read the audit log");
	/* a gap or an insertion stops the tree before it: only a dense log is signed */
	store_batch *b = store_batch_new();
	int rc = b ? extend(s, b, &f, &r) : -1;
	free(r.leaves);
	merkle_hash root;
	merkle_frontier_root(&f, root);
	char hx[65];
	merkle_hex(root, hx);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	json_t *p = json_pack("{s:s, s:I, s:s, s:I}", "iss", iss, "tree_size", (json_int_t)f.size,
	                      "root_hash", hx, "timestamp",
	                      (json_int_t)tv.tv_sec * 1000 + tv.tv_usec / 1000);
	arena *a = arena_new();
	char *jws = rc == 0 && p && a ? jws_sign(a, k->pkey, k->alg, k->kid, "audit-sth", p) : NULL;
	char *ts = tree_state_json(&f);
	if (jws && ts) {
		store_batch_put(b, NS_META, TREE_KEY, strlen(TREE_KEY), ts, strlen(ts), 0);
		store_batch_put(b, NS_META, HEAD_KEY, strlen(HEAD_KEY), jws, strlen(jws), 0);
		rc = store_batch_commit(s, b);
	} else {
		store_batch_free(b);
		rc = -1;
	}
	free(ts);
	json_decref(p);
	arena_free(a);
	return rc ? fail(err, "cannot sign or store the audit tree head") : 0;
}

char *audit_head_jws(store *s)
{
	void *v;
	size_t n;
	if (store_get(s, NS_META, HEAD_KEY, strlen(HEAD_KEY), &v, &n, NULL))
		return NULL;
	return v;
}

int audit_head_check(const char *jws, audit_key_fn find, void *arg, audit_head *out, char **err)
{
	memset(out, 0, sizeof *out);
	arena *a = arena_new();
	jws_parsed p;
	if (!a || jws_parse(a, jws, 16384, &p)) {
		arena_free(a);
		return fail(err, "the signed tree head is not a JWS");
	}
	jws_alg alg = JWS_ALG_NONE;
	EVP_PKEY *key = p.kid ? find(arg, p.kid, &alg) : NULL;
	const char *typ = json_string_value(json_object_get(p.header, "typ"));
	json_int_t size = json_integer_value(json_object_get(p.payload, "tree_size"));
	int rc = -1;
	/* the algorithm is the published key's, never the header's choice (jws_verify checks they
	 * agree) */
	if (!key)
		fail(err, "the tree head's key (kid) is not published (any more)");
	else if (jws_verify(&p, key, alg))
		fail(err, "the tree head's signature does not verify with the published key");
	else if (!typ || strcmp(typ, "audit-sth") != 0 || size < 0 ||
	         merkle_unhex(json_string_value(json_object_get(p.payload, "root_hash")),
	                      out->root))
		fail(err, "the tree head is malformed");
	else {
		out->size = (uint64_t)size;
		out->timestamp_ms = json_integer_value(json_object_get(p.payload, "timestamp"));
		snprintf(out->kid, sizeof out->kid, "%s", p.kid);
		rc = 0;
	}
	jws_parsed_free(&p);
	arena_free(a);
	return rc;
}
