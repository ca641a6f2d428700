#include "geo/shape.h"

#include "geo/geos_internal.h"

#include <stdlib.h>

/* It must not move after geo_geos_init: the message handler writes into g. */
struct geo_shape {
    struct geo_geos g;
    GEOSGeometry *geom;
    const GEOSPreparedGeometry *prep;
    double west, south, east, north;
};

void geo_shape_free(geo_shape *s)
{
    if (!s)
        return;
    if (s->prep)
        GEOSPreparedGeom_destroy_r(s->g.ctx, s->prep);
    if (s->geom)
        GEOSGeom_destroy_r(s->g.ctx, s->geom);
    geo_geos_finish(&s->g);
    free(s);
}

int geo_shape_read(const char *text, size_t len, const char *field, geo_shape **out, gr_err *err)
{
    geo_shape *s = calloc(1, sizeof(*s));
    int rc;

    *out = NULL;
    if (!s || geo_geos_init(&s->g)) {
        free(s);
        return err_set(err, GR_EINTERNAL, field, "out of memory");
    }
    rc = geo_geojson_read(&s->g, text, len, field, &s->geom, err);
    if (!rc) {
        s->prep = GEOSPrepare_r(s->g.ctx, s->geom);
        if (!s->prep ||
            !GEOSGeom_getExtent_r(s->g.ctx, s->geom, &s->west, &s->south, &s->east, &s->north))
            rc = err_set(err, GR_EINTERNAL, field, "cannot prepare the polygon: %s", s->g.msg);
    }
    if (rc) {
        geo_shape_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void geo_shape_extent(const geo_shape *s, double *west, double *south, double *east, double *north)
{
    *west = s->west;
    *south = s->south;
    *east = s->east;
    *north = s->north;
}

int geo_shape_contains(const geo_shape *s, double lat, double lon)
{
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(s->g.ctx, lon, lat);
    char in;

    if (!pt)
        return 0;
    /* Intersects rather than contains: a point on the drawn edge is inside. */
    in = GEOSPreparedIntersects_r(s->g.ctx, s->prep, pt);
    GEOSGeom_destroy_r(s->g.ctx, pt);
    return in == 1;
}

/* The box with a context of its own: a box alone is no shape worth keeping. */
static int box_meets(double west, double south, double east, double north, const char *text,
                     size_t len, const char *field, int *meets, gr_err *err)
{
    struct geo_geos g;
    GEOSGeometry *other = NULL, *rect = NULL;
    int rc;

    if (geo_geos_init(&g))
        return err_set(err, GR_EINTERNAL, field, "out of memory");
    rc = geo_geojson_read(&g, text, len, field, &other, err);
    if (!rc) {
        rect = GEOSGeom_createRectangle_r(g.ctx, west, south, east, north);
        /* A box GEOS cannot make meets everything: never too strict. */
        *meets = !rect || GEOSIntersects_r(g.ctx, rect, other) == 1;
    }
    if (rect)
        GEOSGeom_destroy_r(g.ctx, rect);
    if (other)
        GEOSGeom_destroy_r(g.ctx, other);
    geo_geos_finish(&g);
    return rc;
}

int geo_shape_meets(geo_shape *s, double west, double south, double east, double north,
                    const char *text, size_t len, const char *field, int *meets, gr_err *err)
{
    GEOSGeometry *other = NULL;
    int rc;

    if (!s)
        return box_meets(west, south, east, north, text, len, field, meets, err);
    rc = geo_geojson_read(&s->g, text, len, field, &other, err);
    if (rc)
        return rc;
    *meets = GEOSIntersects_r(s->g.ctx, s->geom, other) == 1;
    GEOSGeom_destroy_r(s->g.ctx, other);
    return 0;
}
