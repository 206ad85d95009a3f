/* merkle.c — RFC 9162 tree hashes, frontiers and inclusion paths (see merkle.h). */
#include "merkle.h"
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

void merkle_leaf(const void *rec, size_t len, merkle_hash out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned char z = 0;
	/* allocation failure leaves a zero hash, which never matches a real one */
	memset(out, 0, MERKLE_HASH);
	if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) && EVP_DigestUpdate(c, &z, 1) &&
	    EVP_DigestUpdate(c, rec, len))
		EVP_DigestFinal_ex(c, out, NULL);
	EVP_MD_CTX_free(c);
}

void merkle_node(const merkle_hash l, const merkle_hash r, merkle_hash out)
{
	unsigned char buf[1 + 2 * MERKLE_HASH];
	buf[0] = 1;
	memcpy(buf + 1, l, MERKLE_HASH);
	memcpy(buf + 1 + MERKLE_HASH, r, MERKLE_HASH);
	SHA256(buf, sizeof buf, out);
}

void merkle_frontier_add(merkle_frontier *f, const merkle_hash leaf)
{
	memcpy(f->h[f->n++], leaf, MERKLE_HASH);
	/* each trailing 1 bit of the old size is a subtree of equal size to merge with */
	for (uint64_t s = f->size; s & 1; s >>= 1) {
		merkle_node(f->h[f->n - 2], f->h[f->n - 1], f->h[f->n - 2]);
		f->n--;
	}
	f->size++;
}

void merkle_frontier_root(const merkle_frontier *f, merkle_hash out)
{
	if (f->n == 0) {
		SHA256((const unsigned char *)"", 0, out);
		return;
	}
	merkle_hash r;
	memcpy(r, f->h[f->n - 1], MERKLE_HASH);
	for (int i = f->n - 2; i >= 0; i--)
		merkle_node(f->h[i], r, r);
	memcpy(out, r, MERKLE_HASH);
}

static uint64_t base_size(const merkle_tree *t)
{
	return t->base ? t->base->size : 0;
}

/* The largest power of two strictly below n (n >= 2). */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* The hash of the subtree over leaves [lo, hi). Inside the base it is one of the base's subtrees:
 * a node of the tree that lies within [0, k) is a perfect, aligned subtree, and those of a later
 * leaf's path are maximal, i.e. frontier subtrees (see merkle.h). 0 or -1. */
static int subtree(const merkle_tree *t, uint64_t lo, uint64_t hi, merkle_hash out)
{
	uint64_t k = base_size(t);
	if (hi <= k) {
		/* the base's subtrees from the one starting at lo to the one ending at hi; folded
		 * from the right they give the §2.1 shape (each is larger than all after it) */
		uint64_t start = 0;
		int i = 0, first = -1, last = -1;
		for (int b = 63; b >= 0 && start < hi; b--) {
			if (!(k >> b & 1))
				continue;
			uint64_t end = start + (1ULL << b);
			if (start == lo)
				first = i;
			if (end == hi)
				last = i;
			start = end;
			i++;
		}
		if (first < 0 || last < first)
			return -1; /* a range the base cannot answer */
		memcpy(out, t->base->h[last], MERKLE_HASH);
		for (int x = last - 1; x >= first; x--)
			merkle_node(t->base->h[x], out, out);
		return 0;
	}
	if (hi - lo == 1) {
		memcpy(out, t->leaves[lo - k], MERKLE_HASH);
		return 0;
	}
	uint64_t s = split(hi - lo);
	merkle_hash l, r;
	if (subtree(t, lo, lo + s, l) || subtree(t, lo + s, hi, r))
		return -1;
	merkle_node(l, r, out);
	return 0;
}

int merkle_root(const merkle_tree *t, merkle_hash out)
{
	if (t->size < base_size(t))
		return -1;
	if (t->size == 0) {
		SHA256((const unsigned char *)"", 0, out);
		return 0;
	}
	return subtree(t, 0, t->size, out);
}

/* PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1, written leaf first. */
static int path_in(const merkle_tree *t, uint64_t m, uint64_t lo, uint64_t hi, merkle_hash *path)
{
	if (hi - lo <= 1)
		return 0;
	uint64_t s = split(hi - lo);
	int n;
	merkle_hash sib;
	if (m < lo + s) {
		if ((n = path_in(t, m, lo, lo + s, path)) < 0 || subtree(t, lo + s, hi, sib))
			return -1;
	} else {
		if ((n = path_in(t, m, lo + s, hi, path)) < 0 || subtree(t, lo, lo + s, sib))
			return -1;
	}
	if (n >= MERKLE_MAX_PATH)
		return -1;
	memcpy(path[n], sib, MERKLE_HASH);
	return n + 1;
}

int merkle_path(const merkle_tree *t, uint64_t m, merkle_hash path[MERKLE_MAX_PATH])
{
	if (m < base_size(t) || m >= t->size)
		return -1;
	return path_in(t, m, 0, t->size, path);
}

int merkle_path_ok(uint64_t m, uint64_t n, const merkle_hash leaf, const merkle_hash *path,
                   int npath, const merkle_hash root)
{
	if (m >= n)
		return 0;
	uint64_t fn = m, sn = n - 1;
	merkle_hash r;
	memcpy(r, leaf, MERKLE_HASH);
	for (int i = 0; i < npath; i++) {
		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			merkle_node(path[i], r, r);
			if (!(fn & 1))
				while (fn && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			merkle_node(r, path[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, MERKLE_HASH) == 0;
}

void merkle_hex(const merkle_hash h, char out[2 * MERKLE_HASH + 1])
{
	for (int i = 0; i < MERKLE_HASH; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

int merkle_unhex(const char *s, merkle_hash out)
{
	if (!s || strlen(s) != 2 * MERKLE_HASH)
		return -1;
	for (int i = 0; i < MERKLE_HASH; i++) {
		unsigned v;
		if (sscanf(s + 2 * i, "%2x", &v) != 1 || !strchr("0123456789abcdef", s[2 * i]) ||
		    !strchr("0123456789abcdef", s[2 * i + 1]))
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}
