/*
 * Coordinate systems used by Chinese web maps and distances between points.
 *
 * Grassroots stores WGS-84 (treated as equal to CGCS2000) and converts only at
 * the edges: input from 高德/腾讯 (GCJ-02) or Baidu (BD-09), output for those
 * base maps. Formulas: shared/reference/china_standards.md section 6.
 *
 * Outside the China rectangle (lon 72.004..137.8347, lat 0.8293..55.8271) both
 * GCJ-02 and BD-09 are taken to be WGS-84 (no shift), so a coordinate abroad
 * never moves. All functions here are pure and thread-safe.
 */
#ifndef GR_GEO_COORD_H
#define GR_GEO_COORD_H

#include "base/err.h"

typedef enum { GEO_CRS_WGS84 = 0, GEO_CRS_GCJ02, GEO_CRS_BD09 } geo_crs;

/* "wgs84", "gcj02" or "bd09" (any case) -> 0 and *out; anything else -> GR_EINVAL. */
int geo_crs_parse(const char *name, geo_crs *out);
/* The coordinate system a request names in its field "crs": WGS-84 when
 * name is NULL; GR_EINVAL naming "crs" for an unknown one. */
int geo_crs_arg(const char *name, geo_crs *out, gr_err *err);

/* "wgs84", "gcj02", "bd09", or "unknown" for a value outside the enum. */
const char *geo_crs_name(geo_crs crs);

/* 0 when both are finite, lat in [-90, 90] and lon in [-180, 180]; otherwise
   GR_EINVAL with field "lat" or "lon". */
int geo_check_latlon(double lat, double lon, gr_err *err);

/* Converts a point given in crs to WGS-84. GCJ-02 -> WGS-84 has no closed
   form; it is inverted by fixed-point iteration to about 1e-11 degrees, and
   BD-09 -> GCJ-02 likewise, so round trips return the same point. */
void geo_to_wgs84(geo_crs crs, double lat, double lon, double *out_lat, double *out_lon);

/* Converts a WGS-84 point to crs. */
void geo_from_wgs84(geo_crs crs, double lat, double lon, double *out_lat, double *out_lon);

/* Great-circle (haversine) distance in metres on a sphere of radius 6371008.8 m
   (the IUGG mean Earth radius); within 0.5% of the ellipsoidal distance. */
double geo_distance_m(double lat1, double lon1, double lat2, double lon2);

#endif
