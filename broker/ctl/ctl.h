/* ctl.h — shared context of idhubctl's commands: the config it was given, the store it opens
 * lazily (the same store as the running daemon, whichever backend), output mode, and the actor for
 * the audit log. Each command returns an exit code: 0 ok, 1 failed, 2 usage. */
#ifndef IDHUB_CTL_H
#define IDHUB_CTL_H
#include "config/config.h"
#include "store/store.h"
#include <jansson.h>

enum { CTL_OK = 0, CTL_FAIL = 1, CTL_USAGE = 2 };

typedef struct ctl {
	hub_conf *cfg;
	const char *config_path;
	int json;
	store *st;
	char actor[160];
} ctl;

/* Opens the store on first use; NULL (with a message on stderr) when it cannot. */
store *ctl_store(ctl *c);
/* Prints a usage error for cmd and returns CTL_USAGE. */
int ctl_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints an error and returns CTL_FAIL. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a JSON value (indented) on stdout and releases it. */
void ctl_print_json(json_t *v);
/* Appends to the audit log a record of something that changes nothing (a look-up, a backup); a
 * failure is reported. */
void ctl_audit(ctl *c, const char *what, const char *target, const json_t *before,
               const json_t *after);
/* Before a change: its audit record rides with the change's write (audit_attach), so both commit
 * or neither does. CTL_OK, or CTL_FAIL (reported) when the record cannot be made: then make no
 * change. After the change call store_attach_drop(c->st). */
int ctl_audit_attach(ctl *c, const char *what, const char *target, const json_t *before,
                     const json_t *after);
/* After a command that may have added audit records: signs a new tree head (a warning when it
 * cannot). */
void ctl_audit_sign_head(ctl *c);
/* Parses a strictly positive or zero integer argument; -1 if invalid. */
long ctl_number(const char *s);

#define HELP_KEYS                                                                                  \
	"usage: idhubctl keys list\n"                                                              \
	"       idhubctl keys generate [--alg ES256|RS256|PS256|EdDSA]   add a next key "          \
	"(published, "                                                                             \
	"not signing)\n"                                                                           \
	"       idhubctl keys rotate                 promote next keys published for a JWKS "      \
	"max-age\n"                                                                                \
	"       idhubctl keys rotate --now --revoke KID   emergency: stop using and publishing "   \
	"KID\n"                                                                                    \
	"       idhubctl keys retire KID             stop signing with KID (stays published)\n"    \
	"       idhubctl keys purge                  remove retired keys whose tokens expired\n"   \
	"       idhubctl keys export-public          print the published JWKS\n"
#define HELP_SERVICES                                                                              \
	"usage: idhubctl services list | show ID | remove ID\n"                                    \
	"       idhubctl services add --id ID --name NAME --redirect-uri URI [--redirect-uri "     \
	"URI]..\n"                                                                                 \
	"           [--auth-method client_secret_basic|client_secret_post|private_key_jwt]\n"      \
	"           [--jwks FILE | --jwks-uri URL] [--sector S] [--scope "                         \
	"openid|profile|email]..\n"                                                                \
	"           [--min-loa ACR] [--alg ES256|RS256|PS256|EdDSA] [--idp ID]..\n"                \
	"           [--refresh-tokens true|false] [--offline-access true|false]\n"                 \
	"           [--introspection true|false] [--backchannel-logout-uri URI (\"\" removes)]\n"  \
	"           [--post-logout-redirect-uri URI]..\n"                                          \
	"       idhubctl services update ID [the same options; lists replace the old ones]\n"      \
	"       idhubctl services rotate-secret ID [--grace SECONDS]   (default 86400)\n"
#define HELP_IDPS                                                                                  \
	"usage: idhubctl idps list | show ID\n"                                                    \
	"       idhubctl idps enable ID | disable ID        override the config's enabled flag\n"  \
	"       idhubctl idps unavailable ID [--note TEXT] | available ID\n"                       \
	"       idhubctl idps window ID HH:MM-HH:MM | window ID --clear   daily window, UTC\n"
#define HELP_PAIRWISE                                                                              \
	"usage: idhubctl pairwise lookup --service ID --sub SUB\n"                                 \
	"       idhubctl pairwise forget --service ID --sub SUB   (a citizen's erasure request)\n"
#define HELP_BACKUP "usage: idhubctl backup DIR   (hot, consistent, compacted copy; mode 0600)\n"
#define HELP_RESTORE "usage: idhubctl restore DIR   (the daemon must be stopped)\n"
#define HELP_STATUS "usage: idhubctl status   (daemon health, key states, store size)\n"
#define HELP_AUDIT                                                                                 \
	"usage: idhubctl audit [list] [--limit N]     the latest records, newest last\n"           \
	"       idhubctl audit head                   the latest signed tree head, to publish\n"   \
	"       idhubctl audit verify [--head FILE]   check the whole log against the signed "     \
	"head\n"                                                                                   \
	"       idhubctl audit prove N [--head FILE]  inclusion proof of record N (JSON)\n"        \
	"       idhubctl audit check-proof FILE       check a proof against the published keys\n"  \
	"       idhubctl audit export --since DATE    JSON lines for a SIEM (DATE: YYYY-MM-DD)\n"
#define HELP_LOGOUT                                                                                \
	"usage: idhubctl logout-deliveries [list] [--state pending|delivered|failed]\n"            \
	"       the back-channel logout queue: each delivery's service, state, attempts, last\n"   \
	"       HTTP status and next attempt (finished ones stay listed for 7 days)\n"
#define HELP_STORE                                                                                 \
	"usage: idhubctl store init     create or migrate the store's schema (hub.store)\n"        \
	"       idhubctl store copy --from STATE_DIR --to CONNINFO   copy a stopped single-node "  \
	"hub's\n"                                                                                  \
	"           durable records (keys, secrets, pairwise subjects, services, audit) into "     \
	"PostgreSQL\n"

int cmd_keys(ctl *c, int argc, char **argv);
int cmd_services(ctl *c, int argc, char **argv);
int cmd_idps(ctl *c, int argc, char **argv);
int cmd_pairwise(ctl *c, int argc, char **argv);
int cmd_backup(ctl *c, int argc, char **argv);
int cmd_restore(ctl *c, int argc, char **argv);
int cmd_status(ctl *c, int argc, char **argv);
int cmd_audit(ctl *c, int argc, char **argv);
int cmd_logout(ctl *c, int argc, char **argv);
int cmd_store(ctl *c, int argc, char **argv);

#endif
