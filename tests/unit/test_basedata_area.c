/* basedata/bd_area: parsing areas from outside (reasons naming the field),
 * crs conversion, scope intersection (a unit outside scope is refused, a
 * unit above it shrinks to it, a polygon elsewhere is refused), and the
 * counts of areas over ~20,000 synthetic people inserted with SQL (sealed
 * columns hold dummy blobs), each checked exactly against an independent SQL
 * count: a grid, a polygon, a circle, paging, statistics and the emergency
 * view. No timings. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tally_check.h"
#include "testdb.h"
#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth.h"
#include "base/log.h"
#include "basedata/bd_area.h"
#include "basedata/bd_tally.h"
#include "geo/coord.h"
#include "org/org.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NBUILD = 100, HOUSES_PER = 20, PEOPLE_PER = 10 };
#define STEP  0.0004 /* degrees between buildings */
#define TODAY "2026-11-27"

static char dir[64];
static gr_ctx ctx;
static arena *A;
static int64_t worker_scope, steward_scope, grid, chain[5];
static double lat0, lon0; /* the first building; the others on a 10 × 10 lattice */

static void expect_err(int rc, const gr_err *err, int code, const char *field)
{
    if (rc != code || strcmp(err->field, field) != 0)
        print_error("got rc %d field '%s' (%s); want %d '%s'\n", rc, err->field, err->msg, code,
                    field);
    assert_int_equal(rc, code);
    assert_string_equal(err->field, field);
    assert_true(err->msg[0] != '\0');
}

static int64_t scope_of(const char *username)
{
    return gr_testdb_principal(ctx.db, A, username).scope_org_id;
}

static db_conn *rd(void)
{
    return gr_testdb_reader(ctx.db);
}

static int64_t q(const char *sql)
{
    int64_t v = -1;
    gr_err err = {0};

    assert_int_equal(db_query_int(rd(), sql, 0, -1, &v, &err), 0);
    return v;
}

/* A query with the grid (?1) and today (?2) bound. */
static int64_t qg(const char *sql)
{
    gr_err err = {0};
    db_stmt *st = db_prepare(rd(), sql, &err);
    int64_t v;

    assert_non_null(st);
    db_bind_int(st, 1, grid);
    db_bind_text(st, 2, TODAY);
    assert_int_equal(db_step(st, &err), DB_ROW);
    v = db_col_int(st, 0);
    db_done(st);
    return v;
}

/* ---- the synthetic population, in one write ---- */

static int fill(db_conn *c, void *arg, gr_err *err)
{
    static const char *const sql[] = {
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99) "
        "INSERT INTO bd_buildings (district, street, road, house_number, address_key, lat, lon, "
        "use, steward_org_id, source, city_id, district_id, street_id, community_id, grid_id, "
        "created_at, updated_at) SELECT '朝阳区', '测试街道', '测试路', (i + 1) || '号', "
        "'area-test|' || i, ?6 + (i / 10) * 0.0004, ?7 + (i % 10) * 0.0004, 'residential', ?5, "
        "'imported', ?1, ?2, ?3, ?4, ?5, 1, 1 FROM n",
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999) "
        "INSERT INTO bd_houses (building_id, room, use, ownership, occupancy, steward_org_id, "
        "source, city_id, district_id, street_id, community_id, grid_id, created_at, "
        "updated_at) SELECT (SELECT min(id) FROM bd_buildings WHERE address_key LIKE "
        "'area-test|%') + i / 20, (i % 20) + 101, 'residential', 'private', CASE WHEN i % 7 = 0 "
        "THEN 'vacant' ELSE 'occupied' END, ?5, 'imported', ?1, ?2, ?3, ?4, ?5, 1, 1 FROM n",
        /* Birth dates spread over 1925..2026 so every band has people; a third
         * floating; every tenth with care tags. */
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999) "
        "INSERT INTO bd_people (name_enc, name_index, name_hint, id_number_enc, id_number_index, "
        "id_number_hint, birth_date, sex, residency, permit_start, permit_end, house_id, "
        "care_tags, steward_org_id, source, city_id, district_id, street_id, community_id, "
        "grid_id, created_at, updated_at) SELECT x'00', randomblob(32), '张*', x'00', "
        "CAST(printf('area-%08d', i) AS BLOB), '110105********0000', date('1925-01-01', '+' || "
        "((i * 7919) % 37000) || ' days'), CASE i % 2 WHEN 0 THEN 'M' ELSE 'F' END, CASE i % 3 "
        "WHEN 0 THEN 'registered' WHEN 1 THEN 'permanent' ELSE 'floating' END, CASE i % 3 WHEN "
        "2 THEN '2026-01-01' END, CASE i % 3 WHEN 2 THEN '2027-01-01' END, (SELECT min(h.id) "
        "FROM bd_houses h JOIN bd_buildings b ON b.id = h.building_id WHERE b.address_key LIKE "
        "'area-test|%') + i / 10, CASE i % 20 WHEN 0 THEN 'elderly_alone' WHEN 10 THEN "
        "'disabled,low_income' ELSE '' END, ?5, 'imported', ?1, ?2, ?3, ?4, ?5, 1, 1 FROM n",
        /* On the edges of the bands at the end of TODAY's year (born 31 December
         * and 1 January: 80 and 79, 15 and 14, 100 and 99; born later this
         * year), without a house: they count in unit areas only. */
        "INSERT INTO bd_people (name_enc, name_index, name_hint, id_number_enc, id_number_index, "
        "id_number_hint, birth_date, sex, residency, steward_org_id, source, city_id, "
        "district_id, street_id, community_id, grid_id, created_at, updated_at) SELECT x'00', "
        "randomblob(32), '王*', x'00', CAST('edge-' || d.key AS BLOB), '110105********0000', "
        "d.value, 'F', 'registered', ?5, 'imported', ?1, ?2, ?3, ?4, ?5, 1, 1 FROM "
        "json_each('[\"1946-12-31\",\"1947-01-01\",\"2011-12-31\",\"2012-01-01\",\"1926-12-31\","
        "\"1927-01-01\",\"2026-12-31\"]') d",
        "INSERT INTO bd_person_tags (tag, person_id) SELECT j.value, p.id FROM bd_people p, "
        "json_each('[\"' || replace(p.care_tags, ',', '\",\"') || '\"]') j WHERE p.care_tags "
        "<> ''",
        /* Two shelters and a garage at the first building; a facility. */
        "INSERT INTO bd_spaces (kind, name, address, lat, lon, capacity, steward_org_id, source, "
        "city_id, district_id, street_id, community_id, grid_id, created_at, updated_at) VALUES "
        "('civil_defense', '人防一号', '测试路1号', ?6, ?7, 300, ?5, 'imported', ?1, ?2, ?3, ?4, "
        "?5, 1, 1), ('civil_defense', '人防二号', '测试路2号', ?6, ?7 + 0.0004, 200, ?5, "
        "'imported', ?1, ?2, ?3, ?4, ?5, 1, 1), ('garage', '车库', '测试路3号', ?6, ?7, 50, ?5, "
        "'imported', ?1, ?2, ?3, ?4, ?5, 1, 1)",
        "INSERT INTO bd_facilities (code, county, major, minor, lat, lon, state, steward_org_id, "
        "source, city_id, district_id, street_id, community_id, grid_id, created_at, updated_at) "
        "VALUES ('1101050101000001', '110105', 1, 1, ?6, ?7, 'normal', ?5, 'imported', ?1, ?2, "
        "?3, ?4, ?5, 1, 1), ('1101050201000002', '110105', 2, 1, ?6 + 0.0036, ?7 + 0.0036, "
        "'damaged', ?5, 'imported', ?1, ?2, ?3, ?4, ?5, 1, 1)",
    };
    size_t i;
    int k, rc = 0;

    (void)arg;
    for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && !rc; i++) {
        db_stmt *st = db_prepare(c, sql[i], err);
        if (!st)
            return GR_EINTERNAL;
        for (k = 0; k < 5; k++)
            db_bind_int_or_null(st, k + 1, chain[k]);
        db_bind_double(st, 6, lat0);
        db_bind_double(st, 7, lon0);
        rc = db_run(st, err);
        db_done(st);
    }
    return rc;
}

static int rebuild_fn(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return bd_tally_rebuild(c, err);
}

static int group_setup(void **state)
{
    gr_err err = {0};

    (void)state;
    gr_testdb_demo_app(&ctx, dir, sizeof(dir), "bdarea");
    A = arena_new();
    worker_scope = scope_of("community_worker");
    steward_scope = scope_of("data_steward");
    /* A point of the worker's community: the lattice starts there. */
    assert_int_equal(gr_testdb_demo_point(&ctx, worker_scope, 1, 200, &lat0, &lon0, &grid), 0);
    assert_int_equal(org_unit_levels(rd(), grid, chain, &err), 0);
    assert_int_equal(db_write(ctx.db, fill, NULL, &err), 0);
    /* The rows went in past the model: their tallies are counted as a
     * bulk loader's are. */
    assert_int_equal(db_write(ctx.db, rebuild_fn, NULL, &err), 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    app_close(&ctx);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

/* ---- parsing ---- */

static int parse_poly(const char *text, const char *crs, bd_area *a, gr_err *err)
{
    return bd_area_parse_polygon(text, strlen(text), crs, "polygon", a, err);
}

static void test_parse(void **state)
{
    gr_err err = {0};
    bd_area a;

    (void)state;
    expect_err(parse_poly("{", NULL, &a, &err), &err, GR_EINVAL, "polygon");
    assert_non_null(strstr(err.msg, "JSON"));
    bd_area_free(&a);
    expect_err(parse_poly("{\"type\":\"Point\",\"coordinates\":[116,39]}", NULL, &a, &err), &err,
               GR_EINVAL, "polygon");
    assert_non_null(strstr(err.msg, "Polygon"));
    bd_area_free(&a);
    /* A bow tie. */
    expect_err(parse_poly("{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[116.1,39.1],"
                          "[116.1,39],[116,39.1],[116,39]]]}",
                          NULL, &a, &err),
               &err, GR_EINVAL, "polygon");
    bd_area_free(&a);
    expect_err(parse_poly("{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[116.1,39],"
                          "[116.1,39.1],[116,39]]]}",
                          "mars", &a, &err),
               &err, GR_EINVAL, "crs");
    bd_area_free(&a);

    expect_err(bd_area_parse_near("39.9", "100", NULL, &a, &err), &err, GR_EINVAL, "near");
    expect_err(bd_area_parse_near("39.9,abc", "100", NULL, &a, &err), &err, GR_EINVAL, "near");
    expect_err(bd_area_parse_near("95,116", "100", NULL, &a, &err), &err, GR_EINVAL, "near");
    expect_err(bd_area_parse_near("39.9,116.4", NULL, NULL, &a, &err), &err, GR_EINVAL, "radius");
    expect_err(bd_area_parse_near("39.9,116.4", "5001", NULL, &a, &err), &err, GR_EINVAL, "radius");
    expect_err(bd_area_parse_near("39.9,116.4", "0", NULL, &a, &err), &err, GR_EINVAL, "radius");
    expect_err(bd_area_parse_near("39.9,116.4", "inf", NULL, &a, &err), &err, GR_EINVAL, "radius");
    assert_int_equal(bd_area_parse_near("39.9,116.4", "5000", NULL, &a, &err), 0);
    assert_true(bd_area_contains(&a, 39.9, 116.4));
    assert_true(bd_area_contains(&a, 39.9 + 4990.0 / 111195.08, 116.4));
    assert_false(bd_area_contains(&a, 39.9 + 5010.0 / 111195.08, 116.4));
    bd_area_free(&a);

    expect_err(bd_area_unit(rd(), 999999999, "unit_id", &a, &err), &err, GR_EINVAL, "unit_id");
}

/* A square drawn on a GCJ-02 base map holds the WGS-84 point whose GCJ-02
 * form is its centre, and not that point's untransformed coordinates when
 * they fall outside. */
static void test_crs(void **state)
{
    double glat, glon;
    char text[256];
    gr_err err = {0};
    bd_area a;

    (void)state;
    geo_from_wgs84(GEO_CRS_GCJ02, 39.9, 116.4, &glat, &glon);
    snprintf(text, sizeof(text),
             "{\"type\":\"Polygon\",\"coordinates\":[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],"
             "[%.7f,%.7f],[%.7f,%.7f]]]}",
             glon - 0.0005, glat - 0.0005, glon + 0.0005, glat - 0.0005, glon + 0.0005,
             glat + 0.0005, glon - 0.0005, glat + 0.0005, glon - 0.0005, glat - 0.0005);
    assert_int_equal(parse_poly(text, "gcj02", &a, &err), 0);
    assert_true(bd_area_contains(&a, 39.9, 116.4));
    assert_false(bd_area_contains(&a, glat, glon));
    bd_area_free(&a);
    assert_int_equal(parse_poly(text, NULL, &a, &err), 0);
    assert_true(bd_area_contains(&a, glat, glon));
    assert_false(bd_area_contains(&a, 39.9, 116.4));
    bd_area_free(&a);
}

static void test_scope(void **state)
{
    gr_err err = {0};
    int64_t ids[5];
    char text[256];
    double w, s, e, n;
    bd_area a;

    (void)state;
    assert_int_equal(org_unit_levels(rd(), worker_scope, ids, &err), 0);
    /* The street above the worker's community shrinks to the community. */
    assert_int_equal(bd_area_unit(rd(), ids[2], "unit_id", &a, &err), 0);
    assert_int_equal(bd_area_scope(rd(), &a, worker_scope, "unit_id", &err), 0);
    assert_int_equal(a.unit, worker_scope);
    assert_int_equal(a.level, 3);
    /* No area: the scope itself. */
    memset(&a, 0, sizeof(a));
    assert_int_equal(bd_area_scope(rd(), &a, worker_scope, "unit_id", &err), 0);
    assert_int_equal(a.unit, worker_scope);

    /* Another community of the district: outside. */
    {
        db_stmt *st = db_prepare(rd(),
                                 "SELECT id FROM org_units WHERE kind = 'community' AND id <> ? "
                                 "ORDER BY id LIMIT 1",
                                 &err);
        int64_t other;
        assert_non_null(st);
        db_bind_int(st, 1, worker_scope);
        assert_int_equal(db_step(st, &err), DB_ROW);
        other = db_col_int(st, 0);
        db_done(st);
        assert_int_equal(bd_area_unit(rd(), other, "unit_id", &a, &err), 0);
        expect_err(bd_area_scope(rd(), &a, worker_scope, "unit_id", &err), &err, GR_EFORBIDDEN,
                   "unit_id");
    }
    /* A polygon at the other end of the world. */
    assert_int_equal(parse_poly("{\"type\":\"Polygon\",\"coordinates\":[[[10,10],[10.01,10],"
                                "[10.01,10.01],[10,10]]]}",
                                NULL, &a, &err),
                     0);
    expect_err(bd_area_scope(rd(), &a, worker_scope, "polygon", &err), &err, GR_EFORBIDDEN,
               "polygon");
    bd_area_free(&a);
    /* The whole demo district drawn: allowed, and only the worker's records count. */
    org_demo_extent(&w, &s, &e, &n);
    snprintf(text, sizeof(text),
             "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],"
             "[%.6f,%.6f],[%.6f,%.6f]]]}",
             w, s, e, s, e, n, w, n, w, s);
    assert_int_equal(parse_poly(text, NULL, &a, &err), 0);
    assert_int_equal(bd_area_scope(rd(), &a, worker_scope, "polygon", &err), 0);
    bd_area_free(&a);
}

/* ---- counts against independent SQL ---- */

static int64_t jget(json_t *o, const char *path1, const char *path2)
{
    json_t *v = json_object_get(o, path1);

    if (path2)
        v = json_object_get(v, path2);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* The age of the independent count: at 31 December of ?2's year (the
 * documented year-end rule), with strftime rather than substr. */
#define AGE_IND                                                                                    \
    "(CAST(strftime('%Y', ?2) AS INTEGER) - CAST(strftime('%Y', birth_date) AS INTEGER))"

static void test_grid_summary(void **state)
{
    gr_err err = {0};
    json_t *o = NULL, *pop;
    bd_area a;

    (void)state;
    assert_int_equal(bd_area_unit(rd(), grid, "unit_id", &a, &err), 0);
    assert_int_equal(bd_area_scope(rd(), &a, worker_scope, "unit_id", &err), 0);
    assert_int_equal(bd_area_resolve(rd(), A, &a, &err), 0);
    assert_int_equal(bd_area_summary(rd(), &a, TODAY, &o, &err), 0);
    pop = json_object_get(o, "population");
    assert_int_equal(jget(pop, "total", NULL), 20000 + 7);
    assert_int_equal(
        jget(pop, "total", NULL),
        qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND retired_at IS NULL"));
    assert_int_equal(jget(pop, "by_residency", "floating"),
                     qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND retired_at IS NULL "
                        "AND residency = 'floating'"));
    assert_int_equal(jget(pop, "by_age_band", "0-14"),
                     qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND " AGE_IND " < 15"));
    assert_int_equal(
        jget(pop, "by_age_band", "15-59"),
        qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND " AGE_IND " BETWEEN 15 AND 59"));
    assert_int_equal(
        jget(pop, "by_age_band", "60-79"),
        qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND " AGE_IND " BETWEEN 60 AND 79"));
    assert_int_equal(jget(pop, "by_age_band", "80+"),
                     qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND " AGE_IND " >= 80"));
    assert_int_equal(jget(pop, "by_care_tag", "low_income"),
                     qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND care_tags LIKE "
                        "'%low_income%'"));
    assert_int_equal(jget(pop, "by_care_tag", "elderly_alone"), 1000);
    assert_int_equal(jget(o, "houses", "vacant"),
                     qg("SELECT count(*) FROM bd_houses WHERE grid_id = ?1 AND occupancy = "
                        "'vacant'"));
    assert_int_equal(jget(o, "facilities", "total"), 2);
    assert_int_equal(jget(json_object_get(o, "facilities"), "by_state", "damaged"), 1);
    json_decref(o);
    bd_area_free(&a);
}

/* The rectangle of lattice rows r0..r1 and columns c0..c1, edges half way
 * between buildings. */
static void rect(char *out, size_t len, int r0, int r1, int c0, int c1)
{
    double s = lat0 + (r0 - 0.5) * STEP, n = lat0 + (r1 + 0.5) * STEP;
    double w = lon0 + (c0 - 0.5) * STEP, e = lon0 + (c1 + 0.5) * STEP;

    snprintf(out, len,
             "{\"type\":\"Polygon\",\"coordinates\":[[[%.8f,%.8f],[%.8f,%.8f],[%.8f,%.8f],"
             "[%.8f,%.8f],[%.8f,%.8f]]]}",
             w, s, e, s, e, n, w, n, w, s);
}

static void test_polygon_counts(void **state)
{
    gr_err err = {0};
    char text[512];
    json_t *o = NULL, *pop;
    bd_area a;
    bd_area_person *items;
    size_t n, seen = 0;
    int more;
    int64_t after = 0, want;

    (void)state;
    /* Rows 2..5, columns 3..8: 24 buildings, 480 houses, 4,800 people. */
    rect(text, sizeof(text), 2, 5, 3, 8);
    assert_int_equal(parse_poly(text, NULL, &a, &err), 0);
    assert_int_equal(bd_area_scope(rd(), &a, steward_scope, "polygon", &err), 0);
    assert_int_equal(bd_area_resolve(rd(), A, &a, &err), 0);
    assert_int_equal(a.nbuildings, 24);
    assert_int_equal(bd_area_summary(rd(), &a, TODAY, &o, &err), 0);
    pop = json_object_get(o, "population");
    want = q("SELECT count(*) FROM bd_people p JOIN bd_houses h ON h.id = p.house_id JOIN "
             "bd_buildings b ON b.id = h.building_id WHERE b.address_key LIKE 'area-test|%' AND "
             "(CAST(substr(b.address_key, 11) AS INTEGER) / 10) BETWEEN 2 AND 5 AND "
             "(CAST(substr(b.address_key, 11) AS INTEGER) % 10) BETWEEN 3 AND 8");
    assert_int_equal(want, 4800);
    assert_int_equal(jget(pop, "total", NULL), want);
    assert_int_equal(jget(pop, "by_residency", "registered") +
                         jget(pop, "by_residency", "permanent") +
                         jget(pop, "by_residency", "floating"),
                     want);
    assert_int_equal(jget(pop, "by_age_band", "0-14") + jget(pop, "by_age_band", "15-59") +
                         jget(pop, "by_age_band", "60-79") + jget(pop, "by_age_band", "80+"),
                     want);
    assert_int_equal(jget(o, "houses", "total"), 480);
    assert_int_equal(jget(o, "buildings", NULL), 24);
    /* The facility at the first building is outside; the one at row 9, column 9 too. */
    assert_int_equal(jget(o, "facilities", "total"), 0);
    json_decref(o);

    /* Every person once, page by page. */
    do {
        assert_int_equal(bd_area_people(rd(), A, &a, after, 500, &items, &n, &more, &err), 0);
        seen += n;
        if (n) {
            assert_true(items[0].id > after);
            assert_string_equal(items[0].name_hint, "张*");
            assert_true(items[0].building_id > 0);
            after = items[n - 1].id;
        }
    } while (more);
    assert_int_equal(seen, (size_t)want);
    bd_area_free(&a);
}

static void test_circle_and_emergency(void **state)
{
    gr_err err = {0};
    json_t *o = NULL, *v;
    bd_area a;
    size_t i;
    int64_t buildings = 0, vulnerable;

    (void)state;
    /* 500 m around the first building: compare with the buildings' own distances. */
    assert_int_equal(bd_area_circle(lat0, lon0, 500, &a, &err), 0);
    assert_int_equal(bd_area_scope(rd(), &a, worker_scope, "near", &err), 0);
    assert_int_equal(bd_area_resolve(rd(), A, &a, &err), 0);
    for (i = 0; i < NBUILD; i++)
        buildings += geo_distance_m(lat0, lon0, lat0 + (double)(i / 10) * STEP,
                                    lon0 + (double)(i % 10) * STEP) <= 500;
    assert_int_equal(a.nbuildings, buildings);
    assert_true(buildings > 1 && buildings < NBUILD);
    assert_int_equal(bd_area_emergency(rd(), &a, &o, &err), 0);
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "buildings"), "items")),
                     (size_t)buildings);
    assert_int_equal(jget(o, "head_count", "total"), buildings * HOUSES_PER * PEOPLE_PER);
    /* Every tenth person has care tags. */
    vulnerable = buildings * HOUSES_PER * PEOPLE_PER / 10;
    v = json_object_get(json_object_get(o, "vulnerable"), "items");
    assert_int_equal(json_array_size(v), (size_t)vulnerable);
    {
        json_t *p = json_array_get(v, 0);
        assert_string_equal(json_string_value(json_object_get(p, "name")), "张*");
        assert_null(json_object_get(p, "id_number"));
        assert_null(json_object_get(p, "phone"));
        assert_true(json_is_object(json_object_get(p, "house")));
        assert_true(
            json_integer_value(json_object_get(json_object_get(p, "house"), "building_id")) > 0);
    }
    /* Two shelters (the garage is no shelter), 500 places. */
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "shelters"), "items")), 2);
    assert_int_equal(jget(o, "shelters", "capacity"), 500);
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "facilities"), "items")),
                     1);
    json_decref(o);
    bd_area_free(&a);
}

static void test_stats(void **state)
{
    gr_err err = {0};
    json_t *o = NULL, *pyr, *b;
    bd_area a;
    size_t i;
    int64_t sum = 0, total;

    (void)state;
    assert_int_equal(bd_area_unit(rd(), grid, "unit_id", &a, &err), 0);
    assert_int_equal(bd_area_scope(rd(), &a, 0, "unit_id", &err), 0);
    assert_int_equal(bd_area_stats(rd(), &a, TODAY, &o, &err), 0);
    total = qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND retired_at IS NULL");
    assert_int_equal(jget(o, "population", NULL), total);
    pyr = json_object_get(o, "pyramid");
    assert_int_equal(json_array_size(pyr), 21);
    json_array_foreach(pyr, i, b) sum += jget(b, "male", NULL) + jget(b, "female", NULL);
    assert_int_equal(sum, total);
    /* Every band and sex against the independent age. */
    json_array_foreach(pyr, i, b)
    {
        gr_err err2 = {0};
        db_stmt *st = db_prepare(rd(),
                                 "SELECT sum(sex = 'M'), sum(sex = 'F') FROM bd_people WHERE "
                                 "grid_id = ?1 AND max(0, " AGE_IND ") BETWEEN ?3 AND ?4",
                                 &err2);

        assert_non_null(st);
        db_bind_int(st, 3, (int64_t)i * 5);
        db_bind_int(st, 4, i == 20 ? 1000 : (int64_t)i * 5 + 4);
        db_bind_int(st, 1, grid);
        db_bind_text(st, 2, TODAY);
        assert_int_equal(db_step(st, &err2), DB_ROW);
        assert_int_equal(jget(b, "male", NULL), db_col_int(st, 0));
        assert_int_equal(jget(b, "female", NULL), db_col_int(st, 1));
        db_done(st);
    }
    b = json_array_get(pyr, 16); /* 80-84 */
    assert_string_equal(json_string_value(json_object_get(b, "band")), "80-84");
    assert_int_equal(
        jget(b, "female", NULL),
        qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND sex = 'F' AND " AGE_IND
           " BETWEEN 80 AND 84"));
    assert_int_equal(jget(o, "floating", "count"),
                     qg("SELECT count(*) FROM bd_people WHERE grid_id = ?1 AND residency = "
                        "'floating'"));
    assert_true(fabs(json_real_value(json_object_get(json_object_get(o, "floating"), "share")) -
                     (double)jget(o, "floating", "count") / (double)total) < 1e-12);
    assert_int_equal(jget(o, "houses", "occupied") + jget(o, "houses", "vacant"),
                     qg("SELECT count(*) FROM bd_houses WHERE grid_id = ?1"));
    json_decref(o);
    bd_area_free(&a);
}

/* ---- the tallies (migration 0015) ---- */

/* Each tally against a fresh count over the tables (tally_check.h). */
static void assert_tallies_exact(void)
{
    const char *sql;
    int k;

    for (k = 0; (sql = gr_tally_check_sql(k)) != NULL; k++) {
        if (q(sql) != 0)
            print_error("%s differs from the tables\n", gr_tally_name(k));
        assert_int_equal(q(sql), 0);
    }
}

static int64_t grid2, chain2[5];

/* A person of the tally test, keyed by its blind index "tally-<key>". */
static void add_person(const char *key, const char *birth, const char *sex, const char *res,
                       int64_t house, const int64_t ch[5])
{
    const char *permit = strcmp(res, "floating") == 0 ? "'2026-01-01', '2027-01-01'" : "NULL, NULL";

    gr_testdb_exec(ctx.db,
                   "INSERT INTO bd_people (name_enc, name_index, name_hint, id_number_enc, "
                   "id_number_index, id_number_hint, birth_date, sex, residency, permit_start, "
                   "permit_end, house_id, steward_org_id, source, city_id, district_id, street_id, "
                   "community_id, grid_id, created_at, updated_at) VALUES (x'00', randomblob(32), "
                   "'赵*', x'00', CAST('tally-%s' AS BLOB), '110105********0000', '%s', '%s', "
                   "'%s', %s, NULLIF(%lld, 0), %lld, 'imported', NULLIF(%lld, 0), NULLIF(%lld, 0), "
                   "NULLIF(%lld, 0), NULLIF(%lld, 0), NULLIF(%lld, 0), 1, 1)",
                   key, birth, sex, res, permit, (long long)house, (long long)steward_scope,
                   (long long)ch[0], (long long)ch[1], (long long)ch[2], (long long)ch[3],
                   (long long)ch[4]);
}

static int64_t person(const char *key)
{
    char sql[128];

    snprintf(sql, sizeof(sql),
             "SELECT id FROM bd_people WHERE id_number_index = CAST('tally-%s' AS BLOB)", key);
    return q(sql);
}

static int64_t add_house(int64_t building, const char *room, const char *occupancy)
{
    char sql[128];

    gr_testdb_exec(
        ctx.db,
        "INSERT INTO bd_houses (building_id, room, use, ownership, occupancy, "
        "steward_org_id, source, city_id, district_id, street_id, community_id, grid_id, "
        "created_at, updated_at) VALUES (%lld, '%s', 'residential', 'private', '%s', "
        "%lld, 'imported', NULLIF(%lld, 0), NULLIF(%lld, 0), NULLIF(%lld, 0), "
        "NULLIF(%lld, 0), NULLIF(%lld, 0), 1, 1)",
        (long long)building, room, occupancy, (long long)steward_scope, (long long)chain2[0],
        (long long)chain2[1], (long long)chain2[2], (long long)chain2[3], (long long)chain2[4]);
    snprintf(sql, sizeof(sql), "SELECT id FROM bd_houses WHERE building_id = %lld AND room = '%s'",
             (long long)building, room);
    return q(sql);
}

/* The summary and statistics of a unit (0: everything) at TODAY. */
static void unit_counts(int64_t unit, json_t **summary, json_t **stats)
{
    gr_err err = {0};
    bd_area a;

    memset(&a, 0, sizeof(a));
    if (unit)
        assert_int_equal(bd_area_unit(rd(), unit, "unit_id", &a, &err), 0);
    assert_int_equal(bd_area_scope(rd(), &a, 0, "unit_id", &err), 0);
    assert_int_equal(bd_area_summary(rd(), &a, TODAY, summary, &err), 0);
    assert_int_equal(bd_area_stats(rd(), &a, TODAY, stats, &err), 0);
    bd_area_free(&a);
}

/* The pyramid's count of band i (0-4, 5-9 ..) and sex "male" / "female". */
static int64_t pyr(json_t *stats, size_t band, const char *sex)
{
    return jget(json_array_get(json_object_get(stats, "pyramid"), band), sex, NULL);
}

/* Grid 2 before the changes: born 31 December 1946 (80 at the end of 2026,
 * though 79 on TODAY), 1 January 1947 (79), 31 December 2011 (15, though
 * 14 on TODAY), 1 January 2012 (14) and 1990 (36, no house). */
static void assert_grid2_before(void)
{
    json_t *s = NULL, *st = NULL, *pop;

    unit_counts(grid2, &s, &st);
    pop = json_object_get(s, "population");
    assert_int_equal(jget(pop, "total", NULL), 5);
    assert_int_equal(jget(pop, "by_residency", "registered"), 2);
    assert_int_equal(jget(pop, "by_residency", "permanent"), 2);
    assert_int_equal(jget(pop, "by_residency", "floating"), 1);
    assert_int_equal(jget(pop, "by_age_band", "0-14"), 1);
    assert_int_equal(jget(pop, "by_age_band", "15-59"), 2);
    assert_int_equal(jget(pop, "by_age_band", "60-79"), 1);
    assert_int_equal(jget(pop, "by_age_band", "80+"), 1);
    assert_int_equal(jget(pop, "by_care_tag", "elderly_alone"), 1);
    assert_int_equal(jget(pop, "by_care_tag", "disabled"), 1);
    assert_int_equal(jget(pop, "by_care_tag", "low_income"), 1);
    assert_int_equal(jget(pop, "by_care_tag", "special_care"), 0);
    assert_int_equal(jget(s, "houses", "occupied"), 1);
    assert_int_equal(jget(s, "houses", "vacant"), 2);
    assert_int_equal(jget(s, "houses", "total"), 3);
    assert_int_equal(jget(st, "population", NULL), 5);
    assert_int_equal(pyr(st, 16, "female"), 1); /* 80-84 */
    assert_int_equal(pyr(st, 15, "male"), 1);   /* 75-79 */
    assert_int_equal(pyr(st, 15, "female"), 0);
    assert_int_equal(pyr(st, 3, "female"), 1); /* 15-19 */
    assert_int_equal(pyr(st, 2, "male"), 1);   /* 10-14 */
    assert_int_equal(pyr(st, 7, "male"), 1);   /* 35-39 */
    assert_int_equal(jget(st, "floating", "count"), 1);
    json_decref(s);
    json_decref(st);
}

/* Everything (no scope, no area): the tallies of the cities and the people
 * and houses without a city, against plain counts. */
static void assert_everything(void)
{
    json_t *s = NULL, *st = NULL;

    unit_counts(0, &s, &st);
    assert_int_equal(jget(json_object_get(s, "population"), "total", NULL),
                     q("SELECT count(*) FROM bd_people WHERE retired_at IS NULL"));
    assert_int_equal(jget(json_object_get(s, "population"), "by_care_tag", "elderly_alone"),
                     q("SELECT count(*) FROM bd_person_tags t JOIN bd_people p ON p.id = "
                       "t.person_id WHERE p.retired_at IS NULL AND t.tag = 'elderly_alone'"));
    assert_int_equal(jget(s, "houses", "total"),
                     q("SELECT count(*) FROM bd_houses WHERE retired_at IS NULL"));
    assert_int_equal(jget(st, "floating", "count"),
                     q("SELECT count(*) FROM bd_people WHERE retired_at IS NULL AND residency = "
                       "'floating'"));
    json_decref(s);
    json_decref(st);
}

/* The tallies of people written past the model (as the bench's loader
 * does) come from the rebuild: exact against the tables, the counts of a
 * unit from them at the edges of the birth-year bands, and a spoilt tally
 * made whole again. The writers' own upkeep is test_basedata.c's. */
static void test_tallies(void **state)
{
    gr_err err = {0};
    int64_t b, h1, p1, p2, p5;
    char sql[256];

    (void)state;
    assert_tallies_exact();
    snprintf(sql, sizeof(sql),
             "SELECT id FROM org_units WHERE kind = 'grid' AND parent_id <> %lld ORDER BY id "
             "LIMIT 1",
             (long long)chain[3]);
    grid2 = q(sql);
    assert_true(grid2 > 0);
    assert_int_equal(org_unit_levels(rd(), grid2, chain2, &err), 0);
    gr_testdb_exec(ctx.db,
                   "INSERT INTO bd_buildings (district, street, road, house_number, address_key, "
                   "lat, lon, use, steward_org_id, source, city_id, district_id, street_id, "
                   "community_id, grid_id, created_at, updated_at) VALUES ('朝阳区', '测试街道', "
                   "'测试路', '1号', 'tally-test', 39.9, 116.4, 'residential', %lld, 'imported', "
                   "NULLIF(%lld, 0), NULLIF(%lld, 0), NULLIF(%lld, 0), NULLIF(%lld, 0), "
                   "NULLIF(%lld, 0), 1, 1)",
                   (long long)steward_scope, (long long)chain2[0], (long long)chain2[1],
                   (long long)chain2[2], (long long)chain2[3], (long long)chain2[4]);
    b = q("SELECT id FROM bd_buildings WHERE address_key = 'tally-test'");
    h1 = add_house(b, "101", "occupied");
    add_house(b, "102", "vacant");
    add_house(b, "103", "vacant");
    add_person("p1", "1946-12-31", "F", "registered", h1, chain2);
    add_person("p2", "1947-01-01", "M", "registered", h1, chain2);
    add_person("p3", "2011-12-31", "F", "permanent", h1, chain2);
    add_person("p4", "2012-01-01", "M", "floating", h1, chain2);
    add_person("p5", "1990-06-15", "M", "permanent", 0, chain2);
    p1 = person("p1");
    p2 = person("p2");
    p5 = person("p5");
    gr_testdb_exec(ctx.db,
                   "INSERT INTO bd_person_tags (tag, person_id) VALUES ('elderly_alone', %lld), "
                   "('disabled', %lld), ('low_income', %lld)",
                   (long long)p1, (long long)p2, (long long)p5);
    assert_int_equal(db_write(ctx.db, rebuild_fn, NULL, &err), 0);
    assert_tallies_exact();
    assert_grid2_before();
    assert_everything();

    /* A spoilt tally is made whole again by the rebuild (the population's
     * of grid2's community: a grid has none, BD_TALLY_POP_LEVELS). */
    gr_testdb_exec(ctx.db,
                   "UPDATE bd_pop_tally SET n = n + 7 WHERE unit_id = (SELECT parent_id FROM "
                   "org_units WHERE id = %lld)",
                   (long long)grid2);
    gr_testdb_exec(ctx.db, "DELETE FROM bd_tag_tally");
    gr_testdb_exec(ctx.db,
                   "INSERT INTO bd_house_tally VALUES (%lld, 'vacant', -3) ON CONFLICT DO "
                   "UPDATE SET n = -3",
                   (long long)grid2);
    assert_true(q(gr_tally_check_sql(0)) > 0);
    assert_int_equal(db_write(ctx.db, rebuild_fn, NULL, &err), 0);
    assert_tallies_exact();
    assert_grid2_before();
    assert_everything();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),          cmocka_unit_test(test_crs),
        cmocka_unit_test(test_scope),          cmocka_unit_test(test_grid_summary),
        cmocka_unit_test(test_polygon_counts), cmocka_unit_test(test_circle_and_emergency),
        cmocka_unit_test(test_stats),          cmocka_unit_test(test_tallies),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
