/*
 * Areas and their queries (bd_area.h). The SQL of every query is put
 * together from a FROM and a WHERE part chosen by the area's kind; the
 * parameters have fixed numbers so that one binding serves every query:
 * ?1..?5 the unit chain (city .. grid), ?6..?9 the ids of the buildings,
 * organisations, facilities and spaces of a drawn area (JSON arrays read
 * with json_each), ?10 today, ?11 after, ?12 limit.
 */
#include "basedata/bd_area.h"
#include "basedata/bd_model.h"
#include "basedata/bd_tally.h"

#include "base/buf.h"
#include "base/timeutil.h"
#include "geo/coord.h"
#include "geo/shape.h"
#include "org/org.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const chain_cols[5] = {"city_id", "district_id", "street_id", "community_id",
                                          "grid_id"};

/* Metres per degree of latitude on the sphere geo_distance_m uses. */
#define M_PER_DEG 111195.08
/* Widens bounding boxes: the R*Trees store 32-bit floats rounded outwards. */
#define BOX_EPS 1e-5

void bd_area_free(bd_area *a)
{
    geo_shape_free(a->geo);
    a->geo = NULL;
}

/* Converts every [lon, lat] position under v to WGS-84 in place; what is not
 * a position is left for the validator to refuse. */
static void coords_to_wgs84(json_t *v, geo_crs crs, int depth)
{
    json_t *e;
    size_t i;
    double lat, lon;

    if (!json_is_array(v) || depth > 4)
        return;
    if (json_array_size(v) >= 2 && json_is_number(json_array_get(v, 0))) {
        if (!json_is_number(json_array_get(v, 1)))
            return;
        lon = json_number_value(json_array_get(v, 0));
        lat = json_number_value(json_array_get(v, 1));
        if (!isfinite(lat) || !isfinite(lon) || fabs(lat) > 90 || fabs(lon) > 180)
            return;
        geo_to_wgs84(crs, lat, lon, &lat, &lon);
        json_array_set_new(v, 0, json_real(lon));
        json_array_set_new(v, 1, json_real(lat));
        return;
    }
    json_array_foreach(v, i, e) coords_to_wgs84(e, crs, depth + 1);
}

int bd_area_parse_polygon(const char *text, size_t len, const char *crs_name, const char *field,
                          bd_area *out, gr_err *err)
{
    geo_shape *shape = NULL;
    json_t *root = NULL;
    char *conv = NULL;
    geo_crs crs;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = geo_crs_arg(crs_name, &crs, err)) != 0)
        goto out;
    if (crs != GEO_CRS_WGS84 && text &&
        (root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) != NULL &&
        json_is_object(root)) {
        coords_to_wgs84(json_object_get(root, "coordinates"), crs, 0);
        conv = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
        if (!conv) {
            rc = err_set(err, GR_EINTERNAL, field, "out of memory");
            goto out;
        }
        text = conv;
        len = strlen(conv);
    }
    out->kind = BD_AREA_POLYGON;
    if ((rc = geo_shape_read(text, len, field, &shape, err)) != 0)
        goto out;
    out->geo = shape;
    geo_shape_extent(shape, &out->min_lon, &out->min_lat, &out->max_lon, &out->max_lat);
out:
    free(conv);
    json_decref(root);
    return rc;
}

int bd_area_circle(double lat, double lon, double radius_m, bd_area *out, gr_err *err)
{
    double dlat, dlon, c;

    memset(out, 0, sizeof(*out));
    if (geo_check_latlon(lat, lon, err))
        return GR_EINVAL;
    if (!isfinite(radius_m) || radius_m <= 0 || radius_m > BD_AREA_RADIUS_MAX)
        return err_set(err, GR_EINVAL, "radius", "must be more than 0 and at most %.0f metres",
                       BD_AREA_RADIUS_MAX);
    dlat = radius_m / M_PER_DEG;
    c = cos(lat * M_PI / 180.0);
    /* Near a pole every longitude is close: take them all. */
    dlon = c > 1e-6 ? dlat / c : 360.0;
    out->kind = BD_AREA_CIRCLE;
    out->lat = lat;
    out->lon = lon;
    out->radius_m = radius_m;
    out->min_lat = fmax(-90.0, lat - dlat);
    out->max_lat = fmin(90.0, lat + dlat);
    out->min_lon = fmax(-180.0, lon - dlon);
    out->max_lon = fmin(180.0, lon + dlon);
    return 0;
}

/* A whole decimal number: no trailing text, no "inf" or "nan", no hex. */
static int number_of(const char *s, size_t n, double *out)
{
    char tmp[40], *end;
    size_t i;

    if (n == 0 || n >= sizeof(tmp))
        return -1;
    for (i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", s[i]))
            return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *out = strtod(tmp, &end);
    return *end == '\0' && isfinite(*out) ? 0 : -1;
}

int bd_area_parse_near(const char *near, const char *radius, const char *crs_name, bd_area *out,
                       gr_err *err)
{
    const char *comma;
    double lat, lon, r;
    geo_crs crs;

    memset(out, 0, sizeof(*out));
    if (geo_crs_arg(crs_name, &crs, err))
        return GR_EINVAL;
    if (!near || !(comma = strchr(near, ',')) || number_of(near, (size_t)(comma - near), &lat) ||
        number_of(comma + 1, strlen(comma + 1), &lon))
        return err_set(err, GR_EINVAL, "near", "must be lat,lon in decimal degrees");
    if (!isfinite(lat) || !isfinite(lon) || fabs(lat) > 90 || fabs(lon) > 180)
        return err_set(err, GR_EINVAL, "near", "lat must be within ±90 and lon within ±180");
    if (!radius || number_of(radius, strlen(radius), &r))
        return err_set(err, GR_EINVAL, "radius", "is required with near, in metres");
    geo_to_wgs84(crs, lat, lon, &lat, &lon);
    return bd_area_circle(lat, lon, r, out, err);
}

static int level_of(const int64_t chain[5], int64_t unit)
{
    int i;

    for (i = 4; i >= 0; i--)
        if (chain[i] == unit)
            return i;
    return -1;
}

int bd_area_unit(db_conn *c, int64_t unit, const char *field, bd_area *out, gr_err *err)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = bd_chain_of_unit(c, unit, field, out->chain, err);
    if (rc)
        return rc;
    out->level = level_of(out->chain, unit);
    if (out->level < 0)
        return err_set(err, GR_EINVAL, field,
                       "the unit is no city, district, street, "
                       "community or grid");
    out->kind = BD_AREA_UNIT;
    out->unit = unit;
    return 0;
}

int bd_area_contains(const bd_area *a, double lat, double lon)
{
    if (!isfinite(lat) || !isfinite(lon) || lat < a->min_lat || lat > a->max_lat ||
        lon < a->min_lon || lon > a->max_lon)
        return 0;
    if (a->kind == BD_AREA_CIRCLE)
        return geo_distance_m(a->lat, a->lon, lat, lon) <= a->radius_m;
    if (a->kind != BD_AREA_POLYGON || !a->geo)
        return 0;
    return geo_shape_contains(a->geo, lat, lon);
}

/* Whether a drawn area meets the scope unit's boundary (1 when the unit has
 * none: the records' chains decide alone). */
static int drawn_meets_scope(db_conn *c, const bd_area *a, int64_t scope, gr_err *err)
{
    db_stmt *st = db_prepare(c, "SELECT boundary FROM org_units WHERE id = ?", err);
    gr_err perr = {0};
    const char *text;
    int rc, meets = 1;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, scope);
    rc = db_step(st, err);
    if (rc != DB_ROW || !(text = db_col_text(st, 0)))
        goto out;
    /* A circle is tested by its bounding box: a little generous, never too
     * strict. A stored boundary that no longer reads decides nothing. */
    if (geo_shape_meets(a->kind == BD_AREA_POLYGON ? a->geo : NULL, a->min_lon, a->min_lat,
                        a->max_lon, a->max_lat, text, strlen(text), "boundary", &meets, &perr))
        meets = 1;
out:
    db_done(st);
    return rc < 0 ? rc : meets;
}

/* bd_area_unit clears the area: keeps the scope over it. */
static int unit_keep_scope(db_conn *c, bd_area *a, int64_t unit, const char *field, gr_err *err)
{
    int64_t scope = a->scope;
    const char *col = a->scope_col;
    int rc = bd_area_unit(c, unit, field, a, err);

    a->scope = scope;
    a->scope_col = col;
    return rc;
}

int bd_area_scope(db_conn *c, bd_area *a, int64_t scope, const char *field, gr_err *err)
{
    int rc;

    a->scope = scope;
    a->scope_col = NULL;
    if (scope && (rc = org_unit_column(c, scope, &a->scope_col, err)) != 0)
        return rc;
    if (a->kind == BD_AREA_NONE) {
        if (scope)
            return unit_keep_scope(c, a, scope, field, err);
        a->kind = BD_AREA_UNIT;
        a->unit = 0;
        a->level = -1;
        return 0;
    }
    if (!scope)
        return 0;
    if (a->kind == BD_AREA_UNIT) {
        if (org_is_within(c, scope, a->unit))
            return 0;
        if (org_is_within(c, a->unit, scope))
            return unit_keep_scope(c, a, scope, field, err);
        return err_set(err, GR_EFORBIDDEN, field, "the unit lies outside your area");
    }
    rc = drawn_meets_scope(c, a, scope, err);
    if (rc < 0)
        return rc;
    if (!rc)
        return err_set(err, GR_EFORBIDDEN, field, "the area lies outside your area");
    return 0;
}

/* ---- resolving a drawn area ---- */

/* The ids (a JSON array, in ar) of the live rows of sql's table whose point
 * passes the exact test; sql selects id, lat, lon from a bounding box
 * (?1..?4) and, when the area has a scope, the scope unit (?5). */
static int ids_inside(db_conn *c, arena *ar, const bd_area *a, const char *sql, const char **out,
                      int64_t *count, gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    buf b = {0};
    int64_t n = 0;
    int rc;

    *out = "[]";
    if (!st)
        return GR_EINTERNAL;
    db_bind_double(st, 1, a->min_lat - BOX_EPS);
    db_bind_double(st, 2, a->max_lat + BOX_EPS);
    db_bind_double(st, 3, a->min_lon - BOX_EPS);
    db_bind_double(st, 4, a->max_lon + BOX_EPS);
    db_bind_int(st, 5, a->scope);
    buf_puts(&b, "[");
    while ((rc = db_step(st, err)) == DB_ROW) {
        if (!bd_area_contains(a, db_col_double(st, 1), db_col_double(st, 2)))
            continue;
        buf_printf(&b, "%s%lld", n ? "," : "", (long long)db_col_int(st, 0));
        n++;
    }
    db_done(st);
    buf_puts(&b, "]");
    if (rc == DB_DONE) {
        *out = arena_strdup(ar, b.data);
        if (count)
            *count = n;
    }
    buf_free(&b);
    return rc < 0 ? rc : 0;
}

int bd_area_resolve(db_conn *c, arena *ar, bd_area *a, gr_err *err)
{
    static const char *const rtrees[][2] = {{"bd_orgs", "bd_orgs_geo"},
                                            {"bd_facilities", "bd_facilities_geo"},
                                            {"bd_spaces", "bd_spaces_geo"}};
    const char **outs[3] = {&a->orgs, &a->facilities, &a->spaces};
    char scope[64], sql[512];
    int i, rc;

    a->buildings = a->orgs = a->facilities = a->spaces = "[]";
    a->nbuildings = 0;
    if (a->kind != BD_AREA_POLYGON && a->kind != BD_AREA_CIRCLE)
        return 0;
    /* A scope whose kind has no chain column matches nothing. */
    if (a->scope && !a->scope_col)
        return 0;
    if (a->scope)
        snprintf(scope, sizeof(scope), " AND t.%s = ?5", a->scope_col);
    else
        scope[0] = '\0';
    snprintf(sql, sizeof(sql),
             "SELECT t.id, t.lat, t.lon FROM bd_buildings t WHERE t.lat BETWEEN ?1 AND ?2 AND "
             "t.lon BETWEEN ?3 AND ?4 AND t.retired_at IS NULL%s ORDER BY t.id",
             scope);
    rc = ids_inside(c, ar, a, sql, &a->buildings, &a->nbuildings, err);
    for (i = 0; i < 3 && !rc; i++) {
        snprintf(sql, sizeof(sql),
                 "SELECT t.id, t.lat, t.lon FROM %s g JOIN %s t ON t.id = g.id WHERE "
                 "g.min_lat >= ?1 AND g.max_lat <= ?2 AND g.min_lon >= ?3 AND g.max_lon <= ?4 "
                 "AND t.retired_at IS NULL%s ORDER BY t.id",
                 rtrees[i][1], rtrees[i][0], scope);
        rc = ids_inside(c, ar, a, sql, outs[i], NULL, err);
    }
    return rc;
}

void bd_area_today(char out[11])
{
    time_t t = (time_t)(time_now_ms() / 1000) + 8 * 3600;
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

/* ---- the parts of the SQL ---- */

static int drawn(const bd_area *a)
{
    return a->kind == BD_AREA_POLYGON || a->kind == BD_AREA_CIRCLE;
}

/* "alias.<chain column> = ?n" of the area's unit, or "1" for everything. */
static const char *unit_cond(arena *ar, const bd_area *a, const char *alias)
{
    if (a->unit == 0 || a->level < 0)
        return "1";
    return arena_printf(ar, "%s.%s = ?%d", alias, chain_cols[a->level], a->level + 1);
}

/* The city units: their tallies together hold everyone with a city. */
#define CITIES_SQL "SELECT id FROM org_units WHERE kind = 'city'"

/* A unit area of one unit, whose counts are that unit's tally rows (?level). */
static int one_unit(const bd_area *a)
{
    return !drawn(a) && a->unit && a->level >= 0;
}

typedef struct part {
    const char *from, *where;
} part;

/* People, alias p; with_house: h (the house) joined too. */
static part people_part(arena *ar, const bd_area *a, int with_house)
{
    part p;

    if (drawn(a)) {
        p.from = "json_each(?6) AS bj CROSS JOIN bd_houses h ON h.building_id = bj.value AND "
                 "h.retired_at IS NULL CROSS JOIN bd_people p ON p.house_id = h.id AND "
                 "p.retired_at IS NULL";
        p.where = "1";
        return p;
    }
    p.from = with_house ? "bd_people p LEFT JOIN bd_houses h ON h.id = p.house_id" : "bd_people p";
    p.where = arena_printf(ar, "p.retired_at IS NULL AND %s", unit_cond(ar, a, "p"));
    return p;
}

static part houses_part(arena *ar, const bd_area *a)
{
    part p;

    if (drawn(a)) {
        p.from = "json_each(?6) AS bj CROSS JOIN bd_houses h ON h.building_id = bj.value AND "
                 "h.retired_at IS NULL";
        p.where = "1";
        return p;
    }
    p.from = "bd_houses h";
    p.where = arena_printf(ar, "h.retired_at IS NULL AND %s", unit_cond(ar, a, "h"));
    return p;
}

/* Organisations (o), facilities (f), spaces (s), buildings (b). */
static part thing_part(arena *ar, const bd_area *a, char alias)
{
    static const char *const tables[] = {"bd_orgs o", "bd_facilities f", "bd_spaces s",
                                         "bd_buildings b"};
    const char *al = alias == 'o' ? "o" : alias == 'f' ? "f" : alias == 's' ? "s" : "b";
    int k = alias == 'o' ? 0 : alias == 'f' ? 1 : alias == 's' ? 2 : 3;
    part p;

    p.from = tables[k];
    if (!drawn(a)) {
        p.where = arena_printf(ar, "%s.retired_at IS NULL AND %s", al, unit_cond(ar, a, al));
        return p;
    }
    switch (k) {
    case 0:
        /* An organisation is in the area by its point or by its building. */
        p.where = "o.retired_at IS NULL AND (o.id IN (SELECT value FROM json_each(?7)) OR "
                  "o.building_id IN (SELECT value FROM json_each(?6)))";
        break;
    case 1:
        p.where = "f.id IN (SELECT value FROM json_each(?8))";
        break;
    case 2:
        p.where = "s.id IN (SELECT value FROM json_each(?9))";
        break;
    default:
        p.where = "b.id IN (SELECT value FROM json_each(?6))";
    }
    return p;
}

static void area_bind(db_stmt *st, const bd_area *a, const char *today)
{
    int i;

    if (a->kind == BD_AREA_UNIT)
        for (i = 0; i < 5; i++)
            db_bind_int_or_null(st, i + 1, a->chain[i]);
    if (drawn(a)) {
        db_bind_text(st, 6, a->buildings ? a->buildings : "[]");
        db_bind_text(st, 7, a->orgs ? a->orgs : "[]");
        db_bind_text(st, 8, a->facilities ? a->facilities : "[]");
        db_bind_text(st, 9, a->spaces ? a->spaces : "[]");
    }
    if (today)
        db_bind_text(st, 10, today);
}

/* The birth year of a person p, as the tallies keep it (0015). */
#define BIRTH_YEAR_SQL "CAST(substr(p.birth_date, 1, 4) AS INTEGER)"

typedef void (*row_fn)(db_stmt *st, void *arg);

static int run(db_conn *c, const bd_area *a, const char *sql, const char *today, row_fn fn,
               void *arg, gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    area_bind(st, a, today);
    while ((rc = db_step(st, err)) == DB_ROW)
        fn(st, arg);
    db_done(st);
    return rc < 0 ? rc : 0;
}

/* ---- who lives in an area ---- */

static void person_row(db_stmt *st, arena *ar, void *out)
{
    bd_area_person *p = out;

    p->id = db_col_int(st, 0);
    p->name_hint = db_col_textdup(st, 1, ar);
    p->sex = db_col_textdup(st, 2, ar);
    p->birth_date = db_col_textdup(st, 3, ar);
    p->residency = db_col_textdup(st, 4, ar);
    p->house_id = db_col_int(st, 5);
    p->building_id = db_col_int(st, 6);
    p->care_tags = db_col_textdup(st, 7, ar);
}

int bd_area_people(db_conn *c, arena *ar, const bd_area *a, int64_t after, int64_t limit,
                   bd_area_person **out, size_t *n, int *more, gr_err *err)
{
    part p = people_part(ar, a, 1);
    const char *sql = arena_printf(
        ar,
        "SELECT p.id, p.name_hint, p.sex, p.birth_date, p.residency, p.house_id, h.building_id, "
        "p.care_tags FROM %s WHERE %s AND p.id > ?11 ORDER BY p.id LIMIT ?12",
        p.from, p.where);
    db_stmt *st = db_prepare(c, sql, err);
    int rc;

    *out = NULL;
    *n = 0;
    *more = 0;
    if (!st)
        return GR_EINTERNAL;
    area_bind(st, a, NULL);
    db_bind_int(st, 11, after);
    db_bind_int(st, 12, limit + 1);
    rc =
        db_read_page(st, ar, limit, sizeof(bd_area_person), person_row, (void **)out, n, more, err);
    db_done(st);
    return rc;
}

/* ---- counts ---- */

static void count_into(json_t *o, const char *key, int64_t n)
{
    json_t *v = json_object_get(o, key);

    json_object_set_new(o, key, json_integer((v ? json_integer_value(v) : 0) + n));
}

static void pair_row(db_stmt *st, void *arg)
{
    const char *k = db_col_text(st, 0);

    count_into(arg, k ? k : "unspecified", db_col_int(st, 1));
}

static json_t *zeroed(const char *const (*codes)[2], size_t n)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < n; i++)
        json_object_set_new(o, codes[i][0], json_integer(0));
    return o;
}

/* Residency × 5-year band (0..20, 20: 100+) × sex, one aggregate. */
typedef struct pop {
    int64_t n[3][21][2]; /* registered, permanent, floating; band; M, F */
    int64_t total;
} pop;

static void pop_row(db_stmt *st, void *arg)
{
    pop *p = arg;
    const char *res = db_col_text(st, 0), *sex = db_col_text(st, 2);
    int64_t band = db_col_int(st, 1), n = db_col_int(st, 3);
    int r = res && strcmp(res, "registered") == 0  ? 0
            : res && strcmp(res, "permanent") == 0 ? 1
                                                   : 2;

    if (band < 0)
        band = 0;
    if (band > 20)
        band = 20;
    p->n[r][band][sex && sex[0] == 'F'] += n;
    p->total += n;
}

/* The rows (residency, sex, birth_year, n) a population is summed from. A
 * unit reads its tally (0015), a grid its people (bd_tally.h,
 * BD_TALLY_POP_LEVELS); everything is the tallies of the cities and the few
 * people without a city; a drawn area counts its people. */
static const char *pop_source(arena *ar, const bd_area *a)
{
    part p;

    if (one_unit(a) && a->level >= BD_TALLY_POP_LEVELS)
        return arena_printf(ar,
                            "SELECT p.residency AS residency, p.sex AS sex, " BIRTH_YEAR_SQL
                            " AS birth_year, 1 AS n FROM bd_people p WHERE %s AND "
                            "p.retired_at IS NULL",
                            unit_cond(ar, a, "p"));
    if (one_unit(a))
        return arena_printf(ar,
                            "SELECT residency, sex, birth_year, n FROM bd_pop_tally WHERE "
                            "unit_id = ?%d AND n > 0",
                            a->level + 1);
    if (!drawn(a))
        return "SELECT residency, sex, birth_year, n FROM bd_pop_tally WHERE unit_id IN "
               "(" CITIES_SQL ") AND n > 0 UNION ALL SELECT p.residency, p.sex, " BIRTH_YEAR_SQL
               ", 1 FROM bd_people p WHERE p.city_id IS NULL AND p.retired_at IS NULL";
    p = people_part(ar, a, 0);
    return arena_printf(ar,
                        "SELECT p.residency AS residency, p.sex AS sex, " BIRTH_YEAR_SQL
                        " AS birth_year, 1 AS n FROM %s WHERE %s",
                        p.from, p.where);
}

/* Ages are taken at 31 December of today's year (?10): every 5-year band is
 * a range of birth years, which is what lets a tally keep them. */
static int pop_read(db_conn *c, arena *ar, const bd_area *a, const char *today, pop *out,
                    gr_err *err)
{
    const char *sql = arena_printf(ar,
                                   "SELECT residency, min(max(0, CAST(substr(?10, 1, 4) AS "
                                   "INTEGER) - birth_year) / 5, 20), sex, sum(n) FROM (%s) "
                                   "GROUP BY 1, 2, 3",
                                   pop_source(ar, a));

    memset(out, 0, sizeof(*out));
    return run(c, a, sql, today, pop_row, out, err);
}

static int64_t pop_sum(const pop *p, int res, int b0, int b1)
{
    int64_t s = 0;
    int r, b;

    for (r = 0; r < 3; r++)
        for (b = b0; b <= b1; b++)
            if (res < 0 || res == r)
                s += p->n[r][b][0] + p->n[r][b][1];
    return s;
}

static json_t *residency_json(const pop *p)
{
    return json_pack("{s:I, s:I, s:I}", "registered", (json_int_t)pop_sum(p, 0, 0, 20), "permanent",
                     (json_int_t)pop_sum(p, 1, 0, 20), "floating",
                     (json_int_t)pop_sum(p, 2, 0, 20));
}

/* A (key, count) aggregate: one unit reads its tally, everything reads the
 * cities' tallies and counts the rows without a city (no_city), a drawn
 * area counts its rows (drawn_sql). */
static const char *counts_sql(arena *ar, const bd_area *a, const char *tally, const char *key,
                              const char *no_city, const char *drawn_sql)
{
    if (one_unit(a))
        return arena_printf(ar,
                            "SELECT %s, sum(n) FROM %s WHERE unit_id = ?%d AND n > 0 GROUP BY 1",
                            key, tally, a->level + 1);
    if (!drawn(a))
        return arena_printf(ar,
                            "SELECT %s, sum(n) FROM (SELECT %s, n FROM %s WHERE unit_id IN "
                            "(" CITIES_SQL ") AND n > 0 UNION ALL %s) GROUP BY 1",
                            key, key, tally, no_city);
    return drawn_sql;
}

static int houses_json(db_conn *c, arena *ar, const bd_area *a, json_t **out, gr_err *err)
{
    part p = houses_part(ar, a);
    const char *sql = counts_sql(
        ar, a, "bd_house_tally", "occupancy",
        "SELECT occupancy, 1 FROM bd_houses WHERE city_id IS NULL AND retired_at IS NULL",
        arena_printf(ar, "SELECT h.occupancy, count(*) FROM %s WHERE %s GROUP BY 1", p.from,
                     p.where));
    json_t *o = json_pack("{s:i, s:i}", "occupied", 0, "vacant", 0);
    int rc = run(c, a, sql, NULL, pair_row, o, err);

    json_object_set_new(o, "total",
                        json_integer(json_integer_value(json_object_get(o, "occupied")) +
                                     json_integer_value(json_object_get(o, "vacant"))));
    *out = o;
    return rc;
}

static int tags_json(db_conn *c, arena *ar, const bd_area *a, json_t **out, gr_err *err)
{
    part p = people_part(ar, a, 0);
    const char *sql = counts_sql(
        ar, a, "bd_tag_tally", "tag",
        "SELECT t.tag, 1 FROM bd_people p CROSS JOIN bd_person_tags t ON t.person_id = p.id "
        "WHERE p.city_id IS NULL AND p.retired_at IS NULL",
        arena_printf(ar,
                     "SELECT t.tag, count(*) FROM %s CROSS JOIN bd_person_tags t ON "
                     "t.person_id = p.id WHERE %s GROUP BY 1",
                     p.from, p.where));

    *out = zeroed(bd_care_tags, bd_ncare_tags);
    return run(c, a, sql, NULL, pair_row, *out, err);
}

static int group_json(db_conn *c, arena *ar, const bd_area *a, char alias, const char *expr,
                      json_t *into, gr_err *err)
{
    part p = thing_part(ar, a, alias);
    const char *sql =
        arena_printf(ar, "SELECT %s, count(*) FROM %s WHERE %s GROUP BY 1", expr, p.from, p.where);

    return run(c, a, sql, NULL, pair_row, into, err);
}

static int64_t sum_of(json_t *o)
{
    const char *k;
    json_t *v;
    int64_t s = 0;

    json_object_foreach(o, k, v) s += json_integer_value(v);
    return s;
}

int bd_area_summary(db_conn *c, const bd_area *a, const char *today, json_t **out, gr_err *err)
{
    static const char *const types[][2] = {
        {"enterprise", ""}, {"social", ""}, {"individual", ""}, {"public", ""}};
    static const char *const states[][2] = {
        {"normal", ""}, {"damaged", ""}, {"lost", ""}, {"removed", ""}};
    arena *ar = arena_new();
    json_t *o = NULL, *tags = NULL, *houses = NULL;
    json_t *otype = zeroed(types, 4), *oind = json_object(), *fmaj = json_object(),
           *fstate = zeroed(states, 4);
    pop p;
    int rc;

    *out = NULL;
    if (!ar) {
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    rc = pop_read(c, ar, a, today, &p, err);
    if (!rc)
        rc = tags_json(c, ar, a, &tags, err);
    if (!rc)
        rc = houses_json(c, ar, a, &houses, err);
    if (!rc)
        rc = group_json(c, ar, a, 'o', "o.type", otype, err);
    if (!rc)
        rc = group_json(c, ar, a, 'o', "o.industry", oind, err);
    if (!rc)
        rc = group_json(c, ar, a, 'f', "printf('%02d', f.major)", fmaj, err);
    if (!rc)
        rc = group_json(c, ar, a, 'f', "f.state", fstate, err);
    if (rc)
        goto out;
    o = json_pack(
        "{s:{s:I, s:o, s:{s:I, s:I, s:I, s:I}, s:O}, s:O, s:{s:I, s:O, s:O}, s:{s:I, s:O, s:O}}",
        "population", "total", (json_int_t)p.total, "by_residency", residency_json(&p),
        "by_age_band", "0-14", (json_int_t)pop_sum(&p, -1, 0, 2), "15-59",
        (json_int_t)pop_sum(&p, -1, 3, 11), "60-79", (json_int_t)pop_sum(&p, -1, 12, 15), "80+",
        (json_int_t)pop_sum(&p, -1, 16, 20), "by_care_tag", tags, "houses", houses, "orgs", "total",
        (json_int_t)sum_of(otype), "by_type", otype, "by_industry", oind, "facilities", "total",
        (json_int_t)sum_of(fstate), "by_major", fmaj, "by_state", fstate);
    if (o && drawn(a))
        json_object_set_new(o, "buildings", json_integer(a->nbuildings));
    if (!o)
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
    *out = o;
out:
    json_decref(tags);
    json_decref(houses);
    json_decref(otype);
    json_decref(oind);
    json_decref(fmaj);
    json_decref(fstate);
    arena_free(ar);
    return rc;
}

/* ---- statistics ---- */

int bd_area_stats(db_conn *c, const bd_area *a, const char *today, json_t **out, gr_err *err)
{
    arena *ar = arena_new();
    json_t *pyr = json_array(), *houses = NULL, *oind = json_object();
    pop p;
    int b, rc;
    int64_t floating;

    *out = NULL;
    if (!ar) {
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    rc = pop_read(c, ar, a, today, &p, err);
    if (!rc)
        rc = houses_json(c, ar, a, &houses, err);
    if (!rc)
        rc = group_json(c, ar, a, 'o', "o.industry", oind, err);
    if (rc)
        goto out;
    for (b = 0; b <= 20; b++) {
        int64_t m = p.n[0][b][0] + p.n[1][b][0] + p.n[2][b][0];
        int64_t f = p.n[0][b][1] + p.n[1][b][1] + p.n[2][b][1];
        char band[16];

        if (b < 20)
            snprintf(band, sizeof(band), "%d-%d", b * 5, b * 5 + 4);
        else
            snprintf(band, sizeof(band), "100+");
        json_array_append_new(pyr, json_pack("{s:s, s:I, s:I}", "band", band, "male", (json_int_t)m,
                                             "female", (json_int_t)f));
    }
    floating = pop_sum(&p, 2, 0, 20);
    *out =
        json_pack("{s:I, s:o, s:O, s:{s:I, s:f}, s:O, s:O}", "population", (json_int_t)p.total,
                  "by_residency", residency_json(&p), "pyramid", pyr, "floating", "count",
                  (json_int_t)floating, "share", p.total ? (double)floating / (double)p.total : 0.0,
                  "houses", houses, "orgs_by_industry", oind);
    if (!*out)
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
out:
    json_decref(pyr);
    json_decref(houses);
    json_decref(oind);
    arena_free(ar);
    return rc;
}

/* ---- the emergency view ---- */

typedef struct list_arg {
    json_t *items;
    int truncated;
    int64_t sum; /* shelters: the capacity */
} list_arg;

static json_t *opt_int(db_stmt *st, int i)
{
    return db_col_is_null(st, i) ? json_null() : json_integer(db_col_int(st, i));
}

static json_t *opt_real(db_stmt *st, int i)
{
    return db_col_is_null(st, i) ? json_null() : json_real(db_col_double(st, i));
}

static json_t *opt_text(db_stmt *st, int i)
{
    const char *s = db_col_text(st, i);

    return s ? json_string(s) : json_null();
}

static int list_full(list_arg *l)
{
    if (json_array_size(l->items) < BD_EMERGENCY_MAX)
        return 0;
    l->truncated = 1;
    return 1;
}

static void building_row(db_stmt *st, void *arg)
{
    list_arg *l = arg;

    if (list_full(l))
        return;
    json_array_append_new(l->items,
                          json_pack("{s:I, s:o, s:f, s:f, s:o, s:o, s:I}", "id",
                                    (json_int_t)db_col_int(st, 0), "address", opt_text(st, 1),
                                    "lat", db_col_double(st, 2), "lon", db_col_double(st, 3),
                                    "floors", opt_int(st, 4), "use", opt_text(st, 5), "people",
                                    (json_int_t)db_col_int(st, 6)));
}

static json_t *tag_list(const char *tags)
{
    json_t *arr = json_array();
    const char *s = tags, *e;

    while (s && *s) {
        e = strchr(s, ',');
        json_array_append_new(arr, e ? json_stringn(s, (size_t)(e - s)) : json_string(s));
        s = e ? e + 1 : NULL;
    }
    return arr;
}

static void vulnerable_row(db_stmt *st, void *arg)
{
    list_arg *l = arg;
    json_t *house = json_null();

    if (list_full(l))
        return;
    if (!db_col_is_null(st, 5))
        house = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "id", (json_int_t)db_col_int(st, 5),
                          "unit", opt_text(st, 6), "floor", opt_int(st, 7), "room", opt_text(st, 8),
                          "building_id", opt_int(st, 9), "address", opt_text(st, 10));
    json_array_append_new(l->items,
                          json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:b}", "id",
                                    (json_int_t)db_col_int(st, 0), "name", opt_text(st, 1), "sex",
                                    opt_text(st, 2), "birth_date", opt_text(st, 3), "care_tags",
                                    tag_list(db_col_text(st, 4)), "house", house, "masked", 1));
}

static void facility_row(db_stmt *st, void *arg)
{
    list_arg *l = arg;

    if (list_full(l))
        return;
    json_array_append_new(
        l->items,
        json_pack("{s:I, s:o, s:I, s:I, s:o, s:f, s:f, s:o}", "id", (json_int_t)db_col_int(st, 0),
                  "code", opt_text(st, 1), "major", (json_int_t)db_col_int(st, 2), "minor",
                  (json_int_t)db_col_int(st, 3), "name", opt_text(st, 4), "lat",
                  db_col_double(st, 5), "lon", db_col_double(st, 6), "state", opt_text(st, 7)));
}

static void shelter_row(db_stmt *st, void *arg)
{
    list_arg *l = arg;

    l->sum += db_col_int(st, 6);
    if (list_full(l))
        return;
    json_array_append_new(l->items, json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                                              (json_int_t)db_col_int(st, 0), "name",
                                              opt_text(st, 1), "address", opt_text(st, 2), "lat",
                                              opt_real(st, 3), "lon", opt_real(st, 4), "area_m2",
                                              opt_real(st, 5), "capacity", opt_int(st, 6)));
}

static void heads_row(db_stmt *st, void *arg)
{
    pair_row(st, arg);
}

#define ADDRESS_SQL "b.district || b.street || b.road || b.house_number || b.building"

int bd_area_emergency(db_conn *c, const bd_area *a, json_t **out, gr_err *err)
{
    static const char *const res[][2] = {{"registered", ""}, {"permanent", ""}, {"floating", ""}};
    arena *ar = arena_new();
    list_arg bl = {json_array(), 0, 0}, vl = {json_array(), 0, 0}, fl = {json_array(), 0, 0},
             sl = {json_array(), 0, 0};
    json_t *heads = zeroed(res, 3);
    part p;
    const char *sql;
    int rc;

    *out = NULL;
    if (!ar) {
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    p = thing_part(ar, a, 'b');
    sql = arena_printf(ar,
                       "SELECT b.id, " ADDRESS_SQL ", b.lat, b.lon, b.floors, b.use, "
                       "(SELECT count(*) FROM bd_houses hh CROSS JOIN bd_people pp ON "
                       "pp.house_id = hh.id AND pp.retired_at IS NULL WHERE hh.building_id = "
                       "b.id AND hh.retired_at IS NULL) FROM %s WHERE %s AND b.retired_at IS NULL "
                       "ORDER BY b.id LIMIT %d",
                       p.from, p.where, BD_EMERGENCY_MAX + 1);
    rc = run(c, a, sql, NULL, building_row, &bl, err);
    if (!rc) {
        sql = arena_printf(ar, "SELECT residency, sum(n) FROM (%s) GROUP BY 1", pop_source(ar, a));
        rc = run(c, a, sql, NULL, heads_row, heads, err);
    }
    if (!rc) {
        p = people_part(ar, a, 1);
        sql = arena_printf(ar,
                           "SELECT p.id, p.name_hint, p.sex, p.birth_date, p.care_tags, h.id, "
                           "h.unit, h.floor, h.room, b.id, " ADDRESS_SQL " FROM %s LEFT JOIN "
                           "bd_buildings b ON b.id = h.building_id WHERE %s AND p.care_tags <> '' "
                           "ORDER BY p.id LIMIT %d",
                           p.from, p.where, BD_EMERGENCY_MAX + 1);
        rc = run(c, a, sql, NULL, vulnerable_row, &vl, err);
    }
    if (!rc) {
        p = thing_part(ar, a, 'f');
        sql = arena_printf(ar,
                           "SELECT f.id, f.code, f.major, f.minor, f.name, f.lat, f.lon, f.state "
                           "FROM %s WHERE %s AND f.retired_at IS NULL ORDER BY f.id LIMIT %d",
                           p.from, p.where, BD_EMERGENCY_MAX + 1);
        rc = run(c, a, sql, NULL, facility_row, &fl, err);
    }
    if (!rc) {
        /* Every shelter counts towards the capacity, listed or not. */
        p = thing_part(ar, a, 's');
        sql = arena_printf(ar,
                           "SELECT s.id, s.name, s.address, s.lat, s.lon, s.area_m2, s.capacity "
                           "FROM %s WHERE %s AND s.retired_at IS NULL AND s.kind = "
                           "'civil_defense' ORDER BY s.id",
                           p.from, p.where);
        rc = run(c, a, sql, NULL, shelter_row, &sl, err);
    }
    if (rc)
        goto out;
    *out = json_pack("{s:{s:O, s:b}, s:{s:I, s:O}, s:{s:O, s:b}, s:{s:O, s:b}, s:{s:O, s:b, s:I}}",
                     "buildings", "items", bl.items, "truncated", bl.truncated, "head_count",
                     "total", (json_int_t)sum_of(heads), "by_residency", heads, "vulnerable",
                     "items", vl.items, "truncated", vl.truncated, "facilities", "items", fl.items,
                     "truncated", fl.truncated, "shelters", "items", sl.items, "truncated",
                     sl.truncated, "capacity", (json_int_t)sl.sum);
    if (!*out)
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
out:
    json_decref(bl.items);
    json_decref(vl.items);
    json_decref(fl.items);
    json_decref(sl.items);
    json_decref(heads);
    arena_free(ar);
    return rc;
}
