/*
 * The org tree in SQL: code rules, units (with a materialized path for
 * subtree queries), departments, and the scope checks other modules call.
 *
 * Every write runs inside the group-commit writer (db_write) and checks what
 * it depends on again inside the transaction, so two requests racing cannot
 * both pass a check that only one of them may pass.
 */
#include "base/names.h"
#include "org/org_model.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "geo/geojson.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- kinds and codes ---- */

static const char *const kind_names[ORG_NKINDS] = {"city", "district", "street", "community",
                                                   "grid"};
static const size_t code_lens[ORG_NKINDS] = {6, 6, 9, 12, 15};

/* The Chinese names, for messages people read next to the codes. */
static const char *const kind_words[ORG_NKINDS] = {
    "city (地级)", "district (区县)", "street (乡镇街道)", "community (社区/村)", "grid (网格)"};

const char *org_kind_name(int kind)
{
    return kind >= 0 && kind < ORG_NKINDS ? kind_names[kind] : "unknown";
}

int org_kind_parse(const char *s)
{
    return names_find(kind_names, ORG_NKINDS, s);
}

size_t org_code_len(int kind)
{
    return kind >= 0 && kind < ORG_NKINDS ? code_lens[kind] : 0;
}

int org_code_digits(const char *s, size_t n)
{
    size_t i;

    if (strlen(s) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int org_code_check(int kind, const char *code, gr_err *err)
{
    size_t want = org_code_len(kind);

    if (!want)
        return err_set(err, GR_EINVAL, "kind",
                       "must be one of city, district, street, community, grid");
    if (!code)
        return err_set(err, GR_EINVAL, "code", "is required");
    if (!org_code_digits(code, want))
        return err_set(err, GR_EINVAL, "code", "a %s code is %zu digits, got '%.20s'",
                       kind_words[kind], want, code);
    if (memcmp(code, "00", 2) == 0)
        return err_set(err, GR_EINVAL, "code",
                       "must start with a GB/T 2260 province code (11..91), not 00");
    if (memcmp(code + 2, "0000", 4) == 0)
        return err_set(err, GR_EINVAL, "code",
                       "%.6s is a province code (ends in 0000); the tree starts at the city", code);
    switch (kind) {
    case ORG_CITY:
        if (memcmp(code + 4, "00", 2) != 0)
            return err_set(err, GR_EINVAL, "code",
                           "a city (prefecture) code ends in 00, as in 110100; %s is a county",
                           code);
        break;
    case ORG_STREET:
    case ORG_COMMUNITY:
    case ORG_GRID:
        /* GB/T 10114 townships, community and grid sequences start at 001. */
        if (memcmp(code + want - 3, "000", 3) == 0)
            return err_set(err, GR_EINVAL, "code",
                           "the last three digits of a %s code are "
                           "a sequence from 001, not 000",
                           kind_words[kind]);
        break;
    default:
        break;
    }
    return 0;
}

int org_code_check_parent(int kind, const char *code, int parent_kind, const char *parent_code,
                          gr_err *err)
{
    size_t plen;

    if (parent_kind < 0) {
        if (kind != ORG_CITY && kind != ORG_DISTRICT)
            return err_set(err, GR_EINVAL, "parent_id", "is required: a %s sits under a %s",
                           kind_words[kind], kind_words[kind - 1]);
        return 0;
    }
    if (parent_kind != kind - 1)
        return err_set(err, GR_EINVAL, "parent_id", "a %s sits under a %s, but the parent is a %s",
                       kind_words[kind], kind > 0 ? kind_words[kind - 1] : "nothing",
                       kind_words[parent_kind]);
    if (kind == ORG_DISTRICT) {
        /* 441900 东莞市 is a prefecture without districts: its code is its
         * city's, so it can only be a root. */
        if (memcmp(code + 4, "00", 2) == 0)
            return err_set(err, GR_EINVAL, "parent_id",
                           "a district coded like a prefecture (%s, ending in 00) has no "
                           "city above it",
                           code);
        plen = 4;
    } else {
        plen = strlen(parent_code);
    }
    if (strlen(code) < plen || memcmp(code, parent_code, plen) != 0)
        return err_set(err, GR_EINVAL, "code", "must start with its parent's code %.*s", (int)plen,
                       parent_code);
    return 0;
}

/* ---- reading units ---- */

#define UNIT_COLS                                                                                  \
    "id, parent_id, code, name, kind, path, boundary IS NOT NULL, centroid_lat, centroid_lon, "    \
    "source, created_at, updated_at, version"
#define UNIT_NCOLS 13

/* Reads the current row of st into out (strings in a). */

static void unit_read(db_stmt *st, arena *a, int with_boundary, org_unit *u)
{
    const char *b;

    memset(u, 0, sizeof(*u));
    u->id = db_col_int(st, 0);
    u->parent_id = db_col_is_null(st, 1) ? 0 : db_col_int(st, 1);
    u->code = db_col_textdup(st, 2, a);
    u->name = db_col_textdup(st, 3, a);
    u->kind = org_kind_parse(db_col_text(st, 4));
    u->path = db_col_textdup(st, 5, a);
    u->has_boundary = (int)db_col_int(st, 6);
    u->centroid_lat = db_col_double(st, 7);
    u->centroid_lon = db_col_double(st, 8);
    u->source = db_col_textdup(st, 9, a);
    u->created_at = db_col_int(st, 10);
    u->updated_at = db_col_int(st, 11);
    u->version = db_col_int(st, 12);
    if (with_boundary && (b = db_col_text(st, UNIT_NCOLS)) != NULL)
        u->boundary = arena_strdup(a, b);
}

static void unit_read_brief(db_stmt *st, arena *a, void *out)
{
    unit_read(st, a, 0, out);
}

int org_unit_get(db_conn *c, arena *a, int64_t id, int with_boundary, org_unit *out, gr_err *err)
{
    db_stmt *st =
        db_prepare(c,
                   with_boundary ? "SELECT " UNIT_COLS ", boundary FROM org_units WHERE id = ?"
                                 : "SELECT " UNIT_COLS " FROM org_units WHERE id = ?",
                   err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        unit_read(st, a, with_boundary, out);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "id", "no org unit with id %" PRId64, id);
    }
    db_done(st);
    return rc;
}

int org_unit_ancestors(db_conn *c, arena *a, const org_unit *u, org_unit **out, size_t *n,
                       gr_err *err)
{
    org_unit chain[ORG_NKINDS + 8];
    int64_t parent = u->parent_id;
    size_t k = 0, i;
    int rc = 0;

    /* Walk up by parent_id; the depth is bounded by the kinds. */
    while (parent && k < sizeof(chain) / sizeof(chain[0])) {
        rc = org_unit_get(c, a, parent, 0, &chain[k], err);
        if (rc)
            goto out;
        parent = chain[k].parent_id;
        k++;
    }
    *out = arena_alloc(a, (k ? k : 1) * sizeof(org_unit));
    for (i = 0; i < k; i++)
        (*out)[i] = chain[k - 1 - i];
    *n = k;
out:
    return rc;
}

int org_unit_child_count(db_conn *c, int64_t id, int64_t *n, gr_err *err)
{
    return db_query_int(c, "SELECT count(*) FROM org_units WHERE parent_id = ?", id, 0, n, err);
}

/* The subtree of a unit as a range of paths: [lo, hi). Paths end in '/', and
 * '0' is the character after '/', so hi is lo with its last '/' made '0'. */
static int subtree_range(db_conn *c, arena *a, int64_t id, const char **lo, const char **hi,
                         gr_err *err)
{
    org_unit u;
    char *h;
    int rc = org_unit_get(c, a, id, 0, &u, err);

    if (rc)
        return rc;
    *lo = u.path;
    h = arena_strdup(a, u.path);
    h[strlen(h) - 1] = '0';
    *hi = h;
    return 0;
}

/* Prepares sql for the subtree of unit scope: its ?1 and ?2 get the range of
 * paths. *st is NULL when this fails. */
static int subtree_prepare(db_conn *c, arena *a, int64_t scope, const char *sql, db_stmt **st,
                           gr_err *err)
{
    const char *lo, *hi;
    int rc = subtree_range(c, a, scope, &lo, &hi, err);

    *st = NULL;
    if (rc)
        return rc;
    *st = db_prepare(c, sql, err);
    if (!*st)
        return GR_EINTERNAL;
    db_bind_text(*st, 1, lo);
    db_bind_text(*st, 2, hi);
    return 0;
}

int org_unit_list(db_conn *c, arena *a, const org_unit_filter *f, org_unit **out, size_t *n,
                  int *more, gr_err *err)
{
    db_stmt *st = NULL;
    void *v = NULL;
    int rc;

    *n = 0;
    *more = 0;
    rc = subtree_prepare(c, a, f->scope,
                         "SELECT " UNIT_COLS " FROM org_units WHERE path >= ?1 AND path < ?2 "
                         "AND id > ?3 AND (?4 = 0 OR parent_id = ?4) AND (?5 IS NULL OR kind = ?5) "
                         "AND (?6 IS NULL OR instr(name, ?6) > 0) AND (?8 IS NULL OR code = ?8) "
                         "ORDER BY id LIMIT ?7",
                         &st, err);
    if (rc)
        goto out;
    db_bind_int(st, 3, f->after);
    db_bind_int(st, 4, f->parent_id);
    db_bind_text(st, 5, f->kind >= 0 ? org_kind_name(f->kind) : NULL);
    db_bind_text(st, 6, f->q && *f->q ? f->q : NULL);
    db_bind_int(st, 7, f->limit + 1);
    db_bind_text(st, 8, f->code && *f->code ? f->code : NULL);
    rc = db_read_page(st, a, f->limit, sizeof(org_unit), unit_read_brief, &v, n, more, err);
    *out = v;
out:
    db_done(st);
    return rc;
}

int org_unit_boundaries(db_conn *c, int64_t id, int kind, buf *out, gr_err *err)
{
    arena *a = arena_new();
    db_stmt *st = NULL;
    json_t *props;
    char *text;
    int rc, first = 1;

    rc = subtree_prepare(c, a, id,
                         "SELECT id, code, name, kind, parent_id, centroid_lat, centroid_lon, "
                         "boundary FROM org_units WHERE path > ?1 AND path < ?2 "
                         "AND boundary IS NOT NULL AND (?3 IS NULL OR kind = ?3) ORDER BY id",
                         &st, err);
    if (rc)
        goto out;
    db_bind_text(st, 3, kind >= 0 ? org_kind_name(kind) : NULL);
    buf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    while ((rc = db_step(st, err)) == DB_ROW) {
        /* The stored boundary was validated on entry: it goes out as it is,
         * without a parse, so a big collection costs one copy. */
        props = json_pack("{s:I, s:s, s:s, s:s, s:o, s:[f,f]}", "id", (json_int_t)db_col_int(st, 0),
                          "code", db_col_text(st, 1), "name", db_col_text(st, 2), "kind",
                          db_col_text(st, 3), "parent_id",
                          db_col_is_null(st, 4) ? json_null() : json_integer(db_col_int(st, 4)),
                          "centroid", db_col_double(st, 5), db_col_double(st, 6));
        text = props
                   ? json_dumps(props, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12))
                   : NULL;
        json_decref(props);
        if (!text) {
            rc = err_set(err, GR_EINTERNAL, "", "cannot encode a feature");
            goto out;
        }
        buf_printf(out,
                   "%s{\"type\":\"Feature\",\"id\":%" PRId64 ",\"geometry\":%s,\"properties\":%s}",
                   first ? "" : ",", db_col_int(st, 0), db_col_text(st, 7), text);
        free(text);
        first = 0;
    }
    if (rc < 0)
        goto out;
    buf_puts(out, "]}");
    rc = 0;
out:
    db_done(st);
    arena_free(a);
    return rc;
}

/* ---- scope ---- */

int org_is_within(db_conn *c, int64_t root, int64_t unit)
{
    db_stmt *st;
    int rc;

    if (!c || root <= 0 || unit <= 0)
        return 0;
    st = db_prepare(c,
                    "SELECT 1 FROM org_units r JOIN org_units u ON u.id = ?2 WHERE r.id = ?1 "
                    "AND substr(u.path, 1, length(r.path)) = r.path",
                    NULL);
    if (!st)
        return 0;
    db_bind_int(st, 1, root);
    db_bind_int(st, 2, unit);
    rc = db_step(st, NULL) == DB_ROW;
    db_done(st);
    return rc;
}

int org_require_scope(http_req *req, int64_t unit)
{
    if (req->who.user_id == 0)
        return err_set(&req->err, GR_EAUTH, "", "sign in first");
    if (req->who.scope_org_id <= 0)
        return err_set(&req->err, GR_EFORBIDDEN, "",
                       "your account has no place in the org tree (no scope)");
    if (!org_is_within(db_reader(req->db), req->who.scope_org_id, unit))
        return err_set(&req->err, GR_EFORBIDDEN, "",
                       "org unit %" PRId64 " is outside your scope (org unit %" PRId64 ")", unit,
                       req->who.scope_org_id);
    return 0;
}

/* The parent and kind of unit id: DB_ROW, DB_DONE (no such unit) or an error. */
static int unit_parent_kind(db_conn *c, int64_t id, int64_t *parent, int *kind, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT parent_id, kind FROM org_units WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *parent = db_col_int(st, 0);
        *kind = org_kind_parse(db_col_text(st, 1));
    }
    db_done(st);
    return rc;
}

int org_unit_levels(db_conn *c, int64_t unit, int64_t ids[5], gr_err *err)
{
    int64_t id = unit, parent = 0;
    int guard, kind = -1, rc = DB_ROW;

    memset(ids, 0, ORG_NKINDS * sizeof(ids[0]));
    /* Walk up by parent_id; the depth is bounded by the kinds. */
    for (guard = 0; id && guard < ORG_NKINDS && rc == DB_ROW; guard++) {
        rc = unit_parent_kind(c, id, &parent, &kind, err);
        if (rc == DB_ROW && kind >= 0)
            ids[kind] = id;
        id = parent;
    }
    if (rc == DB_DONE && guard == 1)
        return err_set(err, GR_ENOTFOUND, "id", "no org unit with id %" PRId64, unit);
    return rc < 0 ? rc : 0;
}

int org_dept_unit(db_conn *c, int64_t dept_id, int64_t *org_id, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT org_id FROM departments WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, dept_id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *org_id = db_col_int(st, 0);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "department_id", "no department with id %" PRId64, dept_id);
    }
    db_done(st);
    return rc;
}

int org_unit_find_code(db_conn *c, const char *code, int64_t *id, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT id FROM org_units WHERE code = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, code);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *id = db_col_int(st, 0);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "code", "no org unit with code %.20s", code ? code : "");
    }
    db_done(st);
    return rc;
}

int org_dept_find_name(db_conn *c, int64_t org_id, const char *name, int64_t *id, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT id FROM departments WHERE org_id = ? AND name = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, org_id);
    db_bind_text(st, 2, name);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *id = db_col_int(st, 0);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "name", "no department named %.60s at org unit %" PRId64,
                     name ? name : "", org_id);
    }
    db_done(st);
    return rc;
}

/* ---- writing units ---- */

/* What the writer needs to know about a unit. */
struct unit_row {
    int64_t id, parent_id, version;
    int kind;
    char code[16];
    char path[160];
    int has_boundary;
};

static int unit_row_get(db_conn *c, int64_t id, const char *field, struct unit_row *r, gr_err *err)
{
    db_stmt *st =
        db_prepare(c,
                   "SELECT id, parent_id, version, kind, code, path, boundary IS NOT NULL "
                   "FROM org_units WHERE id = ?",
                   err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        r->id = db_col_int(st, 0);
        r->parent_id = db_col_is_null(st, 1) ? 0 : db_col_int(st, 1);
        r->version = db_col_int(st, 2);
        r->kind = org_kind_parse(db_col_text(st, 3));
        snprintf(r->code, sizeof(r->code), "%s", db_col_text(st, 4));
        snprintf(r->path, sizeof(r->path), "%s", db_col_text(st, 5));
        r->has_boundary = (int)db_col_int(st, 6);
        rc = 0;
    } else if (rc == DB_DONE) {
        /* A missing target is 404; a missing referenced unit is bad input. */
        rc = err_set(err, strcmp(field, "id") == 0 ? GR_ENOTFOUND : GR_EINVAL, field,
                     "no org unit with id %" PRId64, id);
    }
    db_done(st);
    return rc;
}

/* Validates a boundary outside the writer: GEOS work must not hold it up. */
static int boundary_prepare(const char *text, size_t len, double *lat, double *lon, gr_err *err)
{
    return geo_geojson_check(text, len, "boundary", lat, lon, err);
}

struct create_arg {
    const org_unit_input *in;
    double lat, lon;
    int64_t id;
};

int org_unit_insert(db_conn *c, const org_unit_input *in, const char *parent_path, double lat,
                    double lon, int64_t now, int64_t *id, gr_err *err)
{
    char path[200];
    db_stmt *st;
    int rc;

    st = db_prepare(c,
                    "INSERT INTO org_units (code, name, kind, parent_id, path, boundary, "
                    "centroid_lat, centroid_lon, source, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, in->code);
    db_bind_text(st, 2, in->name);
    db_bind_text(st, 3, org_kind_name(in->kind));
    if (in->parent_id)
        db_bind_int(st, 4, in->parent_id);
    else
        db_bind_null(st, 4);
    if (in->boundary) {
        db_bind_textn(st, 5, in->boundary, in->boundary_len);
        db_bind_double(st, 6, lat);
        db_bind_double(st, 7, lon);
    } else {
        db_bind_null(st, 5);
        db_bind_null(st, 6);
        db_bind_null(st, 7);
    }
    db_bind_text(st, 8, in->source ? in->source : "manual");
    db_bind_int(st, 9, now);
    db_bind_int(st, 10, now);
    rc = db_run(st, err);
    db_done(st);
    if (rc)
        return rc;
    /* The path ends in the unit's own id, known only now. */
    *id = db_last_id(c);
    snprintf(path, sizeof(path), "%s%" PRId64 "/", in->parent_id ? parent_path : "/", *id);
    st = db_prepare(c, "UPDATE org_units SET path = ? WHERE id = ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, path);
    db_bind_int(st, 2, *id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static int create_fn(db_conn *c, void *arg, gr_err *err)
{
    struct create_arg *a = arg;
    const org_unit_input *in = a->in;
    struct unit_row parent = {0};
    int64_t existing = 0;
    gr_err lookup = {0};
    int rc;

    if (in->parent_id) {
        rc = unit_row_get(c, in->parent_id, "parent_id", &parent, err);
        if (rc)
            goto out;
    }
    rc = org_code_check_parent(in->kind, in->code, in->parent_id ? parent.kind : -1, parent.code,
                               err);
    if (rc)
        goto out;
    rc = org_unit_find_code(c, in->code, &existing, &lookup);
    if (rc == 0) {
        rc = err_set(err, GR_EEXIST, "code", "org unit %" PRId64 " already has the code %s",
                     existing, in->code);
        goto out;
    }
    if (rc != GR_ENOTFOUND) {
        *err = lookup;
        goto out;
    }
    rc = org_unit_insert(c, in, parent.path, a->lat, a->lon, time_now_ms(), &a->id, err);
    if (rc == GR_EEXIST)
        err_set(err, rc, "code", "an org unit with the code %s already exists", in->code);
out:
    return rc;
}

/* After a commit that changed a grid boundary: the index follows. A failure
 * here does not undo the write; it is logged and the next rebuild repairs it. */
static void index_follow(gr_ctx *ctx)
{
    gr_err err = {0};

    if (ctx->org && org_index_rebuild(ctx, &err))
        log_msg(LOG_ERROR, "org.index", "rebuilding the grid index failed: %s", err.msg);
}

int org_unit_create(gr_ctx *ctx, const org_unit_input *in, int64_t *id, gr_err *err)
{
    struct create_arg a = {in, 0, 0, 0};
    int rc;

    if (!in->name || !*in->name)
        return err_set(err, GR_EINVAL, "name", "is required");
    rc = org_code_check(in->kind, in->code, err);
    if (!rc && in->boundary)
        rc = boundary_prepare(in->boundary, in->boundary_len, &a.lat, &a.lon, err);
    if (!rc)
        rc = db_write(ctx->db, create_fn, &a, err);
    if (rc)
        return rc;
    if (in->kind == ORG_GRID && in->boundary)
        index_follow(ctx);
    *id = a.id;
    return 0;
}

/* A change is made from the stored version of a unit or department (what). */
static int version_check(int64_t version, int64_t stored, const char *what, gr_err *err)
{
    if (version == stored)
        return 0;
    return err_set(err, GR_ECONFLICT, "version",
                   "is %" PRId64 " but the %s is at version %" PRId64
                   ": it changed since you read it",
                   version, what, stored);
}

struct update_arg {
    int64_t id;
    const org_unit_patch *p;
    double lat, lon;
    int grid_geometry_changed;
};

static int unit_move(db_conn *c, const struct unit_row *cur, int64_t parent_id, gr_err *err)
{
    struct unit_row parent = {0};
    char path[200];
    char hi[160];
    db_stmt *st = NULL;
    int rc;

    if (parent_id == cur->parent_id)
        return 0;
    if (parent_id) {
        rc = unit_row_get(c, parent_id, "parent_id", &parent, err);
        if (rc)
            goto out;
        if (strncmp(parent.path, cur->path, strlen(cur->path)) == 0) {
            rc = err_set(err, GR_ECONFLICT, "parent_id",
                         "org unit %" PRId64 " is %s: the move would make a cycle", parent_id,
                         parent_id == cur->id ? "the unit itself" : "inside the unit's subtree");
            goto out;
        }
    }
    rc =
        org_code_check_parent(cur->kind, cur->code, parent_id ? parent.kind : -1, parent.code, err);
    if (rc)
        goto out;
    snprintf(path, sizeof(path), "%s%" PRId64 "/", parent_id ? parent.path : "/", cur->id);
    snprintf(hi, sizeof(hi), "%s", cur->path);
    hi[strlen(hi) - 1] = '0';
    /* The unit and its whole subtree get the new path prefix. */
    st = db_prepare(c,
                    "UPDATE org_units SET path = ?1 || substr(path, ?2 + 1) "
                    "WHERE path >= ?3 AND path < ?4",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_text(st, 1, path);
    db_bind_int(st, 2, (int64_t)strlen(cur->path));
    db_bind_text(st, 3, cur->path);
    db_bind_text(st, 4, hi);
    rc = db_run(st, err);
    db_done(st);
    st = NULL;
    if (rc)
        goto out;
    st = db_prepare(c, "UPDATE org_units SET parent_id = ? WHERE id = ?", err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    if (parent_id)
        db_bind_int(st, 1, parent_id);
    else
        db_bind_null(st, 1);
    db_bind_int(st, 2, cur->id);
    rc = db_run(st, err);
out:
    db_done(st);
    return rc;
}

static int update_fn(db_conn *c, void *arg, gr_err *err)
{
    struct update_arg *a = arg;
    const org_unit_patch *p = a->p;
    struct unit_row cur;
    db_stmt *st = NULL;
    int rc;

    rc = unit_row_get(c, a->id, "id", &cur, err);
    if (!rc)
        rc = version_check(p->version, cur.version, "unit", err);
    if (rc)
        goto out;
    if (p->set_parent) {
        rc = unit_move(c, &cur, p->parent_id, err);
        if (rc)
            goto out;
    }
    st = db_prepare(c,
                    "UPDATE org_units SET name = coalesce(?1, name), "
                    "boundary = CASE WHEN ?2 THEN ?3 ELSE boundary END, "
                    "centroid_lat = CASE WHEN ?2 THEN ?4 ELSE centroid_lat END, "
                    "centroid_lon = CASE WHEN ?2 THEN ?5 ELSE centroid_lon END, "
                    "updated_at = ?6, version = version + 1 WHERE id = ?7",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_text(st, 1, p->name);
    db_bind_int(st, 2, p->set_boundary);
    if (p->set_boundary && p->boundary) {
        db_bind_textn(st, 3, p->boundary, p->boundary_len);
        db_bind_double(st, 4, a->lat);
        db_bind_double(st, 5, a->lon);
    } else {
        db_bind_null(st, 3);
        db_bind_null(st, 4);
        db_bind_null(st, 5);
    }
    db_bind_int(st, 6, time_now_ms());
    db_bind_int(st, 7, a->id);
    rc = db_run(st, err);
    a->grid_geometry_changed = cur.kind == ORG_GRID && p->set_boundary;
out:
    db_done(st);
    return rc;
}

int org_unit_update(gr_ctx *ctx, int64_t id, const org_unit_patch *p, gr_err *err)
{
    struct update_arg a = {id, p, 0, 0, 0};
    int rc = 0;

    if (p->name && !*p->name)
        return err_set(err, GR_EINVAL, "name", "must not be empty");
    if (p->set_boundary && p->boundary)
        rc = boundary_prepare(p->boundary, p->boundary_len, &a.lat, &a.lon, err);
    if (!rc)
        rc = db_write(ctx->db, update_fn, &a, err);
    if (!rc && a.grid_geometry_changed)
        index_follow(ctx);
    return rc;
}

struct delete_arg {
    int64_t id;
    int grid_geometry_changed;
};

static int delete_fn(db_conn *c, void *arg, gr_err *err)
{
    struct delete_arg *a = arg;
    struct unit_row cur;
    int64_t n = 0;
    db_stmt *st = NULL;
    int rc;

    rc = unit_row_get(c, a->id, "id", &cur, err);
    if (rc)
        goto out;
    rc = org_unit_child_count(c, a->id, &n, err);
    if (rc)
        goto out;
    if (n > 0) {
        /* Never cascade: a subtree goes away one deliberate delete at a time. */
        rc = err_set(err, GR_ECONFLICT, "id",
                     "the unit has %" PRId64 " child unit(s); delete or move them first", n);
        goto out;
    }
    rc = db_query_int(c, "SELECT count(*) FROM departments WHERE org_id = ?", a->id, 0, &n, err);
    if (rc)
        goto out;
    if (n > 0) {
        rc = err_set(err, GR_ECONFLICT, "id",
                     "%" PRId64 " department(s) serve the unit; delete or move them first", n);
        goto out;
    }
    st = db_prepare(c, "DELETE FROM org_units WHERE id = ?", err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, a->id);
    rc = db_run(st, err);
    if (rc == GR_ECONFLICT)
        err_set(err, rc, "id", "the unit is still referenced (by accounts or other records)");
    a->grid_geometry_changed = !rc && cur.kind == ORG_GRID && cur.has_boundary;
out:
    db_done(st);
    return rc;
}

int org_unit_delete(gr_ctx *ctx, int64_t id, gr_err *err)
{
    struct delete_arg a = {id, 0};
    int rc = db_write(ctx->db, delete_fn, &a, err);

    if (!rc && a.grid_geometry_changed)
        index_follow(ctx);
    return rc;
}

/* ---- departments ---- */

#define DEPT_COLS "id, org_id, name, full_name, level, code, created_at, updated_at, version"

static void dept_read(db_stmt *st, arena *a, void *out)
{
    org_dept *d = out;

    memset(d, 0, sizeof(*d));
    d->id = db_col_int(st, 0);
    d->org_id = db_col_int(st, 1);
    d->name = db_col_textdup(st, 2, a);
    d->full_name = db_col_textdup(st, 3, a);
    d->level = org_kind_parse(db_col_text(st, 4));
    d->code = db_col_textdup(st, 5, a);
    d->created_at = db_col_int(st, 6);
    d->updated_at = db_col_int(st, 7);
    d->version = db_col_int(st, 8);
}

int org_dept_get(db_conn *c, arena *a, int64_t id, org_dept *out, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT " DEPT_COLS " FROM departments WHERE id = ?", err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_read_one(st, a, dept_read, out, err);
    if (rc == GR_ENOTFOUND)
        rc = err_set(err, GR_ENOTFOUND, "id", "no department with id %" PRId64, id);
    db_done(st);
    return rc;
}

/* The level must be the org unit's kind or above it: a district department
 * may serve a street, a street one cannot serve the district. */
static int dept_level_check(db_conn *c, int64_t org_id, int *level, gr_err *err)
{
    struct unit_row u;
    int rc = unit_row_get(c, org_id, "org_id", &u, err);

    if (rc)
        return rc;
    if (*level < 0)
        *level = u.kind;
    if (*level > u.kind)
        return err_set(err, GR_EINVAL, "level",
                       "a department at %s level cannot serve a %s (org unit %" PRId64 ")",
                       org_kind_name(*level), org_kind_name(u.kind), org_id);
    return 0;
}

/* Names and codes are unique per org unit; a clear message beats the constraint's. */
static int dept_unique_check(db_conn *c, int64_t id, int64_t org_id, const char *name,
                             const char *code, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, name = ?3 FROM departments WHERE org_id = ?1 AND id != ?2 "
                             "AND (name = ?3 OR code = ?4) LIMIT 1",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, org_id);
    db_bind_int(st, 2, id);
    db_bind_text(st, 3, name);
    db_bind_text(st, 4, code);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        int by_name = (int)db_col_int(st, 1);

        rc = err_set(err, GR_EEXIST, by_name ? "name" : "code",
                     "department %" PRId64 " of org unit %" PRId64 " already has this %s",
                     db_col_int(st, 0), org_id, by_name ? "name" : "code");
    } else if (rc == DB_DONE) {
        rc = 0;
    }
    db_done(st);
    return rc;
}

struct dept_create_arg {
    const org_dept_input *in;
    int64_t id;
};

static int dept_create_fn(db_conn *c, void *arg, gr_err *err)
{
    struct dept_create_arg *a = arg;
    int level = a->in->level;
    int64_t now = time_now_ms();
    db_stmt *st = NULL;
    int rc;

    rc = dept_level_check(c, a->in->org_id, &level, err);
    if (!rc)
        rc = dept_unique_check(c, 0, a->in->org_id, a->in->name, a->in->code, err);
    if (rc)
        goto out;
    st = db_prepare(c,
                    "INSERT INTO departments (org_id, name, full_name, level, code, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, a->in->org_id);
    db_bind_text(st, 2, a->in->name);
    db_bind_text(st, 3, a->in->full_name);
    db_bind_text(st, 4, org_kind_name(level));
    db_bind_text(st, 5, a->in->code);
    db_bind_int(st, 6, now);
    db_bind_int(st, 7, now);
    rc = db_run(st, err);
    if (rc == GR_EEXIST)
        err_set(err, rc, "name", "the org unit already has a department with this name or code");
    a->id = db_last_id(c);
out:
    db_done(st);
    return rc;
}

int org_dept_create(gr_ctx *ctx, const org_dept_input *in, int64_t *id, gr_err *err)
{
    struct dept_create_arg a = {in, 0};
    int rc;

    if (!in->name || !*in->name)
        return err_set(err, GR_EINVAL, "name", "is required");
    rc = db_write(ctx->db, dept_create_fn, &a, err);
    if (!rc)
        *id = a.id;
    return rc;
}

struct dept_update_arg {
    int64_t id;
    const org_dept_patch *p;
};

static int dept_update_fn(db_conn *c, void *arg, gr_err *err)
{
    struct dept_update_arg *a = arg;
    const org_dept_patch *p = a->p;
    arena *ar = arena_new();
    org_dept cur;
    int64_t org_id;
    int level;
    db_stmt *st = NULL;
    int rc;

    rc = org_dept_get(c, ar, a->id, &cur, err);
    if (!rc)
        rc = version_check(p->version, cur.version, "department", err);
    if (rc)
        goto out;
    org_id = p->org_id ? p->org_id : cur.org_id;
    level = p->level >= 0 ? p->level : cur.level;
    rc = dept_level_check(c, org_id, &level, err);
    if (!rc)
        rc = dept_unique_check(c, a->id, org_id, p->name ? p->name : cur.name,
                               p->set_code ? p->code : cur.code, err);
    if (rc)
        goto out;
    st = db_prepare(c,
                    "UPDATE departments SET org_id = ?1, name = coalesce(?2, name), "
                    "full_name = CASE WHEN ?3 THEN ?4 ELSE full_name END, level = ?5, "
                    "code = CASE WHEN ?6 THEN ?7 ELSE code END, updated_at = ?8, "
                    "version = version + 1 WHERE id = ?9",
                    err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, org_id);
    db_bind_text(st, 2, p->name);
    db_bind_int(st, 3, p->set_full_name);
    db_bind_text(st, 4, p->full_name);
    db_bind_text(st, 5, org_kind_name(level));
    db_bind_int(st, 6, p->set_code);
    db_bind_text(st, 7, p->code);
    db_bind_int(st, 8, time_now_ms());
    db_bind_int(st, 9, a->id);
    rc = db_run(st, err);
    if (rc == GR_EEXIST)
        err_set(err, rc, "name", "the org unit already has a department with this name or code");
out:
    db_done(st);
    arena_free(ar);
    return rc;
}

int org_dept_update(gr_ctx *ctx, int64_t id, const org_dept_patch *p, gr_err *err)
{
    struct dept_update_arg a = {id, p};

    if (p->name && !*p->name)
        return err_set(err, GR_EINVAL, "name", "must not be empty");
    return db_write(ctx->db, dept_update_fn, &a, err);
}

static int dept_delete_fn(db_conn *c, void *arg, gr_err *err)
{
    int64_t id = *(int64_t *)arg, n = 0;
    db_stmt *st;
    int rc;

    rc = db_query_int(c, "SELECT count(*) FROM departments WHERE id = ?", id, 0, &n, err);
    if (rc)
        return rc;
    if (n == 0)
        return err_set(err, GR_ENOTFOUND, "id", "no department with id %" PRId64, id);
    st = db_prepare(c, "DELETE FROM departments WHERE id = ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_ECONFLICT)
        err_set(err, rc, "id", "the department is still referenced (by accounts or cases)");
    return rc;
}

int org_dept_delete(gr_ctx *ctx, int64_t id, gr_err *err)
{
    return db_write(ctx->db, dept_delete_fn, &id, err);
}

int org_dept_list(db_conn *c, arena *a, const org_dept_filter *f, org_dept **out, size_t *n,
                  int *more, gr_err *err)
{
    db_stmt *st = NULL;
    void *v = NULL;
    int rc;

    *n = 0;
    *more = 0;
    rc = subtree_prepare(
        c, a, f->scope,
        "SELECT d.id, d.org_id, d.name, d.full_name, d.level, d.code, d.created_at, "
        "d.updated_at, d.version FROM departments d JOIN org_units u ON u.id = d.org_id "
        "WHERE u.path >= ?1 AND u.path < ?2 AND d.id > ?3 "
        "AND (?4 = 0 OR d.org_id = ?4) "
        "AND (?5 IS NULL OR instr(d.name, ?5) > 0 OR instr(d.full_name, ?5) > 0) "
        "ORDER BY d.id LIMIT ?6",
        &st, err);
    if (rc)
        goto out;
    db_bind_int(st, 3, f->after);
    db_bind_int(st, 4, f->org_id);
    db_bind_text(st, 5, f->q && *f->q ? f->q : NULL);
    db_bind_int(st, 6, f->limit + 1);
    rc = db_read_page(st, a, f->limit, sizeof(org_dept), dept_read, &v, n, more, err);
    *out = v;
out:
    db_done(st);
    return rc;
}

int org_unit_column(db_conn *c, int64_t unit, const char **col, gr_err *err)
{
    static const char *const kinds[][2] = {{"city", "city_id"},
                                           {"district", "district_id"},
                                           {"street", "street_id"},
                                           {"community", "community_id"},
                                           {"grid", "grid_id"}};
    db_stmt *st = db_prepare(c, "SELECT kind FROM org_units WHERE id = ?", err);
    const char *kind;
    size_t i;
    int rc;

    *col = NULL;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, unit);
    rc = db_step(st, err);
    if (rc == DB_ROW && (kind = db_col_text(st, 0)) != NULL)
        for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
            if (strcmp(kind, kinds[i][0]) == 0)
                *col = kinds[i][1];
    db_done(st);
    return rc < 0 ? rc : 0;
}
