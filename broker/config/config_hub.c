/* config_hub.c — the config's hub section and its levels of assurance (loa). */
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

static const char *const default_loas[] = {
    "http://eidas.europa.eu/LoA/low",
    "http://eidas.europa.eu/LoA/substantial",
    "http://eidas.europa.eu/LoA/high",
};

/* ---- hub ---------------------------------------------------------------------------------- */

enum {
	H_ISSUER,
	H_LISTEN,
	H_PORT,
	H_STATE_DIR,
	H_ADAPTER_DIR,
	H_THREADS,
	H_DEMO,
	H_CODE_TTL,
	H_ID_TOKEN_TTL,
	H_ACCESS_TOKEN_TTL,
	H_JOURNEY_TTL,
	H_JWKS_MAX_AGE,
	H_CLOCK_LEEWAY,
	H_STORE_MAP_MIB,
	H_LOG_LEVEL,
	H_KEY_ROTATION_DAYS,
	H_STORE_HIGH_WATER,
	H_COUNT
};
static const char *const hub_names[H_COUNT] = {
    "issuer",           "listen",           "port",        "state_dir",
    "adapter_dir",      "threads",          "demo",        "code_ttl",
    "id_token_ttl",     "access_token_ttl", "journey_ttl", "jwks_max_age",
    "clock_leeway",     "store_map_mib",    "log_level",   "key_rotation_days",
    "store_high_water",
};

static int nonempty_str(loader *l, config_setting_t *s, const char *where, const char *def,
                        char **out)
{
	if (cfg_opt_str(l, s, where, def, out))
		return -1;
	if (!**out || cfg_text_chars(*out) < 0)
		return cfg_fail(l, s, "'%s' in %s must be a non-empty text", cfg_name_of(s), where);
	return 0;
}

int cfg_parse_hub(loader *l, config_setting_t *root, config_setting_t *g)
{
	hub_conf *c = l->c;
	config_setting_t *f[H_COUNT];
	const char *w = "hub";
	char why[128], b[72];
	int port = 0;

	if (!g)
		return cfg_missing(l, root, "hub", "the file");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, g, "'hub' must be a group { ... }");
	if (cfg_collect(l, g, w, hub_names, H_COUNT, f))
		return -1;

	if (!f[H_ISSUER])
		return cfg_missing(l, g, "issuer", w);
	if (cfg_opt_str(l, f[H_ISSUER], w, NULL, &c->issuer))
		return -1;
	if (!cfg_issuer_ok(c->issuer, &port, why, sizeof why))
		return cfg_fail(l, f[H_ISSUER], "'issuer' in hub: '%s' %s", cfg_shown(b, c->issuer),
		                why);
	c->secure_cookies = !strncmp(c->issuer, "https://", 8);

	if (cfg_opt_str(l, f[H_LISTEN], w, "127.0.0.1", &c->listen_host))
		return -1;
	unsigned char addr[16];
	if (inet_pton(AF_INET, c->listen_host, addr) != 1 &&
	    inet_pton(AF_INET6, c->listen_host, addr) != 1)
		return cfg_fail(l, f[H_LISTEN],
		                "'listen' in hub must be an IP address (e.g. 127.0.0.1)");

	int64_t v;
	if (cfg_opt_int(l, f[H_PORT], w, port, 1, 65535, &v))
		return -1;
	c->listen_port = (int)v;
	if (nonempty_str(l, f[H_STATE_DIR], w, "./var", &c->state_dir) ||
	    nonempty_str(l, f[H_ADAPTER_DIR], w, IDHUB_ADAPTER_DIR, &c->adapter_dir))
		return -1;
	if (cfg_opt_int(l, f[H_THREADS], w, 2, 1, 64, &v))
		return -1;
	c->threads = (int)v;
	if (cfg_opt_bool(l, f[H_DEMO], w, 0, &c->demo))
		return -1;

	static const struct {
		int idx;
		int64_t def, lo, hi;
		size_t off;
	} nums[] = {
	    {H_CODE_TTL, 60, 10, 600, offsetof(hub_conf, code_ttl)},
	    {H_ID_TOKEN_TTL, 300, 60, 86400, offsetof(hub_conf, id_token_ttl)},
	    {H_ACCESS_TOKEN_TTL, 300, 60, 86400, offsetof(hub_conf, access_token_ttl)},
	    /* as short as 5 s only for tests that wait for journeys to expire */
	    {H_JOURNEY_TTL, 900, 5, 86400, offsetof(hub_conf, journey_ttl)},
	    {H_JWKS_MAX_AGE, 300, 0, 86400, offsetof(hub_conf, jwks_max_age)},
	    {H_CLOCK_LEEWAY, 30, 0, 300, offsetof(hub_conf, clock_leeway)},
	    {H_STORE_MAP_MIB, 1024, 16, 1048576, offsetof(hub_conf, store_map_mib)},
	    {H_KEY_ROTATION_DAYS, 0, 0, 3650, offsetof(hub_conf, key_rotation_days)},
	    {H_STORE_HIGH_WATER, 75, 10, 85, offsetof(hub_conf, store_high_water)},
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (cfg_opt_int(l, f[nums[i].idx], w, nums[i].def, nums[i].lo, nums[i].hi,
		                (int64_t *)((char *)c + nums[i].off)))
			return -1;

	if (cfg_opt_str(l, f[H_LOG_LEVEL], w, "info", &c->log_level))
		return -1;
	if (strcmp(c->log_level, "error") && strcmp(c->log_level, "warning") &&
	    strcmp(c->log_level, "info") && strcmp(c->log_level, "debug"))
		return cfg_fail(
		    l, f[H_LOG_LEVEL],
		    "'log_level' in hub must be \"error\", \"warning\", \"info\" or \"debug\"");
	return 0;
}

/* ---- loa ---------------------------------------------------------------------------------- */

int cfg_parse_loa(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	size_t n = 0;
	char b[72];
	if (!s) {
		c->loa_acrs = calloc(MAX_LOAS, sizeof *c->loa_acrs);
		if (!c->loa_acrs)
			return cfg_oom(l);
		for (size_t i = 0; i < sizeof default_loas / sizeof default_loas[0]; i++) {
			c->nloas = (int)i + 1;
			if (cfg_dup_into(l, default_loas[i], &c->loa_acrs[i]))
				return -1;
		}
		return 0;
	}
	if (cfg_get_strv(l, s, "the file", 1, MAX_LOAS, &c->loa_acrs, &n))
		return -1;
	c->nloas = (int)n;
	for (size_t i = 0; i < n; i++) {
		if (!cfg_charset_ok(c->loa_acrs[i], 'p', 1, 255))
			return cfg_fail(l, cfg_elem(s, i),
			                "each level in 'loa' must be 1 to 255 printable characters "
			                "without spaces");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->loa_acrs[i], c->loa_acrs[j]))
				return cfg_fail(l, cfg_elem(s, i), "duplicate level '%s' in 'loa'",
				                cfg_shown(b, c->loa_acrs[i]));
	}
	return 0;
}
