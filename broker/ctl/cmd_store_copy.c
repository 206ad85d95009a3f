/* cmd_store_copy.c — idhubctl store init | copy: preparing a database for several nodes and moving
 * a single-node hub's durable records (keys, secrets, pairwise records, services, switches, audit)
 * into it, so every citizen keeps their sub. Short-lived records (journeys, codes) are not copied:
 * the hub is stopped for the move. */
#include "ctl.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct copy_ctx {
	store *dst;
	store_ns ns;
	int64_t now;
	bool check; /* the first pass: only look for conflicts, write nothing */
	long copied, same, conflicts, failed;
};

/* The audit log's tree state (signed heads, frontier, covered leaf hashes: "audit.*" in NS_META)
 * is derived from the audit records. A hub that has run on the target since an earlier copy has
 * signed heads of its own over the same first records and more: those are kept, and are no
 * conflict. An empty target gets the source's, consistent with the records copied with it. */
static bool audit_tree_state(store_ns ns, const void *key, size_t klen)
{
	return ns == NS_META && klen > 6 && memcmp(key, "audit.", 6) == 0;
}

/* Copies one record with put_new: a rerun skips what is already there with the same value, and a
 * different value already there is a conflict (the target is another hub's database). */
static int copy_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
                    int64_t expires)
{
	struct copy_ctx *x = arg;
	if (expires && expires <= x->now)
		return 0;
	int64_t ttl = expires ? expires - x->now : 0;
	int rc = x->check ? store_get(x->dst, x->ns, key, klen, NULL, NULL, NULL)
	                  : store_put_new(x->dst, x->ns, key, klen, val, vlen, ttl);
	if (x->check && rc == STORE_NOTFOUND)
		return 0;
	if (x->check && rc == STORE_OK)
		rc = STORE_EXISTS;
	if (rc == STORE_OK) {
		x->copied++;
		return 0;
	}
	if (rc != STORE_EXISTS) {
		x->failed++;
		return 1; /* stop: the target is failing */
	}
	if (audit_tree_state(x->ns, key, klen)) {
		x->same++; /* the target's own tree state covers what it holds: kept */
		return 0;
	}
	void *have = NULL;
	size_t hlen = 0;
	if (store_get(x->dst, x->ns, key, klen, &have, &hlen, NULL) == STORE_OK && hlen == vlen &&
	    memcmp(have, val, vlen) == 0)
		x->same++;
	else
		x->conflicts++;
	free(have);
	return 0;
}

/* <dir>/store when it is there (a state directory), else dir itself (a store directory). */
static void source_dir(const char *from, char *out, size_t n)
{
	struct stat st;
	snprintf(out, n, "%s/store", from);
	if (stat(out, &st) != 0 || !S_ISDIR(st.st_mode))
		snprintf(out, n, "%s", from);
}

/* Nothing is written when a record in the target differs from the source's (another hub's
 * database): the first pass only compares. */
static long count_conflicts(store *src, store *dst, long *failed)
{
	long conflicts = 0;
	for (int ns = NS_VOLATILE_END; ns < NS_COUNT && !*failed; ns++) {
		struct copy_ctx x = {
		    .dst = dst, .ns = (store_ns)ns, .now = store_now(src), .check = true};
		if (store_iter(src, (store_ns)ns, copy_one, &x) < 0)
			x.failed++;
		conflicts += x.conflicts;
		*failed += x.failed;
	}
	return conflicts;
}

static int copy_all(ctl *c, store *src, store *dst)
{
	long pre_failed = 0, pre = count_conflicts(src, dst, &pre_failed);
	if (pre_failed)
		return ctl_fail("the target store failed; nothing was copied");
	if (pre)
		return ctl_fail("%ld records differ from the ones already in the target: it holds "
		                "another hub's data (the subs would change); nothing was copied: "
		                "copy into an empty database",
		                pre);
	json_t *o = json_object();
	long conflicts = 0, failed = 0;
	for (int ns = NS_VOLATILE_END; ns < NS_COUNT && !failed; ns++) {
		struct copy_ctx x = {.dst = dst, .ns = (store_ns)ns, .now = store_now(src)};
		int rc = store_iter(src, (store_ns)ns, copy_one, &x);
		if (rc < 0)
			x.failed++;
		conflicts += x.conflicts;
		failed += x.failed;
		json_object_set_new(o, store_ns_name((store_ns)ns),
		                    json_pack("{s:I, s:I, s:I}", "copied", (json_int_t)x.copied,
		                              "already_there", (json_int_t)x.same, "conflicts",
		                              (json_int_t)x.conflicts));
		if (!c->json)
			printf("%-14s %8ld copied, %ld already there, %ld conflicting\n",
			       store_ns_name((store_ns)ns), x.copied, x.same, x.conflicts);
	}
	if (c->json)
		ctl_print_json(o);
	else
		json_decref(o);
	if (failed)
		return ctl_fail("the copy stopped: the target store failed (run it again: what was "
		                "copied is kept, and skipped next time)");
	if (conflicts)
		return ctl_fail("%ld records differ from the ones already in the target: it holds "
		                "another hub's data (the subs would change); copy into an empty "
		                "database",
		                conflicts);
	return CTL_OK;
}

static int store_copy(ctl *c, const char *from, const char *to)
{
	char dir[4096];
	source_dir(from, dir, sizeof dir);
	if (store_dir_in_use(dir) == 1)
		return ctl_fail("%s is in use: stop the daemon before copying its store", dir);
	char *err = NULL;
	store *src = store_open(dir, (size_t)c->cfg->store_map_mib, &err);
	if (!src) {
		int rc = ctl_fail("%s: %s", dir, err ? err : "cannot open");
		free(err);
		return rc;
	}
	store_config sc = {.backend = "postgresql", .conninfo = to, .pool = 1};
	store *dst = store_open_config(&sc, &err);
	if (!dst) {
		store_close(src);
		int rc = ctl_fail("%s", err ? err : "cannot open the target");
		free(err);
		return rc;
	}
	int rc = copy_all(c, src, dst);
	store_close(dst);
	store_close(src);
	return rc;
}

int cmd_store(ctl *c, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "init")) {
		/* opening applies the migrations (PostgreSQL); LMDB creates its files */
		if (!ctl_store(c))
			return CTL_FAIL;
		printf("the %s store is ready\n", store_backend_name(c->st));
		return CTL_OK;
	}
	if (argc == 6 && !strcmp(argv[1], "copy") && !strcmp(argv[2], "--from") &&
	    !strcmp(argv[4], "--to"))
		return store_copy(c, argv[3], argv[5]);
	return ctl_usage("store", "init | copy --from STATE_DIR --to CONNINFO");
}
