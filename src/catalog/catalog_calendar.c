/*
 * The working-day calendar of the deployment: the calendar_days table, its
 * CSV import, and the loaded calendar (struct catalog_ctx) the due times are
 * computed on.
 *
 * Publication: the loaded calendar sits behind a mutex with a reference
 * count, as the org module's grid index does. A computation takes a
 * reference, and first compares the calendar's generation with the table's
 * (calendar_generation, bumped by a trigger on every change, whoever makes
 * it: this server, `grassroots import calendar`, another node). When they
 * differ, one thread at a time loads the table into a new calendar and swaps
 * it in; computations in flight keep the old one until they drop it.
 */
#include "catalog/catalog_model.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "base/jsonv.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { NAME_MAX_CHARS = 50, IMPORT_MAX_ROWS = 10000 };

#define GENERATION_SQL "SELECT generation FROM calendar_generation WHERE id = 1"

struct cal_ref {
    calendar *cal;
    int64_t generation;
    atomic_long refs;
};

struct catalog_ctx {
    pthread_mutex_t lock;   /* guards cur */
    pthread_mutex_t reload; /* one load at a time */
    struct cal_ref *cur;    /* never NULL after catalog_ctx_open */
};

static const char *const day_kind_names[] = {"default", "holiday", "workday"};

const char *catalog_day_kind_name(int kind)
{
    return kind == CAL_HOLIDAY || kind == CAL_WORKDAY ? day_kind_names[kind] : "default";
}

int catalog_day_kind_parse(const char *s)
{
    if (s && strcmp(s, "holiday") == 0)
        return CAL_HOLIDAY;
    if (s && strcmp(s, "workday") == 0)
        return CAL_WORKDAY;
    return -1;
}

/* ---- the loaded calendar ---- */

/* The code of a failure that err (which may be NULL) describes. */
static int failed(const gr_err *err)
{
    return err && err->code ? err->code : GR_EINTERNAL;
}

static void ref_drop(struct cal_ref *r)
{
    if (r && atomic_fetch_sub(&r->refs, 1) == 1) {
        calendar_free(r->cal);
        free(r);
    }
}

static struct cal_ref *ref_take(struct catalog_ctx *k)
{
    struct cal_ref *r;

    pthread_mutex_lock(&k->lock);
    r = k->cur;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&k->lock);
    return r;
}

int cat_calendar_load(db_conn *c, calendar **out, int64_t *generation, gr_err *err)
{
    calendar *cal = calendar_new();
    db_stmt *st = NULL;
    int y, m, d, rc;

    /* The generation first: rows read after it are at least as new, so a
     * change in between costs one more load, never a stale calendar. */
    rc = db_query_int(c, GENERATION_SQL, 0, 0, generation, err);
    if (rc)
        goto out;
    st = db_prepare(c, "SELECT date, kind FROM calendar_days", err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    while ((rc = db_step(st, err)) == DB_ROW) {
        const char *date = db_col_text(st, 0);

        /* The table's checks keep bad dates out; one that slips in (a hand
         * edit) is logged and skipped rather than keeping the server down. */
        if (calendar_date_parse(date, &y, &m, &d) ||
            calendar_set_day(cal, y, m, d, catalog_day_kind_parse(db_col_text(st, 1))))
            log_msg(LOG_ERROR, "catalog.calendar", "calendar day %.10s left out: not a date", date);
    }
    rc = rc < 0 ? rc : 0;
out:
    db_done(st);
    if (rc) {
        calendar_free(cal);
        cal = NULL;
    }
    *out = cal;
    return rc;
}

static struct cal_ref *ref_load(db_conn *c, gr_err *err)
{
    struct cal_ref *r = calloc(1, sizeof(*r));

    if (!r)
        abort();
    atomic_init(&r->refs, 1);
    if (cat_calendar_load(c, &r->cal, &r->generation, err)) {
        free(r);
        return NULL;
    }
    return r;
}

/* Loads the table into a new calendar unless the current one already has
 * generation gen. */
static int reload(struct catalog_ctx *k, db_conn *c, int64_t gen, gr_err *err)
{
    struct cal_ref *fresh = NULL, *old = NULL;
    int rc = 0;

    pthread_mutex_lock(&k->reload);
    pthread_mutex_lock(&k->lock);
    old = k->cur->generation == gen ? k->cur : NULL;
    pthread_mutex_unlock(&k->lock);
    if (old)
        goto out;
    fresh = ref_load(c, err);
    if (!fresh) {
        rc = failed(err);
        goto out;
    }
    pthread_mutex_lock(&k->lock);
    old = k->cur;
    k->cur = fresh;
    pthread_mutex_unlock(&k->lock);
    ref_drop(old);
    log_msg(LOG_DEBUG, "catalog.calendar", "calendar generation %" PRId64 " loaded",
            fresh->generation);
out:
    pthread_mutex_unlock(&k->reload);
    return rc;
}

/* A reference to a calendar as new as the table: the server's, or, when the
 * catalogue is not open (a command, a test of another module), a private
 * one. NULL with err filled when the database does not answer. */
static struct cal_ref *cal_acquire(gr_ctx *ctx, db_conn *c, gr_err *err)
{
    struct catalog_ctx *k = ctx->catalog;
    struct cal_ref *r;
    int64_t gen = 0;

    if (!c) {
        err_set(err, GR_EUNAVAIL, "", "the database does not answer");
        return NULL;
    }
    if (!k)
        return ref_load(c, err);
    if (db_query_int(c, GENERATION_SQL, 0, 0, &gen, err))
        return NULL;
    r = ref_take(k);
    if (r->generation == gen)
        return r;
    ref_drop(r);
    if (reload(k, c, gen, err))
        return NULL;
    return ref_take(k);
}

int cat_calendar_refresh(gr_ctx *ctx, db_conn *c, gr_err *err)
{
    struct cal_ref *r = cal_acquire(ctx, c, err);

    ref_drop(r);
    return r ? 0 : failed(err);
}

int catalog_ctx_open(gr_ctx *ctx, gr_err *err)
{
    struct catalog_ctx *k = calloc(1, sizeof(*k));

    db_conn *c = db_reader(ctx->db);

    if (!k)
        abort();
    if (!c) {
        free(k);
        return err_set(err, GR_EUNAVAIL, "", "the database does not answer");
    }
    k->cur = ref_load(c, err);
    if (!k->cur) {
        free(k);
        return failed(err);
    }
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->reload, NULL);
    ctx->catalog = k;
    return 0;
}

void catalog_ctx_close(gr_ctx *ctx)
{
    struct catalog_ctx *k = ctx ? ctx->catalog : NULL;

    if (!k)
        return;
    ref_drop(k->cur);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->reload);
    free(k);
    ctx->catalog = NULL;
}

int cat_due_find(gr_ctx *ctx, db_conn *c, int64_t category_id, cat_step step, char area_class,
                 int urgent, int64_t start_ms, int64_t *due_ms, cat_limit *lim,
                 cat_limit_source *src, gr_err *err)
{
    struct cal_ref *r;
    int rc = cat_limit_find(c, category_id, step, area_class, urgent, lim, src, err);

    if (rc)
        return rc;
    r = cal_acquire(ctx, c, err);
    if (!r)
        return failed(err);
    *due_ms = calendar_add(r->cal, start_ms, lim->amount, lim->unit);
    ref_drop(r);
    return 0;
}

int catalog_due(gr_ctx *ctx, db_conn *c, int64_t category_id, cat_step step, char area_class,
                int urgent, int64_t start_ms, int64_t *due_ms, gr_err *err)
{
    cat_limit lim;

    return cat_due_find(ctx, c, category_id, step, area_class, urgent, start_ms, due_ms, &lim, NULL,
                        err);
}

int64_t catalog_working_ms(gr_ctx *ctx, int64_t from_ms, int64_t to_ms)
{
    gr_err err = {0};
    struct cal_ref *r = cal_acquire(ctx, db_reader(ctx->db), &err);
    calendar *weekdays;
    int64_t ms;

    if (r) {
        ms = calendar_working_ms(r->cal, from_ms, to_ms);
        ref_drop(r);
        return ms;
    }
    /* No error channel here: without the table, count Monday to Friday. */
    log_msg(LOG_ERROR, "catalog.calendar", "calendar unavailable (%s): weekdays only", err.msg);
    weekdays = calendar_new();
    ms = calendar_working_ms(weekdays, from_ms, to_ms);
    calendar_free(weekdays);
    return ms;
}

/* ---- the table ---- */

int cat_days_list(db_conn *c, arena *a, int year, cat_day **out, size_t *n, gr_err *err)
{
    char lo[24], hi[24];
    db_stmt *st = db_prepare(c,
                             "SELECT date, kind, name, updated_at FROM calendar_days "
                             "WHERE date >= ? AND date < ? ORDER BY date",
                             err);
    size_t cap = 0;
    cat_day *v = NULL;
    int rc;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    snprintf(lo, sizeof(lo), "%04d-01-01", year ? year : 0);
    snprintf(hi, sizeof(hi), "%04d-01-01", year ? year + 1 : 10000);
    db_bind_text(st, 1, lo);
    db_bind_text(st, 2, hi);
    while ((rc = db_step(st, err)) == DB_ROW) {
        v = cat_grow(a, v, *n, &cap, sizeof(*v));
        memset(&v[*n], 0, sizeof(v[*n]));
        snprintf(v[*n].date, sizeof(v[*n].date), "%s", db_col_text(st, 0));
        v[*n].kind = catalog_day_kind_parse(db_col_text(st, 1));
        v[*n].name = db_col_textdup(st, 2, a);
        v[*n].updated_at = db_col_int(st, 3);
        (*n)++;
    }
    db_done(st);
    *out = v;
    return rc < 0 ? rc : 0;
}

/* How a date stands in the table: 0 absent, 1 the same kind and name, 2 different. */
static int day_compare(db_conn *c, const cat_day *d, int *state, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT kind, name FROM calendar_days WHERE date = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, d->date);
    rc = db_step(st, err);
    *state = 0;
    if (rc == DB_ROW)
        *state = catalog_day_kind_parse(db_col_text(st, 0)) == d->kind &&
                         strcmp(db_col_text(st, 1), d->name) == 0
                     ? 1
                     : 2;
    db_done(st);
    return rc < 0 ? rc : 0;
}

static int day_upsert(db_conn *c, const cat_day *d, int64_t by, int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO calendar_days (date, kind, name, updated_at, updated_by) "
                             "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (date) DO UPDATE SET "
                             "kind = excluded.kind, name = excluded.name, "
                             "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, d->date);
    db_bind_text(st, 2, catalog_day_kind_name(d->kind));
    db_bind_text(st, 3, d->name);
    db_bind_int(st, 4, now);
    if (by > 0)
        db_bind_int(st, 5, by);
    else
        db_bind_null(st, 5);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* A date, kind and name from outside (field names as given). */
static int day_check(const char *date, int kind, const char *name, gr_err *err)
{
    int y, m, d;

    if (calendar_date_parse(date, &y, &m, &d))
        return err_set(err, GR_EINVAL, "date", "must be a real date written YYYY-MM-DD");
    if (kind != CAL_HOLIDAY && kind != CAL_WORKDAY)
        return err_set(err, GR_EINVAL, "kind", "must be holiday or workday");
    if (!name || !*name)
        return err_set(err, GR_EINVAL, "name", "is required");
    if (jv_utf8_len(name) > NAME_MAX_CHARS)
        return err_set(err, GR_EINVAL, "name", "must be at most %d characters long",
                       NAME_MAX_CHARS);
    return 0;
}

struct put_arg {
    cat_day day;
    int64_t by;
    int created;
};

static int put_fn(db_conn *c, void *arg, gr_err *err)
{
    struct put_arg *p = arg;
    int state = 0;
    int rc = day_compare(c, &p->day, &state, err);

    p->created = state == 0;
    return rc ? rc : day_upsert(c, &p->day, p->by, time_now_ms(), err);
}

int cat_day_put(gr_ctx *ctx, const char *date, int kind, const char *name, int64_t by, int *created,
                gr_err *err)
{
    struct put_arg p;
    int rc = day_check(date, kind, name, err);

    if (rc)
        return rc;
    memset(&p, 0, sizeof(p));
    snprintf(p.day.date, sizeof(p.day.date), "%s", date);
    p.day.kind = kind;
    p.day.name = name;
    p.by = by;
    rc = db_write(ctx->db, put_fn, &p, err);
    if (!rc) {
        *created = p.created;
        /* The answer already counts the day: later due times use it. */
        rc = cat_calendar_refresh(ctx, db_reader(ctx->db), err);
    }
    return rc;
}

static int delete_fn(db_conn *c, void *arg, gr_err *err)
{
    const char *date = arg;
    db_stmt *st = db_prepare(c, "DELETE FROM calendar_days WHERE date = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, date);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && db_changes(c) == 0)
        rc =
            err_set(err, GR_ENOTFOUND, "date", "%s is not in the calendar (an ordinary day)", date);
    return rc;
}

int cat_day_delete(gr_ctx *ctx, const char *date, gr_err *err)
{
    int y, m, d, rc;
    char copy[11];

    if (calendar_date_parse(date, &y, &m, &d))
        return err_set(err, GR_EINVAL, "date", "must be a real date written YYYY-MM-DD");
    snprintf(copy, sizeof(copy), "%s", date);
    rc = db_write(ctx->db, delete_fn, copy, err);
    return rc ? rc : cat_calendar_refresh(ctx, db_reader(ctx->db), err);
}

/* ---- import ---- */

static void report_bad(FILE *report, const char *name, long line, const gr_err *e,
                       cat_import_stats *st)
{
    if (report)
        fprintf(report, "%s:%ld: %s%s%s\n", name, line, e->field, e->field[0] ? ": " : "", e->msg);
    st->bad++;
}

/* Maps the header: col[0..2] get the columns of date, kind and name. */
static int header_map(csv_reader *r, const char *name, int col[3], gr_err *err)
{
    static const char *const want[3] = {"date", "kind", "name"};
    size_t i, k;

    col[0] = col[1] = col[2] = -1;
    for (i = 0; i < csv_nfields(r); i++) {
        const char *h = csv_field(r, i, NULL);

        for (k = 0; k < 3 && strcmp(h, want[k]) != 0; k++)
            ;
        if (k == 3 || col[k] >= 0)
            return err_set(err, GR_EINVAL, "file",
                           "%s: line %ld: the header must be date,kind,name (got column '%.40s')",
                           name, csv_line(r), h);
        col[k] = (int)i;
    }
    for (k = 0; k < 3; k++)
        if (col[k] < 0)
            return err_set(err, GR_EINVAL, "file", "%s: the header lacks the column %s", name,
                           want[k]);
    return 0;
}

int cat_days_read_csv(csv_reader *r, const char *name, FILE *report, arena *a, cat_day **rows,
                      size_t *n, cat_import_stats *st, gr_err *err)
{
    cat_day *v = NULL;
    size_t cap = 0, i;
    int col[3], rc, kind;
    gr_err bad;

    *n = 0;
    rc = csv_next(r, err);
    if (rc == 0)
        rc = err_set(err, GR_EINVAL, "file", "%s: empty file, a header date,kind,name was expected",
                     name);
    if (rc < 0)
        goto out;
    rc = header_map(r, name, col, err);
    while (!rc && (rc = csv_next(r, err)) == 1) {
        const char *date = csv_field(r, (size_t)col[0], NULL);
        const char *dname = csv_field(r, (size_t)col[2], NULL);

        rc = 0;
        err_clear(&bad);
        kind = catalog_day_kind_parse(csv_field(r, (size_t)col[1], NULL));
        if (csv_nfields(r) != 3)
            err_set(&bad, GR_EINVAL, "", "has %zu fields; the header has 3", csv_nfields(r));
        else if (day_check(date, kind, dname, &bad) == 0)
            for (i = 0; i < *n; i++)
                if (strcmp(v[i].date, date) == 0)
                    err_set(&bad, GR_EINVAL, "date", "%s repeats line %ld", date, v[i].line);
        if (bad.code) {
            report_bad(report, name, csv_line(r), &bad, st);
            continue;
        }
        if (*n == IMPORT_MAX_ROWS) {
            rc = err_set(err, GR_ETOOBIG, "file", "%s: more than %d rows", name, IMPORT_MAX_ROWS);
            break;
        }
        v = cat_grow(a, v, *n, &cap, sizeof(*v));
        memset(&v[*n], 0, sizeof(v[*n]));
        snprintf(v[*n].date, sizeof(v[*n].date), "%s", date);
        v[*n].kind = kind;
        v[*n].name = arena_strdup(a, dname);
        v[*n].line = csv_line(r);
        (*n)++;
    }
    if (rc < 0 && err->field[0] == '\0')
        snprintf(err->field, sizeof(err->field), "file");
out:
    *rows = v;
    return rc < 0 ? rc : 0;
}

struct import_arg {
    const cat_day *rows;
    size_t n;
    cat_import_stats counts;
};

static int import_fn(db_conn *c, void *arg, gr_err *err)
{
    struct import_arg *im = arg;
    int64_t now = time_now_ms();
    size_t i;
    int state, rc = 0;

    memset(&im->counts, 0, sizeof(im->counts));
    for (i = 0; !rc && i < im->n; i++) {
        rc = day_compare(c, &im->rows[i], &state, err);
        if (rc || state == 1) {
            im->counts.unchanged += !rc;
            continue;
        }
        rc = day_upsert(c, &im->rows[i], 0, now, err);
        if (state == 0)
            im->counts.created++;
        else
            im->counts.updated++;
    }
    return rc;
}

int cat_days_import(gr_ctx *ctx, const cat_day *rows, size_t n, cat_import_stats *st, gr_err *err)
{
    struct import_arg im;
    int rc;

    memset(&im, 0, sizeof(im));
    im.rows = rows;
    im.n = n;
    rc = db_write(ctx->db, import_fn, &im, err);
    if (!rc) {
        st->created += im.counts.created;
        st->updated += im.counts.updated;
        st->unchanged += im.counts.unchanged;
    }
    return rc;
}
