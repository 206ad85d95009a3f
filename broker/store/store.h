/* store.h — the storage interface: a handful of verbs over namespaced keys with expiry.
 *
 * Everything above this header is backend-neutral; nothing outside broker/store/ names a backend.
 * The verbs map onto Redis (GET, SET PX, SET NX PX, GETDEL, SET GET, MULTI/EXEC) and PostgreSQL
 * (INSERT … ON CONFLICT, DELETE … RETURNING, a transaction). Two backends: "lmdb", embedded, one
 * node (store_lmdb*.c, under <state_dir>/store), and "postgresql", any number of nodes on one
 * database (store_pg*.c). The config chooses (hub.store); store_open_config opens either.
 *
 * Namespaces are of two classes. Durable ones (pairwise IDs, keys, secrets, audit) survive a crash
 * of the machine or of the database. Volatile ones (journeys, codes, replay caches, revocations)
 * may be lost in a crash: LMDB keeps them in an environment that is not fsync'd and discards it
 * after an unclean stop; PostgreSQL keeps them in an UNLOGGED table, which a server crash (or a
 * failover to a replica) empties. Either way store_unclean_floor() then returns the time the loss
 * was noticed, and the hub refuses anything issued before it (its single-use record may be gone).
 * On PostgreSQL the floor can rise while the daemon runs (it is noticed when a connection is made
 * again).
 *
 * Values are opaque bytes. A ttl of 0 means "never expires"; otherwise the record is invisible to
 * every verb once now >= expiry, and the background purge removes it. Times are UNIX seconds, from
 * store_now() (the caller's clock, also on PostgreSQL: the server's clock is never used).
 *
 * Errors, for every function that returns int unless it says otherwise: STORE_OK (0) or a
 * negative code. STORE_ERR covers bad arguments (NULL store, unknown namespace, empty key or a key
 * longer than 511 bytes, negative ttl, NULL value with a length) and backend failures: an I/O
 * error, the database unreachable (PostgreSQL: within about a second while it is down; a verb never
 * waits longer than the connect timeout, 2 s by default, or the 5 s statement timeout), a
 * connection that broke mid-verb (nothing is half-written: every verb is one statement or one
 * transaction). The hub maps STORE_ERR to a 503 page or OAuth temporarily_unavailable.
 * STORE_NOTFOUND: no live record (get, take, swap, del). STORE_EXISTS: a live record is in the way
 * (put_new, a batch with put_new). STORE_FULL (LMDB only): the map or the disk is full; nothing
 * was written. STORE_BUSY (LMDB only): a budgeted batch refused above the high-water mark. On
 * any error nothing is written and output pointers are left NULL.
 *
 * Threads: every function may be called from any thread concurrently with the others on the same
 * store, except store_close (no other call may be running or follow) and store_set_clock (before
 * the store is shared). Several processes may open the same store (idhubctl beside the daemon;
 * on PostgreSQL any number of daemons).
 */
#ifndef IDHUB_STORE_H
#define IDHUB_STORE_H
#include <stddef.h>
#include <stdint.h>

/* STORE_FULL: the map or the disk is full. STORE_BUSY: a budgeted write (a new journey) refused
 * because the volatile store is above its high-water mark (see store_batch_budgeted). */
enum {
	STORE_OK = 0,
	STORE_NOTFOUND = -1,
	STORE_EXISTS = -2,
	STORE_ERR = -3,
	STORE_FULL = -4,
	STORE_BUSY = -5
};

typedef enum {
	/* volatile: short-lived, not fsync'd */
	NS_JOURNEY = 0, /* journey id -> journey record */
	NS_USTATE,      /* upstream state / RelayState -> journey id, single use */
	NS_CODE,        /* authorization code -> code record, then a redeemed tombstone */
	NS_REPLAY,      /* replay caches: client assertion jti, upstream assertion ids */
	NS_REVOKED,     /* revoked access-token jti -> empty */
	NS_USERINFO,    /* access-token jti -> userinfo claims until the token expires */
	NS_DEMO,        /* the built-in demo service's login state */
	NS_CACHE,       /* adapters' and clients' fetched documents (JWKS, metadata) */
	NS_SESSION,     /* hub sessions: SHA-256 of the session cookie -> session record; lost
	                   only with the volatile environment after an unclean start */
	NS_VOLATILE_END,
	/* durable: fsync'd */
	NS_PAIRWISE =
	    NS_VOLATILE_END, /* keyed hash of (sector, idp, upstream subject) -> pairwise record */
	NS_PAIRWISE_SUB,     /* sector \0 sub -> lookup key, for operator look-ups */
	NS_KEYS,             /* kid -> signing key record */
	NS_SECRETS,          /* named hub secrets (pairwise derivation keys) */
	NS_META,             /* store-level metadata (generation counters) */
	NS_AUDIT,            /* time-ordered audit records */
	NS_CLIENTS,          /* services registered with idhubctl: client_id -> JSON */
	NS_IDP_STATE,        /* operator switches per IdP: id -> JSON */
	NS_REFRESH,          /* SHA-256 of a refresh token -> its record; "f:" family -> state */
	NS_LOGOUT,           /* back-channel logout deliveries queued, with their outcome */
	NS_REPORT,           /* hourly aggregate counters for the transparency report */
	NS_COUNT
} store_ns;

typedef struct store store;

/* Which backend, and where. */
typedef struct store_config {
	const char *backend;  /* "lmdb" (also when NULL) or "postgresql" */
	const char *dir;      /* lmdb: the store directory (<state_dir>/store) */
	size_t map_mib;       /* lmdb: the size bound of each environment */
	const char *conninfo; /* postgresql: a libpq connection string or URI */
	int pool;             /* postgresql: connections per process (1..64; 0: 4) */
} store_config;

/* Opens (creating if needed) the store sc describes. LMDB: the directory (mode 0700, files 0600).
 * PostgreSQL: connects, and applies the schema's migrations (store_init) unless they are applied.
 * On error returns NULL and, if err is set, a malloc'd message (the database unreachable, a bad
 * conninfo, a schema newer than this build, the directory not writable). */
store *store_open_config(const store_config *sc, char **err);
/* store_open_config with backend "lmdb", dir and map_mib. */
store *store_open(const char *dir, size_t map_mib, char **err);
/* Checks sc without opening anything: a known backend and what it needs (LMDB a directory,
 * PostgreSQL a conninfo libpq can parse). 0, or -1 with a malloc'd *err naming the setting. */
int store_check_config(const store_config *sc, char **err);
/* Closes the store (committing queued deferred writes) and, on LMDB, marks the shutdown clean. No
 * other call on s may be running. */
void store_close(store *s);
/* The unclean-start floor: a UNIX time when volatile records were lost (see above), else 0. */
int64_t store_unclean_floor(const store *s);
/* The backend's name ("lmdb", "postgresql"). */
const char *store_backend_name(const store *s);
/* The namespace's stable name (the LMDB database, the PostgreSQL ns column), or NULL. */
const char *store_ns_name(store_ns ns);

/* Reads a live record. On success *val is a malloc'd copy (free with free()) of *vlen bytes with a
 * NUL byte appended (not counted), and *expires (if non-NULL) its expiry or 0. */
int store_get(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen,
              int64_t *expires);
/* Creates or replaces a record; ttl seconds from now, 0 for none. */
int store_put(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen,
              int64_t ttl);
/* Creates a record only if no live record has that key: STORE_EXISTS otherwise. The replay-cache
 * verb. */
int store_put_new(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen,
                  int64_t ttl);
/* Atomically reads and deletes a live record: the single-use verb. Same output contract as get. */
int store_take(store *s, store_ns ns, const void *key, size_t klen, void **val, size_t *vlen);
/* Atomically replaces a live record with a new value and returns the old one (as get);
 * STORE_NOTFOUND (and nothing written) if there was no live record. */
int store_swap(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen,
               int64_t ttl, void **old, size_t *oldlen);
/* Deletes a record; STORE_NOTFOUND if absent. */
int store_del(store *s, store_ns ns, const void *key, size_t klen);

/* Several writes applied in one transaction (all or none). Volatile and durable namespaces may not
 * be mixed in one batch (they are separate environments): store_batch_commit returns STORE_ERR
 * then. */
typedef struct store_batch store_batch;
store_batch *store_batch_new(void);
void store_batch_put(store_batch *b, store_ns ns, const void *key, size_t klen, const void *val,
                     size_t vlen, int64_t ttl);
/* Like store_put_new inside the batch: the whole batch fails with STORE_EXISTS if the key is live.
 */
void store_batch_put_new(store_batch *b, store_ns ns, const void *key, size_t klen, const void *val,
                         size_t vlen, int64_t ttl);
void store_batch_del(store_batch *b, store_ns ns, const void *key, size_t klen);
/* Marks a volatile batch as a new journey: its commit is refused with STORE_BUSY, writing
 * nothing, when the volatile environment is at or above its high-water mark, unless every key it
 * puts already exists (a journey under way). Unbudgeted writes (codes, the journeys under way)
 * may use the headroom above the mark; the purge always can. */
void store_batch_budgeted(store_batch *b);
/* Applies and frees the batch. A del of an absent key is not an error. */
int store_batch_commit(store *s, store_batch *b);
/* Like store_batch_commit, for writes whose loss in an OS crash is harmless because they are
 * re-derived identically (the daemon's pairwise records). After store_group_commit the batch is
 * queued and committed within interval_ms together with the others queued, in one synced
 * transaction in which each batch applies all or nothing (a batch that fails, e.g. STORE_EXISTS,
 * is dropped alone); returns 0 once queued. Without group commit it is store_batch_commit. */
int store_batch_commit_deferred(store *s, store_batch *b);
void store_batch_free(store_batch *b);

/* An audit record that rides with a change: the next durable write by this thread on s (put,
 * put_new, del, batch commit) also writes (ns, key) -> val with put_new semantics in the same
 * transaction, so the change and its record commit together or not at all. The rider is used once;
 * a write that fails leaves it pending. take and swap do not carry it. */
int store_attach(store *s, store_ns ns, const void *key, size_t klen, const void *val, size_t vlen);
/* Like store_attach, but the rider is appended (see store_append): its key is assigned in the
 * change's transaction. */
int store_attach_append(store *s, store_ns ns, const void *val, size_t vlen);
/* Appends a durable record whose key the backend assigns inside the write transaction: 8 bytes,
 * big-endian, one past the namespace's greatest key (0 when empty). Concurrent appenders (the
 * daemon and idhubctl) get dense, ordered numbers: no gap, no duplicate. For a namespace that
 * holds appended records only (NS_AUDIT). store_batch_append does it inside a batch. */
int store_append(store *s, store_ns ns, const void *val, size_t vlen);
void store_batch_append(store_batch *b, store_ns ns, const void *val, size_t vlen);
/* Drops this thread's rider on s; returns 1 when it was still pending (not committed), else 0. */
int store_attach_drop(store *s);

/* Calls fn for each live record of ns in key order until fn returns non-zero (which is returned).
 * Runs in one read snapshot; fn must not call other store verbs. */
typedef int (*store_iter_fn)(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                             int64_t expires);
int store_iter(store *s, store_ns ns, store_iter_fn fn, void *arg);

/* Deletes up to max expired records across all namespaces (in batches of small transactions so
 * writers are not held up; a transaction that finds the map full is retried smaller, down to one
 * record, so the purge runs on a full map). Returns the number deleted, or STORE_ERR. */
long store_purge_expired(store *s, int64_t now, long max);
/* Starts a background thread purging every interval_s seconds, and every second while the volatile
 * store is at or above its high-water mark; it also clears stale readers (store_reader_check).
 * Stopped by store_close. */
int store_start_purger(store *s, int interval_s);
/* The high-water mark of the volatile store, in percent of its map (default 75; 10..85). Above 90%
 * no volatile record is added at all (STORE_FULL), so the purge always has free pages to work.
 * The percentage counts the pages of the B-trees; LMDB's own free list is in the remainder. */
int store_set_high_water(store *s, int percent);
/* How full the volatile store is, in percent of its map (pages in use), or STORE_ERR. */
int store_volatile_fill(store *s);
/* Frees the reader slots of processes that died holding a read transaction (a killed backup),
 * which would otherwise pin old pages and grow the files until the map fills. Also done at open.
 * Returns the number of slots freed, or STORE_ERR. */
int store_reader_check(store *s);

/* Statistics for status pages: live-or-expired record count per namespace, and bytes used on disk.
 */
long store_count(store *s, store_ns ns);
int64_t store_disk_bytes(store *s);

/* Group commit of deferred writes (store_batch_commit_deferred): a background thread commits the
 * queued batches every interval_ms (and at close) in one synced transaction. Every other durable
 * commit stays synced on its own: the durable environment is never written without fsync, so an
 * OS crash cannot corrupt keys, secrets, services, switches or audit; it can lose only the
 * deferred writes of the last interval. */
int store_group_commit(store *s, int interval_ms);
/* Flushes the durable environment to disk now; 0 or STORE_ERR (the caller must check). */
int store_sync(store *s) __attribute__((warn_unused_result));

/* Backup and restore (the durable environment only: volatile records are short-lived and a
 * restored hub must not accept codes or journeys from before the restore).
 * store_backup writes a consistent, compacted hot copy of the durable environment to
 * <backup_dir>/data.mdb (mode 0600, the directory made 0700), while writers go on: it is written
 * under a temporary name, synced and renamed, then <backup_dir>/MANIFEST (format, store format
 * version, size, SHA-256) is written the same way, last. A backup without a manifest is
 * incomplete. Refuses a directory that already holds a backup. */
int store_backup(store *s, const char *backup_dir, char **err);
/* 1 when a process (daemon or idhubctl) has the store under dir open, 0 when not, -1 on error. */
int store_dir_in_use(const char *dir);
/* Backup and restore are LMDB abilities: store_backup returns STORE_ERR with *err saying so on a
 * backend without them (PostgreSQL is backed up with its own tools: pg_basebackup, pg_dump). */
/* 1 when the backend sc names has backup and restore, else 0. */
int store_config_can_backup(const store_config *sc);
/* Replaces the durable environment under dir with <backup_dir>/data.mdb (the old one is kept as
 * durable.replaced-<time>) and empties the volatile one. Refuses (STORE_EXISTS) when the store is
 * in use, and (STORE_ERR) a backup without a manifest, of an unknown format version, or whose
 * size or SHA-256 differ from its manifest; the current store is then left untouched. The copy is
 * checked again after it is written, before it replaces anything. Returns 0 or a STORE_ code with
 * *err set. */
int store_restore(const char *dir, const char *backup_dir, char **err);

/* The change feed, for caches of records other processes change (signing keys, services, IdP
 * switches: NS_KEYS, NS_META, NS_CLIENTS, NS_IDP_STATE). store_watch starts it (PostgreSQL:
 * LISTEN/NOTIFY on a connection of its own, reconnecting by itself; stopped by store_close);
 * STORE_ERR when the backend has none (LMDB) or it is already started. store_change_epoch returns
 * a counter that changes after any such change commits anywhere, seen within a second (and
 * changes on every call while the feed is disconnected); 0 when there is no feed: the caller then
 * checks the store itself from time to time. Read the counter before reading the records. */
int store_watch(store *s);
uint64_t store_change_epoch(store *s);

/* The clock every store verb uses; tests may override it with store_set_clock. */
int64_t store_now(const store *s);
void store_set_clock(store *s, int64_t (*now)(void));

#endif
