/* merkle.h — the RFC 9162 (Certificate Transparency 2.0) Merkle tree hash over the audit records:
 * leaf = SHA-256(0x00 || record bytes), node = SHA-256(0x01 || left || right), the §2.1 shape for
 * any size (the left subtree holds the largest power of two below the size).
 *
 * A "frontier" (compact range) of a tree of size n is the hashes of the perfect subtrees that the
 * binary decomposition of n gives, left to right (at most 64): appending a leaf is O(log n), and
 * the root is the frontier folded from the right. The frontier at size k also stands for leaves
 * [0, k) once they are purged (retention): every audit path of a later leaf that reaches into
 * [0, k) uses exactly one of its subtrees. */
#ifndef IDHUB_AUDIT_MERKLE_H
#define IDHUB_AUDIT_MERKLE_H
#include <stddef.h>
#include <stdint.h>

#define MERKLE_HASH 32
#define MERKLE_MAX_PATH 64

typedef unsigned char merkle_hash[MERKLE_HASH];

void merkle_leaf(const void *rec, size_t len, merkle_hash out);
void merkle_node(const merkle_hash l, const merkle_hash r, merkle_hash out);

typedef struct merkle_frontier {
	uint64_t size;
	int n;                          /* subtrees, largest first */
	merkle_hash h[MERKLE_MAX_PATH]; /* h[i] covers 2^(bit) leaves for each set bit of size */
} merkle_frontier;

/* Appends one leaf hash: O(log n). */
void merkle_frontier_add(merkle_frontier *f, const merkle_hash leaf);
/* The tree's root; for size 0 the hash of the empty string. */
void merkle_frontier_root(const merkle_frontier *f, merkle_hash out);

/* A tree of size n whose leaves [0, base->size) are known only by base (may be NULL for 0) and
 * whose leaves [base->size, n) are given in leaves[0 .. n - base->size). */
typedef struct merkle_tree {
	const merkle_frontier *base;
	const merkle_hash *leaves;
	uint64_t size;
} merkle_tree;

/* The root of t; 0, or -1 when base does not fit (t->size < base->size). */
int merkle_root(const merkle_tree *t, merkle_hash out);
/* The RFC 9162 §2.1.3 inclusion path of leaf m (base->size <= m < t->size), leaf to root.
 * Returns the number of hashes written to path, or -1. */
int merkle_path(const merkle_tree *t, uint64_t m, merkle_hash path[MERKLE_MAX_PATH]);
/* Checks an inclusion path (RFC 9162 §2.1.3.2): 1 when leaf m of a tree of size n hashes to root.
 */
int merkle_path_ok(uint64_t m, uint64_t n, const merkle_hash leaf, const merkle_hash *path,
                   int npath, const merkle_hash root);

void merkle_hex(const merkle_hash h, char out[2 * MERKLE_HASH + 1]);
/* 0, or -1 when s is not 64 hex digits. */
int merkle_unhex(const char *s, merkle_hash out);

#endif
