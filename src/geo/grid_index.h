/*
 * Point -> grid: which polygon (grid cell, community ...) contains a WGS-84
 * point. Used to route every case to the unit responsible for its place.
 *
 * Life cycle: geo_index_new, any number of geo_index_add, one geo_index_build,
 * then geo_index_find from any number of threads at once. add and build are
 * not thread-safe (the index is built by one thread, then published).
 *
 * Boundary rule: a point exactly on an edge belongs to the polygon just to its
 * right (for a horizontal edge: just above), i.e. to the polygon containing the
 * point moved an infinitesimal step right and a far smaller step up. So a point
 * on an edge shared by two polygons of a partition belongs to exactly one of
 * them, and a point on the outside boundary of a partition belongs to it on
 * the left and bottom, not on the right and top. If polygons overlap, the one
 * added first wins.
 */
#ifndef GR_GEO_GRID_INDEX_H
#define GR_GEO_GRID_INDEX_H

#include "base/err.h"

#include <stddef.h>
#include <stdint.h>

typedef struct geo_index geo_index; /* owner: whoever called geo_index_new */

/* NULL when out of memory. */
geo_index *geo_index_new(void);

/* Adds a polygon/multipolygon (GeoJSON geometry text, WGS-84) with a caller id
   (> 0). The text is validated as by geo_geojson_check (field "boundary");
   GR_EINVAL for bad input or when called after geo_index_build. */
int geo_index_add(geo_index *ix, int64_t id, const char *geojson, size_t len, gr_err *err);

/* After all adds; afterwards read-only. GR_EINVAL when called twice. */
int geo_index_build(geo_index *ix, gr_err *err);

/* Returns the id of the polygon containing the WGS-84 point, or 0 (also before
   build and for non-finite input). Safe to call from many threads at once
   after build. */
int64_t geo_index_find(const geo_index *ix, double lat, double lon);

/* Number of polygons added. */
size_t geo_index_count(const geo_index *ix);

void geo_index_free(geo_index *ix);

/*
 * Baseline for the benchmark and tests: a plain GEOS STRtree + prepared
 * polygons query (creating a point per query), same answer for points not on
 * a boundary (GEOS's contains excludes the boundary, so there it returns 0).
 * The GEOS structures are built on the first call (hundreds of bytes per
 * polygon, so the server never pays for them); calls are serialised by a lock.
 */
int64_t geo_index_find_baseline(const geo_index *ix, double lat, double lon);

#endif
