/* cases/: intake from every channel and its validation, routing, every legal
 * and illegal transition of the state machine (against a table written out
 * here, independently of src/cases/case_flow.c), versions, data rules,
 * deadlines and the overdue scheduler, duplicates and merging, the 不满意
 * reopen, the append-only timeline and full text. Runs on the demo district
 * and catalogue in a real database. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"
#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "cases/case_model.h"
#include "org/org.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;
static int64_t grid, cgw, szsr, district;
static double glat, glon; /* a point in the grid inspector's grid */
static double olat, olon; /* a point in another street */
static double plat, plon; /* another one, for the duplicates */

enum { RESIDENT, ACCEPTOR, SHIFT, DISPATCHER, DEPT, INSPECTOR, LEADER, ADMIN, NACTORS };
static const char *const account_names[NACTORS] = {
    "resident",         "acceptor",       "shift_leader", "dispatcher",
    "department_staff", "grid_inspector", "leader",       "admin"};
static http_principal principals[NACTORS];
static case_actor actors[NACTORS];

static void expect_err(int rc, const gr_err *err, int code, const char *field)
{
    if (rc != code || strcmp(err->field, field) != 0)
        print_error("got rc %d field '%s' (%s); want %d '%s'\n", rc, err->field, err->msg, code,
                    field);
    assert_int_equal(rc, code);
    assert_string_equal(err->field, field);
    assert_true(err->msg[0] != '\0');
}

static int64_t category(const char *code)
{
    return gr_testdb_category(ctx.db, code);
}

static int group_setup(void **state)
{
    (void)state;
    gr_testdb_demo_app(&ctx, dir, sizeof(dir), "cases");
    A = arena_new();
    gr_testdb_case_actors(ctx.db, A, account_names, NACTORS, principals, actors);
    gr_testdb_demo_places(&ctx, &district, &grid, &cgw, &szsr, &glat, &glon);
    assert_int_equal(gr_testdb_point_outside(&ctx, grid, 200, &olat, &olon), 0);
    assert_int_equal(gr_testdb_point_outside(&ctx, grid, 300, &plat, &plon), 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    app_close(&ctx);
    app_close(&ctx); /* safe twice */
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

/* An intake at (lat, lon) with a title and a description. */
static case_input input_at(const char *title, const char *description, double lat, double lon)
{
    case_input in = {0};

    in.title = title;
    in.description = description;
    in.has_point = 1;
    in.lat = lat;
    in.lon = lon;
    return in;
}

/* A case reported by who at (lat, lon) under category code (NULL: none). */
static int64_t report_at(const case_actor *who, const char *code, double lat, double lon)
{
    case_input in = input_at("井盖缺失", "人行道上的井盖不见了，很危险", lat, lon);
    gr_err err = {0};
    int64_t id = 0;

    in.category_id = code ? category(code) : 0;
    in.contact = who->user_id ? NULL : "13900001111";
    if (strcmp(who->role, "acceptor") == 0) {
        in.channel = "hotline";
        in.contact = "13900001111";
    }
    if (case_create(&ctx, who, &in, &id, &err))
        fail_msg("case_create: %s: %s", err.field, err.msg);
    return id;
}

static int64_t report(void)
{
    return report_at(&actors[RESIDENT], "E0406", glat, glon);
}

static case_rec get(int64_t id)
{
    case_rec r;
    gr_err err = {0};

    assert_int_equal(case_get(gr_testdb_reader(ctx.db), A, id, &r, &err), 0);
    return r;
}

static int act(int who, int64_t id, case_action_input *in, case_result *res, gr_err *err)
{
    in->version = in->version ? in->version : get(id).version;
    if (!in->urgent)
        in->urgent = -1;
    return case_transition(&ctx, &actors[who], id, in, res, err);
}

/* Does action as who, which must succeed. */
static void must(int who, int64_t id, const char *action, const char *note)
{
    case_action_input in = {0};
    case_result res;
    gr_err err = {0};

    in.action = action;
    in.note = note;
    in.passed = 1;
    in.rating = "satisfied";
    in.decision = "redispatch";
    in.department_id = cgw;
    if (act(who, id, &in, &res, &err))
        fail_msg("%s by %s: %s: %s", action, account_names[who], err.field, err.msg);
}

static int64_t count_events(int64_t id)
{
    return gr_testdb_int(ctx.db, "SELECT count(*) FROM case_events WHERE case_id = ?", id);
}

/* ---- names ---- */

static void test_states(void **state)
{
    int s;

    (void)state;
    for (s = 0; s < CS_NSTATES; s++)
        assert_int_equal(case_state_parse(case_state_name((case_state)s)), s);
    assert_int_equal(case_state_parse("open"), -1);
    assert_int_equal(case_state_parse(NULL), -1);
    assert_true(case_state_final(CS_MERGED) && case_state_final(CS_REJECTED) &&
                case_state_final(CS_CANCELLED));
    assert_false(case_state_final(CS_CLOSED));
    assert_false(case_state_open(CS_CLOSED));
    assert_true(case_state_open(CS_REVIEW) && case_state_open(CS_BACKLOG));
}

/* ---- intake ---- */

static void test_intake_channels(void **state)
{
    case_actor sensor = actors[DISPATCHER], anon = {0, "anonymous", 0, 0, 0};
    const char *contact = NULL;
    case_event *ev;
    size_t n;
    gr_err err = {0};
    case_rec r;
    int64_t id;

    (void)state;
    /* A resident on the web: reported, theirs, the street is the first unit. */
    r = get(id = report());
    assert_string_equal(r.channel, "web");
    assert_int_equal(r.state, CS_REPORTED);
    assert_int_equal(r.reporter_user_id, principals[RESIDENT].user_id);
    assert_int_equal(r.grid_id, grid);
    assert_true(r.street_id > 0 && r.community_id > 0 && r.district_id == district);
    assert_int_equal(r.first_unit_id, r.street_id);
    assert_string_equal(r.step, "accept");
    assert_true(r.step_due_at > r.created_at);
    assert_true(case_is_reporter(gr_testdb_reader(ctx.db), id, principals[RESIDENT].user_id));
    assert_int_equal(strlen(r.public_code), 14);
    assert_memory_equal(r.public_code, "GR", 2);

    /* Anonymous: the contact is sealed, masked, and opens for those who call back. */
    r = get(id = report_at(&anon, NULL, glat, glon));
    assert_string_equal(r.channel, "web");
    assert_int_equal(r.reporter_user_id, 0);
    assert_string_equal(r.contact_hint, "139****1111");
    assert_int_equal(case_contact(&ctx, gr_testdb_reader(ctx.db), A, id, &contact, &err), 0);
    assert_string_equal(contact, "13900001111");
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM cases WHERE id = ? AND "
                                   "instr(CAST(contact_enc AS TEXT), '13900001111') > 0",
                                   id),
                     0);

    /* The hotline: entered by the acceptor, whose unit received it first. */
    r = get(id = report_at(&actors[ACCEPTOR], "E0406", glat, glon));
    assert_string_equal(r.channel, "hotline");
    assert_int_equal(r.entered_by, principals[ACCEPTOR].user_id);
    assert_int_equal(r.first_unit_id, district);
    assert_int_equal(r.reporter_user_id, 0);

    /* The grid inspector: trusted, accepted and filed by the system at once. */
    r = get(id = report_at(&actors[INSPECTOR], "E0406", glat, glon));
    assert_string_equal(r.channel, "inspector");
    assert_int_equal(r.state, CS_FILED);
    assert_string_equal(r.step, "dispatch");
    assert_int_equal(r.first_unit_id, grid);
    assert_int_equal(r.department_id, cgw);
    assert_int_equal(case_timeline(gr_testdb_reader(ctx.db), A, id, &ev, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].action, "report");
    assert_string_equal(ev[0].actor_role, "grid_inspector");
    assert_string_equal(ev[1].action, "accept");
    assert_string_equal(ev[1].actor_role, "system");
    assert_int_equal(ev[1].actor_user_id, 0);
    assert_string_equal(ev[2].action, "file");
    assert_string_equal(ev[2].to_state, "filed");

    /* A machine with an API token: the sensor channel, also trusted. */
    sensor.token_id = 7;
    r = get(report_at(&sensor, "E0505", glat, glon));
    assert_string_equal(r.channel, "sensor");
    assert_int_equal(r.state, CS_FILED);
}

static void test_intake_open311_and_address(void **state)
{
    case_input in = {0};
    gr_err err = {0};
    int64_t id = 0;
    case_rec r;

    (void)state;
    /* The Open311 module names its channel; a category is required there. */
    in = input_at("路灯不亮", "连续三盏路灯不亮", glat, glon);
    in.channel = "open311";
    in.is_public = 1;
    expect_err(case_create(&ctx, &actors[RESIDENT], &in, &id, &err), &err, GR_EINVAL,
               "category_id");
    in.category_id = category("C0118");
    assert_int_equal(case_create(&ctx, &actors[RESIDENT], &in, &id, &err), 0);
    r = get(id);
    assert_string_equal(r.channel, "open311");
    assert_int_equal(r.state, CS_REPORTED);
    assert_true(r.is_public);

    /* The counter takes a resident who has no phone: no contact. */
    memset(&in, 0, sizeof(in));
    in.channel = "counter";
    in.title = "路面坑洼";
    in.description = "小区门口路面坑洼";
    in.address = "南郎家园北门";
    assert_int_equal(case_create(&ctx, &actors[ACCEPTOR], &in, &id, &err), 0);
    r = get(id);
    assert_string_equal(r.channel, "counter");
    assert_string_equal(r.address, "南郎家园北门");

    /* A counter case with an address only: placed in the acceptor's unit. */
    memset(&in, 0, sizeof(in));
    in.channel = "counter";
    in.title = "楼道灯坏了";
    in.description = "三号楼二单元楼道灯不亮";
    in.address = "南郎家园3号楼2单元";
    in.contact = "13900002222";
    assert_int_equal(case_create(&ctx, &actors[ACCEPTOR], &in, &id, &err), 0);
    r = get(id);
    assert_false(r.has_point);
    assert_string_equal(r.address, "南郎家园3号楼2单元");
    assert_int_equal(r.grid_id, 0);
    assert_int_equal(r.district_id, district);
    assert_int_equal(case_scope_unit(&r), district);
    /* It cannot be filed until the acceptor places it. */
    must(ACCEPTOR, id, "accept", NULL);
    {
        case_action_input a = {0};
        case_result res;
        a.action = "file";
        expect_err(act(SHIFT, id, &a, &res, &err), &err, GR_EINVAL, "category_id");
        memset(&a, 0, sizeof(a));
        a.action = "file";
        a.category_id = category("E0406");
        expect_err(act(SHIFT, id, &a, &res, &err), &err, GR_EINVAL, "lat");
        a.has_point = 1;
        a.lat = glat;
        a.lon = glon;
        assert_int_equal(act(SHIFT, id, &a, &res, &err), 0);
    }
    r = get(id);
    assert_int_equal(r.state, CS_FILED);
    assert_int_equal(r.grid_id, grid);
    assert_int_equal(r.department_id, cgw);
}

static void intake_bad(const case_actor *who, const case_input *in, const char *field)
{
    int64_t before = gr_testdb_int(ctx.db, "SELECT count(*) FROM cases", 0), id = 0;
    int64_t events = gr_testdb_int(ctx.db, "SELECT count(*) FROM case_events", 0);
    gr_err err = {0};

    expect_err(case_create(&ctx, who, in, &id, &err), &err, GR_EINVAL, field);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM cases", 0), before);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM case_events", 0), events);
}

static void test_intake_errors(void **state)
{
    case_actor anon = {0, "anonymous", 0, 0, 0};
    const case_actor *res = &actors[RESIDENT];
    char *longtext = malloc(CASE_TEXT_MAX * 3 + 4);
    int64_t media[2] = {999999, 999999};
    case_input in = {0}, ok;
    gr_err err = {0};
    int i;

    (void)state;
    in = input_at("占道经营", "早市摊贩占道", glat, glon);
    ok = in;

    in.category_id = 999999;
    intake_bad(res, &in, "category_id");
    in = ok;
    in.category_id = category("E04"); /* a major class: not filable */
    intake_bad(res, &in, "category_id");
    in = ok;
    in.lat = 10;
    in.lon = 10;
    intake_bad(res, &in, "lat");
    err_clear(&err);
    {
        int64_t id;
        case_create(&ctx, res, &in, &id, &err);
        assert_string_equal(err.msg, "the point is outside every grid");
    }
    in = ok;
    in.lat = 91;
    intake_bad(res, &in, "lat");
    in = ok;
    in.lon = -181;
    intake_bad(res, &in, "lon");
    in = ok;
    for (i = 0; i < CASE_TEXT_MAX + 1; i++)
        memcpy(longtext + 3 * i, "字", 3);
    longtext[3 * (CASE_TEXT_MAX + 1)] = '\0';
    in.description = longtext;
    intake_bad(res, &in, "description");
    longtext[3 * CASE_TEXT_MAX] = '\0'; /* exactly the limit is fine */
    {
        int64_t id = 0;
        assert_int_equal(case_create(&ctx, res, &in, &id, &err), 0);
    }
    in = ok;
    in.title = "";
    intake_bad(res, &in, "title");
    in = ok;
    in.title = "a\x01b";
    intake_bad(res, &in, "title");
    in = ok;
    intake_bad(&anon, &in, "contact"); /* anonymous needs a number to call back */
    in.contact = "12345";
    intake_bad(&anon, &in, "contact");
    in = ok;
    in.has_point = 0;
    in.address = "某小区";
    intake_bad(res, &in, "lat"); /* an address alone only at the hotline or counter */
    in = ok;
    in.channel = "hotline";
    intake_bad(&actors[ACCEPTOR], &in, "contact"); /* a caller has a number to call back */
    in = ok;
    intake_bad(&actors[ACCEPTOR], &in, "channel"); /* acceptors say which */
    in.channel = "web";
    in.contact = "13900001111";
    intake_bad(&actors[ACCEPTOR], &in, "channel");
    in = ok;
    in.channel = "hotline";
    intake_bad(res, &in, "channel"); /* residents do not choose */
    in = ok;
    intake_bad(&actors[INSPECTOR], &in, "category_id"); /* trusted channels classify */
    in = ok;
    in.media = media;
    in.nmedia = 1;
    intake_bad(res, &in, "media");
    in.nmedia = 2;
    intake_bad(res, &in, "media"); /* twice the same */
    in = ok;
    in.area_class = 'D';
    intake_bad(res, &in, "area_class");
    in = ok;
    in.duplicate_of = 999999;
    intake_bad(res, &in, "duplicate_of");
    free(longtext);
}

/* ---- routing ---- */

static void test_routing(void **state)
{
    int64_t e0110 = category("E0110"), e01 = category("E01"), d01 = category("D01");
    int64_t jtw = 0, scjg = 0;
    case_rec r = get(report());
    gr_err err = {0};

    (void)state;
    assert_int_equal(org_dept_find_name(gr_testdb_reader(ctx.db), district, "交通", &jtw, &err), 0);
    assert_int_equal(
        org_dept_find_name(gr_testdb_reader(ctx.db), district, "市场监管", &scjg, &err), 0);
    /* No rule: the category's default department (暴露垃圾 → 市政). */
    r.category_id = e0110;
    assert_int_equal(case_route(gr_testdb_reader(ctx.db), A, &r, &err), 0);
    assert_int_equal(r.department_id, szsr);
    assert_int_equal(r.handler_org_id, 0);
    /* No rule and no default: the territorial street (属地兜底). */
    r.category_id = d01;
    assert_int_equal(case_route(gr_testdb_reader(ctx.db), A, &r, &err), 0);
    assert_int_equal(r.department_id, 0);
    assert_int_equal(r.handler_org_id, r.street_id);

    gr_testdb_exec(
        ctx.db,
        "INSERT INTO routing_rules (category_id, org_id, department_id, created_at) VALUES "
        "(%lld, %lld, %lld, 0), (%lld, %lld, %lld, 0)",
        (long long)e01, (long long)district, (long long)cgw, (long long)e0110,
        (long long)r.street_id, (long long)jtw);
    /* The major class's rule at the district applies to its leaves ... */
    r.category_id = category("E0112");
    assert_int_equal(case_route(gr_testdb_reader(ctx.db), A, &r, &err), 0);
    assert_int_equal(r.department_id, cgw);
    /* ... but a rule at the nearer unit (the street) wins. */
    r.category_id = e0110;
    assert_int_equal(case_route(gr_testdb_reader(ctx.db), A, &r, &err), 0);
    assert_int_equal(r.department_id, jtw);
    /* At the same unit the leaf beats its major class. */
    gr_testdb_exec(
        ctx.db,
        "INSERT INTO routing_rules (category_id, org_id, department_id, created_at) VALUES "
        "(%lld, %lld, %lld, 0)",
        (long long)category("E0112"), (long long)district, (long long)scjg);
    r.category_id = category("E0112");
    assert_int_equal(case_route(gr_testdb_reader(ctx.db), A, &r, &err), 0);
    assert_int_equal(r.department_id, scjg);
    /* Another street is outside the street rule: the district's applies. */
    {
        case_rec o = get(report_at(&actors[RESIDENT], "E0110", olat, olon));
        assert_true(o.street_id != r.street_id);
        assert_int_equal(o.department_id, cgw);
    }
    gr_testdb_exec(ctx.db, "DELETE FROM routing_rules");
}

/* ---- the state machine ---- */

#define NS CS_NSTATES
struct expect {
    const char *action;
    int who;
    const char *from; /* space-separated state names */
    const char *to;   /* NULL: stays */
};

#define OPEN_STATES                                                                                \
    "reported accepted filed dispatched signed rework handled returned disputed backlog "          \
    "verified review"

/* Written out from docs/cases.md, not from the code. */
static const struct expect expects[] = {
    {"accept", ACCEPTOR, "reported", "accepted"},
    {"reject", ACCEPTOR, "reported", "rejected"},
    {"file", SHIFT, "accepted", "filed"},
    {"dispatch", DISPATCHER, "filed returned", "dispatched"},
    {"sign", DEPT, "dispatched", "signed"},
    {"handle", DEPT, "signed rework", "handled"},
    {"return", DEPT, "dispatched signed", "returned"},
    {"escalate", DISPATCHER, "returned", "disputed"},
    {"decide", SHIFT, "disputed", "dispatched"},
    {"extend", DEPT, "dispatched signed rework", NULL},
    {"approve-extension", SHIFT, "dispatched signed rework", NULL},
    {"deny-extension", SHIFT, "dispatched signed rework", NULL},
    {"backlog", SHIFT, "signed rework", "backlog"},
    {"unbacklog", SHIFT, "backlog", "signed"},
    {"verify", INSPECTOR, "handled", "verified"},
    {"confirm", RESIDENT, "handled", "verified"},
    {"close", SHIFT, "verified", "closed"},
    {"cancel", SHIFT, OPEN_STATES, "cancelled"},
    {"merge", ACCEPTOR, "reported accepted filed", "merged"},
    {"supervise", LEADER, OPEN_STATES, NULL},
    {"review", DISPATCHER, "review", "dispatched"},
    {"info", RESIDENT, OPEN_STATES, NULL},
    {"respond", DEPT, "dispatched signed rework", NULL},
    {"rate", RESIDENT, "closed", NULL},
};
#define NEXPECT (sizeof(expects) / sizeof(expects[0]))

static int has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    while ((p = strstr(p, word)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}

static const struct expect *expect_for(const char *action)
{
    size_t i;

    for (i = 0; i < NEXPECT; i++)
        if (strcmp(expects[i].action, action) == 0)
            return &expects[i];
    return NULL;
}

/* A fresh case put in state s with everything the data rules want. */
static int64_t case_in_state(int s, int64_t target)
{
    int64_t id = report();

    gr_testdb_exec(ctx.db,
                   "UPDATE cases SET state = '%s', department_id = %lld, merged_into = %s, "
                   "ext_until = %lld WHERE id = %lld",
                   case_state_name((case_state)s), (long long)cgw, s == CS_MERGED ? "1" : "NULL",
                   (long long)(time_now_ms() + 86400000LL * 3), (long long)id);
    (void)target;
    return id;
}

static void try_action(const struct expect *x, int s, int64_t target)
{
    int64_t id = case_in_state(s, target), before = count_events(id);
    int legal = has_word(x->from, case_state_name((case_state)s));
    case_action_input in = {0};
    case_result res;
    gr_err err = {0};
    case_rec r;
    size_t i;
    int rc;

    /* The extension approve/deny need a pending request; extend needs none. */
    if (strcmp(x->action, "extend") == 0)
        gr_testdb_exec(ctx.db, "UPDATE cases SET ext_until = NULL WHERE id = %lld", (long long)id);
    in.action = x->action;
    in.note = "说明";
    in.passed = 1;
    in.rating = "satisfied";
    in.decision = "redispatch";
    in.department_id = cgw;
    in.into = target;
    in.until = time_now_ms() + 86400000LL * 30;
    rc = act(x->who, id, &in, &res, &err);
    r = get(id);
    if (legal) {
        if (rc)
            fail_msg("%s from %s: %d %s: %s", x->action, case_state_name((case_state)s), rc,
                     err.field, err.msg);
        assert_string_equal(case_state_name(r.state),
                            x->to ? x->to : case_state_name((case_state)s));
        assert_int_equal(res.state, r.state);
        assert_int_equal(res.version, r.version);
        assert_int_equal(count_events(id), before + 1);
        return;
    }
    if (rc != GR_ECONFLICT || err.field[0])
        fail_msg("%s from %s: want a state conflict, got %d %s: %s", x->action,
                 case_state_name((case_state)s), rc, err.field, err.msg);
    assert_int_equal(r.state, s);
    assert_int_equal(count_events(id), before);
    assert_int_equal(res.state, s);
    /* What the answer offers instead is legal from here for this role. */
    for (i = 0; i < res.nallowed; i++) {
        const struct expect *y = expect_for(res.allowed[i]);
        if (!y) {
            fail_msg("%s is offered but has no expectation", res.allowed[i]);
            return;
        }
        assert_true(strcmp(y->action, x->action) != 0);
        assert_true(has_word(y->from, case_state_name((case_state)s)));
    }
}

static void test_transition_matrix(void **state)
{
    int64_t target = report();
    size_t a;
    int s;

    (void)state;
    assert_int_equal(NEXPECT, case_nactions);
    for (a = 0; a < NEXPECT; a++)
        for (s = 0; s < NS; s++)
            try_action(&expects[a], s, target);
    /* The merge target gained the merged reporters and one event per merge. */
    assert_int_equal(get(target).state, CS_REPORTED);
    assert_int_equal(count_events(target), 1 + 3);
}

static void test_allowed_lists(void **state)
{
    const char *v[32];
    size_t n;

    (void)state;
    n = case_allowed("acceptor", CS_REPORTED, v, 32);
    assert_int_equal(n, 4); /* accept, reject, merge, info */
    assert_string_equal(v[0], "accept");
    assert_string_equal(v[1], "reject");
    n = case_allowed("shift_leader", CS_HANDLED, v, 32);
    assert_int_equal(n, 3); /* cancel, supervise, info */
    n = case_allowed("department_staff", CS_SIGNED, v, 32);
    assert_int_equal(n, 5); /* handle, return, extend, info, respond */
    n = case_allowed("anonymous", CS_REPORTED, v, 32);
    assert_int_equal(n, 0);
}

static void test_version_and_data_rules(void **state)
{
    int64_t id = report(), other = 0;
    case_actor stranger = actors[DEPT], outsider = actors[INSPECTOR], neighbour = actors[RESIDENT];
    case_action_input in = {0};
    case_result res;
    gr_err err = {0};
    int64_t before;

    (void)state;
    in.action = "accept";
    in.version = 5;
    in.urgent = -1;
    before = count_events(id);
    expect_err(case_transition(&ctx, &actors[ACCEPTOR], id, &in, &res, &err), &err, GR_ECONFLICT,
               "version");
    assert_int_equal(res.version, 1);
    assert_int_equal(count_events(id), before);
    assert_int_equal(get(id).version, 1);

    /* Two acceptors with the same version: one wins, the other gets 409. */
    in.version = 1;
    assert_int_equal(case_transition(&ctx, &actors[ACCEPTOR], id, &in, &res, &err), 0);
    assert_int_equal(res.version, 2);
    in.action = "reject";
    in.note = "x";
    expect_err(case_transition(&ctx, &actors[SHIFT], id, &in, &res, &err), &err, GR_ECONFLICT,
               "version");
    assert_int_equal(get(id).state, CS_ACCEPTED);

    must(SHIFT, id, "file", NULL);
    must(DISPATCHER, id, "dispatch", NULL);
    /* Another department's staff may not sign it. */
    assert_int_equal(org_dept_find_name(gr_testdb_reader(ctx.db), district, "水务", &other, &err),
                     0);
    stranger.department_id = other;
    memset(&in, 0, sizeof(in));
    in.action = "sign";
    in.version = get(id).version;
    in.urgent = -1;
    expect_err(case_transition(&ctx, &stranger, id, &in, &res, &err), &err, GR_EFORBIDDEN, "");
    /* A resident who did not report it may not add to it. */
    neighbour.user_id = principals[ADMIN].user_id;
    in.action = "info";
    in.note = "补充";
    expect_err(case_transition(&ctx, &neighbour, id, &in, &res, &err), &err, GR_EFORBIDDEN, "");
    /* Staff outside the case's unit may not act on it. */
    outsider.scope_org_id = get(report_at(&actors[RESIDENT], "E0406", olat, olon)).grid_id;
    in.action = "supervise";
    expect_err(case_transition(&ctx, &outsider, id, &in, &res, &err), &err, GR_EFORBIDDEN, "");
    assert_int_equal(get(id).state, CS_DISPATCHED);
    /* Required fields name themselves. */
    in.action = "return";
    in.note = NULL;
    expect_err(case_transition(&ctx, &actors[DEPT], id, &in, &res, &err), &err, GR_EINVAL, "note");
    in.action = "dispatch";
    expect_err(case_transition(&ctx, &actors[DISPATCHER], id, &in, &res, &err), &err, GR_ECONFLICT,
               "");
    in.action = "nonsense";
    expect_err(case_transition(&ctx, &actors[DISPATCHER], id, &in, &res, &err), &err, GR_ENOTFOUND,
               "action");
    expect_err(
        case_transition(&ctx, &actors[DISPATCHER], 999999,
                        &(case_action_input){.action = "dispatch", .version = 1, .urgent = -1},
                        &res, &err),
        &err, GR_ENOTFOUND, "id");
}

/* Accepted, filed and dispatched to 城管. */
static void to_dispatched(int64_t id)
{
    must(ACCEPTOR, id, "accept", NULL);
    must(SHIFT, id, "file", NULL);
    must(DISPATCHER, id, "dispatch", NULL);
}

/* The whole loop with its detours, as the HTTP walk-through does it. */
static void test_full_loop(void **state)
{
    int64_t id = report();
    case_action_input in = {0};
    case_result res;
    gr_err err = {0};
    case_rec r;

    (void)state;
    to_dispatched(id);
    must(DEPT, id, "return", "非本部门职责");
    r = get(id);
    assert_int_equal(r.state, CS_RETURNED);
    assert_int_equal(r.returns, 1);
    assert_int_equal(r.department_id, 0);
    must(DISPATCHER, id, "escalate", "职责有争议");
    must(SHIFT, id, "decide", "会商决定由城管办理");
    assert_int_equal(get(id).department_id, cgw);
    must(DEPT, id, "sign", NULL);
    must(DEPT, id, "handle", "已清理");
    in.action = "verify";
    in.passed = 0;
    expect_err(act(INSPECTOR, id, &in, &res, &err), &err, GR_EINVAL, "note");
    in.note = "仍有摊位";
    in.version = 0;
    assert_int_equal(act(INSPECTOR, id, &in, &res, &err), 0);
    r = get(id);
    assert_int_equal(r.state, CS_REWORK);
    assert_int_equal(r.reworks, 1);
    assert_string_equal(r.step, "handle");
    must(DEPT, id, "handle", "已全部清理");
    must(INSPECTOR, id, "verify", NULL);
    must(SHIFT, id, "close", NULL);
    r = get(id);
    assert_int_equal(r.state, CS_CLOSED);
    assert_true(r.closed_at > 0);
    assert_null(r.step);
    /* 不满意 sends it back for review, once. */
    memset(&in, 0, sizeof(in));
    in.action = "rate";
    in.rating = "great";
    expect_err(act(RESIDENT, id, &in, &res, &err), &err, GR_EINVAL, "rating");
    {
        char comment[CASE_COMMENT_MAX + 2];
        memset(comment, 'x', sizeof(comment) - 1);
        comment[sizeof(comment) - 1] = '\0';
        in.rating = "satisfied";
        in.note = comment;
        in.version = 0;
        expect_err(act(RESIDENT, id, &in, &res, &err), &err, GR_EINVAL, "note");
        in.note = NULL;
    }
    in.rating = "unsatisfied";
    in.note = "摊位又回来了";
    in.version = 0;
    assert_int_equal(act(RESIDENT, id, &in, &res, &err), 0);
    r = get(id);
    assert_int_equal(r.state, CS_REVIEW);
    assert_true(r.reviewed);
    assert_int_equal(r.closed_at, 0);
    memset(&in, 0, sizeof(in));
    in.action = "review";
    in.decision = "maybe";
    expect_err(act(DISPATCHER, id, &in, &res, &err), &err, GR_EINVAL, "decision");
    in.decision = "close";
    in.version = 0;
    expect_err(act(DISPATCHER, id, &in, &res, &err), &err, GR_EINVAL, "note");
    in.note = "经核实已整改到位";
    in.version = 0;
    assert_int_equal(act(DISPATCHER, id, &in, &res, &err), 0);
    r = get(id);
    assert_int_equal(r.state, CS_CLOSED);
    assert_null(r.rating);
    /* The second 不满意 is recorded and the case stays closed. */
    memset(&in, 0, sizeof(in));
    in.action = "rate";
    in.rating = "unsatisfied";
    assert_int_equal(act(RESIDENT, id, &in, &res, &err), 0);
    r = get(id);
    assert_int_equal(r.state, CS_CLOSED);
    assert_string_equal(r.rating, "unsatisfied");
    in.version = 0;
    expect_err(act(RESIDENT, id, &in, &res, &err), &err, GR_ECONFLICT, "");
    /* Every reporter heard of the progress. */
    assert_true(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM notices WHERE subject = 'case' AND subject_id = ?",
                      id) >= 5);
}

static void test_extension_backlog(void **state)
{
    int64_t id = report(), due;
    case_action_input in = {0};
    case_result res;
    gr_err err = {0};
    case_rec r;

    (void)state;
    to_dispatched(id);
    must(DEPT, id, "sign", NULL);
    due = get(id).step_due_at;
    in.action = "extend";
    in.note = "需要更换设施";
    in.until = due - 1;
    expect_err(act(DEPT, id, &in, &res, &err), &err, GR_EINVAL, "until");
    in.until = due + 86400000LL;
    assert_int_equal(act(DEPT, id, &in, &res, &err), 0);
    assert_int_equal(get(id).ext_until, due + 86400000LL);
    in.version = 0;
    expect_err(act(DEPT, id, &in, &res, &err), &err, GR_ECONFLICT, ""); /* one at a time */
    must(SHIFT, id, "approve-extension", NULL);
    r = get(id);
    assert_int_equal(r.step_due_at, due + 86400000LL);
    assert_int_equal(r.ext_until, 0);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT due_at FROM case_steps WHERE case_id = ? AND ended_at IS NULL", id),
        due + 86400000LL);
    memset(&in, 0, sizeof(in));
    in.action = "deny-extension";
    expect_err(act(SHIFT, id, &in, &res, &err), &err, GR_ECONFLICT, "");
    must(SHIFT, id, "backlog", "需协调产权单位");
    r = get(id);
    assert_int_equal(r.state, CS_BACKLOG);
    assert_string_equal(r.step, "backlog");
    assert_int_equal(r.step_due_at, 0);
    must(SHIFT, id, "unbacklog", NULL);
    r = get(id);
    assert_int_equal(r.state, CS_SIGNED);
    assert_true(r.step_due_at > 0);
    /* A request still pending when the department lets the case go dies with
     * it: the next handling step starts without it. */
    memset(&in, 0, sizeof(in));
    in.action = "extend";
    in.note = "需要更换设施";
    in.until = get(id).step_due_at + 86400000LL;
    assert_int_equal(act(DEPT, id, &in, &res, &err), 0);
    must(DEPT, id, "handle", "已处理");
    assert_int_equal(get(id).ext_until, 0);
    memset(&in, 0, sizeof(in));
    in.action = "approve-extension";
    gr_testdb_exec(ctx.db, "UPDATE cases SET state = 'rework' WHERE id = %lld", (long long)id);
    expect_err(act(SHIFT, id, &in, &res, &err), &err, GR_ECONFLICT, "");
    gr_testdb_exec(ctx.db, "UPDATE cases SET state = 'handled' WHERE id = %lld", (long long)id);
    must(RESIDENT, id, "confirm", NULL);
    assert_int_equal(get(id).state, CS_VERIFIED);
}

/* ---- deadlines ---- */

static void test_steps_and_scheduler(void **state)
{
    int64_t id = report(), now = time_now_ms();
    int flagged = -1;
    gr_err err = {0};
    case_rec r;

    (void)state;
    r = get(id);
    assert_string_equal(r.step, "accept");
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM case_steps WHERE case_id = ?", id),
                     1);
    must(ACCEPTOR, id, "accept", NULL);
    r = get(id);
    assert_string_equal(r.step, "file");
    assert_true(r.step_due_at > now);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM case_steps WHERE case_id = ? AND ended_at IS "
                      "NOT NULL AND step = 'accept' AND working_ms >= 0 AND overdue = 0",
                      id),
        1);
    /* Far in the future every running step is late: flagged once, with a
     * supervision event by the system and a notification. */
    assert_int_equal(cases_sched_run_once(&ctx, now + 400LL * 86400000, &flagged, &err), 0);
    assert_true(flagged >= 1);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT overdue FROM case_steps WHERE case_id = ? AND ended_at IS NULL", id),
        1);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM case_events WHERE case_id = ? AND action = "
                      "'supervise' AND actor_user_id IS NULL AND actor_role = 'system'",
                      id),
        1);
    assert_int_equal(get(id).version, r.version); /* the system's flag is no edit */
    assert_int_equal(cases_sched_run_once(&ctx, now + 400LL * 86400000, &flagged, &err), 0);
    assert_int_equal(flagged, 0);
    /* Nothing is due yet at the time of the report. */
    id = report();
    assert_int_equal(cases_sched_run_once(&ctx, time_now_ms(), &flagged, &err), 0);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT overdue FROM case_steps WHERE case_id = ?", id),
                     0);
    /* A step that ends after its due time is recorded late. */
    gr_testdb_exec(ctx.db, "UPDATE case_steps SET due_at = 1 WHERE case_id = %lld", (long long)id);
    must(ACCEPTOR, id, "accept", NULL);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT overdue FROM case_steps WHERE case_id = ? AND step = 'accept'", id),
        1);
}

static void test_scheduler_thread(void **state)
{
    gr_err err = {0};

    (void)state;
    assert_int_equal(cases_sched_start(&ctx, &err), 0);
    assert_int_equal(cases_sched_start(&ctx, &err), 0); /* once */
    cases_sched_stop(&ctx);
    cases_sched_stop(&ctx);
}

/* ---- duplicates, merging, lists ---- */

static void test_duplicates(void **state)
{
    static const char *const ended[] = {"rejected", "closed", "cancelled", "merged"};
    int64_t a = report_at(&actors[RESIDENT], "E0406", plat, plon), b, c2, far;
    case_nearby *v;
    size_t n, i, j;
    gr_err err = {0};
    int found;

    (void)state;
    b = report_at(&actors[RESIDENT], "E0406", plat + 0.0005, plon); /* ~55 m north */
    far = report_at(&actors[RESIDENT], "E0406", olat, olon);
    c2 = report_at(&actors[RESIDENT], "E0110", plat, plon);
    assert_int_equal(case_find_nearby(gr_testdb_reader(ctx.db), A, plat, plon, category("E0406"), a,
                                      time_now_ms(), &v, &n, &err),
                     0);
    for (i = 0, found = 0; i < n; i++) {
        assert_true(v[i].distance_m <= CASE_DUP_RADIUS_M);
        assert_int_equal(v[i].rec.category_id, category("E0406"));
        assert_true(v[i].rec.id != a && v[i].rec.id != far && v[i].rec.id != c2);
        if (i)
            assert_true(v[i - 1].distance_m <= v[i].distance_m);
        found += v[i].rec.id == b;
    }
    assert_int_equal(found, 1);
    /* Older than 7 days, or closed: no longer offered. */
    gr_testdb_exec(ctx.db,
                   "UPDATE cases SET created_at = created_at - 8 * 86400000 WHERE id = %lld",
                   (long long)b);
    assert_int_equal(case_find_nearby(gr_testdb_reader(ctx.db), A, plat, plon, category("E0406"), a,
                                      time_now_ms(), &v, &n, &err),
                     0);
    for (i = 0; i < n; i++)
        assert_true(v[i].rec.id != b);
    /* Any category when none is given. */
    assert_int_equal(case_find_nearby(gr_testdb_reader(ctx.db), A, plat, plon, 0, 0, time_now_ms(),
                                      &v, &n, &err),
                     0);
    for (i = 0, found = 0; i < n; i++)
        found += v[i].rec.id == c2;
    assert_int_equal(found, 1);
    /* Rejected, closed, cancelled or merged: no longer offered. */
    for (j = 0; j < 4; j++) {
        gr_testdb_exec(ctx.db,
                       "UPDATE cases SET state = '%s', merged_into = CASE '%s' WHEN 'merged' "
                       "THEN %lld END WHERE id = %lld",
                       ended[j], ended[j], (long long)a, (long long)c2);
        assert_int_equal(case_find_nearby(gr_testdb_reader(ctx.db), A, plat, plon, 0, 0,
                                          time_now_ms(), &v, &n, &err),
                         0);
        for (i = 0; i < n; i++)
            assert_true(v[i].rec.id != c2);
    }
}

/* The index behind the check cuts the map into cells of 0.0025 degrees
 * (migration 0010): a case across a cell's edge, or across two at ~236 m,
 * is still offered, and one at ~290 m is not. */
static void test_duplicates_across_cells(void **state)
{
    double edge = floor((plat + 90) / 0.0025) * 0.0025 - 90;
    double k = cos(plat * M_PI / 180.0);
    int64_t near_edge, diagonal, outside, want[2];
    double at[2][2] = {{edge + 0.00002, plon}, {plat, plon}};
    case_nearby *v;
    size_t n, i, j;
    gr_err err = {0};
    int found;

    (void)state;
    near_edge = report_at(&actors[RESIDENT], "E0505", edge - 0.00002, plon);
    diagonal = report_at(&actors[RESIDENT], "E0505", plat + 0.0015, plon + 0.0015 / k);
    outside = report_at(&actors[RESIDENT], "E0505", plat + 0.0026, plon);
    want[0] = near_edge;
    want[1] = diagonal;
    for (j = 0; j < 2; j++) {
        assert_int_equal(case_find_nearby(gr_testdb_reader(ctx.db), A, at[j][0], at[j][1],
                                          category("E0505"), 0, time_now_ms(), &v, &n, &err),
                         0);
        for (i = 0, found = 0; i < n; i++) {
            assert_true(v[i].rec.id != outside);
            found += v[i].rec.id == want[j];
        }
        assert_int_equal(found, 1);
    }
}

static void test_merge_and_duplicate_of(void **state)
{
    case_actor anon = {0, "anonymous", 0, 0, 0}, narrow = actors[ACCEPTOR];
    int64_t target = report(), src, dup;
    case_filter f = {0};
    case_rec *v;
    size_t n;
    int more;
    case_input in = {0};
    case_action_input a = {0};
    case_result res;
    gr_err err = {0};

    (void)state;
    src = report_at(&anon, "E0406", glat, glon);
    a.action = "merge";
    a.into = src;
    expect_err(act(ACCEPTOR, src, &a, &res, &err), &err, GR_EINVAL, "into");
    must(SHIFT, target, "cancel", "作废");
    a.into = target;
    a.version = 0;
    expect_err(act(ACCEPTOR, src, &a, &res, &err), &err, GR_EINVAL, "into");
    target = report();
    /* Staff merge only into a case within their scope. */
    narrow.scope_org_id = get(src).grid_id;
    a.into = report_at(&anon, "E0406", olat, olon);
    a.version = get(src).version;
    expect_err(case_transition(&ctx, &narrow, src, &a, &res, &err), &err, GR_EFORBIDDEN, "into");
    assert_int_equal(get(src).state, CS_REPORTED);
    a.into = target;
    a.version = 0;
    assert_int_equal(act(ACCEPTOR, src, &a, &res, &err), 0);
    assert_int_equal(get(src).state, CS_MERGED);
    assert_int_equal(get(src).merged_into, target);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM case_reporters WHERE case_id = ?", target), 2);

    /* Only a case intake offers (250 m, 7 days) may be joined: nothing is written. */
    in = input_at("占道", "又看到摊贩", olat, olon);
    in.duplicate_of = target;
    expect_err(case_create(&ctx, &actors[RESIDENT], &in, &dup, &err), &err, GR_EINVAL,
               "duplicate_of");
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM case_reporters WHERE case_id = ?", target), 2);
    gr_testdb_exec(ctx.db,
                   "UPDATE cases SET created_at = created_at - 8 * 86400000 WHERE id = %lld",
                   (long long)target);
    in = input_at("占道", "又看到摊贩", glat, glon);
    in.duplicate_of = target;
    expect_err(case_create(&ctx, &actors[RESIDENT], &in, &dup, &err), &err, GR_EINVAL,
               "duplicate_of");
    gr_testdb_exec(ctx.db,
                   "UPDATE cases SET created_at = created_at + 8 * 86400000 WHERE id = %lld",
                   (long long)target);
    /* The reporter says it is that one: joined at intake. */
    in = input_at("占道", "又看到摊贩", glat, glon);
    in.duplicate_of = target;
    assert_int_equal(case_create(&ctx, &actors[RESIDENT], &in, &dup, &err), 0);
    assert_int_equal(get(dup).state, CS_MERGED);
    assert_int_equal(get(dup).merged_into, target);
    /* "My cases" holds both the merged report and the case it joined. */
    f.reporter = principals[RESIDENT].user_id;
    f.state = -1;
    f.limit = 500;
    f.desc = 1;
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_true(n >= 2);
    assert_int_equal(v[0].id, dup);
    assert_int_equal(v[1].id, target);
    /* Progress on the target reaches every reporter. */
    must(ACCEPTOR, target, "accept", NULL);
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM notices WHERE subject = 'case' AND "
                                   "subject_id = ? AND kind = 'case.accepted'",
                                   target),
                     1);
}

static void test_list_and_fts(void **state)
{
    case_filter f = {0};
    case_rec *v;
    size_t n;
    int more;
    gr_err err = {0};
    case_input in = {0};
    int64_t id;

    (void)state;
    in = input_at("东大桥路口井盖松动", "车辆经过时井盖发出很大响声", glat, glon);
    assert_int_equal(case_create(&ctx, &actors[RESIDENT], &in, &id, &err), 0);
    f.state = -1;
    f.limit = 10;
    f.q = "井盖松动";
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, id);
    f.q = "很大响声";
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    f.q = "\"井盖\" OR x";
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 0);
    f.q = "井盖";
    expect_err(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), &err, GR_EINVAL,
               "q");
    /* Scope and paging. */
    memset(&f, 0, sizeof(f));
    f.state = CS_REPORTED;
    f.scope = grid;
    f.limit = 2;
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_true(v[0].id < v[1].id && v[0].grid_id == grid);
    f.after = v[1].id;
    assert_int_equal(case_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_true(n == 0 || v[0].id > f.after);
}

/* The acceptor places a case elsewhere: its evidence follows it to the new
 * unit (who may read private media is whoever the case's scope covers). */
static void test_media_follow_place(void **state)
{
    case_input in = input_at("占道", "摊位挡住了盲道", olat, olon);
    case_action_input a = {0};
    case_result res;
    gr_err err = {0};
    int64_t medium, id;

    (void)state;
    gr_testdb_exec(ctx.db,
                   "INSERT INTO media (sha256, type, size, uploaded_by, created_at) VALUES "
                   "('%064d', 'image/png', 10, %lld, 1)",
                   7, (long long)principals[RESIDENT].user_id);
    medium = gr_testdb_int(ctx.db, "SELECT max(id) FROM media WHERE id > ?", 0);
    in.media = &medium;
    in.nmedia = 1;
    assert_int_equal(case_create(&ctx, &actors[RESIDENT], &in, &id, &err), 0);
    assert_true(get(id).grid_id != grid);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT scope_org_id FROM media WHERE id = ?", medium),
                     get(id).grid_id);
    a.action = "accept";
    a.has_point = 1;
    a.lat = glat;
    a.lon = glon;
    assert_int_equal(act(ACCEPTOR, id, &a, &res, &err), 0);
    assert_int_equal(get(id).grid_id, grid);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT scope_org_id FROM media WHERE id = ?", medium),
                     grid);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT is_public FROM media WHERE id = ?", medium), 0);
}

/* A dispatch names a department that serves the case's place. */
static void test_dispatch_department_place(void **state)
{
    int64_t id = report(),
            far_street = get(report_at(&actors[RESIDENT], NULL, olat, olon)).street_id;
    case_action_input in = {0};
    case_result res;
    gr_err err = {0};

    (void)state;
    must(ACCEPTOR, id, "accept", NULL);
    must(SHIFT, id, "file", NULL);
    gr_testdb_exec(ctx.db,
                   "INSERT INTO departments (org_id, name, level, created_at, updated_at) "
                   "VALUES (%lld, '街道城管', 'street', 1, 1)",
                   (long long)far_street);
    in.action = "dispatch";
    in.department_id = gr_testdb_int(ctx.db, "SELECT max(id) FROM departments WHERE id > ?", 0);
    expect_err(act(DISPATCHER, id, &in, &res, &err), &err, GR_EINVAL, "department_id");
    assert_int_equal(get(id).state, CS_FILED);
    memset(&in, 0, sizeof(in));
    in.action = "dispatch";
    in.department_id = cgw;
    assert_int_equal(act(DISPATCHER, id, &in, &res, &err), 0);
    assert_int_equal(get(id).department_id, cgw);
}

static void test_append_only(void **state)
{
    int64_t id = report();
    gr_err err = {0};
    char text[128];

    (void)state;
    snprintf(text, sizeof(text), "UPDATE case_events SET note = 'x' WHERE case_id = %lld",
             (long long)id);
    assert_true(db_write(ctx.db, gr_testdb_exec_fn, text, &err) != 0);
    snprintf(text, sizeof(text), "DELETE FROM case_events WHERE case_id = %lld", (long long)id);
    assert_true(db_write(ctx.db, gr_testdb_exec_fn, text, &err) != 0);
    snprintf(text, sizeof(text), "DELETE FROM cases WHERE id = %lld", (long long)id);
    assert_true(db_write(ctx.db, gr_testdb_exec_fn, text, &err) != 0);
    assert_int_equal(count_events(id), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_states),
        cmocka_unit_test(test_intake_channels),
        cmocka_unit_test(test_intake_open311_and_address),
        cmocka_unit_test(test_intake_errors),
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_transition_matrix),
        cmocka_unit_test(test_allowed_lists),
        cmocka_unit_test(test_version_and_data_rules),
        cmocka_unit_test(test_full_loop),
        cmocka_unit_test(test_extension_backlog),
        cmocka_unit_test(test_steps_and_scheduler),
        cmocka_unit_test(test_scheduler_thread),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_duplicates_across_cells),
        cmocka_unit_test(test_merge_and_duplicate_of),
        cmocka_unit_test(test_list_and_fts),
        cmocka_unit_test(test_media_follow_place),
        cmocka_unit_test(test_dispatch_department_place),
        cmocka_unit_test(test_append_only),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
