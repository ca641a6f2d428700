/*
 * The sync: from new timeline events to the facts of their cases and the
 * daily sums (docs/eval.md, "How the numbers stay current"). It runs in the
 * writer, in batches, on a ticker of its own: intake and transitions write
 * their events and nothing else, and the sums follow within seconds.
 */
#include "eval/eval.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/ticker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eval_ctx {
    ticker *sync;
};

/* ---- the statements, spelled from the counter list once ---- */

/* The sums are kept in two tables: by day and by month (migration 0017). */
enum { T_DAY = 0, T_MONTH = 1 };
static const char *const sum_tables[2] = {"eval_daily", "eval_monthly"};
static const char *const sum_keys[2] = {"day", "month"};

static char *upsert_sql[2], *unit_sql[2], *all_sql[2], *facts_put_sql, *facts_get_sql;
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

enum { L_NAMES, L_TOTALS, L_ADD };

/* The counters as a list of columns, of sums, or of "add the excluded". */
static void counters_list(buf *b, int how)
{
    const char *n;
    int i;

    for (i = 0; i < EC_N; i++) {
        n = eval_counter_names[i];
        buf_puts(b, i ? ", " : "");
        if (how == L_NAMES)
            buf_puts(b, n);
        else if (how == L_TOTALS)
            buf_printf(b, "total(%s)", n);
        else
            buf_printf(b, "%s = %s + excluded.%s", n, n, n);
    }
}

static void sql_build(void)
{
    buf put = {0}, get = {0};
    int t, i;

    for (t = 0; t < 2; t++) {
        buf up = {0}, one = {0}, all = {0};
        buf_printf(&up, "INSERT INTO %s (kind, unit_id, %s, ", sum_tables[t], sum_keys[t]);
        counters_list(&up, L_NAMES);
        buf_puts(&up, ") VALUES (?, ?, ?");
        for (i = 0; i < EC_N; i++)
            buf_puts(&up, ", ?");
        buf_printf(&up, ") ON CONFLICT (kind, unit_id, %s) DO UPDATE SET ", sum_keys[t]);
        counters_list(&up, L_ADD);
        buf_puts(&one, "SELECT ");
        counters_list(&one, L_TOTALS);
        buf_printf(&one, " FROM %s WHERE kind = ?1 AND unit_id = ?2 AND %s BETWEEN ?3 AND ?4",
                   sum_tables[t], sum_keys[t]);
        buf_puts(&all, "SELECT kind, unit_id, ");
        counters_list(&all, L_TOTALS);
        buf_printf(&all, " FROM %s WHERE %s BETWEEN ?1 AND ?2 GROUP BY kind, unit_id",
                   sum_tables[t], sum_keys[t]);
        upsert_sql[t] = up.data;
        unit_sql[t] = one.data;
        all_sql[t] = all.data;
    }
    buf_puts(&put,
             "INSERT OR REPLACE INTO eval_facts (case_id, day, category_id, city_id, "
             "district_id, street_id, community_id, grid_id, department_id, returned_by, posts, ");
    counters_list(&put, L_NAMES);
    buf_puts(&put, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
    for (i = 0; i < EC_N; i++)
        buf_puts(&put, ", ?");
    buf_puts(&put, ")");
    buf_puts(&get, "SELECT day, category_id, city_id, district_id, street_id, community_id, "
                   "grid_id, department_id, returned_by, posts, ");
    counters_list(&get, L_NAMES);
    buf_puts(&get, " FROM eval_facts WHERE case_id = ?");
    facts_put_sql = put.data;
    facts_get_sql = get.data;
}

static void sql_ready(void)
{
    pthread_once(&sql_once, sql_build);
}

/* ---- deltas: what a batch adds to each (day, kind, unit) ---- */

typedef struct delta {
    int64_t day, unit;
    int kind;
    int64_t v[EC_N];
} delta;

typedef struct deltas {
    delta *d;
    size_t n, cap;
} deltas;

static int delta_push(deltas *ds, int64_t day, int kind, int64_t unit, const int64_t *v, int sign)
{
    delta *d;
    int j;

    if (ds->n == ds->cap) {
        size_t cap = ds->cap ? ds->cap * 2 : 256;
        delta *p = realloc(ds->d, cap * sizeof(*p));
        if (!p)
            return GR_EINTERNAL;
        ds->d = p;
        ds->cap = cap;
    }
    d = &ds->d[ds->n++];
    d->day = day;
    d->kind = kind;
    d->unit = unit;
    for (j = 0; j < EC_N; j++)
        d->v[j] = sign * v[j];
    return 0;
}

/* What f adds (sign 1) or takes away (-1) under each unit it counts in:
 * every unit of its chain (kind 0), the department handling it and those
 * that returned it (kind 1), the posts that took part (kind 2). */
static int deltas_add(deltas *ds, const eval_facts *f, int sign)
{
    int64_t v[EC_N], dept;
    int i, rc = 0;

    for (i = 0; i < 5 && !rc; i++)
        if (f->chain[i])
            rc = delta_push(ds, f->day, 0, f->chain[i], f->v, sign);
    for (i = -1; i < f->nret && !rc; i++)
        if (eval_facts_department(f, i, &dept, v))
            rc = delta_push(ds, f->day, 1, dept, v, sign);
    for (i = 0; i < f->nposts && !rc; i++) {
        eval_facts_post(f, i, v);
        rc = delta_push(ds, f->day, 2, f->posts[i].user_id, v, sign);
    }
    return rc;
}

static int delta_cmp(const void *x, const void *y)
{
    const delta *a = x, *b = y;

    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind - b->kind;
    return (a->unit > b->unit) - (a->unit < b->unit);
}

/* Adds the batch's deltas to table t, one upsert per (kind, unit, day or
 * month). */
static int deltas_upsert(db_conn *c, deltas *ds, int t, gr_err *err)
{
    db_stmt *st;
    size_t i = 0, k;
    int rc = 0, j;

    qsort(ds->d, ds->n, sizeof(*ds->d), delta_cmp);
    st = db_prepare(c, upsert_sql[t], err);
    if (!st)
        return GR_EINTERNAL;
    while (i < ds->n && !rc) {
        delta sum = ds->d[i];
        int zero = 1;
        for (k = i + 1; k < ds->n && delta_cmp(&ds->d[k], &sum) == 0; k++)
            for (j = 0; j < EC_N; j++)
                sum.v[j] += ds->d[k].v[j];
        i = k;
        for (j = 0; j < EC_N && zero; j++)
            zero = sum.v[j] == 0;
        if (zero)
            continue;
        db_bind_int(st, 1, sum.kind);
        db_bind_int(st, 2, sum.unit);
        db_bind_int(st, 3, sum.day);
        for (j = 0; j < EC_N; j++)
            db_bind_int(st, 4 + j, sum.v[j]);
        rc = db_run(st, err);
        db_reset(st);
    }
    db_done(st);
    return rc;
}

/* The batch's deltas to the daily sums, then (the days made months) to
 * the monthly ones. */
static int deltas_apply(db_conn *c, deltas *ds, gr_err *err)
{
    size_t i;
    int rc;

    if (!ds->n)
        return 0;
    rc = deltas_upsert(c, ds, T_DAY, err);

    for (i = 0; i < ds->n; i++)
        ds->d[i].day /= 100;
    return rc ? rc : deltas_upsert(c, ds, T_MONTH, err);
}

/* ---- facts rows ---- */

/* eval_facts.returned_by: "dept:returns:disputes" joined by ";". */
static void returners_parse(const char *s, eval_facts *f)
{
    long long d, r, e;
    int used;

    f->nret = 0;
    while (s && *s && f->nret < EVAL_MAX_RETURNERS &&
           sscanf(s, "%lld:%lld:%lld%n", &d, &r, &e, &used) == 3) {
        f->ret[f->nret].department_id = d;
        f->ret[f->nret].returns = r;
        f->ret[f->nret++].disputes = e;
        s += used;
        if (*s == ';')
            s++;
    }
}

/* eval_facts.posts: "user:steps" joined by ";". */
static void posts_parse(const char *s, eval_facts *f)
{
    long long u;
    unsigned steps;
    int used;

    f->nposts = 0;
    while (s && *s && f->nposts < EVAL_MAX_POSTS &&
           sscanf(s, "%lld:%u%n", &u, &steps, &used) == 2) {
        f->posts[f->nposts].user_id = u;
        f->posts[f->nposts++].steps = steps;
        s += used;
        if (*s == ';')
            s++;
    }
}

static const char *posts_text(const eval_facts *f, char *out, size_t len)
{
    size_t at = 0;
    int i;

    out[0] = '\0';
    for (i = 0; i < f->nposts && at < len; i++)
        at += (size_t)snprintf(out + at, len - at, "%s%lld:%u", i ? ";" : "",
                               (long long)f->posts[i].user_id, f->posts[i].steps);
    return f->nposts ? out : NULL;
}

static const char *returners_text(const eval_facts *f, char *out, size_t len)
{
    size_t at = 0;
    int i;

    out[0] = '\0';
    for (i = 0; i < f->nret && at < len; i++)
        at += (size_t)snprintf(out + at, len - at, "%s%lld:%lld:%lld", i ? ";" : "",
                               (long long)f->ret[i].department_id, (long long)f->ret[i].returns,
                               (long long)f->ret[i].disputes);
    return f->nret ? out : NULL;
}

/* The facts stored for a case; *found 0 when none are. */
static int facts_get(db_conn *c, int64_t id, eval_facts *f, int *found, gr_err *err)
{
    db_stmt *st = db_prepare(c, facts_get_sql, err);
    int rc, i;

    *found = 0;
    if (!st)
        return GR_EINTERNAL;
    memset(f, 0, sizeof(*f));
    f->case_id = id;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *found = 1;
        f->day = db_col_int(st, 0);
        f->category_id = db_col_int(st, 1);
        for (i = 0; i < 5; i++)
            f->chain[i] = db_col_int(st, 2 + i);
        f->department_id = db_col_int(st, 7);
        returners_parse(db_col_text(st, 8), f);
        posts_parse(db_col_text(st, 9), f);
        for (i = 0; i < EC_N; i++)
            f->v[i] = db_col_int(st, 10 + i);
        rc = 0;
    }
    db_done(st);
    return rc;
}

static int facts_put(db_conn *c, const eval_facts *f, gr_err *err)
{
    db_stmt *st = db_prepare(c, facts_put_sql, err);
    char text[EVAL_MAX_RETURNERS * 64];
    int rc, i;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, f->case_id);
    db_bind_int(st, 2, f->day);
    db_bind_int_or_null(st, 3, f->category_id);
    for (i = 0; i < 5; i++)
        db_bind_int_or_null(st, 4 + i, f->chain[i]);
    db_bind_int_or_null(st, 9, f->department_id);
    db_bind_text(st, 10, returners_text(f, text, sizeof(text)));
    db_bind_text(st, 11, posts_text(f, text, sizeof(text)));
    for (i = 0; i < EC_N; i++)
        db_bind_int(st, 12 + i, f->v[i]);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* Counts case id again: its new facts replace the stored ones, and the
 * sums take the difference (when the place or the department changed, the
 * old units lose what the new ones gain). */
static int case_recount(db_conn *c, int64_t id, deltas *ds, gr_err *err)
{
    eval_facts old, now;
    int found, rc;

    rc = facts_get(c, id, &old, &found, err);
    if (!rc)
        rc = eval_facts_compute(c, id, &now, err);
    if (!rc && found)
        rc = deltas_add(ds, &old, -1);
    if (!rc)
        rc = deltas_add(ds, &now, 1);
    if (!rc)
        rc = facts_put(c, &now, err);
    return rc;
}

static int id_cmp(const void *x, const void *y)
{
    const int64_t *a = x, *b = y;

    return (*a > *b) - (*a < *b);
}

struct sync_w {
    int limit;
    int64_t cases;
    int more;
};

/* One batch: the cases of the next limit events after the last synced one. */
static int sync_fn(db_conn *c, void *arg, gr_err *err)
{
    struct sync_w *w = arg;
    int64_t last = 0, max_id = 0, *ids = NULL;
    size_t n = 0, i;
    deltas ds = {0};
    db_stmt *st;
    int rc;

    w->more = 0;
    w->cases = 0;
    rc = db_query_int(c, "SELECT last_event_id FROM eval_sync WHERE id = 1", 0, 0, &last, err);
    st = rc ? NULL
            : db_prepare(c, "SELECT id, case_id FROM case_events WHERE id > ? ORDER BY id LIMIT ?",
                         err);
    if (!rc && !st)
        rc = GR_EINTERNAL;
    if (rc)
        goto out;
    ids = malloc((size_t)w->limit * sizeof(*ids));
    if (!ids) {
        db_done(st);
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    db_bind_int(st, 1, last);
    db_bind_int(st, 2, w->limit);
    while ((rc = db_step(st, err)) == DB_ROW) {
        max_id = db_col_int(st, 0);
        ids[n++] = db_col_int(st, 1);
    }
    db_done(st);
    if (rc < 0 || !n)
        goto out;
    w->more = n == (size_t)w->limit;
    qsort(ids, n, sizeof(*ids), id_cmp);
    for (i = 0, rc = 0; i < n && !rc; i++) {
        if (i && ids[i] == ids[i - 1])
            continue;
        rc = case_recount(c, ids[i], &ds, err);
        w->cases++;
    }
    if (!rc)
        rc = deltas_apply(c, &ds, err);
    if (!rc) {
        st = db_prepare(c, "UPDATE eval_sync SET last_event_id = ? WHERE id = 1", err);
        if (!st) {
            rc = GR_EINTERNAL;
            goto out;
        }
        db_bind_int(st, 1, max_id);
        rc = db_run(st, err);
        db_done(st);
    }
out:
    free(ids);
    free(ds.d);
    return rc;
}

int eval_sync_run(gr_ctx *ctx, int limit, int64_t *cases, gr_err *err)
{
    struct sync_w w = {limit > 0 ? limit : EVAL_SYNC_EVENTS, 0, 0};
    int64_t total = 0;
    int rc;

    sql_ready();
    do {
        rc = db_write(ctx->db, sync_fn, &w, err);
        total += w.cases;
    } while (!rc && w.more);
    if (cases)
        *cases = total;
    return rc;
}

/* ---- reads ---- */

static int last_day(int64_t month)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = (int)(month / 100), m = (int)(month % 100);

    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : d[m - 1];
}

/* A period as at most three spans: the days of a first month it does not
 * cover whole, the whole months, the days of a last month likewise. */
typedef struct span {
    int table;
    int64_t a, b;
} span;

static size_t period_spans(int64_t from, int64_t to, span out[3])
{
    int64_t m0 = from / 100, m1 = to / 100, full0 = m0, full1 = m1;
    size_t n = 0;

    if (from % 100 != 1) {
        out[n++] = (span){T_DAY, from, m0 == m1 ? to : m0 * 100 + 31};
        full0 = m0 % 100 == 12 ? (m0 / 100 + 1) * 100 + 1 : m0 + 1;
    }
    if (to % 100 != last_day(m1) && !(m0 == m1 && n)) {
        out[n++] = (span){T_DAY, m1 * 100 + 1, to};
        full1 = m1 % 100 == 1 ? (m1 / 100 - 1) * 100 + 12 : m1 - 1;
    } else if (to % 100 != last_day(m1)) {
        full1 = full0 - 1; /* one partial month: no whole one */
    }
    if (full0 <= full1)
        out[n++] = (span){T_MONTH, full0, full1};
    return n;
}

int eval_sums(db_conn *c, int kind, int64_t unit, int64_t from, int64_t to, int64_t v[EC_N],
              gr_err *err)
{
    span sp[3];
    size_t n, k;
    int rc = 0, i;

    sql_ready();
    memset(v, 0, sizeof(int64_t) * EC_N);
    n = period_spans(from, to, sp);
    for (k = 0; k < n && !rc; k++) {
        db_stmt *st = db_prepare(c, unit_sql[sp[k].table], err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_int(st, 1, kind);
        db_bind_int(st, 2, unit);
        db_bind_int(st, 3, sp[k].a);
        db_bind_int(st, 4, sp[k].b);
        rc = db_step(st, err);
        for (i = 0; rc == DB_ROW && i < EC_N; i++)
            v[i] += (int64_t)db_col_double(st, i);
        db_done(st);
        rc = rc < 0 ? rc : 0;
    }
    return rc;
}

static int unit_sums_cmp(const void *x, const void *y)
{
    const eval_unit_sums *a = x, *b = y;

    if (a->kind != b->kind)
        return a->kind - b->kind;
    return (a->unit > b->unit) - (a->unit < b->unit);
}

int eval_sums_all(db_conn *c, int64_t from, int64_t to, eval_unit_sums **out, size_t *nout,
                  gr_err *err)
{
    eval_unit_sums *v = NULL;
    size_t n = 0, cap = 0, k, i, w;
    span sp[3];
    size_t ns;
    int rc = 0, j;

    sql_ready();
    ns = period_spans(from, to, sp);
    for (k = 0; k < ns && !rc; k++) {
        db_stmt *st = db_prepare(c, all_sql[sp[k].table], err);
        if (!st) {
            rc = GR_EINTERNAL;
            break;
        }
        db_bind_int(st, 1, sp[k].a);
        db_bind_int(st, 2, sp[k].b);
        while ((rc = db_step(st, err)) == DB_ROW) {
            if (n == cap) {
                eval_unit_sums *p = realloc(v, (cap = cap ? cap * 2 : 1024) * sizeof(*p));
                if (!p) {
                    rc = err_set(err, GR_EINTERNAL, "", "out of memory");
                    break;
                }
                v = p;
            }
            v[n].kind = (int)db_col_int(st, 0);
            v[n].unit = db_col_int(st, 1);
            for (j = 0; j < EC_N; j++)
                v[n].v[j] = (int64_t)db_col_double(st, 2 + j);
            n++;
        }
        db_done(st);
        rc = rc < 0 ? rc : 0;
    }
    if (rc) {
        free(v);
        return rc;
    }
    /* The spans' rows of one unit become one. */
    if (n)
        qsort(v, n, sizeof(*v), unit_sums_cmp);
    for (i = 0, w = 0; i < n; i++) {
        if (w && unit_sums_cmp(&v[w - 1], &v[i]) == 0) {
            for (j = 0; j < EC_N; j++)
                v[w - 1].v[j] += v[i].v[j];
        } else {
            v[w++] = v[i];
        }
    }
    *out = v;
    *nout = w;
    return 0;
}

/* ---- rebuild ---- */

struct rebuild_w {
    int64_t after, last, cases;
    int clear;
};

#define REBUILD_CHUNK 5000

/* The sums always equal the sum of the stored facts: the clear empties
 * both at once, and each chunk recounts its cases as the sync does (the
 * difference to what is stored), so a server syncing meanwhile stays
 * right. */
static int rebuild_fn(db_conn *c, void *arg, gr_err *err)
{
    struct rebuild_w *w = arg;
    deltas ds = {0};
    db_stmt *st;
    int rc = 0;

    /* Every case is counted after this, so the events written up to now
     * are: the sync takes up those that come later. */
    if (w->clear)
        return db_exec(c,
                       "DELETE FROM eval_facts; DELETE FROM eval_daily; DELETE FROM eval_monthly; "
                       "UPDATE eval_sync SET last_event_id = "
                       "(SELECT coalesce(max(id), 0) FROM case_events);",
                       err);
    st = db_prepare(c, "SELECT id FROM cases WHERE id > ? ORDER BY id LIMIT ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, w->after);
    db_bind_int(st, 2, REBUILD_CHUNK);
    w->last = w->after;
    while (!rc && (rc = db_step(st, err)) == DB_ROW) {
        w->last = db_col_int(st, 0);
        rc = case_recount(c, w->last, &ds, err);
        w->cases++;
    }
    db_done(st);
    if (rc >= 0)
        rc = deltas_apply(c, &ds, err);
    free(ds.d);
    return rc;
}

int eval_rebuild(gr_ctx *ctx, int64_t *cases, gr_err *err)
{
    struct rebuild_w w = {0, 0, 0, 1};
    int rc;

    sql_ready();
    rc = db_write(ctx->db, rebuild_fn, &w, err);
    w.clear = 0;
    while (!rc) {
        rc = db_write(ctx->db, rebuild_fn, &w, err);
        if (rc || w.last == w.after)
            break;
        w.after = w.last;
    }
    if (cases)
        *cases = w.cases;
    return rc;
}

/* ---- the context and the ticker ---- */

static void sync_round(void *arg)
{
    gr_err err = {0};

    if (eval_sync_run(arg, 0, NULL, &err))
        log_msg(LOG_ERROR, "eval.sync", "the evaluation sync failed: %s", err.msg);
}

int eval_ctx_open(gr_ctx *ctx, gr_err *err)
{
    ctx->eval = calloc(1, sizeof(*ctx->eval));
    if (!ctx->eval)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    sql_ready();
    return 0;
}

int eval_sync_start(gr_ctx *ctx, gr_err *err)
{
    const char *iv = getenv("GR_EVAL_INTERVAL_MS");

    if (!ctx->eval)
        return err_set(err, GR_EINTERNAL, "", "the evaluation module is not open");
    if (ctx->eval->sync)
        return 0;
    return ticker_start(&ctx->eval->sync, "evaluation sync", iv && atoll(iv) > 0 ? atoll(iv) : 5000,
                        sync_round, ctx, err);
}

void eval_ctx_close(gr_ctx *ctx)
{
    if (!ctx->eval)
        return;
    ticker_stop(ctx->eval->sync);
    free(ctx->eval);
    ctx->eval = NULL;
}
