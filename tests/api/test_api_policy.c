/* The policy from outside: every demo role (and nobody) asks a representative
 * route of every action, and gets through (200, or 400 for an empty body that
 * passed authorization) or is refused (403; 401 for nobody), as the table in
 * docs/auth.md (written out in tests/support/policy_expect.c) says.
 * tests/unit/test_policy_routes.c walks every route in-process. */
#include "harness.h"
#include "policy_expect.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

/* One request per action; "{scope}" is replaced by the caller's own org unit
 * (so that scope never gets in the way of the role decision). */
static const struct probe {
    const char *action;
    const char *method;
    const char *path;
    const char *body;
    long ok; /* the status when allowed */
} probes[] = {
    {"public", "GET", "/api/v1/health", NULL, 200},
    {"session", "GET", "/api/v1/auth/me", NULL, 200},
    {"metrics.read", "GET", "/metrics", NULL, 200},
    {"user.read", "GET", "/api/v1/users", NULL, 200},
    {"user.write", "POST", "/api/v1/users", "{}", 400},
    {"token.write", "GET", "/api/v1/tokens", NULL, 200},
    {"org.read", "GET", "/api/v1/org/units/{scope}", NULL, 200},
    {"org.write", "POST", "/api/v1/org/units", "{}", 400},
    {"routing.write", "POST", "/api/v1/routing-rules", "{}", 400},
    {"case.contact", "GET", "/api/v1/cases/999999999/contact?purpose=callback", NULL, 404},
    {"audit.read", "GET", "/api/v1/audit", NULL, 200},
    {"basedata.read", "GET", "/api/v1/basedata/buildings", NULL, 200},
    {"basedata.read", "GET", "/api/v1/basedata/houses", NULL, 200},
    {"basedata.read", "GET", "/api/v1/basedata/people", NULL, 200},
    {"basedata.read", "GET", "/api/v1/basedata/prefill", NULL, 400},
    {"basedata.write", "POST", "/api/v1/basedata/buildings", "{}", 400},
    {"basedata.write", "POST", "/api/v1/basedata/houses", "{}", 400},
    {"basedata.write", "POST", "/api/v1/basedata/people", "{}", 400},
    {"basedata.write", "PATCH", "/api/v1/basedata/people/999999999", "{}", 400},
    {"basedata.write", "POST", "/api/v1/basedata/people/999999999/retire", "{}", 400},
    /* Organisations, facilities, spaces, export, the HTTP import (bd_units_api.c). */
    {"basedata.read", "GET", "/api/v1/basedata/orgs", NULL, 200},
    {"basedata.read", "GET", "/api/v1/basedata/facilities?major=1", NULL, 200},
    {"basedata.read", "GET", "/api/v1/basedata/spaces/export.csv", NULL, 200},
    {"basedata.write", "POST", "/api/v1/basedata/orgs", "{}", 400},
    {"basedata.write", "POST", "/api/v1/basedata/import/orgs", "{}", 415},
    /* Areas, statistics and the emergency view (bd_area_api.c). */
    {"basedata.read", "GET", "/api/v1/basedata/area/people", NULL, 400},
    {"basedata.read", "GET", "/api/v1/basedata/area/summary", NULL, 200},
    {"basedata.read", "GET", "/api/v1/basedata/stats", NULL, 200},
    {"basedata.emergency", "POST", "/api/v1/basedata/emergency", "{}", 400},
    {"share.apply", "POST", "/api/v1/share/applications", "{}", 400},
    {"share.view", "GET", "/api/v1/share/applications", NULL, 200},
    {"share.decide", "POST", "/api/v1/share/applications/999999999/refuse", "{}", 400},
    {"share.revoke", "POST", "/api/v1/share/applications/999999999/revoke", "{}", 400},
    /* Allowed to nobody signed in; without a share token the route answers 401. */
    {"share.read", "GET", "/api/v1/share/people", NULL, 401},
};

static void test_every_role_every_action(void **state)
{
    size_t k, i;
    int bad = 0;

    (void)state;
    for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
        if (!gr_expect_allowed(probes[i].action))
            fail_msg("probe %s has no expectation", probes[i].action);
    for (k = 0; k < gr_expect_nroles; k++) {
        const char *role = gr_expect_roles[k];
        int anon = strcmp(role, "anonymous") == 0;
        long long scope = 0;
        gr_client c;
        gr_resp r;

        if (anon) {
            gr_client_init(&c, &gr_srv);
        } else {
            gr_login_demo(&c, role);
            assert_int_equal(gr_request(&c, "GET", "/api/v1/auth/me", NULL, NULL, &r), 200);
            scope = json_integer_value(
                json_object_get(json_object_get(r.json, "user"), "scope_org_id"));
            assert_string_equal(
                json_string_value(json_object_get(json_object_get(r.json, "user"), "role")), role);
            gr_resp_free(&r);
        }
        for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
            const struct probe *p = &probes[i];
            int want = gr_expect_has_word(gr_expect_allowed(p->action), role);
            long expect = want ? p->ok : anon ? 401 : 403;
            char path[256];
            const char *at = strstr(p->path, "{scope}");

            if (at)
                snprintf(path, sizeof(path), "%.*s%lld", (int)(at - p->path), p->path,
                         scope > 0 ? scope : 1);
            else
                snprintf(path, sizeof(path), "%s", p->path);
            gr_request(&c, p->method, path, NULL, p->body, &r);
            if (r.status != expect) {
                print_error("%s %s (%s) as %s: expected %ld, got %ld: %s\n", p->method, path,
                            p->action, role, expect, r.status, r.body);
                bad++;
            }
            /* A refusal of the role names the action. */
            if (r.status == 403 && !want && r.json &&
                !strstr(json_string_value(json_object_get(r.json, "detail")), p->action)) {
                print_error("%s as %s: the refusal does not name %s: %s\n", path, role, p->action,
                            r.body);
                bad++;
            }
            gr_resp_free(&r);
        }
        gr_client_free(&c);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_role_every_action),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
