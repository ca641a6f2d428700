/*
 * Routing: a place becomes its unit chain (grid → community → street →
 * district → city), and category + place become the department that handles
 * the case. The rule table maps category × org subtree → department; the
 * most specific rule wins: the nearest unit of the chain first (grid before
 * community before street ...), and at each unit the leaf category before its
 * major class. No rule: the category's default department. None: the
 * territorial street (属地兜底: no department, handler_org_id = street).
 */
#include "cases/case_model.h"

#include "org/org.h"

#include <inttypes.h>
#include <string.h>

static void chain_set(case_rec *r, const int64_t ids[5])
{
    r->city_id = ids[0];
    r->district_id = ids[1];
    r->street_id = ids[2];
    r->community_id = ids[3];
    r->grid_id = ids[4];
}

int case_locate(gr_ctx *ctx, db_conn *c, double lat, double lon, case_rec *r, gr_err *err)
{
    int64_t grid = org_grid_at(ctx, lat, lon), ids[5];
    int rc;

    if (!grid)
        return err_set(err, GR_EINVAL, "lat", "the point is outside every grid");
    rc = org_unit_levels(c, grid, ids, err);
    /* The grid may have been deleted between the index and this read. */
    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EINVAL, "lat", "the point is outside every grid");
    if (!rc)
        chain_set(r, ids);
    return rc;
}

int case_locate_unit(db_conn *c, int64_t unit, case_rec *r, gr_err *err)
{
    int64_t ids[5] = {0};
    int rc = unit ? org_unit_levels(c, unit, ids, err) : 0;

    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EINVAL, "lat",
                       "is required: the entering account has no unit to place the case in");
    if (!rc)
        chain_set(r, ids);
    return rc;
}

int case_category_check(db_conn *c, arena *a, int64_t id, cat_info *out, gr_err *err)
{
    return catalog_check_filable(c, a, id, "category_id", out, err);
}

/* The most specific rule for the leaf category and its major class over the
 * chain, the narrowest unit first, the leaf before its major within a unit;
 * *dept 0 when none applies. Point seeks in that order: one statement with
 * IN lists and an ORDER BY built ephemeral tables and a sorter, 88,000
 * instructions a case (callgrind), for at most ten rows. */
static int rule_find(db_conn *c, const case_rec *r, int64_t major, int64_t *dept, gr_err *err)
{
    const int64_t units[] = {r->grid_id, r->community_id, r->street_id, r->district_id, r->city_id};
    const int64_t cats[] = {r->category_id, major};
    db_stmt *st = db_prepare(
        c, "SELECT department_id FROM routing_rules WHERE category_id = ? AND org_id = ?", err);
    size_t u, k;
    int rc = DB_DONE;

    *dept = 0;
    if (!st)
        return GR_EINTERNAL;
    for (u = 0; u < sizeof(units) / sizeof(units[0]) && rc == DB_DONE; u++) {
        for (k = 0; k < 2 && units[u] && rc == DB_DONE; k++) {
            if (!cats[k] || (k == 1 && cats[1] == cats[0]))
                continue;
            db_reset(st);
            db_bind_int(st, 1, cats[k]);
            db_bind_int(st, 2, units[u]);
            rc = db_step(st, err);
            if (rc == DB_ROW)
                *dept = db_col_int(st, 0);
        }
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int case_route(db_conn *c, arena *a, case_rec *r, gr_err *err)
{
    cat_info cat;
    int64_t dept = 0;
    int rc;

    r->department_id = 0;
    r->handler_org_id = 0;
    if (!r->category_id)
        return 0;
    rc = catalog_get(c, a, r->category_id, &cat, err);
    if (!rc)
        rc = rule_find(c, r, cat.parent_id, &dept, err);
    if (rc)
        return rc;
    if (!dept)
        dept = cat.default_department_id;
    if (dept)
        r->department_id = dept;
    else
        r->handler_org_id = r->street_id ? r->street_id : case_scope_unit(r);
    return 0;
}

int case_rule_put(db_conn *c, int64_t category_id, int64_t org_id, int64_t department_id,
                  int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO routing_rules (category_id, org_id, department_id, "
                             "created_at) VALUES (?, ?, ?, ?) ON CONFLICT (category_id, org_id) "
                             "DO UPDATE SET department_id = excluded.department_id",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, category_id);
    db_bind_int(st, 2, org_id);
    db_bind_int(st, 3, department_id);
    db_bind_int(st, 4, now);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

int case_rule_check(db_conn *c, arena *a, int64_t category_id, int64_t org_id,
                    int64_t department_id, gr_err *err)
{
    int64_t ids[5], dept_unit = 0;
    cat_info cat;
    int rc;

    rc = catalog_get(c, a, category_id, &cat, err);
    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EINVAL, "category_id", "no such category");
    if (!rc) {
        rc = org_unit_levels(c, org_id, ids, err);
        if (rc == GR_ENOTFOUND)
            return err_set(err, GR_EINVAL, "org_id", "no such org unit");
    }
    if (!rc) {
        rc = org_dept_unit(c, department_id, &dept_unit, err);
        if (rc == GR_ENOTFOUND)
            return err_set(err, GR_EINVAL, "department_id", "no such department");
    }
    /* A rule may only send cases to a department that can take them: one
     * whose unit is the rule's unit or contains it (dispatch checks the same). */
    if (!rc && !org_is_within(c, dept_unit, org_id))
        return err_set(err, GR_EINVAL, "department_id", "does not serve org unit %" PRId64, org_id);
    return rc;
}

#define RULE_COLS "id, category_id, org_id, department_id, created_at"

static void rule_read(db_stmt *st, case_rule *out)
{
    out->id = db_col_int(st, 0);
    out->category_id = db_col_int(st, 1);
    out->org_id = db_col_int(st, 2);
    out->department_id = db_col_int(st, 3);
    out->created_at = db_col_int(st, 4);
}

int case_rule_get(db_conn *c, int64_t id, case_rule *out, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT " RULE_COLS " FROM routing_rules WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        rule_read(st, out);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "", "no routing rule %" PRId64, id);
    }
    db_done(st);
    return rc;
}

int case_rule_list(db_conn *c, arena *a, int64_t scope, int64_t category_id, int64_t after,
                   int64_t limit, case_rule **out, size_t *n, int *more, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT " RULE_COLS " FROM routing_rules WHERE id > ?1 AND "
                             "(?2 = 0 OR category_id = ?2) ORDER BY id",
                             err);
    case_rule *v = arena_alloc(a, (size_t)(limit + 1) * sizeof(*v));
    int rc;

    *n = 0;
    *more = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, after);
    db_bind_int(st, 2, category_id);
    /* Rules number in the hundreds: the subtree is checked row by row. */
    while ((rc = db_step(st, err)) == DB_ROW) {
        rule_read(st, &v[*n]);
        if (scope && !org_is_within(c, scope, v[*n].org_id))
            continue;
        if ((int64_t)*n == limit) {
            *more = 1;
            break;
        }
        (*n)++;
    }
    db_done(st);
    *out = v;
    return rc < 0 ? rc : 0;
}

int case_rule_delete(db_conn *c, int64_t id, gr_err *err)
{
    db_stmt *st = db_prepare(c, "DELETE FROM routing_rules WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_run(st, err);
    db_done(st);
    if (!rc && db_changes(c) == 0)
        rc = err_set(err, GR_ENOTFOUND, "", "no routing rule %" PRId64, id);
    return rc;
}
