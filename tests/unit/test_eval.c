/* eval/: the formulas of the default configuration against the published
 * worked numbers (china_standards.md §1.5: 911/972 = 93.72%, 737/972 =
 * 75.82%) and the 12345 三率 with their weights; configuration errors
 * naming the field; the facts of cases walked through the loop on the demo
 * district, counted by hand below (a full loop, a return and a rework, an
 * overdue case, a merged duplicate, a rejection, a cancelled inspector
 * report); the daily sums of every unit and department after the sync, kept
 * by differences as cases move on, and equal to a rebuild. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"
#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth.h"
#include "base/timeutil.h"
#include "cases/cases.h"
#include "eval/eval.h"
#include "org/org.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;
static int64_t grid, district, cgw, szsr;
static double glat, glon;

enum { RESIDENT, ACCEPTOR, SHIFT, DISPATCHER, DEPT, INSPECTOR, NACTORS, DEPT2 = NACTORS };
static const char *const account_names[NACTORS] = {
    "resident", "acceptor", "shift_leader", "dispatcher", "department_staff", "grid_inspector"};
/* DEPT2: the department staff member acting for 市政 (the demo has one
 * department account, of 城管). */
static case_actor actors[NACTORS + 1];
static http_principal principals[NACTORS];

static int group_setup(void **state)
{
    (void)state;
    gr_testdb_demo_app(&ctx, dir, sizeof(dir), "eval");
    A = arena_new();
    gr_testdb_case_actors(ctx.db, A, account_names, NACTORS, principals, actors);
    gr_testdb_demo_places(&ctx, &district, &grid, &cgw, &szsr, &glat, &glon);
    actors[DEPT2] = actors[DEPT];
    actors[DEPT2].department_id = szsr;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    app_close(&ctx);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

static const eval_indicator *indicator(const eval_config *cfg, const char *key)
{
    int i;

    for (i = 0; i < cfg->n; i++)
        if (strcmp(cfg->ind[i].key, key) == 0)
            return &cfg->ind[i];
    fail_msg("no indicator %s", key);
    return NULL;
}

static double value_of(const eval_config *cfg, const char *key, const int64_t v[EC_N])
{
    double x = -1;

    assert_int_equal(eval_value(indicator(cfg, key), v, &x, NULL, NULL), 1);
    return x;
}

/* ---- the formulas ---- */

static void test_counter_columns(void **state)
{
    static const char *const tables[] = {"eval_facts", "eval_daily"};
    static const int first[] = {11, 3}; /* the columns before the counters */
    char sql[128];
    size_t t;
    int i;

    (void)state;
    for (t = 0; t < 2; t++) {
        assert_int_equal(gr_testdb_int(ctx.db,
                                       t ? "SELECT count(*) FROM pragma_table_info('eval_daily')"
                                         : "SELECT count(*) FROM pragma_table_info('eval_facts')",
                                       0),
                         first[t] + EC_N);
        for (i = 0; i < EC_N; i++) {
            snprintf(sql, sizeof(sql),
                     "SELECT count(*) FROM pragma_table_info('%s') WHERE cid = ? AND name = '%s'",
                     tables[t], eval_counter_names[i]);
            if (gr_testdb_int(ctx.db, sql, first[t] + i) != 1)
                fail_msg("%s: column %d is not %s", tables[t], first[t] + i, eval_counter_names[i]);
        }
    }
    assert_int_equal(eval_counter_parse("closed_on_time"), EC_CLOSED_ON_TIME);
    assert_int_equal(eval_counter_parse("clicks"), -1);
    assert_int_equal(eval_counter_parse(NULL), -1);
}

static void test_worked_numbers(void **state)
{
    eval_config cfg;
    int64_t v[EC_N] = {0};
    double x = 0, num = 0, den = 0, score = 0;
    gr_err err = {0};
    char pct[16];

    (void)state;
    assert_int_equal(eval_config_for(gr_testdb_reader(ctx.db), 202611, &cfg, &err), 0);
    assert_int_equal(cfg.version, 1);
    /* The published monthly report: 结案 911, 按期结案 737 of 972 应结案. */
    v[EC_TO_CLOSE] = 972;
    v[EC_CLOSED] = 911;
    v[EC_CLOSED_ON_TIME] = 737;
    assert_int_equal(eval_value(indicator(&cfg, "close_rate"), v, &x, &num, &den), 1);
    assert_true(num == 911 && den == 972);
    snprintf(pct, sizeof(pct), "%.2f%%", x * 100);
    assert_string_equal(pct, "93.72%");
    snprintf(pct, sizeof(pct), "%.2f%%", value_of(&cfg, "close_on_time_rate", v) * 100);
    assert_string_equal(pct, "75.82%");
    /* No callbacks: the three rates have no value, nor the composite. */
    assert_int_equal(eval_value(indicator(&cfg, "satisfaction_rate"), v, &x, NULL, NULL), 0);
    assert_int_equal(eval_composite(&cfg, v, &score), 0);
    /* 三率 over 1,000 valid callbacks; 基本满意 counts 0.9. */
    v[EC_CALLBACKS] = 1000;
    v[EC_CONTACTED] = 950;
    v[EC_RESOLVED] = 900;
    v[EC_SATISFIED] = 800;
    v[EC_BASICALLY_SATISFIED] = 100;
    v[EC_UNSATISFIED] = 100;
    assert_true(fabs(value_of(&cfg, "satisfaction_rate", v) - 0.89) < 1e-12);
    assert_int_equal(eval_composite(&cfg, v, &score), 1);
    /* 0.1 × 95% + 0.5 × 90% + 0.4 × 89% */
    assert_true(fabs(score - 0.901) < 1e-12);
    /* Average handling time in working hours; returns are a count. */
    v[EC_HANDLE_MS] = 3 * 3600000LL + 1800000;
    v[EC_HANDLE_TIMED] = 2;
    assert_true(fabs(value_of(&cfg, "avg_handle_hours", v) - 1.75) < 1e-9);
    v[EC_RETURNS] = 7;
    assert_true(value_of(&cfg, "returns", v) == 7);
    eval_config_free(&cfg);
}

static void config_bad(const char *text, const char *field, const char *words)
{
    eval_config cfg;
    gr_err err = {0};
    json_t *j = json_loads(text, 0, NULL);

    assert_non_null(j);
    assert_int_equal(eval_config_parse(j, &cfg, &err), GR_EINVAL);
    assert_string_equal(err.field, field);
    if (!strstr(err.msg, words))
        fail_msg("'%s' does not say '%s'", err.msg, words);
}

static void test_config_errors(void **state)
{
    eval_config cfg;
    gr_err err = {0};
    json_t *j;

    (void)state;
    config_bad("[]", "config", "object");
    config_bad("{\"composite\":{}}", "config.indicators", "object");
    config_bad("{\"indicators\":{\"r\":{\"name\":\"r\",\"numerator\":{\"clicks\":1},"
               "\"denominator\":[\"filed\"]}},\"composite\":{\"r\":1}}",
               "config.indicators", "no counter clicks");
    config_bad("{\"indicators\":{\"r\":{\"name\":\"r\",\"numerator\":{\"closed\":1}}},"
               "\"composite\":{\"r\":1}}",
               "config.indicators", "denominator");
    config_bad("{\"indicators\":{\"r\":{\"numerator\":{\"closed\":1},\"denominator\":"
               "[\"to_close\"]}},\"composite\":{\"r\":1}}",
               "config.indicators", "name");
    config_bad("{\"indicators\":{\"a\":{\"name\":\"a\",\"numerator\":{\"closed\":1},"
               "\"denominator\":[\"to_close\"]},\"b\":{\"name\":\"b\",\"numerator\":{\"handled\":"
               "1},\"denominator\":[\"to_handle\"]}},\"composite\":{\"a\":0.5,\"b\":0.4}}",
               "config.composite", "add up to 0.9, not 1");
    config_bad("{\"indicators\":{\"a\":{\"name\":\"a\",\"numerator\":{\"closed\":1},"
               "\"denominator\":[\"to_close\"]}},\"composite\":{\"z\":1}}",
               "config.composite", "no indicator z");
    config_bad("{\"indicators\":{\"n\":{\"name\":\"n\",\"kind\":\"count\",\"numerator\":"
               "{\"returns\":1}}},\"composite\":{\"n\":1}}",
               "config.composite", "not a rate");
    /* A version with other weights and partial credit is taken. */
    j = json_loads("{\"indicators\":{\"s\":{\"name\":\"满意率\",\"numerator\":{\"satisfied\":1,"
                   "\"basically_satisfied\":0.8},\"denominator\":[\"callbacks\"]},\"r\":{\"name\":"
                   "\"返工率\",\"numerator\":{\"reworked\":1},\"denominator\":[\"to_close\"],"
                   "\"lower_is_better\":true}},\"composite\":{\"s\":0.7,\"r\":0.3}}",
                   0, NULL);
    assert_int_equal(eval_config_parse(j, &cfg, &err), 0);
    {
        int64_t v[EC_N] = {0};
        double score = 0;
        v[EC_CALLBACKS] = 10;
        v[EC_SATISFIED] = 5;
        v[EC_BASICALLY_SATISFIED] = 5;
        v[EC_TO_CLOSE] = 4;
        v[EC_REWORKED] = 1;
        assert_int_equal(eval_composite(&cfg, v, &score), 1);
        /* 0.7 × 0.9 + 0.3 × (1 − 0.25) */
        assert_true(fabs(score - (0.63 + 0.225)) < 1e-12);
    }
    eval_config_free(&cfg);
}

/* ---- facts from the timeline ---- */

static int64_t report_as(int who)
{
    case_input in = {0};
    gr_err err = {0};
    int64_t id = 0;

    in.title = "占道经营";
    in.description = "人行道上有流动摊贩";
    in.has_point = 1;
    in.lat = glat;
    in.lon = glon;
    in.category_id = gr_testdb_category(ctx.db, "E0406");
    if (case_create(&ctx, &actors[who], &in, &id, &err))
        fail_msg("case_create: %s: %s", err.field, err.msg);
    return id;
}

static void act(int who, int64_t id, const char *action, const char *note, int passed,
                const char *rating, int resolved, int64_t dept, int64_t into)
{
    case_action_input in = {0};
    case_result res;
    gr_err err = {0};
    case_rec r;

    assert_int_equal(case_get(gr_testdb_reader(ctx.db), A, id, &r, &err), 0);
    in.action = action;
    in.version = r.version;
    in.urgent = -1;
    in.note = note;
    in.passed = passed;
    in.rating = rating;
    in.resolved = resolved;
    in.department_id = dept;
    in.into = into;
    if (case_transition(&ctx, &actors[who], id, &in, &res, &err))
        fail_msg("%s by %s: %s: %s", action, who < NACTORS ? account_names[who] : "市政", err.field,
                 err.msg);
}

#define DO(who, id, action, note) act(who, id, action, note, 1, NULL, 0, cgw, 0)

static void to_signed(int64_t id)
{
    DO(ACCEPTOR, id, "accept", NULL);
    DO(SHIFT, id, "file", NULL);
    DO(DISPATCHER, id, "dispatch", NULL);
    DO(DEPT, id, "sign", NULL);
}

static int64_t case_a, case_b, case_c, case_d, case_e, case_f;

static eval_facts facts(int64_t id)
{
    eval_facts f;
    gr_err err = {0};

    assert_int_equal(eval_facts_compute(gr_testdb_reader(ctx.db), id, &f, &err), 0);
    return f;
}

static void test_facts(void **state)
{
    eval_facts f;
    gr_err err = {0};

    (void)state;
    /* A: the whole loop on time; the department reached the reporter. */
    case_a = report_as(RESIDENT);
    to_signed(case_a);
    DO(DEPT, case_a, "respond", "电话联系了报告人");
    DO(DEPT, case_a, "handle", "已清理");
    DO(INSPECTOR, case_a, "verify", NULL);
    DO(SHIFT, case_a, "close", NULL);
    act(RESIDENT, case_a, "rate", NULL, 0, "satisfied", 0, 0, 0);
    f = facts(case_a);
    assert_int_equal(f.v[EC_REPORTED] + f.v[EC_ACCEPTED] + f.v[EC_FILED] + f.v[EC_DISPATCHED] +
                         f.v[EC_DISPATCHED_OK] + f.v[EC_HANDLED] + f.v[EC_HANDLED_ON_TIME] +
                         f.v[EC_TO_CLOSE] + f.v[EC_CLOSED] + f.v[EC_CLOSED_ON_TIME] +
                         f.v[EC_CALLBACKS] + f.v[EC_CONTACTED] + f.v[EC_RESOLVED] +
                         f.v[EC_SATISFIED] + f.v[EC_PUBLIC_FIRST],
                     15);
    assert_int_equal(f.v[EC_RETURNS] + f.v[EC_REWORKED] + f.v[EC_OVERDUE_PENDING], 0);
    assert_int_equal(f.department_id, cgw);
    assert_int_equal(f.chain[4], grid);
    assert_int_equal(f.chain[1], district);
    assert_int_equal(f.v[EC_HANDLE_TIMED], 1);

    /* B: 市政 returns it, a dispute, 城管 takes it, a rework; rated 基本满意
     * and "not solved" in the reporter's words. */
    case_b = report_as(RESIDENT);
    DO(ACCEPTOR, case_b, "accept", NULL);
    DO(SHIFT, case_b, "file", NULL);
    act(DISPATCHER, case_b, "dispatch", NULL, 1, NULL, 0, szsr, 0);
    act(DEPT2, case_b, "return", "非本部门职责", 1, NULL, 0, 0, 0);
    f = facts(case_b);
    assert_int_equal(f.department_id, 0); /* returned: nobody handles it now */
    assert_int_equal(f.nret, 1);
    assert_int_equal(f.ret[0].department_id, szsr);
    DO(DISPATCHER, case_b, "escalate", NULL);
    DO(SHIFT, case_b, "decide", "会商：城管办理");
    DO(DEPT, case_b, "sign", NULL);
    DO(DEPT, case_b, "handle", "已清理");
    act(INSPECTOR, case_b, "verify", "仍有摊位", 0, NULL, 0, 0, 0);
    DO(DEPT, case_b, "handle", "已全部清理");
    DO(INSPECTOR, case_b, "verify", NULL);
    DO(SHIFT, case_b, "close", NULL);
    act(RESIDENT, case_b, "rate", NULL, 0, "basically_satisfied", -1, 0, 0);
    f = facts(case_b);
    assert_int_equal(f.v[EC_RETURNS], 1);
    assert_int_equal(f.v[EC_DISPUTES], 1);
    assert_int_equal(f.v[EC_DISPATCHED_OK], 0);
    assert_int_equal(f.v[EC_REWORKED], 1);
    assert_int_equal(f.v[EC_CLOSED], 1);
    assert_int_equal(f.v[EC_BASICALLY_SATISFIED], 1);
    assert_int_equal(f.v[EC_RESOLVED], 0);
    assert_int_equal(f.v[EC_CONTACTED], 0); /* never reached before handling */
    assert_int_equal(f.department_id, cgw);
    assert_int_equal(f.ret[0].department_id, szsr);
    assert_int_equal(f.ret[0].returns, 1);
    assert_int_equal(f.ret[0].disputes, 1);

    /* C: signed, then its handling time runs out. */
    case_c = report_as(RESIDENT);
    to_signed(case_c);
    /* D: the same problem again, merged into C: counted once, as a report. */
    case_d = report_as(RESIDENT);
    act(ACCEPTOR, case_d, "merge", NULL, 1, NULL, 0, 0, case_c);
    f = facts(case_d);
    assert_int_equal(f.v[EC_REPORTED], 1);
    assert_int_equal(f.v[EC_ACCEPTED] + f.v[EC_FILED] + f.v[EC_TO_CLOSE], 0);
    assert_int_equal(f.department_id, 0);
    /* E: rejected. */
    case_e = report_as(RESIDENT);
    DO(ACCEPTOR, case_e, "reject", "不属于受理范围");
    /* F: an inspector's report (filed at once), then cancelled. */
    case_f = report_as(INSPECTOR);
    DO(SHIFT, case_f, "cancel", "重复上报");
    f = facts(case_f);
    assert_int_equal(f.v[EC_FILED], 1);
    assert_int_equal(f.v[EC_TO_CLOSE], 0);
    assert_int_equal(f.v[EC_PUBLIC_FIRST], 0); /* the inspector found it */
    assert_int_equal(f.department_id, 0);      /* proposed, never dispatched */
    /* The scheduler, a year on: only C has a running step. */
    assert_int_equal(cases_sched_run_once(&ctx, time_now_ms() + 400LL * 86400000, NULL, &err), 0);
    f = facts(case_c);
    assert_int_equal(f.v[EC_OVERDUE_PENDING], 1);
    assert_int_equal(f.v[EC_TO_HANDLE], 1);
    assert_int_equal(f.v[EC_HANDLED], 0);
    assert_int_equal(eval_facts_compute(gr_testdb_reader(ctx.db), 99999999, &f, &err),
                     GR_ENOTFOUND);
}

/* The day the fixture's cases were reported (they all were today). */
static int64_t today_day(void)
{
    eval_facts f = facts(case_a);

    return f.day;
}

static void sums(int kind, int64_t unit, int64_t v[EC_N])
{
    gr_err err = {0};
    int64_t d = today_day();

    assert_int_equal(eval_sums(gr_testdb_reader(ctx.db), kind, unit, d, d, v, &err), 0);
}

static void test_sync_sums(void **state)
{
    eval_config cfg;
    int64_t v[EC_N], w[EC_N], n = 0, before;
    gr_err err = {0};
    double score = 0;

    (void)state;
    assert_int_equal(eval_sync_run(&ctx, 7, &n, &err), 0); /* small batches: several writes */
    assert_true(n >= 6);
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT last_event_id = (SELECT max(id) FROM case_events) "
                                   "FROM eval_sync",
                                   0),
                     1);
    /* The hand count of the six cases, in the grid and every unit above it. */
    sums(0, grid, v);
    assert_int_equal(v[EC_REPORTED], 6);
    assert_int_equal(v[EC_ACCEPTED], 4); /* A B C, and F by the system */
    assert_int_equal(v[EC_REJECTED], 1);
    assert_int_equal(v[EC_FILED], 4);
    assert_int_equal(v[EC_DISPATCHED], 3);
    assert_int_equal(v[EC_DISPATCHED_OK], 2);
    assert_int_equal(v[EC_RETURNS], 1);
    assert_int_equal(v[EC_TO_HANDLE], 3);
    assert_int_equal(v[EC_HANDLED], 2);
    assert_int_equal(v[EC_OVERDUE_PENDING], 1);
    assert_int_equal(v[EC_REWORKED], 1);
    assert_int_equal(v[EC_TO_CLOSE], 3);
    assert_int_equal(v[EC_CLOSED], 2);
    assert_int_equal(v[EC_CALLBACKS], 2);
    assert_int_equal(v[EC_CONTACTED], 1);
    assert_int_equal(v[EC_RESOLVED], 1);
    assert_int_equal(v[EC_PUBLIC_FIRST], 3);
    sums(0, district, w);
    assert_memory_equal(v, w, sizeof(v));
    assert_int_equal(
        eval_config_for(gr_testdb_reader(ctx.db), (int)(today_day() / 100), &cfg, &err), 0);
    /* 0.1 × 1/2 + 0.5 × 1/2 + 0.4 × (1 + 0.9)/2 */
    assert_int_equal(eval_composite(&cfg, v, &score), 1);
    assert_true(fabs(score - 0.68) < 1e-12);
    assert_true(fabs(value_of(&cfg, "close_rate", v) - 2.0 / 3) < 1e-12);
    assert_true(fabs(value_of(&cfg, "miss_rate", v) - 3.0 / 4) < 1e-12);
    /* Departments: 城管 handles A B C; 市政 returned B and the dispute was
     * over its return (推诿 shows at the department that did it). */
    sums(1, cgw, w);
    assert_int_equal(w[EC_DISPATCHED], 3);
    assert_int_equal(w[EC_CLOSED], 2);
    assert_int_equal(w[EC_RETURNS], 0);
    sums(1, szsr, w);
    assert_int_equal(w[EC_RETURNS], 1);
    assert_int_equal(w[EC_DISPUTES], 1);
    assert_int_equal(w[EC_DISPATCHED] + w[EC_CLOSED], 0);

    /* Posts: each person counts the steps they took. */
    sums(2, actors[ACCEPTOR].user_id, w);
    assert_int_equal(w[EC_REPORTED], 4); /* A B C accepted, E rejected; D merged away */
    assert_int_equal(w[EC_ACCEPTED], 3);
    assert_int_equal(w[EC_REJECTED], 1);
    assert_int_equal(w[EC_HANDLED] + w[EC_DISPATCHED], 0);
    sums(2, actors[DISPATCHER].user_id, w);
    assert_int_equal(w[EC_DISPATCHED], 3);
    assert_int_equal(w[EC_DISPATCHED_OK], 2);
    assert_int_equal(w[EC_ACCEPTED], 0);
    sums(2, actors[DEPT].user_id, w);
    assert_int_equal(w[EC_TO_HANDLE], 3);
    assert_int_equal(w[EC_HANDLED], 2);
    assert_int_equal(w[EC_OVERDUE_PENDING], 1);
    assert_int_equal(w[EC_CALLBACKS], 2);
    assert_int_equal(w[EC_SATISFIED], 1);
    assert_int_equal(w[EC_FILED], 0);
    sums(2, actors[INSPECTOR].user_id, w);
    assert_int_equal(w[EC_REPORTED], 1); /* F, their own report */
    assert_int_equal(w[EC_FILED], 1);

    /* C moves on: the sums take the difference, nothing is counted twice. */
    DO(DEPT, case_c, "handle", "已清理");
    DO(INSPECTOR, case_c, "verify", NULL);
    DO(SHIFT, case_c, "close", NULL);
    assert_int_equal(eval_sync_run(&ctx, 0, &n, &err), 0);
    assert_int_equal(n, 1);
    sums(0, grid, v);
    assert_int_equal(v[EC_REPORTED], 6);
    assert_int_equal(v[EC_CLOSED], 3);
    assert_int_equal(v[EC_CLOSED_ON_TIME], 2); /* C was late */
    assert_int_equal(v[EC_OVERDUE_PENDING], 0);
    assert_int_equal(v[EC_HANDLED_ON_TIME], 2);
    /* Nothing new: nothing done. */
    assert_int_equal(eval_sync_run(&ctx, 0, &n, &err), 0);
    assert_int_equal(n, 0);

    /* A rebuild from the timeline gives the same rows. */
    before = gr_testdb_int(ctx.db, "SELECT count(*) FROM eval_daily", 0);
    gr_testdb_exec(ctx.db, "CREATE TABLE daily_copy AS SELECT * FROM eval_daily");
    gr_testdb_exec(ctx.db, "UPDATE eval_daily SET closed = 99");
    gr_testdb_exec(ctx.db, "UPDATE eval_sync SET last_event_id = 0");
    assert_int_equal(eval_rebuild(&ctx, &n, &err), 0);
    assert_true(n >= 6);
    /* The rebuild counted every event: the sync has nothing left. */
    assert_int_equal(eval_sync_run(&ctx, 0, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM (SELECT * FROM eval_daily EXCEPT "
                                   "SELECT * FROM daily_copy)",
                                   0),
                     0);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM eval_daily", 0),
                     gr_testdb_int(ctx.db, "SELECT count(*) FROM daily_copy", 0));
    assert_true(before > 0);
    eval_config_free(&cfg);
}

/* Noon, Beijing time, of a local date YYYYMMDD, in ms. */
static int64_t noon(int64_t day)
{
    struct tm tm = {0};

    tm.tm_year = (int)(day / 10000) - 1900;
    tm.tm_mon = (int)(day / 100 % 100) - 1;
    tm.tm_mday = (int)(day % 100);
    tm.tm_hour = 12 - 8;
    return (int64_t)timegm(&tm) * 1000;
}

/* Periods made of partial months, whole months and both add up from the
 * daily and monthly sums to what the facts say. */
static void test_periods(void **state)
{
    static const int64_t days[6] = {20251231, 20260101, 20260115, 20260131, 20260201, 20260228};
    static const int64_t periods[][2] = {
        {20251231, 20251231}, {20260101, 20260131}, {20260102, 20260131}, {20251201, 20260228},
        {20251215, 20260201}, {20260115, 20260115}, {20000101, 20991231}, {20260201, 20260227},
        {20260101, 20260130}, {20251231, 20260101}};
    const int64_t ids[6] = {case_a, case_b, case_c, case_d, case_e, case_f};
    eval_unit_sums *all = NULL;
    int64_t v[EC_N], n = 0;
    gr_err err = {0};
    char sql[256];
    size_t i, k, nall = 0;

    (void)state;
    for (i = 0; i < 6; i++)
        gr_testdb_exec(ctx.db, "UPDATE cases SET created_at = %lld WHERE id = %lld",
                       (long long)noon(days[i]), (long long)ids[i]);
    assert_int_equal(eval_rebuild(&ctx, &n, &err), 0);
    for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
        int64_t want[2];
        snprintf(sql, sizeof(sql),
                 "SELECT total(reported) + 1000 * total(closed) FROM eval_facts WHERE grid_id = "
                 "? AND day BETWEEN %lld AND %lld",
                 (long long)periods[i][0], (long long)periods[i][1]);
        want[0] = gr_testdb_int(ctx.db, sql, grid);
        assert_int_equal(
            eval_sums(gr_testdb_reader(ctx.db), 0, grid, periods[i][0], periods[i][1], v, &err), 0);
        if (v[EC_REPORTED] + 1000 * v[EC_CLOSED] != want[0])
            fail_msg("%lld..%lld: %lld, want %lld", (long long)periods[i][0],
                     (long long)periods[i][1], (long long)(v[EC_REPORTED] + 1000 * v[EC_CLOSED]),
                     (long long)want[0]);
        assert_int_equal(eval_sums_all(gr_testdb_reader(ctx.db), periods[i][0], periods[i][1], &all,
                                       &nall, &err),
                         0);
        want[1] = 0;
        for (k = 0; k < nall; k++)
            if (all[k].kind == 0 && all[k].unit == grid)
                want[1] = all[k].v[EC_REPORTED] + 1000 * all[k].v[EC_CLOSED];
        assert_int_equal(want[1], want[0]);
        free(all);
    }
    /* The monthly rows are the daily ones added up. */
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM eval_monthly m WHERE reported != (SELECT "
                                   "total(reported) FROM eval_daily d WHERE d.kind = m.kind AND "
                                   "d.unit_id = m.unit_id AND d.day / 100 = m.month)",
                                   0),
                     0);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(DISTINCT month) FROM eval_monthly", 0), 3);
}

/* A synthetic report of category at (lat, lon) on a local day, in the
 * grid of the fixture (its chain copied from case A). */
static void synthetic(int64_t category, double lat, double lon, int64_t day, int reworks)
{
    static int seq;

    gr_testdb_exec(ctx.db,
                   "INSERT INTO cases (public_code, channel, category_id, title, description, lat, "
                   "lon, city_id, district_id, street_id, community_id, grid_id, first_unit_id, "
                   "state, reworks, created_at, updated_at) SELECT 'SYN%06d', 'web', %lld, '合成', "
                   "'合成的历史', %.7f, %.7f, city_id, district_id, street_id, community_id, "
                   "grid_id, first_unit_id, 'reported', %d, %lld, %lld FROM cases WHERE id = %lld",
                   ++seq, (long long)category, lat, lon, reworks, (long long)noon(day),
                   (long long)noon(day), (long long)case_a);
}

/* A uniform history raises nothing; a place where one category comes back
 * and a category that rises are found, and nothing else. */
static void test_recurring(void **state)
{
    int64_t uniform = gr_testdb_category(ctx.db, "C0101"),
            place = gr_testdb_category(ctx.db, "C0102"),
            rising = gr_testdb_category(ctx.db, "C0103"), day, n = 0;
    eval_trend_rule rule = {30, 5, 1.5, 0.001};
    eval_place *p = NULL;
    eval_trend *t = NULL;
    size_t np = 0, nt = 0;
    gr_err err = {0};
    int i;

    (void)state;
    assert_true(fabs(eval_poisson_tail(1, 1.0) - (1 - exp(-1.0))) < 1e-12);
    assert_true(eval_poisson_tail(0, 5.0) == 1);
    assert_true(eval_poisson_tail(12, 2.0) < 1e-5);
    assert_int_equal(eval_day_add(20260301, -1), 20260228);
    assert_int_equal(eval_day_add(20241231, 1), 20250101);
    /* A year of one report a week, each somewhere else. */
    for (i = 0, day = 20250701; day <= 20260630; day = eval_day_add(day, 7), i++)
        synthetic(uniform, glat + 0.002 * (i % 20), glon + 0.002 * (i / 20), day, 0);
    /* The same corner four times in June, one of them reworked. */
    for (i = 0; i < 4; i++)
        synthetic(place, glat, glon + 0.00001 * i, 20260610 + 5 * i, i == 2);
    /* One report a fortnight, then twelve in June, each elsewhere. */
    for (i = 0, day = 20250705; day < 20260601; day = eval_day_add(day, 14), i++)
        synthetic(rising, glat - 0.002 * (i % 20), glon - 0.002 * (i / 20), day, 0);
    for (i = 0; i < 12; i++)
        synthetic(rising, glat - 0.003 * i, glon + 0.003 * i, 20260601 + 2 * i, 0);
    assert_int_equal(eval_rebuild(&ctx, &n, &err), 0);

    assert_int_equal(eval_recurring_places(gr_testdb_reader(ctx.db), "grid_id", grid,
                                           noon(20260401), 3, &p, &np, &err),
                     0);
    assert_int_equal(np, 1);
    assert_int_equal(p[0].category_id, place);
    assert_int_equal(p[0].reports, 4);
    assert_int_equal(p[0].reopened, 1);
    assert_int_equal(p[0].ncases, 4);
    free(p);

    assert_int_equal(eval_rising_categories(gr_testdb_reader(ctx.db), "grid_id", grid, 20260630,
                                            &rule, &t, &nt, &err),
                     0);
    assert_int_equal(nt, 1);
    assert_int_equal(t[0].category_id, rising);
    assert_int_equal(t[0].recent, 12);
    assert_true(t[0].baseline >= 1 && t[0].baseline <= 3);
    assert_int_equal(t[0].seasonal, 0);
    assert_int_equal(t[0].windows, 3);
    assert_true(t[0].p < 1e-5);
    free(t);
    /* A month earlier nothing had risen yet. */
    assert_int_equal(eval_rising_categories(gr_testdb_reader(ctx.db), "grid_id", grid, 20260531,
                                            &rule, &t, &nt, &err),
                     0);
    assert_int_equal(nt, 0);
    free(t);
}

/* The edges: a day without cases has no rates and no score; a day whose
 * cases all ran out of handling time rates 100 % overdue and 0 % on time. */
static void test_edges(void **state)
{
    int64_t a = report_as(RESIDENT), b = report_as(RESIDENT), v[EC_N], n = 0, day;
    eval_config cfg;
    gr_err err = {0};
    double x = -1, score = -1;

    (void)state;
    to_signed(a);
    to_signed(b);
    assert_int_equal(cases_sched_run_once(&ctx, time_now_ms() + 400LL * 86400000, NULL, &err), 0);
    assert_int_equal(eval_sync_run(&ctx, 0, &n, &err), 0);
    day = facts(a).day;
    assert_int_equal(facts(b).day, day);
    assert_int_equal(eval_config_for(gr_testdb_reader(ctx.db), (int)(day / 100), &cfg, &err), 0);
    /* Only a and b were reported that day (the others were moved away). */
    assert_int_equal(eval_sums(gr_testdb_reader(ctx.db), 0, grid, day, day, v, &err), 0);
    assert_int_equal(v[EC_REPORTED], 2);
    assert_int_equal(v[EC_TO_HANDLE], 2);
    assert_int_equal(v[EC_OVERDUE_PENDING], 2);
    assert_true(value_of(&cfg, "overdue_pending_rate", v) == 1.0);
    assert_true(value_of(&cfg, "dispose_on_time_rate", v) == 0.0);
    assert_true(value_of(&cfg, "dispose_rate", v) == 0.0);
    /* Nobody rated them: the 三率 and the score have no value. */
    assert_int_equal(eval_value(indicator(&cfg, "satisfaction_rate"), v, &x, NULL, NULL), 0);
    assert_int_equal(eval_composite(&cfg, v, &score), 0);
    /* A day with no cases: every sum 0, no rate, no score. */
    assert_int_equal(eval_sums(gr_testdb_reader(ctx.db), 0, grid, 19990101, 19990131, v, &err), 0);
    for (n = 0; n < EC_N; n++)
        assert_int_equal(v[n], 0);
    assert_int_equal(eval_value(indicator(&cfg, "close_rate"), v, &x, NULL, NULL), 0);
    assert_int_equal(eval_composite(&cfg, v, &score), 0);
    assert_true(value_of(&cfg, "returns", v) == 0);
    eval_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_columns), cmocka_unit_test(test_worked_numbers),
        cmocka_unit_test(test_config_errors),   cmocka_unit_test(test_facts),
        cmocka_unit_test(test_sync_sums),       cmocka_unit_test(test_periods),
        cmocka_unit_test(test_recurring),       cmocka_unit_test(test_edges),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
