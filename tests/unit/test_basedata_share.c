/* Data-sharing applications, the model: the checks of an application (the
 * allow-list, the personal-field rule, the credit code, the period of at
 * most a year), the period of a token, and on a database the flow apply →
 * approve (token stored only as its keyed hash) → resolve → read audited →
 * revoke (resolve refused at once). Codes are the public examples of
 * china_standards.md; everything else is synthetic. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/timeutil.h"
#include "basedata/bd_share.h"
#include "testdb.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define USCC "91350100M000100Y43"
#define DAY  (24LL * 3600 * 1000)

static arena *A;

static void expect_err(int rc, const gr_err *err, int code, const char *field)
{
    assert_int_equal(rc, code);
    assert_string_equal(err->field, field);
    assert_true(err->msg[0] != '\0');
}

static bd_share_input base_input(void)
{
    bd_share_input in;

    memset(&in, 0, sizeof(in));
    in.org_name = "某某研究院";
    in.org_uscc = USCC;
    in.entity = "people";
    in.fields[0] = "sex";
    in.fields[1] = "name";
    in.nfields = 2;
    in.area_id = 1;
    in.purpose = "人口结构研究";
    in.period_from = "2026-01-01";
    in.period_to = "2026-12-31";
    return in;
}

/* 2026-06-01T00:00Z */
#define NOW 1780272000000LL

static void test_allow_list(void **state)
{
    int personal = -1;

    (void)state;
    assert_true(bd_share_field_allowed("people", "name", &personal));
    assert_int_equal(personal, 1);
    assert_true(bd_share_field_allowed("people", "residency", &personal));
    assert_int_equal(personal, 0);
    assert_true(bd_share_field_allowed("orgs", "legal_rep", &personal));
    assert_int_equal(personal, 1);
    assert_false(bd_share_field_allowed("people", "name_enc", NULL));
    assert_false(bd_share_field_allowed("people", "steward_user_id", NULL));
    assert_false(bd_share_field_allowed("cases", "id", NULL));
}

static void test_input_check(void **state)
{
    bd_share_input in;
    const char *fields, *uscc;
    int64_t vf, vu;
    gr_err err;

    (void)state;
    in = base_input();
    assert_int_equal(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), 0);
    /* Normalised into the allow-list's order. */
    assert_string_equal(fields, "name,sex");
    assert_string_equal(uscc, USCC);
    /* Dates are days in Asia/Shanghai: 2026-01-01T00:00+08:00 .. 2027-01-01T00:00+08:00. */
    assert_int_equal(vf, 1767225600000LL - 8 * 3600 * 1000);
    assert_int_equal(vu, 1798761600000LL - 8 * 3600 * 1000);

    in = base_input();
    in.fields[1] = "name_enc";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "fields");
    in = base_input();
    in.fields[1] = "sex";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "fields");
    in = base_input();
    in.nfields = 0;
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "fields");
    in = base_input();
    in.entity = "cases";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "entity");
    in = base_input();
    in.org_uscc = "91350100M000100Y44"; /* a wrong check character */
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "org_uscc");
    in = base_input();
    in.purpose = NULL;
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "purpose");

    /* Personal fields in full need a legal basis, and a personal field. */
    in = base_input();
    in.personal = "full";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "legal_basis");
    in.legal_basis = "《某某条例》第十条";
    assert_int_equal(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), 0);
    in.fields[1] = "residency";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "personal");
    in = base_input();
    in.personal = "clear";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "personal");

    /* The period: strict dates, ordered, at most one year, not over. */
    in = base_input();
    in.period_to = "2027-01-01";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "period_to");
    in.period_to = "2025-12-31";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "period_to");
    in.period_to = "2026-02-30";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "period_to");
    in = base_input();
    in.period_from = "2024-02-29";
    in.period_to = "2025-02-28";
    assert_int_equal(bd_share_input_check(A, &in, 1700000000000LL, &fields, &uscc, &vf, &vu, &err),
                     0);
    in.period_to = "2025-03-01";
    expect_err(bd_share_input_check(A, &in, 1700000000000LL, &fields, &uscc, &vf, &vu, &err), &err,
               GR_EINVAL, "period_to");
    in = base_input();
    in.period_from = "2026-01-01";
    in.period_to = "2026-01-31";
    expect_err(bd_share_input_check(A, &in, NOW, &fields, &uscc, &vf, &vu, &err), &err, GR_EINVAL,
               "period_to");
}

static void test_period(void **state)
{
    bd_share_app app;
    gr_err err;

    (void)state;
    memset(&app, 0, sizeof(app));
    app.period_from = "2026-06-01";
    app.period_to = "2026-06-30";
    app.valid_from = 1000;
    app.valid_until = 2000;
    expect_err(bd_share_period_check(&app, 999, &err), &err, GR_EFORBIDDEN, "period");
    assert_non_null(strstr(err.msg, "not begun"));
    assert_int_equal(bd_share_period_check(&app, 1000, &err), 0);
    assert_int_equal(bd_share_period_check(&app, 1999, &err), 0);
    expect_err(bd_share_period_check(&app, 2000, &err), &err, GR_EFORBIDDEN, "period");
    assert_non_null(strstr(err.msg, "over"));
}

static void test_flow_on_db(void **state)
{
    gr_ctx ctx;
    char dir[256], token[BD_SHARE_TOKEN_TEXT], again[BD_SHARE_TOKEN_TEXT], from[11], to[11];
    bd_actor filer = {900001, "data_steward", 900001}, approver = {900002, "data_steward", 900001};
    bd_share_input in = base_input();
    bd_share_app app;
    json_t *items = NULL;
    int64_t id = 0, last = 0, now = time_now_ms();
    time_t t = (time_t)(now / 1000) + 8 * 3600;
    struct tm tm;
    int more = 0;
    gr_err err;

    (void)state;
    memset(&ctx, 0, sizeof(ctx));
    memset(ctx.index_key, 7, sizeof(ctx.index_key));
    memset(ctx.field_key, 9, sizeof(ctx.field_key));
    gr_testdb_open(&ctx.db, dir, sizeof(dir), "share");
    gr_testdb_exec(ctx.db,
                   "INSERT INTO org_units(id, code, name, kind, path, source, created_at, "
                   "updated_at) "
                   "VALUES (900001, '999999', '测试区', 'district', '/900001/', 'demo', 0, 0)");
    gr_testdb_exec(ctx.db, "INSERT INTO users(id, username, display_name, role, scope_org_id, "
                           "password_hash, created_at, updated_at) VALUES "
                           "(900001, 'ds1', 'x', 'data_steward', 900001, 'x', 0, 0), "
                           "(900002, 'ds2', 'x', 'data_steward', 900001, 'x', 0, 0)");
    gmtime_r(&t, &tm);
    strftime(from, sizeof(from), "%Y-%m-%d", &tm);
    t += 10 * 86400;
    gmtime_r(&t, &tm);
    strftime(to, sizeof(to), "%Y-%m-%d", &tm);
    in.period_from = from;
    in.period_to = to;
    in.area_id = 900001;
    assert_int_equal(bd_share_apply(&ctx, &filer, &in, &id, &err), 0);

    /* Four eyes, and a refusal needs a reason. */
    expect_err(bd_share_approve(&ctx, &filer, id, NULL, token, &err), &err, GR_EFORBIDDEN, "id");
    expect_err(bd_share_refuse(&ctx, &approver, id, "", &err), &err, GR_EINVAL, "reason");
    /* Full values were not asked for: they cannot be granted. */
    expect_err(bd_share_approve(&ctx, &approver, id, "full", token, &err), &err, GR_EINVAL,
               "personal");
    assert_int_equal(bd_share_approve(&ctx, &approver, id, NULL, token, &err), 0);
    assert_int_equal(strncmp(token, "grs_", 4), 0);
    /* Only the keyed hash is stored. */
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM bd_share_apps WHERE token_hash IS NOT "
                                   "NULL AND length(token_hash) = 32 AND id = ?1",
                                   id),
                     1);
    expect_err(bd_share_approve(&ctx, &approver, id, NULL, again, &err), &err, GR_ECONFLICT,
               "state");

    assert_int_equal(bd_share_resolve(&ctx, gr_testdb_reader(ctx.db), A, token, now, &app, &err),
                     0);
    assert_int_equal(app.id, id);
    assert_string_equal(app.fields, "name,sex");
    assert_string_equal(app.granted_personal, "masked");
    expect_err(bd_share_resolve(&ctx, gr_testdb_reader(ctx.db), A, "grt_abc", now, &app, &err),
               &err, GR_EAUTH, "Authorization");

    assert_int_equal(
        bd_share_read(&ctx, gr_testdb_reader(ctx.db), A, &app, 0, 10, &items, &more, &last, &err),
        0);
    assert_int_equal(json_array_size(items), 0);
    json_decref(items);
    assert_int_equal(bd_share_record_read(&ctx, &app, 0, now, "req-1", &err), 0);
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM audit_log WHERE action = 'share.read' AND "
                                   "entity_id = ?1 AND json_extract(detail, '$.application_id') "
                                   "= ?1",
                                   id),
                     1);

    expect_err(bd_share_revoke(&ctx, &approver, id, NULL, &err), &err, GR_EINVAL, "reason");
    assert_int_equal(bd_share_revoke(&ctx, &approver, id, "合同终止", &err), 0);
    expect_err(bd_share_resolve(&ctx, gr_testdb_reader(ctx.db), A, token, now, &app, &err), &err,
               GR_EAUTH, "Authorization");
    assert_non_null(strstr(err.msg, "合同终止"));
    /* A read that passed the check just before the revocation is refused in its write. */
    expect_err(bd_share_record_read(&ctx, &app, 0, now, "req-2", &err), &err, GR_EAUTH,
               "Authorization");
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM bd_share_history WHERE app_id = ?1", id), 3);
    db_close(ctx.db);
}

static int setup(void **state)
{
    (void)state;
    A = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(A);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_input_check),
        cmocka_unit_test(test_period),
        cmocka_unit_test(test_flow_on_db),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
