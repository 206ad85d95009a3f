/* config_check.c — the config loader's shared helpers: errors that name the file and line,
 * character classes, typed getters for libconfig settings, and the adapter check of --check-config
 * lives in broker/idp/adapters.c.
 */
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

/* ---- errors ------------------------------------------------------------------------------- */

__attribute__((format(printf, 4, 0))) static int cfg_vfail_at(loader *l, const char *file, int line,
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

__attribute__((format(printf, 4, 5))) int cfg_fail_at(loader *l, const char *file, int line,
                                                      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cfg_vfail_at(l, file, line, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error at the line of setting s (for a missing setting: s is the enclosing group). */
__attribute__((format(printf, 3, 4))) int cfg_fail(loader *l, const config_setting_t *s,
                                                   const char *fmt, ...)
{
	va_list ap;
	int line = config_setting_source_line(s);
	va_start(ap, fmt);
	/* the root group has line 0: a setting missing at the top level is reported at line 1 */
	cfg_vfail_at(l, config_setting_source_file(s), line > 0 ? line : 1, fmt, ap);
	va_end(ap);
	return -1;
}

int cfg_oom(loader *l)
{
	return cfg_fail_at(l, NULL, 0, "out of memory");
}

/* A user-supplied string made safe to quote in a one-line message: at most 60 characters,
 * anything but printable ASCII shown as '?'. */
const char *cfg_shown(char buf[static 72], const char *s)
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

const char *cfg_name_of(const config_setting_t *s)
{
	const char *n = config_setting_name(s);
	return n ? n : "entry";
}

/* ---- character classes -------------------------------------------------------------------- */

/* Whether s has min..max bytes, each in the class: 'i' = [a-z0-9_-] (IdP ids), 'a' = [a-z0-9_]
 * (adapter names), 'c' = [A-Za-z0-9._:-] (client ids), 'p' = printable ASCII without space. */
int cfg_charset_ok(const char *s, int cls, size_t min, size_t max)
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
long cfg_text_chars(const char *s)
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

/* ---- typed getters ------------------------------------------------------------------------ */

/* Records which of the allowed names appear in group grp; any other name is an error. */
int cfg_collect(loader *l, config_setting_t *grp, const char *where, const char *const *names,
                size_t n, config_setting_t **out)
{
	memset(out, 0, n * sizeof *out);
	int len = config_setting_length(grp);
	for (int i = 0; i < len; i++) {
		config_setting_t *m = config_setting_get_elem(grp, (unsigned)i);
		const char *name = cfg_name_of(m);
		size_t k = 0;
		while (k < n && strcmp(names[k], name))
			k++;
		if (k == n)
			return cfg_fail(l, m, "unknown setting '%s' in %s", name, where);
		if (out[k])
			return cfg_fail(l, m, "duplicate setting '%s' in %s", name, where);
		out[k] = m;
	}
	return 0;
}

int cfg_missing(loader *l, config_setting_t *grp, const char *name, const char *where)
{
	return cfg_fail(l, grp, "missing required setting '%s' in %s", name, where);
}

int cfg_get_str(loader *l, config_setting_t *s, const char *where, const char **out)
{
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return cfg_fail(l, s, "'%s' in %s must be a string", cfg_name_of(s), where);
	*out = config_setting_get_string(s);
	return 0;
}

int cfg_dup_into(loader *l, const char *v, char **out)
{
	*out = strdup(v);
	return *out ? 0 : cfg_oom(l);
}

/* An optional string: s or, when absent, def (NULL leaves *out NULL). */
int cfg_opt_str(loader *l, config_setting_t *s, const char *where, const char *def, char **out)
{
	const char *v = def;
	if (s && cfg_get_str(l, s, where, &v))
		return -1;
	return v ? cfg_dup_into(l, v, out) : 0;
}

static int cfg_get_int(loader *l, config_setting_t *s, const char *where, int64_t lo, int64_t hi,
                       int64_t *out)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return cfg_fail(l, s, "'%s' in %s must be an integer", cfg_name_of(s), where);
	int64_t v = config_setting_get_int64(s);
	if (v < lo || v > hi)
		return cfg_fail(l, s, "'%s' in %s must be between %lld and %lld", cfg_name_of(s),
		                where, (long long)lo, (long long)hi);
	*out = v;
	return 0;
}

int cfg_opt_int(loader *l, config_setting_t *s, const char *where, int64_t def, int64_t lo,
                int64_t hi, int64_t *out)
{
	*out = def;
	return s ? cfg_get_int(l, s, where, lo, hi, out) : 0;
}

int cfg_opt_bool(loader *l, config_setting_t *s, const char *where, int def, int *out)
{
	*out = def;
	if (!s)
		return 0;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return cfg_fail(l, s, "'%s' in %s must be true or false", cfg_name_of(s), where);
	*out = config_setting_get_bool(s) ? 1 : 0;
	return 0;
}

/* A list or array of strings with min..max entries, copied into *out (*nout set first, so a
 * partial copy is freed by config_free). */
int cfg_get_strv(loader *l, config_setting_t *s, const char *where, int min, int max, char ***out,
                 size_t *nout)
{
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
		return cfg_fail(l, s, "'%s' in %s must be a list of strings [ \"...\", ... ]",
		                cfg_name_of(s), where);
	int len = config_setting_length(s);
	if (len < min || len > max)
		return cfg_fail(l, s, "'%s' in %s must have %d to %d entries", cfg_name_of(s),
		                where, min, max);
	*out = calloc(len ? (size_t)len : 1, sizeof **out);
	if (!*out)
		return cfg_oom(l);
	*nout = (size_t)len;
	for (int i = 0; i < len; i++) {
		config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return cfg_fail(l, e, "each entry of '%s' in %s must be a string",
			                cfg_name_of(s), where);
		if (cfg_dup_into(l, config_setting_get_string(e), &(*out)[i]))
			return -1;
	}
	return 0;
}

/* Entry i of list s (for errors: its line). libconfig dates a string entry at the token after it
 * (it looks ahead for string concatenation), so the last entry of a list whose closing bracket is
 * on a later line is reported at the bracket's line. */
config_setting_t *cfg_elem(config_setting_t *s, size_t i)
{
	return config_setting_get_elem(s, (unsigned)i);
}

int cfg_level_of(const hub_conf *c, const char *acr)
{
	for (int i = 0; i < c->nloas; i++)
		if (!strcmp(c->loa_acrs[i], acr))
			return i + 1;
	return 0;
}

int cfg_get_level(loader *l, config_setting_t *s, const char *where, int *out)
{
	const char *v = "";
	char b[72];
	if (cfg_get_str(l, s, where, &v))
		return -1;
	*out = cfg_level_of(l->c, v);
	if (!*out)
		return cfg_fail(l, s, "'%s' in %s: '%s' is not one of the loa levels",
		                cfg_name_of(s), where, cfg_shown(b, v));
	return 0;
}

/* ---- adapters ----------------------------------------------------------------------------- */
