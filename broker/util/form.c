/* form.c — strict x-www-form-urlencoded parser with limits (see form.h). */
#include "form.h"
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *form_decode(arena *a, const char *s, size_t len, int plus_is_space)
{
	char *out = arena_alloc(a, len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return NULL;
			int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
			if (h < 0 || l < 0)
				return NULL;
			c = (char)(h << 4 | l);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == 0)
			return NULL; /* an embedded NUL would truncate silently further on */
		out[o++] = c;
	}
	out[o] = 0;
	return out;
}

int form_parse(arena *a, form *f, const char *s, size_t len, size_t max_value)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		if (end > i) {
			const char *eq = memchr(s + i, '=', end - i);
			size_t nlen = eq ? (size_t)(eq - (s + i)) : end - i;
			const char *v = eq ? eq + 1 : s + end;
			size_t vlen = eq ? (size_t)(s + end - v) : 0;
			if (nlen > 0) {
				/* encoded length bounds decoded length from above; check both */
				if (nlen > FORM_MAX_NAME * 3 || vlen > max_value * 3)
					return FORM_TOO_LONG;
				if (f->n >= FORM_MAX_PARAMS)
					return FORM_TOO_MANY;
				char *name = form_decode(a, s + i, nlen, 1);
				char *value = form_decode(a, v, vlen, 1);
				if (!name || !value)
					return FORM_BAD_ENCODING;
				if (strlen(name) > FORM_MAX_NAME || strlen(value) > max_value)
					return FORM_TOO_LONG;
				if (f->n % 16 == 0) {
					idhub_kv *kv = arena_alloc(a, (f->n + 16) * sizeof(*kv));
					if (f->n)
						memcpy(kv, f->kv, f->n * sizeof(*kv));
					f->kv = kv;
				}
				f->kv[f->n].name = name;
				f->kv[f->n].value = value;
				f->n++;
			}
		}
		i = end + 1;
	}
	return FORM_OK;
}

const char *form_get(const form *f, const char *name, int *count)
{
	const char *v = NULL;
	int c = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->kv[i].name, name) == 0) {
			if (!v)
				v = f->kv[i].value;
			c++;
		}
	}
	if (count)
		*count = c;
	return v;
}

const char *form_param(const form *f, const char *name, int *count)
{
	const char *v = NULL;
	int all = 0, nonempty = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->kv[i].name, name) != 0)
			continue;
		all++;
		if (f->kv[i].value[0]) {
			if (!v)
				v = f->kv[i].value;
			nonempty++;
		}
	}
	/* A lone empty parameter is omitted (RFC 6749 §3.1), but an empty one next to another is
	 * still a repetition: "client_id=&client_id=x" must not read as client_id=x, or two parsers
	 * (ours and a proxy's or the service's) could disagree on which value counts. */
	if (count)
		*count = all > 1 ? all : nonempty;
	return v;
}

const char *form_strerror(int code)
{
	switch (code) {
	case FORM_BAD_ENCODING:
		return "malformed percent-encoding";
	case FORM_TOO_MANY:
		return "too many parameters";
	case FORM_TOO_LONG:
		return "a parameter is too long";
	default:
		return "ok";
	}
}

int form_has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		const char *e = strchr(p, ' ');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == wl && strncmp(p, word, wl) == 0)
			return 1;
		p += l;
	}
	return 0;
}
