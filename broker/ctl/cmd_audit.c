/* cmd_audit.c — idhubctl audit: list the log, and its Merkle tree's signed heads (head, verify,
 * prove, check-proof), the SIEM export (export --since). See broker/audit/audit_tree.h. */
#include "ctl.h"
#include "audit/audit.h"
#include "audit/audit_tree.h"
#include "keys/audit_heads.h"
#include "keys/keys.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- list ---- */

struct list_ctx {
	json_t *all;
};

static int collect(void *arg, uint64_t seq, const json_t *rec)
{
	json_t *r = json_deep_copy(rec);
	json_object_set_new(r, "seq", json_integer((json_int_t)seq));
	json_array_append_new(((struct list_ctx *)arg)->all, r);
	return 0;
}

static void print_list(json_t *out)
{
	size_t i;
	json_t *r;
	json_array_foreach(out, i, r)
	{
		char when[32];
		time_t t = (time_t)json_integer_value(json_object_get(r, "at"));
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		printf("%6lld %s  %-24s %-22s %s\n",
		       (long long)json_integer_value(json_object_get(r, "seq")), when,
		       json_string_value(json_object_get(r, "who")),
		       json_string_value(json_object_get(r, "what")),
		       json_string_value(json_object_get(r, "target")));
	}
}

static int audit_list(ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {{"limit", required_argument, NULL, 'l'},
	                                     {NULL, 0, NULL, 0}};
	long limit = 50;
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 'l' || (limit = ctl_number(optarg)) < 1)
			return ctl_usage("audit", "--limit takes a positive number");
	}
	if (optind != argc)
		return ctl_usage("audit", "unexpected argument %s", argv[optind]);
	if (!ctl_store(c))
		return CTL_FAIL;
	struct list_ctx a = {json_array()};
	audit_each_seq(c->st, collect, &a);
	size_t n = json_array_size(a.all), from = n > (size_t)limit ? n - (size_t)limit : 0;
	json_t *out = json_array();
	for (size_t i = from; i < n; i++)
		json_array_append(out, json_array_get(a.all, i));
	json_decref(a.all);
	if (c->json) {
		ctl_print_json(out);
		return CTL_OK;
	}
	print_list(out);
	json_decref(out);
	return CTL_OK;
}

/* ---- the signed head ---- */

/* A head published earlier, from FILE: the JSON 'audit head' prints, or the bare JWS. Malloc'd,
 * or NULL (reported). */
static char *head_from_file(const char *file)
{
	json_error_t je;
	json_t *o = json_load_file(file, JSON_DECODE_ANY, &je);
	const char *jws = json_is_string(o) ? json_string_value(o)
	                                    : json_string_value(json_object_get(o, "tree_head"));
	char *out = jws ? strdup(jws) : NULL;
	json_decref(o);
	if (out)
		return out;
	FILE *f = fopen(file, "r");
	char buf[16384];
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	buf[strcspn(buf, " \r\n")] = 0;
	if (n && strchr(buf, '.'))
		return strdup(buf);
	ctl_fail("%s: not a tree head (the JSON of 'idhubctl audit head', or its JWS)", file);
	return NULL;
}

/* The latest head, or the published one in file (when not NULL), its signature checked with the
 * published keys: 0, or CTL_FAIL (reported). */
static int latest_head(ctl *c, const char *file, char **jws, audit_head *h)
{
	if (!ctl_store(c))
		return CTL_FAIL;
	*jws = file ? head_from_file(file) : audit_head_jws(c->st);
	if (!*jws)
		return file ? CTL_FAIL
		            : ctl_fail("no signed tree head yet (the daemon signs one every "
		                       "hub.audit_tree_head_interval seconds; idhubctl after each "
		                       "change)");
	char *err = NULL;
	keyring *kr = keyring_load(c->st, &err);
	int rc = kr ? audit_head_check(*jws, audit_key_find, kr, h, &err) : -1;
	keyring_unref(kr);
	if (rc) {
		ctl_fail("the signed tree head does not check: %s", err ? err : "no keys");
		free(err);
		free(*jws);
		*jws = NULL;
		return CTL_FAIL;
	}
	return CTL_OK;
}

/* "--head FILE" after the subcommand's arguments: the published head to check against. */
static int head_option(int *argc, char **argv, const char **file)
{
	*file = NULL;
	if (*argc >= 4 && strcmp(argv[*argc - 2], "--head") == 0) {
		*file = argv[*argc - 1];
		*argc -= 2;
	}
	return 0;
}

static json_t *head_json(const char *jws, const audit_head *h)
{
	char hx[65];
	merkle_hex(h->root, hx);
	return json_pack("{s:s, s:I, s:s, s:I, s:s}", "tree_head", jws, "tree_size",
	                 (json_int_t)h->size, "root_hash", hx, "timestamp",
	                 (json_int_t)h->timestamp_ms, "kid", h->kid);
}

static int audit_head_cmd(ctl *c, int argc)
{
	if (argc != 2)
		return ctl_usage("audit", "head takes no argument");
	char *jws;
	audit_head h;
	if (latest_head(c, NULL, &jws, &h))
		return CTL_FAIL;
	ctl_print_json(head_json(jws, &h));
	free(jws);
	return CTL_OK;
}

static int audit_verify_cmd(ctl *c, int argc, char **argv)
{
	const char *file;
	head_option(&argc, argv, &file);
	if (argc != 2)
		return ctl_usage("audit", "verify takes only --head FILE");
	char *jws, *err = NULL;
	audit_head h;
	if (latest_head(c, file, &jws, &h))
		return CTL_FAIL;
	free(jws);
	audit_problem p;
	int rc = audit_verify(c->st, &h, &p, &err);
	if (rc < 0) {
		ctl_fail("%s", err ? err : "cannot verify");
		free(err);
		return CTL_FAIL;
	}
	if (rc) {
		printf("BAD: record %llu: %s\n", (unsigned long long)p.index, p.why);
		return CTL_FAIL;
	}
	char hx[65];
	merkle_hex(h.root, hx);
	printf("ok: the log matches the signed head (tree size %llu, root %s, key %s)\n",
	       (unsigned long long)h.size, hx, h.kid);
	return CTL_OK;
}

/* The record's stored bytes, for the proof (the leaf hash is over them). */
static char *record_bytes(store *s, uint64_t m)
{
	unsigned char k[8];
	for (int i = 0; i < 8; i++)
		k[i] = (unsigned char)(m >> (56 - 8 * i));
	void *v;
	size_t n;
	return store_get(s, NS_AUDIT, k, sizeof k, &v, &n, NULL) == 0 ? v : NULL;
}

static int audit_prove_cmd(ctl *c, int argc, char **argv)
{
	const char *file;
	head_option(&argc, argv, &file);
	long m = argc == 3 ? ctl_number(argv[2]) : -1;
	if (m < 0)
		return ctl_usage("audit", "prove takes one record number (and --head FILE)");
	char *jws, *err = NULL;
	audit_head h;
	if (latest_head(c, file, &jws, &h))
		return CTL_FAIL;
	json_t *proof = audit_prove(c->st, &h, (uint64_t)m, &err);
	char *rec = proof ? record_bytes(c->st, (uint64_t)m) : NULL;
	if (!proof || !rec) {
		free(jws);
		json_decref(proof);
		ctl_fail("%s", err ? err : "cannot read the record");
		free(err);
		return CTL_FAIL;
	}
	json_object_set_new(proof, "record", json_string(rec));
	json_object_set_new(proof, "tree_head", json_string(jws));
	free(rec);
	free(jws);
	ctl_print_json(proof);
	return CTL_OK;
}

/* Checks a proof file (as 'audit prove' prints it) against the published keys: the head's
 * signature, that the proof is for that head, the record's leaf hash, and the audit path. */
static int audit_check_proof_cmd(ctl *c, int argc, char **argv)
{
	if (argc != 3)
		return ctl_usage("audit", "check-proof takes one file");
	json_error_t je;
	json_t *p = json_load_file(argv[2], 0, &je);
	if (!json_is_object(p)) {
		json_decref(p);
		return ctl_fail("%s:%d: %s", argv[2], je.line, je.text);
	}
	const char *jws = json_string_value(json_object_get(p, "tree_head"));
	const char *rec = json_string_value(json_object_get(p, "record"));
	json_t *path = json_object_get(p, "audit_path");
	json_int_t m = json_integer_value(json_object_get(p, "leaf_index"));
	json_int_t n = json_integer_value(json_object_get(p, "tree_size"));
	audit_head h;
	char *err = NULL;
	keyring *kr = jws && ctl_store(c) ? keyring_load(c->st, &err) : NULL;
	int rc = kr ? audit_head_check(jws, audit_key_find, kr, &h, &err) : -1;
	keyring_unref(kr);
	merkle_hash leaf, given, hs[MERKLE_MAX_PATH];
	size_t np = json_array_size(path);
	const char *why = NULL;
	if (rc)
		why = err ? err : "the tree head is missing or does not check";
	else if (n < 0 || m < 0 || (uint64_t)n != h.size)
		why = "the proof's tree_size is not the signed head's";
	else if (np > MERKLE_MAX_PATH)
		why = "the audit path is too long";
	else if (merkle_unhex(json_string_value(json_object_get(p, "leaf_hash")), given))
		why = "leaf_hash is malformed";
	if (!why && rec) {
		merkle_leaf(rec, strlen(rec), leaf);
		if (memcmp(leaf, given, MERKLE_HASH) != 0)
			why = "the record does not hash to leaf_hash";
	}
	for (size_t i = 0; !why && i < np; i++)
		if (merkle_unhex(json_string_value(json_array_get(path, i)), hs[i]))
			why = "the audit path is malformed";
	if (!why && !merkle_path_ok((uint64_t)m, (uint64_t)n, given, (const merkle_hash *)hs,
	                            (int)np, h.root))
		why = "the audit path does not lead to the signed root";
	int out = CTL_OK;
	if (why)
		out = ctl_fail("BAD proof: %s", why);
	else
		printf("ok: record %lld is in the log of %lld records signed by key %s\n",
		       (long long)m, (long long)n, h.kid);
	free(err);
	json_decref(p);
	return out;
}

/* ---- export ---- */

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) -> UNIX time, or -1. */
static int64_t parse_date(const char *s)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof tm);
		end = strptime(s, "%Y-%m-%d", &tm);
		if (!end || *end)
			return -1;
	}
	return (int64_t)timegm(&tm);
}

struct export_ctx {
	int64_t since;
};

static int export_one(void *arg, uint64_t seq, const json_t *rec)
{
	struct export_ctx *x = arg;
	time_t at = (time_t)json_integer_value(json_object_get(rec, "at"));
	if (at < x->since)
		return 0;
	char when[32];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&at));
	json_t *o = json_deep_copy(rec);
	json_object_set_new(o, "seq", json_integer((json_int_t)seq));
	json_object_set_new(o, "time", json_string(when));
	char *line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (line)
		printf("%s\n", line);
	free(line);
	json_decref(o);
	return 0;
}

static int audit_export_cmd(ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {{"since", required_argument, NULL, 's'},
	                                     {NULL, 0, NULL, 0}};
	struct export_ctx x = {-1};
	int o;
	optind = 0;
	while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1)
		if (o != 's' || (x.since = parse_date(optarg)) < 0)
			return ctl_usage(
			    "audit", "--since takes a date: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
	if (x.since < 0 || optind != argc - 1)
		return ctl_usage("audit", "export needs --since DATE and nothing else");
	if (!ctl_store(c))
		return CTL_FAIL;
	return audit_each_seq(c->st, export_one, &x) < 0 ? ctl_fail("cannot read the audit log")
	                                                 : CTL_OK;
}

int cmd_audit(ctl *c, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";
	if (strcmp(sub, "head") == 0)
		return audit_head_cmd(c, argc);
	if (strcmp(sub, "verify") == 0)
		return audit_verify_cmd(c, argc, argv);
	if (strcmp(sub, "prove") == 0)
		return audit_prove_cmd(c, argc, argv);
	if (strcmp(sub, "check-proof") == 0)
		return audit_check_proof_cmd(c, argc, argv);
	if (strcmp(sub, "export") == 0)
		return audit_export_cmd(c, argc, argv);
	if (strcmp(sub, "list") == 0)
		return audit_list(c, argc - 1, argv + 1);
	return audit_list(c, argc, argv);
}

void ctl_audit_sign_head(ctl *c)
{
	if (!c->st)
		return;
	/* a record still attached is of a change that did not commit: it must not ride with the
	 * head's write */
	store_attach_drop(c->st);
	char *err = NULL;
	keyring *kr = keyring_load(c->st, &err);
	if (!kr || audit_heads_sign(c->st, kr, c->cfg->issuer, &err))
		fprintf(stderr, "idhubctl: warning: cannot sign the audit tree head: %s\n",
		        err ? err : "no keys");
	free(err);
	keyring_unref(kr);
}
