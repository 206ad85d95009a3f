/* pg_fixture.h — for the C tests that run against every store backend: a private PostgreSQL 15
 * cluster started by tests/pg/cluster.sh in a temporary directory (a Unix socket there, no TCP
 * port; run as nobody under root), an empty schema per test, and the cluster stopped at the end.
 * Header-only: each test binary is one .c file. Run from the repository's root (as make check and
 * tests/run-all.sh do). */
#ifndef IDHUB_TEST_PG_FIXTURE_H
#define IDHUB_TEST_PG_FIXTURE_H
#include <ftw.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NULL: not on PostgreSQL (the LMDB group); else the cluster's conninfo. */
static char *pg_conninfo;
static char pg_dir[64];

/* 1 when this machine can run the PostgreSQL group. */
static inline int pg_available(void)
{
	return access("tests/pg/cluster.sh", R_OK) == 0 &&
	       access("/usr/lib/postgresql/15/bin/initdb", X_OK) == 0;
}

/* tests/pg/cluster.sh CMD on this cluster; its exit status. */
static inline int pg_cluster(const char *cmd)
{
	char line[256];
	snprintf(line, sizeof line, "sh tests/pg/cluster.sh %s %s >/dev/null", cmd, pg_dir);
	return system(line);
}

/* A cmocka group setup: starts the cluster and sets pg_conninfo. */
static inline int pg_group_setup(void **state)
{
	(void)state;
	strcpy(pg_dir, "/tmp/idhub-test-pg-XXXXXX");
	if (!mkdtemp(pg_dir))
		return -1;
	char cmd[160], line[256] = "";
	snprintf(cmd, sizeof cmd, "sh tests/pg/cluster.sh start %s", pg_dir);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	int got = fgets(line, sizeof line, p) != NULL;
	if (pclose(p) != 0 || !got)
		return -1;
	line[strcspn(line, "\n")] = '\0';
	pg_conninfo = strdup(line);
	return pg_conninfo ? 0 : -1;
}

static inline int pg_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* A cmocka group teardown: stops the cluster and removes its directory. */
static inline int pg_group_teardown(void **state)
{
	(void)state;
	pg_cluster("stop");
	nftw(pg_dir, pg_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(pg_conninfo);
	pg_conninfo = NULL;
	return 0;
}

/* Empties the database (the store migrates it again at open); 0 or -1. */
static inline int pg_reset(void)
{
	PGconn *c = PQconnectdb(pg_conninfo);
	PGresult *r = PQexec(c, "SET client_min_messages = warning;"
	                        "DROP SCHEMA public CASCADE; CREATE SCHEMA public");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	PQfinish(c);
	return ok ? 0 : -1;
}

#endif
