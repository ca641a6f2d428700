/*
 * Areas of the base data and what is in them (docs/basedata.md, "Area
 * queries, the emergency view and statistics"): who lives in an area, the
 * counts of an area, the emergency view of a drawn area and the
 * decision-support statistics of a unit.
 *
 * An area is a GeoJSON Polygon or MultiPolygon, a circle (a point and a
 * radius of at most BD_AREA_RADIUS_MAX metres) or an org unit, always
 * intersected with the caller's scope. A unit area is an index range over
 * the unit chain every record carries, and its population, care tags and
 * houses are read from tallies the database keeps (bd_tally.h); a drawn area
 * first finds the live buildings in its bounding box and keeps those the
 * exact test passes, then aggregates over the houses and people of those
 * buildings. Every count is a SQL aggregate; only building, organisation,
 * facility and space ids and their points come into C, for the exact test.
 *
 * Ages are as of 31 December of today's year (年末 statistics): the age is
 * the year minus the birth year, for unit and drawn areas alike.
 *
 * Life cycle: one of the bd_area_parse_* / bd_area_unit calls, then
 * bd_area_scope, then bd_area_resolve (once, on one reader), then any of the
 * queries; bd_area_free always (also after a failed parse).
 */
#ifndef GR_BASEDATA_BD_AREA_H
#define GR_BASEDATA_BD_AREA_H

#include "base/arena.h"
#include "base/err.h"
#include "db/db.h"
#include "geo/shape.h"
#include "http/http.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define BD_AREA_RADIUS_MAX 5000.0
/* The longest lists the emergency view returns; "truncated" says when more exist. */
enum { BD_EMERGENCY_MAX = 5000 };

typedef enum { BD_AREA_NONE = 0, BD_AREA_POLYGON, BD_AREA_CIRCLE, BD_AREA_UNIT } bd_area_kind;

typedef struct bd_area {
    bd_area_kind kind;
    /* A drawn area: its bounding box (WGS-84) and, for a polygon, the
     * prepared shape (owned: bd_area_free). */
    double min_lat, max_lat, min_lon, max_lon;
    double lat, lon, radius_m; /* the circle */
    geo_shape *geo;
    /* A unit area: the unit, its chain (city .. grid) and its level in the
     * chain (0 city .. 4 grid); unit 0 after bd_area_scope: everything (a
     * caller without a scope and no area). */
    int64_t unit, chain[5];
    int level;
    /* The caller's scope (0: all) and the chain column of its kind. */
    int64_t scope;
    const char *scope_col;
    /* After bd_area_resolve, for a drawn area: JSON arrays (text) of the ids
     * of the live buildings, organisations, facilities and spaces inside. */
    const char *buildings, *orgs, *facilities, *spaces;
    int64_t nbuildings;
} bd_area;

/* A GeoJSON Polygon or MultiPolygon (text, need not be NUL-terminated) in
 * crs ("wgs84", "gcj02", "bd09"; NULL: wgs84), converted to WGS-84 and
 * validated (geo_shape_read: GEOSisValid, ranges, vertex count). GR_EINVAL
 * naming field, or "crs", with the reason. */
int bd_area_parse_polygon(const char *text, size_t len, const char *crs, const char *field,
                          bd_area *out, gr_err *err);
/* near "lat,lon" (in crs) and a radius in metres as text (0 < r <= 5000).
 * GR_EINVAL naming "near", "radius" or "crs". */
int bd_area_parse_near(const char *near, const char *radius, const char *crs, bd_area *out,
                       gr_err *err);
/* A circle from numbers already parsed (WGS-84). GR_EINVAL naming "lat",
 * "lon" or "radius". */
int bd_area_circle(double lat, double lon, double radius_m, bd_area *out, gr_err *err);
/* An org unit. GR_EINVAL naming field when there is no such unit. */
int bd_area_unit(db_conn *c, int64_t unit, const char *field, bd_area *out, gr_err *err);

/* Intersects the area with scope (0: all). A unit area becomes the smaller
 * of the two when one contains the other; a drawn area keeps only records
 * inside scope. An area entirely outside scope: GR_EFORBIDDEN naming field.
 * An area of kind BD_AREA_NONE becomes the scope unit (everything for 0). */
int bd_area_scope(db_conn *c, bd_area *a, int64_t scope, const char *field, gr_err *err);

/* Finds the live buildings, organisations, facilities and spaces of a drawn
 * area (bounding box in SQL, then the exact test); nothing for a unit area. */
int bd_area_resolve(db_conn *c, arena *ar, bd_area *a, gr_err *err);

/* Whether a WGS-84 point lies in a drawn area (a polygon's boundary counts
 * as inside). Always 0 for a unit area. */
int bd_area_contains(const bd_area *a, double lat, double lon);

void bd_area_free(bd_area *a);

/* Today in Asia/Shanghai as YYYY-MM-DD (ages are taken at the end of its year). */
void bd_area_today(char out[11]);

/* One person of an area: masked, no ID number and no phone. */
typedef struct bd_area_person {
    int64_t id, house_id, building_id; /* 0: none */
    const char *name_hint, *sex, *birth_date, *residency, *care_tags;
} bd_area_person;

/* The live people of the area, keyset by id ascending. */
int bd_area_people(db_conn *c, arena *ar, const bd_area *a, int64_t after, int64_t limit,
                   bd_area_person **out, size_t *n, int *more, gr_err *err);

/* The counts of an area, ages at the end of today's year (today YYYY-MM-DD):
 * {"population": {"total", "by_residency": {registered, permanent, floating},
 *  "by_age_band": {"0-14", "15-59", "60-79", "80+"}, "by_care_tag": {tag: n}},
 *  "houses": {"total", "occupied", "vacant"},
 *  "orgs": {"total", "by_type": {...}, "by_industry": {...}},
 *  "facilities": {"total", "by_major": {"NN": n}, "by_state": {...}},
 *  "buildings": n for a drawn area}. */
int bd_area_summary(db_conn *c, const bd_area *a, const char *today, json_t **out, gr_err *err);

/* The emergency view: the buildings (with their head counts), the head
 * counts (total, by residency), the vulnerable people (care tags; masked
 * names with their house and building), the facilities and the underground
 * shelters (civil_defense spaces, with capacity). Lists stop at
 * BD_EMERGENCY_MAX ("truncated"). */
int bd_area_emergency(db_conn *c, const bd_area *a, json_t **out, gr_err *err);

/* The statistics of a unit area (or everything): the population pyramid by
 * 5-year band × sex, the share of floating population, occupied and vacant
 * houses, organisations by industry. */
int bd_area_stats(db_conn *c, const bd_area *a, const char *today, json_t **out, gr_err *err);

/* The routes (bd_area_api.c): GET /api/v1/basedata/area/people,
 * GET /api/v1/basedata/area/summary, GET /api/v1/basedata/stats,
 * POST /api/v1/basedata/emergency. */
void bd_area_api_register(http_router *r);

#endif
