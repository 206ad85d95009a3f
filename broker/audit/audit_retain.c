/* audit_retain.c — retention of the audit log (hub.audit_retention_days; see audit_tree.h).
 *
 * Purged records leave their tree behind: audit.base keeps the frontier of the purged prefix
 * [0, k), the hashes of the perfect subtrees that cover it. Every later head's root and every
 * later record's audit path can be computed from it and the retained records, so the tree and
 * its numbering go on across a purge (no new epoch); only proofs of purged records are gone. */
#include "audit.h"
#include "audit_tree_int.h"
#include <stdlib.h>
#include <string.h>

struct old_ctx {
	int64_t cutoff;
	uint64_t first, n, limit;
};

static int count_old(void *arg, uint64_t seq, const json_t *rec)
{
	struct old_ctx *c = arg;
	if (seq != c->first + c->n || c->n >= c->limit)
		return 1;
	if (json_integer_value(json_object_get(rec, "at")) >= c->cutoff)
		return 1;
	c->n++;
	return 0;
}

static void seq_key(unsigned char k[8], uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		k[i] = (unsigned char)(seq >> (56 - 8 * i));
}

long audit_retain(store *s, int64_t days, int64_t now, long max)
{
	merkle_frontier base, tree;
	if (days <= 0 || max <= 0)
		return 0;
	if (tree_state_get(s, BASE_KEY, &base) || tree_state_get(s, TREE_KEY, &tree))
		return -1;
	/* only records a head covers (their leaf hashes are kept), and never the newest: the next
	 * sequence number is one past the greatest key in the log */
	uint64_t covered = tree.size > base.size ? tree.size - base.size : 0;
	long total = store_count(s, NS_AUDIT);
	if (total <= 1 || covered == 0)
		return 0;
	struct old_ctx c = {now - days * 86400, base.size, 0, covered};
	if (c.limit > (uint64_t)total - 1)
		c.limit = (uint64_t)total - 1;
	if (c.limit > (uint64_t)max)
		c.limit = (uint64_t)max;
	audit_each_seq(s, count_old, &c);
	if (c.n == 0)
		return 0;
	merkle_hash *L = calloc(c.n, sizeof *L);
	if (!L || leaf_hashes_get(s, base.size, base.size + c.n, L)) {
		free(L);
		return -1;
	}
	store_batch *b = store_batch_new();
	uint64_t from = base.size;
	for (uint64_t i = 0; i < c.n; i++) {
		unsigned char k[8];
		seq_key(k, from + i);
		store_batch_del(b, NS_AUDIT, k, sizeof k);
		merkle_frontier_add(&base, L[i]);
	}
	free(L);
	/* the leaf-hash chunks wholly below the new base */
	for (uint64_t ch = from / LH_CHUNK; ch < base.size / LH_CHUNK; ch++) {
		char k[32];
		chunk_key(k, ch);
		store_batch_del(b, NS_META, k, strlen(k));
	}
	char *bs = tree_state_json(&base);
	if (bs)
		store_batch_put(b, NS_META, BASE_KEY, strlen(BASE_KEY), bs, strlen(bs), 0);
	json_t *after =
	    json_pack("{s:I, s:I}", "purged", (json_int_t)c.n, "base_size", (json_int_t)base.size);
	int rc = bs ? audit_batch_put(b, "idhub (hub.audit_retention_days)", "audit.purge", "",
	                              NULL, after)
	            : -1;
	json_decref(after);
	free(bs);
	if (rc) {
		store_batch_free(b);
		return -1;
	}
	return store_batch_commit(s, b) ? -1 : (long)c.n;
}
