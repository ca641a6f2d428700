#include "synth_grid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define PI 3.14159265358979323846

uint64_t synth_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void synth_city_init(synth_city *c, uint32_t nx, uint32_t ny, uint64_t seed, double lon0,
                     double lat0, double w_km, double h_km, double angle)
{
    c->nx = nx;
    c->ny = ny;
    c->seed = seed;
    c->lon0 = lon0;
    c->lat0 = lat0;
    c->w_km = w_km;
    c->h_km = h_km;
    c->sin_a = sin(angle);
    c->cos_a = cos(angle);
}

/* A deterministic value in [0, 1) for (i, j, tag): both neighbours of an edge
   compute the same vertices from it. */
static double city_hash(const synth_city *c, uint32_t i, uint32_t j, uint32_t tag)
{
    uint64_t h = synth_splitmix64(c->seed ^ ((uint64_t)i << 40) ^ ((uint64_t)j << 16) ^ tag);

    return (double)(h >> 11) / 9007199254740992.0;
}

/* Denser in the middle: f(0) = 0, f(1) = 1, f' three times larger at 0.5. */
static double warp(double t)
{
    double s = t - 0.5;

    return 0.5 + 0.6 * s + 1.6 * s * s * s;
}

void synth_city_map(const synth_city *c, double u, double v, double *lon, double *lat)
{
    double x = (warp(u) - 0.5) * c->w_km, y = (warp(v) - 0.5) * c->h_km;
    double xr = x * c->cos_a - y * c->sin_a, yr = x * c->sin_a + y * c->cos_a;

    *lon = c->lon0 + xr / (111.32 * cos(c->lat0 * PI / 180.0));
    *lat = c->lat0 + yr / 110.57;
}

/* Inner corners jitter by a quarter cell. */
void synth_corner_uv(const synth_city *c, uint32_t i, uint32_t j, double *u, double *v)
{
    double ju = (i > 0 && i < c->nx) ? (city_hash(c, i, j, 1) - 0.5) * 0.5 : 0.0;
    double jv = (j > 0 && j < c->ny) ? (city_hash(c, i, j, 2) - 0.5) * 0.5 : 0.0;

    *u = (i + ju) / c->nx;
    *v = (j + jv) / c->ny;
}

/* The extra vertices of the edge from corner (i, j) along +u (horiz) or +v,
   pushed sideways (not on the city's outer edge). Returns how many (0-2). */
static int edge_points(const synth_city *c, uint32_t i, uint32_t j, int horiz, double *us,
                       double *vs)
{
    uint32_t tag = horiz ? 3 : 4;
    int m = (int)(city_hash(c, i, j, tag) * 3.0);
    int outer = horiz ? (j == 0 || j == c->ny) : (i == 0 || i == c->nx);
    double u0, v0, u1, v1;

    synth_corner_uv(c, i, j, &u0, &v0);
    synth_corner_uv(c, horiz ? i + 1 : i, horiz ? j : j + 1, &u1, &v1);
    for (int q = 0; q < m; q++) {
        double t = (q + 1.0) / (m + 1.0);
        double off = outer ? 0.0 : (city_hash(c, i, j, tag + 8u * (q + 1)) - 0.5) * 0.16;

        us[q] = u0 + (u1 - u0) * t + (horiz ? 0.0 : off / c->nx);
        vs[q] = v0 + (v1 - v0) * t + (horiz ? off / c->ny : 0.0);
    }
    return m;
}

static void ring_add(const synth_city *c, synth_ring *r, double u, double v)
{
    synth_city_map(c, u, v, &r->lon[r->n], &r->lat[r->n]);
    r->n++;
}

/* Bottom, right, top (reversed), left (reversed). */
void synth_city_cell(const synth_city *c, uint32_t i, uint32_t j, synth_ring *r)
{
    double us[2], vs[2], u, v;
    int m;

    r->n = 0;
    synth_corner_uv(c, i, j, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i, j, 1, us, vs);
    for (int q = 0; q < m; q++)
        ring_add(c, r, us[q], vs[q]);
    synth_corner_uv(c, i + 1, j, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i + 1, j, 0, us, vs);
    for (int q = 0; q < m; q++)
        ring_add(c, r, us[q], vs[q]);
    synth_corner_uv(c, i + 1, j + 1, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i, j + 1, 1, us, vs);
    for (int q = m - 1; q >= 0; q--)
        ring_add(c, r, us[q], vs[q]);
    synth_corner_uv(c, i, j + 1, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i, j, 0, us, vs);
    for (int q = m - 1; q >= 0; q--)
        ring_add(c, r, us[q], vs[q]);
    r->lon[r->n] = r->lon[0];
    r->lat[r->n] = r->lat[0];
    r->n++;
}

char *synth_ring_geojson(const synth_ring *r, size_t *len)
{
    size_t cap = 64 + (size_t)r->n * 52, n;
    char *s = malloc(cap);

    if (!s)
        return NULL;
    n = (size_t)snprintf(s, cap, "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (int k = 0; k < r->n; k++)
        n +=
            (size_t)snprintf(s + n, cap - n, "%s[%.17g,%.17g]", k ? "," : "", r->lon[k], r->lat[k]);
    n += (size_t)snprintf(s + n, cap - n, "]]}");
    *len = n;
    return s;
}
