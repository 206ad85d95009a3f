/* store_lmdb.c — the LMDB backend of the store: the verbs, the record layout, expiry checks, the
 * expired-record purge, the volatile fill level and budget, statistics and the backend table. Two
 * environments live under <dir> (durable: synced per commit, always; volatile: never synced,
 * discarded after an unclean shutdown), one named DB per namespace; opening them and the RUNNING
 * marker are in store_lmdb_env.c, backup and restore in store_lmdb_admin.c.
 *
 * Record value: 8-byte expiry (int64 little-endian, 0 = none) then the value bytes.
 *
 * The RUNNING marker (<dir>/volatile/RUNNING) exists while any process has the store open; each
 * holder keeps a shared flock on it. At open (under an exclusive flock on the volatile directory,
 * which serialises opens and closes across processes) a marker that exists but that nobody holds
 * was left by a run that did not close: the volatile environment is then deleted and started empty.
 * A closer removes the marker only if it is the last holder, so idhubctl opening and closing the
 * store while the daemon runs neither wipes nor "cleans" the daemon's volatile state.
 */
#include "store_lmdb_int.h"
#include "util/log.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Maps an LMDB failure to a STORE_ code and logs it, at most once per interval per kind (a flood
 * against a full map must not write a line per request). */
int lmdb_mdb_fail(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL) {
		store_log_throttled("map full", false, "store: %s: the map is full", what);
		return STORE_FULL;
	}
	if (rc == ENOSPC || rc == EDQUOT) {
		store_log_throttled(
		    "disk full", true,
		    "store: %s: no space left on the device (the write was refused; "
		    "nothing was changed)",
		    what);
		return STORE_FULL;
	}
	store_log_throttled("error", true, "store: %s: %s", what, mdb_strerror(rc));
	return STORE_ERR;
}

/* ---- record layout ---- */

static void put_le64(unsigned char *p, int64_t v)
{
	uint64_t u = (uint64_t)v;
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(u >> (8 * i));
}

static int64_t get_le64(const unsigned char *p)
{
	uint64_t u = 0;
	for (int i = 0; i < 8; i++)
		u |= (uint64_t)p[i] << (8 * i);
	return (int64_t)u;
}

/* 1 live, 0 expired, STORE_ERR malformed. */
static int rec_live(const MDB_val *v, int64_t now, int64_t *expires)
{
	if (v->mv_size < HDR) {
		log_err("store: a record shorter than its header");
		return STORE_ERR;
	}
	int64_t exp = get_le64(v->mv_data);
	if (expires)
		*expires = exp;
	return exp == 0 || now < exp;
}

/* A malloc'd copy of the record's value with a NUL appended; val may be NULL. */
static int rec_copy(const MDB_val *v, void **val, size_t *vlen)
{
	size_t n = v->mv_size - HDR;
	if (vlen)
		*vlen = n;
	if (!val)
		return STORE_OK;
	char *p = malloc(n + 1);
	if (!p) {
		log_err("store: out of memory");
		return STORE_ERR;
	}
	memcpy(p, (const char *)v->mv_data + HDR, n);
	p[n] = '\0';
	*val = p;
	return STORE_OK;
}

static int rec_write(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, const void *val,
                     size_t vlen, int64_t expires)
{
	MDB_val k = {klen, (void *)key}, d = {HDR + vlen, NULL};
	int rc = mdb_put(txn, dbi, &k, &d, MDB_RESERVE);
	if (rc)
		return rc;
	put_le64(d.mv_data, expires);
	if (vlen)
		memcpy((char *)d.mv_data + HDR, val, vlen);
	return 0;
}

/* ---- files: dirs, marker, wipe ---- */

static size_t lmdb_max_key(store *s)
{
	return ctx(s)->max_key;
}

/* Pages in use in the volatile environment, in percent of its map, as txn sees it: the pages of
 * every named DB and of the main DB (free pages, reusable by any writer, are not counted). */
static int fill_in(store *s, MDB_txn *txn)
{
	MDB_env *e = ctx(s)->env[ENV_VOLATILE];
	MDB_envinfo info;
	MDB_stat st;
	if (mdb_env_info(e, &info) || mdb_env_stat(e, &st) || st.ms_psize == 0)
		return STORE_ERR;
	size_t map_pages = info.me_mapsize / st.ms_psize, used = 0;
	for (int ns = 0; ns <= NS_VOLATILE_END; ns++) {
		/* MAIN_DBI (1), which holds the named DBs' records, stands in at NS_VOLATILE_END */
		MDB_dbi dbi = ns == NS_VOLATILE_END ? 1 : ctx(s)->dbi[ns];
		if (mdb_stat(txn, dbi, &st))
			return STORE_ERR;
		used += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
	}
	return map_pages ? (int)(used * 100 / map_pages) : STORE_ERR;
}

static int lmdb_fill(store *s)
{
	MDB_txn *txn;
	if (mdb_txn_begin(ctx(s)->env[ENV_VOLATILE], NULL, MDB_RDONLY, &txn))
		return STORE_ERR;
	int fill = fill_in(s, txn);
	mdb_txn_abort(txn);
	return fill;
}

/* ---- the volatile map's runway ---- */

/* The volatile environment is written through its map (MDB_WRITEMAP: a third of the cost of a
 * commit, measured), and LMDB sizes its file to the whole map with ftruncate, leaving it sparse. A
 * store into a hole when the disk is full kills the process with SIGBUS. So before a write
 * transaction the blocks it can touch are allocated (fallocate): the pages up to the last one in
 * use, plus twice what the transaction writes, plus LMDB_RUNWAY bytes, in steps of LMDB_RUNWAY.
 * A page beyond them is never touched, and a full disk is ENOSPC here, a refused write. Called
 * with the write lock held (c->allocated is only read and written under it). */
static int runway(struct lmdb_store *c, size_t bytes)
{
	MDB_env *e = c->env[ENV_VOLATILE];
	MDB_envinfo info;
	int fd;
	if (!c->writemap || mdb_env_info(e, &info) || mdb_env_get_fd(e, &fd))
		return 0;
	uint64_t need =
	    ((uint64_t)info.me_last_pgno + 1) * c->psize + 2 * (uint64_t)bytes + LMDB_RUNWAY;
	if (need > info.me_mapsize)
		need = info.me_mapsize;
	if (need <= c->allocated)
		return 0;
	uint64_t to = need + LMDB_RUNWAY < info.me_mapsize ? need + LMDB_RUNWAY : info.me_mapsize;
	if (fallocate(fd, 0, (off_t)c->allocated, (off_t)(to - c->allocated)) != 0) {
		if (errno == EOPNOTSUPP) { /* this file system cannot say: as before */
			c->writemap = false;
			return 0;
		}
		return errno;
	}
	c->allocated = to;
	return 0;
}

/* Begins a write transaction on ns's environment, with the runway for `bytes` more data. */
static int wbegin(store *s, store_ns ns, size_t bytes, MDB_txn **txn)
{
	int rc = mdb_txn_begin(env_for(s, ns), NULL, 0, txn);
	if (rc || !store_ns_volatile(ns))
		return rc;
	if ((rc = runway(ctx(s), bytes)) != 0)
		mdb_txn_abort(*txn);
	return rc;
}

/* ---- verbs ---- */

static int lmdb_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
                    int64_t *expires, int64_t now)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env_for(s, ns), NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "get: begin");
	MDB_val k = {klen, (void *)key}, d;
	rc = mdb_get(txn, ctx(s)->dbi[ns], &k, &d);
	if (rc == MDB_NOTFOUND) {
		rc = STORE_NOTFOUND;
	} else if (rc) {
		rc = lmdb_mdb_fail(rc, "get");
	} else {
		int live = rec_live(&d, now, expires);
		rc = live < 0 ? live : !live ? STORE_NOTFOUND : rec_copy(&d, val, vlen);
	}
	mdb_txn_abort(txn);
	return rc;
}

/* In a write txn: looks the key up. 1 live (d set), 0 absent or expired, <0 error. */
static int lookup_live(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen, int64_t now,
                       MDB_val *d)
{
	MDB_val k = {klen, (void *)key};
	int rc = mdb_get(txn, dbi, &k, d);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return lmdb_mdb_fail(rc, "lookup");
	return rec_live(d, now, NULL);
}

static int commit(MDB_txn *txn, const char *what)
{
	int rc = mdb_txn_commit(txn);
	return rc ? lmdb_mdb_fail(rc, what) : STORE_OK;
}

/* Above LMDB_RESERVE_MARK no volatile record is added at all (STORE_FULL): deleting needs free
 * pages too (the B-tree is copied on write), and on a map filled to its last page not even one
 * expired record could be purged. Deletes, takes and swaps are not held back. */
static int over_reserve(store *s, MDB_txn *txn)
{
	int fill = fill_in(s, txn);
	if (fill < 0)
		return STORE_ERR;
	if (fill < LMDB_RESERVE_MARK)
		return STORE_OK;
	store_log_throttled("map full", false,
	                    "store: the volatile store is %d%% full: writes are refused so that "
	                    "expired records can still be purged",
	                    fill);
	return STORE_FULL;
}

static int lmdb_put(store *s, store_ns ns, const void *key, size_t klen, const void *val,
                    size_t vlen, int64_t expires, bool only_new, int64_t now)
{
	MDB_txn *txn;
	MDB_dbi dbi = ctx(s)->dbi[ns];
	int rc = wbegin(s, ns, klen + vlen, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "put: begin");
	if (store_ns_volatile(ns) && (rc = over_reserve(s, txn))) {
		mdb_txn_abort(txn);
		return rc;
	}
	if (only_new) {
		MDB_val d;
		int live = lookup_live(txn, dbi, key, klen, now, &d);
		if (live != 0) {
			mdb_txn_abort(txn);
			return live > 0 ? STORE_EXISTS : live;
		}
	}
	if ((rc = rec_write(txn, dbi, key, klen, val, vlen, expires))) {
		mdb_txn_abort(txn);
		return lmdb_mdb_fail(rc, "put");
	}
	return commit(txn, "put: commit");
}

/* Reads a live record and, in the same write transaction, deletes it (val == NULL: take) or
 * replaces it (swap). The old value goes to *old as a malloc'd copy. */
static int read_and_replace(store *s, store_ns ns, const void *key, size_t klen, const void *val,
                            size_t vlen, int64_t expires, void **old, size_t *oldlen, int64_t now,
                            const char *what)
{
	MDB_txn *txn;
	MDB_dbi dbi = ctx(s)->dbi[ns];
	int rc = wbegin(s, ns, klen + vlen, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, what);
	MDB_val d;
	int live = lookup_live(txn, dbi, key, klen, now, &d);
	if (live <= 0) {
		mdb_txn_abort(txn);
		return live == 0 ? STORE_NOTFOUND : live;
	}
	void *copy = NULL;
	size_t n;
	if ((rc = rec_copy(&d, old ? &copy : NULL, &n))) {
		mdb_txn_abort(txn);
		return rc;
	}
	MDB_val k = {klen, (void *)key};
	rc = val ? rec_write(txn, dbi, key, klen, val, vlen, expires) : mdb_del(txn, dbi, &k, NULL);
	if (rc) {
		mdb_txn_abort(txn);
		free(copy);
		return lmdb_mdb_fail(rc, what);
	}
	if ((rc = commit(txn, what))) {
		free(copy);
		return rc;
	}
	if (old)
		*old = copy;
	if (oldlen)
		*oldlen = n;
	return STORE_OK;
}

static int lmdb_take(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
                     int64_t now)
{
	return read_and_replace(s, ns, key, klen, NULL, 0, 0, val, vlen, now, "take");
}

static int lmdb_swap(store *s, store_ns ns, const void *key, size_t klen, const void *val,
                     size_t vlen, int64_t expires, void **old, size_t *oldlen, int64_t now)
{
	/* a zero-length value is still a value: rec_write gets a non-NULL pointer */
	return read_and_replace(s, ns, key, klen, val ? val : "", vlen, expires, old, oldlen, now,
	                        "swap");
}

static int lmdb_del(store *s, store_ns ns, const void *key, size_t klen, int64_t now)
{
	MDB_txn *txn;
	MDB_dbi dbi = ctx(s)->dbi[ns];
	int rc = wbegin(s, ns, 0, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "del: begin");
	MDB_val d;
	int live = lookup_live(txn, dbi, key, klen, now, &d);
	if (live < 0) {
		mdb_txn_abort(txn);
		return live;
	}
	MDB_val k = {klen, (void *)key};
	rc = mdb_del(txn, dbi, &k, NULL); /* an expired record goes too, but counts as absent */
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return STORE_NOTFOUND;
	}
	if (rc) {
		mdb_txn_abort(txn);
		return lmdb_mdb_fail(rc, "del");
	}
	if ((rc = commit(txn, "del: commit")))
		return rc;
	return live ? STORE_OK : STORE_NOTFOUND;
}

/* STORE_OP_APPEND: the key is one past the namespace's greatest 8-byte key, read in this write
 * transaction (LMDB has one writer at a time, so no other appender can take the same number). */
static int append_seq(MDB_txn *txn, MDB_dbi dbi, const struct store_op *op)
{
	MDB_cursor *cur;
	int rc = mdb_cursor_open(txn, dbi, &cur);
	if (rc)
		return rc;
	MDB_val k, d;
	uint64_t next = 0;
	rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0) {
		if (k.mv_size != 8)
			return MDB_INCOMPATIBLE; /* a namespace of appended records only */
		for (int i = 0; i < 8; i++)
			next = next << 8 | ((const unsigned char *)k.mv_data)[i];
		next++;
	}
	unsigned char key[8];
	for (int i = 0; i < 8; i++)
		key[i] = (unsigned char)(next >> (56 - 8 * i));
	return rec_write(txn, dbi, key, sizeof key, op->val, op->vlen, op->ttl);
}

/* Applies ops in txn; STORE_OK or a STORE_ code (the caller aborts). */
static int apply_ops(store *s, MDB_txn *txn, const struct store_op *ops, size_t n, int64_t now)
{
	for (size_t i = 0; i < n; i++) {
		const struct store_op *op = &ops[i];
		MDB_dbi dbi = ctx(s)->dbi[op->ns];
		int rc;
		if (op->kind == STORE_OP_DEL) {
			MDB_val k = {op->klen, op->key};
			rc = mdb_del(txn, dbi, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		} else if (op->kind == STORE_OP_APPEND) {
			rc = append_seq(txn, dbi, op);
		} else {
			if (op->kind == STORE_OP_PUT_NEW) {
				MDB_val d;
				int live = lookup_live(txn, dbi, op->key, op->klen, now, &d);
				if (live != 0)
					return live > 0 ? STORE_EXISTS : live;
			}
			/* op->ttl holds the absolute expiry here (see store_batch_commit) */
			rc = rec_write(txn, dbi, op->key, op->klen, op->val, op->vlen, op->ttl);
		}
		if (rc)
			return lmdb_mdb_fail(rc, "batch");
	}
	return STORE_OK;
}

/* A new journey is refused at or above the high-water mark: the room above it is kept for the
 * journeys under way (their codes) and for the purge, which needs free pages to delete. A batch
 * whose every put rewrites a live record is a journey under way and goes through. */
static int over_budget(store *s, MDB_txn *txn, const struct store_op *ops, size_t n, int64_t now)
{
	int fill = fill_in(s, txn);
	if (fill < 0)
		return STORE_ERR;
	if (fill < s->high_water)
		return STORE_OK;
	for (size_t i = 0; i < n; i++) {
		MDB_val d;
		if (ops[i].kind != STORE_OP_DEL &&
		    lookup_live(txn, ctx(s)->dbi[ops[i].ns], ops[i].key, ops[i].klen, now, &d) !=
		        1) {
			store_log_throttled(
			    "busy", false,
			    "store: the volatile store is %d%% full (high-water mark "
			    "%d%%): new journeys are refused until records expire",
			    fill, s->high_water);
			return STORE_BUSY;
		}
	}
	return STORE_OK;
}

static int lmdb_batch(store *s, const struct store_op *ops, size_t n, int64_t now, bool budgeted)
{
	MDB_txn *txn;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++)
		bytes += ops[i].klen + ops[i].vlen + HDR;
	int rc = wbegin(s, ops[0].ns, bytes, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "batch: begin");
	if (store_ns_volatile(ops[0].ns) &&
	    ((budgeted && (rc = over_budget(s, txn, ops, n, now))) ||
	     (rc = over_reserve(s, txn)))) {
		mdb_txn_abort(txn);
		return rc;
	}
	if ((rc = apply_ops(s, txn, ops, n, now))) {
		mdb_txn_abort(txn);
		return rc;
	}
	return commit(txn, "batch: commit");
}

/* The group commit: each batch in a child transaction (all or nothing on its own), all of them in
 * one parent transaction committed, and synced, once. */
static int lmdb_batch_group(store *s, struct store_batch *const *bs, size_t n, int64_t now,
                            int *rcs)
{
	MDB_env *e = ctx(s)->env[ENV_DURABLE];
	MDB_txn *txn, *child;
	int rc = mdb_txn_begin(e, NULL, 0, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "group commit: begin");
	for (size_t i = 0; i < n; i++) {
		if ((rc = mdb_txn_begin(e, txn, 0, &child))) {
			mdb_txn_abort(txn);
			return lmdb_mdb_fail(rc, "group commit: child");
		}
		rcs[i] = apply_ops(s, child, bs[i]->ops, bs[i]->n, now);
		if (rcs[i] == STORE_OK)
			rcs[i] = commit(child, "group commit: child commit");
		else
			mdb_txn_abort(child);
	}
	return commit(txn, "group commit: commit");
}

static int lmdb_iter(store *s, store_ns ns, store_iter_fn fn, void *arg, int64_t now)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = mdb_txn_begin(env_for(s, ns), NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "iter: begin");
	if ((rc = mdb_cursor_open(txn, ctx(s)->dbi[ns], &cur))) {
		mdb_txn_abort(txn);
		return lmdb_mdb_fail(rc, "iter: cursor");
	}
	MDB_val k, d;
	int ret = 0;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		int64_t exp;
		if (rec_live(&d, now, &exp) != 1)
			continue;
		ret = fn(arg, k.mv_data, k.mv_size, (const char *)d.mv_data + HDR, d.mv_size - HDR,
		         exp);
		if (ret)
			break;
	}
	if (!ret && rc != MDB_NOTFOUND)
		ret = lmdb_mdb_fail(rc, "iter");
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

/* ---- purge ---- */

struct keybuf {
	MDB_val *keys; /* malloc'd copies */
	size_t n;
	MDB_val resume; /* malloc'd copy of the next key to examine; mv_data NULL at the end */
};

static void keybuf_clear(struct keybuf *kb)
{
	for (size_t i = 0; i < kb->n; i++)
		free(kb->keys[i].mv_data);
	kb->n = 0;
}

static int dup_val(MDB_val *dst, const MDB_val *src)
{
	dst->mv_data = malloc(src->mv_size);
	if (!dst->mv_data)
		return STORE_ERR;
	memcpy(dst->mv_data, src->mv_data, src->mv_size);
	dst->mv_size = src->mv_size;
	return STORE_OK;
}

/* In a read snapshot, from kb->resume (or the start), collects up to want expired keys. */
static int purge_scan(store *s, store_ns ns, int64_t now, size_t want, struct keybuf *kb)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = mdb_txn_begin(env_for(s, ns), NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "purge: begin");
	if ((rc = mdb_cursor_open(txn, ctx(s)->dbi[ns], &cur))) {
		mdb_txn_abort(txn);
		return lmdb_mdb_fail(rc, "purge: cursor");
	}
	MDB_val k = kb->resume, d;
	rc = mdb_cursor_get(cur, &k, &d, k.mv_data ? MDB_SET_RANGE : MDB_FIRST);
	free(kb->resume.mv_data);
	kb->resume = (MDB_val){0, NULL};
	int ret = STORE_OK;
	for (size_t scanned = 0; rc == 0; rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT), scanned++) {
		if (kb->n == want || scanned == PURGE_SCAN_MAX) {
			if (dup_val(&kb->resume, &k))
				ret = STORE_ERR;
			break;
		}
		if (rec_live(&d, now, NULL) != 0)
			continue; /* live, or malformed (left for an operator to see) */
		if (dup_val(&kb->keys[kb->n], &k)) {
			ret = STORE_ERR;
			break;
		}
		kb->n++;
	}
	if (ret == STORE_OK && rc != 0 && rc != MDB_NOTFOUND)
		ret = lmdb_mdb_fail(rc, "purge: scan");
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

enum { PURGE_RETRY = -100 }; /* not a STORE_ code: the map was full, retry smaller */

/* In one write txn: deletes the collected keys [from, to) that are still expired. MDB_MAP_FULL
 * comes back as PURGE_RETRY (the caller retries smaller). */
static long purge_txn(store *s, store_ns ns, int64_t now, const struct keybuf *kb, size_t from,
                      size_t to)
{
	MDB_txn *txn;
	MDB_dbi dbi = ctx(s)->dbi[ns];
	int rc = wbegin(s, ns, 0, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "purge: begin");
	long n = 0;
	for (size_t i = from; i < to; i++) {
		MDB_val k = kb->keys[i], d;
		rc = mdb_get(txn, dbi, &k, &d);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc == 0 && rec_live(&d, now, NULL) != 0)
			continue; /* rewritten since the scan */
		if (rc == 0)
			rc = mdb_del(txn, dbi, &k, NULL);
		if (rc) {
			mdb_txn_abort(txn);
			return rc == MDB_MAP_FULL ? PURGE_RETRY : lmdb_mdb_fail(rc, "purge: del");
		}
		n++;
	}
	if (n == 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	rc = mdb_txn_commit(txn);
	if (rc == MDB_MAP_FULL)
		return PURGE_RETRY;
	return rc ? lmdb_mdb_fail(rc, "purge: commit") : n;
}

/* Deletes the collected keys in transactions of up to `step` keys. Deleting needs free pages (the
 * B-tree is copied on write); on a full map a transaction is retried with half as many keys, down
 * to one, so the purge makes room for itself instead of failing with the map (as it once did). */
static long purge_delete(store *s, store_ns ns, int64_t now, const struct keybuf *kb)
{
	long total = 0;
	size_t step = kb->n, i = 0;
	while (i < kb->n) {
		size_t to = i + step < kb->n ? i + step : kb->n;
		long n = purge_txn(s, ns, now, kb, i, to);
		if (n == PURGE_RETRY) {
			if (step == 1)
				return lmdb_mdb_fail(MDB_MAP_FULL, "purge");
			step /= 2;
			continue;
		}
		if (n < 0)
			return n;
		total += n;
		i = to;
	}
	return total;
}

static long lmdb_purge(store *s, int64_t now, long max)
{
	struct keybuf kb = {0};
	kb.keys = calloc(PURGE_TXN_MAX, sizeof *kb.keys);
	if (!kb.keys)
		return STORE_ERR;
	long total = 0;
	for (int ns = 0; ns < NS_COUNT && total < max; ns++) {
		do {
			size_t want = PURGE_TXN_MAX;
			if ((long)want > max - total)
				want = (size_t)(max - total);
			if (purge_scan(s, ns, now, want, &kb)) {
				total = STORE_ERR;
				goto out;
			}
			long n = kb.n ? purge_delete(s, ns, now, &kb) : 0;
			keybuf_clear(&kb);
			if (n < 0) {
				total = n;
				goto out;
			}
			total += n;
		} while (kb.resume.mv_data && total < max);
		free(kb.resume.mv_data);
		kb.resume = (MDB_val){0, NULL};
	}
out:
	keybuf_clear(&kb);
	free(kb.resume.mv_data);
	free(kb.keys);
	return total;
}

/* ---- statistics ---- */

static long lmdb_count(store *s, store_ns ns)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env_for(s, ns), NULL, MDB_RDONLY, &txn);
	if (rc)
		return lmdb_mdb_fail(rc, "count: begin");
	MDB_stat st;
	rc = mdb_stat(txn, ctx(s)->dbi[ns], &st);
	mdb_txn_abort(txn);
	if (rc)
		return lmdb_mdb_fail(rc, "count");
	return st.ms_entries > LONG_MAX ? LONG_MAX : (long)st.ms_entries;
}

static int lmdb_reader_check(store *s)
{
	int total = 0;
	for (int i = 0; i < ENV_N; i++) {
		int dead = 0;
		if (mdb_reader_check(ctx(s)->env[i], &dead))
			return STORE_ERR;
		total += dead;
	}
	return total;
}

static int lmdb_sync(store *s)
{
	int rc = mdb_env_sync(ctx(s)->env[ENV_DURABLE], 1);
	if (rc) {
		lmdb_mdb_fail(rc, "sync");
		return STORE_ERR;
	}
	return STORE_OK;
}

static int64_t lmdb_disk_bytes(store *s)
{
	int64_t total = 0;
	for (int i = 0; i < ENV_N; i++) {
		char *p = lmdb_path_join(ctx(s)->path[i], "data.mdb");
		if (!p)
			return STORE_ERR;
		struct stat st;
		int rc = stat(p, &st);
		free(p);
		if (rc == 0)
			total += (int64_t)st.st_blocks * 512; /* a WRITEMAP file is sparse */
	}
	return total;
}

static int lmdb_open_config(store *s, const store_config *sc, char **err)
{
	if (!sc->dir) {
		lmdb_set_err(err, "store: no directory given");
		return STORE_ERR;
	}
	return lmdb_open(s, sc->dir, sc->map_mib, err);
}

static int lmdb_check(const store_config *sc, char **err)
{
	if (!sc->dir || !*sc->dir) {
		lmdb_set_err(err, "the lmdb store needs a directory (state_dir)");
		return -1;
	}
	return 0;
}

const struct store_backend store_lmdb_backend = {
    .name = "lmdb",
    .open = lmdb_open_config,
    .check = lmdb_check,
    .close = lmdb_close,
    .max_key = lmdb_max_key,
    .get = lmdb_get,
    .put = lmdb_put,
    .take = lmdb_take,
    .swap = lmdb_swap,
    .del = lmdb_del,
    .batch = lmdb_batch,
    .batch_group = lmdb_batch_group,
    .iter = lmdb_iter,
    .purge = lmdb_purge,
    .count = lmdb_count,
    .disk_bytes = lmdb_disk_bytes,
    .abilities = STORE_ABLE_BACKUP | STORE_ABLE_READER_CHECK | STORE_ABLE_FILL,
    .fill = lmdb_fill,
    .reader_check = lmdb_reader_check,
    .sync = lmdb_sync,
    .backup = lmdb_backup,
    .restore = lmdb_restore,
    .dir_in_use = lmdb_dir_in_use,
};
