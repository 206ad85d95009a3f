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
	b->data = arena_alloc(a, b->cap);
}

static void buf_reserve(buf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	size_t cap = b->cap * 2;
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = arena_alloc(b->a, cap);
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
	for (; *s; s++) {
		switch (*s) {
		case '&':
			buf_puts(b, "&amp;");
			break;
		case '<':
			buf_puts(b, "&lt;");
			break;
		case '>':
			buf_puts(b, "&gt;");
			break;
		case '"':
			buf_puts(b, "&quot;");
			break;
		case '\'':
			buf_puts(b, "&#39;");
			break;
		default:
			buf_add(b, s, 1);
		}
	}
}

void buf_urlenc(buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			buf_add(b, p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			buf_add(b, e, 3);
		}
	}
}

const char *buf_str(buf *b)
{
	return b->data;
}
