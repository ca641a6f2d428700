/* catalog/: code rules, the limit lookup and its fallback order, versions
 * and history, retiring, the calendar table and its import, the loaded
 * calendar's swap under concurrent use, and the demo catalogue. */
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
#include "catalog/catalog_model.h"
#include "org/org.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;

/* The demo district and its departments, as org's demo makes them. */
static void org_fixture(void)
{
    gr_testdb_exec(
        ctx.db,
        "INSERT INTO org_units (id, code, name, kind, path, source, created_at, updated_at) "
        "VALUES (1, '110105', '朝阳区', 'district', '/1/', 'demo', 0, 0);"
        "INSERT INTO departments (org_id, name, level, created_at, updated_at) "
        "SELECT 1, column1, 'district', 0, 0 FROM (VALUES ('城管'), ('市政'), ('园林绿化'), "
        "('生态环境'), ('住建'), ('交通'), ('水务'), ('燃气'), ('供电'), ('公安'), ('卫健'), "
        "('市场监管'))");
}

static int setup(void **state)
{
    gr_err err = {0};

    (void)state;
    log_set_level(LOG_WARN);
    memset(&ctx, 0, sizeof(ctx));
    gr_testdb_open(&ctx.db, dir, sizeof(dir), "catalog");
    assert_int_equal(catalog_ctx_open(&ctx, &err), 0);
    org_fixture();
    A = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    catalog_ctx_close(&ctx);
    catalog_ctx_close(&ctx); /* safe twice, and on a zeroed context */
    db_close(ctx.db);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

/* A fingerprint of the catalogue's tables: a failed write must leave it. */
static int64_t fingerprint(void)
{
    return gr_testdb_int(
        ctx.db,
        "SELECT (SELECT count(*) * 1000003 + total(version) * 7 + total(active) "
        "+ total(length(name)) + total(coalesce(default_department_id, 0)) "
        "FROM categories) + (SELECT count(*) * 31 + total(amount) FROM category_limits) "
        "+ (SELECT count(*) * 17 FROM category_history) + ?",
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

static int64_t create(const char *code, const char *name, int64_t dept)
{
    cat_input in = {0};
    gr_err err = {0};
    int64_t id = 0;

    in.code = code;
    in.name = name;
    in.default_department_id = dept;
    if (cat_create(&ctx, &in, &id, &err))
        fail_msg("create %s: %s: %s", code, err.field, err.msg);
    return id;
}

static int64_t version_of(int64_t id)
{
    return gr_testdb_int(ctx.db, "SELECT version FROM categories WHERE id = ?", id);
}

static void replace_limits(int64_t id, const cat_limit_row *rows, size_t n)
{
    gr_err err = {0};

    if (cat_limits_replace(&ctx, id, rows, n, 0, 0, &err))
        fail_msg("limits: %s: %s", err.field, err.msg);
}

/* A local (UTC+8) time as epoch ms. */
static int64_t at(int y, int mo, int d, int h, int mi)
{
    char s[40];
    int64_t ms = 0;

    snprintf(s, sizeof(s), "%04d-%02d-%02dT%02d:%02d:00+08:00", y, mo, d, h, mi);
    assert_int_equal(time_parse_iso(s, &ms), 0);
    return ms;
}

/* ---- codes ---- */

static void test_codes(void **state)
{
    const char *kind = NULL;
    char parent[4];
    int leaf = -1;
    gr_err err = {0};

    (void)state;
    assert_int_equal(catalog_code_check("C01", &kind, &leaf, parent, &err), 0);
    assert_string_equal(kind, "component");
    assert_int_equal(leaf, 0);
    assert_string_equal(parent, "");
    assert_int_equal(catalog_code_check("E0410", &kind, &leaf, parent, &err), 0);
    assert_string_equal(kind, "event");
    assert_int_equal(leaf, 1);
    assert_string_equal(parent, "E04");
    assert_int_equal(catalog_code_check("D05", &kind, &leaf, parent, &err), 0);
    assert_string_equal(kind, "demand");
    assert_int_equal(leaf, 1);
    static const char *const bad[] = {"",      "C",   "C1",    "C012",  "C01010", "X01", "c01",
                                      "D0101", "C00", "C0100", "E0a01", "C01 ",   "D"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_err(catalog_code_check(bad[i], &kind, &leaf, parent, &err), &err, GR_EINVAL, "code");
    expect_err(catalog_code_check(NULL, &kind, &leaf, parent, &err), &err, GR_EINVAL, "code");
    assert_int_equal(catalog_step_parse("verify"), CAT_STEP_VERIFY);
    assert_int_equal(catalog_step_parse("close"), -1);
    assert_string_equal(catalog_step_name(CAT_STEP_DISPATCH), "dispatch");
    assert_int_equal(catalog_area_parse("B"), 'B');
    assert_int_equal(catalog_area_parse("D"), 0);
    assert_int_equal(catalog_area_parse("AB"), 0);
    assert_int_equal(catalog_urgency_parse("urgent"), CAT_URGENCY_URGENT);
    assert_true(catalog_urgency_parse("soon") < CAT_URGENCY_ANY);
}

/* ---- create and read ---- */

static void test_create(void **state)
{
    cat_input in = {0};
    cat_record r;
    cat_record *v = NULL;
    cat_filter f = {NULL, -1, NULL};
    cat_info info;
    gr_err err = {0};
    int64_t id = 0, fp, major, leaf, dept;
    size_t n = 0;

    (void)state;
    dept = gr_testdb_int(ctx.db, "SELECT id FROM departments WHERE name = '水务' AND ? = 0", 0);
    /* A minor class needs its major class first. */
    in.code = "C0101";
    in.name = "上水井盖";
    fp = fingerprint();
    expect_err(cat_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "code");
    assert_non_null(strstr(err.msg, "C01"));
    major = create("C01", "公用设施", 0);
    leaf = create("C0101", "上水井盖", dept);
    create("D01", "咨询", 0);
    fp = fingerprint();
    /* Nothing changes on any of these. */
    expect_err(cat_create(&ctx, &in, &id, &err), &err, GR_EEXIST, "code");
    in.code = "C0102";
    in.default_department_id = 99999;
    expect_err(cat_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "default_department_id");
    in.default_department_id = 0;
    in.standard_ref = "ISO 9001";
    expect_err(cat_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "standard_ref");
    in.standard_ref = NULL;
    in.name = "";
    expect_err(cat_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "name");
    in.name = "污水井盖";
    in.code = "C0";
    expect_err(cat_create(&ctx, &in, &id, &err), &err, GR_EINVAL, "code");
    assert_int_equal(fingerprint(), fp);

    assert_int_equal(cat_record_get(gr_testdb_reader(ctx.db), A, leaf, &r, &err), 0);
    assert_string_equal(r.info.code, "C0101");
    assert_string_equal(r.info.kind, "component");
    assert_int_equal(r.info.parent_id, major);
    assert_int_equal(r.info.is_leaf, 1);
    assert_int_equal(r.info.default_department_id, dept);
    assert_int_equal(r.info.version, 1);
    assert_string_equal(r.standard_ref, "local");
    assert_int_equal(catalog_find_code(gr_testdb_reader(ctx.db), A, "C01", &info, &err), 0);
    assert_int_equal(info.id, major);
    assert_int_equal(info.is_leaf, 0);
    assert_int_equal(info.parent_id, 0);
    expect_err(catalog_get(gr_testdb_reader(ctx.db), A, 4242, &info, &err), &err, GR_ENOTFOUND,
               "category_id");
    expect_err(catalog_find_code(gr_testdb_reader(ctx.db), A, "C99", &info, &err), &err,
               GR_ENOTFOUND, "code");

    /* The list: code order; ?q= matches a name, its major's, or a child's. */
    assert_int_equal(cat_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].info.code, "C01");
    assert_string_equal(v[1].info.code, "C0101");
    assert_string_equal(v[2].info.code, "D01");
    f.q = "井盖";
    assert_int_equal(cat_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    f.q = "咨";
    assert_int_equal(cat_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].info.code, "D01");
    f.q = NULL;
    f.kind = "demand";
    assert_int_equal(cat_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &err), 0);
    assert_int_equal(n, 1);
}

/* ---- limits ---- */

static void expect_limit(int64_t id, char area, int urgent, int64_t amount, cal_unit unit,
                         int64_t from)
{
    cat_limit lim = {0, 0};
    cat_limit_source src = {0, 0, 0};
    gr_err err = {0};

    if (cat_limit_find(gr_testdb_reader(ctx.db), id, CAT_STEP_HANDLE, area, urgent, &lim, &src,
                       &err))
        fail_msg("no limit: %s", err.msg);
    assert_int_equal(lim.amount, amount);
    assert_int_equal(lim.unit, unit);
    assert_int_equal(src.category_id, from);
}

static void test_limit_fallback(void **state)
{
    const cat_limit_row leaf_rows[] = {
        {CAT_STEP_HANDLE, '*', CAT_URGENCY_ANY, 4, CAL_WORKING_DAYS},
        {CAT_STEP_HANDLE, '*', CAT_URGENCY_URGENT, 3, CAL_WORKING_DAYS},
        {CAT_STEP_HANDLE, 'A', CAT_URGENCY_ANY, 2, CAL_WORKING_DAYS},
        {CAT_STEP_HANDLE, 'A', CAT_URGENCY_URGENT, 1, CAL_WORKING_DAYS},
        {CAT_STEP_ACCEPT, 'A', CAT_URGENCY_URGENT, 10, CAL_NATURAL_MINUTES},
    };
    const cat_limit_row major_rows[] = {
        {CAT_STEP_HANDLE, '*', CAT_URGENCY_ANY, 600, CAL_WORKING_MINUTES},
        {CAT_STEP_HANDLE, 'C', CAT_URGENCY_ANY, 700, CAL_WORKING_MINUTES},
    };
    cat_limit lim;
    gr_err err = {0};
    int64_t major = create("E04", "街面秩序", 0), leaf = create("E0409", "机动车乱停放", 0);
    int64_t due = 0;

    (void)state;
    replace_limits(major, major_rows, 2);
    replace_limits(leaf, leaf_rows, 5);
    /* Exact area and urgency > area and any urgency > any area with the
     * urgency > any area and urgency. */
    expect_limit(leaf, 'A', 1, 1, CAL_WORKING_DAYS, leaf);
    expect_limit(leaf, 'A', 0, 2, CAL_WORKING_DAYS, leaf);
    expect_limit(leaf, 'B', 1, 3, CAL_WORKING_DAYS, leaf);
    expect_limit(leaf, 'B', 0, 4, CAL_WORKING_DAYS, leaf);
    /* Without the category's general rows: the major class's, its own most
     * specific first. */
    replace_limits(leaf, leaf_rows + 2, 3);
    expect_limit(leaf, 'A', 0, 2, CAL_WORKING_DAYS, leaf);
    expect_limit(leaf, 'B', 1, 600, CAL_WORKING_MINUTES, major);
    expect_limit(leaf, 'C', 0, 700, CAL_WORKING_MINUTES, major);
    /* The major's own lookup does not go further up. */
    expect_limit(major, 'B', 0, 600, CAL_WORKING_MINUTES, major);
    /* No row anywhere: not found, naming the category. */
    expect_err(catalog_limit(gr_testdb_reader(ctx.db), leaf, CAT_STEP_VERIFY, 'A', 0, &lim, &err),
               &err, GR_ENOTFOUND, "category");
    expect_err(catalog_limit(gr_testdb_reader(ctx.db), 4242, CAT_STEP_HANDLE, 'A', 0, &lim, &err),
               &err, GR_ENOTFOUND, "category_id");
    expect_err(catalog_limit(gr_testdb_reader(ctx.db), leaf, (cat_step)9, 'A', 0, &lim, &err), &err,
               GR_EINVAL, "step");
    expect_err(catalog_limit(gr_testdb_reader(ctx.db), leaf, CAT_STEP_HANDLE, 'Q', 0, &lim, &err),
               &err, GR_EINVAL, "area_class");
    /* The due time: 600 working minutes from Friday 17:00 on the weekday
     * rule (this database has no holidays yet): 1 h on Friday, 7.5 h on
     * Monday, the last 1.5 h on Tuesday morning. */
    assert_int_equal(catalog_due(&ctx, gr_testdb_reader(ctx.db), leaf, CAT_STEP_HANDLE, 'B', 0,
                                 at(2025, 3, 7, 17, 0), &due, &err),
                     0);
    assert_int_equal(due, at(2025, 3, 11, 10, 30));
    expect_err(
        catalog_due(&ctx, gr_testdb_reader(ctx.db), leaf, CAT_STEP_FILE, 'B', 0, 0, &due, &err),
        &err, GR_ENOTFOUND, "category");
}

static void test_limits_check(void **state)
{
    cat_limit_row rows[] = {
        {CAT_STEP_HANDLE, 'A', CAT_URGENCY_ANY, 2, CAL_WORKING_DAYS},
        {CAT_STEP_HANDLE, 'A', CAT_URGENCY_NORMAL, 2, CAL_WORKING_DAYS},
        {CAT_STEP_HANDLE, 'A', CAT_URGENCY_ANY, 3, CAL_WORKING_DAYS},
    };
    gr_err err = {0};
    int64_t id = create("C02", "道路交通", 0), fp, v;

    (void)state;
    v = version_of(id);
    fp = fingerprint();
    expect_err(cat_limits_replace(&ctx, id, rows, 3, 0, 0, &err), &err, GR_EINVAL, "limits[2]");
    rows[2].step = CAT_STEP_VERIFY;
    rows[1].amount = 400;
    expect_err(cat_limits_replace(&ctx, id, rows, 3, 0, 0, &err), &err, GR_EINVAL,
               "limits[1].amount");
    rows[1].amount = 0;
    expect_err(cat_limits_replace(&ctx, id, rows, 3, 0, 0, &err), &err, GR_EINVAL,
               "limits[1].amount");
    rows[1].amount = 2;
    expect_err(cat_limits_replace(&ctx, id, rows, 3, v + 1, 0, &err), &err, GR_ECONFLICT,
               "version");
    expect_err(cat_limits_replace(&ctx, 4242, rows, 3, 0, 0, &err), &err, GR_ENOTFOUND, "id");
    assert_int_equal(fingerprint(), fp);
    assert_int_equal(cat_limits_replace(&ctx, id, rows, 3, v, 0, &err), 0);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM category_limits WHERE category_id = ?", id), 3);
    assert_int_equal(version_of(id), v + 1);
    /* Replacing with nothing clears them (and is a change too). */
    assert_int_equal(cat_limits_replace(&ctx, id, rows, 0, 0, 0, &err), 0);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM category_limits WHERE category_id = ?", id), 0);
    assert_int_equal(version_of(id), v + 2);
    assert_int_equal(cat_limit_max(CAL_WORKING_DAYS), 366);
}

/* ---- versions, history, retiring ---- */

static void test_versions(void **state)
{
    const cat_limit_row rows[] = {{CAT_STEP_HANDLE, 'A', CAT_URGENCY_ANY, 2, CAL_WORKING_DAYS}};
    cat_patch p;
    cat_history *h = NULL;
    cat_record r;
    gr_err err = {0};
    int64_t major = create("E01", "市容环境", 0);
    int64_t id = create("E0110", "暴露垃圾", 0), fp;
    size_t n = 0;
    int more = 0;
    json_t *old;

    (void)state;
    (void)major;
    memset(&p, 0, sizeof(p));
    p.active = -1;
    p.name = "暴露垃圾(改)";
    p.version = 2; /* stale: it is at 1 */
    fp = fingerprint();
    expect_err(cat_update(&ctx, id, &p, &err), &err, GR_ECONFLICT, "version");
    p.version = 1;
    p.set_department = 1;
    p.default_department_id = 99999;
    expect_err(cat_update(&ctx, id, &p, &err), &err, GR_EINVAL, "default_department_id");
    p.set_department = 0;
    p.standard_ref = "nonsense";
    expect_err(cat_update(&ctx, id, &p, &err), &err, GR_EINVAL, "standard_ref");
    p.standard_ref = NULL;
    p.name = "";
    expect_err(cat_update(&ctx, id, &p, &err), &err, GR_EINVAL, "name");
    expect_err(cat_update(&ctx, 4242, &p, &err), &err, GR_EINVAL, "name");
    p.name = "暴露垃圾(改)";
    expect_err(cat_update(&ctx, 4242, &p, &err), &err, GR_ENOTFOUND, "id");
    assert_int_equal(fingerprint(), fp);

    /* Version 1 -> 2 by a patch, 2 -> 3 by new limits: two history rows
     * holding the definitions as they were. */
    p.set_filing = 1;
    p.filing_condition = "面积超过1平方米";
    assert_int_equal(cat_update(&ctx, id, &p, &err), 0);
    replace_limits(id, rows, 1);
    assert_int_equal(cat_record_get(gr_testdb_reader(ctx.db), A, id, &r, &err), 0);
    assert_int_equal(r.info.version, 3);
    assert_string_equal(r.info.name, "暴露垃圾(改)");
    assert_string_equal(r.info.filing_condition, "面积超过1平方米");
    assert_int_equal(cat_history_list(gr_testdb_reader(ctx.db), A, id, 0, 10, &h, &n, &more, &err),
                     0);
    assert_int_equal(n, 2);
    assert_int_equal(more, 0);
    assert_int_equal(h[0].version, 1);
    assert_int_equal(h[1].version, 2);
    old = json_loads(h[0].old, 0, NULL);
    assert_non_null(old);
    assert_string_equal(json_string_value(json_object_get(old, "name")), "暴露垃圾");
    assert_true(json_is_null(json_object_get(old, "filing_condition")));
    assert_true(json_is_true(json_object_get(old, "active")));
    assert_int_equal(json_array_size(json_object_get(old, "limits")), 0);
    json_decref(old);
    old = json_loads(h[1].old, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(old, "name")), "暴露垃圾(改)");
    assert_int_equal(json_array_size(json_object_get(old, "limits")), 0);
    json_decref(old);
    /* The next change keeps the limits of version 3 in the history. */
    memset(&p, 0, sizeof(p));
    p.active = -1;
    p.version = 3;
    p.set_filing = 1; /* back to none */
    assert_int_equal(cat_update(&ctx, id, &p, &err), 0);
    assert_int_equal(cat_history_list(gr_testdb_reader(ctx.db), A, id, 0, 1, &h, &n, &more, &err),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(more, 1);
    assert_int_equal(
        cat_history_list(gr_testdb_reader(ctx.db), A, id, h[0].id, 10, &h, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    old = json_loads(h[1].old, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(old, "limits")), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(old, "limits"), 0), "unit")),
                        "working_days");
    json_decref(old);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT filing_condition IS NULL FROM categories WHERE id = ?", id),
        1);
}

static void test_retire(void **state)
{
    int64_t major = create("E02", "宣传广告", 0), leaf = create("E0201", "非法小广告", 0);
    int64_t other = create("E0203", "违规户外广告", 0), fp;
    cat_patch p;
    cat_info info;
    gr_err err = {0};
    cat_input in = {0};
    int64_t id = 0;

    (void)state;
    assert_int_equal(
        catalog_check_filable(gr_testdb_reader(ctx.db), A, leaf, "category_id", &info, &err), 0);
    expect_err(
        catalog_check_filable(gr_testdb_reader(ctx.db), A, major, "category_id", &info, &err), &err,
        GR_EINVAL, "category_id");
    expect_err(catalog_check_filable(gr_testdb_reader(ctx.db), A, 4242, "category_id", &info, &err),
               &err, GR_EINVAL, "category_id");
    memset(&p, 0, sizeof(p));
    p.active = 0;
    p.version = 1;
    fp = fingerprint();
    /* A major class with active minor classes stays. */
    expect_err(cat_update(&ctx, major, &p, &err), &err, GR_ECONFLICT, "active");
    assert_int_equal(fingerprint(), fp);
    assert_int_equal(cat_update(&ctx, leaf, &p, &err), 0);
    assert_int_equal(cat_update(&ctx, other, &p, &err), 0);
    expect_err(catalog_check_filable(gr_testdb_reader(ctx.db), A, leaf, "category_id", &info, &err),
               &err, GR_EINVAL, "category_id");
    assert_non_null(strstr(err.msg, "retired"));
    assert_int_equal(cat_update(&ctx, major, &p, &err), 0);
    /* Nothing is created or brought back under a retired major class. */
    in.code = "E0202";
    in.name = "违规张贴";
    fp = fingerprint();
    expect_err(cat_create(&ctx, &in, &id, &err), &err, GR_ECONFLICT, "code");
    p.active = 1;
    p.version = 2;
    expect_err(cat_update(&ctx, leaf, &p, &err), &err, GR_ECONFLICT, "active");
    assert_int_equal(fingerprint(), fp);
    /* Retired categories stay (cases refer to them) and still answer. */
    assert_int_equal(catalog_get(gr_testdb_reader(ctx.db), A, leaf, &info, &err), 0);
    assert_int_equal(info.active, 0);
    p.version = 2;
    assert_int_equal(cat_update(&ctx, major, &p, &err), 0);
    assert_int_equal(cat_update(&ctx, leaf, &p, &err), 0);
    assert_int_equal(
        catalog_check_filable(gr_testdb_reader(ctx.db), A, leaf, "category_id", &info, &err), 0);
}

/* ---- the calendar ---- */

static int put_day_sql(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return db_exec(c,
                   "INSERT INTO calendar_days (date, kind, name, updated_at) VALUES "
                   "('2025-03-10', 'holiday', '另一个节点', 0)",
                   err);
}

static void test_calendar_table(void **state)
{
    cat_limit_row row = {CAT_STEP_HANDLE, '*', CAT_URGENCY_ANY, 1, CAL_WORKING_DAYS};
    int64_t major = create("C04", "园林绿化", 0), leaf = create("C0402", "行道树", 0), due = 0;
    cat_day *v = NULL;
    size_t n = 0;
    int created = 0;
    gr_err err = {0};

    (void)state;
    (void)major;
    replace_limits(leaf, &row, 1);
    assert_int_equal(
        cat_day_put(&ctx, "2026-02-14", CAL_WORKDAY, "春节调休上班", 0, &created, &err), 0);
    assert_int_equal(created, 1);
    assert_int_equal(cat_day_put(&ctx, "2026-02-16", CAL_HOLIDAY, "春节", 0, &created, &err), 0);
    assert_int_equal(cat_day_put(&ctx, "2026-02-16", CAL_HOLIDAY, "春节初一", 0, &created, &err),
                     0);
    assert_int_equal(created, 0);
    expect_err(cat_day_put(&ctx, "2026-02-30", CAL_HOLIDAY, "x", 0, &created, &err), &err,
               GR_EINVAL, "date");
    expect_err(cat_day_put(&ctx, "2026-02-20", 0, "x", 0, &created, &err), &err, GR_EINVAL, "kind");
    expect_err(cat_day_put(&ctx, "2026-02-20", CAL_HOLIDAY, "", 0, &created, &err), &err, GR_EINVAL,
               "name");
    assert_int_equal(cat_days_list(gr_testdb_reader(ctx.db), A, 2026, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].date, "2026-02-14");
    assert_int_equal(v[0].kind, CAL_WORKDAY);
    assert_string_equal(v[1].name, "春节初一");
    assert_int_equal(cat_days_list(gr_testdb_reader(ctx.db), A, 2025, &v, &n, &err), 0);
    assert_int_equal(n, 0);

    /* Due times use the table at once: Friday 02-13 17:00 + 1 working day
     * is the adjusted Saturday; without it, Monday 02-16 is a holiday now,
     * so Tuesday. */
    assert_int_equal(catalog_due(&ctx, gr_testdb_reader(ctx.db), leaf, CAT_STEP_HANDLE, 'A', 0,
                                 at(2026, 2, 13, 17, 0), &due, &err),
                     0);
    assert_int_equal(due, at(2026, 2, 14, 17, 0));
    assert_int_equal(cat_day_delete(&ctx, "2026-02-14", &err), 0);
    expect_err(cat_day_delete(&ctx, "2026-02-14", &err), &err, GR_ENOTFOUND, "date");
    expect_err(cat_day_delete(&ctx, "14.02.2026", &err), &err, GR_EINVAL, "date");
    assert_int_equal(catalog_due(&ctx, gr_testdb_reader(ctx.db), leaf, CAT_STEP_HANDLE, 'A', 0,
                                 at(2026, 2, 13, 17, 0), &due, &err),
                     0);
    assert_int_equal(due, at(2026, 2, 17, 17, 0));
    /* A change made behind this process's back (another node, the import
     * command) is seen by the next computation. */
    assert_int_equal(catalog_working_ms(&ctx, at(2025, 3, 10, 9, 0), at(2025, 3, 10, 18, 0)),
                     450 * 60000LL);
    assert_int_equal(db_write(ctx.db, put_day_sql, NULL, &err), 0);
    assert_int_equal(catalog_working_ms(&ctx, at(2025, 3, 10, 9, 0), at(2025, 3, 10, 18, 0)), 0);
}

static void test_import(void **state)
{
    static const char csv[] = "date,kind,name\n"
                              "2025-01-01,holiday,元旦\n"
                              "2025-02-30,holiday,bad date\n"
                              "2025-01-26,weekday,bad kind\n"
                              "2025-01-28,holiday,\n"
                              "2025-01-01,holiday,repeated\n"
                              "2025-01-29,holiday,春节,extra\n";
    static const char swapped[] = "name,date,kind\r\n春节,2025-01-28,holiday\r\n";
    cat_import_stats st = {0, 0, 0, 0};
    csv_reader *r = csv_new_mem(csv, sizeof(csv) - 1);
    char path[256], out[4096];
    cat_day *rows = NULL;
    size_t n = 0;
    FILE *rep = fmemopen(out, sizeof(out), "w");
    gr_err err = {0};
    int64_t fp;

    (void)state;
    assert_int_equal(cat_days_read_csv(r, "t.csv", rep, A, &rows, &n, &st, &err), 0);
    fclose(rep);
    csv_free(r);
    assert_int_equal(n, 1);
    assert_int_equal(st.bad, 5);
    assert_non_null(strstr(out, "t.csv:3: date: must be a real date"));
    assert_non_null(strstr(out, "t.csv:4: kind:"));
    assert_non_null(strstr(out, "t.csv:5: name: is required"));
    assert_non_null(strstr(out, "t.csv:6: date: 2025-01-01 repeats line 2"));
    assert_non_null(strstr(out, "t.csv:7: has 4 fields"));

    /* The columns may come in any order; a wrong header stops the file. */
    memset(&st, 0, sizeof(st));
    r = csv_new_mem(swapped, sizeof(swapped) - 1);
    assert_int_equal(cat_days_read_csv(r, "s.csv", NULL, A, &rows, &n, &st, &err), 0);
    csv_free(r);
    assert_int_equal(n, 1);
    assert_string_equal(rows[0].date, "2025-01-28");
    assert_string_equal(rows[0].name, "春节");
    r = csv_new_mem("date,kind\n", 10);
    expect_err(cat_days_read_csv(r, "h.csv", NULL, A, &rows, &n, &st, &err), &err, GR_EINVAL,
               "file");
    csv_free(r);
    r = csv_new_mem("date,kind,name,note\n", 20);
    expect_err(cat_days_read_csv(r, "h.csv", NULL, A, &rows, &n, &st, &err), &err, GR_EINVAL,
               "file");
    csv_free(r);
    r = csv_new_mem("", 0);
    expect_err(cat_days_read_csv(r, "e.csv", NULL, A, &rows, &n, &st, &err), &err, GR_EINVAL,
               "file");
    csv_free(r);

    /* The command: the shipped files, twice; bad rows import nothing. */
    {
        char w0[] = "import", w1[] = "calendar", w2[] = "divisions";
        char *argv[4] = {w0, w1, path, NULL};
        char *usage[3] = {w0, w1, NULL};
        FILE *f;

        snprintf(path, sizeof(path), "%s/share/calendar-2025.csv", gr_source_dir());
        assert_int_equal(catalog_cli_calendar(&ctx, 3, argv), 0);
        assert_int_equal(
            gr_testdb_int(ctx.db,
                          "SELECT count(*) FROM calendar_days WHERE date LIKE '2025-%' "
                          "AND ? = 0",
                          0),
            33);
        fp = gr_testdb_int(ctx.db, "SELECT generation FROM calendar_generation WHERE id = ?", 1);
        assert_int_equal(catalog_cli_calendar(&ctx, 3, argv), 0);
        /* Nothing written the second time. */
        assert_int_equal(
            gr_testdb_int(ctx.db, "SELECT generation FROM calendar_generation WHERE id = ?", 1),
            fp);
        snprintf(path, sizeof(path), "%s/bad.csv", dir);
        f = fopen(path, "w");
        fputs("date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,holliday,元旦\n", f);
        fclose(f);
        assert_int_equal(catalog_cli_calendar(&ctx, 3, argv), 1);
        assert_int_equal(
            gr_testdb_int(ctx.db,
                          "SELECT count(*) FROM calendar_days WHERE date LIKE '2027-%' "
                          "AND ? = 0",
                          0),
            0);
        snprintf(path, sizeof(path), "%s/missing.csv", dir);
        assert_int_equal(catalog_cli_calendar(&ctx, 3, argv), 1);
        assert_int_equal(catalog_cli_calendar(&ctx, 2, usage), 2);
        usage[1] = w2;
        assert_int_equal(catalog_cli_calendar(&ctx, 2, usage), 2);
    }
}

/* ---- the loaded calendar under concurrent use ---- */

struct swap_shared {
    int64_t leaf;
    atomic_int stop;
    atomic_long bad, done;
};

static void *due_worker(void *arg)
{
    struct swap_shared *s = arg;
    int64_t due = 0, sat = at(2026, 2, 14, 17, 0), tue = at(2026, 2, 17, 17, 0);
    gr_err err = {0};

    while (!atomic_load(&s->stop)) {
        if (catalog_due(&ctx, db_reader(ctx.db), s->leaf, CAT_STEP_HANDLE, 'A', 0,
                        at(2026, 2, 13, 17, 0), &due, &err) ||
            (due != sat && due != tue))
            atomic_fetch_add(&s->bad, 1);
        atomic_fetch_add(&s->done, 1);
    }
    return NULL;
}

static void test_swap(void **state)
{
    cat_limit_row row = {CAT_STEP_HANDLE, '*', CAT_URGENCY_ANY, 1, CAL_WORKING_DAYS};
    struct swap_shared s;
    pthread_t t[4];
    gr_err err = {0};
    int created, i;

    (void)state;
    memset(&s, 0, sizeof(s));
    create("C03", "市容环境", 0);
    s.leaf = create("C0305", "垃圾箱", 0);
    replace_limits(s.leaf, &row, 1);
    assert_int_equal(cat_day_put(&ctx, "2026-02-16", CAL_HOLIDAY, "春节", 0, &created, &err), 0);
    assert_int_equal(db_writer_start(ctx.db, &err), 0);
    for (i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, due_worker, &s);
    /* The adjusted Saturday comes and goes while the workers compute. */
    for (i = 0; i < 60; i++) {
        if (i % 2 == 0)
            assert_int_equal(
                cat_day_put(&ctx, "2026-02-14", CAL_WORKDAY, "春节调休上班", 0, &created, &err), 0);
        else
            assert_int_equal(cat_day_delete(&ctx, "2026-02-14", &err), 0);
    }
    atomic_store(&s.stop, 1);
    for (i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&s.bad), 0);
    assert_true(atomic_load(&s.done) > 0);
}

/* ---- the demo ---- */

static void test_demo(void **state)
{
    static const char *const steps_sql = "SELECT count(*) FROM categories WHERE is_leaf = 1 AND ?";
    cat_record *v = NULL;
    cat_filter f = {NULL, -1, NULL};
    cat_limit lim;
    gr_err err = {0};
    size_t n = 0, i, leaves = 0;
    int64_t fp;
    char path[256];
    cat_import_stats st = {0, 0, 0, 0};
    csv_reader *r;
    cat_day *rows;
    size_t nrows;

    (void)state;
    if (catalog_demo_load(&ctx, &err))
        fail_msg("demo: %s: %s", err.field, err.msg);
    assert_true(gr_testdb_int(ctx.db, steps_sql, 1) >= 40);
    assert_int_equal(cat_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &err), 0);
    for (i = 0; i < n; i++) {
        const cat_info *c = &v[i].info;

        if (!c->is_leaf)
            continue;
        leaves++;
        /* Every leaf: its conditions, and a limit for every step, area class and urgency. */
        assert_non_null(c->filing_condition);
        assert_non_null(c->closing_condition);
        if (strcmp(c->kind, "demand") != 0)
            assert_true(c->default_department_id > 0);
        for (int s = 0; s < CAT_NSTEPS; s++)
            for (const char *a = "ABC"; *a; a++)
                for (int u = 0; u <= 1; u++)
                    if (catalog_limit(gr_testdb_reader(ctx.db), c->id, (cat_step)s, *a, u, &lim,
                                      &err))
                        fail_msg("%s %s: no %s limit for %c/%d: %s", c->code, c->name,
                                 catalog_step_name((cat_step)s), *a, u, err.msg);
    }
    assert_true(leaves >= 40);
    /* Real names in their classes; Taiyuan's published limits. */
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM categories c JOIN categories p ON p.id = "
                                   "c.parent_id WHERE c.code = 'C0102' AND c.name = '污水井盖' AND "
                                   "p.name = '公用设施' AND ?",
                                   1),
                     1);
    {
        cat_info info;
        int64_t id;

        assert_int_equal(catalog_find_code(gr_testdb_reader(ctx.db), A, "C0102", &info, &err), 0);
        assert_int_equal(
            catalog_limit(gr_testdb_reader(ctx.db), info.id, CAT_STEP_HANDLE, 'B', 0, &lim, &err),
            0);
        assert_int_equal(lim.amount, 120);
        assert_int_equal(lim.unit, CAL_NATURAL_MINUTES);
        assert_int_equal(catalog_find_code(gr_testdb_reader(ctx.db), A, "C0118", &info, &err), 0);
        assert_int_equal(
            catalog_limit(gr_testdb_reader(ctx.db), info.id, CAT_STEP_HANDLE, 'A', 0, &lim, &err),
            0);
        assert_int_equal(lim.amount, 1);
        assert_int_equal(lim.unit, CAL_WORKING_DAYS);
        /* Urgent cases get the urgent row, not the area's normal one. */
        assert_int_equal(
            catalog_limit(gr_testdb_reader(ctx.db), info.id, CAT_STEP_HANDLE, 'A', 1, &lim, &err),
            0);
        assert_int_equal(lim.amount, 240);
        assert_int_equal(lim.unit, CAL_NATURAL_MINUTES);
        assert_int_equal(
            catalog_limit(gr_testdb_reader(ctx.db), info.id, CAT_STEP_DISPATCH, 'B', 1, &lim, &err),
            0);
        assert_int_equal(lim.amount, 10);
        assert_int_equal(
            catalog_limit(gr_testdb_reader(ctx.db), info.id, CAT_STEP_FILE, 'B', 0, &lim, &err), 0);
        assert_int_equal(lim.amount, 30);
        assert_int_equal(
            catalog_limit(gr_testdb_reader(ctx.db), info.id, CAT_STEP_VERIFY, 'C', 0, &lim, &err),
            0);
        assert_int_equal(lim.amount, 120);
        assert_int_equal(catalog_find_code(gr_testdb_reader(ctx.db), A, "D05", &info, &err), 0);
        assert_int_equal(
            catalog_limit(gr_testdb_reader(ctx.db), info.id, CAT_STEP_HANDLE, 'B', 0, &lim, &err),
            0);
        assert_int_equal(lim.amount, 15 * 24 * 60);
        id = gr_testdb_int(
            ctx.db, "SELECT default_department_id FROM categories WHERE code = 'C0101' AND ?", 1);
        assert_int_equal(
            gr_testdb_int(ctx.db, "SELECT count(*) FROM departments WHERE name = '水务' AND id = ?",
                          id),
            1);
    }

    /* Once: a second load changes nothing. */
    fp = fingerprint();
    assert_int_equal(catalog_demo_load(&ctx, &err), 0);
    assert_int_equal(fingerprint(), fp);

    /* The demo's holidays are exactly the shipped files'. */
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM calendar_days WHERE ?", 1),
                     33 + 39);
    for (int y = 2025; y <= 2026; y++) {
        snprintf(path, sizeof(path), "%s/share/calendar-%d.csv", gr_source_dir(), y);
        assert_int_equal(csv_open_file(&r, path, &err), 0);
        assert_int_equal(cat_days_read_csv(r, path, stderr, A, &rows, &nrows, &st, &err), 0);
        csv_free(r);
        assert_int_equal(cat_days_import(&ctx, rows, nrows, &st, &err), 0);
    }
    assert_int_equal(st.bad, 0);
    assert_int_equal(st.created, 0);
    assert_int_equal(st.updated, 0);
    assert_int_equal(st.unchanged, 33 + 39);
}

static void test_demo_needs_org(void **state)
{
    gr_err err = {0};

    (void)state;
    gr_testdb_exec(ctx.db, "DELETE FROM departments WHERE name = '水务'");
    assert_int_not_equal(catalog_demo_load(&ctx, &err), 0);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM categories WHERE ?", 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes),
        cmocka_unit_test_setup_teardown(test_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limits_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calendar_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_import, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_demo_needs_org, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
