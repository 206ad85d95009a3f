/* store_lmdb_int.h — inside broker/store/ only: the LMDB backend's state, shared by its files:
 * store_lmdb.c (the verbs, purge, fill and budget, statistics, the backend table),
 * store_lmdb_env.c (opening and closing the two environments and the RUNNING marker) and
 * store_lmdb_admin.c (backup, restore, in use). */
#ifndef IDHUB_STORE_LMDB_INT_H
#define IDHUB_STORE_LMDB_INT_H
#include "store_int.h"
#include <lmdb.h>
#include <pthread.h>
#include <stdbool.h>

enum { ENV_DURABLE = 0, ENV_VOLATILE = 1, ENV_N = 2 };
enum { PURGE_TXN_MAX = 1000, PURGE_SCAN_MAX = 10000, MAX_READERS = 256, HDR = 8 };
/* The format of the durable environment's records, recorded in each backup's manifest; a restore
 * refuses a backup of any other version. */
enum { LMDB_FORMAT_VERSION = 1 };
/* Percent of the volatile map above which no record is added (see over_reserve); the high-water
 * mark of new journeys is below it. */
enum { LMDB_RESERVE_MARK = 90 };
/* The allocated room kept ahead of the volatile environment's last page (see runway). */
enum { LMDB_RUNWAY = 1 << 20 };

extern const char *const lmdb_ns_names[NS_COUNT];

struct lmdb_store {
	MDB_env *env[ENV_N];
	bool writemap;      /* the volatile environment is written through its map */
	size_t psize;       /* its page size */
	uint64_t allocated; /* bytes of its file known to be allocated (see runway) */
	MDB_dbi dbi[NS_COUNT];
	char *path[ENV_N]; /* <dir>/durable, <dir>/volatile */
	int marker_fd;     /* RUNNING, with our shared flock on it */
	size_t max_key;
};

static inline struct lmdb_store *ctx(store *s)
{
	return s->be_ctx;
}

static inline int env_of(store_ns ns)
{
	return store_ns_volatile(ns) ? ENV_VOLATILE : ENV_DURABLE;
}

static inline MDB_env *env_for(store *s, store_ns ns)
{
	return ctx(s)->env[env_of(ns)];
}

/* Sets *err (if unset) to a formatted malloc'd message. */
void lmdb_set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* dir "/" name, malloc'd; NULL when out of memory. */
char *lmdb_path_join(const char *dir, const char *name);
/* Removes dir/name; a missing file is not an error. */
int lmdb_unlink_in(const char *dir, const char *name, char **err);
/* Maps an LMDB error to a STORE_ code, logging it (throttled). */
int lmdb_mdb_fail(int rc, const char *what);
int lmdb_backup(store *s, const char *backup_dir, char **err);
int lmdb_restore(const char *dir, const char *backup_dir, char **err);
int lmdb_dir_in_use(const char *dir);
int lmdb_open(store *s, const char *dir, size_t map_mib, char **err);
void lmdb_close(store *s);

#endif
