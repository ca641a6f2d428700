/*
 * Private to src/geo: a GEOS context that keeps its last error message, and the
 * GeoJSON reading and validation shared by geojson.c and grid_index.c.
 */
#ifndef GR_GEO_GEOS_INTERNAL_H
#define GR_GEO_GEOS_INTERNAL_H

/* Hide the non-reentrant GEOS API: every call must name its context. */
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>

#include "base/err.h"

#include <stddef.h>

/* The most vertices (positions, closing ones included) one geometry may have. */
#define GEO_MAX_VERTICES 100000

/* A GEOS context is not thread-safe: one per call or one per owner that is used
   from one thread at a time. It must not move after geo_geos_init, because the
   message handler writes into msg. */
struct geo_geos {
    GEOSContextHandle_t ctx;
    char msg[192];
};

/* 0, or GR_EINTERNAL when GEOS cannot allocate a context. */
int geo_geos_init(struct geo_geos *g);
void geo_geos_finish(struct geo_geos *g);

/*
 * Parses GeoJSON geometry text (Polygon or MultiPolygon, lon/lat in range, at
 * most GEO_MAX_VERTICES vertices) and checks it is valid (GEOSisValid). On
 * success *out is the geometry, owned by the caller (GEOSGeom_destroy_r with
 * g->ctx); otherwise GR_EINVAL (GR_EINTERNAL when out of memory) naming field.
 */
int geo_geojson_read(struct geo_geos *g, const char *text, size_t len, const char *field,
                     GEOSGeometry **out, gr_err *err);

#endif
