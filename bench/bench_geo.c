/*
 * bench_geo: point -> grid lookups over a synthetic city, the grid index
 * against the plain GEOS baseline (STRtree + prepared polygons).
 *
 *   bench_geo [--polygons N] [--queries M] [--seed S]
 *
 * The city: an N-cell partition of ~30 x 25 km around Beijing. Grid corners
 * are jittered, every edge has 0-2 extra vertices pushed sideways, cells are
 * smaller downtown (3x per axis) and the whole grid is rotated, so cells are
 * irregular, non-rectangular polygons of 4-12 vertices with no gaps or
 * overlaps (neighbours share the very same vertex values). Queries are
 * uniform over the city's area, so denser where grids are smaller, as cases are.
 *
 * Prints one line per measurement: BENCH name=<name> value=<number> unit=<unit>.
 * Exits 1 if the index and the baseline disagree on any query.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "geo/grid_index.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PI 3.14159265358979323846

struct city {
    uint32_t nx, ny;
    uint64_t seed;
    double lon0, lat0; /* centre */
    double w_km, h_km; /* size before rotation */
    double angle;      /* rotation, radians */
    double sin_a, cos_a;
};

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* A deterministic value in [0, 1) for (i, j, tag): both neighbours of an edge
   compute the same vertices from it. */
static double hash01(const struct city *c, uint32_t i, uint32_t j, uint32_t tag)
{
    uint64_t h = splitmix64(c->seed ^ ((uint64_t)i << 40) ^ ((uint64_t)j << 16) ^ tag);

    return (double)(h >> 11) / 9007199254740992.0;
}

/* Denser in the middle: f(0) = 0, f(1) = 1, f' three times larger at 0.5. */
static double warp(double t)
{
    double s = t - 0.5;

    return 0.5 + 0.6 * s + 1.6 * s * s * s;
}

/* Parameter space [0,1]^2 -> lon/lat. */
static void city_map(const struct city *c, double u, double v, double *lon, double *lat)
{
    double x = (warp(u) - 0.5) * c->w_km, y = (warp(v) - 0.5) * c->h_km;
    double xr = x * c->cos_a - y * c->sin_a, yr = x * c->sin_a + y * c->cos_a;

    *lon = c->lon0 + xr / (111.32 * cos(c->lat0 * PI / 180.0));
    *lat = c->lat0 + yr / 110.57;
}

/* Grid corner (i, j) in parameter space; inner corners jitter by a quarter cell. */
static void corner_uv(const struct city *c, uint32_t i, uint32_t j, double *u, double *v)
{
    double ju = (i > 0 && i < c->nx) ? (hash01(c, i, j, 1) - 0.5) * 0.5 : 0.0;
    double jv = (j > 0 && j < c->ny) ? (hash01(c, i, j, 2) - 0.5) * 0.5 : 0.0;

    *u = (i + ju) / c->nx;
    *v = (j + jv) / c->ny;
}

/* The extra vertices of the edge from corner (i, j) along +u (horiz) or +v,
   pushed sideways (not on the city's outer edge). Returns how many (0-2). */
static int edge_points(const struct city *c, uint32_t i, uint32_t j, int horiz, double *us,
                       double *vs)
{
    uint32_t tag = horiz ? 3 : 4;
    int m = (int)(hash01(c, i, j, tag) * 3.0);
    double u0, v0, u1, v1;
    int outer = horiz ? (j == 0 || j == c->ny) : (i == 0 || i == c->nx);

    corner_uv(c, i, j, &u0, &v0);
    corner_uv(c, horiz ? i + 1 : i, horiz ? j : j + 1, &u1, &v1);
    for (int q = 0; q < m; q++) {
        double t = (q + 1.0) / (m + 1.0);
        double off = outer ? 0.0 : (hash01(c, i, j, tag + 8u * (q + 1)) - 0.5) * 0.16;

        us[q] = u0 + (u1 - u0) * t + (horiz ? 0.0 : off / c->nx);
        vs[q] = v0 + (v1 - v0) * t + (horiz ? off / c->ny : 0.0);
    }
    return m;
}

struct ring {
    double lon[16], lat[16];
    int n;
};

static void ring_add(const struct city *c, struct ring *r, double u, double v)
{
    city_map(c, u, v, &r->lon[r->n], &r->lat[r->n]);
    r->n++;
}

/* Cell (i, j) counter-clockwise: bottom, right, top (reversed), left (reversed). */
static void city_cell(const struct city *c, uint32_t i, uint32_t j, struct ring *r)
{
    double us[2], vs[2], u, v;
    int m;

    r->n = 0;
    corner_uv(c, i, j, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i, j, 1, us, vs);
    for (int q = 0; q < m; q++)
        ring_add(c, r, us[q], vs[q]);
    corner_uv(c, i + 1, j, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i + 1, j, 0, us, vs);
    for (int q = 0; q < m; q++)
        ring_add(c, r, us[q], vs[q]);
    corner_uv(c, i + 1, j + 1, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i, j + 1, 1, us, vs);
    for (int q = m - 1; q >= 0; q--)
        ring_add(c, r, us[q], vs[q]);
    corner_uv(c, i, j + 1, &u, &v);
    ring_add(c, r, u, v);
    m = edge_points(c, i, j, 0, us, vs);
    for (int q = m - 1; q >= 0; q--)
        ring_add(c, r, us[q], vs[q]);
    r->lon[r->n] = r->lon[0];
    r->lat[r->n] = r->lat[0];
    r->n++;
}

/* GeoJSON text of a ring; %.17g so that shared vertices read back identical. */
static char *ring_geojson(const struct ring *r, size_t *len)
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

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident set size in MB, from /proc (0 where unavailable). */
static double rss_mb(void)
{
    char line[128];
    long kb = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return 0.0;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb / 1024.0;
}

static void bench(const char *name, double value, const char *unit)
{
    printf("BENCH name=%s value=%.6g unit=%s\n", name, value, unit);
    fflush(stdout);
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s [--polygons N] [--queries M] [--seed S]\n", argv0);
    return 2;
}

int main(int argc, char **argv)
{
    long npoly = 100000, nq = 1000000;
    uint64_t seed = 12345;
    struct city c = {0};
    char **texts = NULL;
    size_t *lens = NULL;
    double *qlat = NULL, *qlon = NULL, t0, t1, t2, rss0, rss1, rss2;
    int64_t *expect = NULL;
    geo_index *ix = NULL;
    gr_err err = {0};
    long mismatches = 0, hits = 0, npolys;
    double best = 1e30, base_rate;
    int64_t sink = 0;
    int rc = 1;

    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--polygons") && a + 1 < argc)
            npoly = strtol(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--queries") && a + 1 < argc)
            nq = strtol(argv[++a], NULL, 10);
        else if (!strcmp(argv[a], "--seed") && a + 1 < argc)
            seed = strtoull(argv[++a], NULL, 10);
        else
            return usage(argv[0]);
    }
    if (npoly < 1 || nq < 1)
        return usage(argv[0]);

    /* A 30 x 25 km city: ~1.2 : 1 cells. */
    c.ny = (uint32_t)fmax(1.0, round(sqrt(npoly / 1.2)));
    c.nx = (uint32_t)((npoly + c.ny - 1) / c.ny);
    c.seed = seed;
    c.lon0 = 116.40;
    c.lat0 = 39.91;
    c.w_km = 30.0;
    c.h_km = 25.0;
    c.angle = 0.31;
    c.sin_a = sin(c.angle);
    c.cos_a = cos(c.angle);
    npolys = (long)c.nx * c.ny;

    texts = calloc((size_t)npolys, sizeof(*texts));
    lens = calloc((size_t)npolys, sizeof(*lens));
    qlat = malloc((size_t)nq * sizeof(*qlat));
    qlon = malloc((size_t)nq * sizeof(*qlon));
    expect = malloc((size_t)nq * sizeof(*expect));
    if (!texts || !lens || !qlat || !qlon || !expect)
        goto out;
    for (uint32_t j = 0; j < c.ny; j++) {
        for (uint32_t i = 0; i < c.nx; i++) {
            struct ring r;
            size_t k = (size_t)j * c.nx + i;

            city_cell(&c, i, j, &r);
            texts[k] = ring_geojson(&r, &lens[k]);
            if (!texts[k])
                goto out;
        }
    }
    for (long q = 0; q < nq; q++) {
        double u = (double)(splitmix64(seed * 7 + 2 * (uint64_t)q) >> 11) / 9007199254740992.0;
        double v = (double)(splitmix64(seed * 7 + 2 * (uint64_t)q + 1) >> 11) / 9007199254740992.0;

        city_map(&c, u, v, &qlon[q], &qlat[q]);
    }
    printf("# bench_geo: %ld polygons (%u x %u), %ld queries\n", npolys, c.nx, c.ny, nq);

    rss0 = rss_mb();
    t0 = now_s();
    ix = geo_index_new();
    if (!ix)
        goto out;
    for (long k = 0; k < npolys; k++) {
        if (geo_index_add(ix, k + 1, texts[k], lens[k], &err)) {
            fprintf(stderr, "add %ld: %s: %s\n", k + 1, err.field, err.msg);
            goto out;
        }
    }
    t1 = now_s();
    if (geo_index_build(ix, &err)) {
        fprintf(stderr, "build: %s\n", err.msg);
        goto out;
    }
    t2 = now_s();
    rss1 = rss_mb();
    bench("geo.add_time", t1 - t0, "s");
    bench("geo.build_time", t2 - t1, "s");
    bench("geo.index_memory", rss1 - rss0, "MB");

    /* The first baseline call builds the GEOS structures. */
    t0 = now_s();
    sink += geo_index_find_baseline(ix, qlat[0], qlon[0]);
    t1 = now_s();
    rss2 = rss_mb();
    bench("geo.baseline_build_time", t1 - t0, "s");
    bench("geo.baseline_memory", rss2 - rss1, "MB");

    t0 = now_s();
    for (long q = 0; q < nq; q++)
        expect[q] = geo_index_find_baseline(ix, qlat[q], qlon[q]);
    t1 = now_s();
    base_rate = nq / (t1 - t0);
    bench("geo.baseline", base_rate, "lookups/s");

    /* Best of three: the index pass is short enough to be disturbed. */
    for (int rep = 0; rep < 3; rep++) {
        t0 = now_s();
        for (long q = 0; q < nq; q++)
            sink += geo_index_find(ix, qlat[q], qlon[q]);
        t1 = now_s();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    for (long q = 0; q < nq; q++) {
        int64_t id = geo_index_find(ix, qlat[q], qlon[q]);

        hits += id != 0;
        if (id != expect[q]) {
            if (mismatches < 5)
                fprintf(stderr, "mismatch at lat %.17g lon %.17g: index %lld, baseline %lld\n",
                        qlat[q], qlon[q], (long long)id, (long long)expect[q]);
            mismatches++;
        }
    }
    bench("geo.index", nq / best, "lookups/s");
    bench("geo.ratio", (nq / best) / base_rate, "x");
    bench("geo.mismatches", (double)mismatches, "count");
    printf("# %ld of %ld queries inside a polygon (checksum %lld)\n", hits, nq, (long long)sink);
    rc = mismatches ? 1 : 0;
out:
    if (rc && err.msg[0] == '\0' && !mismatches)
        fprintf(stderr, "bench_geo failed\n");
    geo_index_free(ix);
    for (long k = 0; texts && k < npolys; k++)
        free(texts[k]);
    free(texts);
    free(lens);
    free(qlat);
    free(qlon);
    free(expect);
    return rc;
}
