/*
 * Validation of GeoJSON geometry from outside (org unit boundaries).
 */
#ifndef GR_GEO_GEOJSON_H
#define GR_GEO_GEOJSON_H

#include "base/err.h"

#include <stddef.h>

/*
 * Parses a GeoJSON geometry object text (Polygon or MultiPolygon, WGS-84
 * lon/lat), checks it is valid (GEOSisValid; lon/lat in range; at most 100000
 * vertices), returns 0 and the centroid (planar, in degrees), or GR_EINVAL with
 * a reason naming field `field` (e.g. "boundary"): "not valid JSON ...", "type
 * must be Polygon or MultiPolygon", "self-intersection at ...", etc.
 * GR_EINTERNAL if GEOS cannot allocate. text need not be NUL-terminated.
 * Thread-safe: each call uses its own GEOS context.
 */
int geo_geojson_check(const char *text, size_t len, const char *field, double *centroid_lat,
                      double *centroid_lon, gr_err *err);

#endif
