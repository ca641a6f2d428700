/* Evaluation over HTTP on the demo: `grassroots eval rebuild` beside the
 * running server; the indicators of the leader's district over all time,
 * whose counters agree with the cases table; a community worker kept to
 * their subtree; bad units, periods and levels refused naming the field;
 * rankings of streets and departments; the cases behind a number; the
 * configuration versions (weights that do not add up to 1, a past month, a
 * month already taken, a role that may not). */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static void rebuild(void)
{
    static const char *const args[] = {"eval", "rebuild", NULL};
    char out[256];

    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), args), 0);
    assert_non_null(strstr(out, "evaluation rebuilt:"));
}

static json_t *indicator(json_t *resp, const char *key)
{
    json_t *a = json_object_get(resp, "indicators"), *x;
    size_t i;

    json_array_foreach(a, i, x) if (strcmp(gr_jstr(x, "key"), key) == 0) return x;
    fail_msg("no indicator %s", key);
    return NULL;
}

static void test_indicators(void **state)
{
    gr_client leader, worker, resident;
    char path[256];
    gr_resp r;
    json_t *counters, *close_rate;
    int64_t district = gr_scope_of("leader"), cases, filed, closed;

    (void)state;
    rebuild();
    gr_login_demo(&leader, "leader");
    assert_int_equal(gr_get(&leader, "/api/v1/eval/indicators?from=2000-01-01", &r), 200);
    assert_int_equal(gr_jint(json_object_get(r.json, "unit"), "id"), district);
    assert_string_equal(gr_jstr(json_object_get(r.json, "unit"), "kind"), "org_unit");
    assert_int_equal(gr_jint(json_object_get(r.json, "config"), "version"), 1);
    assert_string_equal(gr_jstr(r.json, "from"), "2000-01-01");
    counters = json_object_get(r.json, "counters");
    cases = gr_sql_int(&gr_srv, "SELECT count(*) FROM cases");
    filed = gr_sql_int(&gr_srv, "SELECT count(DISTINCT case_id) FROM case_events WHERE to_state = "
                                "'filed' AND case_id IN (SELECT id FROM cases WHERE state != "
                                "'merged')");
    closed = gr_sql_int(&gr_srv, "SELECT count(*) FROM cases WHERE state = 'closed'");
    assert_true(cases > 0);
    assert_int_equal(gr_jint(counters, "reported"), cases);
    assert_int_equal(gr_jint(counters, "filed"), filed);
    assert_int_equal(gr_jint(counters, "closed"), closed);
    close_rate = indicator(r.json, "close_rate");
    assert_string_equal(gr_jstr(close_rate, "name"), "结案率");
    assert_true(json_real_value(json_object_get(close_rate, "numerator")) == (double)closed);
    gr_resp_free(&r);

    /* A department of the district. */
    assert_int_equal(gr_get(&leader, "/api/v1/eval/indicators?department_id=1&from=2000-01-01", &r),
                     200);
    assert_string_equal(gr_jstr(json_object_get(r.json, "unit"), "kind"), "department");
    gr_resp_free(&r);

    /* Bad input names the field and changes nothing. */
    gr_expect_problem(&leader, "GET", "/api/v1/eval/indicators?unit_id=99999999", NULL, 400,
                      "unit_id");
    gr_expect_problem(&leader, "GET", "/api/v1/eval/indicators?department_id=99999999", NULL, 400,
                      "department_id");
    gr_expect_problem(&leader, "GET", "/api/v1/eval/indicators?unit_id=1&department_id=1", NULL,
                      400, "department_id");
    gr_expect_problem(&leader, "GET", "/api/v1/eval/indicators?from=2026-11-30&to=2026-11-01", NULL,
                      400, "to");
    gr_expect_problem(&leader, "GET", "/api/v1/eval/indicators?from=2026-13-01", NULL, 400, "from");
    gr_expect_problem(&leader, "GET", "/api/v1/eval/indicators?to=yesterday", NULL, 400, "to");

    /* A community worker sees their community, not the district. */
    gr_login_demo(&worker, "community_worker");
    assert_int_equal(gr_get(&worker, "/api/v1/eval/indicators", &r), 200);
    assert_int_equal(gr_jint(json_object_get(r.json, "unit"), "id"),
                     gr_scope_of("community_worker"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/eval/indicators?unit_id=%lld", (long long)district);
    gr_expect_problem(&worker, "GET", path, NULL, 403, NULL);
    gr_login_demo(&resident, "resident");
    gr_expect_problem(&resident, "GET", "/api/v1/eval/indicators", NULL, 403, NULL);
    gr_client_free(&leader);
    gr_client_free(&worker);
    gr_client_free(&resident);
}

static void test_rankings_and_cases(void **state)
{
    gr_client leader;
    char path[256], month[16];
    gr_resp r;
    json_t *items, *x;
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    size_t i;
    int64_t streets;

    (void)state;
    gmtime_r(&now, &tm);
    strftime(month, sizeof(month), "%Y-%m", &tm);
    gr_login_demo(&leader, "leader");
    snprintf(path, sizeof(path), "/api/v1/eval/rankings?level=street&month=%s", month);
    assert_int_equal(gr_get(&leader, path, &r), 200);
    items = json_object_get(r.json, "items");
    streets = gr_sql_int(&gr_srv, "SELECT count(*) FROM org_units WHERE kind = 'street'");
    assert_int_equal((int64_t)json_array_size(items), streets);
    /* Best first; units without a score come last, without a rank. */
    json_array_foreach(items, i, x)
    {
        json_t *rank = json_object_get(x, "rank");
        if (json_is_integer(rank))
            assert_int_equal(json_integer_value(rank), (json_int_t)i + 1);
        else
            assert_true(json_is_null(json_object_get(x, "composite")));
        assert_non_null(json_object_get(json_object_get(x, "values"), "close_rate"));
    }
    gr_resp_free(&r);
    assert_int_equal(gr_get(&leader, "/api/v1/eval/rankings?level=department", &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) > 0);
    gr_resp_free(&r);
    gr_expect_problem(&leader, "GET", "/api/v1/eval/rankings?level=planet", NULL, 400, "level");
    gr_expect_problem(&leader, "GET", "/api/v1/eval/rankings?level=street&month=2026-13", NULL, 400,
                      "month");

    /* The report: every street in JSON, CSV and printable HTML. */
    assert_int_equal(gr_get(&leader, "/api/v1/eval/report?level=street&from=2000-01-01", &r), 200);
    assert_int_equal((int64_t)json_array_size(json_object_get(r.json, "items")), streets);
    assert_non_null(json_object_get(
        json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "values"),
        "close_rate"));
    gr_resp_free(&r);
    assert_int_equal(
        gr_get(&leader, "/api/v1/eval/report?level=street&from=2000-01-01&format=csv", &r), 200);
    assert_non_null(strstr(r.body, "kind,level,id,name,响应率,"));
    {
        int64_t lines = 0;
        const char *p;
        for (p = r.body; (p = strstr(p, "\r\n")) != NULL; p += 2)
            lines++;
        assert_int_equal(lines, streets + 1);
    }
    gr_resp_free(&r);
    assert_int_equal(gr_get(&leader, "/api/v1/eval/report?level=street&format=html", &r), 200);
    assert_non_null(strstr(r.body, "<th scope=\"col\">结案率</th>"));
    assert_non_null(strstr(r.body, "<td>街道</td>"));
    gr_resp_free(&r);
    gr_expect_problem(&leader, "GET", "/api/v1/eval/report?format=pdf", NULL, 400, "format");

    /* The cases behind "reported": every case, a page at a time. */
    assert_int_equal(
        gr_get(&leader, "/api/v1/eval/cases?counter=reported&from=2000-01-01&limit=5", &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 5);
    assert_true(gr_jint(json_array_get(items, 0), "id") < gr_jint(json_array_get(items, 4), "id"));
    assert_non_null(gr_jstr(json_array_get(items, 0), "public_code"));
    gr_resp_free(&r);
    gr_expect_problem(&leader, "GET", "/api/v1/eval/cases?counter=clicks", NULL, 400, "counter");
    gr_client_free(&leader);
}

static void test_configs(void **state)
{
    gr_client admin, leader;
    char body[1024], next[32], last[32];
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gr_resp r;
    json_t *o;
    int y, m;

    (void)state;
    gmtime_r(&now, &tm);
    y = tm.tm_year + 1900;
    m = tm.tm_mon + 1;
    snprintf(next, sizeof(next), "%04d-%02d", m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1);
    snprintf(last, sizeof(last), "%04d-%02d", m == 1 ? y - 1 : y, m == 1 ? 12 : m - 1);
    gr_login_demo(&admin, "admin");
    gr_login_demo(&leader, "leader");
    assert_int_equal(gr_get(&leader, "/api/v1/eval/configs", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_int_equal(gr_jint(json_array_get(json_object_get(r.json, "items"), 0), "version"), 1);
    gr_resp_free(&r);
#define CONFIG(w1, w2)                                                                             \
    "{\"indicators\":{\"s\":{\"name\":\"满意率\",\"numerator\":{\"satisfied\":1,"               \
    "\"basically_satisfied\":0.8},\"denominator\":[\"callbacks\"]},\"c\":{\"name\":\"结案率\"," \
    "\"numerator\":{\"closed\":1},\"denominator\":[\"to_close\"]}},\"composite\":{\"s\":" w1       \
    ",\"c\":" w2 "}}"
    snprintf(body, sizeof(body), "{\"valid_from\":\"%s\",\"config\":" CONFIG("0.5", "0.4") "}",
             next);
    gr_expect_problem(&admin, "POST", "/api/v1/eval/configs", body, 400, "config.composite");
    snprintf(body, sizeof(body), "{\"valid_from\":\"%s\",\"config\":" CONFIG("0.6", "0.4") "}",
             last);
    gr_expect_problem(&admin, "POST", "/api/v1/eval/configs", body, 400, "valid_from");
    snprintf(body, sizeof(body),
             "{\"valid_from\":\"%s\",\"config\":" CONFIG("0.6", "0.4") ",\"note\":\"新考评办法\"}",
             next);
    gr_expect_problem(&leader, "POST", "/api/v1/eval/configs", body, 403, NULL);
    o = gr_post(&admin, "/api/v1/eval/configs", body, 201);
    assert_int_equal(gr_jint(o, "version"), 2);
    assert_string_equal(gr_jstr(o, "valid_from"), next);
    json_decref(o);
    gr_expect_problem(&admin, "POST", "/api/v1/eval/configs", body, 409, "valid_from");
    /* Next month's numbers are computed by version 2; this month's by 1. */
    snprintf(body, sizeof(body), "/api/v1/eval/indicators?from=%s-01&to=%s-01", next, next);
    assert_int_equal(gr_get(&leader, body, &r), 200);
    assert_int_equal(gr_jint(json_object_get(r.json, "config"), "version"), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "indicators")), 2);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&leader, "/api/v1/eval/indicators", &r), 200);
    assert_int_equal(gr_jint(json_object_get(r.json, "config"), "version"), 1);
    gr_resp_free(&r);
    gr_client_free(&admin);
    gr_client_free(&leader);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indicators),
        cmocka_unit_test(test_rankings_and_cases),
        cmocka_unit_test(test_configs),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
