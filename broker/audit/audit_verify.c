/* audit_verify.c — checking the audit log against a signed tree head, and inclusion proofs (see
 * audit_tree.h). */
#include "audit_tree_int.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int problem(audit_problem *p, uint64_t i, const char *why)
{
	p->index = i;
	snprintf(p->why, sizeof p->why, "%s", why);
	return 1;
}

/* Names the first record that differs from the covered leaf hashes L (trusted: they hash to the
 * signed root), or the first missing one. */
static int first_bad(const audit_records *r, const merkle_hash *L, uint64_t size, audit_problem *p)
{
	for (uint64_t i = r->first; i < size; i++) {
		if (i >= r->first + r->n) {
			if (r->bad)
				return problem(p, i, r->why);
			char w[160];
			snprintf(
			    w, sizeof w,
			    "missing: the log ends before it, the signed head covers %llu records "
			    "(truncated)",
			    (unsigned long long)size);
			return problem(p, i, w);
		}
		const unsigned char *leaf = r->leaves[i - r->first];
		if (memcmp(leaf, L[i - r->first], MERKLE_HASH) == 0)
			continue;
		for (uint64_t j = r->first; j < size; j++)
			if (j != i && memcmp(leaf, L[j - r->first], MERKLE_HASH) == 0) {
				char w[160];
				snprintf(
				    w, sizeof w,
				    "out of place: it holds the record the signed head has at %llu "
				    "(reordered or moved)",
				    (unsigned long long)j);
				return problem(p, i, w);
			}
		return problem(
		    p, i,
		    "altered: its hash differs from the one the signed head covers (edited "
		    "or inserted)");
	}
	return 0;
}

int audit_verify(store *s, const audit_head *head, audit_problem *p, char **err)
{
	merkle_frontier base;
	audit_records r;
	if (tree_state_get(s, BASE_KEY, &base) || records_load(s, base.size, 0, &r)) {
		*err = strdup("cannot read the audit log or its tree state");
		return -1;
	}
	int rc = 0;
	merkle_hash *L = NULL, root;
	uint64_t covered = head->size > base.size ? head->size - base.size : 0;
	if (head->size < base.size) {
		rc = problem(p, head->size,
		             "the head is older than the retained log (purged past it)");
		goto out;
	}
	L = calloc(covered ? covered : 1, sizeof *L);
	merkle_tree t = {&base, L, head->size};
	/* the stored leaf hashes are trusted only once they hash to the signed root */
	if (L && leaf_hashes_get(s, base.size, head->size, L) == 0 && merkle_root(&t, root) == 0 &&
	    memcmp(root, head->root, MERKLE_HASH) == 0) {
		if ((rc = first_bad(&r, L, head->size, p)))
			goto out;
	} else if (r.n >= covered) {
		/* the leaf-hash index is damaged: the records alone must give the root */
		merkle_tree tr = {&base, (const merkle_hash *)r.leaves, head->size};
		if (merkle_root(&tr, root) || memcmp(root, head->root, MERKLE_HASH) != 0) {
			rc = problem(p, base.size,
			             "the records, the retained hashes of purged records and the "
			             "leaf-hash index all differ from the signed head");
			goto out;
		}
	} else {
		rc = problem(p, r.first + r.n,
		             r.bad ? r.why
		                   : "missing (truncated); the leaf-hash index differs from the "
		                     "signed head too");
		goto out;
	}
	/* records past the head: not signed yet, but they must still be dense */
	if (r.bad)
		rc = problem(p, r.first + r.n, r.why);
out:
	free(L);
	free(r.leaves);
	return rc;
}

static void hex_add(json_t *a, const merkle_hash h)
{
	char hx[65];
	merkle_hex(h, hx);
	json_array_append_new(a, json_string(hx));
}

json_t *audit_prove(store *s, const audit_head *head, uint64_t m, char **err)
{
	merkle_frontier base;
	audit_records r;
	if (tree_state_get(s, BASE_KEY, &base) || records_load(s, base.size, 0, &r)) {
		*err = strdup("cannot read the audit log or its tree state");
		return NULL;
	}
	json_t *out = NULL;
	merkle_hash root, path[MERKLE_MAX_PATH];
	merkle_tree t = {&base, (const merkle_hash *)r.leaves, head->size};
	int n;
	if (m >= head->size)
		*err = strdup("the latest signed head does not cover that record yet");
	else if (m < base.size)
		*err = strdup("that record was purged (hub.audit_retention_days)");
	else if (r.first + r.n < head->size || merkle_root(&t, root) ||
	         memcmp(root, head->root, MERKLE_HASH) != 0)
		*err =
		    strdup("the log does not match the signed head: run 'idhubctl audit verify'");
	else if ((n = merkle_path(&t, m, path)) < 0)
		*err = strdup("cannot compute the audit path");
	else {
		json_t *a = json_array();
		for (int i = 0; i < n; i++)
			hex_add(a, path[i]);
		char lh[65], rh[65];
		merkle_hex(r.leaves[m - base.size], lh);
		merkle_hex(root, rh);
		out = json_pack("{s:I, s:I, s:s, s:o, s:s}", "leaf_index", (json_int_t)m,
		                "tree_size", (json_int_t)head->size, "leaf_hash", lh, "audit_path",
		                a, "root_hash", rh);
	}
	free(r.leaves);
	return out;
}
