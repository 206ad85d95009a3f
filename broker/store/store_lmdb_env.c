/* store_lmdb_env.c — opening and closing the LMDB backend: the two environments under <dir>
 * (durable; volatile, discarded after an unclean shutdown), one named DB per namespace, and the
 * RUNNING marker that tells a clean shutdown from a crash (see store_lmdb.c for the rules). */
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

const char *const lmdb_ns_names[NS_COUNT] = {
    [NS_JOURNEY] = "journey",   [NS_USTATE] = "ustate",
    [NS_CODE] = "code",         [NS_REPLAY] = "replay",
    [NS_REVOKED] = "revoked",   [NS_USERINFO] = "userinfo",
    [NS_DEMO] = "demo",         [NS_CACHE] = "cache",
    [NS_PAIRWISE] = "pairwise", [NS_PAIRWISE_SUB] = "pairwise_sub",
    [NS_KEYS] = "keys",         [NS_SECRETS] = "secrets",
    [NS_META] = "meta",         [NS_AUDIT] = "audit",
    [NS_CLIENTS] = "clients",   [NS_IDP_STATE] = "idp_state",
    [NS_SESSION] = "session",   [NS_REFRESH] = "refresh",
    [NS_LOGOUT] = "logout",     [NS_REPORT] = "report",
};
_Static_assert(NS_COUNT == 20, "name every namespace in ns_names");

void lmdb_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void lmdb_set_err(char **err, const char *fmt, ...)
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
char *lmdb_path_join(const char *dir, const char *name)
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
	lmdb_set_err(err, "store: cannot create directory %s: %s", path, strerror(errno));
	return STORE_ERR;
}

int lmdb_unlink_in(const char *dir, const char *name, char **err)
{
	char *p = lmdb_path_join(dir, name);
	if (!p)
		return STORE_ERR;
	int rc = STORE_OK;
	if (unlink(p) != 0 && errno != ENOENT) {
		lmdb_set_err(err, "store: cannot remove %s: %s", p, strerror(errno));
		rc = STORE_ERR;
	}
	free(p);
	return rc;
}

/* Under the directory lock dfd: creates or joins the marker. Sets *unclean if it was abandoned. */
static int marker_open(const char *vdir, int dfd, int *marker_fd, bool *unclean, char **err)
{
	char *p = lmdb_path_join(vdir, "RUNNING");
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
	lmdb_set_err(err, "store: marker %s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(p);
	return STORE_ERR;
}

/* ---- environments ---- */

/* LMDB maps lock.mdb (the reader table) after sizing it with ftruncate, which leaves it sparse:
 * a reader slot first used when the disk is full would then be a store into a hole, and SIGBUS.
 * Its blocks are allocated here, before LMDB opens it, where a full disk is a clear error. It must
 * be before: closing any descriptor of lock.mdb drops every POSIX lock this process holds on it,
 * LMDB's too (another process would then take itself for the first opener and reset the locks).
 * A new file is made larger than LMDB asks (which it keeps), so it is allocated from the start. */
enum { LOCK_FILE_BYTES = 64 * 1024 };
_Static_assert(LOCK_FILE_BYTES >= 256 + MAX_READERS * 64, "room for LMDB's reader table");

static int lock_alloc(const char *envdir, char **err)
{
	char *p = lmdb_path_join(envdir, "lock.mdb");
	if (!p)
		return STORE_ERR;
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat st;
	int rc = fd < 0 || fstat(fd, &st) != 0 ? errno : 0;
	off_t len = !rc && st.st_size > LOCK_FILE_BYTES ? st.st_size : LOCK_FILE_BYTES;
	/* fallocate(2), not posix_fallocate(3), which glibc emulates by rewriting bytes */
	if (!rc && fallocate(fd, 0, 0, len) != 0)
		rc = errno;
	if (fd >= 0)
		close(fd);
	/* a file system without fallocate (EOPNOTSUPP) keeps LMDB's sparse lock file */
	if (rc && rc != EOPNOTSUPP && rc != EINVAL) {
		lmdb_set_err(err, "store: cannot allocate %s: %s", p, strerror(rc));
		free(p);
		return STORE_ERR;
	}
	free(p);
	return STORE_OK;
}

static int env_open(struct lmdb_store *c, int which, size_t map_mib, char **err)
{
	if (lock_alloc(c->path[which], err))
		return STORE_ERR;
	MDB_env *e;
	int rc = mdb_env_create(&e);
	if (rc) {
		lmdb_set_err(err, "store: mdb_env_create: %s", mdb_strerror(rc));
		return STORE_ERR;
	}
	unsigned flags = MDB_NOTLS;
	/* Volatile records are discarded after an unclean stop, so their environment may be lost or
	 * torn by an OS crash: writing through the map (no pwrite per dirty page) and never syncing
	 * is safe there, and is most of what a login's short-lived writes cost otherwise. The file
	 * LMDB makes for the map is sparse: store_lmdb.c allocates ahead of the pages it uses, so a
	 * full disk refuses a write instead of killing the daemon (SIGBUS). The durable environment
	 * is synced on every commit, always (see store_group_commit for the daemon's pairwise
	 * writes). */
	if (which == ENV_VOLATILE)
		flags |= MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_MAPASYNC;
	if ((rc = mdb_env_set_maxdbs(e, NS_COUNT)) ||
	    (rc = mdb_env_set_mapsize(e, map_mib * 1024 * 1024)) ||
	    (rc = mdb_env_set_maxreaders(e, MAX_READERS)) ||
	    (rc = mdb_env_open(e, c->path[which], flags, 0600))) {
		lmdb_set_err(err, "store: cannot open LMDB environment %s: %s", c->path[which],
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
		if ((rc = mdb_dbi_open(txn, lmdb_ns_names[ns], MDB_CREATE, &c->dbi[ns]))) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)))
		goto fail;
	int dead = 0;
	if (mdb_reader_check(e, &dead) == 0 && dead > 0)
		log_warn("store: freed %d reader slot(s) in %s left by a process that died reading",
		         dead, c->path[which]);
	c->env[which] = e;
	if (which == ENV_VOLATILE) {
		MDB_stat st;
		c->writemap = mdb_env_stat(e, &st) == 0;
		c->psize = c->writemap ? st.ms_psize : 0;
	}
	return STORE_OK;
fail:
	lmdb_set_err(err, "store: cannot open the databases in %s: %s", c->path[which],
	             mdb_strerror(rc));
	mdb_env_close(e);
	return STORE_ERR;
}

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

int lmdb_open(store *s, const char *dir, size_t map_mib, char **err)
{
	if (map_mib == 0 || map_mib > SIZE_MAX / (1024 * 1024)) {
		lmdb_set_err(err, "store: bad map size %zu MiB", map_mib);
		return STORE_ERR;
	}
	struct lmdb_store *c = calloc(1, sizeof *c);
	if (!c)
		return STORE_ERR;
	c->marker_fd = -1;
	int dfd = -1;
	c->path[ENV_DURABLE] = lmdb_path_join(dir, "durable");
	c->path[ENV_VOLATILE] = lmdb_path_join(dir, "volatile");
	if (!c->path[ENV_DURABLE] || !c->path[ENV_VOLATILE])
		goto fail;
	if (make_dir(dir, err) || make_dir(c->path[ENV_DURABLE], err) ||
	    make_dir(c->path[ENV_VOLATILE], err))
		goto fail;
	const char *vdir = c->path[ENV_VOLATILE];
	/* the volatile directory's flock serialises marker decisions across processes */
	dfd = open(vdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) != 0) {
		lmdb_set_err(err, "store: cannot lock %s: %s", vdir, strerror(errno));
		goto fail;
	}
	bool unclean;
	if (marker_open(vdir, dfd, &c->marker_fd, &unclean, err))
		goto fail;
	if (unclean) {
		log_warn(
		    "store: the last run did not close the store; discarding volatile records");
		if (lmdb_unlink_in(vdir, "data.mdb", err) || lmdb_unlink_in(vdir, "lock.mdb", err))
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

void lmdb_close(store *s)
{
	struct lmdb_store *c = ctx(s);
	if (!c)
		return;
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
			if (lmdb_unlink_in(vdir, "RUNNING", NULL) == 0)
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
