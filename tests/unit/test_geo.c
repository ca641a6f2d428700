/*
 * src/geo: coordinate systems (against the reference vectors and gcoord),
 * distances, GeoJSON validation, and the point -> grid index (against the GEOS
 * baseline, the boundary rule, threads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "geo/coord.h"
#include "geo/geojson.h"
#include "geo/grid_index.h"

#include "gcoord_vectors.h"
#include "synth_grid.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define assert_near(a, b, tol)                                                                     \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            fail_msg("%s = %.17g, expected %.17g within %g", #a, a_, b_, (double)(tol));           \
    } while (0)

#define assert_prefix(s, prefix)                                                                   \
    do {                                                                                           \
        if (strncmp((s), (prefix), strlen(prefix)) != 0)                                           \
            fail_msg("\"%s\" does not start with \"%s\"", (s), (prefix));                          \
    } while (0)

#define assert_contains(s, part)                                                                   \
    do {                                                                                           \
        if (!strstr((s), (part)))                                                                  \
            fail_msg("\"%s\" does not contain \"%s\"", (s), (part));                               \
    } while (0)

/* Deterministic uniform doubles in [0, 1). */
static double rnd01(uint64_t *state)
{
    *state = synth_splitmix64(*state);
    return (double)(*state >> 11) / 9007199254740992.0;
}

/* ---- coordinate systems ---------------------------------------------------- */

static void test_crs_parse_name(void **state)
{
    geo_crs crs = GEO_CRS_BD09;

    (void)state;
    assert_int_equal(geo_crs_parse("wgs84", &crs), 0);
    assert_int_equal(crs, GEO_CRS_WGS84);
    assert_int_equal(geo_crs_parse("GCJ02", &crs), 0);
    assert_int_equal(crs, GEO_CRS_GCJ02);
    assert_int_equal(geo_crs_parse("Bd09", &crs), 0);
    assert_int_equal(crs, GEO_CRS_BD09);
    crs = GEO_CRS_GCJ02;
    assert_int_equal(geo_crs_parse("wgs-84", &crs), GR_EINVAL);
    assert_int_equal(geo_crs_parse("", &crs), GR_EINVAL);
    assert_int_equal(geo_crs_parse("bd09mc", &crs), GR_EINVAL);
    assert_int_equal(geo_crs_parse("bd0", &crs), GR_EINVAL);
    assert_int_equal(geo_crs_parse(NULL, &crs), GR_EINVAL);
    assert_int_equal(crs, GEO_CRS_GCJ02); /* untouched on failure */
    assert_string_equal(geo_crs_name(GEO_CRS_WGS84), "wgs84");
    assert_string_equal(geo_crs_name(GEO_CRS_GCJ02), "gcj02");
    assert_string_equal(geo_crs_name(GEO_CRS_BD09), "bd09");
    assert_string_equal(geo_crs_name((geo_crs)7), "unknown");
}

static void test_check_latlon(void **state)
{
    gr_err err = {0};

    (void)state;
    assert_int_equal(geo_check_latlon(39.9, 116.4, &err), 0);
    assert_int_equal(geo_check_latlon(90, 180, &err), 0);
    assert_int_equal(geo_check_latlon(-90, -180, &err), 0);
    assert_int_equal(geo_check_latlon(90.0000001, 0, &err), GR_EINVAL);
    assert_string_equal(err.field, "lat");
    assert_int_equal(geo_check_latlon(-91, 0, &err), GR_EINVAL);
    assert_string_equal(err.field, "lat");
    assert_int_equal(geo_check_latlon(NAN, 0, &err), GR_EINVAL);
    assert_string_equal(err.field, "lat");
    assert_int_equal(geo_check_latlon(0, 180.5, &err), GR_EINVAL);
    assert_string_equal(err.field, "lon");
    assert_int_equal(geo_check_latlon(0, -INFINITY, &err), GR_EINVAL);
    assert_string_equal(err.field, "lon");
    assert_int_equal(geo_check_latlon(0, NAN, NULL), GR_EINVAL);
}

static void test_reference_vectors(void **state)
{
    double lat, lon;

    (void)state;
    /* china_standards.md 6.2 (gcoord README): the forward formulas give exactly this. */
    geo_from_wgs84(GEO_CRS_BD09, 39.914266, 116.403988, &lat, &lon);
    assert_near(lon, 116.41661560068297, 1e-12);
    assert_near(lat, 39.92196580126834, 1e-12);
    /* An iterative inverse matches to ~1e-7 degrees; single-step would be ~3 m off. */
    geo_to_wgs84(GEO_CRS_GCJ02, 45, 123, &lat, &lon);
    assert_near(lon, 122.99395597, 1e-6);
    assert_near(lat, 44.99804071, 1e-6);
    assert_true(fabs(lon - 122.993925) > 1e-5 || fabs(lat - 44.998022) > 1e-5);
}

static void test_round_trips(void **state)
{
    uint64_t s = 42;

    (void)state;
    for (int i = 0; i < 2000; i++) {
        double lat = 18.2 + 35.3 * rnd01(&s), lon = 73.6 + 61.1 * rnd01(&s);
        double a, b, c, d;

        /* WGS -> X -> WGS. */
        geo_from_wgs84(GEO_CRS_GCJ02, lat, lon, &a, &b);
        assert_true(fabs(a - lat) > 1e-6 || fabs(b - lon) > 1e-6); /* it did move */
        geo_to_wgs84(GEO_CRS_GCJ02, a, b, &c, &d);
        assert_near(c, lat, 1e-9);
        assert_near(d, lon, 1e-9);
        geo_from_wgs84(GEO_CRS_BD09, lat, lon, &a, &b);
        geo_to_wgs84(GEO_CRS_BD09, a, b, &c, &d);
        assert_near(c, lat, 1e-9);
        assert_near(d, lon, 1e-9);
        /* X -> WGS -> X: the inverse really inverts the forward map. */
        geo_to_wgs84(GEO_CRS_GCJ02, lat, lon, &a, &b);
        geo_from_wgs84(GEO_CRS_GCJ02, a, b, &c, &d);
        assert_near(c, lat, 1e-10);
        assert_near(d, lon, 1e-10);
        geo_to_wgs84(GEO_CRS_BD09, lat, lon, &a, &b);
        geo_from_wgs84(GEO_CRS_BD09, a, b, &c, &d);
        assert_near(c, lat, 1e-9);
        assert_near(d, lon, 1e-9);
        /* WGS84 is the identity both ways. */
        geo_to_wgs84(GEO_CRS_WGS84, lat, lon, &a, &b);
        assert_true(a == lat && b == lon);
        geo_from_wgs84(GEO_CRS_WGS84, lat, lon, &a, &b);
        assert_true(a == lat && b == lon);
    }
}

static void test_outside_china_identity(void **state)
{
    static const double pts[][2] = {
        {51.5074, -0.1278},   /* London */
        {40.7128, -74.0060},  /* New York */
        {-33.8688, 151.2093}, /* Sydney */
        {35.6762, 139.6503},  /* Tokyo: east of 137.8347 */
        {39.9, 72.0039},      /* just west of the rectangle */
        {56.0, 116.4},        /* just north */
        {0.8, 110.0},         /* just south */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        for (int crs = GEO_CRS_GCJ02; crs <= GEO_CRS_BD09; crs++) {
            double a, b;

            geo_from_wgs84((geo_crs)crs, pts[i][0], pts[i][1], &a, &b);
            assert_true(a == pts[i][0] && b == pts[i][1]);
            geo_to_wgs84((geo_crs)crs, pts[i][0], pts[i][1], &a, &b);
            assert_true(a == pts[i][0] && b == pts[i][1]);
        }
    }
    /* Just inside the rectangle the shift applies. */
    {
        double a, b;

        geo_from_wgs84(GEO_CRS_GCJ02, 39.9, 72.0041, &a, &b);
        assert_true(a != 39.9 || b != 72.0041);
    }
}

/*
 * gcoord (tests/oracle/gcoord_vectors.js) uses the same forward formulas, so
 * forward results agree to rounding (1e-9 degrees is ~0.1 mm). Its GCJ02 ->
 * WGS84 iterates until its forward residual is at most 1e-6 degrees per axis;
 * as the shift changes by < 3e-3 degrees per degree, its answer is within
 * ~1.003e-6 degrees of the exact inverse, and ours within 1e-11. Hence 1.5e-6
 * degrees (~17 cm): the tightest bound that holds by construction, and 20x
 * below the error of a single-step inverse (1-3 m), which would fail it.
 * gcoord's BD09 -> GCJ02 is the closed form, off by up to 2.13e-6 degrees over
 * the China rectangle (scanned on a 0.0015-degree grid) where ours iterates to
 * the exact inverse; with its GCJ02 step that allows 2.13e-6 + 1.003e-6, so
 * 3.5e-6 degrees (~39 cm) for BD09 -> WGS84.
 */
static void test_gcoord_oracle(void **state)
{
    size_t n = sizeof(gcoord_vectors) / sizeof(gcoord_vectors[0]);
    double worst_inv = 0;

    (void)state;
    assert_true(n >= 200);
    for (size_t i = 0; i < n; i++) {
        const struct gcoord_vector *v = &gcoord_vectors[i];
        double lat, lon;

        geo_from_wgs84(GEO_CRS_GCJ02, v->lat, v->lon, &lat, &lon);
        assert_near(lon, v->gcj_lon, 1e-9);
        assert_near(lat, v->gcj_lat, 1e-9);
        geo_from_wgs84(GEO_CRS_BD09, v->lat, v->lon, &lat, &lon);
        assert_near(lon, v->bd_lon, 1e-9);
        assert_near(lat, v->bd_lat, 1e-9);
        geo_to_wgs84(GEO_CRS_GCJ02, v->lat, v->lon, &lat, &lon);
        assert_near(lon, v->wgs_lon, 1.5e-6);
        assert_near(lat, v->wgs_lat, 1.5e-6);
        worst_inv = fmax(worst_inv, fmax(fabs(lon - v->wgs_lon), fabs(lat - v->wgs_lat)));
        geo_to_wgs84(GEO_CRS_BD09, v->lat, v->lon, &lat, &lon);
        assert_near(lon, v->bdw_lon, 3.5e-6);
        assert_near(lat, v->bdw_lat, 3.5e-6);
    }
    /* Sanity of the oracle itself: the two inverses are close but not identical. */
    assert_true(worst_inv > 1e-9);
}

static void test_distance(void **state)
{
    const double r = 6371008.8, pi = 3.14159265358979323846;

    (void)state;
    assert_near(geo_distance_m(39.9, 116.4, 39.9, 116.4), 0.0, 1e-9);
    assert_near(geo_distance_m(0, 0, 0, 1), r * pi / 180.0, 1e-6);
    assert_near(geo_distance_m(0, 0, 1, 0), r * pi / 180.0, 1e-6);
    assert_near(geo_distance_m(0, 0, 0, 180), r * pi, 1e-6);
    assert_near(geo_distance_m(90, 0, -90, 0), r * pi, 1e-6);
    assert_near(geo_distance_m(0, 0, 90, 123), r * pi / 2, 1e-6);
    /* 1 degree of longitude at 60 degrees north is about half of one at the equator. */
    assert_near(geo_distance_m(60, 10, 60, 11) / geo_distance_m(0, 10, 0, 11), 0.5, 1e-4);
    /* Beijing Tiananmen - Shanghai People's Square, ~1067 km. */
    {
        double d = geo_distance_m(39.9087, 116.3975, 31.2304, 121.4737);

        assert_true(d > 1060e3 && d < 1075e3);
        assert_near(d, geo_distance_m(31.2304, 121.4737, 39.9087, 116.3975), 1e-6);
    }
}

/* ---- GeoJSON ------------------------------------------------------------------ */

#define SQUARE(x0, y0, x1, y1)                                                                     \
    "[[" #x0 "," #y0 "],[" #x1 "," #y0 "],[" #x1 "," #y1 "],[" #x0 "," #y1 "],[" #x0 "," #y0 "]]"

static int check(const char *text, gr_err *err)
{
    double lat = -1, lon = -1;

    memset(err, 0, sizeof(*err));
    return geo_geojson_check(text, strlen(text), "boundary", &lat, &lon, err);
}

static void expect_invalid(const char *text, const char *msg_part)
{
    gr_err err;

    if (check(text, &err) != GR_EINVAL)
        fail_msg("accepted: %s", text);
    assert_string_equal(err.field, "boundary");
    assert_int_equal(err.code, GR_EINVAL);
    assert_contains(err.msg, msg_part);
}

static void test_geojson_valid(void **state)
{
    gr_err err = {0};
    double lat = 0, lon = 0;
    const char *poly = "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116, 39, 117, 40) "]}";
    const char *hole = "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(
        116, 39, 117, 40) "," SQUARE(116.4, 39.4, 116.6, 39.6) "]}";
    const char *multi = "{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE(
        116, 39, 117, 40) "],[" SQUARE(118, 39, 119, 40) "]], \"bbox\":[116,39,119,40]}";

    (void)state;
    assert_int_equal(geo_geojson_check(poly, strlen(poly), "boundary", &lat, &lon, &err), 0);
    assert_near(lat, 39.5, 1e-12);
    assert_near(lon, 116.5, 1e-12);
    assert_int_equal(geo_geojson_check(hole, strlen(hole), "boundary", &lat, &lon, &err), 0);
    assert_near(lat, 39.5, 1e-12);
    assert_near(lon, 116.5, 1e-12);
    assert_int_equal(geo_geojson_check(multi, strlen(multi), "boundary", &lat, &lon, &err), 0);
    assert_near(lat, 39.5, 1e-12);
    assert_near(lon, 117.5, 1e-12);
    /* Centroid outputs are optional. */
    assert_int_equal(geo_geojson_check(poly, strlen(poly), "boundary", NULL, NULL, NULL), 0);
    /* 3D positions are allowed (the altitude is dropped: GEOS 3.11 reads 2D only). */
    {
        const char *z = "{\"type\":\"Polygon\",\"coordinates\":[[[116,39,5],[117,39,5],[117,40,"
                        "5],[116,40,5],[116,39,5]]]}";

        assert_int_equal(geo_geojson_check(z, strlen(z), "boundary", &lat, &lon, &err), 0);
    }
    /* Only len bytes are read: the text need not end with a NUL. */
    {
        char buf[256];

        snprintf(buf, sizeof(buf), "%s trailing junk {", poly);
        assert_int_equal(geo_geojson_check(buf, strlen(poly), "boundary", &lat, &lon, &err), 0);
        assert_int_equal(geo_geojson_check(buf, strlen(buf), "boundary", &lat, &lon, &err),
                         GR_EINVAL);
    }
}

static void test_geojson_invalid(void **state)
{
    gr_err err;

    (void)state;
    expect_invalid("{\"type\":\"Polygon\",", "not valid JSON");
    expect_invalid("", "not valid JSON");
    expect_invalid("{\"type\":\"Polygon\",\"type\":\"Polygon\",\"coordinates\":[" SQUARE(
                       116, 39, 117, 40) "]}",
                   "not valid JSON");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[NaN,1]]]}", "not valid JSON");
    expect_invalid("[1,2]", "must be a GeoJSON geometry object");
    expect_invalid("{\"type\":\"Point\",\"coordinates\":[116,39]}",
                   "type must be Polygon or MultiPolygon");
    expect_invalid("{\"coordinates\":[" SQUARE(116, 39, 117, 40) "]}",
                   "type must be Polygon or MultiPolygon");
    expect_invalid("{\"type\":\"polygon\",\"coordinates\":[" SQUARE(116, 39, 117, 40) "]}",
                   "type must be Polygon or MultiPolygon");
    expect_invalid("{\"type\":\"Feature\",\"properties\":{},\"geometry\":{\"type\":\"Polygon\","
                   "\"coordinates\":[" SQUARE(116, 39, 117, 40) "]}}",
                   "type must be Polygon or MultiPolygon");
    expect_invalid("{\"type\":\"Polygon\"}", "coordinates must be an array");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[]}", "non-empty array");
    expect_invalid("{\"type\":\"MultiPolygon\",\"coordinates\":[]}", "must not be empty");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[117,39],[116,39]]]}",
                   "at least 4 positions");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[117,39],[117,40],[116,41]]]}",
                   "not closed");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[117,\"39\"],[117,40],[116,"
                   "39]]]}",
                   "coordinates[0][1]: a position must be");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[116,39,1,2],[117,39],[117,40],[116,"
                   "39]]]}",
                   "a position must be");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(179, 39, 181, 40) "]}",
                   "longitude 181 is outside");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116, 89, 117, 91) "]}",
                   "latitude 91 is outside");
    expect_invalid(
        "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116, 39, 99999999999999999999999, 40) "]}",
        "longitude 1e+23 is outside");
    expect_invalid(
        "{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE(116, 39, 117, 40) "],[["
                                                                                 "[1,2]]]]}",
        "coordinates[1][0]: a linear ring");
    /* A bow tie: edges cross at (116.5, 39.5). */
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[117,40],[117,39],[116,40],"
                   "[116,39]]]}",
                   "self-intersection at lon 116.5, lat 39.5");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116, 39, 117, 40) "," SQUARE(
                       118, 39, 118.5, 39.5) "]}",
                   "hole lies outside shell");
    expect_invalid("{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE(
                       116, 39, 117, 40) "],[" SQUARE(116.5, 39.5, 117.5, 40.5) "]]}",
                   "self-intersection");
    /* Zero area. */
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[117,39],[118,39],[116,39]]]}",
                   "");
    /* An embedded NUL inside len is not valid JSON. */
    {
        static const char txt[] = "{\"type\":\"Polygon\"\0,\"coordinates\":[]}";

        memset(&err, 0, sizeof(err));
        assert_int_equal(geo_geojson_check(txt, sizeof(txt) - 1, "boundary", NULL, NULL, &err),
                         GR_EINVAL);
        assert_prefix(err.msg, "not valid JSON");
    }
    /* The field name is the caller's; err may be NULL. */
    memset(&err, 0, sizeof(err));
    assert_int_equal(geo_geojson_check("{}", 2, "geometry", NULL, NULL, &err), GR_EINVAL);
    assert_string_equal(err.field, "geometry");
    assert_int_equal(geo_geojson_check("{}", 2, "geometry", NULL, NULL, NULL), GR_EINVAL);
    assert_int_equal(geo_geojson_check(NULL, 0, "boundary", NULL, NULL, &err), GR_EINVAL);
}

/* A ring of n positions (closing one included) around (116.4, 39.9). */
static char *circle_geojson(int n, size_t *len)
{
    size_t cap = 64 + (size_t)n * 48, k;
    char *s = malloc(cap);

    assert_non_null(s);
    k = (size_t)snprintf(s, cap, "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (int i = 0; i < n; i++) {
        double a = 2 * 3.14159265358979323846 * (i == n - 1 ? 0 : i) / (n - 1);

        k += (size_t)snprintf(s + k, cap - k, "%s[%.15g,%.15g]", i ? "," : "", 116.4 + 0.1 * cos(a),
                              39.9 + 0.1 * sin(a));
    }
    k += (size_t)snprintf(s + k, cap - k, "]]}");
    *len = k;
    return s;
}

static void test_geojson_vertex_limit(void **state)
{
    gr_err err = {0};
    double lat, lon;
    size_t len;
    char *s;

    (void)state;
    s = circle_geojson(100000, &len);
    assert_int_equal(geo_geojson_check(s, len, "boundary", &lat, &lon, &err), 0);
    assert_near(lat, 39.9, 1e-6);
    assert_near(lon, 116.4, 1e-6);
    free(s);
    s = circle_geojson(100001, &len);
    assert_int_equal(geo_geojson_check(s, len, "boundary", &lat, &lon, &err), GR_EINVAL);
    assert_contains(err.msg, "more than 100000 vertices");
    free(s);
}

/* ---- grid index ------------------------------------------------------------------ */

static void add_ok(geo_index *ix, int64_t id, const char *text)
{
    gr_err err = {0};

    if (geo_index_add(ix, id, text, strlen(text), &err) != 0)
        fail_msg("add %lld: %s: %s", (long long)id, err.field, err.msg);
}

static void test_index_basic(void **state)
{
    geo_index *ix = geo_index_new();
    gr_err err = {0};
    const char *bad = "{\"type\":\"Point\",\"coordinates\":[1,2]}";

    (void)state;
    assert_non_null(ix);
    add_ok(ix, 10, "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116, 39, 116.5, 40) "]}");
    add_ok(ix, 20, "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116.5, 39, 117, 40) "]}");
    add_ok(ix, 30,
           "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(117, 39, 118, 40) "," SQUARE(
               117.4, 39.4, 117.6, 39.6) "]}");
    add_ok(ix, 40, "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(117.4, 39.4, 117.6, 39.6) "]}");
    add_ok(ix, 50,
           "{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE(120, 30, 121, 31) "],[" SQUARE(
               122, 30, 123, 31) "]]}");
    assert_int_equal(geo_index_add(ix, 0, bad, strlen(bad), &err), GR_EINVAL);
    assert_string_equal(err.field, "id");
    assert_int_equal(geo_index_add(ix, 60, bad, strlen(bad), &err), GR_EINVAL);
    assert_string_equal(err.field, "boundary");
    assert_int_equal(geo_index_count(ix), 5);
    assert_int_equal(geo_index_find(ix, 39.5, 116.25), 0); /* not built yet */

    assert_int_equal(geo_index_build(ix, &err), 0);
    assert_int_equal(geo_index_build(ix, &err), GR_EINVAL);
    assert_int_equal(geo_index_add(ix, 70, bad, strlen(bad), &err), GR_EINVAL);
    assert_int_equal(geo_index_count(ix), 5);

    assert_int_equal(geo_index_find(ix, 39.5, 116.25), 10);
    assert_int_equal(geo_index_find(ix, 39.5, 116.75), 20);
    assert_int_equal(geo_index_find(ix, 39.2, 117.2), 30);
    assert_int_equal(geo_index_find(ix, 39.5, 117.5), 40); /* in the hole */
    assert_int_equal(geo_index_find(ix, 30.5, 120.5), 50);
    assert_int_equal(geo_index_find(ix, 30.5, 122.5), 50);
    assert_int_equal(geo_index_find(ix, 30.5, 121.5), 0); /* between the parts */
    assert_int_equal(geo_index_find(ix, 38.9, 116.25), 0);
    assert_int_equal(geo_index_find(ix, 45, 100), 0);
    assert_int_equal(geo_index_find(ix, NAN, 116.25), 0);
    assert_int_equal(geo_index_find(ix, 39.5, INFINITY), 0);
    assert_int_equal(geo_index_find(NULL, 39.5, 116.25), 0);

    /* Boundary rule: the polygon to the right, or above for horizontal edges. */
    assert_int_equal(geo_index_find(ix, 39.5, 116.5), 20);  /* shared edge 10|20 */
    assert_int_equal(geo_index_find(ix, 39.5, 116.0), 10);  /* outer left edge */
    assert_int_equal(geo_index_find(ix, 39.5, 118.0), 0);   /* outer right edge */
    assert_int_equal(geo_index_find(ix, 39.0, 116.25), 10); /* outer bottom edge */
    assert_int_equal(geo_index_find(ix, 40.0, 116.25), 0);  /* outer top edge */
    assert_int_equal(geo_index_find(ix, 39.0, 116.0), 10);  /* lower left corner */
    assert_int_equal(geo_index_find(ix, 39.0, 116.5), 20);  /* shared bottom corner */
    assert_int_equal(geo_index_find(ix, 40.0, 116.5), 0);
    assert_int_equal(geo_index_find(ix, 39.5, 117.4), 40); /* hole's left edge: hole wins */
    assert_int_equal(geo_index_find(ix, 39.5, 117.6), 30); /* hole's right edge */
    assert_int_equal(geo_index_find(ix, 39.4, 117.5), 40); /* hole's bottom edge */
    assert_int_equal(geo_index_find(ix, 39.6, 117.5), 30); /* hole's top edge */

    /* The baseline agrees away from boundaries and excludes boundaries. */
    assert_int_equal(geo_index_find_baseline(ix, 39.5, 116.25), 10);
    assert_int_equal(geo_index_find_baseline(ix, 39.5, 117.5), 40);
    assert_int_equal(geo_index_find_baseline(ix, 30.5, 122.5), 50);
    assert_int_equal(geo_index_find_baseline(ix, 30.5, 121.5), 0);
    assert_int_equal(geo_index_find_baseline(ix, 39.5, 116.5), 0);
    geo_index_free(ix);
    geo_index_free(NULL);
}

static void test_index_empty_and_overlap(void **state)
{
    geo_index *ix = geo_index_new();
    gr_err err = {0};

    (void)state;
    assert_int_equal(geo_index_build(ix, &err), 0);
    assert_int_equal(geo_index_find(ix, 39.5, 116.5), 0);
    assert_int_equal(geo_index_find_baseline(ix, 39.5, 116.5), 0);
    assert_int_equal(geo_index_count(ix), 0);
    geo_index_free(ix);

    /* Overlapping polygons: the one added first wins, in both. */
    ix = geo_index_new();
    add_ok(ix, 5, "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116, 39, 117, 40) "]}");
    add_ok(ix, 3, "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116.5, 39.5, 117.5, 40.5) "]}");
    assert_int_equal(geo_index_build(ix, &err), 0);
    assert_int_equal(geo_index_find(ix, 39.75, 116.75), 5);
    assert_int_equal(geo_index_find_baseline(ix, 39.75, 116.75), 5);
    assert_int_equal(geo_index_find(ix, 40.25, 117.25), 3);
    geo_index_free(ix);

    /* Hundreds of copies of one polygon: a clean error, not a memory blow-up. */
    ix = geo_index_new();
    for (int i = 1; i <= 400; i++)
        add_ok(ix, i, "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(116, 39, 117, 40) "]}");
    assert_int_equal(geo_index_build(ix, &err), GR_EINVAL);
    assert_contains(err.msg, "overlap");
    assert_int_equal(geo_index_find(ix, 39.5, 116.5), 0);
    geo_index_free(ix);
}

/* The synthetic city of tests/support/synth_grid.h (the one bench_geo measures). */
static synth_city make_city(uint32_t nx, uint32_t ny, uint64_t seed)
{
    synth_city c;

    synth_city_init(&c, nx, ny, seed, 116.4, 39.9, 6, 5, 0.31);
    return c;
}

/* Cell (i, j) has id j * nx + i + 1. */
static void add_city(geo_index *ix, const synth_city *c)
{
    for (uint32_t j = 0; j < c->ny; j++) {
        for (uint32_t i = 0; i < c->nx; i++) {
            synth_ring r;
            gr_err err = {0};
            size_t len;
            char *s;

            synth_city_cell(c, i, j, &r);
            s = synth_ring_geojson(&r, &len);
            assert_non_null(s);
            if (geo_index_add(ix, (int64_t)j * c->nx + i + 1, s, len, &err) != 0)
                fail_msg("cell %u,%u: %s", i, j, err.msg);
            free(s);
        }
    }
}

static void test_index_matches_baseline(void **state)
{
    synth_city c = make_city(40, 30, 7);
    geo_index *ix = geo_index_new();
    gr_err err = {0};
    uint64_t s = 99;
    double lo0 = 1e9, la0 = 1e9, lo1 = -1e9, la1 = -1e9;
    long inside = 0;

    (void)state;
    add_city(ix, &c);
    assert_int_equal(geo_index_count(ix), 1200);
    assert_int_equal(geo_index_build(ix, &err), 0);
    /* The box around the (rotated) city, and a margin: some points fall outside. */
    for (int k = 0; k < 4; k++) {
        double lon, lat;

        synth_city_map(&c, k & 1, k >> 1, &lon, &lat);
        lo0 = fmin(lo0, lon);
        lo1 = fmax(lo1, lon);
        la0 = fmin(la0, lat);
        la1 = fmax(la1, lat);
    }
    for (int q = 0; q < 200000; q++) {
        double lon = lo0 - 0.005 + (lo1 - lo0 + 0.01) * rnd01(&s);
        double lat = la0 - 0.005 + (la1 - la0 + 0.01) * rnd01(&s);
        int64_t a = geo_index_find(ix, lat, lon), b = geo_index_find_baseline(ix, lat, lon);

        if (a != b)
            fail_msg("lat %.17g lon %.17g: index %lld, baseline %lld", lat, lon, (long long)a,
                     (long long)b);
        inside += a != 0;
    }
    /* Both answers occur, and points inside the city find their cell. */
    assert_true(inside > 50000 && inside < 190000);
    for (uint32_t j = 0; j < c.ny; j += 7) {
        for (uint32_t i = 0; i < c.nx; i += 5) {
            double lon, lat;

            /* The centre in parameter space lies well inside the cell. */
            synth_city_map(&c, (i + 0.5) / c.nx, (j + 0.5) / c.ny, &lon, &lat);
            assert_int_equal(geo_index_find(ix, lat, lon), (int64_t)j * c.nx + i + 1);
        }
    }
    geo_index_free(ix);
}

/* Points on shared vertices and edges belong to exactly one polygon: counted
   with one single-polygon index per cell, and the full index picks that one. */
static void test_index_boundary_exactly_one(void **state)
{
    synth_city c = make_city(8, 6, 11);
    size_t n = (size_t)c.nx * c.ny;
    geo_index **one = calloc(n, sizeof(*one));
    geo_index *ix = geo_index_new();
    gr_err err = {0};
    long checked = 0;

    (void)state;
    assert_non_null(one);
    add_city(ix, &c);
    assert_int_equal(geo_index_build(ix, &err), 0);
    for (uint32_t j = 0; j < c.ny; j++) {
        for (uint32_t i = 0; i < c.nx; i++) {
            synth_ring r;
            size_t len, k = (size_t)j * c.nx + i;
            char *s;

            synth_city_cell(&c, i, j, &r);
            s = synth_ring_geojson(&r, &len);
            assert_non_null(s);
            one[k] = geo_index_new();
            assert_int_equal(geo_index_add(one[k], (int64_t)k + 1, s, len, &err), 0);
            assert_int_equal(geo_index_build(one[k], &err), 0);
            free(s);
        }
    }
    for (uint32_t j = 0; j < c.ny; j++) {
        for (uint32_t i = 0; i < c.nx; i++) {
            synth_ring r;

            synth_city_cell(&c, i, j, &r);
            for (int v = 0; v + 1 < r.n; v++) {
                /* The vertex itself, and points along the edge to the next one. */
                for (int f = 0; f < 4; f++) {
                    double t = f / 4.0;
                    double lon = r.lon[v] + (r.lon[v + 1] - r.lon[v]) * t;
                    double lat = r.lat[v] + (r.lat[v + 1] - r.lat[v]) * t;
                    int64_t owner = 0, got = geo_index_find(ix, lat, lon);
                    int claims = 0;

                    for (size_t k = 0; k < n; k++) {
                        int64_t id = geo_index_find(one[k], lat, lon);

                        if (id) {
                            claims++;
                            owner = id;
                        }
                    }
                    if (claims > 1)
                        fail_msg("lat %.17g lon %.17g claimed by %d polygons", lat, lon, claims);
                    assert_int_equal(got, owner);
                    checked++;
                }
            }
        }
    }
    /* Interior corners (shared by four cells) and interior edge points have an
       owner; the outside boundary's left/bottom belongs in, right/top out. */
    for (uint32_t j = 1; j < c.ny; j++) {
        for (uint32_t i = 1; i < c.nx; i++) {
            double u, v, lon, lat;

            synth_corner_uv(&c, i, j, &u, &v);
            synth_city_map(&c, u, v, &lon, &lat);
            assert_true(geo_index_find(ix, lat, lon) != 0);
        }
    }
    assert_true(checked > 1000);
    for (size_t k = 0; k < n; k++)
        geo_index_free(one[k]);
    free(one);
    geo_index_free(ix);
}

/* Very uneven sizes: a fan of thin triangles meeting at one point, a dense grid
   inside the hole of a large many-vertex polygon, and far-away small squares:
   exercises sub-grids, long lists, edge bands and holes. */
static void test_index_uneven(void **state)
{
    geo_index *ix = geo_index_new();
    gr_err err = {0};
    uint64_t s = 5;
    int64_t id = 1;
    char buf[512];
    const double pi = 3.14159265358979323846;

    (void)state;
    /* 64 triangles around (116.0, 39.0), radius 0.01. */
    for (int k = 0; k < 64; k++) {
        /* (k + 1) % 64: the last triangle closes on the very first vertex. */
        double a0 = 2 * pi * k / 64, a1 = 2 * pi * ((k + 1) % 64) / 64;

        snprintf(buf, sizeof(buf),
                 "{\"type\":\"Polygon\",\"coordinates\":[[[116,39],[%.17g,%.17g],[%.17g,%.17g],["
                 "116,39]]]}",
                 116 + 0.01 * cos(a0), 39 + 0.01 * sin(a0), 116 + 0.01 * cos(a1),
                 39 + 0.01 * sin(a1));
        add_ok(ix, id++, buf);
    }
    /* An annulus of 4000 vertices around (117, 40) with a 20 x 20 grid in its hole. */
    {
        int n = 2000;
        size_t cap = (size_t)n * 2 * 48 + 128, len;
        char *t = malloc(cap);

        assert_non_null(t);
        len = (size_t)snprintf(t, cap, "{\"type\":\"Polygon\",\"coordinates\":[[");
        for (int k = 0; k <= n; k++) {
            double a = 2 * pi * (k % n) / n;

            len += (size_t)snprintf(t + len, cap - len, "%s[%.17g,%.17g]", k ? "," : "",
                                    117 + 0.5 * cos(a), 40 + 0.5 * sin(a));
        }
        len += (size_t)snprintf(t + len, cap - len, "],[");
        /* The hole: the square [116.9, 117.1] x [39.9, 40.1], walked along the grid lines. */
        {
            static const int dx[4] = {1, 0, -1, 0}, dy[4] = {0, 1, 0, -1};
            int x = 0, y = 0, first = 1;

            for (int side = 0; side < 4; side++) {
                for (int k = 0; k < 20; k++) {
                    len += (size_t)snprintf(t + len, cap - len, "%s[%.17g,%.17g]", first ? "" : ",",
                                            116.9 + x * 0.01, 39.9 + y * 0.01);
                    first = 0;
                    x += dx[side];
                    y += dy[side];
                }
            }
            len += (size_t)snprintf(t + len, cap - len, ",[%.17g,%.17g]]]}", 116.9, 39.9);
        }
        if (geo_index_add(ix, id++, t, len, &err) != 0)
            fail_msg("annulus: %s", err.msg);
        free(t);
        for (int y = 0; y < 20; y++) {
            for (int x = 0; x < 20; x++) {
                double x0 = 116.9 + x * 0.01, y0 = 39.9 + y * 0.01;
                double x1 = 116.9 + (x + 1) * 0.01, y1 = 39.9 + (y + 1) * 0.01;

                snprintf(buf, sizeof(buf),
                         "{\"type\":\"Polygon\",\"coordinates\":[[[%.17g,%.17g],[%.17g,%.17g],[%."
                         "17g,%.17g],[%.17g,%.17g],[%.17g,%.17g]]]}",
                         x0, y0, x1, y0, x1, y1, x0, y1, x0, y0);
                add_ok(ix, id++, buf);
            }
        }
    }
    /* Small squares far away stretch the extent. */
    add_ok(ix, id++,
           "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(100, 25, 100.001, 25.001) "]}");
    add_ok(ix, id++,
           "{\"type\":\"Polygon\",\"coordinates\":[" SQUARE(125, 45, 125.001, 45.001) "]}");
    assert_int_equal(geo_index_build(ix, &err), 0);

    /* The fan's centre belongs to exactly one triangle; the baseline says 0. */
    assert_true(geo_index_find(ix, 39, 116) != 0);
    assert_int_equal(geo_index_find(ix, 25.0005, 100.0005), id - 2);
    assert_int_equal(geo_index_find(ix, 45.0005, 125.0005), id - 1);
    for (int q = 0; q < 100000; q++) {
        double lon, lat;
        int64_t a, b;

        if (q % 2) { /* around the fan */
            lon = 115.985 + 0.03 * rnd01(&s);
            lat = 38.985 + 0.03 * rnd01(&s);
        } else { /* around the annulus */
            lon = 116.45 + 1.1 * rnd01(&s);
            lat = 39.45 + 1.1 * rnd01(&s);
        }
        a = geo_index_find(ix, lat, lon);
        b = geo_index_find_baseline(ix, lat, lon);
        if (a != b)
            fail_msg("lat %.17g lon %.17g: index %lld, baseline %lld", lat, lon, (long long)a,
                     (long long)b);
    }
    geo_index_free(ix);
}

struct thread_arg {
    const geo_index *ix;
    const double *lat, *lon;
    const int64_t *expect;
    int n;
    long wrong;
};

static void *find_thread(void *p)
{
    struct thread_arg *a = p;

    for (int rep = 0; rep < 3; rep++) {
        for (int q = 0; q < a->n; q++) {
            if (geo_index_find(a->ix, a->lat[q], a->lon[q]) != a->expect[q])
                a->wrong++;
        }
    }
    return NULL;
}

static void test_index_threads(void **state)
{
    enum { NQ = 50000, NT = 4 };
    synth_city c = make_city(30, 30, 3);
    geo_index *ix = geo_index_new();
    gr_err err = {0};
    double *lat = malloc(NQ * sizeof(*lat)), *lon = malloc(NQ * sizeof(*lon));
    int64_t *expect = malloc(NQ * sizeof(*expect));
    pthread_t th[NT];
    struct thread_arg args[NT];
    uint64_t s = 17;

    (void)state;
    assert_true(lat && lon && expect);
    add_city(ix, &c);
    assert_int_equal(geo_index_build(ix, &err), 0);
    for (int q = 0; q < NQ; q++) {
        synth_city_map(&c, rnd01(&s), rnd01(&s), &lon[q], &lat[q]);
        expect[q] = geo_index_find_baseline(ix, lat[q], lon[q]);
        assert_true(expect[q] != 0);
    }
    for (int t = 0; t < NT; t++) {
        args[t] = (struct thread_arg){.ix = ix, .lat = lat, .lon = lon, .expect = expect, .n = NQ};
        assert_int_equal(pthread_create(&th[t], NULL, find_thread, &args[t]), 0);
    }
    for (int t = 0; t < NT; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        assert_int_equal(args[t].wrong, 0);
    }
    free(lat);
    free(lon);
    free(expect);
    geo_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crs_parse_name),
        cmocka_unit_test(test_check_latlon),
        cmocka_unit_test(test_reference_vectors),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_outside_china_identity),
        cmocka_unit_test(test_gcoord_oracle),
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_geojson_valid),
        cmocka_unit_test(test_geojson_invalid),
        cmocka_unit_test(test_geojson_vertex_limit),
        cmocka_unit_test(test_index_basic),
        cmocka_unit_test(test_index_empty_and_overlap),
        cmocka_unit_test(test_index_matches_baseline),
        cmocka_unit_test(test_index_boundary_exactly_one),
        cmocka_unit_test(test_index_uneven),
        cmocka_unit_test(test_index_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
