/* arena.h — per-request bump allocator: everything a request allocates is freed at once when it
 * ends. */
#ifndef IDHUB_ARENA_H
#define IDHUB_ARENA_H
#include <stddef.h>
#include <stdarg.h>

typedef struct arena arena;

/* Returns a new empty arena, or NULL when out of memory. Free with arena_free. */
arena *arena_new(void);
/* Frees every allocation made from the arena and the arena itself. NULL is allowed. */
void arena_free(arena *a);
/* Returns size bytes aligned for any type, zeroed; aborts on out-of-memory (a request cannot go
 * on). */
void *arena_alloc(arena *a, size_t size);
/* Like arena_alloc, but the memory is not zeroed (large buffers that are about to be filled). */
void *arena_alloc_uninit(arena *a, size_t size);
/* Copies n bytes and appends a NUL. */
char *arena_strndup(arena *a, const char *s, size_t n);
/* Copies a NUL-terminated string; NULL stays NULL. */
char *arena_strdup(arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Copies n bytes (no terminator added). */
void *arena_memdup(arena *a, const void *p, size_t n);

#endif
