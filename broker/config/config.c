/* config.c — owns loading the hub's config file (libconfig syntax) into a validated, immutable
 * hub_conf: reading the file, every per-setting check with "FILE:LINE: message" errors, the
 * defaults, the redirect-URI and issuer rules, the lookup helpers and config_free.
 * deploy/idhub.conf.example documents the format.
 */
#include "config.h"
#include "../util/b64url.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#ifndef IDHUB_ADAPTER_DIR
#define IDHUB_ADAPTER_DIR "/usr/lib/idhub/adapters"
#endif

#define CONFIG_MAX_BYTES (1024 * 1024) /* a config file larger than this is refused */
#define URI_MAX 2048
#define MAX_LOAS 8
#define MAX_REDIRECT_URIS 16

static const char *const default_loas[] = {
    "http://eidas.europa.eu/LoA/low",
    "http://eidas.europa.eu/LoA/substantial",
    "http://eidas.europa.eu/LoA/high",
};
static const char *const known_scopes[] = {"openid", "profile", "email"};

typedef struct loader {
	const char *path;
	char *err; /* the first error, "FILE:LINE: message" */
	hub_conf *c;
} loader;

/* ---- errors ------------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 0))) static int vfail_at(loader *l, const char *file, int line,
                                                          const char *fmt, va_list ap)
{
	char msg[512];
	if (l->err)
		return -1;
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (asprintf(&l->err, "%s:%d: %s", file ? file : l->path, line, msg) < 0)
		l->err = NULL;
	if (!l->err)
		l->err = strdup("out of memory");
	return -1;
}

__attribute__((format(printf, 4, 5))) static int fail_at(loader *l, const char *file, int line,
                                                         const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_at(l, file, line, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error at the line of setting s (for a missing setting: s is the enclosing group). */
__attribute__((format(printf, 3, 4))) static int fail(loader *l, const config_setting_t *s,
                                                      const char *fmt, ...)
{
	va_list ap;
	int line = config_setting_source_line(s);
	va_start(ap, fmt);
	/* the root group has line 0: a setting missing at the top level is reported at line 1 */
	vfail_at(l, config_setting_source_file(s), line > 0 ? line : 1, fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(loader *l)
{
	return fail_at(l, NULL, 0, "out of memory");
}

/* A user-supplied string made safe to quote in a one-line message: at most 60 characters,
 * anything but printable ASCII shown as '?'. */
static const char *shown(char buf[static 72], const char *s)
{
	size_t i = 0;
	for (; s[i] && i < 60; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = 0;
	return buf;
}

static const char *name_of(const config_setting_t *s)
{
	const char *n = config_setting_name(s);
	return n ? n : "entry";
}

/* ---- character classes -------------------------------------------------------------------- */

/* Whether s has min..max bytes, each in the class: 'i' = [a-z0-9_-] (IdP ids), 'a' = [a-z0-9_]
 * (adapter names), 'c' = [A-Za-z0-9._:-] (client ids), 'p' = printable ASCII without space. */
static int charset_ok(const char *s, int cls, size_t min, size_t max)
{
	size_t n = strlen(s);
	if (n < min || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		int lower = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
		int ok;
		switch (cls) {
		case 'i':
			ok = lower || ch == '-';
			break;
		case 'a':
			ok = lower;
			break;
		case 'c':
			ok = lower || (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == ':' ||
			     ch == '-';
			break;
		default:
			ok = ch > 0x20 && ch < 0x7f;
			break;
		}
		if (!ok)
			return 0;
	}
	return 1;
}

/* Number of characters of a valid UTF-8 text without control characters, or -1. */
static long text_chars(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	long n = 0;
	while (*p) {
		unsigned c = *p, cp, min;
		int len;
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (c < 0x80) {
			p++;
			n++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return -1;
		}
		for (int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
			return -1;
		p += len;
		n++;
	}
	return n;
}

/* ---- URIs --------------------------------------------------------------------------------- */

static int why_set(char *why, size_t whylen, const char *msg)
{
	if (why && whylen)
		snprintf(why, whylen, "%s", msg);
	return 0;
}

static int is_host_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '.' || ch == '-' || ch == '_' || ch == '~';
}

/* The shared URI rule of redirect URIs, the issuer and jwks_uri: absolute https, or http on a
 * loopback host; no fragment, wildcard, userinfo, whitespace, control or non-ASCII character,
 * backslash; a non-empty host; an optional port 1..65535. *port gets the effective port. */
static int uri_check(const char *s, int *port, char *why, size_t whylen)
{
	size_t n = strlen(s);
	if (n == 0)
		return why_set(why, whylen, "empty");
	if (n > URI_MAX)
		return why_set(why, whylen, "longer than 2048 characters");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 0x20 || ch >= 0x7f)
			return why_set(why, whylen,
			               "contains whitespace, a control or a non-ASCII character");
		if (ch == '\\')
			return why_set(why, whylen, "contains a backslash");
	}
	if (strchr(s, '#'))
		return why_set(why, whylen, "has a fragment ('#')");
	if (strchr(s, '*'))
		return why_set(why, whylen, "has a wildcard ('*')");
	int https;
	const char *p;
	if (!strncmp(s, "https://", 8)) {
		https = 1, p = s + 8;
	} else if (!strncmp(s, "http://", 7)) {
		https = 0, p = s + 7;
	} else {
		return why_set(why, whylen,
		               strstr(s, "://") ? "scheme is not https"
		                                : "not an absolute https URI");
	}
	size_t alen = strcspn(p, "/?");
	if (memchr(p, '@', alen))
		return why_set(why, whylen, "has userinfo ('@')");
	const char *host = p, *end = p + alen, *hend;
	if (*host == '[') {
		hend = memchr(host, ']', alen);
		if (!hend || hend == host + 1)
			return why_set(why, whylen, "bad IPv6 host");
		for (const char *q = host + 1; q < hend; q++)
			if (!strchr("0123456789abcdefABCDEF:.", *q))
				return why_set(why, whylen, "bad IPv6 host");
		hend++;
	} else {
		hend = host;
		while (hend < end && is_host_char(*hend))
			hend++;
		if (hend == host)
			return why_set(why, whylen, "empty host");
	}
	int pt = https ? 443 : 80;
	if (hend < end) {
		if (*hend != ':')
			return why_set(why, whylen, "bad character in host");
		const char *q = hend + 1;
		long v = 0;
		if (q == end || end - q > 5)
			return why_set(why, whylen, "bad port");
		for (; q < end; q++) {
			if (*q < '0' || *q > '9')
				return why_set(why, whylen, "bad port");
			v = v * 10 + (*q - '0');
		}
		if (v < 1 || v > 65535)
			return why_set(why, whylen, "bad port");
		pt = (int)v;
	}
	size_t hlen = (size_t)(hend - host);
	int loopback = (hlen == 9 && !memcmp(host, "127.0.0.1", 9)) ||
	               (hlen == 5 && !memcmp(host, "[::1]", 5)) ||
	               (hlen == 9 && !strncasecmp(host, "localhost", 9));
	if (!https && !loopback)
		return why_set(
		    why, whylen,
		    "http is allowed only on a loopback host (127.0.0.1, [::1], localhost)");
	if (port)
		*port = pt;
	return 1;
}

int config_redirect_uri_ok(const char *s, char *why, size_t whylen)
{
	if (!s)
		return why_set(why, whylen, "missing");
	return uri_check(s, NULL, why, whylen);
}

static int issuer_ok(const char *s, int *port, char *why, size_t whylen)
{
	if (!uri_check(s, port, why, whylen))
		return 0;
	if (strchr(s, '?'))
		return why_set(why, whylen, "has a query ('?')");
	if (s[strlen(s) - 1] == '/')
		return why_set(why, whylen, "ends with '/'");
	return 1;
}

/* ---- typed getters ------------------------------------------------------------------------ */

/* Records which of the allowed names appear in group grp; any other name is an error. */
static int collect(loader *l, config_setting_t *grp, const char *where, const char *const *names,
                   size_t n, config_setting_t **out)
{
	memset(out, 0, n * sizeof *out);
	int len = config_setting_length(grp);
	for (int i = 0; i < len; i++) {
		config_setting_t *m = config_setting_get_elem(grp, (unsigned)i);
		const char *name = name_of(m);
		size_t k = 0;
		while (k < n && strcmp(names[k], name))
			k++;
		if (k == n)
			return fail(l, m, "unknown setting '%s' in %s", name, where);
		if (out[k])
			return fail(l, m, "duplicate setting '%s' in %s", name, where);
		out[k] = m;
	}
	return 0;
}

static int missing(loader *l, config_setting_t *grp, const char *name, const char *where)
{
	return fail(l, grp, "missing required setting '%s' in %s", name, where);
}

static int get_str(loader *l, config_setting_t *s, const char *where, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(l, s, "'%s' in %s must be a string", name_of(s), where);
	*out = config_setting_get_string(s);
	return 0;
}

static int dup_into(loader *l, const char *v, char **out)
{
	*out = strdup(v);
	return *out ? 0 : oom(l);
}

/* An optional string: s or, when absent, def (NULL leaves *out NULL). */
static int opt_str(loader *l, config_setting_t *s, const char *where, const char *def, char **out)
{
	const char *v = def;
	if (s && get_str(l, s, where, &v))
		return -1;
	return v ? dup_into(l, v, out) : 0;
}

static int get_int(loader *l, config_setting_t *s, const char *where, int64_t lo, int64_t hi,
                   int64_t *out)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return fail(l, s, "'%s' in %s must be an integer", name_of(s), where);
	int64_t v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return fail(l, s, "'%s' in %s must be between %lld and %lld", name_of(s), where,
		            (long long)lo, (long long)hi);
	*out = v;
	return 0;
}

static int opt_int(loader *l, config_setting_t *s, const char *where, int64_t def, int64_t lo,
                   int64_t hi, int64_t *out)
{
	*out = def;
	return s ? get_int(l, s, where, lo, hi, out) : 0;
}

static int opt_bool(loader *l, config_setting_t *s, const char *where, int def, int *out)
{
	*out = def;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(l, s, "'%s' in %s must be true or false", name_of(s), where);
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

/* A list or array of strings with min..max entries, copied into *out (*nout set first, so a
 * partial copy is freed by config_free). */
static int get_strv(loader *l, config_setting_t *s, const char *where, int min, int max,
                    char ***out, size_t *nout)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return fail(l, s, "'%s' in %s must be a list of strings [ \"...\", ... ]",
		            name_of(s), where);
	int len = config_setting_length(s);
	if (len < min || len > max)
		return fail(l, s, "'%s' in %s must have %d to %d entries", name_of(s), where, min,
		            max);
	*out = calloc(len ? (size_t)len : 1, sizeof **out);
	if (!*out)
		return oom(l);
	*nout = (size_t)len;
	for (int i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return fail(l, e, "each entry of '%s' in %s must be a string", name_of(s),
			            where);
		if (dup_into(l, config_setting_get_string(e), &(*out)[i]))
			return -1;
	}
	return 0;
}

/* Entry i of list s (for errors: its line). libconfig dates a string entry at the token after it
 * (it looks ahead for string concatenation), so the last entry of a list whose closing bracket is
 * on a later line is reported at the bracket's line. */
static config_setting_t *elem(config_setting_t *s, size_t i)
{
	return config_setting_get_elem(s, (unsigned)i);
}

static int level_of(const hub_conf *c, const char *acr)
{
	for (int i = 0; i < c->nloas; i++)
		if (!strcmp(c->loa_acrs[i], acr))
			return i + 1;
	return 0;
}

static int get_level(loader *l, config_setting_t *s, const char *where, int *out)
{
	const char *v = "";
	char b[72];
	if (get_str(l, s, where, &v))
		return -1;
	*out = level_of(l->c, v);
	if (!*out)
		return fail(l, s, "'%s' in %s: '%s' is not one of the loa levels", name_of(s),
		            where, shown(b, v));
	return 0;
}

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
	H_COUNT
};
static const char *const hub_names[H_COUNT] = {
    "issuer",      "listen",       "port",         "state_dir",     "adapter_dir",
    "threads",     "demo",         "code_ttl",     "id_token_ttl",  "access_token_ttl",
    "journey_ttl", "jwks_max_age", "clock_leeway", "store_map_mib", "log_level",
    "key_rotation_days",
};

static int nonempty_str(loader *l, config_setting_t *s, const char *where, const char *def,
                        char **out)
{
	if (opt_str(l, s, where, def, out))
		return -1;
	if (!**out || text_chars(*out) < 0)
		return fail(l, s, "'%s' in %s must be a non-empty text", name_of(s), where);
	return 0;
}

static int parse_hub(loader *l, config_setting_t *root, config_setting_t *g)
{
	hub_conf *c = l->c;
	config_setting_t *f[H_COUNT];
	const char *w = "hub";
	char why[128], b[72];
	int port = 0;

	if (!g)
		return missing(l, root, "hub", "the file");
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(l, g, "'hub' must be a group { ... }");
	if (collect(l, g, w, hub_names, H_COUNT, f))
		return -1;

	if (!f[H_ISSUER])
		return missing(l, g, "issuer", w);
	if (opt_str(l, f[H_ISSUER], w, NULL, &c->issuer))
		return -1;
	if (!issuer_ok(c->issuer, &port, why, sizeof why))
		return fail(l, f[H_ISSUER], "'issuer' in hub: '%s' %s", shown(b, c->issuer), why);
	c->secure_cookies = !strncmp(c->issuer, "https://", 8);

	if (opt_str(l, f[H_LISTEN], w, "127.0.0.1", &c->listen_host))
		return -1;
	unsigned char addr[16];
	if (inet_pton(AF_INET, c->listen_host, addr) != 1 &&
	    inet_pton(AF_INET6, c->listen_host, addr) != 1)
		return fail(l, f[H_LISTEN],
		            "'listen' in hub must be an IP address (e.g. 127.0.0.1)");

	int64_t v;
	if (opt_int(l, f[H_PORT], w, port, 1, 65535, &v))
		return -1;
	c->listen_port = (int)v;
	if (nonempty_str(l, f[H_STATE_DIR], w, "./var", &c->state_dir) ||
	    nonempty_str(l, f[H_ADAPTER_DIR], w, IDHUB_ADAPTER_DIR, &c->adapter_dir))
		return -1;
	if (opt_int(l, f[H_THREADS], w, 2, 1, 64, &v))
		return -1;
	c->threads = (int)v;
	if (opt_bool(l, f[H_DEMO], w, 0, &c->demo))
		return -1;

	static const struct {
		int idx;
		int64_t def, lo, hi;
		size_t off;
	} nums[] = {
	    {H_CODE_TTL, 60, 10, 600, offsetof(hub_conf, code_ttl)},
	    {H_ID_TOKEN_TTL, 300, 60, 86400, offsetof(hub_conf, id_token_ttl)},
	    {H_ACCESS_TOKEN_TTL, 300, 60, 86400, offsetof(hub_conf, access_token_ttl)},
	    {H_JOURNEY_TTL, 900, 60, 86400, offsetof(hub_conf, journey_ttl)},
	    {H_JWKS_MAX_AGE, 300, 0, 86400, offsetof(hub_conf, jwks_max_age)},
	    {H_CLOCK_LEEWAY, 30, 0, 300, offsetof(hub_conf, clock_leeway)},
	    {H_STORE_MAP_MIB, 1024, 16, 1048576, offsetof(hub_conf, store_map_mib)},
	    {H_KEY_ROTATION_DAYS, 0, 0, 3650, offsetof(hub_conf, key_rotation_days)},
	};
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
		if (opt_int(l, f[nums[i].idx], w, nums[i].def, nums[i].lo, nums[i].hi,
		            (int64_t *)((char *)c + nums[i].off)))
			return -1;

	if (opt_str(l, f[H_LOG_LEVEL], w, "info", &c->log_level))
		return -1;
	if (strcmp(c->log_level, "error") && strcmp(c->log_level, "warning") &&
	    strcmp(c->log_level, "info") && strcmp(c->log_level, "debug"))
		return fail(
		    l, f[H_LOG_LEVEL],
		    "'log_level' in hub must be \"error\", \"warning\", \"info\" or \"debug\"");
	return 0;
}

/* ---- loa ---------------------------------------------------------------------------------- */

static int parse_loa(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	size_t n = 0;
	char b[72];
	if (!s) {
		c->loa_acrs = calloc(MAX_LOAS, sizeof *c->loa_acrs);
		if (!c->loa_acrs)
			return oom(l);
		for (size_t i = 0; i < sizeof default_loas / sizeof default_loas[0]; i++) {
			c->nloas = (int)i + 1;
			if (dup_into(l, default_loas[i], &c->loa_acrs[i]))
				return -1;
		}
		return 0;
	}
	if (get_strv(l, s, "the file", 1, MAX_LOAS, &c->loa_acrs, &n))
		return -1;
	c->nloas = (int)n;
	for (size_t i = 0; i < n; i++) {
		if (!charset_ok(c->loa_acrs[i], 'p', 1, 255))
			return fail(l, elem(s, i),
			            "each level in 'loa' must be 1 to 255 printable characters "
			            "without spaces");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->loa_acrs[i], c->loa_acrs[j]))
				return fail(l, elem(s, i), "duplicate level '%s' in 'loa'",
				            shown(b, c->loa_acrs[i]));
	}
	return 0;
}

/* ---- idps --------------------------------------------------------------------------------- */

enum { I_ID, I_ADAPTER, I_DISPLAY_NAME, I_DESCRIPTION, I_MAX_LOA, I_ENABLED, I_SETTINGS, I_COUNT };
static const char *const idp_names[I_COUNT] = {
    "id", "adapter", "display_name", "description", "max_loa", "enabled", "settings",
};

static int scalar_text(loader *l, config_setting_t *s, char **out)
{
	char buf[64];
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return dup_into(l, config_setting_get_string(s), out);
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
		return fail(l, s, "'%s' in settings must be a string, number or boolean",
		            name_of(s));
	}
	return dup_into(l, buf, out);
}

static int parse_settings(loader *l, idp_conf *idp, config_setting_t *s)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return fail(l, s, "'settings' in idp must be a group { ... }");
	int n = config_setting_length(s);
	idp->settings = calloc(n ? (size_t)n : 1, sizeof *idp->settings);
	if (!idp->settings)
		return oom(l);
	idp->nsettings = (size_t)n;
	for (int i = 0; i < n; i++) {
		config_setting_t *e = elem(s, (size_t)i);
		char *name = NULL, *value = NULL;
		for (int j = 0; j < i; j++)
			if (!strcmp(idp->settings[j].name, name_of(e)))
				return fail(l, e, "duplicate setting '%s' in settings", name_of(e));
		if (dup_into(l, name_of(e), &name))
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
		return fail(l, g, "each entry of 'idps' must be a group { ... }");
	if (collect(l, g, w, idp_names, I_COUNT, f))
		return -1;
	for (int k = 0; k < I_COUNT; k++)
		if (!f[k] && (k == I_ID || k == I_ADAPTER || k == I_DISPLAY_NAME || k == I_MAX_LOA))
			return missing(l, g, idp_names[k], w);

	if (opt_str(l, f[I_ID], w, NULL, &idp->id))
		return -1;
	if (!charset_ok(idp->id, 'i', 1, 32))
		return fail(l, f[I_ID], "'id' in idp must be 1 to 32 of [a-z0-9_-]");
	for (size_t j = 0; j < index; j++)
		if (!strcmp(l->c->idps[j].id, idp->id))
			return fail(l, f[I_ID], "duplicate idp id '%s' (first at line %d)",
			            shown(b, idp->id), l->c->idps[j].line);
	if (opt_str(l, f[I_ADAPTER], w, NULL, &idp->adapter))
		return -1;
	if (!charset_ok(idp->adapter, 'a', 1, 32))
		return fail(l, f[I_ADAPTER], "'adapter' in idp must be 1 to 32 of [a-z0-9_]");
	if (opt_str(l, f[I_DISPLAY_NAME], w, NULL, &idp->display_name))
		return -1;
	len = text_chars(idp->display_name);
	if (len < 1 || len > 100)
		return fail(l, f[I_DISPLAY_NAME],
		            "'display_name' in idp must be a text of 1 to 100 characters");
	if (opt_str(l, f[I_DESCRIPTION], w, NULL, &idp->description))
		return -1;
	if (idp->description) {
		len = text_chars(idp->description);
		if (len < 0 || len > 500)
			return fail(
			    l, f[I_DESCRIPTION],
			    "'description' in idp must be a text of at most 500 characters");
	}
	if (get_level(l, f[I_MAX_LOA], w, &idp->max_loa))
		return -1;
	if (opt_bool(l, f[I_ENABLED], w, 1, &idp->enabled))
		return -1;
	if (f[I_SETTINGS] && parse_settings(l, idp, f[I_SETTINGS]))
		return -1;
	return 0;
}

static int list_of_groups(loader *l, config_setting_t *s)
{
	int t = config_setting_type(s);
	/* an empty [] is an array; a list of groups is ( { ... }, ... ) */
	if (t == CONFIG_TYPE_LIST || (t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
		return 0;
	return fail(l, s, "'%s' must be a list of groups ( { ... }, ... )", name_of(s));
}

static int parse_idps(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	if (!s)
		return 0;
	if (list_of_groups(l, s))
		return -1;
	size_t n = (size_t)config_setting_length(s);
	c->idps = calloc(n ? n : 1, sizeof *c->idps);
	if (!c->idps)
		return oom(l);
	c->nidps = n;
	for (size_t i = 0; i < n; i++)
		if (parse_idp(l, elem(s, i), &c->idps[i], i))
			return -1;
	return 0;
}

/* ---- services ----------------------------------------------------------------------------- */

enum {
	S_CLIENT_ID,
	S_NAME,
	S_AUTH_METHOD,
	S_SECRET_HASH,
	S_JWKS,
	S_JWKS_URI,
	S_REDIRECT_URIS,
	S_SECTOR,
	S_MIN_LOA,
	S_ID_TOKEN_ALG,
	S_IDPS,
	S_SCOPES,
	S_COUNT
};
static const char *const svc_names[S_COUNT] = {
    "client_id",     "name",   "auth_method", "secret_hash",  "jwks", "jwks_uri",
    "redirect_uris", "sector", "min_loa",     "id_token_alg", "idps", "scopes",
};

static int parse_secret_hash(loader *l, config_setting_t *s, service_conf *svc)
{
	const char *v = "";
	unsigned char buf[40];
	if (get_str(l, s, "service", &v))
		return -1;
	if (strncmp(v, "sha256:", 7) || strlen(v + 7) != 43 || b64url_decode(buf, v + 7, 43) != 32)
		return fail(l, s,
		            "'secret_hash' in service must be \"sha256:\" and the base64url (43 "
		            "characters, no padding) of the SHA-256 of the secret");
	memcpy(svc->secret_hash, buf, 32);
	svc->has_secret = 1;
	return 0;
}

static int parse_jwks(loader *l, config_setting_t *s, service_conf *svc)
{
	json_error_t je;
	if (opt_str(l, s, "service", NULL, &svc->jwks_json))
		return -1;
	json_t *j = json_loads(svc->jwks_json, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return fail(l, s, "'jwks' in service is not valid JSON: %s (position %d)", je.text,
		            je.position);
	const char *msg = NULL;
	json_t *keys = json_object_get(j, "keys");
	if (!json_is_object(j) || !json_is_array(keys) || json_array_size(keys) == 0) {
		msg = "must be a JSON object with a non-empty \"keys\" array";
	} else {
		size_t i;
		json_t *k;
		json_array_foreach(keys, i, k)
		{
			if (!json_is_object(k) || !json_is_string(json_object_get(k, "kty"))) {
				msg = "has a key that is not an object with a \"kty\"";
				break;
			}
			if (json_object_get(k, "d")) {
				msg = "has a private key (\"d\"): register the public keys only";
				break;
			}
		}
	}
	json_decref(j);
	return msg ? fail(l, s, "'jwks' in service %s", msg) : 0;
}

static int parse_scopes(loader *l, config_setting_t *s, service_conf *svc)
{
	const char *want[16];
	size_t n = 0;
	char b[72];
	if (!s) {
		for (; n < 3; n++)
			want[n] = known_scopes[n];
	} else {
		int t = config_setting_type(s);
		if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
			return fail(l, s, "'scopes' in service must be a list of strings");
		int len = config_setting_length(s);
		if (len > 16)
			return fail(l, s, "'scopes' in service has too many entries");
		for (int i = 0; i < len; i++) {
			config_setting_t *e = elem(s, (size_t)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return fail(l, e,
				            "each entry of 'scopes' in service must be a string");
			const char *v = config_setting_get_string(e);
			if (strcmp(v, "openid") && strcmp(v, "profile") && strcmp(v, "email"))
				return fail(
				    l, e,
				    "unknown scope '%s' in service (openid, profile or email)",
				    shown(b, v));
			for (size_t j = 0; j < n; j++)
				if (!strcmp(want[j], v))
					return fail(l, e, "duplicate scope '%s' in service", v);
			want[n++] = v;
		}
	}
	int has_openid = 0;
	for (size_t i = 0; i < n; i++)
		has_openid |= !strcmp(want[i], "openid");
	svc->scopes = calloc(n + 1, sizeof *svc->scopes);
	if (!svc->scopes)
		return oom(l);
	/* "openid" is always allowed, and listed first */
	if (!has_openid && dup_into(l, "openid", &svc->scopes[svc->nscopes++]))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (dup_into(l, want[i], &svc->scopes[svc->nscopes++]))
			return -1;
	return 0;
}

static int parse_service(loader *l, config_setting_t *g, service_conf *svc, size_t index)
{
	hub_conf *c = l->c;
	config_setting_t *f[S_COUNT];
	const char *w = "service";
	char b[72], why[128];

	svc->line = config_setting_source_line(g);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return fail(l, g, "each entry of 'services' must be a group { ... }");
	if (collect(l, g, w, svc_names, S_COUNT, f))
		return -1;
	for (int k = 0; k < S_COUNT; k++)
		if (!f[k] && (k == S_CLIENT_ID || k == S_NAME || k == S_REDIRECT_URIS))
			return missing(l, g, svc_names[k], w);

	if (opt_str(l, f[S_CLIENT_ID], w, NULL, &svc->client_id))
		return -1;
	if (!charset_ok(svc->client_id, 'c', 1, 64))
		return fail(l, f[S_CLIENT_ID],
		            "'client_id' in service must be 1 to 64 of "
		            "[A-Za-z0-9._:-]");
	for (size_t j = 0; j < index; j++)
		if (!strcmp(c->services[j].client_id, svc->client_id))
			return fail(l, f[S_CLIENT_ID],
			            "duplicate client_id '%s' (first at line %d)",
			            shown(b, svc->client_id), c->services[j].line);
	if (opt_str(l, f[S_NAME], w, NULL, &svc->name))
		return -1;
	long len = text_chars(svc->name);
	if (len < 1 || len > 100)
		return fail(l, f[S_NAME],
		            "'name' in service must be a text of 1 to 100 characters");

	svc->auth_method = AUTH_CLIENT_SECRET_BASIC;
	if (f[S_AUTH_METHOD]) {
		const char *m = "";
		if (get_str(l, f[S_AUTH_METHOD], w, &m))
			return -1;
		int k = 0;
		while (k < AUTH_METHOD_COUNT && strcmp(m, client_auth_method_name(k)))
			k++;
		if (k == AUTH_METHOD_COUNT)
			return fail(l, f[S_AUTH_METHOD],
			            "'auth_method' in service must be \"client_secret_basic\", "
			            "\"client_secret_post\" or \"private_key_jwt\"");
		svc->auth_method = (client_auth_method)k;
	}
	if (svc->auth_method == AUTH_PRIVATE_KEY_JWT) {
		if (f[S_SECRET_HASH])
			return fail(l, f[S_SECRET_HASH],
			            "'secret_hash' in service is not used with private_key_jwt");
		if (f[S_JWKS] && f[S_JWKS_URI])
			return fail(l, f[S_JWKS_URI],
			            "service has both 'jwks' and 'jwks_uri': set only one");
		if (!f[S_JWKS] && !f[S_JWKS_URI])
			return fail(l, g,
			            "service with private_key_jwt needs 'jwks' or 'jwks_uri'");
		if (f[S_JWKS] && parse_jwks(l, f[S_JWKS], svc))
			return -1;
		if (f[S_JWKS_URI]) {
			if (opt_str(l, f[S_JWKS_URI], w, NULL, &svc->jwks_uri))
				return -1;
			if (!uri_check(svc->jwks_uri, NULL, why, sizeof why))
				return fail(l, f[S_JWKS_URI], "'jwks_uri' in service: '%s' %s",
				            shown(b, svc->jwks_uri), why);
		}
	} else {
		if (!f[S_SECRET_HASH])
			return fail(l, g, "missing required setting 'secret_hash' in service (%s)",
			            client_auth_method_name(svc->auth_method));
		if (parse_secret_hash(l, f[S_SECRET_HASH], svc))
			return -1;
		for (int k = S_JWKS; k <= S_JWKS_URI; k++)
			if (f[k])
				return fail(l, f[k],
				            "'%s' in service is used only with "
				            "private_key_jwt",
				            svc_names[k]);
	}

	config_setting_t *r = f[S_REDIRECT_URIS];
	if (get_strv(l, r, w, 1, MAX_REDIRECT_URIS, &svc->redirect_uris, &svc->nredirect_uris))
		return -1;
	for (size_t i = 0; i < svc->nredirect_uris; i++) {
		const char *u = svc->redirect_uris[i];
		if (!config_redirect_uri_ok(u, why, sizeof why))
			return fail(l, elem(r, i), "redirect URI '%s' %s", shown(b, u), why);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(svc->redirect_uris[j], u))
				return fail(l, elem(r, i), "duplicate redirect URI '%s'",
				            shown(b, u));
	}

	if (opt_str(l, f[S_SECTOR], w, svc->client_id, &svc->sector))
		return -1;
	if (!charset_ok(svc->sector, 'p', 1, 255))
		return fail(l, f[S_SECTOR],
		            "'sector' in service must be 1 to 255 printable "
		            "characters without spaces");
	svc->min_loa = 1;
	if (f[S_MIN_LOA] && get_level(l, f[S_MIN_LOA], w, &svc->min_loa))
		return -1;
	svc->id_token_alg = JWS_ES256;
	if (f[S_ID_TOKEN_ALG]) {
		const char *a = "";
		if (get_str(l, f[S_ID_TOKEN_ALG], w, &a))
			return -1;
		svc->id_token_alg = jws_alg_from_name(a);
		if (svc->id_token_alg == JWS_ALG_NONE)
			return fail(l, f[S_ID_TOKEN_ALG],
			            "unknown id_token_alg '%s' (ES256, RS256, PS256 or EdDSA)",
			            shown(b, a));
	}

	config_setting_t *ids = f[S_IDPS];
	if (ids) {
		if (get_strv(l, ids, w, 0, 1024, &svc->idps, &svc->nidps))
			return -1;
		for (size_t i = 0; i < svc->nidps; i++) {
			if (!config_idp(c, svc->idps[i]))
				return fail(l, elem(ids, i), "unknown idp '%s' in service",
				            shown(b, svc->idps[i]));
			for (size_t j = 0; j < i; j++)
				if (!strcmp(svc->idps[j], svc->idps[i]))
					return fail(l, elem(ids, i),
					            "duplicate idp '%s' in service",
					            shown(b, svc->idps[i]));
		}
	}
	return parse_scopes(l, f[S_SCOPES], svc);
}

static int parse_services(loader *l, config_setting_t *s)
{
	hub_conf *c = l->c;
	if (!s)
		return 0;
	if (list_of_groups(l, s))
		return -1;
	size_t n = (size_t)config_setting_length(s);
	c->services = calloc(n ? n : 1, sizeof *c->services);
	if (!c->services)
		return oom(l);
	c->nservices = n;
	for (size_t i = 0; i < n; i++)
		if (parse_service(l, elem(s, i), &c->services[i], i))
			return -1;
	return 0;
}

/* ---- loading ------------------------------------------------------------------------------ */

enum { R_HUB, R_LOA, R_IDPS, R_SERVICES, R_COUNT };
static const char *const root_names[R_COUNT] = {"hub", "loa", "idps", "services"};

static int parse_root(loader *l, config_setting_t *root)
{
	config_setting_t *f[R_COUNT];
	int len = config_setting_length(root);
	for (int i = 0; i < len; i++) {
		config_setting_t *m = elem(root, (size_t)i);
		int k = 0;
		while (k < R_COUNT && strcmp(root_names[k], name_of(m)))
			k++;
		if (k == R_COUNT)
			return fail(l, m,
			            "unknown setting '%s' at the top level (hub, loa, idps, "
			            "services)",
			            name_of(m));
	}
	if (collect(l, root, "the file", root_names, R_COUNT, f))
		return -1;
	/* loa first: idps and services refer to its levels */
	if (parse_hub(l, root, f[R_HUB]) || parse_loa(l, f[R_LOA]) || parse_idps(l, f[R_IDPS]) ||
	    parse_services(l, f[R_SERVICES]))
		return -1;
	return 0;
}

/* Reads the whole file (at most CONFIG_MAX_BYTES, no NUL bytes, a leading UTF-8 BOM dropped). */
static char *slurp(loader *l, const char *path)
{
	FILE *fp = fopen(path, "rb");
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	if (!fp) {
		fail_at(l, NULL, 0, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &st) || !S_ISREG(st.st_mode)) {
		fail_at(l, NULL, 0, "not a regular file");
		goto out;
	}
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		oom(l);
		goto out;
	}
	n = fread(buf, 1, CONFIG_MAX_BYTES + 1, fp);
	if (ferror(fp)) {
		fail_at(l, NULL, 0, "cannot read");
	} else if (n > CONFIG_MAX_BYTES) {
		fail_at(l, NULL, 0, "larger than %d bytes", CONFIG_MAX_BYTES);
	} else {
		buf[n] = 0;
		const char *z = memchr(buf, 0, n);
		if (z) {
			int line = 1;
			for (const char *p = buf; p < z; p++)
				line += *p == '\n';
			fail_at(l, NULL, line, "NUL byte in the file");
		} else if (n >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
			memmove(buf, buf + 3, n - 2);
		}
	}
out:
	fclose(fp);
	if (l->err) {
		free(buf);
		return NULL;
	}
	return buf;
}

hub_conf *config_load(const char *path, char **err)
{
	loader l = {.path = path ? path : "(null)"};
	config_t cfg;
	char *text = NULL;

	if (err)
		*err = NULL;
	config_init(&cfg);
	l.c = calloc(1, sizeof *l.c);
	if (!l.c || !path || dup_into(&l, path, &l.c->file)) {
		if (!path)
			fail_at(&l, NULL, 0, "no config file given");
		else if (!l.c)
			oom(&l);
	} else if ((text = slurp(&l, path))) {
		if (!config_read_string(&cfg, text))
			fail_at(&l, config_error_file(&cfg), config_error_line(&cfg), "%s",
			        config_error_text(&cfg));
		else
			parse_root(&l, config_root_setting(&cfg));
	}
	free(text);
	config_destroy(&cfg);
	if (l.err) {
		config_free(l.c);
		if (err)
			*err = l.err;
		else
			free(l.err);
		return NULL;
	}
	return l.c;
}

/* libconfig 1.5 leaks the text of a string token that a syntax error discards (its grammar has no
 * destructor), e.g. `issuer "x";` without '='. That is a few bytes once per failed load, but under
 * AddressSanitizer it would turn `idhub --check-config` of such a file into a leak report and exit
 * code 23. This hook, read by LeakSanitizer only, ignores leaks allocated inside libconfig (all
 * of this file's own memory is allocated outside it). It lives here because this file is what
 * pulls libconfig into a binary. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

/* ---- freeing and lookups ------------------------------------------------------------------ */

static void free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void config_free(hub_conf *c)
{
	if (!c)
		return;
	free(c->file);
	free(c->issuer);
	free(c->listen_host);
	free(c->state_dir);
	free(c->adapter_dir);
	free(c->log_level);
	free_strv(c->loa_acrs, c->nloas > 0 ? (size_t)c->nloas : 0);
	for (size_t i = 0; c->idps && i < c->nidps; i++) {
		idp_conf *p = &c->idps[i];
		free(p->id);
		free(p->adapter);
		free(p->display_name);
		free(p->description);
		for (size_t j = 0; p->settings && j < p->nsettings; j++) {
			free((char *)p->settings[j].name);
			free((char *)p->settings[j].value);
		}
		free(p->settings);
	}
	free(c->idps);
	for (size_t i = 0; c->services && i < c->nservices; i++) {
		service_conf *s = &c->services[i];
		free(s->client_id);
		free(s->name);
		free(s->jwks_json);
		free(s->jwks_uri);
		free_strv(s->redirect_uris, s->nredirect_uris);
		free(s->sector);
		free_strv(s->idps, s->nidps);
		free_strv(s->scopes, s->nscopes);
	}
	free(c->services);
	free(c);
}

const char *client_auth_method_name(client_auth_method m)
{
	switch (m) {
	case AUTH_CLIENT_SECRET_BASIC:
		return "client_secret_basic";
	case AUTH_CLIENT_SECRET_POST:
		return "client_secret_post";
	case AUTH_PRIVATE_KEY_JWT:
		return "private_key_jwt";
	default:
		return NULL;
	}
}

const service_conf *config_service(const hub_conf *c, const char *client_id)
{
	for (size_t i = 0; c && client_id && i < c->nservices; i++)
		if (c->services[i].client_id && !strcmp(c->services[i].client_id, client_id))
			return &c->services[i];
	return NULL;
}

const idp_conf *config_idp(const hub_conf *c, const char *id)
{
	for (size_t i = 0; c && id && i < c->nidps; i++)
		if (c->idps[i].id && !strcmp(c->idps[i].id, id))
			return &c->idps[i];
	return NULL;
}

int config_loa_level(const hub_conf *c, const char *acr)
{
	return c && acr ? level_of(c, acr) : 0;
}

const char *config_loa_acr(const hub_conf *c, int level)
{
	if (!c || level < 1 || level > c->nloas)
		return NULL;
	return c->loa_acrs[level - 1];
}

int service_allows_idp(const service_conf *svc, const char *idp_id)
{
	if (!svc || !idp_id)
		return 0;
	if (svc->nidps == 0)
		return 1;
	for (size_t i = 0; i < svc->nidps; i++)
		if (!strcmp(svc->idps[i], idp_id))
			return 1;
	return 0;
}

int service_allows_scope(const service_conf *svc, const char *scope)
{
	for (size_t i = 0; svc && scope && i < svc->nscopes; i++)
		if (!strcmp(svc->scopes[i], scope))
			return 1;
	return 0;
}
