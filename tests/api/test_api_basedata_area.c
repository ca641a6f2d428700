/* Areas over HTTP on the demo: a building with a house and two people in
 * the community worker's community; who lives in a circle (masked, no ID
 * number, no phone); counts of the community; refusals naming the field (no
 * area, two areas, a radius over 5 km, a bad polygon, a unit outside the
 * worker's scope); statistics; the emergency view for a drawn polygon (a
 * purpose required, department staff refused, an audit entry
 * "emergency.view" per call); the tallies behind the counts after writes
 * through the API. ID numbers: the public example of
 * china_standards.md §4.1 and a synthetic one (its check character computed). */
#include "harness.h"
#include "tally_check.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

static int64_t community, person1, person2;
static double lat0, lon0;

static int setup(void **state)
{
    gr_client steward;
    char body[512];
    int64_t b, h;

    gr_setup_demo(state);
    community = gr_scope_of("community_worker");
    gr_login_demo(&steward, "data_steward");
    gr_grid_point(&steward, community, 1, &lat0, &lon0);
    snprintf(body, sizeof(body),
             "{\"district\":\"朝阳区\",\"street\":\"建外街道\",\"road\":\"建国路\","
             "\"house_number\":\"99号\",\"building\":\"1号楼\",\"lat\":%.7f,\"lon\":%.7f,"
             "\"floors\":6,\"use\":\"residential\"}",
             lat0, lon0);
    b = gr_create(&steward, "/api/v1/basedata/buildings", body);
    snprintf(body, sizeof(body),
             "{\"building_id\":%lld,\"unit\":\"1单元\",\"floor\":1,\"room\":\"101\","
             "\"ownership\":\"private\",\"use\":\"residential\",\"occupancy\":\"occupied\"}",
             (long long)b);
    h = gr_create(&steward, "/api/v1/basedata/houses", body);
    snprintf(body, sizeof(body),
             "{\"name\":\"张三\",\"id_number\":\"11010519491231002X\",\"phone\":\"13800138000\","
             "\"residency\":\"registered\",\"house_id\":%lld,\"relation\":\"householder\","
             "\"care_tags\":[\"elderly_alone\"]}",
             (long long)h);
    person1 = gr_create(&steward, "/api/v1/basedata/people", body);
    snprintf(body, sizeof(body),
             "{\"name\":\"李四\",\"id_number\":\"110105199003070017\",\"residency\":"
             "\"floating\",\"permit_start\":\"2026-01-01\",\"permit_end\":\"2027-01-01\","
             "\"house_id\":%lld,\"relation\":\"tenant\"}",
             (long long)h);
    person2 = gr_create(&steward, "/api/v1/basedata/people", body);
    gr_client_free(&steward);
    return 0;
}

static void test_area_people_and_summary(void **state)
{
    gr_client worker;
    gr_resp r;
    json_t *items, *p, *pop;
    char path[256];
    size_t i;

    (void)state;
    gr_login_demo(&worker, "community_worker");
    snprintf(path, sizeof(path), "/api/v1/basedata/area/people?near=%.7f,%.7f&radius=50", lat0,
             lon0);
    assert_int_equal(gr_get(&worker, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    json_array_foreach(items, i, p)
    {
        assert_null(json_object_get(p, "id_number"));
        assert_null(json_object_get(p, "phone"));
        assert_true(json_is_true(json_object_get(p, "masked")));
    }
    assert_string_equal(gr_jstr(json_array_get(items, 0), "name"), "张*");
    gr_resp_free(&r);

    snprintf(path, sizeof(path), "/api/v1/basedata/area/summary?unit_id=%lld",
             (long long)community);
    assert_int_equal(gr_get(&worker, path, &r), 200);
    pop = json_object_get(r.json, "population");
    assert_int_equal(gr_jint(pop, "total"), 2);
    assert_int_equal(gr_jint(json_object_get(pop, "by_residency"), "floating"), 1);
    assert_int_equal(gr_jint(json_object_get(pop, "by_age_band"), "60-79"), 1);
    assert_int_equal(gr_jint(json_object_get(pop, "by_care_tag"), "elderly_alone"), 1);
    assert_int_equal(gr_jint(json_object_get(r.json, "houses"), "occupied"), 1);
    gr_resp_free(&r);
    /* No area: the worker's scope, the same counts. */
    assert_int_equal(gr_get(&worker, "/api/v1/basedata/area/summary", &r), 200);
    assert_int_equal(gr_jint(json_object_get(r.json, "population"), "total"), 2);
    gr_resp_free(&r);
    gr_client_free(&worker);
}

static void test_bad_areas(void **state)
{
    gr_client worker, steward;
    char path[256];
    int64_t other;

    (void)state;
    gr_login_demo(&worker, "community_worker");
    gr_login_demo(&steward, "data_steward");
    gr_expect_problem(&worker, "GET", "/api/v1/basedata/area/people", NULL, 400, "area");
    gr_expect_problem(&worker, "GET", "/api/v1/basedata/area/people?near=39.9,116.4&unit_id=1",
                      NULL, 400, "area");
    gr_expect_problem(&worker, "GET", "/api/v1/basedata/area/people?near=39.9,116.4&radius=6000",
                      NULL, 400, "radius");
    gr_expect_problem(&worker, "GET", "/api/v1/basedata/area/people?near=39.9&radius=100", NULL,
                      400, "near");
    gr_expect_problem(&worker, "GET",
                      "/api/v1/basedata/area/people?polygon=%7B%22type%22%3A%22Point%22%7D", NULL,
                      400, "polygon");
    gr_expect_problem(&worker, "GET",
                      "/api/v1/basedata/area/summary?near=39.9,116.4&radius=10&crs=mars", NULL, 400,
                      "crs");
    other = gr_sql_int(&gr_srv, "SELECT id FROM org_units WHERE kind = 'community' ORDER BY id "
                                "DESC LIMIT 1");
    if (other == community)
        other = gr_sql_int(&gr_srv, "SELECT id FROM org_units WHERE kind = 'community' ORDER "
                                    "BY id LIMIT 1");
    snprintf(path, sizeof(path), "/api/v1/basedata/area/summary?unit_id=%lld", (long long)other);
    gr_expect_problem(&worker, "GET", path, NULL, 403, "unit_id");
    snprintf(path, sizeof(path), "/api/v1/basedata/stats?unit_id=%lld", (long long)other);
    gr_expect_problem(&worker, "GET", path, NULL, 403, "unit_id");
    /* Far away: outside the worker's community. */
    gr_expect_problem(&worker, "GET", "/api/v1/basedata/area/people?near=10,10&radius=100", NULL,
                      403, "near");
    gr_client_free(&worker);
    gr_client_free(&steward);
}

static void test_stats(void **state)
{
    gr_client leader;
    gr_resp r;
    char path[128];

    (void)state;
    gr_login_demo(&leader, "leader");
    snprintf(path, sizeof(path), "/api/v1/basedata/stats?unit_id=%lld", (long long)community);
    assert_int_equal(gr_get(&leader, path, &r), 200);
    assert_int_equal(gr_jint(r.json, "population"), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "pyramid")), 21);
    assert_int_equal(gr_jint(json_object_get(r.json, "floating"), "count"), 1);
    assert_true(json_real_value(json_object_get(json_object_get(r.json, "floating"), "share")) ==
                0.5);
    gr_resp_free(&r);
    gr_client_free(&leader);
}

static void test_emergency(void **state)
{
    gr_client steward, dept, worker;
    gr_resp r;
    char body[1024], poly[512];
    json_t *v;
    int64_t before;
    double d = 0.0005;

    (void)state;
    gr_login_demo(&steward, "data_steward");
    gr_login_demo(&dept, "department_staff");
    gr_login_demo(&worker, "community_worker");
    snprintf(poly, sizeof(poly),
             "{\"type\":\"Polygon\",\"coordinates\":[[[%.7f,%.7f],[%.7f,%.7f],[%.7f,%.7f],"
             "[%.7f,%.7f],[%.7f,%.7f]]]}",
             lon0 - d, lat0 - d, lon0 + d, lat0 - d, lon0 + d, lat0 + d, lon0 - d, lat0 + d,
             lon0 - d, lat0 - d);
    before = gr_sql_int(&gr_srv, "SELECT count(*) FROM audit_log WHERE action = 'emergency.view'");

    snprintf(body, sizeof(body), "{\"area\":%s}", poly);
    gr_expect_problem(&steward, "POST", "/api/v1/basedata/emergency", body, 400, "purpose");
    snprintf(body, sizeof(body), "{\"area\":%s,\"purpose\":\"flood drill\"}", poly);
    gr_expect_problem(&dept, "POST", "/api/v1/basedata/emergency", body, 403, NULL);
    gr_expect_problem(&steward, "POST", "/api/v1/basedata/emergency",
                      "{\"area\":{\"type\":\"Polygon\",\"coordinates\":[]},\"purpose\":\"x\"}", 400,
                      "area");
    gr_expect_problem(&steward, "POST", "/api/v1/basedata/emergency",
                      "{\"lat\":39.9,\"lon\":116.4,\"radius\":9000,\"purpose\":\"x\"}", 400,
                      "radius");
    assert_int_equal(
        gr_sql_int(&gr_srv, "SELECT count(*) FROM audit_log WHERE action = 'emergency.view'"),
        before);

    assert_int_equal(gr_request(&worker, "POST", "/api/v1/basedata/emergency", NULL, body, &r),
                     200);
    assert_int_equal(gr_jint(json_object_get(json_object_get(r.json, "head_count"), "by_residency"),
                             "registered"),
                     1);
    assert_int_equal(gr_jint(json_object_get(r.json, "head_count"), "total"), 2);
    v = json_object_get(json_object_get(r.json, "vulnerable"), "items");
    assert_int_equal(json_array_size(v), 1);
    assert_string_equal(gr_jstr(json_array_get(v, 0), "name"), "张*");
    assert_null(json_object_get(json_array_get(v, 0), "id_number"));
    assert_null(json_object_get(json_array_get(v, 0), "phone"));
    assert_string_equal(gr_jstr(json_object_get(json_array_get(v, 0), "house"), "room"), "101");
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(r.json, "buildings"), "items")), 1);
    assert_int_equal(gr_jint(json_object_get(r.json, "shelters"), "capacity"), 0);
    gr_resp_free(&r);
    assert_int_equal(
        gr_sql_int(&gr_srv, "SELECT count(*) FROM audit_log WHERE action = 'emergency.view' AND "
                            "purpose = 'flood drill' AND entity = 'area'"),
        before + 1);
    gr_client_free(&steward);
    gr_client_free(&dept);
    gr_client_free(&worker);
}

/* Writes through the API (a care tag and residency changed, a person
 * retired) move the tallies the counts of a unit are read from. */
static void test_tallies_follow_writes(void **state)
{
    gr_client steward, worker;
    gr_resp r;
    json_t *pop;
    char path[256];
    const char *sql;
    int k;

    (void)state;
    gr_login_demo(&steward, "data_steward");
    gr_login_demo(&worker, "community_worker");
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld", (long long)person2);
    assert_int_equal(gr_request(&steward, "PATCH", path, NULL,
                                "{\"version\":1,\"care_tags\":[\"disabled\"],\"residency\":"
                                "\"permanent\"}",
                                &r),
                     200);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld/retire", (long long)person1);
    assert_int_equal(gr_request(&steward, "POST", path, NULL, "{\"version\":1}", &r), 200);
    gr_resp_free(&r);

    snprintf(path, sizeof(path), "/api/v1/basedata/area/summary?unit_id=%lld",
             (long long)community);
    assert_int_equal(gr_get(&worker, path, &r), 200);
    pop = json_object_get(r.json, "population");
    assert_int_equal(gr_jint(pop, "total"), 1);
    assert_int_equal(gr_jint(json_object_get(pop, "by_residency"), "floating"), 0);
    assert_int_equal(gr_jint(json_object_get(pop, "by_residency"), "permanent"), 1);
    assert_int_equal(gr_jint(json_object_get(pop, "by_care_tag"), "elderly_alone"), 0);
    assert_int_equal(gr_jint(json_object_get(pop, "by_care_tag"), "disabled"), 1);
    assert_int_equal(gr_jint(json_object_get(r.json, "houses"), "occupied"), 1);
    gr_resp_free(&r);

    for (k = 0; (sql = gr_tally_check_sql(k)) != NULL; k++)
        assert_int_equal(gr_sql_int(&gr_srv, sql), 0);
    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM bd_tag_tally WHERE n <> 0"), 5);

    /* Rows changed by hand leave the tallies behind; the rebuild command
     * counts them anew. */
    {
        static const char *const args[] = {"tally", "rebuild", NULL};
        char out[512];

        gr_sql_int(&gr_srv, "UPDATE bd_pop_tally SET n = n + 3; DELETE FROM bd_house_tally");
        assert_true(gr_sql_int(&gr_srv, gr_tally_check_sql(0)) > 0);
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), args), 0);
        assert_non_null(strstr(out, "area tallies rebuilt"));
        for (k = 0; (sql = gr_tally_check_sql(k)) != NULL; k++)
            assert_int_equal(gr_sql_int(&gr_srv, sql), 0);
    }
    gr_client_free(&steward);
    gr_client_free(&worker);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_area_people_and_summary),
        cmocka_unit_test(test_bad_areas),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_emergency),
        cmocka_unit_test(test_tallies_follow_writes),
    };
    return cmocka_run_group_tests(tests, setup, gr_teardown_server);
}
