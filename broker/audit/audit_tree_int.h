/* audit_tree_int.h — inside broker/audit/ only: the tree state's keys in NS_META and the helpers
 * audit_tree.c, audit_verify.c and audit_retain.c share. */
#ifndef IDHUB_AUDIT_TREE_INT_H
#define IDHUB_AUDIT_TREE_INT_H
#include "audit_tree.h"

#define TREE_KEY "audit.tree"
#define BASE_KEY "audit.base"
#define HEAD_KEY "audit.head"
#define LH_CHUNK 1024 /* leaf hashes per audit.lh.<chunk> value */

/* The records from sequence number first on, as leaf hashes; stops at the first record out of
 * sequence (bad set, why says how). Records before first are skipped when skip is set (the tree
 * has them), else they are out of sequence (inserted before the retained log). */
typedef struct audit_records {
	uint64_t first;
	merkle_hash *leaves;
	size_t n, cap;
	int bad, oom, skip;
	char why[200];
} audit_records;

int records_load(store *s, uint64_t first, int skip, audit_records *r);
/* A frontier stored as JSON under name ({size 0} when absent); 0 or -1. */
int tree_state_get(store *s, const char *name, merkle_frontier *f);
char *tree_state_json(const merkle_frontier *f);
void chunk_key(char out[32], uint64_t chunk);
int leaf_hashes_get(store *s, uint64_t from, uint64_t to, merkle_hash *out);

#endif
