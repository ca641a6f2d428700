/* Every route of the application × every role (and nobody, and an API token):
 * the decision of auth_authorize equals the expectation written out in
 * tests/support/policy_expect.c, independently of the table in
 * src/auth/policy.c. A route whose action is missing there or in the policy
 * table fails the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "app/app.h"
#include "auth/auth.h"
#include "auth/policy.h"
#include "policy_expect.h"

#include <stdio.h>
#include <string.h>

/* auth_authorize for a principal on a route. */
static int decide(const http_route_info *rt, const char *role, const char *token_scopes, arena *a,
                  gr_err *err)
{
    http_req req;
    int rc;

    memset(&req, 0, sizeof(req));
    req.arena = a;
    req.method = rt->method;
    req.path = rt->pattern;
    req.route = rt->pattern;
    req.action = rt->action;
    req.who.role = role;
    if (strcmp(role, "anonymous") != 0) {
        req.who.user_id = 42;
        req.who.username = "someone";
        req.who.scope_org_id = 1;
        req.who.session_id = token_scopes ? 0 : 7;
    }
    if (token_scopes) {
        req.who.token_id = 9;
        req.who.token_scopes = token_scopes;
    }
    rc = auth_authorize(&req);
    *err = req.err;
    return rc;
}

static void test_every_route_every_role(void **state)
{
    http_route_info routes[512];
    http_router *r = app_router();
    size_t n = http_router_list(r, routes, 512), i, k;
    arena *a = arena_new();
    int bad = 0;
    gr_err err;

    (void)state;
    assert_true(n > 0 && n < 512);
    for (i = 0; i < n; i++) {
        const char *allowed = gr_expect_allowed(routes[i].action);
        if (!allowed) {
            print_error("%s %s: action '%s' has no expectation in this test\n", routes[i].method,
                        routes[i].pattern, routes[i].action);
            bad++;
            continue;
        }
        if (!policy_action_known(routes[i].action)) {
            print_error("%s %s: action '%s' is not in the policy table\n", routes[i].method,
                        routes[i].pattern, routes[i].action);
            bad++;
        }
        for (k = 0; k < gr_expect_nroles; k++) {
            const char *role = gr_expect_roles[k];
            int want = gr_expect_has_word(allowed, role);
            int rc = decide(&routes[i], role, NULL, a, &err);
            int expect_rc = want ? 0 : strcmp(role, "anonymous") == 0 ? GR_EAUTH : GR_EFORBIDDEN;
            if (rc != expect_rc) {
                print_error("%s %s (%s) as %s: expected %d, got %d (%s)\n", routes[i].method,
                            routes[i].pattern, routes[i].action, role, expect_rc, rc, err.msg);
                bad++;
            }
            /* A refusal says which action it refused. */
            if (rc == GR_EFORBIDDEN && !strstr(err.msg, routes[i].action)) {
                print_error("%s %s as %s: the refusal does not name the action: %s\n",
                            routes[i].method, routes[i].pattern, role, err.msg);
                bad++;
            }
            arena_reset(a);
        }
    }
    arena_free(a);
    http_router_free(r);
    assert_int_equal(bad, 0);
}

/* An admin's token scoped to metrics.read may do that (and public routes),
 * nothing else, even what an admin may. */
static void test_every_route_scoped_token(void **state)
{
    http_route_info routes[512];
    http_router *r = app_router();
    size_t n = http_router_list(r, routes, 512), i;
    arena *a = arena_new();
    int bad = 0;
    gr_err err;

    (void)state;
    for (i = 0; i < n; i++) {
        const char *act = routes[i].action;
        int want = strcmp(act, "public") == 0 || strcmp(act, "metrics.read") == 0;
        int rc = decide(&routes[i], "admin", "metrics.read", a, &err);
        if (rc != (want ? 0 : GR_EFORBIDDEN)) {
            print_error("%s %s (%s) with a metrics.read token: got %d\n", routes[i].method,
                        routes[i].pattern, act, rc);
            bad++;
        }
        /* The token's scopes never widen its owner's role. */
        rc = decide(&routes[i], "resident", "metrics.read user.write", a, &err);
        want = strcmp(act, "public") == 0;
        if (rc != (want ? 0 : GR_EFORBIDDEN)) {
            print_error("%s %s (%s) with a resident's wide token: got %d\n", routes[i].method,
                        routes[i].pattern, act, rc);
            bad++;
        }
        arena_reset(a);
    }
    arena_free(a);
    http_router_free(r);
    assert_int_equal(bad, 0);
}

/* The routes of this module are all there, with the actions documented in docs/auth.md. */
static void test_auth_routes_present(void **state)
{
    static const char *const want[][3] = {
        {"POST", "/api/v1/auth/login", "public"},
        {"POST", "/api/v1/auth/logout", "session"},
        {"GET", "/api/v1/auth/me", "session"},
        {"POST", "/api/v1/auth/password", "session"},
        {"GET", "/api/v1/users", "user.read"},
        {"POST", "/api/v1/users", "user.write"},
        {"GET", "/api/v1/users/{id:int}", "user.read"},
        {"PATCH", "/api/v1/users/{id:int}", "user.write"},
        {"GET", "/api/v1/tokens", "token.write"},
        {"POST", "/api/v1/tokens", "token.write"},
        {"DELETE", "/api/v1/tokens/{id:int}", "token.write"},
        {"GET", "/metrics", "metrics.read"},
    };
    http_route_info routes[512];
    http_router *r = app_router();
    size_t n = http_router_list(r, routes, 512), i, k;

    (void)state;
    for (k = 0; k < sizeof(want) / sizeof(want[0]); k++) {
        for (i = 0; i < n; i++)
            if (strcmp(routes[i].method, want[k][0]) == 0 &&
                strcmp(routes[i].pattern, want[k][1]) == 0)
                break;
        if (i == n)
            fail_msg("route %s %s is missing", want[k][0], want[k][1]);
        assert_string_equal(routes[i].action, want[k][2]);
    }
    http_router_free(r);
}

/* A route with a typo'd action is denied to everyone, admin included. */
static void test_unknown_action_denied(void **state)
{
    http_route_info rt = {"GET", "/api/v1/typo", "user.raed"};
    arena *a = arena_new();
    gr_err err;
    size_t k;

    (void)state;
    for (k = 0; k < gr_expect_nroles; k++) {
        assert_int_equal(decide(&rt, gr_expect_roles[k], NULL, a, &err), GR_EFORBIDDEN);
        assert_non_null(strstr(err.msg, "user.raed"));
        arena_reset(a);
    }
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_every_role),
        cmocka_unit_test(test_every_route_scoped_token),
        cmocka_unit_test(test_auth_routes_present),
        cmocka_unit_test(test_unknown_action_denied),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
