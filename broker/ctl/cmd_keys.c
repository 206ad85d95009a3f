/* cmd_keys.c — idhubctl keys: list, generate, rotate (and emergency revoke), retire, purge,
 * export-public. */
#include "ctl.h"
#include "hub/hub.h"
#include "keys/lifecycle.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int list(ctl *c)
{
	char *err = NULL;
	keyring *kr = keyring_load(ctl_store(c), &err);
	if (!kr) {
		int rc = ctl_fail("%s", err ? err : "cannot read the keys");
		free(err);
		return rc;
	}
	json_t *arr = json_array();
	if (!c->json)
		printf("%-44s %-6s %-8s %-11s %-11s %s\n", "KID", "ALG", "STATE", "CREATED",
		       "ACTIVATES", "RETIRES");
	for (size_t i = 0; i < kr->nkeys; i++) {
		const signing_key *k = &kr->keys[i];
		if (c->json)
			json_array_append_new(
			    arr,
			    json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "kid", k->kid, "alg",
			              jws_alg_name(k->alg), "state", key_state_name(k->state),
			              "created", (json_int_t)k->created, "activates",
			              (json_int_t)k->activates, "retires", (json_int_t)k->retires));
		else
			printf("%-44s %-6s %-8s %-11lld %-11lld %lld\n", k->kid,
			       jws_alg_name(k->alg), key_state_name(k->state),
			       (long long)k->created, (long long)k->activates,
			       (long long)k->retires);
	}
	if (c->json)
		ctl_print_json(arr);
	else
		json_decref(arr);
	keyring_unref(kr);
	return CTL_OK;
}

/* An empty report whose change will commit with its audit record (what, target, the actor). */
static void audited(ctl *c, keys_report *r, const char *what, const char *target)
{
	memset(r, 0, sizeof *r);
	r->audit_who = c->actor;
	r->audit_what = what;
	r->audit_target = target;
}

/* Prints what a lifecycle command did (its audit record committed with the change) and maps the
 * result. */
static int report(ctl *c, const keys_report *r, int rc)
{
	json_t *o = keys_report_json(r);
	if (c->json) {
		json_object_set_new(o, "ok", json_boolean(rc == 0));
		ctl_print_json(o);
	} else {
		for (int i = 0; i < r->n; i++)
			printf("%s %s: %s -> %s\n", r->change[i].alg, r->change[i].kid,
			       r->change[i].from[0] ? r->change[i].from : "(new)",
			       r->change[i].to[0] ? r->change[i].to : "(removed)");
		for (int i = 0; i < r->nnotes; i++)
			printf("%s\n", r->note[i]);
		if (rc == 0 && !r->n && !r->nnotes)
			printf("nothing to do\n");
		json_decref(o);
	}
	return rc == 0 ? CTL_OK : CTL_FAIL;
}

static int export_public(ctl *c)
{
	char *err = NULL;
	keyring *kr = keyring_load(ctl_store(c), &err);
	if (!kr) {
		int rc = ctl_fail("%s", err ? err : "cannot read the keys");
		free(err);
		return rc;
	}
	json_t *j = json_loads(kr->jwks_json, 0, NULL);
	keyring_unref(kr);
	ctl_print_json(j);
	return CTL_OK;
}

int cmd_keys(ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {{"alg", required_argument, NULL, 'a'},
	                                     {"now", no_argument, NULL, 'n'},
	                                     {"revoke", required_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	if (argc < 2)
		return ctl_usage("keys", "a subcommand is required");
	const char *sub = argv[1], *alg = "ES256", *revoke = NULL;
	int now = 0, o;
	optind = 0; /* glibc: 0 resets getopt's state; scanning starts after the subcommand */
	while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (o) {
		case 'a':
			alg = optarg;
			break;
		case 'n':
			now = 1;
			break;
		case 'r':
			revoke = optarg;
			break;
		default:
			return ctl_usage("keys", "unknown option");
		}
	}
	int rest = argc - 1 - optind;
	char **args = argv + 1 + optind;
	keys_policy p = hub_keys_policy(c->cfg);
	keys_report r = {0};
	if (strcmp(sub, "list") == 0 && rest == 0)
		return ctl_store(c) ? list(c) : CTL_FAIL;
	if (strcmp(sub, "export-public") == 0 && rest == 0)
		return ctl_store(c) ? export_public(c) : CTL_FAIL;
	if (strcmp(sub, "generate") == 0 && rest == 0) {
		jws_alg a = jws_alg_from_name(alg);
		if (a == JWS_ALG_NONE)
			return ctl_usage("keys", "--alg must be ES256, RS256, PS256 or EdDSA");
		audited(c, &r, "keys.generate", NULL); /* the target is the new kid */
		if (!ctl_store(c) || keys_generate_next(c->st, a, &r))
			return ctl_fail("cannot generate the key");
		if (r.nnotes < KEYS_REPORT_MAX)
			snprintf(r.note[r.nnotes++], sizeof r.note[0],
			         "published now; 'keys rotate' can make it sign after %lld s",
			         (long long)p.jwks_max_age);
		return report(c, &r, 0);
	}
	if (strcmp(sub, "rotate") == 0 && rest == 0) {
		if (now != !!revoke)
			return ctl_usage("keys",
			                 "--now and --revoke KID go together (emergency rotation)");
		if (!ctl_store(c))
			return CTL_FAIL;
		if (revoke) {
			audited(c, &r, "keys.revoke", revoke);
			return report(c, &r, keys_revoke_now(c->st, revoke, &r));
		}
		audited(c, &r, "keys.rotate", NULL);
		return report(c, &r, keys_rotate(c->st, &p, &r));
	}
	if (strcmp(sub, "retire") == 0 && rest == 1) {
		audited(c, &r, "keys.retire", args[0]);
		return ctl_store(c) ? report(c, &r, keys_retire(c->st, args[0], &r)) : CTL_FAIL;
	}
	if (strcmp(sub, "purge") == 0 && rest == 0) {
		audited(c, &r, "keys.purge", NULL);
		return ctl_store(c) ? report(c, &r, keys_purge(c->st, &p, &r)) : CTL_FAIL;
	}
	return ctl_usage("keys", "unknown subcommand or wrong arguments: %s", sub);
}
