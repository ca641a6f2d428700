/*
 * Categories in SQL: the code rules of the two-level tree, reading and
 * searching it, the limit rows and their lookup, and the writes, each of
 * which first copies the definition it replaces into category_history.
 *
 * Every write runs inside the group-commit writer (db_write) and checks the
 * stored version and the rules it depends on again inside the transaction.
 */
#include "base/names.h"
#include "catalog/catalog_model.h"

#include "base/timeutil.h"
#include "org/org.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names and codes ---- */

static const char *const step_names[CAT_NSTEPS] = {"accept", "file", "dispatch", "handle",
                                                   "verify"};

const char *catalog_step_name(cat_step step)
{
    return (unsigned)step < CAT_NSTEPS ? step_names[step] : "unknown";
}

int catalog_step_parse(const char *s)
{
    return names_find(step_names, CAT_NSTEPS, s);
}

const char *catalog_urgency_name(int urgency)
{
    return urgency == CAT_URGENCY_URGENT   ? "urgent"
           : urgency == CAT_URGENCY_NORMAL ? "normal"
                                           : "*";
}

int catalog_urgency_parse(const char *s)
{
    if (!s)
        return -2;
    if (strcmp(s, "normal") == 0)
        return CAT_URGENCY_NORMAL;
    if (strcmp(s, "urgent") == 0)
        return CAT_URGENCY_URGENT;
    if (strcmp(s, "*") == 0)
        return CAT_URGENCY_ANY;
    return -2;
}

char catalog_area_parse(const char *s)
{
    if (!s || strlen(s) != 1 || !strchr("ABC*", s[0]))
        return 0;
    return s[0];
}

static int digits(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int catalog_code_check(const char *code, const char **kind, int *is_leaf, char parent_code[4],
                       gr_err *err)
{
    size_t len = code ? strlen(code) : 0;

    parent_code[0] = '\0';
    if (!code || (len != 3 && len != 5) || !strchr("CED", code[0]) || !digits(code + 1, len - 1))
        goto bad;
    if (code[0] == 'D') {
        if (len != 3)
            goto bad;
        *kind = "demand";
        *is_leaf = 1;
        return 0;
    }
    *kind = code[0] == 'C' ? "component" : "event";
    *is_leaf = len == 5;
    if (memcmp(code + 1, "00", 2) == 0 || (len == 5 && memcmp(code + 3, "00", 2) == 0))
        return err_set(err, GR_EINVAL, "code", "class numbers start at 01, not 00");
    if (len == 5)
        snprintf(parent_code, 4, "%.3s", code);
    return 0;
bad:
    return err_set(err, GR_EINVAL, "code",
                   "must be C or E with a 2-digit major class (C01), that plus a 2-digit minor "
                   "class (C0101), or D with 2 digits for a 12345 demand type (D01)");
}

static int standard_ref_check(const char *s, gr_err *err)
{
    static const char *const refs[] = {"GB/T 30428.2-2013", "CJ/T 214-2007", "local", "12345"};

    if (names_find(refs, sizeof(refs) / sizeof(refs[0]), s) >= 0)
        return 0;
    return err_set(err, GR_EINVAL, "standard_ref",
                   "must be one of GB/T 30428.2-2013, CJ/T 214-2007, local, 12345");
}

/* ---- reading ---- */

#define CAT_COLS                                                                                   \
    "c.id, c.code, c.name, c.kind, c.parent_id, c.is_leaf, c.default_department_id, "              \
    "c.filing_condition, c.closing_condition, c.active, c.version, c.standard_ref, "               \
    "c.created_at, c.updated_at, c.updated_by"

static void cat_read(db_stmt *st, arena *a, cat_record *r)
{
    memset(r, 0, sizeof(*r));
    r->info.id = db_col_int(st, 0);
    r->info.code = db_col_textdup(st, 1, a);
    r->info.name = db_col_textdup(st, 2, a);
    r->info.kind = db_col_textdup(st, 3, a);
    r->info.parent_id = db_col_int(st, 4); /* NULL reads as 0 */
    r->info.is_leaf = (int)db_col_int(st, 5);
    r->info.default_department_id = db_col_int(st, 6);
    r->info.filing_condition = db_col_textdup(st, 7, a);
    r->info.closing_condition = db_col_textdup(st, 8, a);
    r->info.active = (int)db_col_int(st, 9);
    r->info.version = db_col_int(st, 10);
    r->standard_ref = db_col_textdup(st, 11, a);
    r->created_at = db_col_int(st, 12);
    r->updated_at = db_col_int(st, 13);
    r->updated_by = db_col_int(st, 14);
}

/* One category by id or by code (exactly one of them). */
static int cat_fetch(db_conn *c, arena *a, int64_t id, const char *code, const char *field,
                     cat_record *out, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             code ? "SELECT " CAT_COLS " FROM categories c WHERE c.code = ?"
                                  : "SELECT " CAT_COLS " FROM categories c WHERE c.id = ?",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    if (code)
        db_bind_text(st, 1, code);
    else
        db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        cat_read(st, a, out);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = code ? err_set(err, GR_ENOTFOUND, field, "no category with code %.8s", code)
                  : err_set(err, GR_ENOTFOUND, field, "no category with id %" PRId64, id);
    }
    db_done(st);
    return rc;
}

int cat_record_get(db_conn *c, arena *a, int64_t id, cat_record *out, gr_err *err)
{
    return cat_fetch(c, a, id, NULL, "id", out, err);
}

int catalog_get(db_conn *c, arena *a, int64_t id, cat_info *out, gr_err *err)
{
    cat_record r;
    int rc = cat_fetch(c, a, id, NULL, "category_id", &r, err);

    if (!rc)
        *out = r.info;
    return rc;
}

int catalog_find_code(db_conn *c, arena *a, const char *code, cat_info *out, gr_err *err)
{
    cat_record r;
    int rc = cat_fetch(c, a, 0, code ? code : "", "code", &r, err);

    if (!rc)
        *out = r.info;
    return rc;
}

int catalog_check_filable(db_conn *c, arena *a, int64_t id, const char *field, cat_info *out,
                          gr_err *err)
{
    int rc = catalog_get(c, a, id, out, err);

    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EINVAL, field, "no category with id %" PRId64, id);
    if (rc)
        return rc;
    if (!out->is_leaf)
        return err_set(err, GR_EINVAL, field,
                       "%s %s is a major class: choose one of its minor classes", out->code,
                       out->name);
    if (!out->active)
        return err_set(err, GR_EINVAL, field, "%s %s is retired", out->code, out->name);
    return 0;
}

void *cat_grow(arena *a, void *v, size_t n, size_t *cap, size_t size)
{
    void *w;

    if (n < *cap)
        return v;
    *cap = *cap ? *cap * 2 : 64;
    w = arena_alloc(a, *cap * size);
    if (n)
        memcpy(w, v, n * size);
    return w;
}

int cat_list(db_conn *c, arena *a, const cat_filter *f, cat_record **out, size_t *n, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT " CAT_COLS
                             " FROM categories c LEFT JOIN categories p ON p.id = c.parent_id "
                             "WHERE (?1 IS NULL OR c.kind = ?1) AND (?2 < 0 OR c.active = ?2) "
                             "AND (?3 IS NULL OR instr(c.name, ?3) > 0 OR instr(p.name, ?3) > 0 "
                             "OR EXISTS (SELECT 1 FROM categories k WHERE k.parent_id = c.id "
                             "AND instr(k.name, ?3) > 0 AND (?2 < 0 OR k.active = ?2))) "
                             "ORDER BY c.code",
                             err);
    cat_record *v = NULL;
    size_t cap = 0;
    int rc;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, f->kind);
    db_bind_int(st, 2, f->active);
    db_bind_text(st, 3, f->q && *f->q ? f->q : NULL);
    while ((rc = db_step(st, err)) == DB_ROW) {
        v = cat_grow(a, v, *n, &cap, sizeof(*v));
        cat_read(st, a, &v[(*n)++]);
    }
    db_done(st);
    *out = v;
    return rc < 0 ? rc : 0;
}

/* ---- limits ---- */

int64_t cat_limit_max(cal_unit unit)
{
    switch (unit) {
    case CAL_NATURAL_MINUTES:
        return 366 * 24 * 60;
    case CAL_WORKING_MINUTES:
        return 250 * 450;
    case CAL_WORKING_DAYS:
        return 366;
    }
    return 0;
}

int cat_limits_get(db_conn *c, arena *a, int64_t id, cat_limit_row **out, size_t *n, gr_err *err)
{
    /* Steps in their order in the loop, then the most specific row first. */
    db_stmt *st = db_prepare(c,
                             "SELECT step, area_class, urgency, amount, unit FROM category_limits "
                             "WHERE category_id = ? ORDER BY CASE step WHEN 'accept' THEN 0 "
                             "WHEN 'file' THEN 1 WHEN 'dispatch' THEN 2 WHEN 'handle' THEN 3 "
                             "ELSE 4 END, area_class = '*', area_class, urgency = '*', urgency",
                             err);
    cat_limit_row *v = NULL;
    size_t cap = 0;
    int rc;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    while ((rc = db_step(st, err)) == DB_ROW) {
        cat_limit_row *r;

        v = cat_grow(a, v, *n, &cap, sizeof(*v));
        r = &v[(*n)++];
        r->step = (cat_step)catalog_step_parse(db_col_text(st, 0));
        r->area_class = db_col_text(st, 1)[0];
        r->urgency = catalog_urgency_parse(db_col_text(st, 2));
        r->amount = db_col_int(st, 3);
        r->unit = (cal_unit)calendar_unit_parse(db_col_text(st, 4));
    }
    db_done(st);
    *out = v;
    return rc < 0 ? rc : 0;
}

int cat_limits_check(const cat_limit_row *rows, size_t n, gr_err *err)
{
    char field[40];
    size_t i, j;

    for (i = 0; i < n; i++) {
        const cat_limit_row *r = &rows[i];
        int64_t max = cat_limit_max(r->unit);

        if (r->amount < 1 || r->amount > max) {
            snprintf(field, sizeof(field), "limits[%zu].amount", i);
            return err_set(err, GR_EINVAL, field, "must be between 1 and %" PRId64 " %s", max,
                           calendar_unit_name(r->unit));
        }
        for (j = 0; j < i; j++) {
            if (rows[j].step == r->step && rows[j].area_class == r->area_class &&
                rows[j].urgency == r->urgency) {
                snprintf(field, sizeof(field), "limits[%zu]", i);
                return err_set(err, GR_EINVAL, field,
                               "repeats limits[%zu]: one row per step, area class and urgency", j);
            }
        }
    }
    return 0;
}

/* How a limit row fits a case: 0 its area and urgency, 1 its area with any
 * urgency, 2 any area with its urgency, 3 the general row; -1 another area
 * or urgency. */
static int limit_fit(const char *row_area, const char *row_urgency, char area_class,
                     const char *urgency)
{
    int any_area = strcmp(row_area, "*") == 0, any_urgency = strcmp(row_urgency, "*") == 0;

    if ((!any_area && row_area[0] != area_class) ||
        (!any_urgency && strcmp(row_urgency, urgency) != 0))
        return -1;
    return any_area * 2 + any_urgency;
}

int cat_limit_find(db_conn *c, int64_t category_id, cat_step step, char area_class, int urgent,
                   cat_limit *out, cat_limit_source *src, gr_err *err)
{
    const char *urgency = urgent ? "urgent" : "normal";
    int64_t parent = 0, ids[2];
    int rc, i, best = 4;

    if ((unsigned)step >= CAT_NSTEPS)
        return err_set(err, GR_EINVAL, "step",
                       "must be one of accept, file, dispatch, handle, "
                       "verify");
    if (!area_class || !strchr("ABC*", area_class))
        return err_set(err, GR_EINVAL, "area_class", "must be A, B or C");
    /* -1: no such category; 0: a major class, without a parent. */
    rc = db_query_int(c, "SELECT coalesce(parent_id, 0) FROM categories WHERE id = ?", category_id,
                      -1, &parent, err);
    if (rc)
        return rc;
    if (parent < 0)
        return err_set(err, GR_ENOTFOUND, "category_id", "no category with id %" PRId64,
                       category_id);
    /* The category's rows before its major's; within each, the best fit.
     * One seek each, the choice in C: IN lists and an ORDER BY made the
     * statement build three ephemeral tables and a sorter for a handful of
     * rows, the costliest read of a case's intake. */
    ids[0] = category_id;
    ids[1] = parent;
    for (i = 0; i < 2 && ids[i] && best == 4 && !rc; i++) {
        db_stmt *st = db_prepare(c,
                                 "SELECT area_class, urgency, amount, unit FROM category_limits "
                                 "WHERE category_id = ? AND step = ?",
                                 err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_int(st, 1, ids[i]);
        db_bind_text(st, 2, step_names[step]);
        while ((rc = db_step(st, err)) == DB_ROW) {
            int fit = limit_fit(db_col_text(st, 0), db_col_text(st, 1), area_class, urgency);

            if (fit < 0 || fit >= best)
                continue;
            best = fit;
            out->amount = db_col_int(st, 2);
            out->unit = (cal_unit)calendar_unit_parse(db_col_text(st, 3));
            if (src) {
                src->category_id = ids[i];
                src->area_class = db_col_text(st, 0)[0];
                src->urgency = catalog_urgency_parse(db_col_text(st, 1));
            }
        }
        rc = rc < 0 ? rc : 0;
        db_done(st);
    }
    if (!rc && best == 4)
        rc = err_set(err, GR_ENOTFOUND, "category",
                     "category %" PRId64 " has no %s limit for area class %c, %s, and neither "
                     "has its major class",
                     category_id, step_names[step], area_class, urgency);
    return rc;
}

int catalog_limit(db_conn *c, int64_t category_id, cat_step step, char area_class, int urgent,
                  cat_limit *out, gr_err *err)
{
    return cat_limit_find(c, category_id, step, area_class, urgent, out, NULL, err);
}

/* ---- writing ---- */

/* A default department must exist (org's header answers; its tables are its own). */
static int dept_check(db_conn *c, int64_t dept, gr_err *err)
{
    int64_t org = 0;
    int rc;

    if (dept <= 0)
        return 0;
    rc = org_dept_unit(c, dept, &org, err);
    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EINVAL, "default_department_id", "no department with id %" PRId64,
                       dept);
    return rc;
}

int cat_insert(db_conn *c, const cat_input *in, int64_t now, int64_t *id, gr_err *err)
{
    arena *a = arena_new();
    const char *kind = NULL;
    char parent_code[4];
    cat_record parent;
    int is_leaf = 0, rc;
    db_stmt *st = NULL;

    rc = catalog_code_check(in->code, &kind, &is_leaf, parent_code, err);
    if (!rc && in->standard_ref)
        rc = standard_ref_check(in->standard_ref, err);
    if (!rc)
        rc = dept_check(c, in->default_department_id, err);
    if (rc)
        goto out;
    memset(&parent, 0, sizeof(parent));
    if (parent_code[0]) {
        rc = cat_fetch(c, a, 0, parent_code, "code", &parent, err);
        if (rc == GR_ENOTFOUND)
            rc = err_set(err, GR_EINVAL, "code", "major class %s does not exist: create it first",
                         parent_code);
        else if (!rc && !parent.info.active)
            rc = err_set(err, GR_ECONFLICT, "code", "major class %s is retired", parent_code);
        if (rc)
            goto out;
    }
    st = db_prepare(c,
                    "INSERT INTO categories (code, name, kind, parent_id, is_leaf, standard_ref, "
                    "default_department_id, filing_condition, closing_condition, created_at, "
                    "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_text(st, 1, in->code);
    db_bind_text(st, 2, in->name);
    db_bind_text(st, 3, kind);
    db_bind_int_or_null(st, 4, parent.info.id);
    db_bind_int(st, 5, is_leaf);
    db_bind_text(st, 6, in->standard_ref ? in->standard_ref : "local");
    db_bind_int_or_null(st, 7, in->default_department_id);
    db_bind_text(st, 8, in->filing_condition);
    db_bind_text(st, 9, in->closing_condition);
    db_bind_int(st, 10, now);
    db_bind_int(st, 11, now);
    db_bind_int_or_null(st, 12, in->by);
    rc = db_run(st, err);
    if (rc == GR_EEXIST)
        rc = err_set(err, rc, "code", "a category with code %s exists", in->code);
    if (!rc)
        *id = db_last_id(c);
out:
    db_done(st);
    arena_free(a);
    return rc;
}

struct create_arg {
    const cat_input *in;
    int64_t id;
};

static int create_fn(db_conn *c, void *arg, gr_err *err)
{
    struct create_arg *a = arg;

    return cat_insert(c, a->in, time_now_ms(), &a->id, err);
}

int cat_create(gr_ctx *ctx, const cat_input *in, int64_t *id, gr_err *err)
{
    struct create_arg a = {in, 0};
    int rc;

    if (!in->name || !*in->name)
        return err_set(err, GR_EINVAL, "name", "is required");
    rc = db_write(ctx->db, create_fn, &a, err);
    if (!rc)
        *id = a.id;
    return rc;
}

/* Copies the definition as it is now, limits included, into the history,
 * before a change. */
static int history_write(db_conn *c, int64_t id, int64_t by, int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(
        c,
        "INSERT INTO category_history (category_id, version, changed_by, changed_at, old) "
        "SELECT id, version, ?2, ?3, json_object('code', code, 'name', name, 'kind', kind, "
        "'parent_id', parent_id, 'is_leaf', json(CASE is_leaf WHEN 1 THEN 'true' ELSE 'false' "
        "END), 'standard_ref', standard_ref, 'default_department_id', default_department_id, "
        "'filing_condition', filing_condition, 'closing_condition', closing_condition, "
        "'active', json(CASE active WHEN 1 THEN 'true' ELSE 'false' END), 'version', version, "
        "'updated_at', strftime('%Y-%m-%dT%H:%M:%fZ', updated_at / 1000.0, 'unixepoch'), "
        "'updated_by', updated_by, 'limits', json((SELECT json_group_array(json_object('step', "
        "step, 'area_class', area_class, 'urgency', urgency, 'amount', amount, 'unit', unit)) "
        "FROM (SELECT * FROM category_limits WHERE category_id = ?1 "
        "ORDER BY step, area_class, urgency)))) FROM categories WHERE id = ?1",
        err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    db_bind_int_or_null(st, 2, by);
    db_bind_int(st, 3, now);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static int version_check(int64_t version, int64_t stored, gr_err *err)
{
    if (version == stored)
        return 0;
    return err_set(err, GR_ECONFLICT, "version",
                   "is %" PRId64 " but the category is at version %" PRId64
                   ": it changed since you read it",
                   version, stored);
}

/* Retiring a major class leaves no active minor class under it, and a minor
 * class is only brought back under an active major class. */
static int active_check(db_conn *c, arena *a, const cat_record *cur, int active, gr_err *err)
{
    cat_record parent;
    int64_t n = 0;
    int rc;

    if (active < 0 || active == cur->info.active)
        return 0;
    if (!active && !cur->info.is_leaf) {
        rc = db_query_int(c, "SELECT count(*) FROM categories WHERE parent_id = ? AND active = 1",
                          cur->info.id, 0, &n, err);
        if (!rc && n > 0)
            rc = err_set(err, GR_ECONFLICT, "active",
                         "%s has %" PRId64 " active minor class(es): retire them first",
                         cur->info.code, n);
        return rc;
    }
    if (active && cur->info.parent_id) {
        rc = cat_fetch(c, a, cur->info.parent_id, NULL, "parent_id", &parent, err);
        if (!rc && !parent.info.active)
            rc = err_set(err, GR_ECONFLICT, "active", "its major class %s is retired",
                         parent.info.code);
        return rc;
    }
    return 0;
}

struct update_arg {
    int64_t id;
    const cat_patch *p;
};

static int update_fn(db_conn *c, void *arg, gr_err *err)
{
    struct update_arg *u = arg;
    const cat_patch *p = u->p;
    arena *a = arena_new();
    int64_t now = time_now_ms();
    cat_record cur;
    db_stmt *st = NULL;
    int rc;

    rc = cat_record_get(c, a, u->id, &cur, err);
    if (!rc)
        rc = version_check(p->version, cur.info.version, err);
    if (!rc)
        rc = active_check(c, a, &cur, p->active, err);
    if (!rc && p->set_department)
        rc = dept_check(c, p->default_department_id, err);
    if (!rc)
        rc = history_write(c, u->id, p->by, now, err);
    if (rc)
        goto out;
    st = db_prepare(c,
                    "UPDATE categories SET name = coalesce(?1, name), "
                    "standard_ref = coalesce(?2, standard_ref), "
                    "default_department_id = CASE WHEN ?3 THEN ?4 ELSE default_department_id END, "
                    "filing_condition = CASE WHEN ?5 THEN ?6 ELSE filing_condition END, "
                    "closing_condition = CASE WHEN ?7 THEN ?8 ELSE closing_condition END, "
                    "active = CASE WHEN ?9 >= 0 THEN ?9 ELSE active END, updated_at = ?10, "
                    "updated_by = ?11, version = version + 1 WHERE id = ?12",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_text(st, 1, p->name);
    db_bind_text(st, 2, p->standard_ref);
    db_bind_int(st, 3, p->set_department);
    db_bind_int_or_null(st, 4, p->default_department_id);
    db_bind_int(st, 5, p->set_filing);
    db_bind_text(st, 6, p->filing_condition);
    db_bind_int(st, 7, p->set_closing);
    db_bind_text(st, 8, p->closing_condition);
    db_bind_int(st, 9, p->active);
    db_bind_int(st, 10, now);
    db_bind_int_or_null(st, 11, p->by);
    db_bind_int(st, 12, u->id);
    rc = db_run(st, err);
out:
    db_done(st);
    arena_free(a);
    return rc;
}

int cat_update(gr_ctx *ctx, int64_t id, const cat_patch *p, gr_err *err)
{
    struct update_arg u = {id, p};
    int rc;

    if (p->name && !*p->name)
        return err_set(err, GR_EINVAL, "name", "must not be empty");
    if (p->standard_ref) {
        rc = standard_ref_check(p->standard_ref, err);
        if (rc)
            return rc;
    }
    return db_write(ctx->db, update_fn, &u, err);
}

int cat_limits_write(db_conn *c, int64_t id, const cat_limit_row *rows, size_t n, gr_err *err)
{
    char area[2] = {0, 0};
    db_stmt *st = db_prepare(c, "DELETE FROM category_limits WHERE category_id = ?", err);
    size_t i;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_run(st, err);
    db_done(st);
    for (i = 0; !rc && i < n; i++) {
        st = db_prepare(c,
                        "INSERT INTO category_limits (category_id, step, area_class, urgency, "
                        "amount, unit) VALUES (?, ?, ?, ?, ?, ?)",
                        err);
        if (!st)
            return GR_EINTERNAL;
        area[0] = rows[i].area_class;
        db_bind_int(st, 1, id);
        db_bind_text(st, 2, catalog_step_name(rows[i].step));
        db_bind_text(st, 3, area);
        db_bind_text(st, 4, catalog_urgency_name(rows[i].urgency));
        db_bind_int(st, 5, rows[i].amount);
        db_bind_text(st, 6, calendar_unit_name(rows[i].unit));
        rc = db_run(st, err);
        db_done(st);
    }
    return rc;
}

struct limits_arg {
    int64_t id, version, by;
    const cat_limit_row *rows;
    size_t n;
};

static int limits_fn(db_conn *c, void *arg, gr_err *err)
{
    struct limits_arg *l = arg;
    arena *a = arena_new();
    int64_t now = time_now_ms();
    cat_record cur;
    db_stmt *st = NULL;
    int rc;

    rc = cat_record_get(c, a, l->id, &cur, err);
    if (!rc && l->version)
        rc = version_check(l->version, cur.info.version, err);
    if (!rc)
        rc = history_write(c, l->id, l->by, now, err);
    if (!rc)
        rc = cat_limits_write(c, l->id, l->rows, l->n, err);
    if (rc)
        goto out;
    st = db_prepare(c,
                    "UPDATE categories SET updated_at = ?, updated_by = ?, version = version + 1 "
                    "WHERE id = ?",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, now);
    db_bind_int_or_null(st, 2, l->by);
    db_bind_int(st, 3, l->id);
    rc = db_run(st, err);
out:
    db_done(st);
    arena_free(a);
    return rc;
}

int cat_limits_replace(gr_ctx *ctx, int64_t id, const cat_limit_row *rows, size_t n,
                       int64_t version, int64_t by, gr_err *err)
{
    struct limits_arg l = {id, version, by, rows, n};
    int rc = cat_limits_check(rows, n, err);

    return rc ? rc : db_write(ctx->db, limits_fn, &l, err);
}

int cat_history_list(db_conn *c, arena *a, int64_t category_id, int64_t after, int64_t limit,
                     cat_history **out, size_t *n, int *more, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, version, changed_by, changed_at, old FROM "
                             "category_history WHERE category_id = ? AND id > ? ORDER BY id "
                             "LIMIT ?",
                             err);
    cat_history *v = arena_alloc(a, (size_t)(limit + 1) * sizeof(*v));
    int rc;

    *n = 0;
    *more = 0;
    *out = v;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, category_id);
    db_bind_int(st, 2, after);
    db_bind_int(st, 3, limit + 1);
    while ((rc = db_step(st, err)) == DB_ROW) {
        if ((int64_t)*n == limit) {
            *more = 1;
            continue;
        }
        v[*n].id = db_col_int(st, 0);
        v[*n].version = db_col_int(st, 1);
        v[*n].changed_by = db_col_int(st, 2);
        v[*n].changed_at = db_col_int(st, 3);
        v[*n].old = db_col_textdup(st, 4, a);
        (*n)++;
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}
