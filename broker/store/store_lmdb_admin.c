/* store_lmdb_admin.c — the LMDB backend's operator functions (declared in store.h): group commit of
 * the durable environment, hot backup, restore, and whether a store is in use. */
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

void lmdb_syncer_stop(struct lmdb_store *c)
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
		lmdb_syncer_stop(c);
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
		lmdb_set_err(err, "backup: not an LMDB store");
		return STORE_ERR;
	}
	if (mkdir(backup_dir, 0700) != 0 && errno != EEXIST) {
		lmdb_set_err(err, "backup: cannot create %s: %s", backup_dir, strerror(errno));
		return STORE_ERR;
	}
	chmod(backup_dir, 0700);
	char *p = lmdb_path_join(backup_dir, "data.mdb");
	if (!p)
		return STORE_ERR;
	/* our own fd, so the copy is 0600 whatever the umask (LMDB's own copy would be 0644) */
	int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		lmdb_set_err(err, "backup: cannot create %s: %s", p, strerror(errno));
		free(p);
		return STORE_ERR;
	}
	int rc = mdb_env_copyfd2(ctx(s)->env[ENV_DURABLE], fd, MDB_CP_COMPACT);
	if (rc == 0 && fsync(fd) != 0)
		rc = errno;
	close(fd);
	if (rc) {
		lmdb_set_err(err, "backup: %s", mdb_strerror(rc));
		unlink(p);
		free(p);
		return STORE_ERR;
	}
	free(p);
	return STORE_OK;
}

int store_dir_in_use(const char *dir)
{
	char *v = lmdb_path_join(dir, "volatile");
	char *p = v ? lmdb_path_join(v, "RUNNING") : NULL;
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
		lmdb_set_err(err, "restore: the store in %s is in use (is the daemon running?)",
		             dir);
		return STORE_EXISTS;
	}
	char *src = lmdb_path_join(backup_dir, "data.mdb");
	char *dur = lmdb_path_join(dir, "durable");
	char *vol = lmdb_path_join(dir, "volatile");
	char *old = NULL, *tmp = dur ? lmdb_path_join(dur, "data.mdb.restoring") : NULL;
	int rc = STORE_ERR;
	struct stat st;
	if (!src || !dur || !vol || !tmp || stat(src, &st) != 0) {
		lmdb_set_err(err, "restore: no backup at %s", src ? src : backup_dir);
		goto out;
	}
	if (asprintf(&old, "%s.replaced-%lld", dur, (long long)time(NULL)) < 0) {
		old = NULL;
		goto out;
	}
	mkdir(dir, 0700);
	if (rename(dur, old) != 0 && errno != ENOENT) {
		lmdb_set_err(err, "restore: cannot move %s aside: %s", dur, strerror(errno));
		goto out;
	}
	char *final = lmdb_path_join(dur, "data.mdb");
	if (!final || mkdir(dur, 0700) != 0 || copy_file(src, tmp) != 0 ||
	    rename(tmp, final) != 0) {
		lmdb_set_err(err, "restore: cannot copy the backup into %s: %s", dur,
		             strerror(errno));
		free(final);
		goto out;
	}
	free(final);
	/* journeys, codes and replay caches from before the restore must not survive it */
	const char *names[] = {"data.mdb", "lock.mdb", "RUNNING"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		lmdb_unlink_in(vol, names[i], NULL);
	rc = STORE_OK;
out:
	free(src);
	free(dur);
	free(vol);
	free(old);
	free(tmp);
	return rc;
}
