/* cmd_pairwise.c — idhubctl pairwise: look up a pairwise sub for a service (first and last seen,
 * through which IdP; never the upstream subject) and erase it on a citizen's request. Both are
 * audited. */
#include "ctl.h"
#include "clients/clients.h"
#include "pairwise/pairwise.h"
#include "util/arena.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int cmd_pairwise(ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {{"service", required_argument, NULL, 's'},
	                                     {"sub", required_argument, NULL, 'u'},
	                                     {NULL, 0, NULL, 0}};
	if (argc < 2)
		return ctl_usage("pairwise", "a subcommand is required");
	const char *sub_cmd = argv[1], *service = NULL, *sub = NULL;
	int o;
	optind = 0; /* glibc: 0 resets getopt's state; scanning starts after the subcommand */
	while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (o == 's')
			service = optarg;
		else if (o == 'u')
			sub = optarg;
		else
			return ctl_usage("pairwise", "unknown option");
	}
	int lookup = strcmp(sub_cmd, "lookup") == 0, forget = strcmp(sub_cmd, "forget") == 0;
	if ((!lookup && !forget) || optind != argc - 1)
		return ctl_usage("pairwise", "unknown subcommand or wrong arguments: %s", sub_cmd);
	if (!service || !sub)
		return ctl_usage("pairwise", "--service ID and --sub SUB are required");
	if (!ctl_store(c))
		return CTL_FAIL;
	arena *a = arena_new();
	const service_conf *svc = clients_lookup(c->cfg, c->st, a, service);
	if (!svc) {
		arena_free(a);
		return ctl_fail("no service %s", service);
	}
	pairwise_record rec;
	int rc = pairwise_lookup(c->st, svc->sector, sub, &rec);
	json_t *o2 = json_pack("{s:s, s:s, s:s, s:b}", "service", service, "sector", svc->sector,
	                       "sub", sub, "exists", rc == 0);
	if (rc == 0) {
		json_object_set_new(o2, "idp", json_string(rec.idp));
		json_object_set_new(o2, "first_seen", json_integer(rec.first_seen));
		json_object_set_new(o2, "last_seen", json_integer(rec.last_seen));
	}
	int result = rc == 0 || rc == STORE_NOTFOUND ? CTL_OK : CTL_FAIL;
	if (forget && rc == 0) {
		/* the erasure and its audit record commit together */
		json_object_set_new(o2, "erased", json_true());
		if (ctl_audit_attach(c, "pairwise.forget", sub, NULL, o2) != CTL_OK)
			result = CTL_FAIL;
		else if (pairwise_forget(c->st, svc->sector, sub, time(NULL)) != 0)
			result = ctl_fail("cannot erase %s", sub);
		if (store_attach_drop(c->st))
			json_object_del(o2, "erased"); /* not committed */
	} else if (forget) {
		result = ctl_fail("no sub %s for service %s", sub, service);
		ctl_audit(c, "pairwise.forget", sub, NULL, o2); /* a refused erasure, recorded */
	} else {
		ctl_audit(c, "pairwise.lookup", sub, NULL, o2);
	}
	if (c->json) {
		ctl_print_json(o2);
	} else {
		if (rc == 0)
			printf(
			    "sub %s exists for %s (sector %s): via IdP %s, first seen %lld, last "
			    "seen %lld%s\n",
			    sub, service, svc->sector, rec.idp, (long long)rec.first_seen,
			    (long long)rec.last_seen,
			    json_is_true(json_object_get(o2, "erased"))
			        ? "; erased: the citizen's next sign-in gets a new sub"
			        : "");
		else if (!forget)
			printf("sub %s does not exist for %s (sector %s)\n", sub, service,
			       svc->sector);
		json_decref(o2);
	}
	arena_free(a);
	return result;
}
