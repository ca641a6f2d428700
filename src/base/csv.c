/*
 * The CSV reader: a byte-at-a-time state machine over a chunked input window.
 * The current record's field bytes are kept in one growing buffer, each field
 * NUL-terminated, with the offsets of the fields alongside.
 */
#include "base/csv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CSV_CHUNK = 64 * 1024, CSV_EOF = -1, CSV_IOERR = -2 };

struct csv_reader {
    csv_read_fn fn;
    void *arg;
    FILE *fp;       /* owned when opened by csv_open_file */
    const char *in; /* the current input window */
    size_t in_len, in_pos;
    char *chunk; /* the window's storage when reading through fn */
    int eof;
    int started; /* the byte order mark has been looked for */
    char *rec;   /* field bytes of the current record, each NUL-terminated */
    size_t rec_len, rec_cap;
    size_t *offs; /* start of each field in rec; one extra slot for the end */
    size_t nfields, offs_cap;
    long line;     /* the line the next byte is on */
    long rec_line; /* the line the current record starts on */
    size_t max_record, max_fields;
    int failed;
    gr_err fail;
};

static long file_read(void *arg, char *dst, size_t n)
{
    FILE *fp = arg;
    size_t got = fread(dst, 1, n, fp);

    if (got == 0 && ferror(fp))
        return -1;
    return (long)got;
}

static csv_reader *reader_new(void)
{
    csv_reader *r = calloc(1, sizeof(*r));

    if (!r)
        abort();
    r->line = 1;
    r->max_record = CSV_MAX_RECORD;
    r->max_fields = CSV_MAX_FIELDS;
    return r;
}

csv_reader *csv_new_mem(const char *data, size_t len)
{
    csv_reader *r = reader_new();

    r->in = data ? data : "";
    r->in_len = data ? len : 0;
    r->eof = 1; /* everything is in the window already */
    return r;
}

csv_reader *csv_new_fn(csv_read_fn fn, void *arg)
{
    csv_reader *r = reader_new();

    r->fn = fn;
    r->arg = arg;
    r->chunk = malloc(CSV_CHUNK);
    if (!r->chunk)
        abort();
    r->in = r->chunk;
    return r;
}

int csv_open_file(csv_reader **out, const char *path, gr_err *err)
{
    FILE *fp = fopen(path, "rb");

    *out = NULL;
    if (!fp)
        return err_set(err, errno == ENOENT ? GR_ENOTFOUND : GR_EINVAL, "path",
                       "cannot open %s: %s", path, strerror(errno));
    *out = csv_new_fn(file_read, fp);
    (*out)->fp = fp;
    return 0;
}

void csv_free(csv_reader *r)
{
    if (!r)
        return;
    if (r->fp)
        fclose(r->fp);
    free(r->chunk);
    free(r->rec);
    free(r->offs);
    free(r);
}

void csv_set_limits(csv_reader *r, size_t max_record, size_t max_fields)
{
    if (max_record)
        r->max_record = max_record;
    if (max_fields)
        r->max_fields = max_fields;
}

size_t csv_nfields(const csv_reader *r)
{
    return r->nfields;
}

const char *csv_field(const csv_reader *r, size_t i, size_t *len)
{
    if (i >= r->nfields) {
        if (len)
            *len = 0;
        return "";
    }
    if (len)
        *len = r->offs[i + 1] - r->offs[i] - 1;
    return r->rec + r->offs[i];
}

long csv_line(const csv_reader *r)
{
    return r->rec_line;
}

/* ---- input ---- */

/* Appends more input to the window (from offset keep); 1 if bytes came, 0 at
 * the end, CSV_IOERR on a read error. */
static int fill(csv_reader *r, size_t keep)
{
    long n;

    if (r->eof)
        return 0;
    if (keep)
        memmove(r->chunk, r->in + r->in_pos, keep);
    r->in_pos = 0;
    r->in_len = keep;
    n = r->fn(r->arg, r->chunk + keep, CSV_CHUNK - keep);
    if (n < 0)
        return CSV_IOERR;
    if (n == 0) {
        r->eof = 1;
        return 0;
    }
    r->in_len += (size_t)n;
    return 1;
}

static inline int getb(csv_reader *r)
{
    int rc;

    if (r->in_pos < r->in_len)
        return (unsigned char)r->in[r->in_pos++];
    rc = fill(r, 0);
    if (rc <= 0)
        return rc == 0 ? CSV_EOF : CSV_IOERR;
    return (unsigned char)r->in[r->in_pos++];
}

static inline int peekb(csv_reader *r)
{
    int rc;

    if (r->in_pos < r->in_len)
        return (unsigned char)r->in[r->in_pos];
    rc = fill(r, 0);
    if (rc <= 0)
        return rc == 0 ? CSV_EOF : CSV_IOERR;
    return (unsigned char)r->in[r->in_pos];
}

/* Skips a UTF-8 byte order mark at the very start. A reader may hand out
 * fewer than three bytes at a time, so gather three before looking. */
static int skip_bom(csv_reader *r)
{
    int rc = 1;

    r->started = 1;
    while (r->in_len - r->in_pos < 3 && !r->eof && rc > 0)
        rc = fill(r, r->in_len - r->in_pos);
    if (rc < 0)
        return CSV_IOERR;
    if (r->in_len - r->in_pos >= 3 && memcmp(r->in + r->in_pos, "\xEF\xBB\xBF", 3) == 0)
        r->in_pos += 3;
    return 0;
}

/* ---- the record buffer ---- */

static int fail(csv_reader *r, gr_err *err, int code, long line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail(csv_reader *r, gr_err *err, int code, long line, const char *fmt, ...)
{
    char reason[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    r->failed = 1;
    err_set(&r->fail, code, "", "line %ld: %s", line, reason);
    if (err)
        *err = r->fail;
    return code;
}

/* Makes room for two more bytes: one of data and a field terminator. */
static void reserve(csv_reader *r)
{
    size_t cap;
    char *p;

    if (r->rec_len + 2 <= r->rec_cap)
        return;
    cap = r->rec_cap ? r->rec_cap * 2 : 256;
    p = realloc(r->rec, cap);
    if (!p)
        abort();
    r->rec = p;
    r->rec_cap = cap;
}

/* Appends one byte of field data; -1 when the record would pass the limit. */
static inline int put(csv_reader *r, int c)
{
    /* rec_len counts one terminator per finished field: subtract them. */
    if (r->rec_len - r->nfields >= r->max_record)
        return -1;
    reserve(r);
    r->rec[r->rec_len++] = (char)c;
    return 0;
}

static int start_field(csv_reader *r)
{
    if (r->nfields >= r->max_fields)
        return -1;
    if (r->nfields + 2 > r->offs_cap) {
        size_t cap = r->offs_cap ? r->offs_cap * 2 : 16;
        size_t *p = realloc(r->offs, cap * sizeof(*p));

        if (!p)
            abort();
        r->offs = p;
        r->offs_cap = cap;
    }
    r->offs[r->nfields] = r->rec_len;
    return 0;
}

static void end_field(csv_reader *r)
{
    reserve(r);
    r->rec[r->rec_len++] = '\0';
    r->nfields++;
    r->offs[r->nfields] = r->rec_len;
}

int csv_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        unsigned c = *p;
        size_t len, i;
        uint32_t cp;

        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) < len)
            return 0;
        for (i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* Overlong forms, UTF-16 surrogates and values past U+10FFFF. */
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += len;
    }
    return 1;
}

/* ---- records ---- */

/* Ends a line at c ('\r' or '\n'): a CR followed by LF is one line break. */
static int end_line(csv_reader *r, int c)
{
    if (c == '\r') {
        int next = peekb(r);

        if (next == CSV_IOERR)
            return CSV_IOERR;
        if (next == '\n')
            r->in_pos++;
    }
    r->line++;
    return 0;
}

static int fail_io(csv_reader *r, gr_err *err)
{
    return fail(r, err, GR_EINTERNAL, r->line, "read error");
}

static int fail_big(csv_reader *r, gr_err *err)
{
    return fail(r, err, GR_ETOOBIG, r->rec_line, "the record is longer than %zu bytes",
                r->max_record);
}

/* Reads a quoted field whose opening quote has been read; *c gets the byte
 * after the closing quote. */
static int read_quoted(csv_reader *r, int *c, gr_err *err)
{
    long open_line = r->line;
    int b;

    for (;;) {
        b = getb(r);
        if (b == CSV_EOF)
            return fail(r, err, GR_EINVAL, open_line, "the quoted field opened here is not closed");
        if (b == CSV_IOERR)
            return fail_io(r, err);
        if (b == '"') {
            b = peekb(r);
            if (b == CSV_IOERR)
                return fail_io(r, err);
            if (b != '"')
                break;
            r->in_pos++; /* "" stands for one quote */
        } else if (b == '\n' || (b == '\r' && peekb(r) != '\n')) {
            r->line++;
        } else if (b == 0) {
            return fail(r, err, GR_EINVAL, r->line, "NUL byte in the data");
        }
        if (put(r, b) < 0)
            return fail_big(r, err);
    }
    b = getb(r);
    if (b == CSV_IOERR)
        return fail_io(r, err);
    if (b != ',' && b != '\r' && b != '\n' && b != CSV_EOF)
        return fail(r, err, GR_EINVAL, r->line,
                    "unexpected character after the closing quote of field %zu "
                    "(a quote inside a quoted field must be doubled)",
                    r->nfields + 1);
    *c = b;
    return 0;
}

/* Reads an unquoted field starting with *c; *c gets the byte that ends it. */
static int read_plain(csv_reader *r, int *c, gr_err *err)
{
    int b = *c;

    while (b != ',' && b != '\r' && b != '\n' && b != CSV_EOF) {
        if (b == CSV_IOERR)
            return fail_io(r, err);
        if (b == '"')
            return fail(r, err, GR_EINVAL, r->line,
                        "a quote inside the unquoted field %zu (quote the field and double "
                        "the quote)",
                        r->nfields + 1);
        if (b == 0)
            return fail(r, err, GR_EINVAL, r->line, "NUL byte in the data");
        if (put(r, b) < 0)
            return fail_big(r, err);
        b = getb(r);
    }
    *c = b;
    return 0;
}

/* Skips blank lines; *c gets the first byte of the record or CSV_EOF. */
static int skip_blank(csv_reader *r, int *c, gr_err *err)
{
    int b;

    for (;;) {
        r->rec_line = r->line;
        b = getb(r);
        if (b == CSV_IOERR || ((b == '\r' || b == '\n') && end_line(r, b) < 0))
            return fail_io(r, err);
        if (b != '\r' && b != '\n')
            break;
    }
    *c = b;
    return 0;
}

int csv_next(csv_reader *r, gr_err *err)
{
    int c = 0, rc = 0;

    if (r->failed) {
        if (err)
            *err = r->fail;
        rc = r->fail.code;
        goto out;
    }
    if (!r->started && skip_bom(r) < 0) {
        rc = fail_io(r, err);
        goto out;
    }
    r->nfields = 0;
    r->rec_len = 0;
    rc = skip_blank(r, &c, err);
    if (rc || c == CSV_EOF)
        goto out;
    for (;;) {
        if (start_field(r) < 0) {
            rc = fail(r, err, GR_ETOOBIG, r->rec_line, "more than %zu fields", r->max_fields);
            goto out;
        }
        if (c == '"')
            rc = read_quoted(r, &c, err);
        else
            rc = read_plain(r, &c, err);
        if (rc)
            goto out;
        end_field(r);
        if (c != ',')
            break;
        c = getb(r);
    }
    if (c != CSV_EOF && end_line(r, c) < 0) {
        rc = fail_io(r, err);
        goto out;
    }
    if (!csv_utf8_valid(r->rec, r->rec_len)) {
        rc = fail(r, err, GR_EINVAL, r->rec_line, "invalid UTF-8");
        goto out;
    }
    rc = 1;
out:
    return rc;
}

/* ---- writing ---- */

void csv_put_field(csv_sink sink, void *arg, const char *s, int text)
{
    const char *p, *q;
    int quote;

    if (!s)
        s = "";
    quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        sink(arg, "\"", 1);
    if (text && s[0] && strchr("=+-@\t\r", s[0]))
        sink(arg, "'", 1);
    /* Each quote is written twice. */
    for (p = s; (q = strchr(p, '"')) != NULL; p = q + 1) {
        sink(arg, p, (size_t)(q - p + 1));
        sink(arg, "\"", 1);
    }
    sink(arg, p, strlen(p));
    if (quote)
        sink(arg, "\"", 1);
}

static void to_file(void *arg, const char *p, size_t n)
{
    fwrite(p, 1, n, arg);
}

static void to_buf(void *arg, const char *p, size_t n)
{
    buf_append(arg, p, n);
}

void csv_field_to_file(FILE *f, const char *s, int text)
{
    csv_put_field(to_file, f, s, text);
}

void csv_field_to_buf(buf *b, const char *s, int text)
{
    csv_put_field(to_buf, b, s, text);
}
