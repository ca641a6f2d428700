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

#include <math.h>
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
    double district_close = -1, district_composite = -1;

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
    /* The composite is the weighted sum of the weighted indicators. */
    {
        json_t *x;
        size_t i;
        double sum = 0;
        assert_true(gr_jint(counters, "callbacks") > 0);
        json_array_foreach(json_object_get(r.json, "indicators"), i,
                           x) if (json_object_get(x, "weight")) sum +=
            json_real_value(json_object_get(x, "weight")) *
            json_real_value(json_object_get(x, "value"));
        assert_true(json_is_real(json_object_get(r.json, "composite")));
        assert_true(fabs(json_real_value(json_object_get(r.json, "composite")) - sum) < 1e-9);
        district_close = json_real_value(json_object_get(close_rate, "value"));
        district_composite = sum;
    }
    gr_resp_free(&r);
    /* The report says the same of the district. */
    assert_int_equal(gr_get(&leader, "/api/v1/eval/report?level=district&from=2000-01-01", &r),
                     200);
    {
        json_t *d = json_array_get(json_object_get(r.json, "items"), 0);
        assert_int_equal(gr_jint(d, "id"), district);
        assert_true(
            fabs(json_real_value(json_object_get(json_object_get(d, "values"), "close_rate")) -
                 district_close) < 1e-12);
        assert_true(fabs(json_real_value(json_object_get(d, "composite")) - district_composite) <
                    1e-12);
    }
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
    /* Posts: a member of staff, ranked among the posts of the district. */
    assert_int_equal(gr_get(&leader, "/api/v1/eval/rankings?level=post", &r), 200);
    assert_int_equal((int64_t)json_array_size(json_object_get(r.json, "items")),
                     gr_sql_int(&gr_srv, "SELECT count(*) FROM users u JOIN org_units o ON o.id = "
                                         "u.scope_org_id WHERE u.role != 'resident'"));
    gr_resp_free(&r);
    snprintf(
        path, sizeof(path), "/api/v1/eval/indicators?from=2000-01-01&user_id=%lld",
        (long long)gr_sql_int(&gr_srv, "SELECT id FROM users WHERE username = 'department_staff'"));
    assert_int_equal(gr_get(&leader, path, &r), 200);
    assert_string_equal(gr_jstr(json_object_get(r.json, "unit"), "kind"), "post");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/eval/indicators?user_id=%lld",
             (long long)gr_sql_int(&gr_srv, "SELECT id FROM users WHERE username = 'resident'"));
    gr_expect_problem(&leader, "GET", path, NULL, 400, "user_id");
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

static void test_recurring_and_topics(void **state)
{
    gr_client leader, worker, dispatcher;
    char body[1024], path[128];
    int64_t district = gr_scope_of("leader"), owner, resident, case1, cat, topic;
    gr_resp r;
    json_t *o;

    (void)state;
    gr_login_demo(&leader, "leader");
    assert_int_equal(gr_get(&leader, "/api/v1/eval/recurring", &r), 200);
    assert_true(json_is_array(json_object_get(r.json, "places")));
    assert_true(json_is_array(json_object_get(r.json, "trends")));
    assert_int_equal(gr_jint(r.json, "days"), 90);
    gr_resp_free(&r);
    gr_expect_problem(&leader, "GET", "/api/v1/eval/recurring?days=1", NULL, 400, "days");
    gr_expect_problem(&leader, "GET", "/api/v1/eval/recurring?department_id=1", NULL, 400,
                      "department_id");
    assert_int_equal(gr_get(&leader, "/api/v1/eval/hotspots?level=street&from=2000-01-01", &r),
                     200);
    assert_true(json_array_size(json_object_get(r.json, "items")) > 0);
    assert_true(gr_jint(json_array_get(json_object_get(r.json, "items"), 0), "cases") > 0);
    gr_resp_free(&r);
    gr_expect_problem(&leader, "GET", "/api/v1/eval/hotspots?level=planet", NULL, 400, "level");

    /* Adopting a topic: the leader names the cases, an owner and a plan. */
    owner = gr_sql_int(&gr_srv, "SELECT id FROM users WHERE username = 'community_worker'");
    resident = gr_sql_int(&gr_srv, "SELECT id FROM users WHERE username = 'resident'");
    case1 = gr_sql_int(&gr_srv, "SELECT min(id) FROM cases WHERE lat IS NOT NULL");
    cat = gr_sql_int(&gr_srv, "SELECT id FROM categories WHERE code = 'E0406'");
#define TOPIC(source, owner_id, cases)                                                               \
    snprintf(body, sizeof(body),                                                                     \
             "{\"title\":\"小区门口反复占道经营\",\"source\":\"%s\",\"category_id\":%lld," \
             "\"unit_id\":%lld,\"lat\":39.9,\"lon\":116.46,\"cases\":%s,\"owner_user_id\":%lld,"     \
             "\"plan\":\"设置疏导点，联合执法\"}",                                                   \
             source, (long long)cat, (long long)district, cases, (long long)(owner_id))
    snprintf(path, sizeof(path), "[%lld]", (long long)case1);
    TOPIC("gossip", owner, path);
    gr_expect_problem(&leader, "POST", "/api/v1/eval/topics", body, 400, "source");
    TOPIC("place", resident, path);
    gr_expect_problem(&leader, "POST", "/api/v1/eval/topics", body, 400, "owner_user_id");
    TOPIC("place", owner, "[99999999]");
    gr_expect_problem(&leader, "POST", "/api/v1/eval/topics", body, 400, "cases");
    TOPIC("place", owner, path);
    gr_login_demo(&dispatcher, "dispatcher");
    gr_expect_problem(&dispatcher, "POST", "/api/v1/eval/topics", body, 403, NULL);
    o = gr_post(&leader, "/api/v1/eval/topics", body, 201);
    topic = gr_jint(o, "id");
    json_decref(o);
    assert_true(topic > 0);

    /* Its owner reports progress; a done topic is at 100. */
    gr_login_demo(&worker, "community_worker");
    snprintf(path, sizeof(path), "/api/v1/eval/topics/%lld/progress", (long long)topic);
    gr_expect_problem(&worker, "POST", path, "{\"progress\":50,\"state\":\"done\",\"note\":\"x\"}",
                      400, "progress");
    gr_expect_problem(&dispatcher, "POST", path, "{\"progress\":50,\"note\":\"x\"}", 403, NULL);
    o = gr_post(&worker, path, "{\"progress\":40,\"note\":\"疏导点已设置\"}", 200);
    json_decref(o);
    assert_int_equal(gr_get(&leader, "/api/v1/eval/topics?state=open", &r), 200);
    o = json_array_get(json_object_get(r.json, "items"), 0);
    assert_int_equal(gr_jint(o, "id"), topic);
    assert_int_equal(gr_jint(o, "progress"), 40);
    assert_int_equal(gr_jint(o, "owner_user_id"), owner);
    gr_resp_free(&r);
    assert_int_equal(
        gr_sql_int(&gr_srv, "SELECT count(*) FROM eval_topic_notes WHERE note = '疏导点已设置'"),
        1);
    gr_expect_problem(&leader, "GET", "/api/v1/eval/topics?state=maybe", NULL, 400, "state");
    gr_client_free(&leader);
    gr_client_free(&worker);
    gr_client_free(&dispatcher);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indicators),
        cmocka_unit_test(test_rankings_and_cases),
        cmocka_unit_test(test_configs),
        cmocka_unit_test(test_recurring_and_topics),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
