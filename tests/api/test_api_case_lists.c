/* Work lists over HTTP against the demo: the staff list with its filters,
 * a 400 naming each bad parameter, keyset pages (id and cursor) that cover
 * the district without repeats, scope (403 outside it, only the caller's
 * subtree inside), department staff kept to their department, counts by
 * state and the role's queue badges, and the CSV export (BOM, header,
 * quoting, no contact anywhere, scope, who may export). */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { RESIDENT, ACCEPTOR, DISPATCHER, DEPT, INSPECTOR, ADMIN, COMMUNITY, NCLIENTS };
static const char *const names[NCLIENTS] = {"resident",         "acceptor",       "dispatcher",
                                            "department_staff", "grid_inspector", "admin",
                                            "community_worker"};
static gr_client cl[NCLIENTS];
static double glat, glon, olat, olon;
static int64_t district, cgw, swj, c_grid, c_other;
/* A word no demo case uses, so that q isolates this test's cases. */
#define WORD    "蓝鲸测试"
#define WORD_PC "%E8%93%9D%E9%B2%B8%E6%B5%8B%E8%AF%95"

static void centre(const char *code, double *lat, double *lon)
{
    char path[128];
    gr_resp r;
    json_t *c;

    snprintf(path, sizeof(path), "/api/v1/org/units?code=%s", code);
    assert_int_equal(gr_get(&cl[ADMIN], path, &r), 200);
    c = json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "centroid");
    assert_non_null(c);
    *lat = json_real_value(json_object_get(c, "lat"));
    *lon = json_real_value(json_object_get(c, "lon"));
    gr_resp_free(&r);
}

static int64_t report(gr_client *c, const char *title, double lat, double lon, const char *extra)
{
    char body[2048];
    gr_resp r;
    int64_t id;

    snprintf(body, sizeof(body),
             "{\"title\":\"%s\",\"description\":\"联系电话 13900005555\",\"lat\":%.9f,"
             "\"lon\":%.9f%s%s}",
             title, lat, lon, extra ? "," : "", extra ? extra : "");
    if (gr_request(c, "POST", "/api/v1/cases", NULL, body, &r) != 201)
        fail_msg("report: %ld %s", r.status, r.body);
    id = gr_jint(r.json, "id");
    gr_resp_free(&r);
    return id;
}

static int group_setup(void **state)
{
    int i;

    gr_setup_demo(state);
    for (i = 0; i < NCLIENTS; i++)
        gr_login_demo(&cl[i], names[i]);
    centre("110105001024001", &glat, &glon);
    centre("110105002024001", &olat, &olon);
    district = gr_sql_int(&gr_srv, "SELECT id FROM org_units WHERE code = '110105'");
    cgw = gr_sql_int(&gr_srv, "SELECT id FROM departments WHERE name = '城管' AND org_id = "
                              "(SELECT id FROM org_units WHERE code = '110105')");
    swj = gr_sql_int(&gr_srv, "SELECT id FROM departments WHERE name = '水务' AND org_id = "
                              "(SELECT id FROM org_units WHERE code = '110105')");
    assert_true(district > 0 && cgw > 0 && swj > 0);
    /* A hotline case in the community worker's grid (a contact on file), and
     * a resident's in another street. */
    c_grid = report(&cl[ACCEPTOR], "井盖, \\\"" WORD "\\\" 缺失", glat, glon,
                    "\"channel\":\"hotline\",\"contact\":\"13900004444\"");
    c_other = report(&cl[RESIDENT], "垃圾" WORD "堆放", olat, olon, NULL);
    return 0;
}

static int group_teardown(void **state)
{
    int i;

    for (i = 0; i < NCLIENTS; i++)
        gr_client_free(&cl[i]);
    return gr_teardown_server(state);
}

/* The ids of a list answer, as "id id ...". */
static const char *list_ids(gr_client *c, const char *query, char *out, size_t len)
{
    char path[1024];
    gr_resp r;
    json_t *it;
    size_t i;

    snprintf(path, sizeof(path), "/api/v1/cases?%s", query);
    if (gr_get(c, path, &r) != 200)
        fail_msg("GET %s: %ld %s", path, r.status, r.body);
    out[0] = '\0';
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        snprintf(out + strlen(out), len - strlen(out), "%s%lld", i ? " " : "",
                 (long long)gr_jint(it, "id"));
        assert_null(json_object_get(it, "contact"));
    }
    gr_resp_free(&r);
    return out;
}

static const char *pair(int64_t a, int64_t b, char *out, size_t len)
{
    if (b)
        snprintf(out, len, "%lld %lld", (long long)a, (long long)b);
    else
        snprintf(out, len, "%lld", (long long)a);
    return out;
}

static void test_filters(void **state)
{
    char got[512], w[64], q[512];

    (void)state;
    /* Newest first by default. */
    assert_string_equal(list_ids(&cl[ADMIN], "q=" WORD_PC, got, sizeof(got)),
                        pair(c_other, c_grid, w, sizeof(w)));
    assert_string_equal(
        list_ids(&cl[ADMIN], "q=" WORD_PC "&sort=created&limit=1", got, sizeof(got)),
        pair(c_other, 0, w, sizeof(w)));
    assert_string_equal(list_ids(&cl[ADMIN], "q=" WORD_PC "&state=reported", got, sizeof(got)),
                        pair(c_other, c_grid, w, sizeof(w)));
    assert_string_equal(
        list_ids(&cl[ADMIN], "q=" WORD_PC "&states=accepted,closed", got, sizeof(got)), "");
    assert_string_equal(
        list_ids(&cl[ADMIN], "q=" WORD_PC "&state=reported&states=closed", got, sizeof(got)), "");
    snprintf(q, sizeof(q), "q=%s&bbox=%.6f,%.6f,%.6f,%.6f", WORD_PC, glon - 0.001, glat - 0.001,
             glon + 0.001, glat + 0.001);
    assert_string_equal(list_ids(&cl[ADMIN], q, got, sizeof(got)), pair(c_grid, 0, w, sizeof(w)));
    snprintf(q, sizeof(q), "q=%s&near=%.6f,%.6f&radius=200", WORD_PC, olat, olon);
    assert_string_equal(list_ids(&cl[ADMIN], q, got, sizeof(got)), pair(c_other, 0, w, sizeof(w)));
    assert_string_equal(list_ids(&cl[ADMIN],
                                 "q=" WORD_PC "&from=2000-01-01T00:00:00Z&to=2001-01-01T00:00:00Z",
                                 got, sizeof(got)),
                        "");
    assert_string_equal(
        list_ids(&cl[ADMIN], "q=" WORD_PC "&from=2000-01-01T00:00:00Z", got, sizeof(got)),
        pair(c_other, c_grid, w, sizeof(w)));
    /* Overdue: the running step's due time passed. */
    gr_sql_int(&gr_srv, "UPDATE cases SET step_due_at = 1000 WHERE title = '垃圾" WORD "堆放'");
    assert_string_equal(list_ids(&cl[ADMIN], "q=" WORD_PC "&overdue=1", got, sizeof(got)),
                        pair(c_other, 0, w, sizeof(w)));
}

static void test_bad_params(void **state)
{
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"state=nonsense", "state"},
        {"states=reported,zz", "states"},
        {"category_id=abc", "category_id"},
        {"org_id=0", "org_id"},
        {"org_id=999999999", "org_id"},
        {"department_id=-1", "department_id"},
        {"overdue=2", "overdue"},
        {"from=yesterday", "from"},
        {"from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
        {"q=ab", "q"},
        {"bbox=1,2,3", "bbox"},
        {"bbox=116.5,39.9,116.4,40.0", "bbox"},
        {"bbox=116.4,39.9,116.5,inf", "bbox"},
        {"near=39.9,116.4", "radius"},
        {"radius=100", "near"},
        {"near=39.9,116.4&radius=50001", "radius"},
        {"near=99,116.4&radius=10", "near"},
        {"crs=mars", "crs"},
        {"sort=title", "sort"},
        {"limit=0", "limit"},
        {"limit=101", "limit"},
        {"sort=due&after=5", "after"},
        {"cursor=abc", "cursor"},
        {"sort=due&cursor=dTEyLjM", "cursor"}, /* "u12.3": another sort's cursor */
    };
    char path[256];
    gr_resp r;
    size_t i;
    const char *routes[] = {"/api/v1/cases", "/api/v1/cases/counts", "/api/v1/cases/export.csv"};

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/cases?%s", bad[i].query);
        gr_get(&cl[ADMIN], path, &r);
        if (r.status != 400)
            fail_msg("%s: %ld %s", path, r.status, r.body);
        gr_assert_problem(&r, 400, bad[i].field);
        gr_resp_free(&r);
    }
    /* The filters are shared: counts and the export refuse them alike. */
    for (i = 1; i < 3; i++) {
        snprintf(path, sizeof(path), "%s?q=ab", routes[i]);
        gr_get(&cl[ADMIN], path, &r);
        gr_assert_problem(&r, 400, "q");
        gr_resp_free(&r);
    }
}

static void test_pages(void **state)
{
    static const char *const sorts[] = {"created", "due", "updated"};
    int64_t total = gr_sql_int(&gr_srv, "SELECT count(*) FROM cases WHERE district_id = "
                                        "(SELECT id FROM org_units WHERE code = '110105')");
    int64_t *seen = calloc((size_t)total + 1, sizeof(int64_t));
    char path[512], next[256];
    size_t k;

    (void)state;
    assert_true(total > 20);
    for (k = 0; k < 3; k++) {
        int64_t n = 0, j;
        gr_resp r;
        json_t *it;
        size_t i;
        next[0] = '\0';
        for (;;) {
            snprintf(path, sizeof(path), "/api/v1/cases?sort=%s&limit=7%s%s", sorts[k],
                     next[0] ? (k ? "&cursor=" : "&after=") : "", next);
            assert_int_equal(gr_get(&cl[ADMIN], path, &r), 200);
            json_array_foreach(json_object_get(r.json, "items"), i, it)
            {
                for (j = 0; j < n; j++)
                    assert_true(seen[j] != gr_jint(it, "id"));
                assert_true(n < total);
                seen[n++] = gr_jint(it, "id");
            }
            if (k)
                assert_true(json_is_null(json_object_get(r.json, "next_after")));
            else
                assert_true(json_is_null(json_object_get(r.json, "next_cursor")));
            it = json_object_get(r.json, k ? "next_cursor" : "next_after");
            if (json_is_null(it)) {
                gr_resp_free(&r);
                break;
            }
            if (k)
                snprintf(next, sizeof(next), "%s", json_string_value(it));
            else
                snprintf(next, sizeof(next), "%lld", (long long)json_integer_value(it));
            gr_resp_free(&r);
        }
        assert_int_equal(n, total);
    }
    free(seen);
}

static void test_scope(void **state)
{
    char path[256], got[4096], own[32];
    int64_t community;
    gr_resp r;
    json_t *it;
    size_t i;

    (void)state;
    /* The community worker: their community only; the district is outside. */
    community = gr_sql_int(&gr_srv, "SELECT id FROM org_units WHERE code = '110105001024'");
    snprintf(path, sizeof(path), "/api/v1/cases?org_id=%lld", (long long)district);
    gr_get(&cl[COMMUNITY], path, &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&cl[COMMUNITY], "/api/v1/cases?limit=100", &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) > 0);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        assert_int_equal(gr_jint(it, "community_id"), community);
    }
    gr_resp_free(&r);
    list_ids(&cl[COMMUNITY], "q=" WORD_PC, got, sizeof(got));
    snprintf(own, sizeof(own), "%lld", (long long)c_grid);
    assert_string_equal(got, own);
    /* Department staff: their department's cases only, asking for another is 403. */
    gr_sql_int(&gr_srv, "UPDATE cases SET department_id = (SELECT id FROM departments WHERE "
                        "name = '水务' LIMIT 1) WHERE title = '垃圾" WORD "堆放'");
    assert_int_equal(gr_get(&cl[DEPT], "/api/v1/cases?limit=100", &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) > 0);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        assert_int_equal(gr_jint(it, "department_id"), cgw);
    }
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases?department_id=%lld", (long long)swj);
    gr_get(&cl[DEPT], path, &r);
    gr_assert_problem(&r, 403, "department_id");
    gr_resp_free(&r);
    /* Residents have no work list. */
    gr_get(&cl[RESIDENT], "/api/v1/cases", &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
}

static void test_counts(void **state)
{
    static const char *const states[] = {"reported",   "accepted", "rejected",  "filed",
                                         "dispatched", "signed",   "rework",    "handled",
                                         "returned",   "disputed", "backlog",   "verified",
                                         "closed",     "review",   "cancelled", "merged"};
    int64_t total = gr_sql_int(&gr_srv, "SELECT count(*) FROM cases WHERE district_id = "
                                        "(SELECT id FROM org_units WHERE code = '110105')");
    int64_t sum = 0, v;
    json_t *b;
    gr_resp r;
    size_t i;

    (void)state;
    assert_int_equal(gr_get(&cl[ADMIN], "/api/v1/cases/counts?state=closed", &r), 200);
    for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
        sum += gr_jint(r.json, states[i]);
    assert_int_equal(sum, total);
    b = json_object_get(r.json, "badges");
    assert_int_equal(gr_jint(b, "to_accept"), gr_jint(r.json, "reported"));
    assert_int_equal(gr_jint(b, "to_handle"),
                     gr_jint(r.json, "signed") + gr_jint(r.json, "rework"));
    assert_int_equal(gr_jint(b, "returned_or_disputed"),
                     gr_jint(r.json, "returned") + gr_jint(r.json, "disputed"));
    assert_int_equal(gr_jint(b, "overdue"),
                     gr_sql_int(&gr_srv, "SELECT count(*) FROM cases WHERE step IS NOT NULL AND "
                                         "step_due_at < CAST(strftime('%s','now') AS INTEGER) * "
                                         "1000 AND district_id = (SELECT id FROM org_units WHERE "
                                         "code = '110105')"));
    assert_true(gr_jint(b, "overdue") >= 1);
    assert_int_equal(json_object_size(b), 8); /* an admin oversees every queue */
    gr_resp_free(&r);
    /* The acceptor sees their own queue (and overdue), the filters apply. */
    assert_int_equal(gr_get(&cl[ACCEPTOR], "/api/v1/cases/counts?q=" WORD_PC, &r), 200);
    b = json_object_get(r.json, "badges");
    assert_int_equal(json_object_size(b), 2);
    v = gr_jint(b, "to_accept");
    assert_int_equal(v, 2); /* both reports wait for acceptance */
    assert_int_equal(gr_jint(r.json, "reported"), 2);
    assert_int_equal(gr_jint(r.json, "accepted"), 0);
    gr_resp_free(&r);
    gr_get(&cl[RESIDENT], "/api/v1/cases/counts", &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
}

static void test_csv(void **state)
{
    char h[256];
    gr_resp r;
    const char *line2;

    (void)state;
    /* A title with a line break (no route writes one; the quoting must hold). */
    gr_sql_int(&gr_srv, "UPDATE cases SET title = '井盖, ' || char(34) || '" WORD "' || char(34) "
                        "|| char(10) || '缺失' WHERE title LIKE '井盖, %" WORD "%'");
    assert_int_equal(gr_get(&cl[ACCEPTOR], "/api/v1/cases/export.csv?q=" WORD_PC, &r), 200);
    assert_non_null(gr_resp_header(&r, "Content-Type", h, sizeof(h)));
    assert_string_equal(h, "text/csv; charset=utf-8");
    assert_non_null(gr_resp_header(&r, "Content-Disposition", h, sizeof(h)));
    assert_non_null(strstr(h, "attachment"));
    assert_null(gr_resp_header(&r, "X-Truncated", h, sizeof(h)));
    assert_memory_equal(r.body, "\xEF\xBB\xBF", 3);
    assert_true(strncmp(r.body + 3,
                        "public_code,created_at,channel,category_code,category_name,title,state,"
                        "street,community,grid,department,step,step_due_at,overdue,closed_at,"
                        "rating\r\n",
                        strlen("public_code,created_at,channel,category_code,category_name,title,"
                               "state,street,community,grid,department,step,step_due_at,overdue,"
                               "closed_at,rating\r\n")) == 0);
    /* RFC 4180: the field quoted, its quotes doubled, the line break kept. */
    assert_non_null(strstr(r.body, ",\"井盖, \"\"" WORD "\"\"\n缺失\","));
    assert_non_null(strstr(r.body, ",垃圾" WORD "堆放,"));
    /* No contact, masked or not, and no description. */
    assert_null(strstr(r.body, "13900004444"));
    assert_null(strstr(r.body, "****4444"));
    assert_null(strstr(r.body, "13900005555"));
    assert_null(strstr(r.body, "联系电话"));
    line2 = strstr(r.body, "\r\n") + 2;
    assert_true(strncmp(line2, "GR", 2) == 0);
    gr_resp_free(&r);
    /* The community worker's export holds their community's case only. */
    assert_int_equal(gr_get(&cl[COMMUNITY], "/api/v1/cases/export.csv?q=" WORD_PC, &r), 200);
    assert_non_null(strstr(r.body, "井盖"));
    assert_null(strstr(r.body, "垃圾" WORD));
    gr_resp_free(&r);
    /* Residents, grid inspectors and department staff do not export. */
    gr_get(&cl[RESIDENT], "/api/v1/cases/export.csv", &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
    gr_get(&cl[INSPECTOR], "/api/v1/cases/export.csv", &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
    gr_get(&cl[DEPT], "/api/v1/cases/export.csv", &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters), cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_pages),   cmocka_unit_test(test_scope),
        cmocka_unit_test(test_counts),  cmocka_unit_test(test_csv),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
