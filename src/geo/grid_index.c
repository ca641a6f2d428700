/*
 * Point -> polygon index.
 *
 * Layout: a hierarchy of uniform bucket grids covers the polygons' extent.
 * Each grid cell is one 32-bit code:
 *
 *   EMPTY            no polygon touches the cell: answer 0
 *   FULL  | poly     the cell lies inside one polygon and touches no edge:
 *                    answer without any geometry (most queries)
 *   LIST  | offset   short list of candidate polygons (ascending order) in
 *                    ix->lists: [count, poly, poly ...]; exact test each
 *   SUB   | node     too many candidates: a finer grid over this cell
 *
 * A polygon is named in cells and lists by the index of its first vertex in
 * ix->xy; a 64-byte header (id, box, edge bands) sits just before the
 * vertices on its own cache line, so a query reads the cell, maybe a list,
 * then one contiguous block per candidate. Measured on 100k grids, this is
 * what the lookup time is made of: cache misses, not arithmetic.
 *
 * The exact test is a crossing-number (ray casting) test, see edge_crosses().
 * Its per-edge predicate depends only on the undirected edge and the point, so
 * two polygons sharing an edge always agree on which side a point is: that is
 * what makes the boundary rule in grid_index.h hold.
 *
 * The query touches no GEOS object and writes nothing, hence it is thread-safe.
 * GEOS is used to parse and validate input and for the baseline.
 */
#include "geo/grid_index.h"
#include "geo/geos_internal.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define TAG_SHIFT  30
#define TAG_EMPTY  0u
#define TAG_FULL   1u
#define TAG_LIST   2u
#define TAG_SUB    3u
#define VALUE_MASK ((1u << TAG_SHIFT) - 1)

/* Root grid cells per polygon: more cells make more of them FULL (no geometry
   test) at 4 bytes each. 64 (capped at 16 MB of cells) makes ~55% of lookups
   over 100k grids FULL. */
#define ROOT_CELLS_PER_POLY 64
#define ROOT_MAX_CELLS      (1u << 22)
/* A cell with more candidates than this gets a finer grid (dense downtown
   grids next to large rural ones), up to MAX_DEPTH levels below the root. */
#define LIST_MAX      6
#define MAX_DEPTH     5
#define CHILD_MAX_DIM 64
/* Below ~1 cm subdividing cannot separate polygons that meet at one point. */
#define MIN_CELL_DEG 1e-7
/* Polygons with more edges than this get horizontal bands of edges, so that a
   test reads only the edges near the point's latitude. */
#define BAND_MIN_EDGES 32
#define EDGES_PER_BAND 4
#define RING_SHELL     (1u << 31)
#define MAX_ELEMS      (VALUE_MASK - 1)
#define PAIR_FULL      (1u << 31)

/* What a query needs of a polygon, stored in ix->xy just before its vertices
   (HDR_SLOTS vertex slots) and read with memcpy. */
struct phdr {
    double minx, miny, maxx, maxy;
    double band_sy; /* bands: (y - miny) * band_sy */
    int64_t id;
    uint32_t nv;           /* vertices, closing ones and bridges included */
    uint32_t nband, band0; /* band offsets band_off[band0 .. band0+nband] */
    uint32_t pad;
};

#define HDR_SLOTS 4 /* 64 bytes = 4 vertices of 2 doubles */
_Static_assert(sizeof(struct phdr) == HDR_SLOTS * 2 * sizeof(double), "header is 4 slots");

/* Per polygon, for build and baseline. */
struct gpoly {
    double minx, miny, maxx, maxy;
    uint32_t v0, nv; /* vertices xy[2*v0 ..], see append_geometry */
};

struct gring {
    uint32_t ring0, nring; /* entries in rings[] */
};

struct gnode {
    double x0, y0, cw, ch, sx, sy;
    uint32_t nx, ny, base; /* cells[base .. base+nx*ny), row-major */
};

struct baseline {
    pthread_mutex_t lock;
    int ready, failed;
    struct geo_geos g;
    GEOSGeometry **geoms;
    const GEOSPreparedGeometry **prep;
    GEOSSTRtree *tree;
};

struct geo_index {
    struct geo_geos g; /* parsing during add; not used after build */
    int built;

    struct gpoly *polys;
    struct gring *prings;
    size_t npoly, cap_polys, cap_prings;

    double *xy; /* x = lon, y = lat, interleaved; and the headers */
    size_t nxy, cap_xy;

    uint32_t *rings; /* vertex count of each ring, RING_SHELL on a part's shell */
    size_t nrings, cap_rings;

    uint32_t *band_off, *band_edges;
    size_t nband_off, cap_band_off, nband_edges, cap_band_edges;

    struct gnode *nodes;
    size_t nnodes, cap_nodes;
    uint32_t *cells;
    size_t ncells, cap_cells;
    uint32_t *lists;
    size_t nlists, cap_lists;
    double x0, y0, x1, y1; /* extent of the root grid */

    struct baseline *base;
};

/* Grows *p so it holds at least need elements of size elem. */
static int vec_reserve(void *pp, size_t *cap, size_t need, size_t elem)
{
    void **p = pp;
    size_t ncap = *cap ? *cap : 16;
    void *np;

    if (need <= *cap)
        return 0;
    while (ncap < need)
        ncap *= 2;
    np = realloc(*p, ncap * elem);
    if (!np)
        return GR_EINTERNAL;
    *p = np;
    *cap = ncap;
    return 0;
}

/* Shrinks a finished array to its size; keeps the old block if realloc fails. */
static void vec_shrink(void *pp, size_t *cap, size_t n, size_t elem)
{
    void **p = pp;
    void *np;

    if (n == 0 || n == *cap)
        return;
    np = realloc(*p, n * elem);
    if (np) {
        *p = np;
        *cap = n;
    }
}

/* The one mapping from a coordinate to a cell (or band) number, used by both
   build and query so that they agree on every point. */
static inline uint32_t cell_coord(double v, double v0, double s, uint32_t n)
{
    double f = (v - v0) * s;

    if (!(f > 0.0))
        return 0;
    if (f >= (double)n)
        return n - 1;
    return (uint32_t)f;
}

/*
 * Does the edge cross the ray from (px, py) to +x?  Half-open in y (a vertex
 * counts for the edge leaving upwards) and strict in x. The endpoints are put
 * in a fixed order first, so the two polygons sharing an edge compute the very
 * same products and can never both claim, or both reject, a point next to it.
 */
static inline int edge_crosses(double ax, double ay, double bx, double by, double px, double py)
{
    if (ay > by) {
        double t = ax;
        ax = bx;
        bx = t;
        t = ay;
        ay = by;
        by = t;
    }
    if (!(ay <= py && py < by))
        return 0;
    return (bx - ax) * (py - ay) > (px - ax) * (by - ay);
}

static inline void hdr_load(const geo_index *ix, uint32_t v0, struct phdr *h)
{
    memcpy(h, ix->xy + 2 * ((size_t)v0 - HDR_SLOTS), sizeof(*h));
}

static int poly_contains(const geo_index *ix, uint32_t v0, double x, double y)
{
    const double *v = ix->xy;
    struct phdr g;
    int in = 0;

    hdr_load(ix, v0, &g);
    /* Right and top edges of the box cannot be inside under the rule above. */
    if (!(x >= g.minx && x < g.maxx && y >= g.miny && y < g.maxy))
        return 0;
    if (!g.nband) {
        const double *a = v + 2 * (size_t)v0, *end = a + 2 * (size_t)(g.nv - 1);

        for (; a < end; a += 2)
            in ^= edge_crosses(a[0], a[1], a[2], a[3], x, y);
    } else {
        uint32_t b = cell_coord(y, g.miny, g.band_sy, g.nband);
        const uint32_t *e = ix->band_edges + ix->band_off[g.band0 + b];
        const uint32_t *end = ix->band_edges + ix->band_off[g.band0 + b + 1];

        for (; e < end; e++) {
            const double *a = v + 2 * (size_t)*e;

            in ^= edge_crosses(a[0], a[1], a[2], a[3], x, y);
        }
    }
    return in;
}

static inline int64_t hdr_id(const geo_index *ix, uint32_t v0)
{
    int64_t id;

    memcpy(&id, ix->xy + 2 * ((size_t)v0 - HDR_SLOTS) + offsetof(struct phdr, id) / sizeof(double),
           sizeof(id));
    return id;
}

int64_t geo_index_find(const geo_index *ix, double lat, double lon)
{
    const struct gnode *n;

    if (!ix || !ix->built || !ix->nnodes)
        return 0;
    if (!(lon >= ix->x0 && lon <= ix->x1 && lat >= ix->y0 && lat <= ix->y1))
        return 0;
    n = ix->nodes;
    for (;;) {
        uint32_t i = cell_coord(lon, n->x0, n->sx, n->nx);
        uint32_t j = cell_coord(lat, n->y0, n->sy, n->ny);
        uint32_t code = ix->cells[n->base + (size_t)j * n->nx + i];
        uint32_t val = code & VALUE_MASK;

        switch (code >> TAG_SHIFT) {
        case TAG_FULL:
            return hdr_id(ix, val);
        case TAG_SUB:
            n = &ix->nodes[val];
            continue;
        case TAG_LIST: {
            const uint32_t *l = &ix->lists[val];

            for (uint32_t k = 1; k <= l[0]; k++) {
                if (poly_contains(ix, l[k], lon, lat))
                    return hdr_id(ix, l[k]);
            }
            return 0;
        }
        default:
            return 0;
        }
    }
}

size_t geo_index_count(const geo_index *ix)
{
    return ix ? ix->npoly : 0;
}

geo_index *geo_index_new(void)
{
    geo_index *ix = calloc(1, sizeof(*ix));

    if (!ix)
        return NULL;
    if (geo_geos_init(&ix->g) != 0)
        goto fail;
    ix->base = calloc(1, sizeof(*ix->base));
    if (!ix->base)
        goto fail;
    if (pthread_mutex_init(&ix->base->lock, NULL) != 0) {
        free(ix->base);
        ix->base = NULL;
        goto fail;
    }
    return ix;
fail:
    geo_geos_finish(&ix->g);
    free(ix);
    return NULL;
}

static void baseline_free(struct baseline *bl, size_t npoly)
{
    if (!bl->g.ctx)
        return;
    if (bl->tree)
        GEOSSTRtree_destroy_r(bl->g.ctx, bl->tree);
    for (size_t i = 0; bl->prep && i < npoly; i++) {
        if (bl->prep[i])
            GEOSPreparedGeom_destroy_r(bl->g.ctx, bl->prep[i]);
    }
    for (size_t i = 0; bl->geoms && i < npoly; i++) {
        if (bl->geoms[i])
            GEOSGeom_destroy_r(bl->g.ctx, bl->geoms[i]);
    }
    free(bl->prep);
    free(bl->geoms);
    bl->tree = NULL;
    bl->prep = NULL;
    bl->geoms = NULL;
    geo_geos_finish(&bl->g);
}

void geo_index_free(geo_index *ix)
{
    if (!ix)
        return;
    if (ix->base) {
        baseline_free(ix->base, ix->npoly);
        pthread_mutex_destroy(&ix->base->lock);
        free(ix->base);
    }
    geo_geos_finish(&ix->g);
    free(ix->polys);
    free(ix->prings);
    free(ix->xy);
    free(ix->rings);
    free(ix->band_off);
    free(ix->band_edges);
    free(ix->nodes);
    free(ix->cells);
    free(ix->lists);
    free(ix);
}

/* Appends one ring's coordinates (closing vertex included) to ix->xy. */
static int append_ring(geo_index *ix, const GEOSGeometry *ring, int shell)
{
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(ix->g.ctx, ring);
    unsigned int n = 0;

    if (!seq || !GEOSCoordSeq_getSize_r(ix->g.ctx, seq, &n) || n < 4)
        return GR_EINVAL;
    if (vec_reserve(&ix->xy, &ix->cap_xy, ix->nxy + 2 * (size_t)n + 2, sizeof(double)) ||
        vec_reserve(&ix->rings, &ix->cap_rings, ix->nrings + 1, sizeof(uint32_t)))
        return GR_EINTERNAL;
    if (!GEOSCoordSeq_copyToBuffer_r(ix->g.ctx, seq, ix->xy + ix->nxy, 0, 0))
        return GR_EINTERNAL;
    ix->nxy += 2 * (size_t)n;
    ix->rings[ix->nrings++] = n | (shell ? RING_SHELL : 0);
    return 0;
}

/*
 * Vertices of a polygon are stored as one closed walk: the first ring, then
 * each further ring followed by the first vertex again. The "bridges" between
 * rings are each walked twice (there and back), so their crossings cancel and
 * the query loops over consecutive vertex pairs with no ring bookkeeping.
 */
static int append_geometry(geo_index *ix, const GEOSGeometry *geom, uint32_t v0)
{
    int nparts = GEOSGeomTypeId_r(ix->g.ctx, geom) == GEOS_MULTIPOLYGON
                     ? GEOSGetNumGeometries_r(ix->g.ctx, geom)
                     : 1;
    int rc, first = 1;

    for (int i = 0; i < nparts; i++) {
        const GEOSGeometry *part = nparts == 1 && GEOSGeomTypeId_r(ix->g.ctx, geom) == GEOS_POLYGON
                                       ? geom
                                       : GEOSGetGeometryN_r(ix->g.ctx, geom, i);
        int nholes = part ? GEOSGetNumInteriorRings_r(ix->g.ctx, part) : -1;

        if (nholes < 0)
            return GR_EINTERNAL;
        for (int r = -1; r < nholes; r++) {
            const GEOSGeometry *ring = r < 0 ? GEOSGetExteriorRing_r(ix->g.ctx, part)
                                             : GEOSGetInteriorRingN_r(ix->g.ctx, part, r);

            if (!ring)
                return GR_EINTERNAL;
            rc = append_ring(ix, ring, r < 0);
            if (rc)
                return rc;
            if (!first) {
                /* The bridge back; space was reserved by append_ring. */
                ix->xy[ix->nxy] = ix->xy[2 * (size_t)v0];
                ix->xy[ix->nxy + 1] = ix->xy[2 * (size_t)v0 + 1];
                ix->nxy += 2;
            }
            first = 0;
        }
    }
    return 0;
}

/* Walks the real edges of a polygon (not the bridges between its rings); an
   edge is named by the index k of its first vertex, and runs from k to k+1. */
struct edge_iter {
    const geo_index *ix;
    uint32_t ring, ring_end, k, kend, next_v;
    int first;
};

static void edges_begin(struct edge_iter *it, const geo_index *ix, uint32_t p)
{
    it->ix = ix;
    it->ring = ix->prings[p].ring0;
    it->ring_end = it->ring + ix->prings[p].nring;
    it->next_v = ix->polys[p].v0;
    it->k = it->kend = 0;
    it->first = 1;
}

static int edges_next(struct edge_iter *it, uint32_t *k, const double **a)
{
    while (it->k + 1 >= it->kend) {
        uint32_t n;

        if (it->ring == it->ring_end)
            return 0;
        n = it->ix->rings[it->ring++] & ~RING_SHELL;
        it->k = it->next_v;
        it->kend = it->next_v + n;
        it->next_v += n + (it->first ? 0 : 1);
        it->first = 0;
    }
    *k = it->k++;
    *a = it->ix->xy + 2 * (size_t)*k;
    return 1;
}

/* Horizontal bands of edges for polygons with many vertices (see poly_contains).
   An edge is listed in every band its closed y-range maps to, so the band of
   any y the edge can cross is among them (cell_coord is monotonic). */
static int build_bands(geo_index *ix, uint32_t p, struct phdr *g)
{
    uint32_t nedges = g->nv - 1, nband, *off, k;
    size_t base_off, base_edges, total = 0;
    struct edge_iter it;
    const double *a;

    if (nedges <= BAND_MIN_EDGES || !(g->maxy > g->miny))
        return 0;
    nband = nedges / EDGES_PER_BAND;
    g->band_sy = nband / (g->maxy - g->miny);
    base_off = ix->nband_off;
    if (vec_reserve(&ix->band_off, &ix->cap_band_off, base_off + nband + 1, sizeof(uint32_t)))
        return GR_EINTERNAL;
    off = ix->band_off + base_off;
    memset(off, 0, (nband + 1) * sizeof(uint32_t));
    /* Count, prefix-sum, then fill. */
    edges_begin(&it, ix, p);
    while (edges_next(&it, &k, &a)) {
        if (a[1] != a[3]) {
            uint32_t b0 = cell_coord(fmin(a[1], a[3]), g->miny, g->band_sy, nband);
            uint32_t b1 = cell_coord(fmax(a[1], a[3]), g->miny, g->band_sy, nband);

            for (uint32_t b = b0; b <= b1; b++)
                off[b + 1]++;
            total += b1 - b0 + 1;
        }
    }
    base_edges = ix->nband_edges;
    if (base_edges + total > MAX_ELEMS)
        return GR_EINTERNAL;
    if (vec_reserve(&ix->band_edges, &ix->cap_band_edges, base_edges + total, sizeof(uint32_t)))
        return GR_EINTERNAL;
    off[0] = (uint32_t)base_edges;
    for (uint32_t b = 0; b < nband; b++)
        off[b + 1] += off[b];
    /* off[b] is now the end of band b-1; fill with a cursor per band. */
    {
        uint32_t *cur = malloc(nband * sizeof(uint32_t));

        if (!cur)
            return GR_EINTERNAL;
        memcpy(cur, off, nband * sizeof(uint32_t));
        edges_begin(&it, ix, p);
        while (edges_next(&it, &k, &a)) {
            if (a[1] != a[3]) {
                uint32_t b0 = cell_coord(fmin(a[1], a[3]), g->miny, g->band_sy, nband);
                uint32_t b1 = cell_coord(fmax(a[1], a[3]), g->miny, g->band_sy, nband);

                for (uint32_t b = b0; b <= b1; b++)
                    ix->band_edges[cur[b]++] = k;
            }
        }
        free(cur);
    }
    ix->nband_edges = base_edges + total;
    ix->nband_off = base_off + nband + 1;
    g->band0 = (uint32_t)base_off;
    g->nband = nband;
    return 0;
}

int geo_index_add(geo_index *ix, int64_t id, const char *geojson, size_t len, gr_err *err)
{
    GEOSGeometry *geom = NULL;
    size_t nxy0, nrings0, end;
    struct gpoly *g;
    struct phdr h = {0};
    uint32_t v0;
    int rc;

    if (!ix)
        return err_set(err, GR_EINVAL, "", "no index");
    nxy0 = ix->nxy;
    nrings0 = ix->nrings;
    if (ix->built) {
        rc = err_set(err, GR_EINVAL, "", "the index is already built");
        goto out;
    }
    if (id <= 0) {
        rc = err_set(err, GR_EINVAL, "id", "must be greater than 0");
        goto out;
    }
    rc = geo_geojson_read(&ix->g, geojson, len, "boundary", &geom, err);
    if (rc)
        goto out;
    /* Vertex numbers are 30-bit to keep cells at 4 bytes: ~1e9 vertices. */
    if (ix->npoly >= MAX_ELEMS || ix->nxy / 2 + GEO_MAX_VERTICES * 3 >= MAX_ELEMS) {
        rc = err_set(err, GR_EINVAL, "boundary", "the index is full");
        goto out;
    }
    if (vec_reserve(&ix->polys, &ix->cap_polys, ix->npoly + 1, sizeof(*ix->polys)) ||
        vec_reserve(&ix->prings, &ix->cap_prings, ix->npoly + 1, sizeof(*ix->prings)) ||
        vec_reserve(&ix->xy, &ix->cap_xy, ix->nxy + 4 * HDR_SLOTS, sizeof(double))) {
        rc = err_set(err, GR_EINTERNAL, "boundary", "out of memory");
        goto out;
    }
    /* Header slots first; ix->nxy is a multiple of 2 * HDR_SLOTS here. */
    ix->nxy += 2 * HDR_SLOTS;
    v0 = (uint32_t)(ix->nxy / 2);
    rc = append_geometry(ix, geom, v0);
    if (rc) {
        err_set(err, rc, "boundary", "cannot store the geometry");
        goto out;
    }
    g = &ix->polys[ix->npoly];
    g->v0 = v0;
    g->nv = (uint32_t)(ix->nxy / 2 - v0);
    g->minx = g->miny = INFINITY;
    g->maxx = g->maxy = -INFINITY;
    for (size_t k = 2 * (size_t)v0; k < ix->nxy; k += 2) {
        g->minx = fmin(g->minx, ix->xy[k]);
        g->maxx = fmax(g->maxx, ix->xy[k]);
        g->miny = fmin(g->miny, ix->xy[k + 1]);
        g->maxy = fmax(g->maxy, ix->xy[k + 1]);
    }
    ix->prings[ix->npoly].ring0 = (uint32_t)nrings0;
    ix->prings[ix->npoly].nring = (uint32_t)(ix->nrings - nrings0);
    /* Pad so that the next header starts a 64-byte line (see geo_index_build). */
    end = (ix->nxy + 2 * HDR_SLOTS - 1) / (2 * HDR_SLOTS) * (2 * HDR_SLOTS);
    if (vec_reserve(&ix->xy, &ix->cap_xy, end, sizeof(double))) {
        rc = err_set(err, GR_EINTERNAL, "boundary", "out of memory");
        goto out;
    }
    memset(ix->xy + ix->nxy, 0, (end - ix->nxy) * sizeof(double));
    ix->nxy = end;
    h.minx = g->minx;
    h.miny = g->miny;
    h.maxx = g->maxx;
    h.maxy = g->maxy;
    h.id = id;
    h.nv = g->nv;
    rc = build_bands(ix, (uint32_t)ix->npoly, &h);
    if (rc) {
        err_set(err, rc, "boundary", "out of memory");
        goto out;
    }
    memcpy(ix->xy + 2 * ((size_t)v0 - HDR_SLOTS), &h, sizeof(h));
    ix->npoly++;
out:
    if (rc) {
        /* Leave the index as it was before the call. */
        ix->nxy = nxy0;
        ix->nrings = nrings0;
    }
    if (geom)
        GEOSGeom_destroy_r(ix->g.ctx, geom);
    return rc;
}

/* ---- build ---------------------------------------------------------------- */

struct pair {
    uint32_t cell, poly; /* poly | PAIR_FULL when the cell is inside it */
};

struct xing {
    uint32_t row;
    double x;
};

struct builder {
    geo_index *ix;
    uint32_t gen;
    /* Cap on cells + list entries (and on one node's pairs): a partition needs
       ~50 per polygon, heavily overlapping input could need far more. */
    size_t budget;
    struct xing *xs; /* scratch for one polygon at a time */
    size_t nxs, cap_xs;
};

/* Per node state while its cells are classified. */
struct nodework {
    struct gnode n;
    double x1, y1, eps;
    uint32_t *stamp; /* last gen that touched each cell */
    struct pair *pairs;
    size_t npairs, cap_pairs;
};

/* GR_EINVAL when over budget, GR_EINTERNAL when out of memory. */
static int push_pair(const struct builder *b, struct nodework *w, uint32_t cell, uint32_t poly)
{
    if (w->npairs >= b->budget)
        return GR_EINVAL;
    if (vec_reserve(&w->pairs, &w->cap_pairs, w->npairs + 1, sizeof(*w->pairs)))
        return GR_EINTERNAL;
    w->pairs[w->npairs].cell = cell;
    w->pairs[w->npairs].poly = poly;
    w->npairs++;
    return 0;
}

/*
 * Marks every cell the edge comes within eps of, column by column. eps is far
 * above rounding error, so a cell not marked has no edge near any point that
 * cell_coord maps into it: such a cell is wholly inside or wholly outside.
 */
static int mark_edge(const struct builder *b, struct nodework *w, uint32_t gen, uint32_t p,
                     double ax, double ay, double bx, double by)
{
    const struct gnode *n = &w->n;
    double eps = w->eps;
    double exmin = fmin(ax, bx), exmax = fmax(ax, bx), eymin = fmin(ay, by), eymax = fmax(ay, by);
    uint32_t c0, c1;

    if (exmax + eps < n->x0 || exmin - eps > w->x1 || eymax + eps < n->y0 || eymin - eps > w->y1)
        return 0;
    c0 = cell_coord(exmin - eps, n->x0, n->sx, n->nx);
    c1 = cell_coord(exmax + eps, n->x0, n->sx, n->nx);
    for (uint32_t c = c0; c <= c1; c++) {
        double lo = fmax(n->x0 + c * n->cw - eps, exmin);
        double hi = fmin(n->x0 + (c + 1) * n->cw + eps, exmax);
        double ylo = eymin, yhi = eymax;
        uint32_t r0, r1;

        if (lo > hi)
            continue;
        if (exmax - exmin > eps) {
            double t = (by - ay) / (bx - ax);
            double ya = ay + (lo - ax) * t, yb = ay + (hi - ax) * t;

            ylo = fmax(fmin(ya, yb), eymin);
            yhi = fmin(fmax(ya, yb), eymax);
        }
        if (yhi + eps < n->y0 || ylo - eps > w->y1)
            continue;
        r0 = cell_coord(ylo - eps, n->y0, n->sy, n->ny);
        r1 = cell_coord(yhi + eps, n->y0, n->sy, n->ny);
        for (uint32_t r = r0; r <= r1; r++) {
            uint32_t cell = r * n->nx + c;

            if (w->stamp[cell] != gen) {
                int rc = push_pair(b, w, cell, p);

                if (rc)
                    return rc;
                w->stamp[cell] = gen;
            }
        }
    }
    return 0;
}

static int xing_cmp(const void *a, const void *b)
{
    const struct xing *p = a, *q = b;

    if (p->row != q->row)
        return p->row < q->row ? -1 : 1;
    return (p->x > q->x) - (p->x < q->x);
}

/* Cells of polygon p's box that no edge touches and whose centre is inside:
   crossings of each row's centre line, sorted, give inside/outside by parity. */
static int mark_inside(struct builder *b, struct nodework *w, uint32_t gen, uint32_t p)
{
    const geo_index *ix = b->ix;
    const struct gpoly *g = &ix->polys[p];
    const struct gnode *n = &w->n;
    uint32_t rr0, rr1, cc0, cc1, e;
    size_t k = 0;
    struct edge_iter it;
    const double *a;

    if (g->maxx < n->x0 || g->minx > w->x1 || g->maxy < n->y0 || g->miny > w->y1)
        return 0;
    rr0 = cell_coord(g->miny, n->y0, n->sy, n->ny);
    rr1 = cell_coord(g->maxy, n->y0, n->sy, n->ny);
    cc0 = cell_coord(g->minx, n->x0, n->sx, n->nx);
    cc1 = cell_coord(g->maxx, n->x0, n->sx, n->nx);
    b->nxs = 0;
    edges_begin(&it, ix, p);
    while (edges_next(&it, &e, &a)) {
        /* (lx, ly) is the lower end: the same arithmetic for either direction. */
        int up = a[1] < a[3];
        double lx = up ? a[0] : a[2], ly = up ? a[1] : a[3];
        double hx = up ? a[2] : a[0], hy = up ? a[3] : a[1];
        uint32_t r, rend;

        if (ly == hy || hy < n->y0 || ly > w->y1)
            continue;
        r = cell_coord(ly, n->y0, n->sy, n->ny);
        rend = cell_coord(hy, n->y0, n->sy, n->ny);
        if (r < rr0)
            r = rr0;
        if (rend > rr1)
            rend = rr1;
        for (; r <= rend; r++) {
            double yc = n->y0 + (r + 0.5) * n->ch;

            if (yc >= ly && yc < hy) {
                if (vec_reserve(&b->xs, &b->cap_xs, b->nxs + 1, sizeof(*b->xs)))
                    return GR_EINTERNAL;
                b->xs[b->nxs].row = r;
                b->xs[b->nxs].x = lx + (yc - ly) * (hx - lx) / (hy - ly);
                b->nxs++;
            }
        }
    }
    if (b->nxs > 1)
        qsort(b->xs, b->nxs, sizeof(*b->xs), xing_cmp);
    for (uint32_t r = rr0; r <= rr1; r++) {
        size_t start, end, left;

        while (k < b->nxs && b->xs[k].row < r)
            k++;
        start = k;
        while (k < b->nxs && b->xs[k].row == r)
            k++;
        end = k;
        left = start;
        for (uint32_t c = cc0; c <= cc1; c++) {
            uint32_t cell = r * n->nx + c;
            double cx = n->x0 + (c + 0.5) * n->cw;

            while (left < end && b->xs[left].x <= cx)
                left++;
            if (w->stamp[cell] != gen && ((end - left) & 1)) {
                int rc = push_pair(b, w, cell, p | PAIR_FULL);

                if (rc)
                    return rc;
            }
        }
    }
    return 0;
}

static int new_node(geo_index *ix, double x0, double y0, double w, double h, uint32_t nx,
                    uint32_t ny, uint32_t *out)
{
    struct gnode *n;
    size_t ncell = (size_t)nx * ny;

    if (ix->nnodes >= MAX_ELEMS || ix->ncells + ncell >= MAX_ELEMS)
        return GR_EINTERNAL;
    if (vec_reserve(&ix->nodes, &ix->cap_nodes, ix->nnodes + 1, sizeof(*ix->nodes)) ||
        vec_reserve(&ix->cells, &ix->cap_cells, ix->ncells + ncell, sizeof(*ix->cells)))
        return GR_EINTERNAL;
    n = &ix->nodes[ix->nnodes];
    n->x0 = x0;
    n->y0 = y0;
    n->nx = nx;
    n->ny = ny;
    n->cw = w / nx;
    n->ch = h / ny;
    n->sx = nx / w;
    n->sy = ny / h;
    n->base = (uint32_t)ix->ncells;
    memset(ix->cells + ix->ncells, 0, ncell * sizeof(*ix->cells));
    ix->ncells += ncell;
    *out = (uint32_t)ix->nnodes++;
    return 0;
}

/* Finds or appends the list [k, first vertex of each polygon...]; reuses the left or lower
   neighbour's list, which along an edge is usually the same. */
static int put_list(const struct builder *b, const struct pair *e, uint32_t k, const uint32_t *near,
                    int nnear, uint32_t *out)
{
    geo_index *ix = b->ix;

    for (int i = 0; i < nnear; i++) {
        const uint32_t *l;
        uint32_t j;

        if ((near[i] >> TAG_SHIFT) != TAG_LIST)
            continue;
        l = &ix->lists[near[i] & VALUE_MASK];
        if (l[0] != k)
            continue;
        for (j = 0; j < k && l[j + 1] == ix->polys[e[j].poly & ~PAIR_FULL].v0; j++)
            ;
        if (j == k) {
            *out = near[i];
            return 0;
        }
    }
    if (ix->nlists + k + 1 >= MAX_ELEMS || ix->ncells + ix->nlists + k + 1 > b->budget)
        return GR_EINVAL;
    if (vec_reserve(&ix->lists, &ix->cap_lists, ix->nlists + k + 1, sizeof(*ix->lists)))
        return GR_EINTERNAL;
    *out = (TAG_LIST << TAG_SHIFT) | (uint32_t)ix->nlists;
    ix->lists[ix->nlists++] = k;
    for (uint32_t j = 0; j < k; j++)
        ix->lists[ix->nlists++] = ix->polys[e[j].poly & ~PAIR_FULL].v0;
    return 0;
}

/* A child grid of about 4 cells per candidate. */
static uint32_t child_dim(uint32_t k)
{
    uint32_t dim = (uint32_t)ceil(sqrt(4.0 * k));

    return dim > CHILD_MAX_DIM ? CHILD_MAX_DIM : dim;
}

/* Classifies the cells of node ni against the candidate polygons cand (in
   ascending order) and recurses into cells with too many candidates. */
static int build_node(struct builder *b, uint32_t ni, const uint32_t *cand, size_t m, int depth)
{
    geo_index *ix = b->ix;
    struct nodework w = {.n = ix->nodes[ni]};
    uint32_t *off = NULL, *cand2 = NULL;
    struct pair *sorted = NULL;
    size_t ncell = (size_t)w.n.nx * w.n.ny;
    int rc = GR_EINTERNAL;

    w.x1 = w.n.x0 + w.n.nx * w.n.cw;
    w.y1 = w.n.y0 + w.n.ny * w.n.ch;
    w.eps = 1e-6 * fmin(w.n.cw, w.n.ch) + 1e-11;
    w.stamp = calloc(ncell, sizeof(*w.stamp));
    off = calloc(ncell + 1, sizeof(*off));
    if (!w.stamp || !off)
        goto out;
    for (size_t i = 0; i < m; i++) {
        uint32_t p = cand[i], gen = ++b->gen, e;
        const double *a;
        struct edge_iter it;
        int erc = 0;

        edges_begin(&it, ix, p);
        while (!erc && edges_next(&it, &e, &a))
            erc = mark_edge(b, &w, gen, p, a[0], a[1], a[2], a[3]);
        if (!erc)
            erc = mark_inside(b, &w, gen, p);
        if (erc) {
            rc = erc;
            goto out;
        }
    }
    free(w.stamp);
    w.stamp = NULL;

    /* Stable counting sort by cell keeps each cell's polygons ascending. */
    sorted = malloc((w.npairs ? w.npairs : 1) * sizeof(*sorted));
    cand2 = malloc((m ? m : 1) * sizeof(*cand2));
    if (!sorted || !cand2)
        goto out;
    for (size_t i = 0; i < w.npairs; i++)
        off[w.pairs[i].cell + 1]++;
    for (size_t c = 0; c < ncell; c++)
        off[c + 1] += off[c];
    for (size_t i = 0; i < w.npairs; i++)
        sorted[off[w.pairs[i].cell]++] = w.pairs[i];
    /* off[c] now is the end of cell c. */
    free(w.pairs);
    w.pairs = NULL;

    for (size_t c = 0; c < ncell; c++) {
        uint32_t start = c ? off[c - 1] : 0, k = off[c] - start, code = 0;
        const struct pair *e = sorted + start;
        uint32_t col = (uint32_t)(c % w.n.nx), row = (uint32_t)(c / w.n.nx);

        if (k == 1 && (e[0].poly & PAIR_FULL)) {
            code = (TAG_FULL << TAG_SHIFT) | ix->polys[e[0].poly & ~PAIR_FULL].v0;
        } else if (k > LIST_MAX && depth < MAX_DEPTH && w.n.cw > MIN_CELL_DEG &&
                   w.n.ch > MIN_CELL_DEG &&
                   ix->ncells + ix->nlists + (size_t)child_dim(k) * child_dim(k) < b->budget) {
            uint32_t dim = child_dim(k), child;

            for (uint32_t j = 0; j < k; j++)
                cand2[j] = e[j].poly & ~PAIR_FULL;
            if (new_node(ix, w.n.x0 + col * w.n.cw, w.n.y0 + row * w.n.ch, w.n.cw, w.n.ch, dim, dim,
                         &child))
                goto out;
            /* cand2 is only read by the child, then refilled for the next cell. */
            rc = build_node(b, child, cand2, k, depth + 1);
            if (rc)
                goto out;
            rc = GR_EINTERNAL;
            code = (TAG_SUB << TAG_SHIFT) | child;
        } else if (k > 0) {
            uint32_t near[2];
            int nnear = 0;

            if (col > 0)
                near[nnear++] = ix->cells[w.n.base + c - 1];
            if (row > 0)
                near[nnear++] = ix->cells[w.n.base + c - w.n.nx];
            rc = put_list(b, e, k, near, nnear, &code);
            if (rc)
                goto out;
            rc = GR_EINTERNAL;
        }
        ix->cells[w.n.base + c] = code;
    }
    rc = 0;
out:
    free(w.stamp);
    free(w.pairs);
    free(sorted);
    free(cand2);
    free(off);
    return rc;
}

/* Moves the vertices to a 64-byte aligned block, so that each polygon header
   is one cache line (they are at multiples of 64 bytes from the start). */
static void align_xy(geo_index *ix)
{
    size_t bytes = (ix->nxy * sizeof(double) + 63) / 64 * 64;
    double *a;

    if (!bytes)
        return;
    a = aligned_alloc(64, bytes);
    if (!a)
        return; /* still correct, only a little slower */
    memcpy(a, ix->xy, ix->nxy * sizeof(double));
    free(ix->xy);
    ix->xy = a;
    ix->cap_xy = bytes / sizeof(double);
}

static void drop_grid(geo_index *ix)
{
    free(ix->nodes);
    free(ix->cells);
    free(ix->lists);
    ix->nodes = NULL;
    ix->cells = ix->lists = NULL;
    ix->nnodes = ix->cap_nodes = ix->ncells = ix->cap_cells = ix->nlists = ix->cap_lists = 0;
}

int geo_index_build(geo_index *ix, gr_err *err)
{
    struct builder b = {.ix = ix, .budget = (size_t)128 * ix->npoly + ((size_t)1 << 20)};
    uint32_t *cand = NULL, root, nx, ny;
    double w, h, cells;
    int rc = 0;

    if (!ix)
        return err_set(err, GR_EINVAL, "", "no index");
    if (ix->built)
        return err_set(err, GR_EINVAL, "", "the index is already built");
    if (ix->npoly == 0)
        goto done;
    ix->x0 = ix->y0 = INFINITY;
    ix->x1 = ix->y1 = -INFINITY;
    for (size_t p = 0; p < ix->npoly; p++) {
        ix->x0 = fmin(ix->x0, ix->polys[p].minx);
        ix->y0 = fmin(ix->y0, ix->polys[p].miny);
        ix->x1 = fmax(ix->x1, ix->polys[p].maxx);
        ix->y1 = fmax(ix->y1, ix->polys[p].maxy);
    }
    w = fmax(ix->x1 - ix->x0, 1e-9);
    h = fmax(ix->y1 - ix->y0, 1e-9);
    cells = fmin((double)ROOT_CELLS_PER_POLY * ix->npoly, ROOT_MAX_CELLS);
    nx = (uint32_t)fmax(1.0, fmin(round(sqrt(cells * w / h)), cells));
    ny = (uint32_t)fmax(1.0, ceil(cells / nx));
    cand = malloc(ix->npoly * sizeof(*cand));
    if (!cand)
        goto nomem;
    for (size_t p = 0; p < ix->npoly; p++)
        cand[p] = (uint32_t)p;
    if (new_node(ix, ix->x0, ix->y0, w, h, nx, ny, &root))
        goto nomem;
    rc = build_node(&b, root, cand, ix->npoly, 0);
    if (rc == GR_EINVAL) {
        drop_grid(ix);
        rc = err_set(err, GR_EINVAL, "boundary", "the polygons overlap too much to be indexed");
        goto out;
    }
    if (rc)
        goto nomem;
    vec_shrink(&ix->nodes, &ix->cap_nodes, ix->nnodes, sizeof(*ix->nodes));
    vec_shrink(&ix->cells, &ix->cap_cells, ix->ncells, sizeof(*ix->cells));
    vec_shrink(&ix->lists, &ix->cap_lists, ix->nlists, sizeof(*ix->lists));
done:
    align_xy(ix);
    ix->built = 1;
    goto out;
nomem:
    drop_grid(ix);
    rc = err_set(err, GR_EINTERNAL, "", "out of memory building the grid index");
out:
    free(cand);
    free(b.xs);
    return rc;
}

/* ---- baseline ------------------------------------------------------------- */

static GEOSGeometry *make_ring(GEOSContextHandle_t ctx, const double *xy, uint32_t n)
{
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(ctx, xy, n, 0, 0);

    return seq ? GEOSGeom_createLinearRing_r(ctx, seq) : NULL;
}

/* Rebuilds polygon p as a GEOS geometry from the stored rings. */
static GEOSGeometry *make_geometry(const geo_index *ix, GEOSContextHandle_t ctx, uint32_t p)
{
    const struct gring *pr = &ix->prings[p];
    GEOSGeometry **parts = calloc(pr->nring, sizeof(*parts));
    GEOSGeometry **holes = calloc(pr->nring, sizeof(*holes));
    GEOSGeometry *shell = NULL, *result = NULL;
    uint32_t v = ix->polys[p].v0, nparts = 0, nholes = 0;

    if (!parts || !holes)
        goto out;
    for (uint32_t i = 0; i <= pr->nring; i++) {
        uint32_t r = i < pr->nring ? ix->rings[pr->ring0 + i] : RING_SHELL;

        if ((r & RING_SHELL) && shell) {
            parts[nparts] = GEOSGeom_createPolygon_r(ctx, shell, holes, nholes);
            shell = NULL;
            nholes = 0;
            if (!parts[nparts++])
                goto out;
        }
        if (i == pr->nring)
            break;
        {
            uint32_t n = r & ~RING_SHELL;
            GEOSGeometry *ring = make_ring(ctx, ix->xy + 2 * (size_t)v, n);

            if (!ring)
                goto out;
            if (r & RING_SHELL)
                shell = ring;
            else
                holes[nholes++] = ring;
            v += n + (i > 0);
        }
    }
    if (nparts == 1) {
        result = parts[0];
        nparts = 0;
    } else {
        /* GEOS owns the parts from here on, even when it fails. */
        result = GEOSGeom_createCollection_r(ctx, GEOS_MULTIPOLYGON, parts, nparts);
        nparts = 0;
    }
out:
    for (uint32_t i = 0; i < nparts; i++)
        GEOSGeom_destroy_r(ctx, parts[i]);
    for (uint32_t i = 0; i < nholes; i++)
        GEOSGeom_destroy_r(ctx, holes[i]);
    if (shell)
        GEOSGeom_destroy_r(ctx, shell);
    free(parts);
    free(holes);
    return result;
}

struct baseline_query {
    GEOSContextHandle_t ctx;
    const GEOSPreparedGeometry **prep;
    const GEOSGeometry *pt;
    uintptr_t best; /* lowest matching polygon + 1, or UINTPTR_MAX */
};

static void baseline_visit(void *item, void *userdata)
{
    struct baseline_query *q = userdata;
    uintptr_t p1 = (uintptr_t)item;

    /* The same tie rule as the index: the polygon added first wins. */
    if (p1 < q->best && GEOSPreparedContains_r(q->ctx, q->prep[p1 - 1], q->pt) == 1)
        q->best = p1;
}

static int64_t baseline_query_locked(const geo_index *ix, struct baseline *bl, double lat,
                                     double lon)
{
    struct baseline_query q = {.ctx = bl->g.ctx, .prep = bl->prep, .best = UINTPTR_MAX};
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(bl->g.ctx, lon, lat);

    if (!pt)
        return 0;
    q.pt = pt;
    GEOSSTRtree_query_r(bl->g.ctx, bl->tree, pt, baseline_visit, &q);
    GEOSGeom_destroy_r(bl->g.ctx, pt);
    return q.best == UINTPTR_MAX ? 0 : hdr_id(ix, ix->polys[q.best - 1].v0);
}

static int baseline_build(const geo_index *ix, struct baseline *bl)
{
    if (geo_geos_init(&bl->g))
        return GR_EINTERNAL;
    bl->geoms = calloc(ix->npoly ? ix->npoly : 1, sizeof(*bl->geoms));
    bl->prep = calloc(ix->npoly ? ix->npoly : 1, sizeof(*bl->prep));
    bl->tree = GEOSSTRtree_create_r(bl->g.ctx, 10);
    if (!bl->geoms || !bl->prep || !bl->tree)
        return GR_EINTERNAL;
    for (size_t p = 0; p < ix->npoly; p++) {
        GEOSGeometry *pt;

        bl->geoms[p] = make_geometry(ix, bl->g.ctx, (uint32_t)p);
        if (!bl->geoms[p])
            return GR_EINTERNAL;
        bl->prep[p] = GEOSPrepare_r(bl->g.ctx, bl->geoms[p]);
        if (!bl->prep[p])
            return GR_EINTERNAL;
        /* Prepared geometries build their point locator on first use, which
           is not thread-safe: do it now. */
        pt = GEOSGeom_createPointFromXY_r(bl->g.ctx, ix->xy[2 * (size_t)ix->polys[p].v0],
                                          ix->xy[2 * (size_t)ix->polys[p].v0 + 1]);
        if (!pt)
            return GR_EINTERNAL;
        GEOSPreparedContains_r(bl->g.ctx, bl->prep[p], pt);
        GEOSGeom_destroy_r(bl->g.ctx, pt);
        GEOSSTRtree_insert_r(bl->g.ctx, bl->tree, bl->geoms[p], (void *)(uintptr_t)(p + 1));
    }
    /* GEOS 3.11 has no GEOSSTRtree_build: the first query builds the tree. */
    baseline_query_locked(ix, bl, ix->y0, ix->x0);
    return 0;
}

int64_t geo_index_find_baseline(const geo_index *ix, double lat, double lon)
{
    struct baseline *bl;
    int64_t id = 0;

    if (!ix || !ix->built || !ix->npoly || !isfinite(lat) || !isfinite(lon))
        return 0;
    bl = ix->base;
    pthread_mutex_lock(&bl->lock);
    if (!bl->ready && !bl->failed) {
        if (baseline_build(ix, bl) == 0) {
            bl->ready = 1;
        } else {
            baseline_free(bl, ix->npoly);
            bl->failed = 1;
        }
    }
    if (bl->ready)
        id = baseline_query_locked(ix, bl, lat, lon);
    pthread_mutex_unlock(&bl->lock);
    return id;
}
