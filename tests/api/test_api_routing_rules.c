/* Routing rules over HTTP: a rule decides the department of the next case
 * reported in its subtree; bad rules are refused naming the field and change
 * nothing; only admins write them; deleting one restores the default. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Searches a list, or the category tree through its children. */
static int64_t find_code(json_t *items, const char *code)
{
    const char *c;
    json_t *it;
    size_t i;
    int64_t id;

    json_array_foreach(items, i, it)
    {
        c = json_string_value(json_object_get(it, "code"));
        if (c && strcmp(c, code) == 0)
            return gr_jint(it, "id");
        if ((id = find_code(json_object_get(it, "children"), code)) != 0)
            return id;
    }
    return 0;
}

static int64_t get_id(gr_client *c, const char *path, const char *code)
{
    gr_resp r;
    int64_t id;

    assert_int_equal(gr_request(c, "GET", path, NULL, NULL, &r), 200);
    id = find_code(json_object_get(r.json, "items"), code);
    gr_resp_free(&r);
    assert_true(id > 0);
    return id;
}

static long put_rule(gr_client *c, int64_t cat, int64_t org, int64_t dept, gr_resp *r)
{
    return gr_request_json(c, "POST", "/api/v1/routing-rules",
                           json_pack("{s:I, s:I, s:I}", "category_id", (json_int_t)cat, "org_id",
                                     (json_int_t)org, "department_id", (json_int_t)dept),
                           r);
}

static int64_t rule_count(gr_client *c)
{
    gr_resp r;
    int64_t n;

    assert_int_equal(gr_request(c, "GET", "/api/v1/routing-rules?limit=500", NULL, NULL, &r), 200);
    n = (int64_t)json_array_size(json_object_get(r.json, "items"));
    gr_resp_free(&r);
    return n;
}

/* Reports a case of category cat at the street's centroid; returns its department id. */
static int64_t routed_department(gr_client *c, int64_t cat, int64_t street)
{
    char path[96], body[512];
    gr_resp r;
    json_t *centroid;
    int64_t id, dept;

    snprintf(path, sizeof(path), "/api/v1/org/units/%lld?geometry=1", (long long)street);
    assert_int_equal(gr_request(c, "GET", path, NULL, NULL, &r), 200);
    centroid = json_object_get(r.json, "centroid");
    snprintf(body, sizeof(body),
             "{\"title\":\"路灯不亮\",\"description\":\"连续三盏路灯不亮\",\"category_id\":%lld,"
             "\"lat\":%.9f,\"lon\":%.9f,\"channel\":\"hotline\",\"contact\":\"13800001234\"}",
             (long long)cat, json_real_value(json_object_get(centroid, "lat")),
             json_real_value(json_object_get(centroid, "lon")));
    gr_resp_free(&r);
    assert_int_equal(gr_request(c, "POST", "/api/v1/cases", NULL, body, &r), 201);
    id = gr_jint(r.json, "id");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(gr_request(c, "GET", path, NULL, NULL, &r), 200);
    dept = gr_jint(r.json, "department_id");
    gr_resp_free(&r);
    return dept;
}

static void test_rules(void **state)
{
    gr_client admin, acceptor, dispatcher, resident;
    int64_t cat, street, other_street, street_dept, rule, before, dept_default;
    char path[96];
    gr_resp r;

    (void)state;
    gr_login_demo(&admin, "admin");
    gr_login_demo(&acceptor, "acceptor");
    gr_login_demo(&dispatcher, "dispatcher");
    gr_login_demo(&resident, "resident");

    cat = get_id(&admin, "/api/v1/categories", "C0118"); /* 路灯 */
    street = get_id(&admin, "/api/v1/org/units?kind=street&limit=500", "110105001");
    other_street = get_id(&admin, "/api/v1/org/units?kind=street&limit=500", "110105003");
    dept_default = routed_department(&acceptor, cat, street);

    /* A department of the street itself, to route to and to misuse. */
    assert_int_equal(gr_request_json(&admin, "POST", "/api/v1/org/departments",
                                     json_pack("{s:I, s:s, s:s}", "org_id", (json_int_t)street,
                                               "name", "街道城管科", "level", "street"),
                                     &r),
                     201);
    street_dept = gr_jint(r.json, "id");
    gr_resp_free(&r);
    assert_true(street_dept != dept_default);

    before = rule_count(&admin);
    /* Refused, naming the field, and nothing changes. */
    assert_int_equal(put_rule(&admin, 999999, street, street_dept, &r), 400);
    gr_assert_problem(&r, 400, "category_id");
    gr_resp_free(&r);
    assert_int_equal(put_rule(&admin, cat, 999999, street_dept, &r), 400);
    gr_assert_problem(&r, 400, "org_id");
    gr_resp_free(&r);
    assert_int_equal(put_rule(&admin, cat, street, 999999, &r), 400);
    gr_assert_problem(&r, 400, "department_id");
    gr_resp_free(&r);
    /* The street's department does not serve another street. */
    assert_int_equal(put_rule(&admin, cat, other_street, street_dept, &r), 400);
    gr_assert_problem(&r, 400, "department_id");
    gr_resp_free(&r);
    assert_int_equal(gr_request(&admin, "POST", "/api/v1/routing-rules", NULL,
                                "{\"category_id\":1,\"org_id\":1,\"department_id\":1,\"x\":1}", &r),
                     400);
    gr_assert_problem(&r, 400, "x");
    gr_resp_free(&r);
    /* Only admins write rules. */
    assert_int_equal(put_rule(&dispatcher, cat, street, street_dept, &r), 403);
    gr_resp_free(&r);
    assert_int_equal(put_rule(&resident, cat, street, street_dept, &r), 403);
    gr_resp_free(&r);
    assert_int_equal(rule_count(&admin), before);

    /* The rule routes the next case in its street, not in another street. */
    assert_int_equal(put_rule(&admin, cat, street, street_dept, &r), 201);
    rule = gr_jint(r.json, "id");
    assert_int_equal(gr_jint(r.json, "department_id"), street_dept);
    gr_resp_free(&r);
    assert_int_equal(rule_count(&admin), before + 1);
    /* Putting it again replaces it: same id, no second rule. */
    assert_int_equal(put_rule(&admin, cat, street, street_dept, &r), 201);
    assert_int_equal(gr_jint(r.json, "id"), rule);
    gr_resp_free(&r);
    assert_int_equal(rule_count(&admin), before + 1);
    assert_int_equal(routed_department(&acceptor, cat, street), street_dept);
    assert_int_equal(routed_department(&acceptor, cat, other_street), dept_default);

    /* Deleting restores the default; a second delete is 404. */
    snprintf(path, sizeof(path), "/api/v1/routing-rules/%lld", (long long)rule);
    assert_int_equal(gr_request(&dispatcher, "DELETE", path, NULL, NULL, &r), 403);
    gr_resp_free(&r);
    assert_int_equal(gr_request(&admin, "DELETE", path, NULL, NULL, &r), 204);
    gr_resp_free(&r);
    assert_int_equal(gr_request(&admin, "DELETE", path, NULL, NULL, &r), 404);
    gr_resp_free(&r);
    assert_int_equal(routed_department(&acceptor, cat, street), dept_default);

    gr_client_free(&admin);
    gr_client_free(&acceptor);
    gr_client_free(&dispatcher);
    gr_client_free(&resident);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
    };
    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
