/* arena.c — per-request bump allocator (see arena.h). Chunks of 16 KiB, larger requests get their
 * own. */
#include "arena.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK 16384
#define ARENA_ALIGN 16

struct chunk {
	struct chunk *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct chunk *head;
};

static struct chunk *chunk_new(size_t size)
{
	struct chunk *c = malloc(sizeof(*c) + size);
	if (!c)
		abort();
	c->next = NULL;
	c->used = 0;
	c->size = size;
	return c;
}

arena *arena_new(void)
{
	arena *a = malloc(sizeof(*a));
	if (!a)
		return NULL;
	a->head = chunk_new(ARENA_CHUNK);
	return a;
}

void arena_free(arena *a)
{
	if (!a)
		return;
	for (struct chunk *c = a->head, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

static void *alloc(arena *a, size_t size, int zero);

void *arena_alloc(arena *a, size_t size)
{
	return alloc(a, size, 1);
}

void *arena_alloc_uninit(arena *a, size_t size)
{
	return alloc(a, size, 0);
}

static void *alloc(arena *a, size_t size, int zero)
{
	size_t need = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need < size)
		abort();
	struct chunk *c = a->head;
	if (c->size - c->used < need) {
		if (need > ARENA_CHUNK / 4) {
			/* a large block gets its own chunk, kept behind the current one */
			struct chunk *big = chunk_new(need);
			big->used = need;
			big->next = c->next;
			c->next = big;
			if (zero)
				memset(big->data, 0, need);
			return big->data;
		}
		c = chunk_new(ARENA_CHUNK);
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	if (zero)
		memset(p, 0, need);
	return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *arena_strdup(arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

void *arena_memdup(arena *a, const void *p, size_t n)
{
	void *q = arena_alloc(a, n ? n : 1);
	if (n)
		memcpy(q, p, n);
	return q;
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}
