/* Organisations, facilities and underground spaces over HTTP on the demo:
 * create, read, list with filters and areas, PATCH with versions (409 when
 * stale), duplicates refused with 409 naming the natural key, the credit-code
 * vectors of the issue (91350100M000100Y43 and failing neighbours), the
 * community worker's scope (403 outside it), history, retire, export within
 * scope (CSV and GeoJSON, masked values only) and the HTTP import. Every
 * code and name is synthetic or the public example of china_standards.md §4.2. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#define ORGS   "/api/v1/basedata/orgs"
#define FACS   "/api/v1/basedata/facilities"
#define SPACES "/api/v1/basedata/spaces"

static int64_t community;
static double ilat, ilon, olat, olon; /* a grid inside and one outside the community */

static char *org_body(const char *uscc, const char *name, double lat, double lon)
{
    static char body[512];

    snprintf(body, sizeof(body),
             "{\"uscc\":\"%s\",\"name\":\"%s\",\"type\":\"企业\",\"legal_rep\":\"张三\","
             "\"industry\":\"软件\",\"employees\":12,\"lat\":%.7f,\"lon\":%.7f}",
             uscc, name, lat, lon);
    return body;
}

/* The reason of the first error of a problem answer. */
static void expect_reason(gr_client *c, const char *path, const char *body, const char *field,
                          const char *reason_part)
{
    gr_resp r;
    const char *reason;

    gr_request(c, "POST", path, NULL, body, &r);
    gr_assert_problem(&r, 400, field);
    reason = gr_jstr(json_array_get(json_object_get(r.json, "errors"), 0), "reason");
    if (!reason || !strstr(reason, reason_part))
        fail_msg("%s: reason '%s' lacks '%s'", field, reason ? reason : "", reason_part);
    gr_resp_free(&r);
}

static void test_orgs(void **state)
{
    gr_client steward, worker, dept, resident, anon;
    char path[256], body[512];
    json_t *o, *items;
    int64_t id, out_id, legacy_id;
    gr_resp r;

    (void)state;
    gr_login_demo(&steward, "data_steward");
    gr_login_demo(&worker, "community_worker");
    gr_login_demo(&dept, "department_staff");
    gr_login_demo(&resident, "resident");
    gr_client_init(&anon, &gr_srv);

    /* The public example: created, located, the legal representative masked. */
    o = gr_post(&steward, ORGS, org_body("91350100M000100Y43", "示例科技有限公司", ilat, ilon),
                201);
    id = gr_jint(o, "id");
    assert_string_equal(gr_jstr(o, "uscc"), "91350100M000100Y43");
    assert_string_equal(gr_jstr(o, "type"), "enterprise");
    assert_string_equal(gr_jstr(o, "legal_rep"), "张*");
    assert_true(json_is_false(json_object_get(o, "uscc_legacy")));
    assert_int_equal(gr_jint(o, "community_id"), community);
    assert_int_equal(gr_jint(o, "version"), 1);
    assert_string_equal(gr_jstr(o, "source"), "collected");
    json_decref(o);
    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM bd_orgs WHERE "
                                         "instr(legal_rep_enc, CAST('张三' AS BLOB)) > 0"),
                     0);

    /* Duplicates by the natural key (a lower-case code is the same code). */
    gr_request(&steward, "POST", ORGS, NULL, org_body("91350100M000100Y43", "另一公司", ilat, ilon),
               &r);
    gr_assert_problem(&r, 409, "uscc");
    gr_resp_free(&r);
    gr_request(&steward, "POST", ORGS, NULL, org_body("91350100m000100y43", "另一公司", ilat, ilon),
               &r);
    gr_assert_problem(&r, 409, "uscc");
    gr_resp_free(&r);

    /* The failing neighbours of the vector, each with its reason. */
    expect_reason(&steward, ORGS, org_body("91350100M000100Y44", "甲", ilat, ilon), "uscc",
                  "checksum: the check character should be 3, not 4");
    expect_reason(&steward, ORGS, org_body("91350100M000100Y4", "甲", ilat, ilon), "uscc",
                  "must be 18 characters long");
    expect_reason(&steward, ORGS, org_body("91350100M000100I43", "甲", ilat, ilon), "uscc",
                  "character 16 is not allowed");
    expect_reason(&steward, ORGS, org_body("9Z350100M000100Y43", "甲", ilat, ilon), "uscc",
                  "character 2 is not allowed");
    expect_reason(&steward, ORGS, org_body("11035010000012A", "甲", ilat, ilon), "uscc",
                  "legacy registration number must be all digits");
    expect_reason(&steward, ORGS,
                  "{\"uscc\":\"91350100M000100Y43\",\"name\":\"甲\",\"type\":\"合伙企业\"}", "type",
                  "must be one of enterprise");
    expect_reason(&steward, ORGS,
                  "{\"uscc\":\"91350100M000100Y43\",\"name\":\"甲\",\"type\":\"企业\","
                  "\"colour\":\"red\"}",
                  "colour", "is not a field of orgs");
    expect_reason(&steward, ORGS, "{\"name\":\"甲\",\"type\":\"企业\"}", "uscc", "is required");

    /* A legacy 15-digit number is accepted as such and flagged. */
    o = gr_post(&steward, ORGS,
                "{\"uscc\":\"110105000012345\",\"name\":\"旧照公司\",\"type\":\"个体工商户\"}",
                201);
    legacy_id = gr_jint(o, "id");
    assert_true(json_is_true(json_object_get(o, "uscc_legacy")));
    assert_string_equal(gr_jstr(o, "type"), "individual");
    /* No place: the chain is the steward unit's (the data steward's district). */
    assert_int_equal(gr_jint(o, "steward_org_id"), gr_scope_of("data_steward"));
    json_decref(o);

    /* The community worker: inside their community yes, outside 403. */
    snprintf(body, sizeof(body), "%s", org_body("110105000099999", "外区公司", olat, olon));
    gr_request(&worker, "POST", ORGS, NULL, body, &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
    o = gr_post(&steward, ORGS, body, 201);
    out_id = gr_jint(o, "id");
    json_decref(o);
    snprintf(path, sizeof(path), ORGS "/%lld", (long long)out_id);
    assert_int_equal(gr_get(&worker, path, &r), 403);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    gr_resp_free(&r);
    /* Department staff read; residents and nobody do not. */
    assert_int_equal(gr_get(&dept, ORGS, &r), 200);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&resident, ORGS, &r), 403);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&anon, ORGS, &r), 401);
    gr_resp_free(&r);

    /* Lists: scope, filters, areas. */
    assert_int_equal(gr_get(&worker, ORGS, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(gr_jint(json_array_get(items, 0), "id"), id);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, ORGS "?type=individual", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), ORGS "?near=%.7f,%.7f&radius=50", ilat, ilon);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(gr_jint(json_array_get(items, 0), "id"), id);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), ORGS "?bbox=%.7f,%.7f,%.7f,%.7f", olon - 0.0001, olat - 0.0001,
             olon + 0.0001, olat + 0.0001);
    assert_int_equal(gr_get(&steward, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(gr_jint(json_array_get(items, 0), "id"), out_id);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, ORGS "?limit=1", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    assert_int_equal(gr_jint(r.json, "next_after"), id);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, ORGS "?kind=garage", &r), 400);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, ORGS "?bbox=1,2,3", &r), 400);
    gr_resp_free(&r);

    /* PATCH with the version read; a stale version is 409. */
    snprintf(path, sizeof(path), ORGS "/%lld", (long long)id);
    assert_int_equal(
        gr_request(&worker, "PATCH", path, NULL, "{\"version\":1,\"employees\":30}", &r), 200);
    assert_int_equal(gr_jint(r.json, "version"), 2);
    assert_int_equal(gr_jint(r.json, "employees"), 30);
    gr_resp_free(&r);
    assert_int_equal(
        gr_request(&worker, "PATCH", path, NULL, "{\"version\":1,\"employees\":31}", &r), 409);
    gr_assert_problem(&r, 409, "version");
    gr_resp_free(&r);
    assert_int_equal(
        gr_request(&worker, "PATCH", path, NULL, "{\"version\":2,\"legal_rep\":\"欧阳娜娜\"}", &r),
        200);
    assert_string_equal(gr_jstr(r.json, "legal_rep"), "欧***");
    gr_resp_free(&r);
    /* The same values again: no new version. */
    assert_int_equal(
        gr_request(&worker, "PATCH", path, NULL, "{\"version\":3,\"employees\":30}", &r), 200);
    assert_int_equal(gr_jint(r.json, "version"), 3);
    gr_resp_free(&r);

    /* History: create, employees, the sealed field shown as encrypted. */
    snprintf(path, sizeof(path), ORGS "/%lld/history", (long long)id);
    assert_int_equal(gr_get(&worker, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_string_equal(gr_jstr(json_array_get(items, 0), "action"), "create");
    o = json_object_get(json_object_get(json_array_get(items, 1), "changes"), "employees");
    assert_int_equal(json_integer_value(json_array_get(o, 0)), 12);
    assert_int_equal(json_integer_value(json_array_get(o, 1)), 30);
    o = json_object_get(json_object_get(json_array_get(items, 2), "changes"), "legal_rep");
    assert_string_equal(json_string_value(json_array_get(o, 0)), "(encrypted)");
    assert_null(strstr(r.body, "张三"));
    assert_null(strstr(r.body, "欧阳娜娜"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), ORGS "/%lld/history", (long long)out_id);
    assert_int_equal(gr_get(&worker, path, &r), 403);
    gr_resp_free(&r);

    /* Retire: with the version; twice is a conflict; the list leaves it out. */
    snprintf(path, sizeof(path), ORGS "/%lld/retire", (long long)legacy_id);
    assert_int_equal(gr_request(&steward, "POST", path, NULL, "{\"version\":1}", &r), 200);
    assert_non_null(gr_jstr(r.json, "retired_at"));
    gr_resp_free(&r);
    assert_int_equal(gr_request(&steward, "POST", path, NULL, "{\"version\":2}", &r), 409);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, ORGS "?type=individual", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);

    gr_client_free(&steward);
    gr_client_free(&worker);
    gr_client_free(&dept);
    gr_client_free(&resident);
    gr_client_free(&anon);
}

static void test_facilities_and_spaces(void **state)
{
    gr_client steward;
    char body[512], path[160];
    int64_t dept, fid, org;
    json_t *o;
    gr_resp r;

    (void)state;
    gr_login_demo(&steward, "data_steward");
    dept = gr_sql_int(&gr_srv, "SELECT min(id) FROM departments");
    snprintf(body, sizeof(body),
             "{\"code\":\"1101050101000001\",\"name\":\"上水井盖\",\"lat\":%.7f,\"lon\":%.7f,"
             "\"owner_dept_id\":%lld,\"maintainer_dept_id\":%lld}",
             ilat, ilon, (long long)dept, (long long)dept);
    o = gr_post(&steward, FACS, body, 201);
    fid = gr_jint(o, "id");
    assert_string_equal(gr_jstr(o, "county"), "110105");
    assert_int_equal(gr_jint(o, "major"), 1);
    assert_int_equal(gr_jint(o, "minor"), 1);
    assert_string_equal(gr_jstr(o, "state"), "normal");
    assert_int_equal(gr_jint(o, "community_id"), community);
    json_decref(o);
    gr_request(&steward, "POST", FACS, NULL, body, &r);
    gr_assert_problem(&r, 409, "code");
    gr_resp_free(&r);
    snprintf(body, sizeof(body), "{\"code\":\"1101050001000002\",\"lat\":%.7f,\"lon\":%.7f}", ilat,
             ilon);
    expect_reason(&steward, FACS, body, "code", "major class");
    snprintf(body, sizeof(body),
             "{\"code\":\"1101050101000002\",\"lat\":%.7f,\"lon\":%.7f,\"owner_dept_id\":999999}",
             ilat, ilon);
    expect_reason(&steward, FACS, body, "owner_dept_id", "no department with id 999999");
    expect_reason(&steward, FACS, "{\"code\":\"1101050101000003\"}", "lat", "is required");
    assert_int_equal(gr_get(&steward, FACS "?major=1&state=normal", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), FACS "/%lld", (long long)fid);
    assert_int_equal(
        gr_request(&steward, "PATCH", path, NULL, "{\"version\":1,\"state\":\"损坏\"}", &r), 200);
    assert_string_equal(gr_jstr(r.json, "state"), "damaged");
    gr_resp_free(&r);

    /* Spaces: the natural key (kind, name, address); the manager is an organisation. */
    org = gr_sql_int(&gr_srv, "SELECT min(id) FROM bd_orgs");
    snprintf(body, sizeof(body),
             "{\"kind\":\"人防工程\",\"name\":\"一号人防\",\"address\":\"建国路88号地下\","
             "\"area_m2\":1200.5,\"capacity\":800,\"use\":\"停车\",\"manager_org_id\":%lld,"
             "\"lat\":%.7f,\"lon\":%.7f}",
             (long long)org, ilat, ilon);
    o = gr_post(&steward, SPACES, body, 201);
    assert_string_equal(gr_jstr(o, "kind"), "civil_defense");
    assert_int_equal(gr_jint(o, "capacity"), 800);
    json_decref(o);
    gr_request(&steward, "POST", SPACES, NULL, body, &r);
    gr_assert_problem(&r, 409, "kind");
    gr_resp_free(&r);
    expect_reason(&steward, SPACES, "{\"kind\":\"地下室\",\"name\":\"x\",\"address\":\"y\"}",
                  "kind", "must be one of civil_defense");
    expect_reason(
        &steward, SPACES,
        "{\"kind\":\"garage\",\"name\":\"x\",\"address\":\"y\",\"manager_org_id\":999999}",
        "manager_org_id", "no organisation with id 999999");
    assert_int_equal(gr_get(&steward, SPACES "?kind=civil_defense", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    gr_resp_free(&r);
    gr_client_free(&steward);
}

static void test_export(void **state)
{
    gr_client steward, worker;
    gr_resp r;
    char ct[128];
    json_t *doc;

    (void)state;
    gr_login_demo(&steward, "data_steward");
    gr_login_demo(&worker, "community_worker");
    /* The worker sees only the organisation of their community. */
    assert_int_equal(gr_get(&worker, ORGS "/export.csv", &r), 200);
    assert_non_null(gr_resp_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/csv"));
    assert_non_null(strstr(r.body, "91350100M000100Y43"));
    assert_null(strstr(r.body, "110105000099999"));
    assert_null(strstr(r.body, "张三"));
    assert_null(strstr(r.body, "欧阳娜娜"));
    assert_non_null(strstr(r.body, "欧***"));
    assert_int_equal(strncmp(r.body, "id,version,uscc,", 16), 0);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&steward, ORGS "/export.csv", &r), 200);
    assert_non_null(strstr(r.body, "110105000099999"));
    gr_resp_free(&r);
    assert_int_equal(gr_get(&worker, FACS "/export.geojson", &r), 200);
    doc = json_loads(r.body, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(gr_jstr(doc, "type"), "FeatureCollection");
    assert_int_equal(json_array_size(json_object_get(doc, "features")), 1);
    assert_string_equal(
        gr_jstr(json_object_get(json_array_get(json_object_get(doc, "features"), 0), "geometry"),
                "type"),
        "Point");
    json_decref(doc);
    gr_resp_free(&r);
    /* People: masked names only, never an ID number or a phone column. */
    assert_int_equal(gr_get(&steward, "/api/v1/basedata/people/export.csv", &r), 200);
    assert_int_equal(strncmp(r.body, "id,name,residency,", 18), 0);
    assert_null(strstr(r.body, "id_number"));
    assert_null(strstr(r.body, "phone"));
    gr_resp_free(&r);
    gr_client_free(&steward);
    gr_client_free(&worker);
}

static void test_http_import(void **state)
{
    static const char csv[] = "uscc,name,type,legal_rep,employees\r\n"
                              "91350100M000100Y43,示例科技有限公司,企业,张三,30\r\n"
                              "91350100M000100Y44,坏码公司,企业,,5\r\n"
                              "110105000077777,新店,个体工商户,李四,2\r\n";
    gr_client steward;
    gr_resp r;
    json_t *e;

    (void)state;
    gr_login_demo(&steward, "data_steward");
    assert_int_equal(
        gr_request(&steward, "POST", "/api/v1/basedata/import/orgs", "text/csv", csv, &r), 200);
    assert_int_equal(gr_jint(r.json, "rows"), 3);
    assert_int_equal(gr_jint(r.json, "bad"), 1);
    e = json_array_get(json_object_get(r.json, "errors"), 0);
    assert_int_equal(gr_jint(e, "line"), 3);
    assert_string_equal(gr_jstr(e, "column"), "uscc");
    assert_non_null(strstr(gr_jstr(e, "reason"), "checksum"));
    /* Row 2 changes test_orgs' organisation (its legal representative), row 4 is new. */
    assert_int_equal(gr_jint(r.json, "stored"), 2);
    gr_resp_free(&r);
    /* Again: nothing changes. */
    assert_int_equal(
        gr_request(&steward, "POST", "/api/v1/basedata/import/orgs", "text/csv", csv, &r), 200);
    assert_int_equal(gr_jint(r.json, "stored"), 0);
    assert_int_equal(gr_jint(r.json, "unchanged"), 2);
    assert_int_equal(gr_jint(r.json, "bad"), 1);
    gr_resp_free(&r);
    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM bd_orgs WHERE uscc = "
                                         "'110105000077777' AND source = 'imported'"),
                     1);
    /* A retired organisation (test_orgs retired the legacy one) is not revived. */
    assert_int_equal(gr_request(&steward, "POST", "/api/v1/basedata/import/orgs", "text/csv",
                                "uscc,name,type\r\n110105000012345,改名,individual\r\n", &r),
                     200);
    assert_int_equal(gr_jint(r.json, "bad"), 1);
    e = json_array_get(json_object_get(r.json, "errors"), 0);
    assert_int_equal(gr_jint(e, "line"), 2);
    assert_string_equal(gr_jstr(e, "column"), "uscc");
    assert_non_null(strstr(gr_jstr(e, "reason"), "is retired"));
    gr_resp_free(&r);
    gr_request(&steward, "POST", "/api/v1/basedata/import/orgs", "text/csv",
               "uscc,name,type,colour\r\n", &r);
    gr_assert_problem(&r, 400, "file");
    assert_non_null(strstr(r.body, "colour"));
    gr_resp_free(&r);
    gr_request(&steward, "POST", "/api/v1/basedata/import/orgs", "application/json", "{}", &r);
    gr_assert_problem(&r, 415, NULL);
    gr_resp_free(&r);
    gr_request(&steward, "POST", "/api/v1/basedata/import/planets", "text/csv", "a\r\n", &r);
    gr_assert_problem(&r, 404, "entity");
    gr_resp_free(&r);
    gr_client_free(&steward);
}

static int setup(void **state)
{
    gr_client c;

    gr_setup_demo(state);
    community = gr_scope_of("community_worker");
    gr_login_demo(&c, "data_steward");
    gr_grid_point(&c, community, 1, &ilat, &ilon);
    gr_grid_point(&c, community, 0, &olat, &olon);
    gr_client_free(&c);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_facilities_and_spaces),
        cmocka_unit_test(test_export),
        cmocka_unit_test(test_http_import),
    };

    return cmocka_run_group_tests(tests, setup, gr_teardown_server);
}
