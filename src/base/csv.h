/*
 * A streaming RFC 4180 CSV reader: comma-separated fields, optionally quoted
 * with '"' (a quote inside a quoted field is written twice), quoted fields may
 * hold commas and line breaks, records end with CRLF, LF or a lone CR, a UTF-8
 * byte order mark at the very start is skipped, and blank lines are skipped.
 *
 * It reads the input in chunks and keeps only the current record in memory,
 * so a file of any size is read in constant memory (bounded by the record
 * limits below). It is strict where RFC 4180 is: a quote inside an unquoted
 * field, text after a closing quote, an unterminated quoted field, a NUL byte
 * or invalid UTF-8 is an error naming the line, and the reader stops there.
 *
 * The owner of a csv_reader is whoever created it; csv_free releases it (and
 * closes the file csv_open_file opened).
 */
#ifndef GR_BASE_CSV_H
#define GR_BASE_CSV_H

#include "base/buf.h"
#include "base/err.h"

#include <stddef.h>
#include <stdio.h>

typedef struct csv_reader csv_reader;

/* Where the bytes come from: returns how many bytes it put in dst (at most n),
 * 0 at the end of the input, or -1 on a read error. */
typedef long (*csv_read_fn)(void *arg, char *dst, size_t n);

/* Defaults of the limits: a record may hold at most this many bytes of field
 * data and this many fields. Bigger records are refused, not buffered. */
enum { CSV_MAX_RECORD = 1 << 20, CSV_MAX_FIELDS = 1024 };

/* Opens the file at path; GR_ENOTFOUND or GR_EINVAL (field "path") when it cannot. */
int csv_open_file(csv_reader **out, const char *path, gr_err *err);
/* Reads from memory (the caller keeps data alive while reading). */
csv_reader *csv_new_mem(const char *data, size_t len);
/* Reads through fn. */
csv_reader *csv_new_fn(csv_read_fn fn, void *arg);
void csv_free(csv_reader *r);

/* Changes the limits (0 keeps a limit as it is). */
void csv_set_limits(csv_reader *r, size_t max_record, size_t max_fields);

/*
 * Reads the next record: 1 when there is one, 0 at the end of the input, or a
 * negative code (GR_EINVAL for bad input, GR_ETOOBIG for a record above the
 * limits, GR_EINTERNAL for a read error) with err's message starting
 * "line N: ". After an error every further call returns the same error.
 */
int csv_next(csv_reader *r, gr_err *err);

/* The fields of the current record, valid until the next csv_next. Each is
 * NUL-terminated and valid UTF-8 without NUL bytes; len (may be NULL) gets
 * its length in bytes. Out of range: "" with length 0. */
size_t csv_nfields(const csv_reader *r);
const char *csv_field(const csv_reader *r, size_t i, size_t *len);

/* The line (1-based) on which the current record starts. */
long csv_line(const csv_reader *r);

/* Whether s[0..n) is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
int csv_utf8_valid(const char *s, size_t n);

/* ---- writing ---- */

/* Where a written field goes. */
typedef void (*csv_sink)(void *arg, const char *p, size_t n);
/* Writes s (NULL: empty) as one RFC 4180 field, quoted when it must be. With
 * text (free text someone typed), a value a spreadsheet would run as a
 * formula (first character = + - @ tab or CR) gets a leading apostrophe:
 * CSV injection. */
void csv_put_field(csv_sink sink, void *arg, const char *s, int text);
/* The same to a file, or to the end of a buffer. */
void csv_field_to_file(FILE *f, const char *s, int text);
void csv_field_to_buf(buf *b, const char *s, int text);

#endif
