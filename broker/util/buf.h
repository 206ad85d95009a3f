/* buf.h — growable byte buffer for building responses (HTML, JSON, URLs) inside an arena. */
#ifndef IDHUB_BUF_H
#define IDHUB_BUF_H
#include "arena.h"
#include <stddef.h>

typedef struct buf {
	arena *a;
	char *data;
	size_t len, cap;
} buf;

void buf_init(buf *b, arena *a);
void buf_add(buf *b, const void *p, size_t n);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with HTML special characters (& < > " ') escaped. */
void buf_html(buf *b, const char *s);
/* Appends s percent-encoded for a URL query component (RFC 3986 unreserved kept). */
void buf_urlenc(buf *b, const char *s);
/* Returns the NUL-terminated contents (owned by the arena). */
const char *buf_str(buf *b);

#endif
