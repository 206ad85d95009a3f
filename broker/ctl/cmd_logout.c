/* cmd_logout.c — idhubctl logout-deliveries: the back-channel logout queue (NS_LOGOUT,
 * sessions/backchannel.h) as the daemon left it: each delivery's service, state (pending,
 * delivered, failed), attempts, last HTTP status and next attempt. Read-only. */
#include "ctl.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct list_ctx {
	ctl *c;
	const char *state; /* filter, or NULL */
	json_t *arr;
} list_ctx;

static int add(void *arg, const void *key, size_t klen, const void *val, size_t vlen,
               int64_t expires)
{
	(void)expires;
	list_ctx *l = arg;
	json_t *o = json_loadb(val, vlen, 0, NULL);
	const char *st = json_string_value(json_object_get(o, "state"));
	if (!json_is_object(o) || (l->state && (!st || strcmp(st, l->state) != 0))) {
		json_decref(o);
		return 0;
	}
	/* sub and sid are the service's own pseudonyms; the listing does not need them */
	json_object_del(o, "sub");
	json_object_del(o, "sid");
	json_object_set_new(o, "jti", json_stringn(key, klen));
	json_array_append_new(l->arr, o);
	return 0;
}

static void print_row(json_t *o)
{
	char when[32] = "-";
	time_t next = (time_t)json_integer_value(json_object_get(o, "next"));
	const char *st = json_string_value(json_object_get(o, "state"));
	if (st && strcmp(st, "pending") == 0) {
		struct tm tm;
		gmtime_r(&next, &tm);
		strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("%-24s %-10s %8lld %6lld  %-20s %s\n", json_string_value(json_object_get(o, "cid")),
	       st ? st : "?", (long long)json_integer_value(json_object_get(o, "attempts")),
	       (long long)json_integer_value(json_object_get(o, "status")), when,
	       json_string_value(json_object_get(o, "uri")));
}

int cmd_logout(ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {{"state", required_argument, NULL, 's'},
	                                     {NULL, 0, NULL, 0}};
	list_ctx l = {.c = c};
	int o;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o != 's')
			return ctl_usage("logout-deliveries", "unknown option");
		l.state = optarg;
	}
	if (optind < argc && strcmp(argv[optind], "list") != 0)
		return ctl_usage("logout-deliveries", "unknown subcommand %s", argv[optind]);
	if (l.state && strcmp(l.state, "pending") && strcmp(l.state, "delivered") &&
	    strcmp(l.state, "failed"))
		return ctl_usage("logout-deliveries",
		                 "--state must be pending, delivered or failed");
	store *s = ctl_store(c);
	if (!s)
		return CTL_FAIL;
	l.arr = json_array();
	if (store_iter(s, NS_LOGOUT, add, &l) < 0) {
		json_decref(l.arr);
		return ctl_fail("cannot read the logout queue");
	}
	if (c->json) {
		ctl_print_json(l.arr);
		return CTL_OK;
	}
	printf("%-24s %-10s %8s %6s  %-20s %s\n", "SERVICE", "STATE", "ATTEMPTS", "HTTP",
	       "NEXT ATTEMPT", "BACKCHANNEL_LOGOUT_URI");
	size_t i;
	json_t *e;
	json_array_foreach(l.arr, i, e) print_row(e);
	json_decref(l.arr);
	return CTL_OK;
}
