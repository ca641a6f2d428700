/*
 * A bump allocator for one request (or one command): everything allocated
 * from it is freed at once by arena_free(). Allocation failure aborts, as in
 * Redis and h2o: a server that cannot get a few kilobytes cannot answer anyway.
 * The owner is whoever called arena_new().
 */
#ifndef GR_BASE_ARENA_H
#define GR_BASE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);
/* Frees everything but the first block, for reuse. */
void arena_reset(arena *a);

void *arena_alloc(arena *a, size_t n);  /* 16-byte aligned, uninitialised */
void *arena_zalloc(arena *a, size_t n); /* zeroed */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
