/*
 * A GeoJSON polygon read once and asked many times (point in polygon, its
 * extent, whether it meets another geometry): what other modules need of
 * GEOS, without GEOS in their headers.
 */
#ifndef GR_GEO_SHAPE_H
#define GR_GEO_SHAPE_H

#include "base/err.h"

#include <stddef.h>

typedef struct geo_shape geo_shape;

/* Reads GeoJSON geometry text (WGS-84 lon/lat) with the checks of
 * geo_geojson_check (the same reasons, naming field) and prepares it for
 * repeated tests; *out belongs to the caller (geo_shape_free). A shape is
 * used by one thread at a time. */
int geo_shape_read(const char *text, size_t len, const char *field, geo_shape **out, gr_err *err);
void geo_shape_free(geo_shape *s);
/* Its bounding box in degrees. */
void geo_shape_extent(const geo_shape *s, double *west, double *south, double *east, double *north);
/* 1 when the point lies inside s or on its edge, else 0. */
int geo_shape_contains(const geo_shape *s, double lat, double lon);
/* Whether the geometry of the GeoJSON text (read as geo_shape_read does)
 * meets s, or with s NULL the box west, south, east, north: 0 and *meets, or
 * GR_EINVAL (GR_EINTERNAL when out of memory) naming field when the text
 * does not read. */
int geo_shape_meets(geo_shape *s, double west, double south, double east, double north,
                    const char *text, size_t len, const char *field, int *meets, gr_err *err);

#endif
