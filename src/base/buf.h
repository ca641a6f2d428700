/* A growable byte buffer, always NUL-terminated. The owner frees it with buf_free. */
#ifndef GR_BASE_BUF_H
#define GR_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
} buf;

#define BUF_INIT                                                                                   \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void buf_append(buf *b, const void *data, size_t len);
void buf_puts(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, quotes and escapes included; s is valid
 * UTF-8 (the callers' input was checked at the edge), written as it is. */
void buf_put_json_string(buf *b, const char *s);
/* v in decimal, as printf's %lld writes it, without printf's parsing of a
 * format (an import writes a few a row). */
void buf_put_int(buf *b, int64_t v);
void buf_free(buf *b);
/* Gives the caller the malloc'ed string; b is empty afterwards. */
char *buf_detach(buf *b);

#endif
