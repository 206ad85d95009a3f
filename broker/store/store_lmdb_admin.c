/* store_lmdb_admin.c — the LMDB backend's operator functions (reached through the backend table):
 * hot backup with its manifest, verified restore, and whether a store is in use.
 *
 * A backup directory holds data.mdb (a compacted copy of the durable environment) and MANIFEST,
 * one line: "idhub-store lmdb <format version> <bytes> <sha256 hex>". Each is written under a
 * temporary name, fsync'd and renamed, the manifest last, and the directory fsync'd: a backup that
 * was interrupted has no manifest (or no data.mdb) and restore refuses it. */
#include "store_lmdb_int.h"
#include "util/log.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAGIC "idhub-store lmdb"

/* SHA-256 of the file at fd from its start, as 64 hex digits; its size in *size. */
static int hash_fd(int fd, char hex[65], int64_t *size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) || lseek(fd, 0, SEEK_SET) != 0) {
		EVP_MD_CTX_free(md);
		return -1;
	}
	char buf[65536];
	ssize_t n;
	int64_t total = 0;
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += n;
	}
	unsigned char d[32];
	unsigned dl = 0;
	int ok = n == 0 && EVP_DigestFinal_ex(md, d, &dl) && dl == 32;
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	*size = total;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Writes text to dir/name via dir/name.tmp, fsync'd and renamed. */
static int write_atomic(const char *dir, const char *name, const char *text)
{
	char *tmp = NULL, *fin = lmdb_path_join(dir, name);
	if (!fin || asprintf(&tmp, "%s.tmp", fin) < 0) {
		free(fin);
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), rc = -1;
	size_t len = strlen(text);
	if (fd >= 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0)
		rc = 0;
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		rc = rename(tmp, fin);
	if (rc)
		unlink(tmp);
	free(tmp);
	free(fin);
	return rc;
}

int lmdb_backup(store *s, const char *backup_dir, char **err)
{
	if (mkdir(backup_dir, 0700) != 0 && errno != EEXIST) {
		lmdb_set_err(err, "backup: cannot create %s: %s", backup_dir, strerror(errno));
		return STORE_ERR;
	}
	chmod(backup_dir, 0700);
	char *fin = lmdb_path_join(backup_dir, "data.mdb"), *tmp = NULL, hex[65], line[160];
	int fd = -1, rc = STORE_ERR;
	int64_t size;
	struct stat st;
	if (!fin || asprintf(&tmp, "%s.tmp", fin) < 0) {
		tmp = NULL;
		goto out;
	}
	if (stat(fin, &st) == 0) {
		lmdb_set_err(err, "backup: %s already holds a backup", backup_dir);
		goto out;
	}
	/* our own fd, so the copy is 0600 whatever the umask (LMDB's own copy would be 0644); a
	 * .tmp left by a killed backup is replaced */
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		lmdb_set_err(err, "backup: cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	int mrc = mdb_env_copyfd2(ctx(s)->env[ENV_DURABLE], fd, MDB_CP_COMPACT);
	if (mrc == 0 && fsync(fd) != 0)
		mrc = errno;
	if (mrc) {
		lmdb_set_err(err, "backup: %s", mdb_strerror(mrc));
		goto out;
	}
	if (hash_fd(fd, hex, &size)) {
		lmdb_set_err(err, "backup: cannot read back %s: %s", tmp, strerror(errno));
		goto out;
	}
	snprintf(line, sizeof line, "%s %d %" PRId64 " %s\n", MANIFEST_MAGIC, LMDB_FORMAT_VERSION,
	         size, hex);
	if (rename(tmp, fin) != 0 || write_atomic(backup_dir, "MANIFEST", line) != 0 ||
	    fsync_dir(backup_dir) != 0) {
		lmdb_set_err(err, "backup: cannot complete %s: %s", backup_dir, strerror(errno));
		goto out;
	}
	rc = STORE_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlink(tmp);
	if (err && rc && !*err)
		*err = strdup("backup: out of memory");
	free(fin);
	free(tmp);
	return rc;
}

int lmdb_dir_in_use(const char *dir)
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

/* Reads <backup_dir>/MANIFEST: the size and hash it records. */
static int manifest_read(const char *backup_dir, int64_t *size, char hex[65], char **err)
{
	char *p = lmdb_path_join(backup_dir, "MANIFEST"), line[256];
	FILE *f = p ? fopen(p, "re") : NULL;
	free(p);
	if (!f) {
		lmdb_set_err(err,
		             "restore: %s has no MANIFEST: not a backup, or an incomplete one (was "
		             "the backup interrupted?)",
		             backup_dir);
		return STORE_ERR;
	}
	int version = 0, ok = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	long long sz = -1;
	if (!ok || strncmp(line, MANIFEST_MAGIC " ", sizeof MANIFEST_MAGIC) != 0 ||
	    sscanf(line + sizeof MANIFEST_MAGIC, "%d %lld %64[0-9a-f]", &version, &sz, hex) != 3 ||
	    strlen(hex) != 64 || sz <= 0) {
		lmdb_set_err(err, "restore: the MANIFEST in %s is damaged", backup_dir);
		return STORE_ERR;
	}
	if (version != LMDB_FORMAT_VERSION) {
		lmdb_set_err(err,
		             "restore: the backup in %s is of store format version %d; this idhub "
		             "reads version %d only",
		             backup_dir, version, LMDB_FORMAT_VERSION);
		return STORE_ERR;
	}
	*size = sz;
	return STORE_OK;
}

/* Copies from -> to (created 0600, fsync'd) and checks the copy against size and hash. */
static int copy_checked(const char *from, const char *to, int64_t size, const char *hex, char **err)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	int out = open(to, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	char buf[65536], got[65];
	ssize_t n = -1;
	int64_t got_size = -1;
	int rc = STORE_ERR;
	if (in < 0 || out < 0) {
		lmdb_set_err(err, "restore: cannot copy %s: %s", from, strerror(errno));
		goto out;
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n) {
			n = -1;
			break;
		}
	if (n < 0 || fsync(out) != 0 || hash_fd(out, got, &got_size) != 0) {
		lmdb_set_err(err, "restore: cannot copy %s: %s", from, strerror(errno));
		goto out;
	}
	/* the copy, not the source, is checked: what is checked is what will be used */
	if (got_size != size) {
		lmdb_set_err(err,
		             "restore: %s is %lld bytes, its MANIFEST says %lld: truncated or "
		             "not the file that was backed up",
		             from, (long long)got_size, (long long)size);
		goto out;
	}
	if (strcmp(got, hex) != 0) {
		lmdb_set_err(err, "restore: %s does not match the SHA-256 in its MANIFEST: damaged",
		             from);
		goto out;
	}
	rc = STORE_OK;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* Opens the checked copy read-only, as a last proof that LMDB can read it. */
static int open_check(const char *envdir, char **err)
{
	MDB_env *e;
	MDB_txn *txn;
	int rc = mdb_env_create(&e);
	if (rc == 0) {
		mdb_env_set_maxdbs(e, NS_COUNT);
		rc = mdb_env_open(e, envdir, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0600);
		if (rc == 0 && (rc = mdb_txn_begin(e, NULL, MDB_RDONLY, &txn)) == 0)
			mdb_txn_abort(txn);
		mdb_env_close(e);
	}
	if (rc)
		lmdb_set_err(err, "restore: the backup cannot be opened: %s", mdb_strerror(rc));
	return rc ? STORE_ERR : STORE_OK;
}

int lmdb_restore(const char *dir, const char *backup_dir, char **err)
{
	if (lmdb_dir_in_use(dir) != 0) {
		lmdb_set_err(err, "restore: the store in %s is in use (is the daemon running?)",
		             dir);
		return STORE_EXISTS;
	}
	char hex[65];
	int64_t size;
	if (manifest_read(backup_dir, &size, hex, err))
		return STORE_ERR;
	char *src = lmdb_path_join(backup_dir, "data.mdb");
	char *dur = lmdb_path_join(dir, "durable");
	char *vol = lmdb_path_join(dir, "volatile");
	char *old = NULL, *stage = NULL, *staged = NULL;
	int rc = STORE_ERR;
	if (!src || !dur || !vol || asprintf(&stage, "%s.restoring", dur) < 0 ||
	    asprintf(&old, "%s.replaced-%lld", dur, (long long)time(NULL)) < 0) {
		stage = old = NULL;
		goto out;
	}
	/* everything is checked in a staging directory beside the store; the current store is
	 * only moved aside once the copy has proved whole */
	mkdir(dir, 0700);
	if (!(staged = lmdb_path_join(stage, "data.mdb")))
		goto out;
	lmdb_unlink_in(stage, "data.mdb", NULL);
	lmdb_unlink_in(stage, "lock.mdb", NULL);
	if (mkdir(stage, 0700) != 0 && errno != EEXIST) {
		lmdb_set_err(err, "restore: cannot create %s: %s", stage, strerror(errno));
		goto out;
	}
	if (copy_checked(src, staged, size, hex, err) || open_check(stage, err))
		goto out;
	lmdb_unlink_in(stage, "lock.mdb", NULL);
	if (rename(dur, old) != 0 && errno != ENOENT) {
		lmdb_set_err(err, "restore: cannot move %s aside: %s", dur, strerror(errno));
		goto out;
	}
	if (rename(stage, dur) != 0) {
		lmdb_set_err(err, "restore: cannot move the restored copy into place: %s",
		             strerror(errno));
		rename(old, dur); /* put the old store back */
		goto out;
	}
	fsync_dir(dir);
	/* journeys, codes and replay caches from before the restore must not survive it */
	const char *names[] = {"data.mdb", "lock.mdb", "RUNNING"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		lmdb_unlink_in(vol, names[i], NULL);
	rc = STORE_OK;
out:
	if (rc && stage) {
		lmdb_unlink_in(stage, "data.mdb", NULL);
		lmdb_unlink_in(stage, "lock.mdb", NULL);
		rmdir(stage);
	}
	if (err && rc && !*err)
		*err = strdup("restore: out of memory");
	free(src);
	free(dur);
	free(vol);
	free(old);
	free(stage);
	free(staged);
	return rc;
}
