/* cmd_idps.c — idhubctl idps: the operator's switches per IdP (enabled, temporarily unavailable,
 * daily window), which the running daemon's picker reads from the store on every journey. */
#include "ctl.h"
#include "idp/idp_state.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static json_t *idp_json(ctl *c, const idp_conf *ic)
{
	idp_state st;
	idp_state_get(c->st, ic->id, &st);
	json_t *o = idp_state_json(&st);
	json_object_set_new(o, "id", json_string(ic->id));
	json_object_set_new(o, "adapter", json_string(ic->adapter));
	json_object_set_new(o, "display_name", json_string(ic->display_name));
	json_object_set_new(o, "max_loa", json_string(config_loa_acr(c->cfg, ic->max_loa)));
	json_object_set_new(o, "config_enabled", json_boolean(ic->enabled));
	json_object_set_new(o, "offered_now",
	                    json_boolean(idp_state_offerable(&st, ic->enabled, time(NULL))));
	return o;
}

static void print_idp(json_t *o)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		char *t = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY);
		printf("%-15s %s\n", k, t ? t : json_string_value(v));
		free(t);
	}
}

static void show_idp(ctl *c, const idp_conf *ic)
{
	json_t *j = idp_json(c, ic);
	if (c->json)
		ctl_print_json(j);
	else {
		print_idp(j);
		json_decref(j);
	}
}

/* idps list: every configured IdP with its switches. */
static int list_idps(ctl *c)
{
	if (!ctl_store(c))
		return CTL_FAIL;
	json_t *arr = json_array();
	if (!c->json)
		printf("%-16s %-10s %-8s %-12s %-12s %s\n", "ID", "ADAPTER", "OFFERED",
		       "UNAVAILABLE", "WINDOW", "NAME");
	for (size_t i = 0; i < c->cfg->nidps; i++) {
		json_t *j = idp_json(c, &c->cfg->idps[i]);
		if (!c->json) {
			const char *w = json_string_value(json_object_get(j, "window"));
			printf("%-16s %-10s %-8s %-12s %-12s %s\n", c->cfg->idps[i].id,
			       c->cfg->idps[i].adapter,
			       json_is_true(json_object_get(j, "offered_now")) ? "yes" : "no",
			       json_is_true(json_object_get(j, "unavailable")) ? "yes" : "no",
			       w ? w : "always", c->cfg->idps[i].display_name);
		}
		json_array_append_new(arr, j);
	}
	if (c->json)
		ctl_print_json(arr);
	else
		json_decref(arr);
	return CTL_OK;
}

/* Applies subcommand sub (rest arguments args, the first the IdP's id) to st. -1 (usage) when sub
 * or its arguments are wrong, -2 when the window is malformed, else 0. */
static int switch_idp(idp_state *st, const char *sub, int rest, char **args, const char *note,
                      int clear)
{
	if (strcmp(sub, "enable") == 0 && rest == 1) {
		st->enabled = 1;
	} else if (strcmp(sub, "disable") == 0 && rest == 1) {
		st->enabled = 0;
	} else if (strcmp(sub, "unavailable") == 0 && rest == 1) {
		st->unavailable = 1;
		snprintf(st->note, sizeof st->note, "%s", note ? note : "");
	} else if (strcmp(sub, "available") == 0 && rest == 1) {
		st->unavailable = 0;
		st->note[0] = 0;
	} else if (strcmp(sub, "window") == 0 && ((rest == 1 && clear) || (rest == 2 && !clear))) {
		if (clear)
			st->window_from = st->window_to = -1;
		else if (idp_state_parse_window(args[1], &st->window_from, &st->window_to))
			return -2;
	} else {
		return -1;
	}
	return 0;
}

/* enable, disable, unavailable, available, window: the switch, audited with the state before and
 * after, then the IdP as it is now. */
static int change_idp(ctl *c, const idp_conf *ic, const char *sub, int rest, char **args,
                      const char *note, int clear)
{
	idp_state st;
	idp_state_get(c->st, ic->id, &st);
	json_t *before = idp_state_json(&st);
	char what[48];
	snprintf(what, sizeof what, "idps.%s", sub);
	int src = switch_idp(&st, sub, rest, args, note, clear);
	if (src) {
		json_decref(before);
		return src == -2
		           ? ctl_usage("idps",
		                       "the window must be HH:MM-HH:MM (UTC), e.g. 07:00-22:00")
		           : ctl_usage("idps", "unknown subcommand or wrong arguments: %s", sub);
	}
	st.updated = time(NULL);
	json_t *after = idp_state_json(&st);
	int arc = ctl_audit_attach(c, what, ic->id, before, after);
	json_decref(before);
	json_decref(after);
	if (arc)
		return arc;
	int prc = idp_state_put(c->st, ic->id, &st); /* the record rides with this write */
	store_attach_drop(c->st);
	if (prc)
		return ctl_fail("cannot store the state of %s", ic->id);
	show_idp(c, ic);
	return CTL_OK;
}

int cmd_idps(ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {{"note", required_argument, NULL, 'n'},
	                                     {"clear", no_argument, NULL, 'c'},
	                                     {NULL, 0, NULL, 0}};
	if (argc < 2)
		return ctl_usage("idps", "a subcommand is required");
	const char *sub = argv[1], *note = NULL;
	int clear = 0, o;
	optind = 0; /* glibc: 0 resets getopt's state; scanning starts after the subcommand */
	while ((o = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		if (o == 'n')
			note = optarg;
		else if (o == 'c')
			clear = 1;
		else
			return ctl_usage("idps", "unknown option");
	}
	int rest = argc - 1 - optind;
	char **args = argv + 1 + optind;
	if (strcmp(sub, "list") == 0 && rest == 0)
		return list_idps(c);
	if (rest < 1)
		return ctl_usage("idps", "an IdP id is required");
	const idp_conf *ic = config_idp(c->cfg, args[0]);
	if (!ic)
		return ctl_fail("no IdP %s in %s", args[0], c->config_path);
	if (!ctl_store(c))
		return CTL_FAIL;
	if (strcmp(sub, "show") == 0 && rest == 1) {
		show_idp(c, ic);
		return CTL_OK;
	}
	return change_idp(c, ic, sub, rest, args, note, clear);
}
