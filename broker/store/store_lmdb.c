/* store_lmdb.c — the LMDB backend of the store: two environments under <dir> (durable: synced per
 * commit; volatile: MDB_NOSYNC, discarded after an unclean shutdown), one named DB per namespace,
 * the record layout, the RUNNING marker, expiry checks and the expired-record purge.
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
#include "store_int.h"
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

enum { ENV_DURABLE = 0, ENV_VOLATILE = 1, ENV_N = 2 };
enum { PURGE_TXN_MAX = 1000, PURGE_SCAN_MAX = 10000, MAX_READERS = 256, HDR = 8 };

static const char *const ns_names[NS_COUNT] = {
    [NS_JOURNEY] = "journey",   [NS_USTATE] = "ustate",
    [NS_CODE] = "code",         [NS_REPLAY] = "replay",
    [NS_REVOKED] = "revoked",   [NS_USERINFO] = "userinfo",
    [NS_DEMO] = "demo",         [NS_CACHE] = "cache",
    [NS_PAIRWISE] = "pairwise", [NS_PAIRWISE_SUB] = "pairwise_sub",
    [NS_KEYS] = "keys",         [NS_SECRETS] = "secrets",
    [NS_META] = "meta",         [NS_AUDIT] = "audit",
    [NS_CLIENTS] = "clients",   [NS_IDP_STATE] = "idp_state",
};
_Static_assert(NS_COUNT == 16, "name every namespace in ns_names");

struct lmdb_store {
	/* group commit of the durable environment (store_group_commit) */
	pthread_t syncer;
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cv;
	int sync_interval_ms, sync_stop, syncer_running;
	MDB_env *env[ENV_N];
	MDB_dbi dbi[NS_COUNT];
	char *path[ENV_N]; /* <dir>/durable, <dir>/volatile */
	int marker_fd;     /* RUNNING, with our shared flock on it */
	size_t max_key;
};

static struct lmdb_store *ctx(store *s)
{
	return s->be_ctx;
}

static int env_of(store_ns ns)
{
	return store_ns_volatile(ns) ? ENV_VOLATILE : ENV_DURABLE;
}

static MDB_env *env_for(store *s, store_ns ns)
{
	return ctx(s)->env[env_of(ns)];
}

/* Maps an LMDB error to a STORE code; MAP_FULL is STORE_FULL, anything else is logged. */
static int mdb_fail(int rc, const char *what)
{
	if (rc == MDB_MAP_FULL) {
		log_warn("store: %s: the map is full", what);
		return STORE_FULL;
	}
	log_err("store: %s: %s", what, mdb_strerror(rc));
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

static void set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(char **err, const char *fmt, ...)
{
	if (!err || *err)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(err, fmt, ap) < 0)
		*err = NULL;
	va_end(ap);
}

/* A malloc'd "dir/name", or NULL. */
static char *path_join(const char *dir, const char *name)
{
	char *p;
	return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

static int make_dir(const char *path, char **err)
{
	if (mkdir(path, 0700) == 0)
		return STORE_OK;
	struct stat st;
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return STORE_OK;
	set_err(err, "store: cannot create directory %s: %s", path, strerror(errno));
	return STORE_ERR;
}

static int unlink_in(const char *dir, const char *name, char **err)
{
	char *p = path_join(dir, name);
	if (!p)
		return STORE_ERR;
	int rc = STORE_OK;
	if (unlink(p) != 0 && errno != ENOENT) {
		set_err(err, "store: cannot remove %s: %s", p, strerror(errno));
		rc = STORE_ERR;
	}
	free(p);
	return rc;
}

/* Under the directory lock dfd: creates or joins the marker. Sets *unclean if it was abandoned. */
static int marker_open(const char *vdir, int dfd, int *marker_fd, bool *unclean, char **err)
{
	char *p = path_join(vdir, "RUNNING");
	if (!p)
		return STORE_ERR;
	*unclean = false;
	int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		/* a fresh marker must be on disk before anything is written without sync */
		if (fsync(fd) != 0 || fsync(dfd) != 0)
			goto fail;
	} else if (errno == EEXIST) {
		fd = open(p, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			*unclean = true; /* nobody holds it: the last run did not close */
		else if (errno != EWOULDBLOCK)
			goto fail;
	} else {
		goto fail;
	}
	if (flock(fd, LOCK_SH) != 0)
		goto fail;
	free(p);
	*marker_fd = fd;
	return STORE_OK;
fail:
	set_err(err, "store: marker %s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(p);
	return STORE_ERR;
}

/* ---- environments ---- */

static int env_open(struct lmdb_store *c, int which, size_t map_mib, char **err)
{
	MDB_env *e;
	int rc = mdb_env_create(&e);
	if (rc) {
		set_err(err, "store: mdb_env_create: %s", mdb_strerror(rc));
		return STORE_ERR;
	}
	unsigned flags = MDB_NOTLS;
	/* Volatile records are discarded after an unclean stop, so their environment may be lost or
	 * torn by an OS crash: writing through the map (no pwrite per dirty page) and never syncing
	 * is safe there, and is most of what a login's short-lived writes cost otherwise. */
	if (which == ENV_VOLATILE)
		flags |= MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC;
	if ((rc = mdb_env_set_maxdbs(e, NS_COUNT)) ||
	    (rc = mdb_env_set_mapsize(e, map_mib * 1024 * 1024)) ||
	    (rc = mdb_env_set_maxreaders(e, MAX_READERS)) ||
	    (rc = mdb_env_open(e, c->path[which], flags, 0600))) {
		set_err(err, "store: cannot open LMDB environment %s: %s", c->path[which],
		        mdb_strerror(rc));
		mdb_env_close(e);
		return STORE_ERR;
	}
	MDB_txn *txn;
	if ((rc = mdb_txn_begin(e, NULL, 0, &txn)))
		goto fail;
	for (int ns = 0; ns < NS_COUNT; ns++) {
		if (env_of(ns) != which)
			continue;
		if ((rc = mdb_dbi_open(txn, ns_names[ns], MDB_CREATE, &c->dbi[ns]))) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)))
		goto fail;
	c->env[which] = e;
	return STORE_OK;
fail:
	set_err(err, "store: cannot open the databases in %s: %s", c->path[which],
	        mdb_strerror(rc));
	mdb_env_close(e);
	return STORE_ERR;
}

static void syncer_stop(struct lmdb_store *c);

static void lmdb_free(struct lmdb_store *c)
{
	for (int i = 0; i < ENV_N; i++) {
		if (c->env[i])
			mdb_env_close(c->env[i]);
		free(c->path[i]);
	}
	if (c->marker_fd >= 0)
		close(c->marker_fd);
	free(c);
}

static int lmdb_open(store *s, const char *dir, size_t map_mib, char **err)
{
	if (map_mib == 0 || map_mib > SIZE_MAX / (1024 * 1024)) {
		set_err(err, "store: bad map size %zu MiB", map_mib);
		return STORE_ERR;
	}
	struct lmdb_store *c = calloc(1, sizeof *c);
	if (!c)
		return STORE_ERR;
	c->marker_fd = -1;
	int dfd = -1;
	c->path[ENV_DURABLE] = path_join(dir, "durable");
	c->path[ENV_VOLATILE] = path_join(dir, "volatile");
	if (!c->path[ENV_DURABLE] || !c->path[ENV_VOLATILE])
		goto fail;
	if (make_dir(dir, err) || make_dir(c->path[ENV_DURABLE], err) ||
	    make_dir(c->path[ENV_VOLATILE], err))
		goto fail;
	const char *vdir = c->path[ENV_VOLATILE];
	/* the volatile directory's flock serialises marker decisions across processes */
	dfd = open(vdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) != 0) {
		set_err(err, "store: cannot lock %s: %s", vdir, strerror(errno));
		goto fail;
	}
	bool unclean;
	if (marker_open(vdir, dfd, &c->marker_fd, &unclean, err))
		goto fail;
	if (unclean) {
		log_warn(
		    "store: the last run did not close the store; discarding volatile records");
		if (unlink_in(vdir, "data.mdb", err) || unlink_in(vdir, "lock.mdb", err))
			goto fail;
		s->unclean_floor = (int64_t)time(NULL);
	}
	if (env_open(c, ENV_DURABLE, map_mib, err) || env_open(c, ENV_VOLATILE, map_mib, err))
		goto fail;
	int mk = mdb_env_get_maxkeysize(c->env[ENV_DURABLE]);
	c->max_key = mk > 0 ? (size_t)mk : 0;
	close(dfd);
	s->be_ctx = c;
	return STORE_OK;
fail:
	lmdb_free(c); /* closing the marker fd drops our flock; the marker stays */
	if (dfd >= 0)
		close(dfd);
	if (err && !*err)
		*err = strdup("store: out of memory");
	s->unclean_floor = 0;
	return STORE_ERR;
}

static void lmdb_close(store *s)
{
	struct lmdb_store *c = ctx(s);
	if (!c)
		return;
	syncer_stop(c); /* flushes the durable environment a last time */
	/* the volatile records survive a clean stop: flush them before the marker goes */
	int rc = mdb_env_sync(c->env[ENV_VOLATILE], 1);
	if (rc)
		log_err("store: syncing the volatile environment: %s", mdb_strerror(rc));
	mdb_env_close(c->env[ENV_VOLATILE]);
	mdb_env_close(c->env[ENV_DURABLE]);
	c->env[ENV_VOLATILE] = c->env[ENV_DURABLE] = NULL;
	const char *vdir = c->path[ENV_VOLATILE];
	int dfd = open(vdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && flock(dfd, LOCK_EX) == 0) {
		/* the last holder removes the marker; a sync failure leaves it (next start wipes)
		 */
		if (rc == 0 && flock(c->marker_fd, LOCK_EX | LOCK_NB) == 0) {
			if (unlink_in(vdir, "RUNNING", NULL) == 0)
				fsync(dfd);
		}
	} else {
		log_err("store: cannot lock %s at close: %s", vdir, strerror(errno));
	}
	close(c->marker_fd);
	c->marker_fd = -1;
	if (dfd >= 0)
		close(dfd);
	lmdb_free(c);
	s->be_ctx = NULL;
}

static size_t lmdb_max_key(store *s)
{
	return ctx(s)->max_key;
}

/* ---- verbs ---- */

static int lmdb_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
                    int64_t *expires, int64_t now)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env_for(s, ns), NULL, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(rc, "get: begin");
	MDB_val k = {klen, (void *)key}, d;
	rc = mdb_get(txn, ctx(s)->dbi[ns], &k, &d);
	if (rc == MDB_NOTFOUND) {
		rc = STORE_NOTFOUND;
	} else if (rc) {
		rc = mdb_fail(rc, "get");
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
		return mdb_fail(rc, "lookup");
	return rec_live(d, now, NULL);
}

static int commit(MDB_txn *txn, const char *what)
{
	int rc = mdb_txn_commit(txn);
	return rc ? mdb_fail(rc, what) : STORE_OK;
}

static int lmdb_put(store *s, store_ns ns, const void *key, size_t klen, const void *val,
                    size_t vlen, int64_t expires, bool only_new, int64_t now)
{
	MDB_txn *txn;
	MDB_dbi dbi = ctx(s)->dbi[ns];
	int rc = mdb_txn_begin(env_for(s, ns), NULL, 0, &txn);
	if (rc)
		return mdb_fail(rc, "put: begin");
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
		return mdb_fail(rc, "put");
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
	int rc = mdb_txn_begin(env_for(s, ns), NULL, 0, &txn);
	if (rc)
		return mdb_fail(rc, what);
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
		return mdb_fail(rc, what);
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
	int rc = mdb_txn_begin(env_for(s, ns), NULL, 0, &txn);
	if (rc)
		return mdb_fail(rc, "del: begin");
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
		return mdb_fail(rc, "del");
	}
	if ((rc = commit(txn, "del: commit")))
		return rc;
	return live ? STORE_OK : STORE_NOTFOUND;
}

static int lmdb_batch(store *s, const struct store_op *ops, size_t n, int64_t now)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env_for(s, ops[0].ns), NULL, 0, &txn);
	if (rc)
		return mdb_fail(rc, "batch: begin");
	for (size_t i = 0; i < n; i++) {
		const struct store_op *op = &ops[i];
		MDB_dbi dbi = ctx(s)->dbi[op->ns];
		if (op->kind == STORE_OP_DEL) {
			MDB_val k = {op->klen, op->key};
			rc = mdb_del(txn, dbi, &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		} else {
			if (op->kind == STORE_OP_PUT_NEW) {
				MDB_val d;
				int live = lookup_live(txn, dbi, op->key, op->klen, now, &d);
				if (live != 0) {
					mdb_txn_abort(txn);
					return live > 0 ? STORE_EXISTS : live;
				}
			}
			/* op->ttl holds the absolute expiry here (see store_batch_commit) */
			rc = rec_write(txn, dbi, op->key, op->klen, op->val, op->vlen, op->ttl);
		}
		if (rc) {
			mdb_txn_abort(txn);
			return mdb_fail(rc, "batch");
		}
	}
	return commit(txn, "batch: commit");
}

static int lmdb_iter(store *s, store_ns ns, store_iter_fn fn, void *arg, int64_t now)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	int rc = mdb_txn_begin(env_for(s, ns), NULL, MDB_RDONLY, &txn);
	if (rc)
		return mdb_fail(rc, "iter: begin");
	if ((rc = mdb_cursor_open(txn, ctx(s)->dbi[ns], &cur))) {
		mdb_txn_abort(txn);
		return mdb_fail(rc, "iter: cursor");
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
		ret = mdb_fail(rc, "iter");
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
		return mdb_fail(rc, "purge: begin");
	if ((rc = mdb_cursor_open(txn, ctx(s)->dbi[ns], &cur))) {
		mdb_txn_abort(txn);
		return mdb_fail(rc, "purge: cursor");
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
		ret = mdb_fail(rc, "purge: scan");
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

/* In one write txn: deletes the collected keys that are still expired. */
static long purge_delete(store *s, store_ns ns, int64_t now, const struct keybuf *kb)
{
	MDB_txn *txn;
	MDB_dbi dbi = ctx(s)->dbi[ns];
	int rc = mdb_txn_begin(env_for(s, ns), NULL, 0, &txn);
	if (rc)
		return mdb_fail(rc, "purge: begin");
	long n = 0;
	for (size_t i = 0; i < kb->n; i++) {
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
			return mdb_fail(rc, "purge: del");
		}
		n++;
	}
	if (n == 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	rc = commit(txn, "purge: commit");
	return rc ? rc : n;
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
		return mdb_fail(rc, "count: begin");
	MDB_stat st;
	rc = mdb_stat(txn, ctx(s)->dbi[ns], &st);
	mdb_txn_abort(txn);
	if (rc)
		return mdb_fail(rc, "count");
	return st.ms_entries > LONG_MAX ? LONG_MAX : (long)st.ms_entries;
}

static int64_t lmdb_disk_bytes(store *s)
{
	int64_t total = 0;
	for (int i = 0; i < ENV_N; i++) {
		char *p = path_join(ctx(s)->path[i], "data.mdb");
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

/* ---- group commit (LMDB-specific: declared in store.h) ---- */

static void *syncer_main(void *arg)
{
	struct lmdb_store *c = arg;
	pthread_mutex_lock(&c->sync_mu);
	while (!c->sync_stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += (long)c->sync_interval_ms * 1000000L;
		t.tv_sec += t.tv_nsec / 1000000000L;
		t.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&c->sync_cv, &c->sync_mu, &t);
		pthread_mutex_unlock(&c->sync_mu);
		int rc = mdb_env_sync(c->env[ENV_DURABLE], 1);
		if (rc)
			log_err("store: durable sync failed: %s", mdb_strerror(rc));
		pthread_mutex_lock(&c->sync_mu);
	}
	pthread_mutex_unlock(&c->sync_mu);
	return NULL;
}

static void syncer_stop(struct lmdb_store *c)
{
	if (!c->syncer_running)
		return;
	pthread_mutex_lock(&c->sync_mu);
	c->sync_stop = 1;
	pthread_cond_signal(&c->sync_cv);
	pthread_mutex_unlock(&c->sync_mu);
	pthread_join(c->syncer, NULL);
	c->syncer_running = 0;
	mdb_env_sync(c->env[ENV_DURABLE], 1);
	pthread_mutex_destroy(&c->sync_mu);
	pthread_cond_destroy(&c->sync_cv);
}

int store_group_commit(store *s, int interval_ms)
{
	struct lmdb_store *c = ctx(s);
	if (s->be != &store_lmdb_backend || interval_ms < 1 || c->syncer_running)
		return STORE_ERR;
	c->sync_interval_ms = interval_ms;
	c->sync_stop = 0;
	pthread_mutex_init(&c->sync_mu, NULL);
	pthread_cond_init(&c->sync_cv, NULL);
	if (pthread_create(&c->syncer, NULL, syncer_main, c) != 0)
		return STORE_ERR;
	c->syncer_running = 1;
	/* from now on a durable commit returns before its fsync; the syncer flushes */
	if (mdb_env_set_flags(c->env[ENV_DURABLE], MDB_NOSYNC, 1) != 0) {
		syncer_stop(c);
		return STORE_ERR;
	}
	return STORE_OK;
}

int store_sync(store *s)
{
	if (s->be != &store_lmdb_backend)
		return STORE_ERR;
	return mdb_env_sync(ctx(s)->env[ENV_DURABLE], 1) == 0 ? STORE_OK : STORE_ERR;
}

/* ---- backup and restore (LMDB-specific: declared in store.h) ---- */

int store_backup(store *s, const char *backup_dir, char **err)
{
	if (s->be != &store_lmdb_backend) {
		set_err(err, "backup: not an LMDB store");
		return STORE_ERR;
	}
	if (mkdir(backup_dir, 0700) != 0 && errno != EEXIST) {
		set_err(err, "backup: cannot create %s: %s", backup_dir, strerror(errno));
		return STORE_ERR;
	}
	chmod(backup_dir, 0700);
	char *p = path_join(backup_dir, "data.mdb");
	if (!p)
		return STORE_ERR;
	/* our own fd, so the copy is 0600 whatever the umask (LMDB's own copy would be 0644) */
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		set_err(err, "backup: cannot create %s: %s", p, strerror(errno));
		free(p);
		return STORE_ERR;
	}
	int rc = mdb_env_copyfd2(ctx(s)->env[ENV_DURABLE], fd, MDB_CP_COMPACT);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	close(fd);
	if (rc) {
		set_err(err, "backup: %s", mdb_strerror(rc));
		unlink(p);
		free(p);
		return STORE_ERR;
	}
	free(p);
	return STORE_OK;
}

int store_dir_in_use(const char *dir)
{
	char *v = path_join(dir, "volatile");
	char *p = v ? path_join(v, "RUNNING") : NULL;
	free(v);
	if (!p)
		return -1;
	int fd = open(p, O_RDWR | O_CLOEXEC);
	free(p);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	int busy = flock(fd, LOCK_EX | LOCK_NB) != 0;
	close(fd);
	return busy;
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	char buf[65536];
	ssize_t n;
	int rc = 0;
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			rc = -1;
			break;
		}
	if (n < 0 || fsync(out) != 0)
		rc = -1;
	close(in);
	close(out);
	return rc;
}

int store_restore(const char *dir, const char *backup_dir, char **err)
{
	if (store_dir_in_use(dir) != 0) {
		set_err(err, "restore: the store in %s is in use (is the daemon running?)", dir);
		return STORE_EXISTS;
	}
	char *src = path_join(backup_dir, "data.mdb");
	char *dur = path_join(dir, "durable");
	char *vol = path_join(dir, "volatile");
	char *old = NULL, *tmp = dur ? path_join(dur, "data.mdb.restoring") : NULL;
	int rc = STORE_ERR;
	struct stat st;
	if (!src || !dur || !vol || !tmp || stat(src, &st) != 0) {
		set_err(err, "restore: no backup at %s", src ? src : backup_dir);
		goto out;
	}
	if (asprintf(&old, "%s.replaced-%lld", dur, (long long)time(NULL)) < 0) {
		old = NULL;
		goto out;
	}
	mkdir(dir, 0700);
	if (rename(dur, old) != 0 && errno != ENOENT) {
		set_err(err, "restore: cannot move %s aside: %s", dur, strerror(errno));
		goto out;
	}
	char *final = path_join(dur, "data.mdb");
	if (!final || mkdir(dur, 0700) != 0 || copy_file(src, tmp) != 0 || rename(tmp, final) != 0) {
		set_err(err, "restore: cannot copy the backup into %s: %s", dur, strerror(errno));
		free(final);
		goto out;
	}
	free(final);
	/* journeys, codes and replay caches from before the restore must not survive it */
	const char *names[] = {"data.mdb", "lock.mdb", "RUNNING"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink_in(vol, names[i], NULL);
	rc = STORE_OK;
out:
	free(src);
	free(dur);
	free(vol);
	free(old);
	free(tmp);
	return rc;
}

const struct store_backend store_lmdb_backend = {
    .name = "lmdb",
    .open = lmdb_open,
    .close = lmdb_close,
    .max_key = lmdb_max_key,
    .get = lmdb_get,
    .put = lmdb_put,
    .take = lmdb_take,
    .swap = lmdb_swap,
    .del = lmdb_del,
    .batch = lmdb_batch,
    .iter = lmdb_iter,
    .purge = lmdb_purge,
    .count = lmdb_count,
    .disk_bytes = lmdb_disk_bytes,
};
