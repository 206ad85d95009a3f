/* main.c — idhubctl, the operator CLI: global options and dispatch to the command files. It opens
 * the same store as the running daemon (every backend is safe across processes), so every change
 * takes effect without a restart or a signal. Exit codes: 0 ok, 1 failed, 2 usage. */
#include "ctl.h"
#include "report.h"
#include "audit/audit.h"
#include "util/b64url.h"
#include "util/log.h"
#include "util/random.h"
#include <getopt.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/idhub/idhub.conf"

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: idhubctl [--config FILE] [--json] COMMAND [ARGS]\n\n"
	    "The config file gives the state directory and the policy (default: $IDHUB_CONFIG,\n"
	    "else " DEFAULT_CONFIG "). Run 'idhubctl COMMAND --help' for a command's options.\n\n"
	    "commands:\n"
	    "  keys list|generate|rotate|retire|purge|export-public   signing keys\n"
	    "  services add|list|show|update|remove|rotate-secret      relying parties\n"
	    "  idps list|show|enable|disable|unavailable|available|window   identity providers\n"
	    "  pairwise lookup|forget                                   pairwise subjects\n"
	    "  backup DIR | restore DIR                                 the store\n"
	    "  store init | copy --from STATE_DIR --to CONNINFO         schema; LMDB to "
	    "PostgreSQL\n"
	    "  status                                                   health, keys, store\n"
	    "  audit [--limit N]                                        the audit log\n"
	    "  logout-deliveries [--state S]                            back-channel logouts\n"
	    "  report --from DATE --to DATE [--format md|csv|json|html]   the transparency report\n"
	    "  hash-secret                                              a secret and its hash\n");
}

store *ctl_store(ctl *c)
{
	if (c->st)
		return c->st;
	char path[4096], *err = NULL;
	/* as the daemon does: services may be registered before its first start */
	if (mkdir(c->cfg->state_dir, 0700) != 0 && errno != EEXIST)
		fprintf(stderr, "idhubctl: cannot create %s: %s\n", c->cfg->state_dir,
		        strerror(errno));
	store_config sc;
	hub_conf_store(c->cfg, &sc, path, sizeof path);
	c->st = store_open_config(&sc, &err);
	if (!c->st) {
		fprintf(stderr, "idhubctl: %s\n", err ? err : "cannot open the store");
		free(err);
	} else if (audit_migrate(c->st) < 0) {
		fprintf(stderr, "idhubctl: warning: cannot renumber the audit records of an older "
		                "store\n");
	}
	return c->st;
}

int ctl_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "idhubctl %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n(see 'idhubctl %s --help')\n", cmd);
	va_end(ap);
	return CTL_USAGE;
}

int ctl_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "idhubctl: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return CTL_FAIL;
}

void ctl_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(v);
}

void ctl_audit(ctl *c, const char *what, const char *target, const json_t *before,
               const json_t *after)
{
	if (!c->st || audit_append(c->st, c->actor, what, target, before, after) != 0)
		fprintf(stderr, "idhubctl: warning: could not write the audit record\n");
}

int ctl_audit_attach(ctl *c, const char *what, const char *target, const json_t *before,
                     const json_t *after)
{
	if (!c->st || audit_attach(c->st, c->actor, what, target, before, after) != 0)
		return ctl_fail("cannot prepare the audit record; nothing was changed");
	return CTL_OK;
}

long ctl_number(const char *s)
{
	char *end;
	if (!s || !*s)
		return -1;
	long v = strtol(s, &end, 10);
	return *end || v < 0 ? -1 : v;
}

static int hash_secret(void)
{
	char secret[44], hash[44];
	unsigned char d[SHA256_DIGEST_LENGTH];
	if (random_token(secret))
		return CTL_FAIL;
	SHA256((const unsigned char *)secret, strlen(secret), d);
	b64url_encode(hash, d, sizeof d);
	printf("client secret (give it to the service; it is not stored): %s\n", secret);
	printf("config line:  secret_hash = \"sha256:%s\";\n", hash);
	return CTL_OK;
}

typedef int (*cmd_fn)(ctl *, int, char **);

/* The command named cmd, with its help text in *help; NULL when there is none. */
static cmd_fn find_cmd(const char *cmd, const char **help)
{
	static const struct {
		const char *name;
		cmd_fn fn;
		const char *help;
	} cmds[] = {{"keys", cmd_keys, HELP_KEYS},
	            {"services", cmd_services, HELP_SERVICES},
	            {"idps", cmd_idps, HELP_IDPS},
	            {"pairwise", cmd_pairwise, HELP_PAIRWISE},
	            {"backup", cmd_backup, HELP_BACKUP},
	            {"restore", cmd_restore, HELP_RESTORE},
	            {"status", cmd_status, HELP_STATUS},
	            {"audit", cmd_audit, HELP_AUDIT},
	            {"logout-deliveries", cmd_logout, HELP_LOGOUT},
	            {"report", cmd_report, HELP_REPORT},
	            {"store", cmd_store, HELP_STORE}};
	cmd_fn fn = NULL;
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(cmd, cmds[i].name) == 0) {
			fn = cmds[i].fn;
			*help = cmds[i].help;
		}
	return fn;
}

/* Runs fn with the command's arguments on the config c->config_path. */
static int run(ctl *c, cmd_fn fn, int sargc, char **sargv)
{
	if (!c->config_path)
		c->config_path = DEFAULT_CONFIG;
	char *err = NULL;
	c->cfg = config_load(c->config_path, &err);
	if (!c->cfg) {
		fprintf(stderr, "idhubctl: %s\n", err ? err : "cannot read the config");
		free(err);
		return CTL_FAIL;
	}
	audit_actor(c->actor, sizeof c->actor);
	log_set_level(LOG_WARN_); /* the command prints what it did; library chatter stays quiet */
	optind = 1;               /* the command parses its own options from its own argv */
	int rc = fn(c, sargc, sargv);
	/* a change (or an audited look-up) is covered by a signed head at once */
	if (fn != cmd_audit && fn != cmd_status)
		ctl_audit_sign_head(c);
	if (c->st)
		store_close(c->st);
	config_free(c->cfg);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"json", no_argument, NULL, 'j'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	ctl c = {0};
	int o;
	c.config_path = getenv("IDHUB_CONFIG");
	/* "+": stop at the command, whose own options follow */
	while ((o = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			c.config_path = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		default:
			usage(stderr);
			return CTL_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	const char *cmd = argv[optind], *help = NULL;
	int sargc = argc - optind;
	char **sargv = argv + optind;
	if (strcmp(cmd, "hash-secret") == 0)
		return hash_secret();
	cmd_fn fn = find_cmd(cmd, &help);
	if (!fn) {
		fprintf(stderr, "idhubctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return CTL_USAGE;
	}
	for (int i = 1; i < sargc; i++)
		if (strcmp(sargv[i], "--help") == 0 || strcmp(sargv[i], "-h") == 0) {
			fputs(help, stdout);
			return CTL_OK;
		}
	return run(&c, fn, sargc, sargv);
}
