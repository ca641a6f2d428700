/* Base data over HTTP on the demo: a building, a house and a person created
 * by the data steward; masked lists; a reveal with a purpose that lands in
 * the audit log; reveals refused without a purpose or for department staff
 * (who see no ID number and no phone at all); the community worker's scope;
 * ID number refusals naming the reason; versions, history and prefill. The
 * ID numbers are the public examples of china_standards.md §4.1. */
#include "harness.h"
#include "id_number.h"
#include "tally_check.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ID1 = "11010519491231002X";
static const char *const ID2 = "440524188001010014";

static char *building_body(const char *number, double lat, double lon)
{
    static char body[512];

    snprintf(body, sizeof(body),
             "{\"district\":\"朝阳区\",\"street\":\"建外街道\",\"road\":\"建国路\","
             "\"house_number\":\"%s\",\"building\":\"2号楼\",\"lat\":%.7f,\"lon\":%.7f,"
             "\"floors\":6,\"use\":\"residential\"}",
             number, lat, lon);
    return body;
}

static void test_people_end_to_end(void **state)
{
    int64_t community = gr_scope_of("community_worker"), b, h, p, out_b;
    double ilat, ilon, olat, olon;
    gr_client steward, dept, worker, auditor;
    char path[256], body[512];
    gr_resp r;
    json_t *items;

    (void)state;
    gr_login_demo(&steward, "data_steward");
    gr_login_demo(&dept, "department_staff");
    gr_login_demo(&worker, "community_worker");
    gr_login_demo(&auditor, "auditor");
    gr_grid_point(&steward, community, 1, &ilat, &ilon);
    gr_grid_point(&steward, community, 0, &olat, &olon);

    b = gr_create(&steward, "/api/v1/basedata/buildings", building_body("88号", ilat, ilon));
    snprintf(body, sizeof(body),
             "{\"building_id\":%lld,\"unit\":\"1单元\",\"floor\":2,\"room\":\"201\","
             "\"area_m2\":75.5,\"ownership\":\"private\"}",
             (long long)b);
    h = gr_create(&steward, "/api/v1/basedata/houses", body);
    snprintf(body, sizeof(body),
             "{\"name\":\"张三\",\"id_number\":\"%s\",\"phone\":\"13800138000\","
             "\"residency\":\"registered\",\"house_id\":%lld,\"relation\":\"householder\","
             "\"care_tags\":[\"elderly_alone\"]}",
             ID1, (long long)h);
    assert_int_equal(gr_request(&steward, "POST", "/api/v1/basedata/people", NULL, body, &r), 201);
    p = gr_jint(r.json, "id");
    assert_string_equal(gr_jstr(r.json, "name"), "张*");
    assert_string_equal(gr_jstr(r.json, "id_number"), "110105********002X");
    assert_string_equal(gr_jstr(r.json, "phone"), "138****8000");
    assert_string_equal(gr_jstr(r.json, "birth_date"), "1949-12-31");
    assert_int_equal(gr_jint(r.json, "version"), 1);
    gr_resp_free(&r);

    /* The same ID number twice. */
    snprintf(body, sizeof(body),
             "{\"name\":\"张四\",\"id_number\":\"%s\",\"residency\":\"registered\","
             "\"house_id\":%lld}",
             ID1, (long long)h);
    gr_expect_problem(&steward, "POST", "/api/v1/basedata/people", body, 409, "id_number");
    /* A bad check character, with the reason. */
    snprintf(body, sizeof(body),
             "{\"name\":\"张四\",\"id_number\":\"110105194912310021\",\"residency\":"
             "\"registered\",\"house_id\":%lld}",
             (long long)h);
    assert_int_equal(gr_request(&steward, "POST", "/api/v1/basedata/people", NULL, body, &r), 400);
    gr_assert_problem(&r, 400, "id_number");
    assert_non_null(strstr(r.body, "checksum"));
    gr_resp_free(&r);

    /* Lists are masked: no full value anywhere in the answer. */
    snprintf(path, sizeof(path), "/api/v1/basedata/people?house_id=%lld", (long long)h);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(gr_jstr(json_array_get(items, 0), "name"), "张*");
    assert_null(strstr(r.body, ID1));
    assert_null(strstr(r.body, "13800138000"));
    gr_resp_free(&r);
    /* Exact lookup by ID number (blind index) and by name. */
    snprintf(path, sizeof(path), "/api/v1/basedata/people?id_number=%s", ID1);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/basedata/people?id_number=%s", ID2);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, "/api/v1/basedata/people?care_tag=elderly_alone", &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 1);
    gr_resp_free(&r);

    /* Reveal with a purpose: full values, and an audit entry. */
    snprintf(path, sizeof(path),
             "/api/v1/basedata/people/%lld?reveal=name,id_number&purpose=identity-check",
             (long long)p);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    assert_string_equal(gr_jstr(r.json, "id_number"), ID1);
    assert_string_equal(gr_jstr(r.json, "name"), "张三");
    assert_string_equal(gr_jstr(r.json, "phone"), "138****8000");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/audit?entity=person&entity_id=%lld&action=reveal",
             (long long)p);
    assert_int_equal(gr_get(&auditor, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(gr_jstr(json_array_get(items, 0), "purpose"), "identity-check");
    {
        json_t *f = json_object_get(json_array_get(items, 0), "fields");
        assert_int_equal(json_array_size(f), 2);
        assert_string_equal(json_string_value(json_array_get(f, 0)), "name");
        assert_string_equal(json_string_value(json_array_get(f, 1)), "id_number");
    }
    gr_resp_free(&r);
    /* Without a purpose: 400; by department staff: 403. */
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld?reveal=id_number", (long long)p);
    gr_expect_problem(&steward, "GET", path, NULL, 400, "purpose");
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld?reveal=id_number&purpose=x",
             (long long)p);
    gr_expect_problem(&dept, "GET", path, NULL, 403, "reveal");
    /* Department staff see neither ID number nor phone, not even masked. */
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld", (long long)p);
    assert_int_equal(gr_get(&dept, path, &r), 200);
    assert_null(json_object_get(r.json, "id_number"));
    assert_null(json_object_get(r.json, "phone"));
    assert_string_equal(gr_jstr(r.json, "name"), "张*");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/basedata/people?id_number=%s", ID1);
    gr_expect_problem(&dept, "GET", path, NULL, 403, "id_number");

    /* The community worker: nothing outside the community. */
    gr_expect_problem(&worker, "POST", "/api/v1/basedata/buildings",
                      building_body("89号", olat, olon), 403, "id");
    out_b = gr_create(&steward, "/api/v1/basedata/buildings", building_body("90号", olat, olon));
    assert_int_equal(gr_get(&worker, "/api/v1/basedata/buildings?limit=100", &r), 200);
    {
        json_t *it;
        size_t i;
        int seen_in = 0;
        json_array_foreach(json_object_get(r.json, "items"), i, it)
        {
            assert_int_not_equal(gr_jint(it, "id"), out_b);
            seen_in |= gr_jint(it, "id") == b;
        }
        assert_true(seen_in);
    }
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/basedata/buildings/%lld", (long long)out_b);
    gr_expect_problem(&worker, "PATCH", path, "{\"version\":1,\"floors\":3}", 403, "id");
    gr_expect_problem(&worker, "GET", path, NULL, 403, "id");
    /* ... and may reveal within it. */
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld?reveal=phone&purpose=visit",
             (long long)p);
    assert_int_equal(gr_get(&worker, path, &r), 200);
    assert_string_equal(gr_jstr(r.json, "phone"), "13800138000");
    gr_resp_free(&r);

    /* Versions and history. */
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld", (long long)p);
    assert_int_equal(gr_request(&worker, "PATCH", path, NULL,
                                "{\"version\":1,\"phone\":\"13900139000\",\"residency\":"
                                "\"permanent\"}",
                                &r),
                     200);
    assert_int_equal(gr_jint(r.json, "version"), 2);
    assert_string_equal(gr_jstr(r.json, "phone"), "139****9000");
    gr_resp_free(&r);
    gr_expect_problem(&worker, "PATCH", path, "{\"version\":1,\"ethnicity\":\"汉族\"}", 409,
                      "version");
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld/history", (long long)p);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    {
        json_t *ch = json_object_get(json_array_get(items, 1), "changes");
        assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "phone"), 0)),
                            "(encrypted)");
        assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "residency"), 1)),
                            "permanent");
        assert_string_equal(gr_jstr(json_array_get(items, 1), "actor_role"), "community_worker");
    }
    assert_null(strstr(r.body, "13900139000"));
    gr_resp_free(&r);

    /* Who lives there, and prefill by reference. */
    snprintf(path, sizeof(path), "/api/v1/basedata/buildings/%lld/people", (long long)b);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/basedata/prefill?person_id=%lld", (long long)p);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    assert_int_equal(gr_jint(r.json, "house_id"), h);
    assert_int_equal(gr_jint(r.json, "building_id"), b);
    assert_non_null(strstr(gr_jstr(r.json, "address"), "建国路88号"));
    assert_int_equal(json_array_size(json_object_get(r.json, "household")), 1);
    gr_resp_free(&r);
    gr_expect_problem(&steward, "GET", "/api/v1/basedata/prefill", NULL, 400, "person_id");

    /* Retire: a house with people stays; the person goes, with history. */
    snprintf(path, sizeof(path), "/api/v1/basedata/houses/%lld/retire", (long long)h);
    gr_expect_problem(&steward, "POST", path, "{\"version\":1}", 409, "id");
    snprintf(path, sizeof(path), "/api/v1/basedata/people/%lld/retire", (long long)p);
    assert_int_equal(gr_request(&steward, "POST", path, NULL, "{\"version\":2}", &r), 200);
    assert_int_equal(gr_jint(r.json, "version"), 3);
    assert_non_null(gr_jstr(r.json, "retired_at"));
    gr_resp_free(&r);

    gr_client_free(&steward);
    gr_client_free(&dept);
    gr_client_free(&worker);
    gr_client_free(&auditor);
}

static void test_bad_bodies(void **state)
{
    gr_client c;

    (void)state;
    gr_login_demo(&c, "data_steward");
    gr_expect_problem(&c, "POST", "/api/v1/basedata/buildings", "{\"district\":\"x\",\"zz\":1}",
                      400, "zz");
    gr_expect_problem(&c, "POST", "/api/v1/basedata/buildings", building_body("1号", 10.0, 10.0),
                      400, "lat");
    gr_expect_problem(&c, "POST", "/api/v1/basedata/houses", "{\"room\":\"1\"}", 400, "ownership");
    gr_expect_problem(&c, "GET", "/api/v1/basedata/people?residency=tourist", NULL, 400,
                      "residency");
    gr_expect_problem(&c, "GET", "/api/v1/basedata/people/999999", NULL, 404, "id");
    gr_client_free(&c);
}

/* The rows of the CLI import test: more than the first batch of the command
 * (BD_IMPORT_BULK / 64), so that one batch is written while the next is read. */
#define CLI_ROWS 1700

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

/* `grassroots import ENTITY FILE --report REPORT`: its exit status and the
 * counts it prints. */
static void cli_import(const char *entity, const char *file, const char *report, int status,
                       const char *counts)
{
    const char *args[] = {"import", entity, file, "--report", report, NULL};
    char out[1024];

    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), args), status);
    if (!strstr(out, counts))
        fail_msg("import %s printed \"%s\", not \"%s\"", entity, out, counts);
}

/* `grassroots import` of buildings, houses and people, run by an operator
 * while the server serves the same database: every good row stored, the
 * bad one reported by line and column, the tallies exact, the server seeing
 * the people at once, and the same files again change nothing. */
static void test_cli_import(void **state)
{
    int64_t community = gr_scope_of("community_worker"), b;
    char bpath[512], hpath[512], ppath[512], rpath[512], out[2048], row[256], id[19], d17[18];
    const char *const cols = "district,street,road,house_number,building";
    const char *const addr = "朝阳区,建外街道,导入路,1号,1号楼";
    size_t cap = 256 * (CLI_ROWS + 2);
    char *houses = malloc(cap), *people = malloc(cap), *rep;
    gr_client steward;
    double lat, lon;
    gr_resp r;
    FILE *f;
    int i, k;

    (void)state;
    assert_non_null(houses);
    assert_non_null(people);
    gr_login_demo(&steward, "data_steward");
    gr_grid_point(&steward, community, 1, &lat, &lon);
    snprintf(bpath, sizeof(bpath), "%s/import-buildings.csv", gr_srv.dir);
    snprintf(hpath, sizeof(hpath), "%s/import-houses.csv", gr_srv.dir);
    snprintf(ppath, sizeof(ppath), "%s/import-people.csv", gr_srv.dir);
    snprintf(rpath, sizeof(rpath), "%s/import-report.csv", gr_srv.dir);
    snprintf(out, sizeof(out), "%s,lat,lon,floors,use\n%s,%.7f,%.7f,30,residential\n", cols, addr,
             lat, lon);
    write_file(bpath, out);
    snprintf(houses, cap, "%s,unit,floor,room,area_m2,ownership\n", cols);
    snprintf(people, cap, "%s,unit,room,name,id_number,residency\n", cols);
    for (i = 0; i < CLI_ROWS; i++) {
        snprintf(row, sizeof(row), "%s,1单元,%d,R%04d,60.5,private\n", addr, i % 30 + 1, i);
        strcat(houses, row);
        /* A birth date of its own for each row: no two share an ID number. */
        snprintf(d17, sizeof(d17), "110105%04d%02d%02d001", 1950 + i % 50, 1 + i / 50 % 12,
                 1 + i / 600);
        gr_test_id_number(d17, id);
        snprintf(row, sizeof(row), "%s,1单元,R%04d,测试居民,%s,registered\n", addr, i, id);
        strcat(people, row);
    }
    /* Line CLI_ROWS + 2: a wrong check character. */
    id[17] = id[17] == '0' ? '1' : '0';
    snprintf(row, sizeof(row), "%s,1单元,R0000,测试居民,%s,registered\n", addr, id);
    strcat(people, row);
    write_file(hpath, houses);
    write_file(ppath, people);

    cli_import("buildings", bpath, rpath, 0, "1 rows: 1 stored, 0 unchanged, 0 bad");
    snprintf(row, sizeof(row), "%d rows: %d stored, 0 unchanged, 0 bad", CLI_ROWS, CLI_ROWS);
    cli_import("houses", hpath, rpath, 0, row);
    snprintf(row, sizeof(row), "%d rows: %d stored, 0 unchanged, 1 bad", CLI_ROWS + 1, CLI_ROWS);
    cli_import("people", ppath, rpath, 1, row);
    f = fopen(rpath, "r");
    assert_non_null(f);
    rep = fgets(out, sizeof(out), f) ? fgets(out, sizeof(out), f) : NULL;
    fclose(f);
    assert_non_null(rep);
    snprintf(row, sizeof(row), "%d,id_number,", CLI_ROWS + 2);
    assert_int_equal(strncmp(out, row, strlen(row)), 0);

    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM bd_people p JOIN bd_houses h ON "
                                         "h.id = p.house_id JOIN bd_buildings b ON b.id = "
                                         "h.building_id WHERE b.road = '导入路'"),
                     CLI_ROWS);
    for (k = 0; gr_tally_check_sql(k); k++)
        assert_int_equal(gr_sql_int(&gr_srv, gr_tally_check_sql(k)), 0);
    /* The running server reads them. */
    b = gr_sql_int(&gr_srv, "SELECT id FROM bd_buildings WHERE road = '导入路'");
    snprintf(row, sizeof(row), "/api/v1/basedata/buildings/%lld/people", (long long)b);
    assert_int_equal(gr_get(&steward, row, &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) > 0);
    gr_resp_free(&r);

    /* Again: nothing changes. */
    snprintf(row, sizeof(row), "%d rows: 0 stored, %d unchanged, 0 bad", CLI_ROWS, CLI_ROWS);
    cli_import("houses", hpath, rpath, 0, row);
    snprintf(row, sizeof(row), "%d rows: 0 stored, %d unchanged, 1 bad", CLI_ROWS + 1, CLI_ROWS);
    cli_import("people", ppath, rpath, 1, row);
    free(houses);
    free(people);
    gr_client_free(&steward);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_people_end_to_end),
        cmocka_unit_test(test_bad_bodies),
        cmocka_unit_test(test_cli_import),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
