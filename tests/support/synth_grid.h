/*
 * A synthetic city for the point -> grid index: an nx x ny partition of a
 * w_km x h_km area, rotated by an angle. Grid corners are jittered, every edge
 * has 0-2 extra vertices pushed sideways, cells are smaller downtown (3x per
 * axis), so cells are irregular polygons of 4-12 vertices with no gaps or
 * overlaps: neighbours compute the very same vertex values. Used by
 * tests/unit/test_geo.c and bench/bench_geo.c, so the benchmark measures the
 * geometry the tests check.
 */
#ifndef GR_TESTS_SYNTH_GRID_H
#define GR_TESTS_SYNTH_GRID_H

#include <stddef.h>
#include <stdint.h>

typedef struct synth_city {
    uint32_t nx, ny;
    uint64_t seed;
    double lon0, lat0;   /* centre */
    double w_km, h_km;   /* size before rotation */
    double sin_a, cos_a; /* rotation */
} synth_city;

/* A closed ring: the first vertex again at the end. */
typedef struct synth_ring {
    double lon[16], lat[16];
    int n;
} synth_ring;

void synth_city_init(synth_city *c, uint32_t nx, uint32_t ny, uint64_t seed, double lon0,
                     double lat0, double w_km, double h_km, double angle);
/* Parameter space [0,1]^2 -> lon/lat. */
void synth_city_map(const synth_city *c, double u, double v, double *lon, double *lat);
/* Grid corner (i, j) in parameter space (0 <= i <= nx, 0 <= j <= ny). */
void synth_corner_uv(const synth_city *c, uint32_t i, uint32_t j, double *u, double *v);
/* Cell (i, j) counter-clockwise. */
void synth_city_cell(const synth_city *c, uint32_t i, uint32_t j, synth_ring *r);
/* GeoJSON Polygon text of a ring (malloc'ed, NULL when out of memory); %.17g
 * so that shared vertices read back identical. */
char *synth_ring_geojson(const synth_ring *r, size_t *len);

/* The SplitMix64 step: a well-mixed 64-bit value of x. */
uint64_t synth_splitmix64(uint64_t x);

#endif
