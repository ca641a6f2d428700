/* cases/ work lists: each filter alone and combined, counts by state, keyset
 * pages that neither skip nor repeat while new cases arrive, a box and a
 * circle, full text in Chinese, the public update feed, and the query plans
 * of the common filters (an index, never a scan). Runs on the demo district
 * and catalogue in a real database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"
#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth.h"
#include "base/log.h"
#include "cases/case_model.h"
#include "org/org.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;
static int64_t grid, cgw, district;
static double glat, glon, olat, olon;
static case_actor resident, acceptor;
static int64_t c1, c2, c3; /* grid/public/reported, elsewhere/reported, grid/dispatched overdue */

static int64_t category(const char *code)
{
    return gr_testdb_category(ctx.db, code);
}

static int64_t make(const case_actor *who, const char *title, const char *code, double lat,
                    double lon, int is_public)
{
    case_input in = {0};
    gr_err err = {0};
    int64_t id = 0;

    in.title = title;
    in.description = "描述：现场情况见照片";
    in.has_point = 1;
    in.lat = lat;
    in.lon = lon;
    in.is_public = is_public;
    in.category_id = code ? category(code) : 0;
    if (strcmp(who->role, "acceptor") == 0) {
        in.channel = "hotline";
        in.contact = "13900001111";
    }
    if (case_create(&ctx, who, &in, &id, &err))
        fail_msg("case_create: %s: %s", err.field, err.msg);
    return id;
}

static int group_setup(void **state)
{
    static const char *const names[] = {"resident", "acceptor"};
    http_principal p[2];
    case_actor who[2];
    double dlat;

    (void)state;
    gr_testdb_demo_app(&ctx, dir, sizeof(dir), "caselists");
    A = arena_new();
    gr_testdb_case_actors(ctx.db, A, names, 2, p, who);
    resident = who[0];
    acceptor = who[1];
    gr_testdb_demo_places(&ctx, &district, &grid, &cgw, NULL, &glat, &glon);
    assert_int_equal(gr_testdb_point_outside(&ctx, grid, 200, &olat, &olon), 0);

    c1 = make(&resident, "东大桥路口井盖松动", "E0406", glat, glon, 1);
    c2 = make(&resident, "小区门口垃圾堆放", NULL, olat, olon, 0);
    /* c3 about 11 m from c1, in the same grid. */
    dlat = org_grid_at(&ctx, glat + 0.0001, glon) == grid ? 0.0001 : -0.0001;
    assert_int_equal(org_grid_at(&ctx, glat + dlat, glon), grid);
    c3 = make(&acceptor, "路灯不亮，夜里很黑", "E0406", glat + dlat, glon, 0);
    gr_testdb_exec(
        ctx.db,
        "UPDATE cases SET created_at = 1000000, updated_at = 1000000, department_id = NULL "
        "WHERE id = %lld",
        (long long)c1);
    gr_testdb_exec(
        ctx.db,
        "UPDATE cases SET created_at = 2000000, updated_at = 2000000, department_id = NULL "
        "WHERE id = %lld",
        (long long)c2);
    gr_testdb_exec(
        ctx.db,
        "UPDATE cases SET created_at = 3000000, updated_at = 3000000, state = 'dispatched', "
        "department_id = %lld, step = 'handle', step_due_at = 5000 WHERE id = %lld",
        (long long)cgw, (long long)c3);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    app_close(&ctx);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

static case_filter base(void)
{
    case_filter f = {0};

    f.state = -1;
    f.limit = 100;
    f.now = 10000;
    return f;
}

/* The ids of f's first page, as a string "id id ...". */
static const char *ids(const case_filter *f)
{
    case_rec *v;
    size_t n, i;
    int more;
    gr_err err = {0};
    char *s = arena_zalloc(A, 512);

    if (case_list(gr_testdb_reader(ctx.db), A, f, &v, &n, &more, &err))
        fail_msg("case_list: %s: %s", err.field, err.msg);
    for (i = 0; i < n; i++)
        snprintf(s + strlen(s), 512 - strlen(s), "%s%lld", i ? " " : "", (long long)v[i].id);
    return s;
}

static const char *want(int64_t a, int64_t b, int64_t c)
{
    char *s = arena_zalloc(A, 64);

    if (a)
        snprintf(s, 64, "%lld", (long long)a);
    if (b)
        snprintf(s + strlen(s), 64 - strlen(s), "%s%lld", a ? " " : "", (long long)b);
    if (c)
        snprintf(s + strlen(s), 64 - strlen(s), " %lld", (long long)c);
    return s;
}

/* The three cases in the list's default order. */
static const char *all_three(void)
{
    case_filter f = base();

    return ids(&f);
}

static void expect_einval(case_filter *f, const char *field)
{
    case_rec *v;
    size_t n;
    int more;
    gr_err err = {0};

    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, f, &v, &n, &more, &err), GR_EINVAL);
    assert_string_equal(err.field, field);
}

static void test_filters(void **state)
{
    case_filter f = base();

    (void)state;
    assert_string_equal(ids(&f), want(c1, c2, c3));
    f.state = CS_REPORTED;
    assert_string_equal(ids(&f), want(c1, c2, 0));
    f.states = 1u << CS_DISPATCHED;
    assert_string_equal(ids(&f), ""); /* both: the intersection */
    f.state = -1;
    f.states = 1u << CS_DISPATCHED | 1u << CS_REPORTED;
    assert_string_equal(ids(&f), want(c1, c2, c3));
    f = base();
    f.category_id = category("E0406");
    assert_string_equal(ids(&f), want(c1, c3, 0));
    f = base();
    f.scope = grid;
    assert_string_equal(ids(&f), want(c1, c3, 0));
    f.scope = district;
    assert_string_equal(ids(&f), want(c1, c2, c3));
    f = base();
    f.department = cgw;
    assert_string_equal(ids(&f), want(c3, 0, 0));
    f = base();
    f.territorial = 1;
    f.scope = district;
    assert_true(strstr(ids(&f), want(c2, 0, 0)) != NULL);
    assert_null(strstr(ids(&f), want(c3, 0, 0)));
    f = base();
    f.overdue = 1;
    assert_string_equal(ids(&f), want(c3, 0, 0));
    f.now = 4000; /* not yet due */
    assert_string_equal(ids(&f), "");
    f = base();
    f.created_from = 1500000;
    f.created_to = 2500000;
    assert_string_equal(ids(&f), want(c2, 0, 0));
    f.created_to = 2000000; /* [from, to): to is excluded */
    f.created_from = 1000000;
    assert_string_equal(ids(&f), want(c1, 0, 0));
    f.created_from = 2500000;
    expect_einval(&f, "to");
    /* Full text in Chinese: three characters are enough, two are not. */
    f = base();
    f.q = "井盖松";
    assert_string_equal(ids(&f), want(c1, 0, 0));
    f.q = "很黑";
    expect_einval(&f, "q");
    f.q = "夜里很黑";
    f.category_id = category("E0406");
    f.scope = grid;
    assert_string_equal(ids(&f), want(c3, 0, 0));
    f = base();
    f.sort = "name";
    expect_einval(&f, "sort");
}

static void test_box_and_radius(void **state)
{
    case_filter f = base();

    (void)state;
    f.has_box = 1;
    f.min_lat = glat - 0.001;
    f.max_lat = glat + 0.001;
    f.min_lon = glon - 0.001;
    f.max_lon = glon + 0.001;
    assert_string_equal(ids(&f), want(c1, c3, 0));
    f.max_lat = glat - 0.0002; /* the box misses both */
    assert_string_equal(ids(&f), "");
    f.max_lat = f.min_lat - 1;
    expect_einval(&f, "bbox");
    /* A box over many rows and columns of the index's 0.0025-degree cells
     * finds every point in it; a box that is a point finds that point. */
    f.min_lat = fmin(glat, olat) - 0.02;
    f.max_lat = fmax(glat, olat) + 0.02;
    f.min_lon = fmin(glon, olon) - 0.02;
    f.max_lon = fmax(glon, olon) + 0.02;
    assert_string_equal(ids(&f), all_three());
    f.min_lat = f.max_lat = glat;
    f.min_lon = f.max_lon = glon;
    assert_string_equal(ids(&f), want(c1, 0, 0));
    /* Wider than the index narrows (the globe; then the southern half):
     * the points alone decide. */
    f.min_lat = -90;
    f.max_lat = 90;
    f.min_lon = -180;
    f.max_lon = 180;
    assert_string_equal(ids(&f), all_three());
    f.max_lat = 0;
    assert_string_equal(ids(&f), "");
    f = base();
    f.has_radius = 1;
    f.near_lat = glat;
    f.near_lon = glon;
    f.radius_m = 5; /* c3 lies about 11 m north of c1 */
    assert_string_equal(ids(&f), want(c1, 0, 0));
    f.radius_m = 20;
    assert_string_equal(ids(&f), want(c1, c3, 0));
    f.near_lat = olat;
    f.near_lon = olon;
    assert_string_equal(ids(&f), want(c2, 0, 0));
    f.radius_m = 50001;
    expect_einval(&f, "radius");
    f.radius_m = 0;
    expect_einval(&f, "radius");
}

static void test_counts(void **state)
{
    case_filter f = base();
    int64_t counts[CS_NSTATES];
    gr_err err = {0};

    (void)state;
    f.scope = district;
    f.state = CS_CLOSED; /* ignored by counts */
    f.limit = 1;
    assert_int_equal(case_count_by_state(gr_testdb_reader(ctx.db), &f, counts, &err), 0);
    assert_int_equal(counts[CS_REPORTED], 2);
    assert_int_equal(counts[CS_DISPATCHED], 1);
    assert_int_equal(counts[CS_CLOSED], 0);
    f.scope = grid;
    assert_int_equal(case_count_by_state(gr_testdb_reader(ctx.db), &f, counts, &err), 0);
    assert_int_equal(counts[CS_REPORTED], 1);
    f.overdue = 1;
    assert_int_equal(case_count_by_state(gr_testdb_reader(ctx.db), &f, counts, &err), 0);
    assert_int_equal(counts[CS_REPORTED], 0);
    assert_int_equal(counts[CS_DISPATCHED], 1);
    f.q = "ab";
    assert_int_equal(case_count_by_state(gr_testdb_reader(ctx.db), &f, counts, &err), GR_EINVAL);
    assert_string_equal(err.field, "q");
}

/* Walks every page of f (limit 2), adding a case after each page; returns
 * how many rows were seen and checks that none repeats. */
static size_t walk(case_filter f, int64_t *seen, size_t max)
{
    case_rec *v;
    size_t n, i, j, total = 0;
    int more = 1;
    gr_err err = {0};

    f.limit = 2;
    while (more) {
        assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
        for (i = 0; i < n; i++) {
            for (j = 0; j < total; j++)
                assert_true(seen[j] != v[i].id);
            assert_true(total < max);
            seen[total++] = v[i].id;
        }
        if (n) {
            f.after = f.after_id = v[n - 1].id;
            f.after_key = case_sort_key(&f, &v[n - 1]);
            f.after_key_null = f.sort && !strcmp(f.sort, "due") && !v[n - 1].step;
        }
        make(&resident, "新的诉求", "E0406", glat, glon, 0);
    }
    return total;
}

static int has(const int64_t *v, size_t n, int64_t id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i] == id)
            return 1;
    return 0;
}

static void test_pages(void **state)
{
    int64_t before[64], seen[256];
    case_filter f = base();
    case_rec *v;
    size_t nb, n, i;
    int more, k;
    gr_err err = {0};

    (void)state;
    /* Due times with ties and gaps; some cases have none. */
    for (k = 0; k < 6; k++) {
        int64_t id = make(&resident, "排队的诉求", "E0406", glat, glon, 0);
        if (k < 4)
            gr_testdb_exec(ctx.db,
                           "UPDATE cases SET step_due_at = %d, updated_at = %d WHERE id = %lld",
                           k < 2 ? 7000 : 6000 + k, 9000000 + (k % 2), (long long)id);
        else
            gr_testdb_exec(ctx.db,
                           "UPDATE cases SET step = NULL, step_due_at = NULL WHERE id = %lld",
                           (long long)id);
    }
    f.scope = district;
    f.limit = 64;
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    for (nb = 0; nb < n; nb++)
        before[nb] = v[nb].id;
    f.desc = 1;
    n = walk(f, seen, 256);
    for (i = 0; i < nb; i++)
        assert_true(has(seen, n, before[i]));
    for (i = 1; i < n; i++)
        assert_true(seen[i] < seen[i - 1]);
    f.desc = 0;
    f.sort = "due";
    n = walk(f, seen, 256);
    for (i = 0; i < nb; i++)
        assert_true(has(seen, n, before[i]));
    f.sort = "updated";
    n = walk(f, seen, 256);
    for (i = 0; i < nb; i++)
        assert_true(has(seen, n, before[i]));
    /* The due order itself: ascending due time, cases without one last. */
    f.sort = "due";
    f.limit = 200;
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    for (i = 1; i < n; i++) {
        int64_t a = v[i - 1].step ? v[i - 1].step_due_at : INT64_MAX;
        int64_t b = v[i].step ? v[i].step_due_at : INT64_MAX;
        assert_true(a < b || (a == b && v[i - 1].id < v[i].id));
    }
    assert_int_equal(v[0].id, c3); /* due at 5000 */
}

static void test_updates_feed(void **state)
{
    case_action_input in = {0};
    case_result res;
    case_update *u;
    size_t n, i;
    int more;
    gr_err err = {0};
    case_rec r;

    (void)state;
    assert_int_equal(case_get(gr_testdb_reader(ctx.db), A, c1, &r, &err), 0);
    in.action = "accept";
    in.version = r.version;
    in.urgent = -1;
    in.note = "已联系报告人 13900001111";
    assert_int_equal(case_transition(&ctx, &acceptor, c1, &in, &res, &err), 0);
    assert_int_equal(
        case_updates_list(gr_testdb_reader(ctx.db), A, 0, 0, 0, 100, &u, &n, &more, &err), 0);
    assert_int_equal(n, 2); /* the only public case: its report and its acceptance */
    assert_false(more);
    for (i = 0; i < n; i++) {
        assert_int_equal(u[i].case_id, c1);
        assert_null(u[i].note);
        assert_true(u[i].is_public);
    }
    assert_string_equal(u[0].action, "report");
    assert_string_equal(u[1].to_state, "accepted");
    assert_true(u[0].event_id < u[1].event_id);
    assert_int_equal(
        case_updates_list(gr_testdb_reader(ctx.db), A, 0, 0, 0, 1, &u, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_true(more);
    assert_int_equal(
        case_updates_list(gr_testdb_reader(ctx.db), A, 0, 0, u[0].event_id, 1, &u, &n, &more, &err),
        0);
    assert_int_equal(n, 1);
    assert_string_equal(u[0].to_state, "accepted");
    /* The window [from, to) on the event time. */
    assert_int_equal(
        case_updates_list(gr_testdb_reader(ctx.db), A, 0, 1, 0, 100, &u, &n, &more, &err), 0);
    assert_int_equal(n, 0);
}

/* The plan of f's statement holds want and not shun (NULL: no check). */
static void expect_plan(const case_filter *f, const char *want, const char *shun)
{
    const char *text;
    char plan[2048] = "";
    db_stmt *st;
    gr_err err = {0};

    assert_int_equal(case_list_sql(gr_testdb_reader(ctx.db), A, f, &text, &err), 0);
    st = db_prepare(gr_testdb_reader(ctx.db), arena_printf(A, "EXPLAIN QUERY PLAN %s", text), &err);
    assert_non_null(st);
    while (db_step(st, &err) == DB_ROW)
        snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan), "%s; ", db_col_text(st, 3));
    db_done(st);
    if (!strstr(plan, want) || (shun && strstr(plan, shun)))
        fail_msg("plan: %s for %s", plan, text);
}

/* The plan of f's statement uses an index on cases and never scans it. */
static void expect_index(const case_filter *f, const char *index)
{
    expect_plan(f, index, "SCAN cases ");
}

static void test_query_plans(void **state)
{
    case_filter f = base();

    (void)state;
    f.desc = 1;
    f.scope = district;
    f.state = CS_REPORTED;
    expect_index(&f, "SEARCH cases USING INDEX");
    f.scope = grid;
    expect_index(&f, "SEARCH cases USING INDEX");
    f = base();
    f.desc = 1;
    f.scope = district;
    f.department = cgw;
    f.states = 1u << CS_DISPATCHED | 1u << CS_SIGNED;
    expect_index(&f, "SEARCH cases USING INDEX");
    f = base();
    f.overdue = 1;
    f.desc = 1;
    expect_index(&f, "SEARCH cases USING INDEX cases_due");
    f.scope = district;
    expect_index(&f, "SEARCH cases USING INDEX cases_due");
    /* The hand-planned pages (docs/cases.md, "Indexes") never sort: the
     * overdue queue by due time walks cases_due in order, ... */
    f.sort = "due";
    expect_plan(&f, "SEARCH cases USING INDEX cases_due", "TEMP B-TREE");
    /* ... full text newest first walks the FTS index down, ... */
    f = base();
    f.desc = 1;
    f.scope = grid;
    f.q = "垃圾堆放";
    expect_plan(&f, "SCAN cases_fts VIRTUAL TABLE", "TEMP B-TREE");
    /* ... and a district newest first walks ids down, where a grid keeps its
     * index. */
    f = base();
    f.desc = 1;
    f.scope = district;
    expect_plan(&f, "SEARCH cases USING INTEGER PRIMARY KEY (rowid<?)", "TEMP B-TREE");
    f.scope = grid;
    expect_index(&f, "SEARCH cases USING INDEX cases_grid");
}

/* The export as a string (f's filters, at most max rows). */
static char *export_text(const case_filter *f, int64_t max, int64_t *rows, int *truncated)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    gr_err err = {0};

    assert_non_null(out);
    assert_int_equal(case_export_csv(gr_testdb_reader(ctx.db), f, max, out, rows, truncated, &err),
                     0);
    fclose(out);
    return text;
}

static void test_export(void **state)
{
    case_filter f = base();
    int64_t rows;
    int truncated;
    char *text;

    (void)state;
    f.scope = district;
    f.desc = 1;
    gr_testdb_exec(ctx.db,
                   "UPDATE cases SET title = '=HYPERLINK(1),' || char(10) || 'x' WHERE id = %lld",
                   (long long)c2);
    text = export_text(&f, 2, &rows, &truncated);
    assert_int_equal(rows, 2);
    assert_true(truncated);
    free(text);
    f.q = "HYPERLINK";
    text = export_text(&f, 10, &rows, &truncated);
    assert_int_equal(rows, 1);
    assert_false(truncated);
    /* A formula is defused, and the line break stays inside the quoted field. */
    assert_non_null(strstr(text, ",\"'=HYPERLINK(1),\nx\","));
    assert_null(strstr(text, "13900001111"));
    assert_null(strstr(text, "描述"));
    free(text);
    /* Exactly as many rows as the cap: not truncated. */
    f.q = NULL;
    f.scope = grid;
    f.created_from = 1;
    f.created_to = 3000001;
    text = export_text(&f, 2, &rows, &truncated);
    assert_int_equal(rows, 2);
    assert_false(truncated);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters),      cmocka_unit_test(test_box_and_radius),
        cmocka_unit_test(test_counts),       cmocka_unit_test(test_query_plans),
        cmocka_unit_test(test_updates_feed), cmocka_unit_test(test_export),
        cmocka_unit_test(test_pages),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
