/* http/: routing, typed parameters, 405 with Allow, query strings, status mapping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http/http.h"

#include <string.h>

static int h_a(http_req *req)
{
    (void)req;
    return 1;
}

static int h_b(http_req *req)
{
    (void)req;
    return 2;
}

static int match(http_router *r, const char *method, const char *path, http_req *req,
                 http_handler *fn, char *allow)
{
    memset(req, 0, sizeof(*req));
    req->arena = arena_new();
    req->method = method;
    req->path = path;
    req->route_index = -1;
    return http_router_match(r, req, fn, allow, 128);
}

static void test_router(void **state)
{
    http_router *r = http_router_new();
    http_req req;
    http_handler fn = NULL;
    char allow[128];

    (void)state;
    http_route(r, "GET", "/api/v1/units/{id:int}", h_a, "org.read");
    http_route(r, "PATCH", "/api/v1/units/{id:int}", h_b, "org.write");
    http_route(r, "GET", "/api/v1/units/{code:str}/grids", h_b, "org.read");

    assert_int_equal(match(r, "GET", "/api/v1/units/42", &req, &fn, allow), HTTP_MATCH);
    assert_ptr_equal(fn, h_a);
    assert_int_equal(http_param_int(&req, "id"), 42);
    assert_string_equal(req.action, "org.read");
    assert_string_equal(req.route, "/api/v1/units/{id:int}");
    arena_free(req.arena);

    /* HEAD is served by GET routes. */
    assert_int_equal(match(r, "HEAD", "/api/v1/units/42", &req, &fn, allow), HTTP_MATCH);
    arena_free(req.arena);

    assert_int_equal(match(r, "DELETE", "/api/v1/units/42", &req, &fn, allow), HTTP_NO_METHOD);
    assert_string_equal(allow, "GET, PATCH");
    arena_free(req.arena);

    /* Not an id: no leading zeros, no signs, not too long. */
    assert_int_equal(match(r, "GET", "/api/v1/units/042/x", &req, &fn, allow), HTTP_NO_ROUTE);
    arena_free(req.arena);
    assert_int_equal(match(r, "PATCH", "/api/v1/units/-1", &req, &fn, allow), HTTP_NO_ROUTE);
    arena_free(req.arena);
    assert_int_equal(match(r, "GET", "/api/v1/units/1234567890123456789", &req, &fn, allow),
                     HTTP_NO_ROUTE);
    arena_free(req.arena);

    assert_int_equal(match(r, "GET", "/api/v1/units/110105/grids", &req, &fn, allow), HTTP_MATCH);
    assert_string_equal(http_param(&req, "code"), "110105");
    arena_free(req.arena);

    assert_int_equal(match(r, "GET", "/api/v1/units/42/", &req, &fn, allow), HTTP_NO_ROUTE);
    arena_free(req.arena);
    assert_int_equal(match(r, "GET", "api/v1/units/42", &req, &fn, allow), HTTP_NO_ROUTE);
    arena_free(req.arena);
    http_router_free(r);
}

static void test_query(void **state)
{
    http_req req;
    int64_t limit = 0, after = 0, v = 0;
    char out[16];

    (void)state;
    memset(&req, 0, sizeof(req));
    req.arena = arena_new();
    req.query = "q=%E6%9C%9D%E9%98%B3+x&limit=20&after=7&bad=%zz&lat=abc";
    assert_string_equal(http_query(&req, "q"), "朝阳 x");
    assert_null(http_query(&req, "missing"));
    assert_null(http_query(&req, "bad"));
    assert_int_equal(http_page(&req, 50, 500, &limit, &after), 0);
    assert_int_equal(limit, 20);
    assert_int_equal(after, 7);
    assert_int_equal(http_query_int(&req, "lat", -90, 90, 0, &v), GR_EINVAL);
    assert_string_equal(req.err.field, "lat");
    req.query = "limit=0";
    assert_int_equal(http_page(&req, 50, 500, &limit, &after), GR_EINVAL);
    assert_string_equal(req.err.field, "limit");
    req.query = "limit=501";
    assert_int_equal(http_page(&req, 50, 500, &limit, &after), GR_EINVAL);
    req.query = NULL;
    assert_int_equal(http_page(&req, 50, 500, &limit, &after), 0);
    assert_int_equal(limit, 50);
    assert_int_equal(after, 0);
    assert_int_equal(http_url_decode("a%2", 3, out, sizeof(out), 0), -1);
    assert_int_equal(http_url_decode("a%00b", 5, out, sizeof(out), 0), -1);
    assert_int_equal(http_url_decode("0123456789abcdefXYZ", 19, out, sizeof(out), 0), -1);
    assert_int_equal(http_url_decode("a+b", 3, out, sizeof(out), 0), 3);
    assert_string_equal(out, "a+b");
    arena_free(req.arena);
}

static void test_status_map(void **state)
{
    (void)state;
    assert_int_equal(http_status_for(GR_EINVAL), 400);
    assert_int_equal(http_status_for(GR_EAUTH), 401);
    assert_int_equal(http_status_for(GR_EFORBIDDEN), 403);
    assert_int_equal(http_status_for(GR_ENOTFOUND), 404);
    assert_int_equal(http_status_for(GR_ENOMETHOD), 405);
    assert_int_equal(http_status_for(GR_EEXIST), 409);
    assert_int_equal(http_status_for(GR_ECONFLICT), 409);
    assert_int_equal(http_status_for(GR_ETOOBIG), 413);
    assert_int_equal(http_status_for(GR_EMEDIA), 415);
    assert_int_equal(http_status_for(GR_ETHROTTLED), 429);
    assert_int_equal(http_status_for(GR_EUNAVAIL), 503);
    assert_int_equal(http_status_for(GR_EINTERNAL), 500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_router),
        cmocka_unit_test(test_query),
        cmocka_unit_test(test_status_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
