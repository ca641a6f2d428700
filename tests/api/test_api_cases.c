/* Cases over HTTP against the demo: every channel walked through the whole
 * loop (report → accept → file → dispatch → return → re-dispatch → handle →
 * verification fails → rework → verify → close → rate 不满意 → review), who
 * sees which contact, the resident's and the public's views, 409s that name
 * the allowed actions and the current version, bad input that changes
 * nothing, every role's forbidden actions, duplicates, and the deadline
 * scheduler of the running server. */
#include "harness.h"
#include "media_samples.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { RESIDENT, ACCEPTOR, SHIFT, DISPATCHER, DEPT, INSPECTOR, LEADER, ADMIN, COMMUNITY, NCLIENTS };
static const char *const names[NCLIENTS] = {
    "resident",       "acceptor", "shift_leader", "dispatcher",      "department_staff",
    "grid_inspector", "leader",   "admin",        "community_worker"};
static gr_client cl[NCLIENTS];
static gr_client anon;
static double glat, glon; /* the centre of the grid inspector's grid */
static double olat, olon; /* the centre of a grid in another street */
static int64_t cgw, swj;  /* the 城管 and 水务 departments */

/* ---- helpers ---- */

static long req(gr_client *c, const char *method, const char *path, const char *body, gr_resp *r)
{
    return gr_request(c, method, path, NULL, body, r);
}

static void centre(const char *code, double *lat, double *lon)
{
    char path[128];
    gr_resp r;
    json_t *u, *c;

    snprintf(path, sizeof(path), "/api/v1/org/units?code=%s", code);
    assert_int_equal(req(&cl[ADMIN], "GET", path, NULL, &r), 200);
    u = json_array_get(json_object_get(r.json, "items"), 0);
    c = json_object_get(u, "centroid");
    assert_non_null(c);
    *lat = json_real_value(json_object_get(c, "lat"));
    *lon = json_real_value(json_object_get(c, "lon"));
    gr_resp_free(&r);
}

static int64_t dept(const char *name)
{
    gr_resp r;
    int64_t id = 0;
    json_t *d;
    size_t i;

    assert_int_equal(req(&cl[ADMIN], "GET", "/api/v1/org/departments?limit=500", NULL, &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, d)
    {
        if (strcmp(gr_jstr(d, "name"), name) == 0)
            id = gr_jint(d, "id");
    }
    gr_resp_free(&r);
    assert_true(id > 0);
    return id;
}

static int64_t find_code(json_t *items, const char *code)
{
    size_t i;
    json_t *it;
    int64_t id;

    json_array_foreach(items, i, it)
    {
        if (gr_jstr(it, "code") && strcmp(gr_jstr(it, "code"), code) == 0)
            return gr_jint(it, "id");
        if ((id = find_code(json_object_get(it, "children"), code)) != 0)
            return id;
    }
    return 0;
}

static int64_t cat(const char *code)
{
    gr_resp r;
    int64_t id;

    assert_int_equal(req(&anon, "GET", "/api/v1/categories", NULL, &r), 200);
    id = find_code(json_object_get(r.json, "items"), code);
    gr_resp_free(&r);
    assert_true(id > 0);
    return id;
}

/* The case as the admin (district scope) sees it; free with json_decref. */
static json_t *staff_get(int64_t id)
{
    char path[64];
    gr_resp r;
    json_t *o;

    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    if (req(&cl[ADMIN], "GET", path, NULL, &r) != 200)
        fail_msg("GET %s: %s", path, r.body);
    o = json_incref(r.json);
    gr_resp_free(&r);
    return o;
}

static int64_t version_of(int64_t id)
{
    json_t *o = staff_get(id);
    int64_t v = gr_jint(o, "version");

    json_decref(o);
    return v;
}

static char *state_of(int64_t id)
{
    json_t *o = staff_get(id);
    char *s = strdup(gr_jstr(o, "state"));

    json_decref(o);
    return s;
}

static int64_t count_rows(const char *sql)
{
    char cmd[1024], out[64] = "";
    FILE *p;

    snprintf(cmd, sizeof(cmd), "sqlite3 '%s/grassroots.db' \"%s\"", gr_srv.dir, sql);
    p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(out, sizeof(out), p))
        out[0] = '\0';
    pclose(p);
    return atoll(out);
}

/* POSTs action with {"version": current, <extra>}; the response in r. */
static long act(gr_client *c, int64_t id, const char *action, const char *extra, gr_resp *r)
{
    char path[96], body[1024];

    snprintf(path, sizeof(path), "/api/v1/cases/%lld/%s", (long long)id, action);
    snprintf(body, sizeof(body), "{\"version\":%lld%s%s}", (long long)version_of(id),
             extra ? "," : "", extra ? extra : "");
    return req(c, "POST", path, body, r);
}

/* An action that must succeed and lead to want. */
static void step(int who, int64_t id, const char *action, const char *extra, const char *want)
{
    gr_resp r;

    if (act(&cl[who], id, action, extra, &r) != 200)
        fail_msg("%s by %s: %ld %s", action, names[who], r.status, r.body);
    assert_string_equal(gr_jstr(r.json, "state"), want);
    gr_resp_free(&r);
}

static int64_t report(gr_client *c, const char *extra, double lat, double lon, gr_resp *out)
{
    char body[2048];
    gr_resp r;
    int64_t id;

    snprintf(
        body, sizeof(body),
        "{\"title\":\"早市摊贩占道经营\",\"description\":\"每天早上六点到九点，人行道被摊位占满\","
        "\"lat\":%.9f,\"lon\":%.9f%s%s}",
        lat, lon, extra ? "," : "", extra ? extra : "");
    if (req(c, "POST", "/api/v1/cases", body, &r) != 201)
        fail_msg("report: %ld %s", r.status, r.body);
    id = gr_jint(r.json, "id");
    if (out)
        *out = r;
    else
        gr_resp_free(&r);
    return id;
}

/* The timeline's actions as one string: "report accept file ...". */
static char *actions_of(int64_t id)
{
    char path[96], *s = calloc(1, 4096);
    gr_resp r;
    json_t *e;
    size_t i;

    snprintf(path, sizeof(path), "/api/v1/cases/%lld/timeline", (long long)id);
    assert_int_equal(req(&cl[ADMIN], "GET", path, NULL, &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, e)
    {
        if (i)
            strcat(s, " ");
        strcat(s, gr_jstr(e, "action"));
    }
    gr_resp_free(&r);
    return s;
}

static int group_setup(void **state)
{
    int i;

    setenv("GR_SCHED_INTERVAL_MS", "300", 1);
    gr_setup_demo(state);
    for (i = 0; i < NCLIENTS; i++)
        gr_login_demo(&cl[i], names[i]);
    gr_client_init(&anon, &gr_srv);
    centre("110105001024001", &glat, &glon);
    centre("110105002024001", &olat, &olon);
    cgw = dept("城管");
    swj = dept("水务");
    return 0;
}

static int group_teardown(void **state)
{
    int i;

    for (i = 0; i < NCLIENTS; i++)
        gr_client_free(&cl[i]);
    gr_client_free(&anon);
    return gr_teardown_server(state);
}

/* From dispatch on: return, re-dispatch, handle, failed verification, rework,
 * verification, close. */
static void walk_from_filed(int64_t id)
{
    char extra[64];

    snprintf(extra, sizeof(extra), "\"department_id\":%lld", (long long)cgw);
    step(DISPATCHER, id, "dispatch", extra, "dispatched");
    step(DEPT, id, "sign", NULL, "signed");
    step(DEPT, id, "return", "\"note\":\"此处为绿地内部，非本部门职责\"", "returned");
    step(DISPATCHER, id, "dispatch", extra, "dispatched");
    step(DEPT, id, "sign", NULL, "signed");
    step(DEPT, id, "handle", "\"note\":\"已劝离摊贩，清理现场\"", "handled");
    step(INSPECTOR, id, "verify", "\"passed\":false,\"note\":\"仍有两处摊位\"", "rework");
    step(DEPT, id, "handle", "\"note\":\"已全部清理\"", "handled");
    step(INSPECTOR, id, "verify", "\"passed\":true", "verified");
    step(SHIFT, id, "close", NULL, "closed");
}

/* The acceptor classifies what the reporter left open. */
static void walk(int64_t id)
{
    char extra[64];

    snprintf(extra, sizeof(extra), "\"category_id\":%lld", (long long)cat("E0406"));
    step(ACCEPTOR, id, "accept", extra, "accepted");
    step(SHIFT, id, "file", NULL, "filed");
    walk_from_filed(id);
}

/* ---- the channels ---- */

static void test_walk_resident(void **state)
{
    char path[96], *acts;
    int64_t id;
    gr_resp r;
    json_t *e;
    size_t i;
    int saw_return = 0;

    (void)state;
    id = report(&cl[RESIDENT], "\"is_public\":true", glat, glon, &r);
    assert_string_equal(gr_jstr(r.json, "channel"), "web");
    assert_string_equal(gr_jstr(r.json, "state"), "reported");
    assert_true(json_is_array(json_object_get(r.json, "timeline")));
    assert_true(json_is_array(json_object_get(r.json, "duplicates")));
    assert_null(json_object_get(r.json, "department_id")); /* not in the resident's view */
    gr_resp_free(&r);
    walk(id);
    /* 不满意: back to the dispatcher for review, once. */
    assert_int_equal(
        act(&cl[RESIDENT], id, "rate", "\"rating\":\"unsatisfied\",\"note\":\"摊贩又回来了\"", &r),
        200);
    assert_string_equal(gr_jstr(r.json, "state"), "review");
    gr_resp_free(&r);
    step(DISPATCHER, id, "review", "\"decision\":\"close\",\"note\":\"已回访并解释\"", "closed");
    step(RESIDENT, id, "rate", "\"rating\":\"basically_satisfied\"", "closed");
    acts = actions_of(id);
    assert_string_equal(acts, "report accept file dispatch sign return dispatch sign handle "
                              "verify handle verify close rate review rate");
    free(acts);
    /* The resident's own view: no internal notes, no department's return reason. */
    snprintf(path, sizeof(path), "/api/v1/my/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[RESIDENT], "GET", path, NULL, &r), 200);
    assert_string_equal(gr_jstr(r.json, "rating"), "basically_satisfied");
    json_array_foreach(json_object_get(r.json, "timeline"), i, e)
    {
        assert_null(json_object_get(e, "actor_user_id"));
        if (strcmp(gr_jstr(e, "action"), "return") == 0) {
            saw_return = 1;
            assert_null(json_object_get(e, "note"));
        }
    }
    assert_true(saw_return);
    gr_resp_free(&r);
    /* ... and in the list of their reports. */
    assert_int_equal(req(&cl[RESIDENT], "GET", "/api/v1/my/cases?limit=100", NULL, &r), 200);
    assert_int_equal(gr_jint(json_array_get(json_object_get(r.json, "items"), 0), "id"), id);
    gr_resp_free(&r);
    /* Someone else's report is not there for them; staff read through /cases. */
    snprintf(path, sizeof(path), "/api/v1/my/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[ACCEPTOR], "GET", path, NULL, &r), 404);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[RESIDENT], "GET", path, NULL, &r), 403);
    gr_resp_free(&r);
}

static void test_walk_anonymous(void **state)
{
    char path[128], code[32];
    int64_t id;
    gr_resp r;
    json_t *e;
    size_t i;

    (void)state;
    id = report(&anon, "\"contact\":\"13900001234\",\"is_public\":true", glat, glon, &r);
    /* The receipt: the code to quote, nothing more. */
    assert_string_equal(gr_jstr(r.json, "state"), "reported");
    snprintf(code, sizeof(code), "%s", gr_jstr(r.json, "public_code"));
    assert_int_equal(strlen(code), 14);
    assert_null(json_object_get(r.json, "contact"));
    gr_resp_free(&r);
    /* Every view shows the masked number; those who call back ask for the
     * full one with a purpose, and that read is on the audit log. */
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[ACCEPTOR], "GET", path, NULL, &r), 200);
    assert_string_equal(gr_jstr(r.json, "contact"), "139****1234");
    assert_string_equal(gr_jstr(r.json, "channel"), "web");
    assert_null(strstr(r.body, "13900001234"));
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/contact", (long long)id);
    assert_int_equal(req(&cl[ACCEPTOR], "GET", path, NULL, &r), 400);
    gr_assert_problem(&r, 400, "purpose");
    gr_resp_free(&r);
    /* A purpose longer than the audit log keeps: refused, nothing shown or recorded. */
    {
        char lpath[512];
        snprintf(lpath, sizeof(lpath), "/api/v1/cases/%lld/contact?purpose=%0300d", (long long)id,
                 0);
        assert_int_equal(req(&cl[ACCEPTOR], "GET", lpath, NULL, &r), 400);
        gr_assert_problem(&r, 400, "purpose");
        assert_null(strstr(r.body, "13900001234"));
        gr_resp_free(&r);
    }
    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM audit_log WHERE entity = 'case'"),
                     0);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/contact?purpose=%s", (long long)id,
             "callback%20about%20the%20report");
    assert_int_equal(req(&cl[ACCEPTOR], "GET", path, NULL, &r), 200);
    assert_string_equal(gr_jstr(r.json, "contact"), "13900001234");
    gr_resp_free(&r);
    assert_int_equal(req(&cl[DISPATCHER], "GET", path, NULL, &r), 403);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/audit?entity=case&entity_id=%lld", (long long)id);
    assert_int_equal(req(&cl[ADMIN], "GET", path, NULL, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 1);
    e = json_array_get(json_object_get(r.json, "items"), 0);
    assert_string_equal(gr_jstr(e, "action"), "reveal");
    assert_string_equal(gr_jstr(e, "purpose"), "callback about the report");
    assert_string_equal(gr_jstr(e, "actor_role"), "acceptor");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[DISPATCHER], "GET", path, NULL, &r), 200);
    assert_string_equal(gr_jstr(r.json, "contact"), "139****1234");
    gr_resp_free(&r);
    assert_int_equal(req(&cl[LEADER], "GET", path, NULL, &r), 200);
    assert_string_equal(gr_jstr(r.json, "contact"), "139****1234");
    gr_resp_free(&r);
    /* Not routed to a department yet: not the department staff's to read. */
    assert_int_equal(req(&cl[DEPT], "GET", path, NULL, &r), 403);
    gr_resp_free(&r);
    walk(id);
    /* The public page: no reporter, no contact, no address, state changes only. */
    snprintf(path, sizeof(path), "/api/v1/public/cases/%s", code);
    assert_int_equal(req(&anon, "GET", path, NULL, &r), 200);
    assert_string_equal(gr_jstr(r.json, "state"), "closed");
    assert_null(json_object_get(r.json, "contact"));
    assert_null(json_object_get(r.json, "reporter_user_id"));
    assert_null(json_object_get(r.json, "address"));
    assert_null(strstr(r.body, "13900001234"));
    json_array_foreach(json_object_get(r.json, "timeline"), i, e)
    {
        assert_null(json_object_get(e, "note"));
        assert_true(strcmp(gr_jstr(e, "action"), "supervise") != 0);
    }
    gr_resp_free(&r);
    /* Without a number to call back on an anonymous report is refused. */
    assert_int_equal(req(&anon, "POST", "/api/v1/cases",
                         "{\"title\":\"x\",\"description\":\"y\",\"lat\":39.9,\"lon\":116.4}", &r),
                     400);
    gr_assert_problem(&r, 400, "contact");
    gr_resp_free(&r);
    /* A private case is not on the public page. */
    id = report(&anon, "\"contact\":\"13900001235\"", glat, glon, &r);
    snprintf(path, sizeof(path), "/api/v1/public/cases/%s", gr_jstr(r.json, "public_code"));
    gr_resp_free(&r);
    assert_int_equal(req(&anon, "GET", path, NULL, &r), 404);
    gr_resp_free(&r);
    assert_int_equal(req(&anon, "GET", "/api/v1/public/cases/GR000000000000", NULL, &r), 404);
    gr_resp_free(&r);
}

static void test_walk_hotline_counter(void **state)
{
    int64_t id, district;
    gr_resp r;
    char extra[160];
    json_t *o;

    (void)state;
    id = report(&cl[ACCEPTOR], "\"channel\":\"hotline\",\"contact\":\"13900002345\"", glat, glon,
                &r);
    assert_string_equal(gr_jstr(r.json, "channel"), "hotline");
    assert_string_equal(gr_jstr(r.json, "contact"), "139****2345");
    district = gr_jint(r.json, "district_id");
    assert_int_equal(gr_jint(r.json, "first_unit_id"), district); /* 首接: the centre */
    gr_resp_free(&r);
    walk(id);

    /* The counter with an address only: the acceptor places it when accepting. */
    assert_int_equal(req(&cl[ACCEPTOR], "POST", "/api/v1/cases",
                         "{\"channel\":\"counter\",\"contact\":\"13900003456\",\"title\":"
                         "\"楼道堆物\",\"description\":\"三单元楼道堆满杂物\",\"address\":"
                         "\"南郎家园3号楼\"}",
                         &r),
                     201);
    id = gr_jint(r.json, "id");
    assert_true(json_is_null(json_object_get(r.json, "location")));
    assert_true(json_is_null(json_object_get(r.json, "grid_id")));
    gr_resp_free(&r);
    snprintf(extra, sizeof(extra), "\"lat\":%.9f,\"lon\":%.9f,\"category_id\":%lld", glat, glon,
             (long long)cat("E0136"));
    step(ACCEPTOR, id, "accept", extra, "accepted");
    o = staff_get(id);
    assert_true(gr_jint(o, "grid_id") > 0);
    assert_int_equal(gr_jint(o, "department_id"), cgw);
    json_decref(o);
    step(SHIFT, id, "file", NULL, "filed");
    walk_from_filed(id);
    /* An address alone is not enough for the web. */
    assert_int_equal(req(&cl[RESIDENT], "POST", "/api/v1/cases",
                         "{\"title\":\"x\",\"description\":\"y\",\"address\":\"某处\"}", &r),
                     400);
    gr_assert_problem(&r, 400, "lat");
    gr_resp_free(&r);
    /* Acceptors say which channel; "open311" is not theirs to name. */
    assert_int_equal(req(&cl[ACCEPTOR], "POST", "/api/v1/cases",
                         "{\"title\":\"x\",\"description\":\"y\",\"address\":\"某处\","
                         "\"contact\":\"13900003456\"}",
                         &r),
                     400);
    gr_assert_problem(&r, 400, "channel");
    gr_resp_free(&r);
    assert_int_equal(req(&cl[ACCEPTOR], "POST", "/api/v1/cases",
                         "{\"channel\":\"open311\",\"title\":\"x\",\"description\":\"y\","
                         "\"address\":\"某处\",\"contact\":\"13900003456\"}",
                         &r),
                     400);
    gr_assert_problem(&r, 400, "channel");
    gr_resp_free(&r);
}

static void test_walk_inspector_sensor(void **state)
{
    char extra[96], tok[160];
    gr_client machine;
    int64_t id;
    gr_resp r;

    (void)state;
    snprintf(extra, sizeof(extra), "\"category_id\":%lld", (long long)cat("E0406"));
    id = report(&cl[INSPECTOR], extra, glat, glon, &r);
    /* Trusted: accepted and filed by the system on intake. */
    assert_string_equal(gr_jstr(r.json, "channel"), "inspector");
    assert_string_equal(gr_jstr(r.json, "state"), "filed");
    assert_string_equal(gr_jstr(r.json, "step"), "dispatch");
    assert_int_equal(gr_jint(r.json, "department_id"), cgw);
    gr_resp_free(&r);
    walk_from_filed(id);
    {
        char *acts = actions_of(id);
        assert_true(strncmp(acts, "report accept file dispatch", 27) == 0);
        free(acts);
    }

    /* A machine with an API token scoped to reporting. */
    assert_int_equal(req(&cl[ADMIN], "POST", "/api/v1/tokens",
                         "{\"name\":\"积水传感器\",\"scopes\":[\"case.report\"],"
                         "\"expires_in_days\":30}",
                         &r),
                     201);
    snprintf(tok, sizeof(tok), "%s", gr_jstr(r.json, "token"));
    gr_resp_free(&r);
    gr_client_init(&machine, &gr_srv);
    snprintf(machine.bearer, sizeof(machine.bearer), "%s", tok);
    snprintf(extra, sizeof(extra), "\"category_id\":%lld", (long long)cat("E0505"));
    id = report(&machine, extra, glat, glon, &r);
    assert_string_equal(gr_jstr(r.json, "channel"), "sensor");
    assert_string_equal(gr_jstr(r.json, "state"), "filed");
    gr_resp_free(&r);
    /* Its token reports and does nothing else. */
    snprintf(extra, sizeof(extra), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(req(&machine, "GET", extra, NULL, &r), 403);
    gr_resp_free(&r);
    gr_client_free(&machine);
    walk_from_filed(id);
}

/* The answer to a report is built from the record the write made, not read
 * back (case_create_written): it must equal what a GET of the case by the
 * same caller shows (but for the duplicates offered), for a trusted channel
 * with three events, for a case entered for a caller with a contact, for
 * an anonymous one and for one entered with an address only. */
static void same_as_get(int who, const char *body)
{
    char path[64];
    gr_resp posted, got;
    json_t *a;

    if (req(&cl[who], "POST", "/api/v1/cases", body, &posted) != 201)
        fail_msg("report by %s: %ld %s", names[who], posted.status, posted.body);
    a = json_deep_copy(posted.json);
    assert_int_equal(json_object_del(a, "duplicates"), 0);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)gr_jint(a, "id"));
    assert_int_equal(req(&cl[who], "GET", path, NULL, &got), 200);
    if (!json_equal(a, got.json))
        fail_msg("%s: the answer to the report\n%s\ndiffers from GET\n%s", names[who], posted.body,
                 got.body);
    json_decref(a);
    gr_resp_free(&posted);
    gr_resp_free(&got);
}

static void test_report_answer_is_the_case(void **state)
{
    char body[512];

    (void)state;
    snprintf(body, sizeof(body),
             "{\"title\":\"井盖缺失\",\"description\":\"路口井盖缺失\",\"lat\":%.9f,"
             "\"lon\":%.9f,\"category_id\":%lld,\"urgent\":true}",
             glat, glon, (long long)cat("E0406"));
    same_as_get(INSPECTOR, body);
    snprintf(body, sizeof(body),
             "{\"channel\":\"hotline\",\"contact\":\"13900002345\",\"title\":\"噪音\","
             "\"description\":\"夜间施工\",\"lat\":%.9f,\"lon\":%.9f,\"is_public\":true}",
             glat, glon);
    same_as_get(ACCEPTOR, body);
    snprintf(body, sizeof(body),
             "{\"channel\":\"hotline\",\"contact\":\"13900002346\",\"anonymous\":true,"
             "\"title\":\"占道\",\"description\":\"摊位占道\",\"lat\":%.9f,\"lon\":%.9f,"
             "\"area_class\":\"A\"}",
             glat, glon);
    same_as_get(ACCEPTOR, body);
    same_as_get(ACCEPTOR, "{\"channel\":\"counter\",\"contact\":\"13900003456\",\"title\":"
                          "\"楼道堆物\",\"description\":\"三单元楼道堆满杂物\",\"address\":"
                          "\"南郎家园3号楼\"}");
}

/* ---- conflicts ---- */

static void test_conflicts(void **state)
{
    int64_t id = report(&cl[RESIDENT], NULL, glat, glon, NULL);
    char path[96], *st;
    json_t *a;
    gr_resp r;
    size_t i;

    (void)state;
    /* Not possible now: 409 naming what is, for this role. */
    assert_int_equal(act(&cl[SHIFT], id, "close", NULL, &r), 409);
    gr_assert_problem(&r, 409, NULL);
    assert_int_equal(gr_jint(r.json, "version"), 1);
    assert_string_equal(gr_jstr(r.json, "state"), "reported");
    a = json_object_get(r.json, "allowed");
    assert_true(json_array_size(a) >= 3);
    for (i = 0; i < json_array_size(a); i++)
        assert_true(strcmp(json_string_value(json_array_get(a, i)), "close") != 0);
    assert_string_equal(json_string_value(json_array_get(a, 0)), "accept");
    gr_resp_free(&r);
    /* A stale version: 409 with the current one, and nothing changes. */
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/accept", (long long)id);
    assert_int_equal(req(&cl[ACCEPTOR], "POST", path, "{\"version\":7}", &r), 409);
    gr_assert_problem(&r, 409, "version");
    assert_int_equal(gr_jint(r.json, "version"), 1);
    gr_resp_free(&r);
    /* Two people at once: one wins, the other is told. */
    assert_int_equal(req(&cl[ACCEPTOR], "POST", path, "{\"version\":1}", &r), 200);
    assert_int_equal(gr_jint(r.json, "version"), 2);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/reject", (long long)id);
    assert_int_equal(req(&cl[SHIFT], "POST", path, "{\"version\":1,\"note\":\"x\"}", &r), 409);
    gr_assert_problem(&r, 409, "version");
    assert_int_equal(gr_jint(r.json, "version"), 2);
    gr_resp_free(&r);
    st = state_of(id);
    assert_string_equal(st, "accepted");
    free(st);
    /* Bodies are checked at the edge. */
    assert_int_equal(req(&cl[SHIFT], "POST", path, "{\"note\":\"x\"}", &r), 400);
    gr_assert_problem(&r, 400, "version");
    gr_resp_free(&r);
    assert_int_equal(req(&cl[SHIFT], "POST", path, "{\"version\":2,\"colour\":\"red\"}", &r), 400);
    gr_assert_problem(&r, 400, "colour");
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/verify", (long long)id);
    assert_int_equal(req(&cl[INSPECTOR], "POST", path, "{\"version\":2}", &r), 400);
    gr_assert_problem(&r, 400, "passed");
    gr_resp_free(&r);
    assert_int_equal(
        req(&cl[ACCEPTOR], "POST", "/api/v1/cases/999999/accept", "{\"version\":1}", &r), 404);
    gr_assert_problem(&r, 404, "id");
    gr_resp_free(&r);
    assert_int_equal(req(&cl[ADMIN], "GET", "/api/v1/cases/999999", NULL, &r), 404);
    gr_resp_free(&r);
    assert_int_equal(version_of(id), 2);
}

/* ---- roles ---- */

static const struct {
    const char *action;
    const char *allowed; /* roles the policy lets through */
} rules[] = {
    {"accept", "acceptor shift_leader"},
    {"reject", "acceptor shift_leader"},
    {"file", "shift_leader"},
    {"dispatch", "dispatcher shift_leader"},
    {"sign", "department_staff"},
    {"handle", "department_staff"},
    {"return", "department_staff"},
    {"escalate", "dispatcher shift_leader"},
    {"decide", "shift_leader"},
    {"extend", "department_staff"},
    {"approve-extension", "shift_leader"},
    {"deny-extension", "shift_leader"},
    {"backlog", "shift_leader"},
    {"unbacklog", "shift_leader"},
    {"verify", "grid_inspector"},
    {"confirm", "resident"},
    {"close", "shift_leader"},
    {"cancel", "shift_leader"},
    {"merge", "acceptor shift_leader"},
    {"supervise", "leader shift_leader"},
    {"review", "dispatcher shift_leader"},
    {"rate", "resident"},
};

static int listed(const char *list, const char *word)
{
    char padded[128], w[48];

    snprintf(padded, sizeof(padded), " %s ", list);
    snprintf(w, sizeof(w), " %s ", word);
    return strstr(padded, w) != NULL;
}

static void test_roles(void **state)
{
    int64_t id = report(&cl[RESIDENT], NULL, glat, glon, NULL);
    char path[96];
    gr_resp r;
    size_t a;
    int k;

    (void)state;
    for (a = 0; a < sizeof(rules) / sizeof(rules[0]); a++) {
        snprintf(path, sizeof(path), "/api/v1/cases/%lld/%s", (long long)id, rules[a].action);
        for (k = 0; k < NCLIENTS; k++) {
            if (listed(rules[a].allowed, names[k]))
                continue;
            if (req(&cl[k], "POST", path, "{\"version\":1}", &r) != 403)
                fail_msg("%s as %s: %ld %s", rules[a].action, names[k], r.status, r.body);
            gr_resp_free(&r);
        }
        assert_int_equal(req(&anon, "POST", path, "{\"version\":1}", &r), 401);
        gr_resp_free(&r);
    }
    assert_int_equal(version_of(id), 1);
    /* Reading: staff in scope; a community worker elsewhere, residents, nobody: no. */
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[COMMUNITY], "GET", path, NULL, &r), 200);
    gr_resp_free(&r);
    assert_int_equal(req(&anon, "GET", path, NULL, &r), 401);
    gr_resp_free(&r);
    id = report(&cl[RESIDENT], NULL, olat, olon, NULL);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[COMMUNITY], "GET", path, NULL, &r), 403);
    gr_resp_free(&r);
    /* Data rules among allowed roles: the inspector's grid, the department, the reporter. */
    {
        char extra[64];
        snprintf(extra, sizeof(extra), "\"category_id\":%lld", (long long)cat("E0406"));
        step(ACCEPTOR, id, "accept", extra, "accepted");
        step(SHIFT, id, "file", NULL, "filed");
        snprintf(extra, sizeof(extra), "\"department_id\":%lld", (long long)swj);
        step(DISPATCHER, id, "dispatch", extra, "dispatched");
    }
    assert_int_equal(act(&cl[DEPT], id, "sign", NULL, &r), 403); /* 水务's, not 城管's */
    gr_resp_free(&r);
    assert_int_equal(act(&cl[RESIDENT], id, "info", "\"note\":\"补充：晚上也有\"", &r), 200);
    gr_resp_free(&r);
    id = report(&cl[ACCEPTOR], "\"channel\":\"hotline\",\"contact\":\"13900004567\"", glat, glon,
                NULL);
    assert_int_equal(act(&cl[RESIDENT], id, "info", "\"note\":\"x\"", &r), 403);
    gr_resp_free(&r);
    walk(id);
}

/* ---- bad input ---- */

static void bad_report(gr_client *c, const char *body, long status, const char *field)
{
    int64_t before = count_rows("SELECT count(*) FROM cases");
    gr_resp r;

    assert_int_equal(req(c, "POST", "/api/v1/cases", body, &r), status);
    gr_assert_problem(&r, status, field);
    gr_resp_free(&r);
    assert_int_equal(count_rows("SELECT count(*) FROM cases"), before);
}

static void test_bad_input(void **state)
{
    char body[16384], tail[128];
    gr_bytes jpg, want;
    gr_resp r;
    int i, n;

    (void)state;
    snprintf(tail, sizeof(tail), "\"lat\":%.9f,\"lon\":%.9f", glat, glon);
    snprintf(body, sizeof(body),
             "{\"title\":\"x\",\"description\":\"y\",\"category_id\":999999,%s}", tail);
    bad_report(&cl[RESIDENT], body, 400, "category_id");
    bad_report(&cl[RESIDENT], "{\"title\":\"x\",\"description\":\"y\",\"lat\":10.5,\"lon\":10.5}",
               400, "lat");
    assert_int_equal(req(&cl[RESIDENT], "POST", "/api/v1/cases",
                         "{\"title\":\"x\",\"description\":\"y\",\"lat\":10.5,\"lon\":10.5}", &r),
                     400);
    assert_non_null(strstr(gr_jstr(r.json, "detail"), "outside every grid"));
    gr_resp_free(&r);
    bad_report(&cl[RESIDENT], "{\"title\":\"x\",\"description\":\"y\",\"lat\":91,\"lon\":116}", 400,
               "lat");
    bad_report(&cl[RESIDENT], "{\"title\":\"x\",\"description\":\"y\",\"lat\":39.9}", 400, "lon");
    bad_report(&cl[RESIDENT], "{\"title\":\"x\",\"description\":\"y\",\"lat\":\"39\",\"lon\":116}",
               400, "lat");
    n = snprintf(body, sizeof(body), "{\"title\":\"x\",%s,\"description\":\"", tail);
    for (i = 0; i < 4001; i++)
        body[n++] = 'a';
    snprintf(body + n, sizeof(body) - (size_t)n, "\"}");
    bad_report(&cl[RESIDENT], body, 400, "description");
    snprintf(body, sizeof(body), "{\"title\":\"x\",\"description\":\"y\",%s,\"urgent\":true}",
             tail);
    bad_report(&cl[RESIDENT], body, 400, "urgent");
    snprintf(body, sizeof(body), "{\"title\":\"x\",\"description\":\"y\",%s,\"media\":[999999]}",
             tail);
    bad_report(&cl[RESIDENT], body, 400, "media");
    snprintf(body, sizeof(body), "{\"title\":\"x\",\"description\":\"y\",%s,\"media\":[\"a\"]}",
             tail);
    bad_report(&cl[RESIDENT], body, 400, "media");
    snprintf(body, sizeof(body), "{\"title\":\"x\",\"description\":\"y\",%s,\"crs\":\"utm\"}",
             tail);
    bad_report(&cl[RESIDENT], body, 400, "crs");
    snprintf(body, sizeof(body), "{\"title\":\"x\",\"description\":\"y\",%s,\"nick\":\"z\"}", tail);
    bad_report(&cl[RESIDENT], body, 400, "nick");
    /* A forged media type never becomes a medium to attach. */
    memset(&jpg, 0, sizeof(jpg));
    memset(&want, 0, sizeof(want));
    gr_jpeg_sample(&jpg, &want);
    assert_int_equal(
        gr_request_bin(&cl[RESIDENT], "POST", "/api/v1/media", "image/png", jpg.d, jpg.n, &r), 415);
    gr_resp_free(&r);
    /* A real one does, once; someone else's does not. */
    assert_int_equal(
        gr_request_bin(&cl[RESIDENT], "POST", "/api/v1/media", "image/jpeg", jpg.d, jpg.n, &r),
        201);
    snprintf(body, sizeof(body),
             "{\"title\":\"x\",\"description\":\"y\",%s,\"media\":[%lld],\"is_public\":true}", tail,
             (long long)gr_jint(r.json, "id"));
    gr_resp_free(&r);
    bad_report(&cl[ACCEPTOR], body, 400, "channel");
    {
        char b2[16384];
        snprintf(b2, sizeof(b2), "%.*s,\"channel\":\"hotline\",\"contact\":\"13900005678\"}",
                 (int)strlen(body) - 1, body);
        bad_report(&cl[ACCEPTOR], b2, 400, "media");
    }
    assert_int_equal(req(&cl[RESIDENT], "POST", "/api/v1/cases", body, &r), 201);
    assert_int_equal(json_array_size(json_object_get(r.json, "media")), 1);
    gr_resp_free(&r);
    /* Not JSON, the wrong type. */
    assert_int_equal(gr_request(&cl[RESIDENT], "POST", "/api/v1/cases", "text/plain", "x", &r),
                     415);
    gr_resp_free(&r);
    bad_report(&cl[RESIDENT], "{\"title\":", 400, NULL);
}

/* ---- duplicates and the resident's side ---- */

static void test_duplicates(void **state)
{
    char extra[160], path[256];
    int64_t first, second, third, e0110 = cat("E0110");
    gr_resp r;
    json_t *d;
    size_t i;
    int found = 0;

    (void)state;
    snprintf(extra, sizeof(extra), "\"category_id\":%lld,\"is_public\":true", (long long)e0110);
    first = report(&cl[RESIDENT], extra, olat, olon, NULL);
    snprintf(extra, sizeof(extra), "\"category_id\":%lld", (long long)e0110);
    second = report(&cl[RESIDENT], extra, olat + 0.0004, olon, &r);
    json_array_foreach(json_object_get(r.json, "duplicates"), i, d)
    {
        if (gr_jint(d, "id") == first) {
            found = 1;
            assert_true(gr_jint(d, "distance_m") > 20 && gr_jint(d, "distance_m") < 80);
            assert_string_equal(gr_jstr(d, "title"), "早市摊贩占道经营"); /* public */
        }
        assert_true(gr_jint(d, "id") != second);
        assert_null(json_object_get(d, "contact"));
    }
    assert_true(found);
    gr_resp_free(&r);
    /* The public lookup shows public cases only: that a private case exists,
     * where and in what state, is its reporter's business. */
    snprintf(path, sizeof(path), "/api/v1/cases/nearby?lat=%.9f&lon=%.9f&category_id=%lld", olat,
             olon, (long long)e0110);
    assert_int_equal(req(&anon, "GET", path, NULL, &r), 200);
    found = 0;
    json_array_foreach(json_object_get(r.json, "items"), i, d)
    {
        assert_true(gr_jint(d, "id") != second);
        found |= gr_jint(d, "id") == first;
    }
    assert_true(found);
    gr_resp_free(&r);
    /* Staff in scope see the private one too, without its words. */
    assert_int_equal(req(&cl[ACCEPTOR], "GET", path, NULL, &r), 200);
    found = 0;
    json_array_foreach(json_object_get(r.json, "items"), i, d)
    {
        if (gr_jint(d, "id") == second) {
            found = 1;
            assert_true(json_is_null(json_object_get(d, "title")));
        }
    }
    assert_true(found);
    gr_resp_free(&r);
    assert_int_equal(req(&anon, "GET", "/api/v1/cases/nearby?lat=99&lon=116", NULL, &r), 400);
    gr_assert_problem(&r, 400, "lat");
    gr_resp_free(&r);
    assert_int_equal(req(&anon, "GET", "/api/v1/cases/nearby?lat=39.9", NULL, &r), 400);
    gr_assert_problem(&r, 400, "lon");
    gr_resp_free(&r);
    /* "It is that one": a third report joins the first; its reporter hears of it. */
    snprintf(extra, sizeof(extra), "\"category_id\":%lld,\"duplicate_of\":%lld", (long long)e0110,
             (long long)first);
    third = report(&anon, "\"contact\":\"13900006789\"", olat, olon, NULL);
    second = report(&cl[RESIDENT], extra, olat, olon, &r);
    assert_string_equal(gr_jstr(r.json, "state"), "merged");
    assert_int_equal(gr_jint(r.json, "merged_into"), first);
    gr_resp_free(&r);
    /* The acceptor merges the anonymous duplicate too. */
    snprintf(extra, sizeof(extra), "\"into\":%lld", (long long)first);
    assert_int_equal(act(&cl[ACCEPTOR], second, "merge", extra, &r), 409); /* already merged */
    gr_resp_free(&r);
    step(ACCEPTOR, third, "merge", extra, "merged");
    snprintf(path, sizeof(path), "SELECT count(*) FROM case_reporters WHERE case_id = %lld",
             (long long)first);
    assert_int_equal(count_rows(path), 3);
    step(ACCEPTOR, first, "accept", NULL, "accepted");
    snprintf(path, sizeof(path),
             "SELECT count(*) FROM notices WHERE subject_id = %lld AND kind = 'case.accepted'",
             (long long)first);
    assert_int_equal(count_rows(path), 1);
}

/* Department staff read and add to their department's cases only, as their
 * work lists show them. */
static void test_department_scope(void **state)
{
    char extra[64], path[128];
    int64_t id, own;
    gr_resp r;

    (void)state;
    snprintf(extra, sizeof(extra), "\"category_id\":%lld", (long long)cat("E0406"));
    id = report(&cl[RESIDENT], extra, glat, glon, NULL);
    own = report(&cl[RESIDENT], extra, glat, glon, NULL);
    step(ACCEPTOR, id, "accept", NULL, "accepted");
    step(SHIFT, id, "file", NULL, "filed");
    step(ACCEPTOR, own, "accept", NULL, "accepted");
    step(SHIFT, own, "file", NULL, "filed");
    snprintf(extra, sizeof(extra), "\"department_id\":%lld", (long long)swj);
    step(DISPATCHER, id, "dispatch", extra, "dispatched");
    snprintf(extra, sizeof(extra), "\"department_id\":%lld", (long long)cgw);
    step(DISPATCHER, own, "dispatch", extra, "dispatched");
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)id);
    assert_int_equal(req(&cl[DEPT], "GET", path, NULL, &r), 403);
    gr_assert_problem(&r, 403, NULL);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/cases/%lld/timeline", (long long)id);
    assert_int_equal(req(&cl[DEPT], "GET", path, NULL, &r), 403);
    gr_resp_free(&r);
    assert_int_equal(act(&cl[DEPT], id, "info", "\"note\":\"补充说明\"", &r), 403);
    gr_resp_free(&r);
    snprintf(path, sizeof(path),
             "SELECT count(*) FROM case_events WHERE case_id = %lld AND action = 'info'",
             (long long)id);
    assert_int_equal(count_rows(path), 0);
    /* Its own department's case it reads and adds to. */
    snprintf(path, sizeof(path), "/api/v1/cases/%lld", (long long)own);
    assert_int_equal(req(&cl[DEPT], "GET", path, NULL, &r), 200);
    gr_resp_free(&r);
    step(DEPT, own, "info", "\"note\":\"补充说明\"", "dispatched");
}

/* Staff who report a problem outside their scope (a community worker passing
 * through another street) get their receipt, not a 403 for a case that was
 * written. */
static void test_report_outside_scope(void **state)
{
    int64_t before = count_rows("SELECT count(*) FROM cases"), id;
    gr_resp r;

    (void)state;
    id = report(&cl[COMMUNITY], NULL, olat, olon, &r);
    assert_true(id > 0);
    assert_int_equal(strlen(gr_jstr(r.json, "public_code")), 14);
    assert_string_equal(gr_jstr(r.json, "state"), "reported");
    assert_null(json_object_get(r.json, "timeline"));
    gr_resp_free(&r);
    assert_int_equal(count_rows("SELECT count(*) FROM cases"), before + 1);
}

/* A reporter joins only a case intake offered (250 m, 7 days), and does not
 * see the first reporter's contact in the case joined. */
static void test_duplicate_of_limits(void **state)
{
    char extra[64], body[512], path[96];
    int64_t target, far;
    gr_resp r;

    (void)state;
    target = report(&anon, "\"contact\":\"13900004321\"", olat, olon, NULL);
    far = report(&anon, "\"contact\":\"13900004322\"", glat, glon, NULL);
    snprintf(body, sizeof(body),
             "{\"title\":\"占道\",\"description\":\"又看到\",\"lat\":%.9f,\"lon\":%.9f,"
             "\"duplicate_of\":%lld}",
             olat, olon, (long long)far);
    bad_report(&cl[RESIDENT], body, 400, "duplicate_of");
    snprintf(extra, sizeof(extra), "\"duplicate_of\":%lld", (long long)target);
    report(&cl[RESIDENT], extra, olat, olon, NULL);
    snprintf(path, sizeof(path), "/api/v1/my/cases/%lld", (long long)target);
    assert_int_equal(req(&cl[RESIDENT], "GET", path, NULL, &r), 200);
    assert_true(json_is_null(json_object_get(r.json, "contact")));
    assert_null(strstr(r.body, "4321"));
    gr_resp_free(&r);
}

static void test_scheduler(void **state)
{
    int64_t id = report(&cl[RESIDENT], NULL, glat, glon, NULL);
    char sql[512], *acts = NULL;
    int i;

    (void)state;
    snprintf(sql, sizeof(sql),
             "sqlite3 '%s/grassroots.db' 'UPDATE case_steps SET due_at = 1 WHERE case_id = %lld'",
             gr_srv.dir, (long long)id);
    assert_int_equal(system(sql), 0);
    /* The server's scheduler runs every 300 ms here (GR_SCHED_INTERVAL_MS). */
    for (i = 0; i < 100; i++) {
        free(acts);
        acts = actions_of(id);
        if (strstr(acts, "supervise"))
            break;
        usleep(100 * 1000);
    }
    assert_string_equal(acts, "report supervise");
    free(acts);
    snprintf(sql, sizeof(sql), "SELECT overdue FROM case_steps WHERE case_id = %lld",
             (long long)id);
    assert_int_equal(count_rows(sql), 1);
    /* Leaders supervise too, with an instruction. */
    step(LEADER, id, "supervise", "\"note\":\"请尽快受理\"", "reported");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk_resident),
        cmocka_unit_test(test_walk_anonymous),
        cmocka_unit_test(test_walk_hotline_counter),
        cmocka_unit_test(test_walk_inspector_sensor),
        cmocka_unit_test(test_report_answer_is_the_case),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_roles),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_department_scope),
        cmocka_unit_test(test_duplicate_of_limits),
        cmocka_unit_test(test_report_outside_scope),
        cmocka_unit_test(test_scheduler),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
