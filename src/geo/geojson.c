#include "geo/geojson.h"
#include "geo/geos_internal.h"

#include <jansson.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void geos_error_handler(const char *message, void *userdata)
{
    struct geo_geos *g = userdata;

    snprintf(g->msg, sizeof(g->msg), "%s", message ? message : "");
}

int geo_geos_init(struct geo_geos *g)
{
    g->msg[0] = '\0';
    g->ctx = GEOS_init_r();
    if (!g->ctx)
        return GR_EINTERNAL;
    GEOSContext_setErrorMessageHandler_r(g->ctx, geos_error_handler, g);
    return 0;
}

void geo_geos_finish(struct geo_geos *g)
{
    if (g->ctx)
        GEOS_finish_r(g->ctx);
    g->ctx = NULL;
}

/* Walks the coordinates of one polygon before GEOS sees them, so that bad input
   gets a precise message (with the JSON path) and GEOS only ever reads
   well-formed rings. */
struct walk {
    const char *field;
    gr_err *err;
    size_t vertices;
    int dropped_z; /* an altitude was removed: GEOS 3.11 reads only 2D GeoJSON */
};

static int walk_fail(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int walk_fail(struct walk *w, const char *fmt, ...)
{
    char msg[sizeof(w->err->msg)];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(w->err, GR_EINVAL, w->field, "%s", msg);
}

static int walk_position(struct walk *w, json_t *pos, const char *path, double *lon, double *lat)
{
    size_t n = json_array_size(pos);

    if (!json_is_array(pos) || n < 2 || n > 3)
        return walk_fail(w, "%s: a position must be an array of 2 or 3 numbers", path);
    for (size_t i = 0; i < n; i++) {
        if (!json_is_number(json_array_get(pos, i)))
            return walk_fail(w, "%s: a position must be an array of 2 or 3 numbers", path);
    }
    *lon = json_number_value(json_array_get(pos, 0));
    *lat = json_number_value(json_array_get(pos, 1));
    if (!(*lon >= -180.0 && *lon <= 180.0))
        return walk_fail(w, "%s: longitude %.10g is outside [-180, 180]", path, *lon);
    if (!(*lat >= -90.0 && *lat <= 90.0))
        return walk_fail(w, "%s: latitude %.10g is outside [-90, 90]", path, *lat);
    if (++w->vertices > GEO_MAX_VERTICES)
        return walk_fail(w, "has more than %d vertices", GEO_MAX_VERTICES);
    if (n == 3) {
        json_array_remove(pos, 2);
        w->dropped_z = 1;
    }
    return 0;
}

static int walk_ring(struct walk *w, json_t *ring, const char *path)
{
    char at[112];
    double lon0 = 0, lat0 = 0, lon = 0, lat = 0;
    size_t n = json_array_size(ring);
    int rc;

    if (!json_is_array(ring) || n < 4)
        return walk_fail(w, "%s: a linear ring must be an array of at least 4 positions", path);
    for (size_t i = 0; i < n; i++) {
        snprintf(at, sizeof(at), "%s[%zu]", path, i);
        rc = walk_position(w, json_array_get(ring, i), at, &lon, &lat);
        if (rc)
            return rc;
        if (i == 0) {
            lon0 = lon;
            lat0 = lat;
        }
    }
    if (lon != lon0 || lat != lat0)
        return walk_fail(w, "%s: linear ring is not closed (last position differs from first)",
                         path);
    return 0;
}

static int walk_polygon(struct walk *w, json_t *poly, const char *path)
{
    char at[80];
    size_t n = json_array_size(poly);
    int rc;

    if (!json_is_array(poly) || n < 1)
        return walk_fail(w, "%s: a polygon must be a non-empty array of linear rings", path);
    for (size_t i = 0; i < n; i++) {
        snprintf(at, sizeof(at), "%s[%zu]", path, i);
        rc = walk_ring(w, json_array_get(poly, i), at);
        if (rc)
            return rc;
    }
    return 0;
}

static char *copy_text(const char *text, size_t len)
{
    char *s = malloc(len + 1);

    if (s) {
        memcpy(s, text, len);
        s[len] = '\0';
    }
    return s;
}

/* json_dumps memory belongs to jansson's allocator, which the process may
   have replaced: copy it into a malloc'd string. */
static char *dump_json(const json_t *root)
{
    char *d = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17)), *s = NULL;
    json_free_t jfree = NULL;

    if (!d)
        return NULL;
    s = copy_text(d, strlen(d));
    json_get_alloc_funcs(NULL, &jfree);
    if (jfree)
        jfree(d);
    return s;
}

/* "Self-intersection" -> "self-intersection": the reason continues a sentence. */
static void lower_first(char *s)
{
    if (s[0] && s[1] && !isupper((unsigned char)s[1]))
        s[0] = (char)tolower((unsigned char)s[0]);
}

static int check_validity(struct geo_geos *g, const GEOSGeometry *geom, const char *field,
                          gr_err *err)
{
    char *reason = NULL;
    GEOSGeometry *where = NULL;
    char buf[128];
    double x, y;
    int rc = 0;
    char valid = GEOSisValidDetail_r(g->ctx, geom, 0, &reason, &where);

    if (valid == 1)
        goto out;
    if (valid != 0) {
        rc = err_set(err, GR_EINVAL, field, "geometry cannot be checked: %s", g->msg);
        goto out;
    }
    snprintf(buf, sizeof(buf), "%s", reason ? reason : "invalid geometry");
    lower_first(buf);
    if (where && GEOSGeomGetX_r(g->ctx, where, &x) == 1 && GEOSGeomGetY_r(g->ctx, where, &y) == 1)
        rc = err_set(err, GR_EINVAL, field, "%s at lon %.10g, lat %.10g", buf, x, y);
    else
        rc = err_set(err, GR_EINVAL, field, "%s", buf);
out:
    if (reason)
        GEOSFree_r(g->ctx, reason);
    if (where)
        GEOSGeom_destroy_r(g->ctx, where);
    return rc;
}

int geo_geojson_read(struct geo_geos *g, const char *text, size_t len, const char *field,
                     GEOSGeometry **out, gr_err *err)
{
    struct walk w = {.field = field, .err = err, .vertices = 0};
    json_error_t jerr;
    json_t *root = NULL;
    GEOSGeoJSONReader *reader = NULL;
    GEOSGeometry *geom = NULL;
    char *copy = NULL;
    const char *type;
    json_t *coords;
    int multi, rc = 0;

    *out = NULL;
    if (!text) {
        rc = err_set(err, GR_EINVAL, field, "is required");
        goto out;
    }
    /* Duplicate keys are rejected: GEOS's reader might pick the other one.
       Huge integers become reals, to be reported as out of range. */
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    if (!root) {
        rc = err_set(err, GR_EINVAL, field, "not valid JSON: %s (line %d, column %d)", jerr.text,
                     jerr.line, jerr.column);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = err_set(err, GR_EINVAL, field, "must be a GeoJSON geometry object");
        goto out;
    }
    type = json_string_value(json_object_get(root, "type"));
    if (!type || (strcmp(type, "Polygon") != 0 && strcmp(type, "MultiPolygon") != 0)) {
        rc = err_set(err, GR_EINVAL, field, "type must be Polygon or MultiPolygon");
        goto out;
    }
    multi = strcmp(type, "MultiPolygon") == 0;
    coords = json_object_get(root, "coordinates");
    if (!json_is_array(coords)) {
        rc = err_set(err, GR_EINVAL, field, "coordinates must be an array");
        goto out;
    }
    if (!multi) {
        rc = walk_polygon(&w, coords, "coordinates");
    } else if (json_array_size(coords) == 0) {
        rc = err_set(err, GR_EINVAL, field, "coordinates: a MultiPolygon must not be empty");
    } else {
        for (size_t i = 0; i < json_array_size(coords) && !rc; i++) {
            char at[48];

            snprintf(at, sizeof(at), "coordinates[%zu]", i);
            rc = walk_polygon(&w, json_array_get(coords, i), at);
        }
    }
    if (rc)
        goto out;

    /* GEOS reads a C string; the text may come straight from a request body.
       Without altitudes it is rewritten (%.17g: the same doubles). */
    if (w.dropped_z)
        copy = dump_json(root);
    else
        copy = copy_text(text, len);
    if (!copy) {
        rc = err_set(err, GR_EINTERNAL, field, "out of memory");
        goto out;
    }
    reader = GEOSGeoJSONReader_create_r(g->ctx);
    if (!reader) {
        rc = err_set(err, GR_EINTERNAL, field, "cannot create a GeoJSON reader: %s", g->msg);
        goto out;
    }
    geom = GEOSGeoJSONReader_readGeometry_r(g->ctx, reader, copy);
    if (!geom) {
        rc = err_set(err, GR_EINVAL, field, "not a valid geometry: %s", g->msg);
        goto out;
    }
    if (GEOSGeomTypeId_r(g->ctx, geom) != (multi ? GEOS_MULTIPOLYGON : GEOS_POLYGON)) {
        rc = err_set(err, GR_EINVAL, field, "type must be Polygon or MultiPolygon");
        goto out;
    }
    if (GEOSisEmpty_r(g->ctx, geom) != 0) {
        rc = err_set(err, GR_EINVAL, field, "must not be empty");
        goto out;
    }
    rc = check_validity(g, geom, field, err);
    if (rc)
        goto out;
    *out = geom;
    geom = NULL;
out:
    if (geom)
        GEOSGeom_destroy_r(g->ctx, geom);
    if (reader)
        GEOSGeoJSONReader_destroy_r(g->ctx, reader);
    free(copy);
    json_decref(root);
    return rc;
}

int geo_geojson_check(const char *text, size_t len, const char *field, double *centroid_lat,
                      double *centroid_lon, gr_err *err)
{
    struct geo_geos g = {0};
    GEOSGeometry *geom = NULL, *centroid = NULL;
    double x, y;
    int rc;

    rc = geo_geos_init(&g);
    if (rc) {
        err_set(err, rc, field, "cannot create a GEOS context");
        goto out;
    }
    rc = geo_geojson_read(&g, text, len, field, &geom, err);
    if (rc)
        goto out;
    centroid = GEOSGetCentroid_r(g.ctx, geom);
    if (!centroid || GEOSGeomGetX_r(g.ctx, centroid, &x) != 1 ||
        GEOSGeomGetY_r(g.ctx, centroid, &y) != 1) {
        rc = err_set(err, GR_EINTERNAL, field, "cannot compute the centroid: %s", g.msg);
        goto out;
    }
    if (centroid_lat)
        *centroid_lat = y;
    if (centroid_lon)
        *centroid_lon = x;
out:
    if (centroid)
        GEOSGeom_destroy_r(g.ctx, centroid);
    if (geom)
        GEOSGeom_destroy_r(g.ctx, geom);
    geo_geos_finish(&g);
    return rc;
}
