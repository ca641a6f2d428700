/* The category catalogue and the working-day calendar over HTTP against the
 * demo: the public tree and the residents' picker search, the CRUD with every
 * validation error naming its field and leaving the catalogue as it was,
 * versions and history, limits replaced, the calendar endpoints, due times
 * across the 2026 Spring Festival, who may write, and `import calendar`. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static long send(gr_client *c, const char *method, const char *path, const char *body, gr_resp *r)
{
    return gr_request(c, method, path, NULL, body, r);
}

/* The whole catalogue (every category with its limits), as text: what a
 * refused request must leave as it was. */
static char *catalog_text(gr_client *c)
{
    char path[96];
    gr_resp r, one;
    size_t i, j;
    json_t *items, *it, *ch;
    char *s;
    size_t len;

    assert_int_equal(gr_get(c, "/api/v1/categories", &r), 200);
    s = strdup(r.body);
    len = strlen(s);
    items = json_object_get(r.json, "items");
    json_array_foreach(items, i, it)
    {
        json_t *kids = json_object_get(it, "children");

        for (j = 0; j <= json_array_size(kids); j++) {
            ch = j == 0 ? it : json_array_get(kids, j - 1);
            snprintf(path, sizeof(path), "/api/v1/categories/%lld", (long long)gr_jint(ch, "id"));
            assert_int_equal(gr_get(c, path, &one), 200);
            s = realloc(s, len + one.body_len + 1);
            memcpy(s + len, one.body, one.body_len + 1);
            len += one.body_len;
            gr_resp_free(&one);
        }
    }
    gr_resp_free(&r);
    return s;
}

/* The id of the category with code (the public tree). */
static int64_t cat_id(gr_client *c, const char *code)
{
    gr_resp r;
    size_t i, j;
    json_t *it, *ch;
    int64_t id = 0;

    assert_int_equal(gr_get(c, "/api/v1/categories", &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (strcmp(gr_jstr(it, "code"), code) == 0)
            id = gr_jint(it, "id");
        json_array_foreach(json_object_get(it, "children"), j, ch)
        {
            if (strcmp(gr_jstr(ch, "code"), code) == 0)
                id = gr_jint(ch, "id");
        }
    }
    gr_resp_free(&r);
    if (!id)
        fail_msg("no category %s", code);
    return id;
}

/* ---- reading ---- */

static void test_tree(void **state)
{
    gr_client anon;
    gr_resp r;
    json_t *items, *it, *first;
    size_t i, leaves = 0, majors = 0;

    (void)state;
    gr_client_init(&anon, &gr_srv);
    assert_int_equal(gr_get(&anon, "/api/v1/categories", &r), 200);
    items = json_object_get(r.json, "items");
    json_array_foreach(items, i, it)
    {
        if (json_is_true(json_object_get(it, "is_leaf"))) {
            /* Only the 12345 demand types are leaves at the top. */
            assert_string_equal(gr_jstr(it, "kind"), "demand");
            assert_null(json_object_get(it, "children"));
            leaves++;
        } else {
            majors++;
            leaves += json_array_size(json_object_get(it, "children"));
            assert_true(json_array_size(json_object_get(it, "children")) > 0);
        }
    }
    assert_true(leaves >= 40);
    assert_int_equal(majors, 10);
    first = json_array_get(items, 0);
    assert_string_equal(gr_jstr(first, "code"), "C01");
    assert_string_equal(gr_jstr(first, "name"), "公用设施");
    it = json_array_get(json_object_get(first, "children"), 0);
    assert_string_equal(gr_jstr(it, "code"), "C0101");
    assert_string_equal(gr_jstr(it, "name"), "上水井盖");
    assert_int_equal(gr_jint(it, "parent_id"), gr_jint(first, "id"));
    assert_true(json_is_integer(json_object_get(it, "default_department_id")));
    assert_non_null(gr_jstr(it, "filing_condition"));
    assert_non_null(strchr(gr_jstr(it, "created_at"), 'T'));
    gr_resp_free(&r);

    assert_int_equal(gr_get(&anon, "/api/v1/categories?kind=demand", &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 5);
    assert_string_equal(gr_jstr(json_array_get(items, 0), "name"), "咨询");
    assert_string_equal(gr_jstr(json_array_get(items, 4), "name"), "建议");
    gr_resp_free(&r);

    gr_expect_problem(&anon, "GET", "/api/v1/categories?kind=place", NULL, 400, "kind");
    gr_expect_problem(&anon, "GET", "/api/v1/categories?active=2", NULL, 400, "active");
    gr_expect_problem(&anon, "GET", "/api/v1/categories/99999999", NULL, 404, "id");
    gr_client_free(&anon);
}

static void test_picker(void **state)
{
    gr_client anon;
    gr_resp r;
    json_t *items, *kids, *k;
    size_t i;
    char q[256];

    (void)state;
    gr_client_init(&anon, &gr_srv);
    /* 井盖: the manhole covers under 公用设施, and nothing else. */
    assert_int_equal(gr_get(&anon, "/api/v1/categories?active=1&q=%E4%BA%95%E7%9B%96", &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(gr_jstr(json_array_get(items, 0), "code"), "C01");
    kids = json_object_get(json_array_get(items, 0), "children");
    assert_true(json_array_size(kids) >= 8);
    json_array_foreach(kids, i, k) assert_non_null(strstr(gr_jstr(k, "name"), "井盖"));
    gr_resp_free(&r);
    /* 停放 finds both parking events under 街面秩序. */
    assert_int_equal(gr_get(&anon, "/api/v1/categories?q=%E5%81%9C%E6%94%BE", &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_string_equal(gr_jstr(json_array_get(items, 0), "name"), "街面秩序");
    assert_int_equal(json_array_size(json_object_get(json_array_get(items, 0), "children")), 2);
    gr_resp_free(&r);
    /* A major class's name brings its minor classes. */
    assert_int_equal(gr_get(&anon, "/api/v1/categories?q=%E5%AE%A3%E4%BC%A0%E5%B9%BF%E5%91%8A", &r),
                     200);
    assert_int_equal(json_array_size(json_object_get(
                         json_array_get(json_object_get(r.json, "items"), 0), "children")),
                     2);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&anon, "/api/v1/categories?q=nothing-like-this", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);
    memset(q, 0, sizeof(q));
    strcpy(q, "/api/v1/categories?q=");
    memset(q + strlen(q), 'x', 101);
    gr_expect_problem(&anon, "GET", q, NULL, 400, "q");
    gr_client_free(&anon);
}

static void test_one(void **state)
{
    gr_client anon;
    gr_resp r;
    char path[96];
    json_t *lims, *l;
    size_t i;
    int handle = 0;

    (void)state;
    gr_client_init(&anon, &gr_srv);
    snprintf(path, sizeof(path), "/api/v1/categories/%lld", (long long)cat_id(&anon, "C0102"));
    assert_int_equal(gr_get(&anon, path, &r), 200);
    assert_string_equal(gr_jstr(r.json, "name"), "污水井盖");
    assert_string_equal(gr_jstr(json_object_get(r.json, "parent"), "code"), "C01");
    lims = json_object_get(r.json, "limits");
    json_array_foreach(lims, i, l)
    {
        if (strcmp(gr_jstr(l, "step"), "handle") == 0 &&
            strcmp(gr_jstr(l, "area_class"), "A") == 0) {
            assert_int_equal(gr_jint(l, "amount"), 120);
            assert_string_equal(gr_jstr(l, "unit"), "natural_minutes");
            assert_string_equal(gr_jstr(l, "urgency"), "normal");
            handle = 1;
        }
    }
    assert_true(handle);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/categories/%lld", (long long)cat_id(&anon, "C01"));
    assert_int_equal(gr_get(&anon, path, &r), 200);
    assert_true(json_is_null(json_object_get(r.json, "parent")));
    assert_true(json_array_size(json_object_get(r.json, "limits")) >= 10);
    gr_resp_free(&r);
    gr_client_free(&anon);
}

/* ---- writing ---- */

static void test_crud(void **state)
{
    gr_client admin;
    gr_resp r;
    char path[96], body[512], loc[128], *before, *after;
    int64_t id, major;

    (void)state;
    gr_login_demo(&admin, "admin");
    before = catalog_text(&admin);
    /* Every refusal names its field and changes nothing. */
    gr_expect_problem(&admin, "POST", "/api/v1/categories", "{\"name\":\"x\"}", 400, "code");
    gr_expect_problem(&admin, "POST", "/api/v1/categories", "{\"code\":\"E0901\"}", 400, "name");
    gr_expect_problem(&admin, "POST", "/api/v1/categories", "{\"code\":\"X01\",\"name\":\"x\"}",
                      400, "code");
    gr_expect_problem(&admin, "POST", "/api/v1/categories", "{\"code\":\"E0901\",\"name\":\"x\"}",
                      400, "code"); /* no major class E09 */
    gr_expect_problem(&admin, "POST", "/api/v1/categories", "{\"code\":\"C0101\",\"name\":\"x\"}",
                      409, "code");
    gr_expect_problem(&admin, "POST", "/api/v1/categories",
                      "{\"code\":\"E0199\",\"name\":\"x\",\"colour\":\"red\"}", 400, "colour");
    gr_expect_problem(&admin, "POST", "/api/v1/categories",
                      "{\"code\":\"E0199\",\"name\":\"x\",\"standard_ref\":\"ISO\"}", 400,
                      "standard_ref");
    gr_expect_problem(&admin, "POST", "/api/v1/categories",
                      "{\"code\":\"E0199\",\"name\":\"x\",\"default_department_id\":999999}", 400,
                      "default_department_id");
    gr_expect_problem(&admin, "POST", "/api/v1/categories",
                      "{\"code\":\"E0199\",\"name\":\"x\",\"default_department_id\":\"1\"}", 400,
                      "default_department_id");
    gr_expect_problem(&admin, "POST", "/api/v1/categories", "{\"code\":\"E0199\",\"name\":\"\"}",
                      400, "name");
    gr_expect_problem(&admin, "POST", "/api/v1/categories", "[1]", 400, NULL);
    major = cat_id(&admin, "E01");
    snprintf(path, sizeof(path), "/api/v1/categories/%lld", (long long)major);
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"y\"}", 400, "version");
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"y\",\"version\":7}", 409, "version");
    gr_expect_problem(&admin, "PATCH", path, "{\"active\":false,\"version\":1}", 409, "active");
    gr_expect_problem(&admin, "PATCH", path, "{\"active\":0,\"version\":1}", 400, "active");
    gr_expect_problem(&admin, "PATCH", path, "{\"code\":\"E07\",\"version\":1}", 400, "code");
    gr_expect_problem(&admin, "PATCH", "/api/v1/categories/99999999", "{\"version\":1}", 404, "id");
    after = catalog_text(&admin);
    assert_string_equal(before, after);
    free(before);
    free(after);

    /* Create: 201, Location, version 1, under its major class. */
    snprintf(body, sizeof(body),
             "{\"code\":\"E0199\",\"name\":\"绿地脏乱\",\"standard_ref\":\"local\","
             "\"filing_condition\":\"绿地内有垃圾、杂物\",\"closing_condition\":\"清理干净\"}");
    assert_int_equal(send(&admin, "POST", "/api/v1/categories", body, &r), 201);
    id = gr_jint(r.json, "id");
    snprintf(path, sizeof(path), "/api/v1/categories/%lld", (long long)id);
    assert_string_equal(gr_resp_header(&r, "Location", loc, sizeof(loc)), path);
    assert_int_equal(gr_jint(r.json, "parent_id"), major);
    assert_int_equal(gr_jint(r.json, "version"), 1);
    assert_true(json_is_true(json_object_get(r.json, "is_leaf")));
    assert_string_equal(gr_jstr(r.json, "kind"), "event");
    assert_int_equal(json_array_size(json_object_get(r.json, "limits")), 0);
    gr_resp_free(&r);

    /* Patch: rename and retire; version 1 -> 2; the stale version is refused. */
    assert_int_equal(
        send(&admin, "PATCH", path, "{\"name\":\"绿地脏乱差\",\"active\":false,\"version\":1}", &r),
        200);
    assert_int_equal(gr_jint(r.json, "version"), 2);
    assert_true(json_is_false(json_object_get(r.json, "active")));
    assert_string_equal(gr_jstr(r.json, "name"), "绿地脏乱差");
    gr_resp_free(&r);
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"z\",\"version\":1}", 409, "version");
    /* Retired: hidden from the picker, still readable by id. */
    assert_int_equal(gr_get(&admin, "/api/v1/categories?active=1&q=%E8%84%8F%E4%B9%B1", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    gr_resp_free(&r);
    /* Clearing a nullable field. */
    assert_int_equal(send(&admin, "PATCH", path, "{\"closing_condition\":null,\"version\":2}", &r),
                     200);
    assert_true(json_is_null(json_object_get(r.json, "closing_condition")));
    gr_resp_free(&r);

    /* History: the two earlier versions, old values as they were. */
    snprintf(path, sizeof(path), "/api/v1/categories/%lld/history", (long long)id);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 2);
    {
        json_t *h0 = json_array_get(json_object_get(r.json, "items"), 0);

        assert_int_equal(gr_jint(h0, "version"), 1);
        assert_true(json_is_integer(json_object_get(h0, "changed_by")));
        assert_string_equal(gr_jstr(json_object_get(h0, "old"), "name"), "绿地脏乱");
        assert_true(json_is_true(json_object_get(json_object_get(h0, "old"), "active")));
    }
    gr_resp_free(&r);
    gr_client_free(&admin);
}

static void test_limits(void **state)
{
    gr_client admin;
    gr_resp r;
    char path[96], *before, *after;
    int64_t id;

    (void)state;
    gr_login_demo(&admin, "admin");
    id = cat_id(&admin, "E0409");
    snprintf(path, sizeof(path), "/api/v1/categories/%lld/limits", (long long)id);
    before = catalog_text(&admin);
    gr_expect_problem(&admin, "PUT", path, "{}", 400, "limits");
    gr_expect_problem(&admin, "PUT", path, "{\"limits\":{}}", 400, "limits");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"A\",\"urgency\":\"*\","
                      "\"amount\":30,\"unit\":\"natural_minutes\"},{\"step\":\"handle\","
                      "\"area_class\":\"B\",\"urgency\":\"*\",\"amount\":30,\"unit\":\"hours\"}]}",
                      400, "limits[1].unit");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"close\",\"area_class\":\"A\",\"urgency\":\"*\","
                      "\"amount\":30,\"unit\":\"natural_minutes\"}]}",
                      400, "limits[0].step");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"D\",\"urgency\":\"*\","
                      "\"amount\":30,\"unit\":\"natural_minutes\"}]}",
                      400, "limits[0].area_class");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"A\",\"urgency\":\"asap\","
                      "\"amount\":30,\"unit\":\"natural_minutes\"}]}",
                      400, "limits[0].urgency");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"A\",\"urgency\":\"*\","
                      "\"amount\":0,\"unit\":\"natural_minutes\"}]}",
                      400, "limits[0].amount");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"A\",\"urgency\":\"*\","
                      "\"amount\":400,\"unit\":\"working_days\"}]}",
                      400, "limits[0].amount");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"A\",\"urgency\":\"*\","
                      "\"amount\":3,\"unit\":\"working_days\"},{\"step\":\"handle\",\"area_class\":"
                      "\"A\",\"urgency\":\"*\",\"amount\":2,\"unit\":\"working_days\"}]}",
                      400, "limits[1]");
    gr_expect_problem(&admin, "PUT", path,
                      "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"A\",\"urgency\":\"*\","
                      "\"amount\":3,\"unit\":\"working_days\",\"note\":1}]}",
                      400, "limits[0].note");
    gr_expect_problem(&admin, "PUT", path, "{\"limits\":[], \"version\":99}", 409, "version");
    gr_expect_problem(&admin, "PUT", "/api/v1/categories/99999999/limits", "{\"limits\":[]}", 404,
                      "id");
    after = catalog_text(&admin);
    assert_string_equal(before, after);
    free(before);
    free(after);

    assert_int_equal(send(&admin, "PUT", path,
                          "{\"limits\":[{\"step\":\"handle\",\"area_class\":\"A\",\"urgency\":"
                          "\"normal\",\"amount\":20,\"unit\":\"natural_minutes\"},{\"step\":"
                          "\"handle\",\"area_class\":\"*\",\"urgency\":\"*\",\"amount\":45,"
                          "\"unit\":\"working_minutes\"}],\"version\":1}",
                          &r),
                     200);
    assert_int_equal(gr_jint(r.json, "version"), 2);
    assert_int_equal(json_array_size(json_object_get(r.json, "limits")), 2);
    assert_string_equal(gr_jstr(json_array_get(json_object_get(r.json, "limits"), 0), "area_class"),
                        "A");
    gr_resp_free(&r);
    /* The history holds the demo's rows as they were. */
    snprintf(path, sizeof(path), "/api/v1/categories/%lld/history", (long long)id);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_int_equal(
        json_array_size(json_object_get(
            json_object_get(json_array_get(json_object_get(r.json, "items"), 0), "old"), "limits")),
        3);
    gr_resp_free(&r);
    /* The new rows decide due times (B falls to the general row: 45 working
     * minutes from Monday 2026-03-02 11:30 -> 13:45 after the lunch break). */
    snprintf(path, sizeof(path),
             "/api/v1/calendar/due?category_id=%lld&step=handle&area_class=B&from="
             "2026-03-02T11:30:00%%2B08:00",
             (long long)id);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_string_equal(gr_jstr(r.json, "due"), "2026-03-02T05:45:00.000Z");
    gr_resp_free(&r);
    gr_client_free(&admin);
}

static void test_permissions(void **state)
{
    gr_client anon, resident, dispatcher;
    char path[96];
    int64_t id;

    (void)state;
    gr_client_init(&anon, &gr_srv);
    gr_login_demo(&resident, "resident");
    gr_login_demo(&dispatcher, "dispatcher");
    id = cat_id(&anon, "C0101");
    gr_expect_problem(&anon, "POST", "/api/v1/categories", "{\"code\":\"E0198\",\"name\":\"x\"}",
                      401, NULL);
    gr_expect_problem(&resident, "POST", "/api/v1/categories",
                      "{\"code\":\"E0198\",\"name\":\"x\"}", 403, NULL);
    gr_expect_problem(&dispatcher, "POST", "/api/v1/categories",
                      "{\"code\":\"E0198\",\"name\":\"x\"}", 403, NULL);
    snprintf(path, sizeof(path), "/api/v1/categories/%lld", (long long)id);
    gr_expect_problem(&resident, "PATCH", path, "{\"name\":\"x\",\"version\":1}", 403, NULL);
    gr_expect_problem(&anon, "PATCH", path, "{\"name\":\"x\",\"version\":1}", 401, NULL);
    snprintf(path, sizeof(path), "/api/v1/categories/%lld/limits", (long long)id);
    gr_expect_problem(&resident, "PUT", path, "{\"limits\":[]}", 403, NULL);
    snprintf(path, sizeof(path), "/api/v1/categories/%lld/history", (long long)id);
    gr_expect_problem(&anon, "GET", path, NULL, 401, NULL);
    gr_expect_problem(&resident, "GET", path, NULL, 403, NULL);
    gr_expect_problem(&anon, "PUT", "/api/v1/calendar/2026-03-02",
                      "{\"kind\":\"holiday\",\"name\":\"x\"}", 401, NULL);
    gr_expect_problem(&resident, "PUT", "/api/v1/calendar/2026-03-02",
                      "{\"kind\":\"holiday\",\"name\":\"x\"}", 403, NULL);
    gr_expect_problem(&dispatcher, "DELETE", "/api/v1/calendar/2026-02-14", NULL, 403, NULL);
    gr_expect_problem(&anon, "DELETE", "/api/v1/calendar/2026-02-14", NULL, 401, NULL);
    /* Nothing of that landed. */
    {
        gr_resp r;

        assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=2026", &r), 200);
        assert_null(strstr(r.body, "2026-03-02"));
        assert_non_null(strstr(r.body, "\"2026-02-14\""));
        gr_resp_free(&r);
        assert_int_equal(gr_get(&anon, "/api/v1/categories?q=x", &r), 200);
        assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
        gr_resp_free(&r);
    }
    gr_client_free(&anon);
    gr_client_free(&resident);
    gr_client_free(&dispatcher);
}

/* ---- the calendar ---- */

static void test_calendar(void **state)
{
    gr_client anon, admin;
    gr_resp r;
    json_t *items, *d;
    size_t i;
    int holidays = 0, workdays = 0;

    (void)state;
    gr_client_init(&anon, &gr_srv);
    gr_login_demo(&admin, "admin");
    assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=2026", &r), 200);
    assert_int_equal(gr_jint(r.json, "year"), 2026);
    assert_string_equal(gr_jstr(r.json, "timezone"), "Asia/Shanghai");
    assert_string_equal(
        gr_jstr(json_array_get(json_object_get(r.json, "working_hours"), 1), "start"), "13:30");
    items = json_object_get(r.json, "items");
    json_array_foreach(items, i, d)
    {
        holidays += strcmp(gr_jstr(d, "kind"), "holiday") == 0;
        workdays += strcmp(gr_jstr(d, "kind"), "workday") == 0;
        if (strcmp(gr_jstr(d, "date"), "2026-02-14") == 0)
            assert_string_equal(gr_jstr(d, "kind"), "workday");
    }
    assert_int_equal(holidays, 33);
    assert_int_equal(workdays, 6);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=2025", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 33);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=1990", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);
    gr_expect_problem(&anon, "GET", "/api/v1/calendar?year=twenty", NULL, 400, "year");
    gr_expect_problem(&anon, "GET", "/api/v1/calendar?year=20260", NULL, 400, "year");

    gr_expect_problem(&admin, "PUT", "/api/v1/calendar/2026-02-30",
                      "{\"kind\":\"holiday\",\"name\":\"x\"}", 400, "date");
    gr_expect_problem(&admin, "PUT", "/api/v1/calendar/due",
                      "{\"kind\":\"holiday\",\"name\":\"x\"}", 400, "date");
    gr_expect_problem(&admin, "PUT", "/api/v1/calendar/2026-03-02",
                      "{\"kind\":\"rest\",\"name\":\"x\"}", 400, "kind");
    gr_expect_problem(&admin, "PUT", "/api/v1/calendar/2026-03-02", "{\"kind\":\"holiday\"}", 400,
                      "name");
    gr_expect_problem(&admin, "PUT", "/api/v1/calendar/2026-03-02",
                      "{\"kind\":\"holiday\",\"name\":\"x\",\"year\":1}", 400, "year");
    gr_expect_problem(&admin, "DELETE", "/api/v1/calendar/2026-03-02", NULL, 404, "date");
    gr_expect_problem(&admin, "DELETE", "/api/v1/calendar/yesterday", NULL, 400, "date");

    assert_int_equal(send(&admin, "PUT", "/api/v1/calendar/2026-03-02",
                          "{\"kind\":\"holiday\",\"name\":\"区庆\"}", &r),
                     201);
    assert_string_equal(gr_jstr(r.json, "date"), "2026-03-02");
    assert_string_equal(gr_jstr(r.json, "name"), "区庆");
    gr_resp_free(&r);
    assert_int_equal(send(&admin, "PUT", "/api/v1/calendar/2026-03-02",
                          "{\"kind\":\"holiday\",\"name\":\"区庆日\"}", &r),
                     200);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=2026", &r), 200);
    assert_non_null(strstr(r.body, "区庆日"));
    gr_resp_free(&r);
    assert_int_equal(send(&admin, "DELETE", "/api/v1/calendar/2026-03-02", NULL, &r), 204);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=2026", &r), 200);
    assert_null(strstr(r.body, "2026-03-02"));
    gr_resp_free(&r);
    gr_client_free(&anon);
    gr_client_free(&admin);
}

static void due_is(gr_client *c, const char *query, const char *want)
{
    char path[512];
    gr_resp r;

    snprintf(path, sizeof(path), "/api/v1/calendar/due?%s", query);
    if (gr_get(c, path, &r) != 200)
        fail_msg("%s: %s", path, r.body);
    if (strcmp(gr_jstr(r.json, "due"), want) != 0)
        fail_msg("%s: due %s, want %s", path, gr_jstr(r.json, "due"), want);
    gr_resp_free(&r);
}

static void test_due(void **state)
{
    gr_client anon, admin;
    gr_resp r;
    char q[256];
    int64_t light, sewer, bbq;

    (void)state;
    gr_client_init(&anon, &gr_srv);
    gr_login_demo(&admin, "admin");
    light = cat_id(&anon, "C0118");
    sewer = cat_id(&anon, "C0102");
    bbq = cat_id(&anon, "E0412");
    /* 路灯, 1 working day, from Friday 2026-02-13 17:00: the adjusted
     * Saturday 02-14 17:00 (09:00 UTC). */
    snprintf(q, sizeof(q),
             "category_id=%lld&step=handle&area_class=B&from=2026-02-13T17:00:00%%2B08:00",
             (long long)light);
    due_is(&anon, q, "2026-02-14T09:00:00.000Z");
    {
        char path[300];

        snprintf(path, sizeof(path), "/api/v1/calendar/due?%s", q);
        assert_int_equal(gr_get(&anon, path, &r), 200);
        assert_string_equal(gr_jstr(r.json, "from"), "2026-02-13T09:00:00.000Z");
        assert_int_equal(gr_jint(json_object_get(r.json, "limit"), "amount"), 1);
        assert_string_equal(gr_jstr(json_object_get(r.json, "limit"), "unit"), "working_days");
        assert_int_equal(gr_jint(json_object_get(r.json, "limit"), "category_id"), light);
        gr_resp_free(&r);
    }
    /* The Saturday made a holiday: the next working day is after the
     * festival, Tuesday 02-24; made a workday again: back to Saturday. */
    assert_int_equal(send(&admin, "PUT", "/api/v1/calendar/2026-02-14",
                          "{\"kind\":\"holiday\",\"name\":\"春节\"}", &r),
                     200);
    gr_resp_free(&r);
    due_is(&anon, q, "2026-02-24T09:00:00.000Z");
    assert_int_equal(send(&admin, "PUT", "/api/v1/calendar/2026-02-14",
                          "{\"kind\":\"workday\",\"name\":\"春节调休上班\"}", &r),
                     200);
    gr_resp_free(&r);
    due_is(&anon, q, "2026-02-14T09:00:00.000Z");
    /* Urgent: the urgent row (4 natural hours), festival or not. */
    snprintf(q, sizeof(q),
             "category_id=%lld&step=handle&area_class=A&urgency=urgent&from=2026-02-16T10:00:00Z",
             (long long)light);
    due_is(&anon, q, "2026-02-16T14:00:00.000Z");
    /* Verify: 1 h in the city, 2 h in the countryside (the major class's rows). */
    snprintf(q, sizeof(q), "category_id=%lld&step=verify&area_class=C&from=2026-03-02T01:00:00Z",
             (long long)sewer);
    due_is(&anon, q, "2026-03-02T03:00:00.000Z");
    /* A missing sewer manhole cover, urban: 2 h. Barbecue: 2 h. */
    snprintf(q, sizeof(q), "category_id=%lld&step=handle&area_class=A&from=2026-03-02T01:00:00Z",
             (long long)sewer);
    due_is(&anon, q, "2026-03-02T03:00:00.000Z");
    snprintf(q, sizeof(q), "category_id=%lld&step=handle&from=2026-03-02T13:00:00Z",
             (long long)bbq);
    due_is(&anon, q, "2026-03-02T15:00:00.000Z");
    /* Accept on a 12319 day: half a working day from Friday 2026-02-27
     * 16:00 -> 2 h Friday, the rest on the adjusted Saturday 02-28. */
    snprintf(q, sizeof(q),
             "category_id=%lld&step=accept&area_class=B&from=2026-02-27T16:00:00%%2B08:00",
             (long long)sewer);
    due_is(&anon, q, "2026-02-28T02:45:00.000Z");

    /* Bad input, each naming its parameter. */
    gr_expect_problem(&anon, "GET", "/api/v1/calendar/due?step=handle", NULL, 400, "category_id");
    gr_expect_problem(&anon, "GET", "/api/v1/calendar/due?category_id=x&step=handle", NULL, 400,
                      "category_id");
    gr_expect_problem(&anon, "GET", "/api/v1/calendar/due?category_id=99999999&step=handle", NULL,
                      404, "category_id");
    snprintf(q, sizeof(q), "/api/v1/calendar/due?category_id=%lld", (long long)light);
    gr_expect_problem(&anon, "GET", q, NULL, 400, "step");
    snprintf(q, sizeof(q), "/api/v1/calendar/due?category_id=%lld&step=close", (long long)light);
    gr_expect_problem(&anon, "GET", q, NULL, 400, "step");
    snprintf(q, sizeof(q), "/api/v1/calendar/due?category_id=%lld&step=handle&area_class=Z",
             (long long)light);
    gr_expect_problem(&anon, "GET", q, NULL, 400, "area_class");
    snprintf(q, sizeof(q), "/api/v1/calendar/due?category_id=%lld&step=handle&area_class=*",
             (long long)light);
    gr_expect_problem(&anon, "GET", q, NULL, 400, "area_class");
    snprintf(q, sizeof(q), "/api/v1/calendar/due?category_id=%lld&step=handle&urgency=now",
             (long long)light);
    gr_expect_problem(&anon, "GET", q, NULL, 400, "urgency");
    snprintf(q, sizeof(q), "/api/v1/calendar/due?category_id=%lld&step=handle&from=tomorrow",
             (long long)light);
    gr_expect_problem(&anon, "GET", q, NULL, 400, "from");
    /* A category without limits anywhere: not found, naming the category. */
    assert_int_equal(
        send(&admin, "POST", "/api/v1/categories", "{\"code\":\"E09\",\"name\":\"其他\"}", &r),
        201);
    snprintf(q, sizeof(q), "/api/v1/calendar/due?category_id=%lld&step=handle",
             (long long)gr_jint(r.json, "id"));
    gr_resp_free(&r);
    gr_expect_problem(&anon, "GET", q, NULL, 404, "category");
    gr_client_free(&anon);
    gr_client_free(&admin);
}

/* ---- the command ---- */

static void test_import_cli(void **state)
{
    char out[8192], file[1024], bad[1024];
    const char *src = getenv("GR_SOURCE_DIR");
    const char *import[] = {"import", "calendar", file, NULL};
    const char *broken[] = {"import", "calendar", bad, NULL};
    const char *usage[] = {"import", "calendar", NULL};
    const char *other[] = {"import", "holidays", NULL};
    const char *help[] = {"import", "--help", NULL};
    gr_client anon;
    gr_resp r;
    FILE *f;

    (void)state;
    snprintf(file, sizeof(file), "%s/share/calendar-2026.csv", src ? src : ".");
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), import), 0);
    assert_non_null(strstr(out, "created 0, updated 0, unchanged 39"));
    snprintf(bad, sizeof(bad), "%s/cal-bad.csv", gr_srv.dir);
    f = fopen(bad, "w");
    assert_non_null(f);
    fputs("date,kind,name\n2027-02-08,holiday,春节\n2027-02-31,holiday,春节\n", f);
    fclose(f);
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), broken), 1);
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), usage), 2);
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), other), 2);
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), help), 0);
    assert_non_null(strstr(out, "import divisions"));
    assert_non_null(strstr(out, "import calendar"));
    /* The running server sees what the command imports, and nothing of the bad file. */
    f = fopen(bad, "w");
    fputs("date,kind,name\n2027-02-08,holiday,春节\n", f);
    fclose(f);
    gr_client_init(&anon, &gr_srv);
    assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=2027", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);
    /* Friday 2027-02-05 17:00 + 1 working day: Monday 02-08 until the
     * import makes it a holiday, then Tuesday 02-09. */
    snprintf(file, sizeof(file),
             "category_id=%lld&step=handle&area_class=B&from=2027-02-05T17:00:00%%2B08:00",
             (long long)cat_id(&anon, "C0118"));
    due_is(&anon, file, "2027-02-08T09:00:00.000Z");
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), broken), 0);
    assert_int_equal(gr_get(&anon, "/api/v1/calendar?year=2027", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    gr_resp_free(&r);
    due_is(&anon, file, "2027-02-09T09:00:00.000Z");
    gr_client_free(&anon);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tree),       cmocka_unit_test(test_picker),
        cmocka_unit_test(test_one),        cmocka_unit_test(test_crud),
        cmocka_unit_test(test_limits),     cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_calendar),   cmocka_unit_test(test_due),
        cmocka_unit_test(test_import_cli),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
