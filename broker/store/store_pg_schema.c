/* store_pg_schema.c — the PostgreSQL backend's schema and its versioned migrations: applied in
 * order at start (or by `idhubctl store init`), each in its own transaction, serialised between
 * nodes by an advisory lock, recorded in idhub_schema. A database whose schema is newer than this
 * build is refused rather than written to. */
#include "store_pg_int.h"
#include "util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An arbitrary constant: the advisory lock that serialises migrations between nodes. */
#define PG_MIGRATE_LOCK "7366023412"

/* Migration 1. The durable table is partitioned by namespace (one table per namespace, and a
 * default partition for namespaces added later); the volatile one is UNLOGGED: not written to the
 * WAL, so cheap, and emptied by a crash, which the marker row (idhub_marker, also UNLOGGED)
 * reveals. Expiry is indexed (partial: only records that expire) for the purge. */
static const char *const migration_1 =
    "CREATE TABLE idhub_durable (ns text NOT NULL, k bytea NOT NULL, v bytea NOT NULL,"
    " expires bigint NOT NULL DEFAULT 0, PRIMARY KEY (ns, k)) PARTITION BY LIST (ns);"
    "CREATE TABLE idhub_d_pairwise PARTITION OF idhub_durable FOR VALUES IN ('pairwise');"
    "CREATE TABLE idhub_d_pairwise_sub PARTITION OF idhub_durable"
    " FOR VALUES IN ('pairwise_sub');"
    "CREATE TABLE idhub_d_keys PARTITION OF idhub_durable FOR VALUES IN ('keys');"
    "CREATE TABLE idhub_d_secrets PARTITION OF idhub_durable FOR VALUES IN ('secrets');"
    "CREATE TABLE idhub_d_meta PARTITION OF idhub_durable FOR VALUES IN ('meta');"
    "CREATE TABLE idhub_d_audit PARTITION OF idhub_durable FOR VALUES IN ('audit');"
    "CREATE TABLE idhub_d_clients PARTITION OF idhub_durable FOR VALUES IN ('clients');"
    "CREATE TABLE idhub_d_idp_state PARTITION OF idhub_durable FOR VALUES IN ('idp_state');"
    "CREATE TABLE idhub_d_other PARTITION OF idhub_durable DEFAULT;"
    "CREATE INDEX idhub_durable_expiry ON idhub_durable (expires) WHERE expires <> 0;"
    "CREATE UNLOGGED TABLE idhub_volatile (ns text NOT NULL, k bytea NOT NULL,"
    " v bytea NOT NULL, expires bigint NOT NULL DEFAULT 0, PRIMARY KEY (ns, k));"
    "CREATE INDEX idhub_volatile_expiry ON idhub_volatile (expires) WHERE expires <> 0;"
    "CREATE UNLOGGED TABLE idhub_marker (id int PRIMARY KEY, since bigint NOT NULL);";

/* Migration 2: the change feed. A change to keys, meta (the key generation, rotation claims),
 * services or IdP switches notifies idhub_changes at commit (store_pg_watch.c); pairwise records
 * and audit records, the bulk of the writes, do not. */
static const char *const migration_2 =
    "CREATE FUNCTION idhub_notify() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN PERFORM pg_notify('idhub_changes', TG_TABLE_NAME); RETURN NULL; END$$;"
    "CREATE TRIGGER idhub_keys_changed AFTER INSERT OR UPDATE OR DELETE ON idhub_d_keys"
    " FOR EACH ROW EXECUTE FUNCTION idhub_notify();"
    "CREATE TRIGGER idhub_meta_changed AFTER INSERT OR UPDATE OR DELETE ON idhub_d_meta"
    " FOR EACH ROW EXECUTE FUNCTION idhub_notify();"
    "CREATE TRIGGER idhub_clients_changed AFTER INSERT OR UPDATE OR DELETE ON idhub_d_clients"
    " FOR EACH ROW EXECUTE FUNCTION idhub_notify();"
    "CREATE TRIGGER idhub_idp_state_changed AFTER INSERT OR UPDATE OR DELETE"
    " ON idhub_d_idp_state FOR EACH ROW EXECUTE FUNCTION idhub_notify();";

/* Each entry brings the schema from version i to i + 1; append, never edit. */
static const char *const migrations[] = {migration_1, migration_2};
enum { N_MIGRATIONS = sizeof migrations / sizeof migrations[0] };

int pg_schema_version(void)
{
	return N_MIGRATIONS;
}

static int exec_ok(PGconn *c, const char *sql, char **err)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok && err && !*err && asprintf(err, "store: postgresql: %s", PQerrorMessage(c)) < 0)
		*err = NULL;
	PQclear(r);
	return ok ? STORE_OK : STORE_ERR;
}

/* The applied version (0: none), or -1. Called inside the migration transaction. */
static int applied_version(PGconn *c, char **err)
{
	if (exec_ok(c,
	            "CREATE TABLE IF NOT EXISTS idhub_schema (version int PRIMARY KEY,"
	            " applied bigint NOT NULL)",
	            err))
		return -1;
	PGresult *r = PQexec(c, "SELECT coalesce(max(version), 0) FROM idhub_schema");
	int v = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	else if (err && !*err && asprintf(err, "store: postgresql: %s", PQerrorMessage(c)) < 0)
		*err = NULL;
	PQclear(r);
	return v;
}

int pg_migrate(PGconn *c, char **err)
{
	/* the notice of CREATE TABLE IF NOT EXISTS on an existing table is noise */
	if (exec_ok(c, "SET client_min_messages = warning", err) || exec_ok(c, "BEGIN", err) ||
	    exec_ok(c, "SELECT pg_advisory_xact_lock(" PG_MIGRATE_LOCK ")", err))
		goto fail;
	int v = applied_version(c, err);
	if (v < 0)
		goto fail;
	if (v > N_MIGRATIONS) {
		if (err && !*err &&
		    asprintf(err,
		             "store: the database's schema is version %d, newer than this "
		             "build's %d: upgrade idhub",
		             v, N_MIGRATIONS) < 0)
			*err = NULL;
		goto fail;
	}
	for (int i = v; i < N_MIGRATIONS; i++) {
		char rec[128];
		snprintf(rec, sizeof rec, "INSERT INTO idhub_schema VALUES (%d, %lld)", i + 1,
		         (long long)time(NULL));
		if (exec_ok(c, migrations[i], err) || exec_ok(c, rec, err))
			goto fail;
		log_info("store: postgresql schema migrated to version %d", i + 1);
	}
	if (v == 0) {
		/* a new schema: its volatile table is empty because it is new, not because of a
		 * crash, so the marker is set here (see pg_pool.c, marker_check) */
		char m[96];
		snprintf(m, sizeof m, "INSERT INTO idhub_marker VALUES (1, %lld)",
		         (long long)time(NULL));
		if (exec_ok(c, m, err))
			goto fail;
	}
	if (exec_ok(c, "COMMIT", err))
		goto fail;
	return STORE_OK;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	return STORE_ERR;
}
