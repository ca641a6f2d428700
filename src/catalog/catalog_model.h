/*
 * The catalogue's model, private to src/catalog (and its tests): categories,
 * their limits and history in SQL, the calendar table and the loaded
 * calendar. Other modules use catalog.h only.
 *
 * Strings in the structs below belong to the arena given to the call that
 * filled them.
 */
#ifndef GR_CATALOG_CATALOG_MODEL_H
#define GR_CATALOG_CATALOG_MODEL_H

#include "catalog/catalog.h"

#include "base/csv.h"

#include <stdio.h>

enum { CAT_URGENCY_ANY = -1, CAT_URGENCY_NORMAL = 0, CAT_URGENCY_URGENT = 1 };

/* Names <-> values; -1 (or 0 for the area) when unknown. */
int catalog_step_parse(const char *s);
const char *catalog_urgency_name(int urgency);
int catalog_urgency_parse(const char *s); /* "normal" | "urgent" | "*" */
char catalog_area_parse(const char *s);   /* "A" | "B" | "C" | "*" */

/* The kind and level a code stands for: "C01" a component major class,
 * "C0101" one of its minor classes, "D01" a demand type. GR_EINVAL (field
 * "code") for anything else. parent_code gets the major's code for a minor
 * class, "" otherwise. */
int catalog_code_check(const char *code, const char **kind, int *is_leaf, char parent_code[4],
                       gr_err *err);

/* Room for element n of an arena array of size-byte elements: v itself, or
 * a copy with twice the capacity (*cap) when v is full. */
void *cat_grow(arena *a, void *v, size_t n, size_t *cap, size_t size);

typedef struct cat_record {
    cat_info info;
    const char *standard_ref;
    int64_t created_at, updated_at;
    int64_t updated_by; /* 0: a command or the demo */
} cat_record;

int cat_record_get(db_conn *c, arena *a, int64_t id, cat_record *out, gr_err *err);

typedef struct cat_filter {
    const char *kind; /* NULL: any */
    int active;       /* -1: any */
    const char *q;    /* name substring (the category's, its major's or a child's), or NULL */
} cat_filter;

/* Every matching category in code order (a major class before its minors). */
int cat_list(db_conn *c, arena *a, const cat_filter *f, cat_record **out, size_t *n, gr_err *err);

typedef struct cat_limit_row {
    cat_step step;
    char area_class; /* 'A' 'B' 'C' or '*' */
    int urgency;     /* CAT_URGENCY_* */
    int64_t amount;
    cal_unit unit;
} cat_limit_row;

/* The category's own limit rows (not its major's), in step order. */
int cat_limits_get(db_conn *c, arena *a, int64_t id, cat_limit_row **out, size_t *n, gr_err *err);

/* Checks limit rows from outside: amounts within the unit's bound, no two
 * rows for the same step, area class and urgency. Fields "limits[i].amount". */
int cat_limits_check(const cat_limit_row *rows, size_t n, gr_err *err);

/* The largest amount of each unit: a year of natural minutes, of working
 * minutes (250 days x 7.5 h) and of working days. */
int64_t cat_limit_max(cal_unit unit);

/* Where a limit came from: the category itself or its major class, and the
 * row's area class and urgency. */
typedef struct cat_limit_source {
    int64_t category_id;
    char area_class;
    int urgency;
} cat_limit_source;

int cat_limit_find(db_conn *c, int64_t category_id, cat_step step, char area_class, int urgent,
                   cat_limit *out, cat_limit_source *src, gr_err *err);

typedef struct cat_input {
    const char *code;
    const char *name;
    const char *standard_ref; /* NULL: "local" */
    int64_t default_department_id;
    const char *filing_condition;
    const char *closing_condition;
    int64_t by; /* user id or 0 */
} cat_input;

/* Inserts a category (inside a write). The demo and cat_create share it. */
int cat_insert(db_conn *c, const cat_input *in, int64_t now, int64_t *id, gr_err *err);
int cat_create(gr_ctx *ctx, const cat_input *in, int64_t *id, gr_err *err);

typedef struct cat_patch {
    const char *name; /* NULL: unchanged */
    const char *standard_ref;
    int set_department;
    int64_t default_department_id; /* 0 with set_department: none */
    int set_filing;
    const char *filing_condition;
    int set_closing;
    const char *closing_condition;
    int active;      /* -1: unchanged */
    int64_t version; /* must equal the stored version */
    int64_t by;
} cat_patch;

int cat_update(gr_ctx *ctx, int64_t id, const cat_patch *p, gr_err *err);

/* Replaces every limit row of the category (after cat_limits_check); version
 * 0 skips the version check. Bumps the version and records the history. */
int cat_limits_replace(gr_ctx *ctx, int64_t id, const cat_limit_row *rows, size_t n,
                       int64_t version, int64_t by, gr_err *err);
/* Inside a write: the rows only, no history (for the demo and the above). */
int cat_limits_write(db_conn *c, int64_t id, const cat_limit_row *rows, size_t n, gr_err *err);

typedef struct cat_history {
    int64_t id;
    int64_t version; /* the version the old values had */
    int64_t changed_by;
    int64_t changed_at;
    const char *old; /* JSON text */
} cat_history;

int cat_history_list(db_conn *c, arena *a, int64_t category_id, int64_t after, int64_t limit,
                     cat_history **out, size_t *n, int *more, gr_err *err);

/* ---- the calendar (catalog_calendar.c) ---- */

typedef struct cat_day {
    char date[11]; /* YYYY-MM-DD */
    int kind;      /* CAL_HOLIDAY or CAL_WORKDAY */
    const char *name;
    int64_t updated_at;
    long line; /* where it came from in an imported file; 0 otherwise */
} cat_day;

const char *catalog_day_kind_name(int kind);
int catalog_day_kind_parse(const char *s); /* -1 unless "holiday" or "workday" */

/* The overrides of a year (every year when year is 0), in date order. */
int cat_days_list(db_conn *c, arena *a, int year, cat_day **out, size_t *n, gr_err *err);
/* Sets one date; *created says whether it was new. */
int cat_day_put(gr_ctx *ctx, const char *date, int kind, const char *name, int64_t by, int *created,
                gr_err *err);
/* GR_ENOTFOUND (field "date") when the date has no override. */
int cat_day_delete(gr_ctx *ctx, const char *date, gr_err *err);

typedef struct cat_import_stats {
    long created, updated, unchanged, bad;
} cat_import_stats;

/*
 * Reads calendar rows (CSV with a header naming date, kind and name) from r
 * into *rows (in a), reporting each bad row on report as "NAME:LINE: reason"
 * and counting it in st->bad. A broken file (no header, a CSV syntax error)
 * is an error; bad rows are not.
 */
int cat_days_read_csv(csv_reader *r, const char *name, FILE *report, arena *a, cat_day **rows,
                      size_t *n, cat_import_stats *st, gr_err *err);
/* Upserts rows in one transaction; counts created, updated and unchanged. */
int cat_days_import(gr_ctx *ctx, const cat_day *rows, size_t n, cat_import_stats *st, gr_err *err);

/* catalog_due that also tells the limit used and where it came from (src may be NULL). */
int cat_due_find(gr_ctx *ctx, db_conn *c, int64_t category_id, cat_step step, char area_class,
                 int urgent, int64_t start_ms, int64_t *due_ms, cat_limit *lim,
                 cat_limit_source *src, gr_err *err);
/* Loads the calendar the table describes, and its generation. */
int cat_calendar_load(db_conn *c, calendar **out, int64_t *generation, gr_err *err);
/* Reloads the server's calendar now if the table changed (after a write). */
int cat_calendar_refresh(gr_ctx *ctx, db_conn *c, gr_err *err);

#endif
