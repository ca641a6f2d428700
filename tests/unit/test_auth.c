/* auth/: the policy table, the rules, passwords, users, sessions, throttling,
 * API tokens and the command line, on a real database in a temporary folder. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth.h"
#include "auth/auth_model.h"
#include "auth/policy.h"
#include "base/timeutil.h"
#include "policy_expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char data[96];
static gr_ctx ctx;
static arena *A;

#define THROTTLE_BASE_MS 300

static int setup(void **state)
{
    gr_err err = {0};

    (void)state;
    setenv("GR_PWHASH", "min", 1);
    setenv("GR_THROTTLE_BASE_MS", "300", 1);
    assert_int_equal(gr_tmpdir_make(dir, sizeof(dir), "auth"), 0);
    snprintf(data, sizeof(data), "%s/data", dir);
    if (app_open(&ctx, data, &err) != 0)
        fail_msg("app_open: %s: %s", err.field, err.msg);
    A = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    arena_free(A);
    app_close(&ctx);
    return gr_tmpdir_remove(dir);
}

/* ---- helpers ---- */

static int exec_write(db_conn *c, void *arg, gr_err *err)
{
    return db_exec(c, arg, err);
}

static void sql(const char *text)
{
    gr_err err = {0};

    if (db_write(ctx.db, exec_write, (void *)(uintptr_t)text, &err) != 0)
        fail_msg("%s: %s", text, err.msg);
}

static int64_t count(const char *query)
{
    int64_t n = -1;
    gr_err err = {0};

    assert_int_equal(db_query_int(db_reader(ctx.db), query, 0, -1, &n, &err), 0);
    return n;
}

/* A district (1) with a street (2), and another district (3). */
static void make_org(void)
{
    sql("INSERT INTO org_units(id, code, name, kind, parent_id, path, source, created_at, "
        "updated_at) VALUES (1, '110105', 'D', 'district', NULL, '/1/', 'manual', 0, 0), "
        "(2, '110105001', 'S', 'street', 1, '/1/2/', 'manual', 0, 0), "
        "(3, '110106', 'E', 'district', NULL, '/3/', 'manual', 0, 0)");
}

static int64_t add_user(const char *name, const char *role, int64_t scope, const char *phone)
{
    auth_user_new in = {name, "测试用户", "correct horse battery", role, phone, scope, 0};
    gr_err err = {0};
    int64_t id = 0;

    if (auth_user_create(&ctx, &in, &id, &err) != 0)
        fail_msg("create %s: %s: %s", name, err.field, err.msg);
    assert_true(id > 0);
    return id;
}

static int login(const char *name, const char *pw, auth_login *out, gr_err *err)
{
    return auth_login_password(&ctx, A, name, pw, "127.0.0.1", out, err);
}

/* ---- the policy table, against tests/support/policy_expect.c ---- */

static void test_policy_table(void **state)
{
    size_t a, r;

    (void)state;
    /* The table has exactly the actions expected here. */
    assert_int_equal(policy_nactions, gr_expect_nrules);
    for (a = 0; a < policy_nactions; a++) {
        if (!gr_expect_allowed(policy_actions[a]))
            fail_msg("policy action %s has no expectation in this test", policy_actions[a]);
        assert_true(policy_action_known(policy_actions[a]));
    }
    for (a = 0; a < gr_expect_nrules; a++) {
        const gr_expect_rule *e = &gr_expect_rules[a];

        for (r = 0; r < gr_expect_nroles; r++) {
            int want = gr_expect_has_word(e->allowed, gr_expect_roles[r]);
            int got = policy_allows(gr_expect_roles[r], e->action);
            if (want != got)
                fail_msg("%s × %s: expected %s, policy says %s", gr_expect_roles[r], e->action,
                         want ? "allow" : "deny", got ? "allow" : "deny");
        }
    }
    /* Eleven stored roles; "anonymous" is not one of them. */
    assert_int_equal(policy_nroles, GR_EXPECT_NSTORED);
    for (r = 0; r < GR_EXPECT_NSTORED; r++)
        assert_true(policy_role_valid(gr_expect_roles[r]));
    assert_false(policy_role_valid("anonymous"));
    assert_false(policy_role_valid("root"));
    assert_false(policy_role_valid(NULL));
    /* Unknown actions and roles are denied to everyone, even admin. */
    assert_false(policy_action_known("user.raed"));
    assert_false(policy_allows("admin", "user.raed"));
    assert_false(policy_allows("admin", NULL));
    assert_false(policy_allows("root", "public"));
    assert_false(policy_allows(NULL, "session"));
}

/* ---- rules ---- */

static void test_password_rules(void **state)
{
    char pw[300];
    gr_err err = {0};

    (void)state;
    memset(pw, 'x', sizeof(pw));
    pw[9] = '\0';
    assert_int_equal(auth_password_check(pw, "password", &err), GR_EINVAL);
    assert_string_equal(err.field, "password");
    assert_non_null(strstr(err.msg, "at least 10"));
    pw[9] = 'x';
    pw[10] = '\0';
    assert_int_equal(auth_password_check(pw, "password", &err), 0);
    memset(pw, 'x', sizeof(pw));
    pw[256] = '\0';
    assert_int_equal(auth_password_check(pw, "password", &err), 0);
    pw[256] = 'x';
    pw[257] = '\0';
    assert_int_equal(auth_password_check(pw, "new_password", &err), GR_EINVAL);
    assert_string_equal(err.field, "new_password");
    assert_non_null(strstr(err.msg, "at most 256"));
    /* Characters, not bytes: ten Chinese characters are enough, nine are not. */
    assert_int_equal(auth_password_check("一二三四五六七八九十", "password", &err), 0);
    assert_int_equal(auth_password_check("一二三四五六七八九", "password", &err), GR_EINVAL);
    assert_int_equal(auth_password_check(NULL, "password", &err), GR_EINVAL);
}

static void test_username_phone_role_rules(void **state)
{
    static const char *const good_names[] = {"abc", "grid_inspector", "li.wei-2", "a23456789012"};
    static const char *const bad_names[] = {
        "ab",      "Admin", "1abc",
        "_abc",    "a b",   "张三",
        "abc/def", "",      "a234567890123456789012345678901234"};
    static const char *const bad_phones[] = {"12812345678",
                                             "1381234567",
                                             "138123456789",
                                             "+8613812345678",
                                             "1381234567a",
                                             "23812345678",
                                             ""};
    char mask[16];
    gr_err err = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++)
        assert_int_equal(auth_username_check(good_names[i], "username", &err), 0);
    for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        if (auth_username_check(bad_names[i], "username", &err) != GR_EINVAL)
            fail_msg("username '%s' was accepted", bad_names[i]);
        assert_string_equal(err.field, "username");
    }
    assert_int_equal(auth_phone_check("13812345678", "phone", &err), 0);
    assert_int_equal(auth_phone_check("19912345678", "phone", &err), 0);
    for (i = 0; i < sizeof(bad_phones) / sizeof(bad_phones[0]); i++) {
        if (auth_phone_check(bad_phones[i], "phone", &err) != GR_EINVAL)
            fail_msg("phone '%s' was accepted", bad_phones[i]);
        assert_string_equal(err.field, "phone");
    }
    auth_phone_mask("13812345678", mask, sizeof(mask));
    assert_string_equal(mask, "138****5678");
    assert_int_equal(auth_role_check("grid_inspector", "role", &err), 0);
    assert_int_equal(auth_role_check("superuser", "role", &err), GR_EINVAL);
    assert_string_equal(err.field, "role");
}

static void test_throttle_schedule(void **state)
{
    (void)state;
    /* Five failures are free; the wait then starts at base and doubles... */
    assert_int_equal(auth_throttle_delay(1, 5, 1000), 0);
    assert_int_equal(auth_throttle_delay(4, 5, 1000), 0);
    assert_int_equal(auth_throttle_delay(5, 5, 1000), 1000);
    assert_int_equal(auth_throttle_delay(6, 5, 1000), 2000);
    assert_int_equal(auth_throttle_delay(7, 5, 1000), 4000);
    assert_int_equal(auth_throttle_delay(14, 5, 1000), 512000);
    /* ... up to 15 minutes. */
    assert_int_equal(auth_throttle_delay(15, 5, 1000), 15 * 60 * 1000);
    assert_int_equal(auth_throttle_delay(1000000, 5, 1000), 15 * 60 * 1000);
    assert_int_equal(auth_throttle_delay(20, 20, 300), 300);
}

/* ---- users ---- */

static void test_user_create_read(void **state)
{
    auth_user u;
    gr_err err = {0};
    char phone[16];
    const void *blob;
    size_t n = 0;
    db_stmt *st;
    int64_t id;

    (void)state;
    id = add_user("alice", "resident", 0, "13812345678");
    assert_int_equal(auth_user_get(&ctx, A, id, &u, &err), 0);
    assert_string_equal(u.username, "alice");
    assert_string_equal(u.display_name, "测试用户");
    assert_string_equal(u.role, "resident");
    assert_string_equal(u.status, "active");
    assert_string_equal(u.phone_hint, "138****5678");
    assert_int_equal(u.scope_org_id, 0);
    assert_int_equal(u.version, 1);
    assert_true(u.created_at > 0);
    /* At rest: the phone is sealed, the password is an argon2id hash. */
    st = db_prepare(db_reader(ctx.db), "SELECT phone_enc, password_hash FROM users WHERE id = ?",
                    &err);
    assert_non_null(st);
    db_bind_int(st, 1, id);
    assert_int_equal(db_step(st, &err), DB_ROW);
    blob = db_col_blob(st, 0, &n);
    assert_int_equal(n, 11 + CRYPTO_SEAL_OVERHEAD);
    assert_null(memmem(blob, n, "12345678", 8));
    assert_int_equal(strncmp(db_col_text(st, 1), "$argon2id$", 10), 0);
    assert_null(strstr(db_col_text(st, 1), "correct horse"));
    db_done(st);
    assert_int_equal(auth_user_phone(&ctx, id, phone, sizeof(phone), &err), 0);
    assert_string_equal(phone, "13812345678");
    /* By name, and the misses. */
    assert_int_equal(auth_user_find(&ctx, A, "alice", &u, &err), 0);
    assert_int_equal(u.id, id);
    assert_int_equal(auth_user_find(&ctx, A, "bob", &u, &err), GR_ENOTFOUND);
    assert_int_equal(auth_user_get(&ctx, A, id + 100, &u, &err), GR_ENOTFOUND);
}

static void test_user_create_invalid_changes_nothing(void **state)
{
    static const struct {
        auth_user_new in;
        int code;
        const char *field;
    } cases[] = {
        {{"Bad Name", "x", "correct horse battery", "resident", NULL, 0, 0}, GR_EINVAL, "username"},
        {{"carol", "", "correct horse battery", "resident", NULL, 0, 0}, GR_EINVAL, "display_name"},
        {{"carol", "x", "short", "resident", NULL, 0, 0}, GR_EINVAL, "password"},
        {{"carol", "x", "correct horse battery", "king", NULL, 0, 0}, GR_EINVAL, "role"},
        {{"carol", "x", "correct horse battery", "resident", "12345", 0, 0}, GR_EINVAL, "phone"},
        {{"carol", "x", "correct horse battery", "admin", NULL, 0, 0}, GR_EINVAL, "scope_org_id"},
        {{"carol", "x", "correct horse battery", "resident", NULL, 0, 5},
         GR_EINVAL,
         "department_id"},
        {{"carol", "x", "correct horse battery", "admin", NULL, 999, 0}, GR_EINVAL, "scope_org_id"},
        {{"carol", "x", "correct horse battery", "admin", NULL, 1, 999},
         GR_EINVAL,
         "department_id"},
        {{"alice", "x", "correct horse battery", "resident", NULL, 0, 0}, GR_EEXIST, "username"},
    };
    gr_err err;
    size_t i;
    int64_t before;

    (void)state;
    make_org();
    add_user("alice", "resident", 0, NULL);
    before = count("SELECT count(*) FROM users");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&err, 0, sizeof(err));
        if (auth_user_create(&ctx, &cases[i].in, NULL, &err) != cases[i].code)
            fail_msg("case %zu: expected %d, got %d (%s: %s)", i, cases[i].code, err.code,
                     err.field, err.msg);
        assert_string_equal(err.field, cases[i].field);
        assert_true(err.msg[0] != '\0');
        assert_int_equal(count("SELECT count(*) FROM users"), before);
    }
}

static void test_user_update_version(void **state)
{
    auth_user_patch p;
    auth_login l;
    auth_user u;
    gr_err err = {0};
    http_principal who;
    const char *csrf;
    int64_t id;

    (void)state;
    make_org();
    id = add_user("dave", "grid_inspector", 2, NULL);
    assert_int_equal(login("dave", "correct horse battery", &l, &err), 0);
    memset(&p, 0, sizeof(p));
    p.version = 1;
    p.display_name = "新名字";
    p.set_phone = 1;
    p.phone = "13900001111";
    assert_int_equal(auth_user_update(&ctx, id, &p, &err), 0);
    assert_int_equal(auth_user_get(&ctx, A, id, &u, &err), 0);
    assert_string_equal(u.display_name, "新名字");
    assert_string_equal(u.phone_hint, "139****1111");
    assert_int_equal(u.version, 2);
    /* A renamed user keeps the session. */
    memset(&who, 0, sizeof(who));
    assert_int_equal(auth_session_resolve(&ctx, A, l.token, &who, &csrf), 0);
    /* The same change again from version 1 is stale, and changes nothing. */
    p.display_name = "又一个名字";
    assert_int_equal(auth_user_update(&ctx, id, &p, &err), GR_ECONFLICT);
    assert_string_equal(err.field, "version");
    assert_int_equal(auth_user_get(&ctx, A, id, &u, &err), 0);
    assert_string_equal(u.display_name, "新名字");
    /* A merged record must still hold together: staff need a scope. */
    memset(&p, 0, sizeof(p));
    p.version = 2;
    p.set_scope = 1;
    p.scope_org_id = 0;
    assert_int_equal(auth_user_update(&ctx, id, &p, &err), GR_EINVAL);
    assert_string_equal(err.field, "scope_org_id");
    memset(&p, 0, sizeof(p));
    p.version = 2;
    p.status = "gone";
    assert_int_equal(auth_user_update(&ctx, id, &p, &err), GR_EINVAL);
    assert_string_equal(err.field, "status");
    /* Clearing the phone. */
    memset(&p, 0, sizeof(p));
    p.version = 2;
    p.set_phone = 1;
    assert_int_equal(auth_user_update(&ctx, id, &p, &err), 0);
    assert_int_equal(auth_user_get(&ctx, A, id, &u, &err), 0);
    assert_null(u.phone_hint);
    /* A new password ends the sessions; the new one works, the old does not. */
    memset(&p, 0, sizeof(p));
    p.version = 3;
    p.password = "another long password";
    assert_int_equal(auth_user_update(&ctx, id, &p, &err), 0);
    assert_int_equal(auth_session_resolve(&ctx, A, l.token, &who, &csrf), GR_EAUTH);
    assert_int_equal(login("dave", "correct horse battery", &l, &err), GR_EAUTH);
    assert_int_equal(login("dave", "another long password", &l, &err), 0);
    /* Disabling ends them too, and the account cannot sign in. */
    memset(&p, 0, sizeof(p));
    p.version = 4;
    p.status = "disabled";
    assert_int_equal(auth_user_update(&ctx, id, &p, &err), 0);
    assert_int_equal(auth_session_resolve(&ctx, A, l.token, &who, &csrf), GR_EAUTH);
    assert_int_equal(auth_user_update(&ctx, id + 50, &p, &err), GR_ENOTFOUND);
}

static void test_user_list_scope(void **state)
{
    auth_user *v;
    gr_err err = {0};
    size_t n;

    (void)state;
    make_org();
    add_user("district", "admin", 1, NULL);
    add_user("street", "grid_inspector", 2, NULL);
    add_user("elsewhere", "admin", 3, NULL);
    add_user("resident", "resident", 0, NULL);
    assert_int_equal(auth_user_list(&ctx, A, 1, 0, 0, 50, &v, &n, &err), 0);
    assert_int_equal(n, 4);
    /* The district sees its subtree and the residents. */
    assert_int_equal(auth_user_list(&ctx, A, 0, 1, 0, 50, &v, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].username, "district");
    assert_string_equal(v[1].username, "street");
    assert_string_equal(v[2].username, "resident");
    /* The street sees only itself (and residents). */
    assert_int_equal(auth_user_list(&ctx, A, 0, 2, 0, 50, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].username, "street");
    /* Pages: limit and after. */
    assert_int_equal(auth_user_list(&ctx, A, 0, 1, 0, 1, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(auth_user_list(&ctx, A, 0, 1, v[0].id, 1, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].username, "street");
}

/* ---- sessions and login ---- */

static void test_login_and_sessions(void **state)
{
    auth_login l, l2;
    http_principal who;
    const char *csrf = NULL;
    gr_err err = {0}, err2 = {0};
    char q[256];
    int64_t id;

    (void)state;
    make_org();
    id = add_user("erin", "auditor", 1, NULL);
    assert_int_equal(login("erin", "correct horse battery", &l, &err), 0);
    assert_int_equal(l.user.id, id);
    assert_int_equal(strlen(l.token), CRYPTO_TOKEN_TEXT - 1);
    assert_int_equal(strlen(l.csrf), CRYPTO_TOKEN_TEXT - 1);
    assert_string_not_equal(l.token, l.csrf);
    /* Usernames are matched case-insensitively (they are stored lower-case). */
    assert_int_equal(login("ERIN", "correct horse battery", &l2, &err), 0);
    memset(&who, 0, sizeof(who));
    assert_int_equal(auth_session_resolve(&ctx, A, l.token, &who, &csrf), 0);
    assert_int_equal(who.user_id, id);
    assert_int_equal(who.session_id, l.session_id);
    assert_string_equal(who.username, "erin");
    assert_string_equal(who.role, "auditor");
    assert_int_equal(who.scope_org_id, 1);
    assert_string_equal(csrf, l.csrf);
    /* Only a hash of the token is stored. */
    snprintf(q, sizeof(q), "SELECT count(*) FROM sessions WHERE token_hash = CAST('%s' AS BLOB)",
             l.token);
    assert_int_equal(count(q), 0);
    assert_int_equal(count("SELECT count(*) FROM sessions WHERE length(token_hash) = 32"), 2);
    /* Wrong password, unknown user: the same answer. */
    assert_int_equal(login("erin", "wrong password!", &l2, &err), GR_EAUTH);
    assert_int_equal(login("nobody", "wrong password!", &l2, &err2), GR_EAUTH);
    assert_string_equal(err.msg, err2.msg);
    assert_string_equal(err.field, err2.field);
    assert_int_equal(login("erin", "", &l2, &err), GR_EAUTH);
    /* Garbage and unknown tokens are nobody. */
    assert_int_equal(auth_session_resolve(&ctx, A, "garbage", &who, &csrf), GR_EAUTH);
    assert_int_equal(auth_session_resolve(&ctx, A, l.csrf, &who, &csrf), GR_EAUTH);
    /* Idle for more than 12 hours: ended. */
    assert_int_equal(login("erin", "correct horse battery", &l2, &err), 0);
    snprintf(q, sizeof(q), "UPDATE sessions SET last_seen_at = %lld WHERE id = %lld",
             (long long)(time_now_ms() - AUTH_SESSION_IDLE_MS - 1000), (long long)l2.session_id);
    sql(q);
    assert_int_equal(auth_session_resolve(&ctx, A, l2.token, &who, &csrf), GR_EAUTH);
    /* Past its absolute end: ended, however recently used. */
    assert_int_equal(login("erin", "correct horse battery", &l2, &err), 0);
    snprintf(q, sizeof(q), "UPDATE sessions SET expires_at = %lld WHERE id = %lld",
             (long long)(time_now_ms() - 1), (long long)l2.session_id);
    sql(q);
    assert_int_equal(auth_session_resolve(&ctx, A, l2.token, &who, &csrf), GR_EAUTH);
    /* Use moves the idle clock (at most once a minute). */
    snprintf(q, sizeof(q), "UPDATE sessions SET last_seen_at = %lld WHERE id = %lld",
             (long long)(time_now_ms() - 5 * 60 * 1000), (long long)l.session_id);
    sql(q);
    assert_int_equal(auth_session_resolve(&ctx, A, l.token, &who, &csrf), 0);
    snprintf(q, sizeof(q), "SELECT last_seen_at > %lld FROM sessions WHERE id = ?",
             (long long)(time_now_ms() - 60 * 1000));
    {
        int64_t fresh = 0;
        assert_int_equal(db_query_int(db_reader(ctx.db), q, l.session_id, 0, &fresh, &err), 0);
        assert_int_equal(fresh, 1);
    }
    /* Revoked: ended. */
    assert_int_equal(auth_session_revoke(&ctx, l.session_id, &err), 0);
    assert_int_equal(auth_session_resolve(&ctx, A, l.token, &who, &csrf), GR_EAUTH);
}

static void test_login_throttle(void **state)
{
    auth_login l;
    gr_err err = {0};
    int i;

    (void)state;
    add_user("frank", "resident", 0, NULL);
    for (i = 0; i < 5; i++)
        assert_int_equal(login("frank", "wrong password!", &l, &err), GR_EAUTH);
    /* The sixth attempt waits, even with the right password. */
    assert_int_equal(login("frank", "correct horse battery", &l, &err), GR_ETHROTTLED);
    assert_true(l.retry_after_ms > 0 && l.retry_after_ms <= THROTTLE_BASE_MS);
    assert_non_null(strstr(err.msg, "try again"));
    /* Throttled attempts do not count, nor grow the wait. */
    assert_int_equal(login("frank", "wrong password!", &l, &err), GR_ETHROTTLED);
    /* No raw name or address is stored. */
    assert_int_equal(count("SELECT count(*) FROM login_attempts WHERE key LIKE '%frank%' OR key "
                           "LIKE '%127.0.0.1%'"),
                     0);
    assert_int_equal(count("SELECT count(*) FROM login_attempts WHERE key LIKE 'user:%'"), 1);
    assert_int_equal(count("SELECT count(*) FROM login_attempts WHERE key LIKE 'addr:%'"), 1);
    usleep((THROTTLE_BASE_MS + 50) * 1000);
    /* A failure after the wait doubles it. */
    assert_int_equal(login("frank", "wrong password!", &l, &err), GR_EAUTH);
    assert_int_equal(login("frank", "correct horse battery", &l, &err), GR_ETHROTTLED);
    assert_true(l.retry_after_ms > THROTTLE_BASE_MS && l.retry_after_ms <= 2 * THROTTLE_BASE_MS);
    usleep((2 * THROTTLE_BASE_MS + 50) * 1000);
    /* Success resets the account's count: five free failures again. */
    assert_int_equal(login("frank", "correct horse battery", &l, &err), 0);
    assert_int_equal(count("SELECT count(*) FROM login_attempts WHERE key LIKE 'user:%'"), 0);
    for (i = 0; i < 4; i++)
        assert_int_equal(login("frank", "wrong password!", &l, &err), GR_EAUTH);
    assert_int_equal(login("frank", "correct horse battery", &l, &err), 0);
    /* Unknown names are throttled like known ones. */
    for (i = 0; i < 5; i++)
        assert_int_equal(login("ghost", "wrong password!", &l, &err), GR_EAUTH);
    assert_int_equal(login("ghost", "wrong password!", &l, &err), GR_ETHROTTLED);
}

static void test_password_change(void **state)
{
    auth_login l1, l2;
    http_principal who;
    const char *csrf;
    gr_err err = {0};
    int64_t id, wait = 0;

    (void)state;
    id = add_user("gina", "resident", 0, NULL);
    assert_int_equal(login("gina", "correct horse battery", &l1, &err), 0);
    assert_int_equal(login("gina", "correct horse battery", &l2, &err), 0);
    assert_int_equal(auth_password_change(&ctx, id, l1.session_id, "127.0.0.1", "wrong old pw",
                                          "a brand new password", &wait, &err),
                     GR_EINVAL);
    assert_string_equal(err.field, "old_password");
    assert_int_equal(auth_password_change(&ctx, id, l1.session_id, "127.0.0.1",
                                          "correct horse battery", "short", &wait, &err),
                     GR_EINVAL);
    assert_string_equal(err.field, "new_password");
    assert_int_equal(auth_password_change(&ctx, id, l1.session_id, "127.0.0.1",
                                          "correct horse battery", "a brand new password", &wait,
                                          &err),
                     0);
    /* This session stays, the others end. */
    memset(&who, 0, sizeof(who));
    assert_int_equal(auth_session_resolve(&ctx, A, l1.token, &who, &csrf), 0);
    assert_int_equal(auth_session_resolve(&ctx, A, l2.token, &who, &csrf), GR_EAUTH);
    assert_int_equal(login("gina", "a brand new password", &l2, &err), 0);
}

/* ---- API tokens ---- */

static void test_tokens(void **state)
{
    char text[AUTH_TOKEN_TEXT], text2[AUTH_TOKEN_TEXT], q[256];
    http_principal who;
    auth_token t, *v;
    auth_user_patch p;
    gr_err err = {0};
    int64_t admin, auditor, tid = 0, tid2 = 0;
    size_t n;

    (void)state;
    make_org();
    admin = add_user("root", "admin", 1, NULL);
    auditor = add_user("watcher", "auditor", 3, NULL);
    assert_int_equal(auth_token_create(&ctx, admin, "prometheus", "metrics.read user.read", 30,
                                       text, &tid, &err),
                     0);
    assert_int_equal(strncmp(text, "grt_", 4), 0);
    assert_int_equal(strlen(text), AUTH_TOKEN_TEXT - 1);
    memset(&who, 0, sizeof(who));
    assert_int_equal(auth_token_resolve(&ctx, A, text, &who), 0);
    assert_int_equal(who.token_id, tid);
    assert_int_equal(who.user_id, admin);
    assert_string_equal(who.role, "admin");
    assert_int_equal(who.scope_org_id, 1);
    assert_string_equal(who.token_scopes, "metrics.read user.read");
    assert_int_equal(who.session_id, 0);
    snprintf(q, sizeof(q), "SELECT count(*) FROM api_tokens WHERE token_hash = CAST('%s' AS BLOB)",
             text);
    assert_int_equal(count(q), 0);
    /* Bad requests. */
    assert_int_equal(auth_token_create(&ctx, admin, "x", "public", 30, text2, NULL, &err),
                     GR_EINVAL);
    assert_string_equal(err.field, "scopes");
    assert_int_equal(auth_token_create(&ctx, admin, "x", "session", 30, text2, NULL, &err),
                     GR_EINVAL);
    assert_int_equal(auth_token_create(&ctx, admin, "x", "user.raed", 30, text2, NULL, &err),
                     GR_EINVAL);
    assert_int_equal(
        auth_token_create(&ctx, admin, "x", "user.read user.read", 30, text2, NULL, &err),
        GR_EINVAL);
    assert_int_equal(auth_token_create(&ctx, admin, "x", "", 30, text2, NULL, &err), GR_EINVAL);
    assert_int_equal(auth_token_create(&ctx, admin, "x", "user.read", 0, text2, NULL, &err),
                     GR_EINVAL);
    assert_string_equal(err.field, "expires_in_days");
    assert_int_equal(auth_token_create(&ctx, admin, "x", "user.read", 366, text2, NULL, &err),
                     GR_EINVAL);
    assert_int_equal(auth_token_create(&ctx, admin, "", "user.read", 1, text2, NULL, &err),
                     GR_EINVAL);
    assert_string_equal(err.field, "name");
    /* No more than the owner may do. */
    assert_int_equal(auth_token_create(&ctx, auditor, "x", "user.write", 1, text2, NULL, &err),
                     GR_EFORBIDDEN);
    assert_int_equal(count("SELECT count(*) FROM api_tokens"), 1);
    assert_int_equal(auth_token_create(&ctx, auditor, "audit", "user.read", 1, text2, &tid2, &err),
                     0);
    /* Lists are scoped by the owner's place. */
    assert_int_equal(auth_token_list(&ctx, A, 0, 1, 0, 50, &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, tid);
    assert_string_equal(v[0].owner, "root");
    assert_int_equal(auth_token_list(&ctx, A, 1, 0, 0, 50, &v, &n, &err), 0);
    assert_int_equal(n, 2);
    /* Expired: refused. */
    snprintf(q, sizeof(q), "UPDATE api_tokens SET expires_at = %lld WHERE id = %lld",
             (long long)(time_now_ms() - 1), (long long)tid2);
    sql(q);
    assert_int_equal(auth_token_resolve(&ctx, A, text2, &who), GR_EAUTH);
    /* Owner disabled: refused. */
    assert_int_equal(auth_token_create(&ctx, auditor, "audit2", "user.read", 1, text2, &tid2, &err),
                     0);
    assert_int_equal(auth_token_resolve(&ctx, A, text2, &who), 0);
    memset(&p, 0, sizeof(p));
    p.version = 1;
    p.status = "disabled";
    assert_int_equal(auth_user_update(&ctx, auditor, &p, &err), 0);
    assert_int_equal(auth_token_resolve(&ctx, A, text2, &who), GR_EAUTH);
    /* Revoked: refused at once. */
    assert_int_equal(auth_token_revoke(&ctx, tid, &err), 0);
    assert_int_equal(auth_token_resolve(&ctx, A, text, &who), GR_EAUTH);
    assert_int_equal(auth_token_get(&ctx, A, tid, &t, &err), 0);
    assert_int_equal(t.revoked, 1);
    assert_int_equal(auth_token_revoke(&ctx, 9999, &err), GR_ENOTFOUND);
    /* Not tokens at all. */
    assert_int_equal(auth_token_resolve(&ctx, A, "grt_", &who), GR_EAUTH);
    assert_int_equal(auth_token_resolve(&ctx, A, text + 4, &who), GR_EAUTH);
    assert_int_equal(auth_token_resolve(&ctx, A, NULL, &who), GR_EAUTH);
}

/* ---- the command line ---- */

static int run_cli(const char *stdin_text, const char *const *args)
{
    char path[128], *argv[16];
    FILE *f;
    int argc = 0, rc;

    snprintf(path, sizeof(path), "%s/stdin", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(stdin_text, f);
    fclose(f);
    assert_non_null(freopen(path, "r", stdin));
    for (argc = 0; args[argc]; argc++)
        argv[argc] = (char *)(uintptr_t)args[argc];
    argv[argc] = NULL;
    rc = auth_cli_user(&ctx, argc, argv);
    fflush(stdout);
    return rc;
}

static void test_cli(void **state)
{
    auth_login l;
    auth_user u;
    gr_err err = {0};

    (void)state;
    make_org();
    {
        const char *const a[] = {"user",    "add",         "--username", "henry",          "--role",
                                 "admin",   "--scope",     "110105",     "--display-name", "亨利",
                                 "--phone", "13812345678", NULL};
        assert_int_equal(run_cli("cli password 1\n", a), 0);
    }
    assert_int_equal(auth_user_find(&ctx, A, "henry", &u, &err), 0);
    assert_string_equal(u.role, "admin");
    assert_int_equal(u.scope_org_id, 1);
    assert_string_equal(u.display_name, "亨利");
    assert_string_equal(u.phone_hint, "138****5678");
    assert_int_equal(login("henry", "cli password 1", &l, &err), 0);
    {
        /* Taken, unknown scope, bad role, short password: failures, and nothing added. */
        const char *const dup[] = {"user",   "add",      "--username", "henry",
                                   "--role", "resident", NULL};
        const char *const scope[] = {"user",  "add",     "--username", "ivy", "--role",
                                     "admin", "--scope", "999999",     NULL};
        const char *const role[] = {"user", "add", "--username", "ivy", "--role", "king", NULL};
        const char *const shortpw[] = {"user",   "add",      "--username", "ivy",
                                       "--role", "resident", NULL};
        const char *const nopw[] = {"user",   "add",      "--username",       "ivy",
                                    "--role", "resident", "--password-stdin", NULL};
        assert_int_equal(run_cli("cli password 2\n", dup), 1);
        assert_int_equal(run_cli("cli password 2\n", scope), 1);
        assert_int_equal(run_cli("cli password 2\n", role), 1);
        assert_int_equal(run_cli("short\n", shortpw), 1);
        assert_int_equal(run_cli("", nopw), 1);
        assert_int_equal(count("SELECT count(*) FROM users"), 1);
    }
    {
        /* Usage errors: 2. */
        const char *const none[] = {"user", NULL};
        const char *const unknown[] = {"user", "frobnicate", NULL};
        const char *const missing[] = {"user", "add", "--role", "admin", NULL};
        const char *const extra[] = {"user", "passwd", NULL};
        const char *const help[] = {"user", "add", "--help", NULL};
        assert_int_equal(run_cli("", none), 2);
        assert_int_equal(run_cli("", unknown), 2);
        assert_int_equal(run_cli("", missing), 2);
        assert_int_equal(run_cli("", extra), 2);
        assert_int_equal(run_cli("", help), 0);
    }
    {
        const char *const list[] = {"user", "list", NULL};
        const char *const passwd[] = {"user", "passwd", "henry", NULL};
        const char *const disable[] = {"user", "disable", "henry", NULL};
        const char *const ghost[] = {"user", "disable", "ghost", NULL};
        assert_int_equal(run_cli("", list), 0);
        assert_int_equal(run_cli("cli password 3\r\n", passwd), 0);
        assert_int_equal(login("henry", "cli password 1", &l, &err), GR_EAUTH);
        assert_int_equal(login("henry", "cli password 3", &l, &err), 0);
        assert_int_equal(run_cli("", disable), 0);
        assert_int_equal(login("henry", "cli password 3", &l, &err), GR_EAUTH);
        assert_int_equal(auth_user_find(&ctx, A, "henry", &u, &err), 0);
        assert_string_equal(u.status, "disabled");
        assert_int_equal(run_cli("", ghost), 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_table),
        cmocka_unit_test(test_password_rules),
        cmocka_unit_test(test_username_phone_role_rules),
        cmocka_unit_test(test_throttle_schedule),
        cmocka_unit_test_setup_teardown(test_user_create_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_create_invalid_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_update_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_user_list_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_and_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_login_throttle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
