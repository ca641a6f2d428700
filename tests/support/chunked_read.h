/*
 * A csv_read_fn that hands out bytes at most `step` at a time, so that
 * records cross the reader's chunk boundaries at every offset. Header-only
 * (static inline): the fuzz targets build without the test support library
 * and include it by its relative path.
 */
#ifndef GR_TESTS_CHUNKED_READ_H
#define GR_TESTS_CHUNKED_READ_H

#include <stddef.h>
#include <string.h>

typedef struct gr_chunks {
    const char *data;
    size_t len, pos, step;
} gr_chunks;

/* For csv_new_fn(gr_chunks_read, &chunks). */
static inline long gr_chunks_read(void *arg, char *out, size_t n)
{
    gr_chunks *f = arg;
    size_t k = f->len - f->pos;

    if (k > f->step)
        k = f->step;
    if (k > n)
        k = n;
    memcpy(out, f->data + f->pos, k);
    f->pos += k;
    return (long)k;
}

#endif
