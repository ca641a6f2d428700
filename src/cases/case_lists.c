/*
 * Work lists: cases by filters (state, category, org subtree, department,
 * overdue, dates, full text, a box or a circle), sorted and paginated by
 * keyset, counts by state, and the feed of public changes. Each filter is a
 * condition an index can serve (migrations 0007 and 0008): the scope picks
 * the one column of the unit chain that matches the unit's kind, so
 * "street_id = ?" meets the (street_id, state) index instead of a scan over
 * five columns. See docs/cases.md, "Work lists".
 */
#include "cases/case_model.h"

#include "base/buf.h"
#include "base/csv.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { BINDS_MAX = 64 };
#define RADIUS_MAX_M  50000.0
#define M_PER_DEG_LAT 111320.0

/* The statement being built: its text and, in the same order, its values. */
typedef struct list_q {
    buf sql;
    int n;
    struct {
        char type; /* 'i', 'd', 't' */
        int64_t i;
        double d;
        const char *t;
    } v[BINDS_MAX];
} list_q;

static void q_int(list_q *q, const char *cond, int64_t v)
{
    buf_puts(&q->sql, cond);
    q->v[q->n].type = 'i';
    q->v[q->n++].i = v;
}

static void q_double(list_q *q, double v)
{
    q->v[q->n].type = 'd';
    q->v[q->n++].d = v;
}

static void q_text(list_q *q, const char *v)
{
    q->v[q->n].type = 't';
    q->v[q->n++].t = v;
}

static void q_bind(db_stmt *st, const list_q *q)
{
    int i;

    for (i = 0; i < q->n; i++) {
        if (q->v[i].type == 'i')
            db_bind_int(st, i + 1, q->v[i].i);
        else if (q->v[i].type == 'd')
            db_bind_double(st, i + 1, q->v[i].d);
        else
            db_bind_text(st, i + 1, q->v[i].t);
    }
}

/* q as one FTS5 phrase: quotes doubled, so no query syntax gets through. */
static const char *fts_phrase(arena *a, const char *q)
{
    size_t n = strlen(q), i, j = 0;
    char *s = arena_alloc(a, 2 * n + 3);

    s[j++] = '"';
    for (i = 0; i < n; i++) {
        if (q[i] == '"')
            s[j++] = '"';
        s[j++] = q[i];
    }
    s[j++] = '"';
    s[j] = '\0';
    return s;
}

static int filter_check(const case_filter *f, gr_err *err)
{
    if (f->q && jv_utf8_len(f->q) < 3)
        return err_set(err, GR_EINVAL, "q", "must be at least 3 characters long");
    if (f->sort && strcmp(f->sort, "created") != 0 && strcmp(f->sort, "due") != 0 &&
        strcmp(f->sort, "updated") != 0)
        return err_set(err, GR_EINVAL, "sort", "must be created, due or updated");
    if (f->created_from && f->created_to && f->created_from >= f->created_to)
        return err_set(err, GR_EINVAL, "to", "must be later than from");
    if (f->has_box &&
        (!(f->min_lat <= f->max_lat) || !(f->min_lon <= f->max_lon) || f->min_lat < -90 ||
         f->max_lat > 90 || f->min_lon < -180 || f->max_lon > 180))
        return err_set(err, GR_EINVAL, "bbox", "must be minLon,minLat,maxLon,maxLat in range");
    if (f->has_radius && (!(f->radius_m > 0) || f->radius_m > RADIUS_MAX_M))
        return err_set(err, GR_EINVAL, "radius", "must be more than 0 and at most 50000 metres");
    if (f->has_radius && (!(fabs(f->near_lat) <= 90) || !(fabs(f->near_lon) <= 180)))
        return err_set(err, GR_EINVAL, "near", "must be a WGS-84 lat,lon");
    return 0;
}

static uint32_t state_mask(const case_filter *f)
{
    uint32_t m = f->states;

    if (f->state >= 0 && f->state < CS_NSTATES)
        m = m ? m & (1u << f->state) : 1u << f->state;
    return m;
}

static int sort_is(const case_filter *f, const char *name)
{
    return f->sort && strcmp(f->sort, name) == 0;
}

static int sort_created(const case_filter *f)
{
    return !f->sort || sort_is(f, "created");
}

/* Full text with the default order: the FTS index is walked in id order and
 * drives the query (its other filters checked on each match), so a page
 * costs a page's worth of matches, not all of them. */
static int fts_drives(const case_filter *f)
{
    return f->q && sort_created(f);
}

/* A subtree of a street or wider with nothing else to narrow it, newest
 * first: its cases are a large share of all (a street: about 1 in 40), so
 * walking ids down finds a page at once, where the (unit, state) index would
 * read and sort the subtree's whole history. Narrower units and any other
 * filter keep the indexes. */
static int walks_ids(const case_filter *f, const char *col)
{
    return sort_created(f) && strcmp(col, "community_id") != 0 && strcmp(col, "grid_id") != 0 &&
           f->state < 0 && !f->states && !f->reporter && !f->department && !f->territorial &&
           !f->category_id && !f->overdue && !f->q && !f->has_box && !f->has_radius;
}

/* Rows of cells past which a box is not narrowed by the index: 2,000 rows
 * are 5 degrees of latitude, far wider than a city, and a box that wide
 * holds most cases anyway. */
enum { BOX_ROWS_MAX = 2000 };

/* The cases whose point lies in the box. Through the cases_near index
 * (migration 0010, 0022): for each row of cells the box covers, the range
 * of its columns; the point is judged against the box from the index, and
 * no row is read. */
static void where_box(arena *a, list_q *q, double min_lat, double max_lat, double min_lon,
                      double max_lon)
{
    case_cell_span sp;
    buf rows = {0};
    int64_t r;

    case_cell_span_of(min_lat, max_lat, min_lon, max_lon, &sp);
    if (sp.r1 - sp.r0 + 1 > BOX_ROWS_MAX) {
        buf_puts(&q->sql, " AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ?");
    } else {
        buf_puts(&rows, "[");
        for (r = sp.r0; r <= sp.r1; r++)
            buf_printf(&rows, "%s%" PRId64, r > sp.r0 ? "," : "", r * CASE_CELL_ROW);
        buf_puts(&rows, "]");
        /* CROSS JOIN: the rows outside, a range seek for each. */
        buf_puts(&q->sql, " AND id IN (SELECT n.id FROM json_each(?) AS r CROSS JOIN cases AS n "
                          "INDEXED BY cases_near WHERE n.near_cell BETWEEN r.value + ? AND "
                          "r.value + ? AND n.lat BETWEEN ? AND ? AND n.lon BETWEEN ? AND ?)");
        q_text(q, arena_strdup(a, rows.data));
        q_int(q, "", sp.c0);
        q_int(q, "", sp.c1);
        buf_free(&rows);
    }
    q_double(q, min_lat);
    q_double(q, max_lat);
    q_double(q, min_lon);
    q_double(q, max_lon);
}

/* The conditions of f but state and cursor, appended to q. paged: for a
 * page of the list (the hand-planned orders apply), not for counts. */
static int where_common(db_conn *c, arena *a, const case_filter *f, int paged, list_q *q,
                        gr_err *err)
{
    const char *col = NULL;
    int rc;

    if (f->scope) {
        rc = org_unit_column(c, f->scope, &col, err);
        if (rc)
            return rc;
        /* A unary plus keeps the planner off the column's index. */
        if (col)
            q_int(q, arena_printf(a, " AND %s%s = ?", paged && walks_ids(f, col) ? "+" : "", col),
                  f->scope);
        else
            buf_puts(&q->sql, " AND 0");
    }
    if (f->reporter)
        q_int(q, " AND id IN (SELECT case_id FROM case_reporters WHERE user_id = ?)", f->reporter);
    if (f->department)
        q_int(q, " AND department_id = ?", f->department);
    if (f->territorial)
        buf_puts(&q->sql, " AND department_id IS NULL");
    if (f->category_id)
        q_int(q, " AND category_id = ?", f->category_id);
    if (f->created_from)
        q_int(q, " AND created_at >= ?", f->created_from);
    if (f->created_to)
        q_int(q, " AND created_at < ?", f->created_to);
    /* A running step has a due time unless its clock stops (backlog). */
    if (f->overdue)
        q_int(q, " AND step_due_at < ? AND step IS NOT NULL", f->now ? f->now : time_now_ms());
    if (f->q && !(paged && fts_drives(f))) {
        buf_puts(&q->sql, " AND id IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)");
        q_text(q, fts_phrase(a, f->q));
    }
    if (f->has_box)
        where_box(a, q, f->min_lat, f->max_lat, f->min_lon, f->max_lon);
    if (f->has_radius) {
        /* The circle's box narrows; an equirectangular distance (error far
         * below 0.1% within 50 km) decides, in SQL, so that LIMIT counts
         * only the rows that belong. */
        double dlat = f->radius_m / M_PER_DEG_LAT;
        double k = fmax(cos(f->near_lat * M_PI / 180.0), 0.01);
        where_box(a, q, f->near_lat - dlat, f->near_lat + dlat, f->near_lon - dlat / k,
                  f->near_lon + dlat / k);
        buf_puts(&q->sql, " AND (lat - ?) * (lat - ?) + (lon - ?) * (lon - ?) * ? <= ?");
        q_double(q, f->near_lat);
        q_double(q, f->near_lat);
        q_double(q, f->near_lon);
        q_double(q, f->near_lon);
        q_double(q, k * k);
        q_double(q, dlat * dlat);
    }
    if (f->public_only)
        buf_puts(&q->sql, " AND is_public = 1");
    return 0;
}

static void where_states(const case_filter *f, list_q *q)
{
    uint32_t m = state_mask(f);
    const char *sep = "";
    int s;

    if (!m && !f->states && f->state < 0)
        return;
    if (!m) {
        buf_puts(&q->sql, " AND 0");
        return;
    }
    buf_puts(&q->sql, " AND state IN (");
    for (s = 0; s < CS_NSTATES; s++)
        if (m & (1u << s)) {
            buf_printf(&q->sql, "%s?", sep);
            q_text(q, case_state_name((case_state)s));
            sep = ", ";
        }
    buf_puts(&q->sql, ")");
}

/* The keyset condition and the order. */
static void where_page(const case_filter *f, list_q *q)
{
    /* Overdue steps all have a due time: the plain order is the one the
     * due-time index gives, read from the most overdue on. */
    if (sort_is(f, "due") && f->overdue) {
        if (f->after_id) {
            q_int(q, " AND (step_due_at > ?", f->after_key);
            q_int(q, " OR (step_due_at = ?", f->after_key);
            q_int(q, " AND id > ?))", f->after_id);
        }
        buf_puts(&q->sql, " ORDER BY step_due_at, id");
    } else if (sort_is(f, "due")) {
        /* Ascending due time, cases without one last; then id. */
        if (f->after_id && f->after_key_null)
            q_int(q, " AND step_due_at IS NULL AND id > ?", f->after_id);
        else if (f->after_id) {
            q_int(q, " AND (step_due_at > ? OR step_due_at IS NULL", f->after_key);
            q_int(q, " OR (step_due_at = ?", f->after_key);
            q_int(q, " AND id > ?))", f->after_id);
        }
        buf_puts(&q->sql, " ORDER BY step_due_at IS NULL, step_due_at, id");
    } else if (sort_is(f, "updated")) {
        if (f->after_id) {
            q_int(q, " AND (updated_at < ?", f->after_key);
            q_int(q, " OR (updated_at = ?", f->after_key);
            q_int(q, " AND id < ?))", f->after_id);
        }
        buf_puts(&q->sql, " ORDER BY updated_at DESC, id DESC");
    } else {
        /* Walking the full-text index, its rowid is the order (and the
         * bound is pushed into it). */
        const char *col = fts_drives(f) ? "fid" : "id";
        buf_printf(&q->sql, " AND %s %c ?", col, f->desc ? '<' : '>');
        q_int(q, "", f->desc && !f->after ? INT64_MAX : f->after);
        buf_printf(&q->sql, " ORDER BY %s%s", col, f->desc ? " DESC" : "");
    }
    q_int(q, " LIMIT ?", f->limit + 1);
}

int64_t case_sort_key(const case_filter *f, const case_rec *r)
{
    if (sort_is(f, "due"))
        return r->step ? r->step_due_at : 0;
    if (sort_is(f, "updated"))
        return r->updated_at;
    return r->id;
}

/* Overdue cases are few next to all cases of a subtree, and the planner,
 * without statistics, prefers walking ids in order: the due-time index is
 * named so that the overdue queue never reads the subtree's whole history. */
static const char *from_cases(const case_filter *f)
{
    return f->overdue ? "cases INDEXED BY cases_due" : "cases";
}

static int list_build(db_conn *c, arena *a, const case_filter *f, list_q *q, gr_err *err)
{
    int rc = filter_check(f, err);

    if (rc)
        return rc;
    if (fts_drives(f)) {
        buf_puts(&q->sql, "SELECT " CASE_COLS " FROM (SELECT rowid AS fid FROM cases_fts WHERE "
                          "cases_fts MATCH ?) JOIN cases ON id = fid WHERE 1");
        q_text(q, fts_phrase(a, f->q));
    } else {
        buf_printf(&q->sql, "SELECT " CASE_COLS " FROM %s WHERE 1", from_cases(f));
    }
    rc = where_common(c, a, f, 1, q, err);
    if (rc)
        return rc;
    where_states(f, q);
    where_page(f, q);
    return 0;
}

int case_list_sql(db_conn *c, arena *a, const case_filter *f, const char **sql, gr_err *err)
{
    list_q q = {0};
    int rc = list_build(c, a, f, &q, err);

    *sql = rc ? NULL : arena_strdup(a, q.sql.data);
    buf_free(&q.sql);
    return rc;
}

int case_list(db_conn *c, arena *a, const case_filter *f, case_rec **out, size_t *n, int *more,
              gr_err *err)
{
    list_q q = {0};
    db_stmt *st = NULL;
    int rc;

    *n = 0;
    *more = 0;
    rc = list_build(c, a, f, &q, err);
    if (rc)
        goto out;
    st = db_prepare(c, q.sql.data, err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    q_bind(st, &q);
    *out = arena_alloc(a, (size_t)(f->limit + 1) * sizeof(**out));
    while ((rc = db_step(st, err)) == DB_ROW) {
        if (*n == (size_t)f->limit) {
            *more = 1;
            break;
        }
        case_row_read(st, a, &(*out)[(*n)++]);
    }
    rc = rc < 0 ? rc : 0;
out:
    db_done(st);
    buf_free(&q.sql);
    return rc;
}

int case_count_by_state(db_conn *c, const case_filter *f, int64_t counts[CS_NSTATES], gr_err *err)
{
    arena *a = arena_new();
    list_q q = {0};
    db_stmt *st = NULL;
    int rc, s;

    memset(counts, 0, CS_NSTATES * sizeof(counts[0]));
    rc = filter_check(f, err);
    if (rc)
        goto out;
    buf_printf(&q.sql, "SELECT state, count(*) FROM %s WHERE 1", from_cases(f));
    rc = where_common(c, a, f, 0, &q, err);
    if (rc)
        goto out;
    buf_puts(&q.sql, " GROUP BY state");
    st = db_prepare(c, q.sql.data, err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    q_bind(st, &q);
    while ((rc = db_step(st, err)) == DB_ROW)
        if ((s = case_state_parse(db_col_text(st, 0))) >= 0)
            counts[s] = db_col_int(st, 1);
    rc = rc < 0 ? rc : 0;
out:
    db_done(st);
    buf_free(&q.sql);
    arena_free(a);
    return rc;
}

int case_updates_list(db_conn *c, arena *a, int64_t from, int64_t to, int64_t after, int64_t limit,
                      case_update **out, size_t *n, int *more, gr_err *err)
{
    /* What the public page shows of a timeline: the report and the changes of
     * state; never notes (free text that may name people), actors or data. */
    db_stmt *st = db_prepare(
        c,
        "SELECT e.id, e.case_id, c.public_code, e.at, e.action, e.to_state FROM case_events e "
        "JOIN cases c ON c.id = e.case_id WHERE e.id > ? AND e.at >= ? AND e.at < ? "
        "AND c.is_public = 1 AND (e.from_state IS NULL OR e.from_state != e.to_state) "
        "ORDER BY e.id LIMIT ?",
        err);
    int rc;

    *n = 0;
    *more = 0;
    if (!st)
        return GR_EINTERNAL;
    if (limit < 1)
        limit = 1;
    db_bind_int(st, 1, after);
    db_bind_int(st, 2, from);
    db_bind_int(st, 3, to ? to : INT64_MAX);
    db_bind_int(st, 4, limit + 1);
    *out = arena_alloc(a, (size_t)(limit + 1) * sizeof(**out));
    while ((rc = db_step(st, err)) == DB_ROW) {
        case_update *u;
        if (*n == (size_t)limit) {
            *more = 1;
            break;
        }
        u = &(*out)[(*n)++];
        u->event_id = db_col_int(st, 0);
        u->case_id = db_col_int(st, 1);
        u->public_code = db_col_textdup(st, 2, a);
        u->at = db_col_int(st, 3);
        u->action = db_col_textdup(st, 4, a);
        u->to_state = db_col_textdup(st, 5, a);
        u->note = NULL;
        u->is_public = 1;
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

/* ---- CSV export ---- */

/* Names are at most 100 characters (org_units, departments, categories). */
enum { NAME_SLOTS = 256, NAME_BYTES = 404, EXPORT_PAGE = 500 };

/* Names of units, departments or categories seen recently, direct-mapped by
 * id in fixed slots: an export of a district names the same few hundred units
 * again and again, and memory stays the same however many rows it has. */
typedef struct name_cache {
    int64_t id[NAME_SLOTS];
    char name[NAME_SLOTS][NAME_BYTES];
} name_cache;

static const char *cache_get(const name_cache *nc, int64_t id)
{
    unsigned h = (unsigned)((uint64_t)id % NAME_SLOTS);

    return nc->id[h] == id ? nc->name[h] : NULL;
}

static const char *cache_put(name_cache *nc, int64_t id, const char *name)
{
    unsigned h = (unsigned)((uint64_t)id % NAME_SLOTS);

    nc->id[h] = id;
    snprintf(nc->name[h], NAME_BYTES, "%s", name ? name : "");
    return nc->name[h];
}

static const char *name_of(db_conn *c, name_cache *nc, const char *sql, int64_t id, gr_err *err)
{
    const char *name = id ? cache_get(nc, id) : "";
    db_stmt *st;

    if (name)
        return name;
    st = db_prepare(c, sql, err);
    if (!st)
        return "";
    db_bind_int(st, 1, id);
    name = cache_put(nc, id, db_step(st, err) == DB_ROW ? db_col_text(st, 0) : NULL);
    db_done(st);
    return name;
}

/* Local (Asia/Shanghai, UTC+8 all year) time of ms, or "" for 0. */
static void local_time(int64_t ms, char out[24])
{
    time_t t = (time_t)((ms + 8 * 3600 * 1000LL) / 1000);
    struct tm tm;

    out[0] = '\0';
    if (!ms)
        return;
    gmtime_r(&t, &tm);
    strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
}

/* One RFC 4180 field (free text defused: csv.h), then its separator. */
static void export_cell(FILE *out, const char *s, int text, int last)
{
    csv_field_to_file(out, s, text);
    fputs(last ? "\r\n" : ",", out);
}

typedef struct export_names {
    arena *scratch;
    name_cache units, depts, cat_codes, cat_names;
} export_names;

/* The category's code and name, through the catalog's interface. */
static void category_names(db_conn *c, export_names *en, int64_t id, const char **code,
                           const char **name)
{
    cat_info ci;
    gr_err e = {0};

    *code = cache_get(&en->cat_codes, id);
    *name = cache_get(&en->cat_names, id);
    if (*code && *name)
        return;
    arena_reset(en->scratch);
    if (catalog_get(c, en->scratch, id, &ci, &e))
        ci.code = ci.name = "";
    *code = cache_put(&en->cat_codes, id, ci.code);
    *name = cache_put(&en->cat_names, id, ci.name);
}

static void csv_row(db_conn *c, export_names *en, const case_rec *r, int64_t now, FILE *out,
                    gr_err *err)
{
    static const char unit_sql[] = "SELECT name FROM org_units WHERE id = ?";
    char created[24], due[24], closed[24];
    const char *cat_code = "", *cat_name = "";

    if (r->category_id)
        category_names(c, en, r->category_id, &cat_code, &cat_name);
    local_time(r->created_at, created);
    local_time(r->step ? r->step_due_at : 0, due);
    local_time(r->closed_at, closed);
    export_cell(out, r->public_code, 0, 0);
    export_cell(out, created, 0, 0);
    export_cell(out, r->channel, 0, 0);
    export_cell(out, cat_code, 0, 0);
    export_cell(out, cat_name, 1, 0);
    export_cell(out, r->title, 1, 0);
    export_cell(out, case_state_name(r->state), 0, 0);
    export_cell(out, name_of(c, &en->units, unit_sql, r->street_id, err), 1, 0);
    export_cell(out, name_of(c, &en->units, unit_sql, r->community_id, err), 1, 0);
    export_cell(out, name_of(c, &en->units, unit_sql, r->grid_id, err), 1, 0);
    export_cell(
        out,
        name_of(c, &en->depts, "SELECT name FROM departments WHERE id = ?", r->department_id, err),
        1, 0);
    export_cell(out, r->step, 0, 0);
    export_cell(out, due, 0, 0);
    export_cell(out, r->step && r->step_due_at && r->step_due_at < now ? "1" : "0", 0, 0);
    export_cell(out, closed, 0, 0);
    export_cell(out, r->rating, 0, 1);
}

int case_export_csv(db_conn *c, const case_filter *filter, int64_t max_rows, FILE *out,
                    int64_t *rows, int *truncated, gr_err *err)
{
    static const char *const header[] = {
        "public_code", "created_at", "channel",   "category_code", "category_name", "title",
        "state",       "street",     "community", "grid",          "department",    "step",
        "step_due_at", "overdue",    "closed_at", "rating"};
    case_filter f = *filter;
    export_names *en = calloc(1, sizeof(*en)); /* about 400 KB: not on a worker's stack */
    arena *page = arena_new();
    int64_t now = f.now ? f.now : time_now_ms();
    case_rec *v = NULL;
    size_t n = 0, i;
    int more = 1, rc = 0;

    *rows = 0;
    *truncated = 0;
    if (!en) {
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    en->scratch = arena_new();
    fputs("\xEF\xBB\xBF", out); /* the BOM: Excel then reads UTF-8 */
    for (i = 0; i < sizeof(header) / sizeof(header[0]); i++)
        export_cell(out, header[i], 0, i + 1 == sizeof(header) / sizeof(header[0]));
    f.limit = EXPORT_PAGE;
    while (more && !rc) {
        arena_reset(page);
        rc = case_list(c, page, &f, &v, &n, &more, err);
        for (i = 0; !rc && i < n; i++) {
            if (*rows == max_rows) {
                *truncated = 1;
                goto out;
            }
            csv_row(c, en, &v[i], now, out, err);
            (*rows)++;
        }
        if (!rc && n) {
            f.after = f.after_id = v[n - 1].id;
            f.after_key = case_sort_key(&f, &v[n - 1]);
            f.after_key_null = f.after_key == 0 && f.sort && strcmp(f.sort, "due") == 0;
        }
    }
out:
    arena_free(page);
    if (en)
        arena_free(en->scratch);
    free(en);
    if (!rc && ferror(out))
        rc = err_set(err, GR_EINTERNAL, "", "cannot write the export");
    return rc;
}
