/* buf.c — growable arena buffer with HTML and URL escaping (see buf.h). */
#include "buf.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void buf_init(buf *b, arena *a)
{
	b->a = a;
	b->cap = 256;
	b->len = 0;
	b->data = arena_alloc_uninit(a, b->cap);
	b->data[0] = 0;
}

static void buf_reserve(buf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	size_t cap = b->cap * 2;
	while (cap < b->len + n + 1)
		cap *= 2;
	/* not zeroed: the bytes past len are never read (buf_add ends the string each time) */
	char *d = arena_alloc_uninit(b->a, cap);
	memcpy(d, b->data, b->len);
	b->data = d;
	b->cap = cap;
}

void buf_add(buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void buf_puts(buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_printf(buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(b->a, fmt, ap);
	va_end(ap);
	buf_puts(b, s);
}

void buf_html(buf *b, const char *s)
{
	if (!s)
		return;
	/* the runs between special characters go in whole: most text has none */
	for (;;) {
		size_t n = strcspn(s, "&<>\"'");
		if (n)
			buf_add(b, s, n);
		s += n;
		switch (*s) {
		case 0:
			return;
		case '&':
			buf_add(b, "&amp;", 5);
			break;
		case '<':
			buf_add(b, "&lt;", 4);
			break;
		case '>':
			buf_add(b, "&gt;", 4);
			break;
		case '"':
			buf_add(b, "&quot;", 6);
			break;
		default: /* '\'' */
			buf_add(b, "&#39;", 5);
		}
		s++;
	}
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

void buf_urlenc(buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s;
	while (p && *p) {
		const unsigned char *run = p;
		while (*p && unreserved(*p))
			p++;
		if (p > run)
			buf_add(b, run, (size_t)(p - run));
		if (*p) {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_add(b, e, 3);
			p++;
		}
	}
}

const char *buf_str(buf *b)
{
	return b->data;
}
