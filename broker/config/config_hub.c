/* config_hub.c — the config's hub section and its levels of assurance (loa). */
#include "config_int.h"
#include "../util/b64url.h"
#include "../store/store.h"
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
	H_ENVIRONMENT,
	H_TRUSTED_PROXIES,
	H_CONNECTIONS_PER_SOURCE,
	H_HEADER_TIMEOUT,
	H_JOURNEYS_PER_MINUTE,
	H_UPSTREAM_THREADS,
	H_SERVICE_DOCUMENTATION,
	H_LOG_FORMAT,
	H_STORE_HIGH_WATER,
	H_SESSION_IDLE_TTL,
	H_SESSION_MAX_TTL,
	H_REFRESH_OFFLINE_TTL,
	H_BACKCHANNEL_ATTEMPTS,
	H_BACKCHANNEL_RETRY_BASE,
	H_AUDIT_TREE_HEAD_INTERVAL,
	H_AUDIT_RETENTION_DAYS,
	H_METRICS_LISTEN,
	H_METRICS_FLUSH_SECONDS,
	H_STORE,
	H_STORE_CONNINFO,
	H_STORE_POOL,
	H_COUNT
};
static const char *const hub_names[H_COUNT] = {
    "issuer",
    "listen",
    "port",
    "state_dir",
    "adapter_dir",
    "threads",
    "demo",
    "code_ttl",
    "id_token_ttl",
    "access_token_ttl",
    "journey_ttl",
    "jwks_max_age",
    "clock_leeway",
    "store_map_mib",
    "log_level",
    "key_rotation_days",
    "environment",
    "trusted_proxies",
    "connections_per_source",
    "header_timeout",
    "journeys_per_minute",
    "upstream_threads",
    "service_documentation",
    "log_format",
    "store_high_water",
    "session_idle_ttl",
    "session_max_ttl",
    "refresh_offline_ttl",
    "backchannel_attempts",
    "backchannel_retry_base",
    "audit_tree_head_interval",
    "audit_retention_days",
    "metrics_listen",
    "metrics_flush_seconds",
    "store",
    "store_conninfo",
    "store_pool",
};

/* hub.store: "lmdb" (the default, under state_dir) or "postgresql" with store_conninfo (a libpq
 * connection string) and store_pool; checked by the store itself (store_check_config), which
 * parses the connection string without connecting. */
static int parse_store(loader *l, config_setting_t **f, const char *w)
{
	hub_conf *c = l->c;
	if (cfg_opt_str(l, f[H_STORE], w, "lmdb", &c->store) ||
	    cfg_opt_str(l, f[H_STORE_CONNINFO], w, NULL, &c->store_conninfo))
		return -1;
	int64_t v;
	if (cfg_opt_int(l, f[H_STORE_POOL], w, 4, 1, 64, &v))
		return -1;
	c->store_pool = (int)v;
	if (strcmp(c->store, "lmdb") && strcmp(c->store, "postgresql"))
		return cfg_fail(l, f[H_STORE], "'store' in hub must be \"lmdb\" or \"postgresql\"");
	if (!strcmp(c->store, "lmdb")) {
		if (f[H_STORE_CONNINFO])
			return cfg_fail(l, f[H_STORE_CONNINFO],
			                "'store_conninfo' in hub needs store = \"postgresql\"");
		return 0;
	}
	if (!c->store_conninfo || !*c->store_conninfo)
		return cfg_fail(l, f[H_STORE] ? f[H_STORE] : f[H_STORE_CONNINFO],
		                "'store' in hub is \"postgresql\": 'store_conninfo' (a libpq "
		                "connection string) is required");
	store_config sc = {
	    .backend = c->store, .conninfo = c->store_conninfo, .pool = c->store_pool};
	char *err = NULL;
	if (store_check_config(&sc, &err)) {
		int rc = cfg_fail(l, f[H_STORE_CONNINFO], "'store_conninfo' in hub: %s",
		                  err ? err : "invalid");
		free(err);
		return rc;
	}
	return 0;
}

void hub_conf_store(const hub_conf *c, struct store_config *sc, char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "%s/store", c->state_dir);
	*sc = (store_config){.backend = c->store,
	                     .dir = dir,
	                     .map_mib = (size_t)c->store_map_mib,
	                     .conninfo = c->store_conninfo,
	                     .pool = c->store_pool};
}

static int nonempty_str(loader *l, config_setting_t *s, const char *where, const char *def,
                        char **out)
{
	if (cfg_opt_str(l, s, where, def, out))
		return -1;
	if (!**out || cfg_text_chars(*out) < 0)
		return cfg_fail(l, s, "'%s' in %s must be a non-empty text", cfg_name_of(s), where);
	return 0;
}

/* hub.environment: "production" (the default) or "integration", a shared test deployment where the
 * sandbox IdP and the demo service may run on a public issuer and every page says so. */
static int parse_environment(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	if (cfg_opt_str(l, s, "hub", "production", &c->environment))
		return -1;
	if (strcmp(c->environment, "production") && strcmp(c->environment, "integration"))
		return cfg_fail(l, s,
		                "'environment' in hub must be \"production\" or \"integration\"");
	c->integration = !strcmp(c->environment, "integration");
	return 0;
}

int cfg_check_environment(loader *l)
{
	const hub_conf *c = l->c;
	if (c->integration || cfg_issuer_loopback(c->issuer))
		return 0;
	/* The sandbox signs anyone in as any persona: on a public issuer that would be a real
	 * login with made-up identities. */
	for (size_t i = 0; i < c->nidps; i++)
		if (!strcmp(c->idps[i].adapter, "sandbox"))
			return cfg_fail_at(
			    l, NULL, c->idps[i].line,
			    "idp '%s': the sandbox adapter is refused on an issuer that "
			    "is not loopback, unless hub.environment = \"integration\"",
			    c->idps[i].id);
	return 0;
}

/* hub.trusted_proxies: the addresses of the fronts whose X-Forwarded-For is believed. */
static int parse_trusted_proxies(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	unsigned char addr[16];
	char b[72];
	if (!s)
		return 0;
	if (cfg_get_strv(l, s, "hub", 0, HUB_MAX_TRUSTED_PROXIES, &c->trusted_proxies,
	                 &c->ntrusted_proxies))
		return -1;
	for (size_t i = 0; i < c->ntrusted_proxies; i++)
		if (inet_pton(AF_INET, c->trusted_proxies[i], addr) != 1 &&
		    inet_pton(AF_INET6, c->trusted_proxies[i], addr) != 1)
			return cfg_fail(
			    l, cfg_elem(s, i),
			    "each of 'trusted_proxies' in hub must be an IP address, not "
			    "'%s'",
			    cfg_shown(b, c->trusted_proxies[i]));
	return 0;
}

/* hub.metrics_listen: "HOST:PORT" ("[v6]:PORT") of the /metrics listener, or "off". Its own
 * listener, loopback by default: the figures are for operators, never for the public port. */
static int parse_metrics_listen(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	if (cfg_opt_str(l, s, "hub", "127.0.0.1:9464", &c->metrics_listen))
		return -1;
	if (strcmp(c->metrics_listen, "off") == 0)
		return 0;
	const char *v = c->metrics_listen, *colon = strrchr(v, ':');
	char host[64];
	unsigned char addr[16];
	size_t hl = colon ? (size_t)(colon - v) : 0;
	if (hl > 2 && v[0] == '[' && v[hl - 1] == ']')
		v++, hl -= 2;
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || hl == 0 || hl >= sizeof host || !end || *end || port < 1 || port > 65535)
		return cfg_fail(l, s, "'metrics_listen' in hub must be \"HOST:PORT\" or \"off\"");
	memcpy(host, v, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
		return cfg_fail(l, s, "'metrics_listen' in hub: the host must be an IP address");
	if (strcmp(host, c->listen_host) == 0 && port == c->listen_port)
		return cfg_fail(l, s, "'metrics_listen' in hub must differ from the public port");
	if (!(c->metrics_host = strdup(host)))
		return cfg_oom(l);
	c->metrics_port = (int)port;
	return 0;
}

/* issuer (its port is listen's default), listen, port, state_dir, adapter_dir, threads, demo. */
static int parse_listen(loader *l, config_setting_t *g, config_setting_t **f)
{
	hub_conf *c = l->c;
	const char *w = "hub";
	char why[128], b[72];
	int port = 0;
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
	return cfg_opt_bool(l, f[H_DEMO], w, 0, &c->demo);
}

/* The numeric settings: lifetimes, limits and intervals, each with its default and range. */
static int parse_numbers(loader *l, config_setting_t **f)
{
	hub_conf *c = l->c;
	const char *w = "hub";
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
	    {H_CONNECTIONS_PER_SOURCE, 64, 0, 4096, offsetof(hub_conf, connections_per_source)},
	    {H_HEADER_TIMEOUT, 10, 1, 300, offsetof(hub_conf, header_timeout)},
	    {H_JOURNEYS_PER_MINUTE, 600, 0, 1000000, offsetof(hub_conf, journeys_per_minute)},
	    {H_UPSTREAM_THREADS, 32, 1, 512, offsetof(hub_conf, upstream_threads)},
	    {H_STORE_HIGH_WATER, 75, 10, 85, offsetof(hub_conf, store_high_water)},
	    /* single sign-on: 30 minutes idle, 8 hours at most (a working day) */
	    {H_SESSION_IDLE_TTL, 1800, 60, 86400, offsetof(hub_conf, session_idle_ttl)},
	    {H_SESSION_MAX_TTL, 28800, 300, 604800, offsetof(hub_conf, session_max_ttl)},
	    /* an offline_access refresh token family: 30 days from its last use */
	    {H_REFRESH_OFFLINE_TTL, 2592000, 3600, 31536000,
	     offsetof(hub_conf, refresh_offline_ttl)},
	    /* back-channel logout: 8 attempts, 10 s apart then doubling (about 40 minutes) */
	    {H_BACKCHANNEL_ATTEMPTS, 8, 1, 50, offsetof(hub_conf, backchannel_attempts)},
	    {H_BACKCHANNEL_RETRY_BASE, 10, 1, 3600, offsetof(hub_conf, backchannel_retry_base)},
	    {H_AUDIT_TREE_HEAD_INTERVAL, 300, 1, 86400,
	     offsetof(hub_conf, audit_tree_head_interval)},
	    {H_AUDIT_RETENTION_DAYS, 0, 0, 36500, offsetof(hub_conf, audit_retention_days)},
	    {H_METRICS_FLUSH_SECONDS, 60, 1, 3600, offsetof(hub_conf, metrics_flush_seconds)},
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (cfg_opt_int(l, f[nums[i].idx], w, nums[i].def, nums[i].lo, nums[i].hi,
		                (int64_t *)((char *)c + nums[i].off)))
			return -1;
	return 0;
}

/* log_level, service_documentation and log_format. */
static int parse_logging(loader *l, config_setting_t **f)
{
	hub_conf *c = l->c;
	const char *w = "hub";
	char why[128], b[72];
	if (cfg_opt_str(l, f[H_LOG_LEVEL], w, "info", &c->log_level))
		return -1;
	if (strcmp(c->log_level, "error") && strcmp(c->log_level, "warning") &&
	    strcmp(c->log_level, "info") && strcmp(c->log_level, "debug"))
		return cfg_fail(
		    l, f[H_LOG_LEVEL],
		    "'log_level' in hub must be \"error\", \"warning\", \"info\" or \"debug\"");
	/* published in discovery: where service teams read how to connect to the hub */
	if (f[H_SERVICE_DOCUMENTATION]) {
		if (cfg_opt_str(l, f[H_SERVICE_DOCUMENTATION], w, NULL, &c->service_documentation))
			return -1;
		if (!cfg_uri_check(c->service_documentation, NULL, why, sizeof why))
			return cfg_fail(l, f[H_SERVICE_DOCUMENTATION],
			                "'service_documentation' in hub: '%s' %s",
			                cfg_shown(b, c->service_documentation), why);
	}
	if (cfg_opt_str(l, f[H_LOG_FORMAT], w, "text", &c->log_format))
		return -1;
	if (strcmp(c->log_format, "text") && strcmp(c->log_format, "json"))
		return cfg_fail(l, f[H_LOG_FORMAT],
		                "'log_format' in hub must be \"text\" or \"json\"");
	return 0;
}

int cfg_parse_hub(loader *l, config_setting_t *root, config_setting_t *g)
{
	hub_conf *c = l->c;
	config_setting_t *f[H_COUNT];
	const char *w = "hub";

	if (!g)
		return cfg_missing(l, root, "hub", "the file");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return cfg_fail(l, g, "'hub' must be a group { ... }");
	if (cfg_collect(l, g, w, hub_names, H_COUNT, f))
		return -1;
	if (parse_listen(l, g, f) || parse_numbers(l, f))
		return -1;
	if (parse_environment(l, f[H_ENVIRONMENT]) || parse_store(l, f, w))
		return -1;
	if (c->demo && !c->integration && !cfg_issuer_loopback(c->issuer))
		return cfg_fail(
		    l, f[H_DEMO],
		    "'demo' in hub: the demo service is refused on an issuer that is not "
		    "loopback, unless environment = \"integration\"");
	if (parse_trusted_proxies(l, f[H_TRUSTED_PROXIES]) || parse_logging(l, f))
		return -1;
	return parse_metrics_listen(l, f[H_METRICS_LISTEN]);
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
