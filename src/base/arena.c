#include "base/arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192

struct block {
    struct block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

struct arena {
    struct block *head;
};

static struct block *block_new(size_t size)
{
    struct block *b = malloc(sizeof(*b) + size);

    if (!b)
        abort();
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

arena *arena_new(void)
{
    arena *a = malloc(sizeof(*a));

    if (!a)
        abort();
    a->head = block_new(ARENA_BLOCK);
    return a;
}

void arena_reset(arena *a)
{
    struct block *b;

    while (a->head->next) {
        b = a->head;
        a->head = b->next;
        free(b);
    }
    a->head->used = 0;
}

void arena_free(arena *a)
{
    struct block *b, *next;

    if (!a)
        return;
    for (b = a->head; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

void *arena_alloc(arena *a, size_t n)
{
    struct block *b = a->head;
    size_t need = (n + 15) & ~(size_t)15;
    struct block *nb;

    if (need < n)
        abort();
    if (b->size - b->used >= need) {
        void *p = b->data + b->used;
        b->used += need;
        return p;
    }
    /* Large requests get a block of their own behind the current one, so the
     * rest of the current block stays usable. */
    if (need > ARENA_BLOCK / 4) {
        nb = block_new(need);
        nb->used = need;
        nb->next = b->next;
        b->next = nb;
        return nb->data;
    }
    nb = block_new(ARENA_BLOCK);
    nb->next = b;
    a->head = nb;
    nb->used = need;
    return nb->data;
}

void *arena_zalloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);

    memset(p, 0, n);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
    va_list copy;
    int n;
    char *p;

    va_copy(copy, ap);
    n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    if (n < 0)
        return arena_strdup(a, "");
    p = arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}
