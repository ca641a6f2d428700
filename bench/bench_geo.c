/*
 * bench_geo: point -> grid lookups over a synthetic city, the grid index
 * against the plain GEOS baseline (STRtree + prepared polygons).
 *
 *   bench_geo [--polygons N] [--queries M] [--seed S]
 *
 * The city: an N-cell partition of ~30 x 25 km around Beijing, the synthetic
 * city of tests/support/synth_grid.h (irregular polygons of 4-12 vertices, no
 * gaps or overlaps, smaller downtown, rotated), the one test_geo checks.
 * Queries are uniform over the city's area, so denser where grids are
 * smaller, as cases are.
 *
 * Prints one line per measurement: BENCH name=<name> value=<number> unit=<unit>.
 * Exits 1 if the index and the baseline disagree on any query.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "geo/grid_index.h"
#include "synth_grid.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    synth_city c;
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
    {
        uint32_t ny = (uint32_t)fmax(1.0, round(sqrt(npoly / 1.2)));

        synth_city_init(&c, (uint32_t)((npoly + ny - 1) / ny), ny, seed, 116.40, 39.91, 30.0, 25.0,
                        0.31);
    }
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
            synth_ring r;
            size_t k = (size_t)j * c.nx + i;

            synth_city_cell(&c, i, j, &r);
            texts[k] = synth_ring_geojson(&r, &lens[k]);
            if (!texts[k])
                goto out;
        }
    }
    for (long q = 0; q < nq; q++) {
        uint64_t k = seed * 7 + 2 * (uint64_t)q;
        double u = (double)(synth_splitmix64(k) >> 11) / 9007199254740992.0;
        double v = (double)(synth_splitmix64(k + 1) >> 11) / 9007199254740992.0;

        synth_city_map(&c, u, v, &qlon[q], &qlat[q]);
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
