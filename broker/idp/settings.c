/* settings.c — the declared, typed settings of adapters (include/idhub/adapter.h): each value of
 * an idp's `settings` group is checked against the adapter's declaration (string, URL, integer
 * range, enum, boolean, duration, file, list, map; URIs, one word per level) and parsed once, with
 * errors that name the config file and the setting's line. The daemon and --check-config both go
 * through here. */
#include "host_int.h"
#include "services.h"
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parse_ctx {
	idhub_instance *inst;
	const char *adapter;
	char msg[320];
} parse_ctx;

static char *keep(idhub_instance *in, char *s)
{
	char **n = s ? realloc(in->strings, (in->nstrings + 1) * sizeof *n) : NULL;
	if (!n) {
		free(s);
		return NULL;
	}
	in->strings = n;
	return in->strings[in->nstrings++] = s;
}

static int num_of(const char *v, int duration, int64_t *out)
{
	char *end;
	errno = 0;
	long long x = strtoll(v, &end, 10);
	if (errno || end == v || *v == '+' || *v == ' ')
		return -1;
	long long unit = 1;
	if (duration && *end && !end[1]) {
		unit = *end == 's'   ? 1
		       : *end == 'm' ? 60
		       : *end == 'h' ? 3600
		       : *end == 'd' ? 86400
		                     : 0;
		end++;
	}
	if (*end || !unit || x > INT64_MAX / unit || x < INT64_MIN / unit)
		return -1;
	*out = x * unit;
	return 0;
}

static int choice_of(const char *const *choices, const char *w, size_t n)
{
	for (int i = 0; choices && choices[i]; i++)
		if (strlen(choices[i]) == n && strncmp(choices[i], w, n) == 0)
			return i;
	return -1;
}

static int bad(parse_ctx *p, const idhub_setting_decl *d, const char *what)
{
	snprintf(p->msg, sizeof p->msg, "%s", d->help ? d->help : what);
	return -1;
}

/* IDHUB_SET_URI: text that can stand as a URI in an XML document or a query. */
static int uri_text(const char *w, size_t l)
{
	if (!l || l > 1024)
		return 0;
	for (size_t i = 0; i < l; i++)
		if ((unsigned char)w[i] <= ' ' || strchr("\"<>&", w[i]))
			return 0;
	return 1;
}

/* A word of a LIST: allowed by choices, and by IDHUB_SET_URI. */
static int word_ok(const idhub_setting_decl *d, const char *w, size_t l)
{
	return (!d->choices || choice_of(d->choices, w, l) >= 0) &&
	       (!(d->flags & IDHUB_SET_URI) || uri_text(w, l));
}

static int parse_list(parse_ctx *p, const idhub_setting_decl *d, const char *v, idhub_value *out)
{
	size_t max = d->max > 0 ? (size_t)d->max : 64;
	const char **items = calloc(max + 1, sizeof *items);
	if (!items || !keep(p->inst, (char *)items))
		return bad(p, d, "out of memory");
	size_t n = 0;
	const char *sep = d->flags & IDHUB_SET_SPACES ? " \t\r\n" : " ,\t\r\n";
	for (const char *w = v + strspn(v, sep); *w;) {
		size_t l = strcspn(w, sep);
		if (l) {
			if (n == max || !word_ok(d, w, l))
				return bad(p, d,
				           n == max ? "too many entries"
				                    : "an entry is not allowed");
			if (!(items[n++] = keep(p->inst, strndup(w, l))))
				return bad(p, d, "out of memory");
		}
		w += l;
		w += strspn(w, sep);
	}
	if (!n && (d->flags & IDHUB_SET_NONEMPTY))
		return bad(p, d, "must not be empty");
	if ((d->flags & IDHUB_SET_LEVELS) && n != (size_t)p->inst->h->cfg->nloas) {
		snprintf(p->msg, sizeof p->msg, "%s: %zu given, %d levels",
		         d->help ? d->help : "one word per level", n, p->inst->h->cfg->nloas);
		return -1;
	}
	out->items = items;
	out->nitems = n;
	return 0;
}

/* A MAP: a list of FROM=TO words, each split in place into its two sides (choices limit TO). */
static int parse_map(parse_ctx *p, const idhub_setting_decl *d, const char *v, idhub_value *out)
{
	idhub_setting_decl list = *d;
	list.choices = NULL;
	list.max = (d->max > 0 ? d->max : 64) * 2; /* room for the pairs */
	if (parse_list(p, &list, v, out) || out->nitems * 2 > (size_t)list.max)
		return out->items ? bad(p, d, "too many entries") : -1;
	char **w = (char **)out->items;
	for (size_t i = out->nitems; i-- > 0;) {
		char *eq = d->flags & IDHUB_SET_FIRST_EQ ? strchr(w[i], '=') : strrchr(w[i], '=');
		if (!eq || eq == w[i] || !eq[1] ||
		    (d->choices && choice_of(d->choices, eq + 1, strlen(eq + 1)) < 0))
			return bad(p, d, "entries are FROM=TO, separated by spaces");
		*eq = 0;
		w[2 * i] = w[i];
		w[2 * i + 1] = eq + 1;
	}
	w[2 * out->nitems] = NULL;
	return 0;
}

static int parse_value(parse_ctx *p, const idhub_setting_decl *d, const char *v, idhub_value *out)
{
	char m[160];
	out->str = v;
	switch (d->type) {
	case IDHUB_SET_STRING:
		if (strlen(v) > (d->max > 0 ? (size_t)d->max : 4096))
			return bad(p, d, "too long");
		if ((d->flags & IDHUB_SET_URI) && !uri_text(v, strlen(v)))
			return bad(p, d, "must be a URI");
		return !*v && (d->flags & IDHUB_SET_NONEMPTY) ? bad(p, d, "must not be empty") : 0;
	case IDHUB_SET_URL:
		return idp_url_check(v, d->flags)
		           ? bad(p, d,
		                 d->flags & IDHUB_SET_HTTP_ANY ? "must be an http(s) URL"
		                                               : "must be an https URL (http "
		                                                 "only on a loopback host)")
		           : 0;
	case IDHUB_SET_INT:
	case IDHUB_SET_DURATION:
		snprintf(m, sizeof m, "must be a whole number%s from %" PRId64 " to %" PRId64,
		         d->type == IDHUB_SET_DURATION ? " of seconds" : "", d->min, d->max);
		if (num_of(v, d->type == IDHUB_SET_DURATION, &out->num) || out->num < d->min ||
		    out->num > d->max)
			return bad(p, d, m);
		return 0;
	case IDHUB_SET_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return bad(p, d, "must be true or false");
		out->num = !strcmp(v, "true");
		return 0;
	case IDHUB_SET_ENUM:
		out->num = choice_of(d->choices, v, strlen(v));
		return out->num < 0 ? bad(p, d, "is not one of the allowed values") : 0;
	case IDHUB_SET_FILE: {
		size_t len = 0;
		char *body = idp_read_file(v, d->max > 0 ? (size_t)d->max : 1024 * 1024, &len);
		free(body);
		out->num = (int64_t)len;
		return body ? 0 : bad(p, d, "cannot read that file");
	}
	case IDHUB_SET_LIST:
		return parse_list(p, d, v, out);
	case IDHUB_SET_MAP:
		return parse_map(p, d, v, out);
	}
	return bad(p, d, "has a type this hub does not know");
}

/* IDHUB_SET_LEVELS's default: the hub's level names as they are (copies kept by the instance). */
static int level_names(idhub_instance *in, idhub_value *out)
{
	const hub_conf *c = in->h->cfg;
	const char **items = calloc((size_t)c->nloas + 1, sizeof *items);
	if (!items || !keep(in, (char *)items))
		return -1;
	for (int i = 0; i < c->nloas; i++)
		if (!(items[i] = keep(in, strdup(c->loa_acrs[i]))))
			return -1;
	*out = (idhub_value){.set = 1, .items = items, .nitems = (size_t)c->nloas};
	return 0;
}

static const idp_setting *find(const idp_conf *ic, const char *name)
{
	for (size_t i = 0; i < ic->nsettings; i++)
		if (!strcmp(ic->settings[i].name, name))
			return &ic->settings[i];
	return NULL;
}

/* The line an error is reported at, and its message, for setting name (or the idp entry). */
static int fail(char **err, const char *file, int line, const idp_conf *ic, const char *name,
                const char *msg)
{
	if (asprintf(err, "%s:%d: idp '%s': %s: %s", file, line, ic->id, name, msg) < 0)
		*err = NULL;
	return -1;
}

int settings_parse(idhub_instance *in, const char *file, const idp_conf *ic,
                   const idhub_adapter *ops, char **err)
{
	parse_ctx p = {.inst = in, .adapter = ops->name};
	for (size_t i = 0; i < ic->nsettings; i++) {
		size_t k = 0;
		while (k < ops->nsettings && strcmp(ops->settings[k].name, ic->settings[i].name))
			k++;
		if (k == ops->nsettings) {
			snprintf(p.msg, sizeof p.msg, "unknown setting for the %s adapter",
			         ops->name);
			return fail(err, file, ic->settings[i].line, ic, ic->settings[i].name,
			            p.msg);
		}
	}
	in->values = calloc(ops->nsettings ? ops->nsettings : 1, sizeof *in->values);
	if (!in->values)
		return -1;
	in->nvalues = ops->nsettings;
	for (size_t k = 0; k < ops->nsettings; k++) {
		const idhub_setting_decl *d = &ops->settings[k];
		const idp_setting *s = find(ic, d->name);
		const char *v = s ? s->value : d->def;
		if (!v && d->type == IDHUB_SET_LIST && (d->flags & IDHUB_SET_LEVELS)) {
			if (level_names(in, &in->values[k]))
				return fail(err, file, ic->line, ic, d->name, "out of memory");
			continue;
		}
		if (!v) {
			if (d->flags & IDHUB_SET_REQUIRED)
				return fail(err, file, ic->line, ic, d->name,
				            d->help ? d->help : "required");
			continue;
		}
		in->values[k].set = 1;
		in->values[k].line = s ? s->line : 0;
		if (parse_value(&p, d, v, &in->values[k]))
			return fail(err, file, s ? s->line : ic->line, ic, d->name, p.msg);
	}
	return 0;
}

void settings_free(idhub_instance *in)
{
	for (size_t i = 0; i < in->nstrings; i++)
		free(in->strings[i]);
	free(in->strings);
	free(in->values);
	in->strings = NULL;
	in->values = NULL;
	in->nstrings = in->nvalues = 0;
}
