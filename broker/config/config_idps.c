/* config_idps.c — the config's identity providers (idps) and their adapter settings. */
#include "config_int.h"
#include "../util/b64url.h"
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ---- idps --------------------------------------------------------------------------------- */

enum {
	I_ID,
	I_ADAPTER,
	I_DISPLAY_NAME,
	I_DESCRIPTION,
	I_MAX_LOA,
	I_ENABLED,
	I_SETTINGS,
	I_MAX_CONCURRENT,
	I_DISPLAY_NAME_CY,
	I_DESCRIPTION_CY,
	I_COUNT
};
static const char *const idp_names[I_COUNT] = {
    "id",      "adapter",  "display_name",   "description",     "max_loa",
    "enabled", "settings", "max_concurrent", "display_name_cy", "description_cy",
};

/* The Welsh name and description shown when the citizen reads Welsh (optional: English else). */
static int welsh(loader *l, config_setting_t **f, const char *w, idp_conf *idp)
{
	if (cfg_opt_str(l, f[I_DISPLAY_NAME_CY], w, NULL, &idp->display_name_cy) ||
	    cfg_opt_str(l, f[I_DESCRIPTION_CY], w, NULL, &idp->description_cy))
		return -1;
	long n = idp->display_name_cy ? cfg_text_chars(idp->display_name_cy) : 1;
	if (n < 1 || n > 100)
		return cfg_fail(l, f[I_DISPLAY_NAME_CY],
		                "'display_name_cy' in idp must be a text of 1 to 100 characters");
	n = idp->description_cy ? cfg_text_chars(idp->description_cy) : 0;
	if (n < 0 || n > 500)
		return cfg_fail(l, f[I_DESCRIPTION_CY],
		                "'description_cy' in idp must be a text of at most 500 characters");
	return 0;
}

static int scalar_text(loader *l, config_setting_t *s, char **out)
{
	char buf[64];
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return cfg_dup_into(l, config_setting_get_string(s), out);
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, sizeof buf, "%lld", (long long)config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, sizeof buf, "%s", config_setting_get_bool(s) ? "true" : "false");
		break;
	case CONFIG_TYPE_FLOAT: {
		/* the shortest form that reads back as the same double */
		double d = config_setting_get_float(s);
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, d);
			if (strtod(buf, NULL) == d)
				break;
		}
		break;
	}
	default:
		return cfg_fail(l, s, "'%s' in settings must be a string, number or boolean",
		                cfg_name_of(s));
	}
	return cfg_dup_into(l, buf, out);
}

static int parse_settings(loader *l, idp_conf *idp, config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, s, "'settings' in idp must be a group { ... }");
	int n = config_setting_length(s);
	idp->settings = calloc(n ? (size_t)n : 1, sizeof *idp->settings);
	if (!idp->settings)
		return cfg_oom(l);
	idp->nsettings = (size_t)n;
	for (int i = 0; i < n; i++) {
		config_setting_t *e = cfg_elem(s, (size_t)i);
		char *name = NULL, *value = NULL;
		for (int j = 0; j < i; j++)
			if (!strcmp(idp->settings[j].name, cfg_name_of(e)))
				return cfg_fail(l, e, "duplicate setting '%s' in settings",
				                cfg_name_of(e));
		if (cfg_dup_into(l, cfg_name_of(e), &name))
			return -1;
		idp->settings[i].name = name;
		if (scalar_text(l, e, &value))
			return -1;
		idp->settings[i].value = value;
		idp->settings[i].line = config_setting_source_line(e);
	}
	return 0;
}

static int parse_idp(loader *l, config_setting_t *g, idp_conf *idp, size_t index)
{
	config_setting_t *f[I_COUNT];
	const char *w = "idp";
	char b[72];
	int64_t len;

	idp->line = config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, g, "each entry of 'idps' must be a group { ... }");
	if (cfg_collect(l, g, w, idp_names, I_COUNT, f))
		return -1;
	for (int k = 0; k < I_COUNT; k++)
		if (!f[k] && (k == I_ID || k == I_ADAPTER || k == I_DISPLAY_NAME || k == I_MAX_LOA))
			return cfg_missing(l, g, idp_names[k], w);

	if (cfg_opt_str(l, f[I_ID], w, NULL, &idp->id))
		return -1;
	if (!cfg_charset_ok(idp->id, 'i', 1, 32))
		return cfg_fail(l, f[I_ID], "'id' in idp must be 1 to 32 of [a-z0-9_-]");
	for (size_t j = 0; j < index; j++)
		if (!strcmp(l->c->idps[j].id, idp->id))
			return cfg_fail(l, f[I_ID], "duplicate idp id '%s' (first at line %d)",
			                cfg_shown(b, idp->id), l->c->idps[j].line);
	if (cfg_opt_str(l, f[I_ADAPTER], w, NULL, &idp->adapter))
		return -1;
	if (!cfg_charset_ok(idp->adapter, 'a', 1, 32))
		return cfg_fail(l, f[I_ADAPTER], "'adapter' in idp must be 1 to 32 of [a-z0-9_]");
	if (cfg_opt_str(l, f[I_DISPLAY_NAME], w, NULL, &idp->display_name))
		return -1;
	len = cfg_text_chars(idp->display_name);
	if (len < 1 || len > 100)
		return cfg_fail(l, f[I_DISPLAY_NAME],
		                "'display_name' in idp must be a text of 1 to 100 characters");
	if (cfg_opt_str(l, f[I_DESCRIPTION], w, NULL, &idp->description))
		return -1;
	if (idp->description) {
		len = cfg_text_chars(idp->description);
		if (len < 0 || len > 500)
			return cfg_fail(
			    l, f[I_DESCRIPTION],
			    "'description' in idp must be a text of at most 500 characters");
	}
	if (welsh(l, f, w, idp))
		return -1;
	if (cfg_get_level(l, f[I_MAX_LOA], w, &idp->max_loa))
		return -1;
	if (cfg_opt_bool(l, f[I_ENABLED], w, 1, &idp->enabled))
		return -1;
	if (f[I_SETTINGS] && parse_settings(l, idp, f[I_SETTINGS]))
		return -1;
	/* at most the upstream pool: then one IdP can fill the pool only when it is alone in it */
	int64_t v;
	if (cfg_opt_int(l, f[I_MAX_CONCURRENT], w, 8, 1, l->c->upstream_threads, &v))
		return -1;
	idp->max_concurrent = (int)v;
	return 0;
}

int cfg_list_of_groups(loader *l, config_setting_t *s)
{
	int t = config_setting_type(s);
	/* an empty [] is an array; a list of groups is ( { ... }, ... ) */
	if (t == CONFIG_TYPE_LIST || (t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
		return 0;
	return cfg_fail(l, s, "'%s' must be a list of groups ( { ... }, ... )", cfg_name_of(s));
}

int cfg_parse_idps(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	if (!s)
		return 0;
	if (cfg_list_of_groups(l, s))
		return -1;
	size_t n = (size_t)config_setting_length(s);
	c->idps = calloc(n ? n : 1, sizeof *c->idps);
	if (!c->idps)
		return cfg_oom(l);
	c->nidps = n;
	for (size_t i = 0; i < n; i++)
		if (parse_idp(l, cfg_elem(s, i), &c->idps[i], i))
			return -1;
	return 0;
}
