/* notify/: the outbox is written inside the caller's write and rolls back
 * with it, subscriptions and URL rules, the signature against published
 * HMAC-SHA256 vectors, the backoff schedule, webhook and notice storage, the
 * pluggable sender and the configuration from the environment. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testdb.h"
#include "tmpdir.h"

#include "base/arena.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "notify/notify_model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;

static int setup(void **state)
{
    gr_err err = {0};

    (void)state;
    log_set_level(LOG_WARN);
    assert_int_equal(crypto_init(&err), 0);
    memset(&ctx, 0, sizeof(ctx));
    randombytes_buf(ctx.field_key, sizeof(ctx.field_key));
    gr_testdb_open(&ctx.db, dir, sizeof(dir), "notify");
    assert_int_equal(notify_ctx_open(&ctx, &err), 0);
    A = arena_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    notify_ctx_close(&ctx);
    db_close(ctx.db);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

static int64_t count(const char *sql, int64_t param)
{
    int64_t n = -1;
    gr_err err = {0};

    assert_int_equal(db_query_int(gr_testdb_reader(ctx.db), sql, param, 0, &n, &err), 0);
    return n;
}

static int64_t outbox_rows(void)
{
    return count("SELECT count(*) FROM outbox", 0);
}

/* A webhook on url for the given types (NULL-terminated), with the test secret. */
static int64_t hook_make(const char *url, const char *const *types)
{
    notify_webhook_input in = {0};
    char secret[NOTIFY_SECRET_MAX + 1];
    gr_err err = {0};
    int64_t id = 0;

    in.url = url;
    in.types = types;
    while (types[in.ntypes])
        in.ntypes++;
    in.secret = "unit-test-secret-0123456789";
    in.active = 1;
    if (notify_webhook_create(&ctx, &in, secret, &id, &err))
        fail_msg("webhook: %s: %s", err.field, err.msg);
    assert_string_equal(secret, in.secret);
    return id;
}

struct user_ins {
    const char *name;
    int64_t id;
};

static int user_insert(db_conn *c, void *arg, gr_err *err)
{
    struct user_ins *u = arg;
    db_stmt *st = db_prepare(c,
                             "INSERT INTO users(username, display_name, role, password_hash, "
                             "created_at, updated_at) VALUES (?, ?, 'resident', 'x', 1, 1)",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, u->name);
    db_bind_text(st, 2, u->name);
    rc = db_run(st, err);
    db_done(st);
    u->id = db_last_id(c);
    return rc;
}

static int64_t user_make(const char *name)
{
    struct user_ins u = {name, 0};
    gr_err err = {0};

    assert_int_equal(db_write(ctx.db, user_insert, &u, &err), 0);
    return u.id;
}

/* ---- what a module does inside its own write ---- */

struct change {
    const char *type;
    int64_t subject_id;
    int64_t notice_user; /* also writes a notice when > 0 */
    int fail;            /* the change fails after raising its event */
};

static int change_write(db_conn *c, void *arg, gr_err *err)
{
    struct change *ch = arg;
    json_t *payload = json_pack("{s:s, s:I}", "status", "dispatched", "unit", (json_int_t)7);
    int rc;

    rc = notify_event(c, ch->type, "case", ch->subject_id, payload, err);
    json_decref(payload);
    if (!rc && ch->notice_user)
        rc = notify_notice(c, ch->notice_user, "case.assigned", "A case was assigned to you",
                           "case", ch->subject_id, err);
    if (!rc && ch->fail)
        rc = err_set(err, GR_ECONFLICT, "version", "the change itself failed");
    return rc;
}

static void test_outbox_rolls_back_with_the_write(void **state)
{
    static const char *const cases[] = {"case.*", NULL};
    static const char *const exact[] = {"case.dispatched", "org.changed", NULL};
    int64_t h1, h2, user, before;
    struct change ch = {"case.dispatched", 41, 0, 1};
    gr_err err = {0};
    db_stmt *st;

    (void)state;
    h1 = hook_make("http://127.0.0.1:9/a", cases);
    h2 = hook_make("https://127.0.0.1:9/b", exact);
    user = user_make("outbox-user");
    before = outbox_rows();

    /* The change fails: its event and its notice are gone with it. */
    ch.notice_user = user;
    assert_int_equal(db_write(ctx.db, change_write, &ch, &err), GR_ECONFLICT);
    assert_string_equal(err.field, "version");
    assert_int_equal(outbox_rows(), before);
    assert_int_equal(count("SELECT count(*) FROM notices WHERE user_id = ?", user), 0);

    /* It succeeds: one row per subscribed webhook, durable with the change. */
    ch.fail = 0;
    assert_int_equal(db_write(ctx.db, change_write, &ch, &err), 0);
    assert_int_equal(outbox_rows(), before + 2);
    assert_int_equal(count("SELECT count(*) FROM notices WHERE user_id = ?", user), 1);

    st = db_prepare(gr_testdb_reader(ctx.db),
                    "SELECT webhook_id, event_id, event_type, subject, subject_id, payload, "
                    "idempotency_key, attempts, next_attempt_at, delivered_at, dead_at "
                    "FROM outbox WHERE subject_id = 41 ORDER BY webhook_id",
                    &err);
    assert_non_null(st);
    assert_int_equal(db_step(st, &err), DB_ROW);
    {
        char key[96], event_id[48];

        assert_int_equal(db_col_int(st, 0), h1);
        snprintf(event_id, sizeof(event_id), "%s", db_col_text(st, 1));
        assert_int_equal(strlen(event_id), 4 + 32);
        assert_memory_equal(event_id, "evt-", 4);
        assert_string_equal(db_col_text(st, 2), "case.dispatched");
        assert_string_equal(db_col_text(st, 3), "case");
        assert_int_equal(db_col_int(st, 4), 41);
        assert_string_equal(db_col_text(st, 5), "{\"status\":\"dispatched\",\"unit\":7}");
        snprintf(key, sizeof(key), "%s-%lld", event_id, (long long)h1);
        assert_string_equal(db_col_text(st, 6), key);
        assert_int_equal(db_col_int(st, 7), 0);
        assert_true(db_col_int(st, 8) <= time_now_ms());
        assert_true(db_col_is_null(st, 9));
        assert_true(db_col_is_null(st, 10));
        /* The second webhook: the same event, its own key. */
        assert_int_equal(db_step(st, &err), DB_ROW);
        assert_int_equal(db_col_int(st, 0), h2);
        assert_string_equal(db_col_text(st, 1), event_id);
        snprintf(key, sizeof(key), "%s-%lld", event_id, (long long)h2);
        assert_string_equal(db_col_text(st, 6), key);
        assert_int_equal(db_step(st, &err), DB_DONE);
    }
    db_done(st);

    /* A type nobody subscribed to makes no row. */
    ch.type = "org.unit_moved";
    ch.notice_user = 0;
    before = outbox_rows();
    assert_int_equal(db_write(ctx.db, change_write, &ch, &err), 0);
    assert_int_equal(outbox_rows(), before);

    /* A paused webhook gets nothing; the prefix still reaches the other. */
    {
        notify_webhook_patch p = {0};

        p.set_active = 1;
        p.active = 0;
        p.version = 1;
        assert_int_equal(notify_webhook_update(&ctx, h2, &p, &err), 0);
    }
    ch.type = "case.dispatched";
    assert_int_equal(db_write(ctx.db, change_write, &ch, &err), 0);
    assert_int_equal(outbox_rows(), before + 1);

    /* Deleting a webhook takes its undelivered rows with it. */
    assert_int_equal(notify_webhook_delete(&ctx, h1, &err), 0);
    assert_int_equal(notify_webhook_delete(&ctx, h2, &err), 0);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE webhook_id = ?", h1), 0);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE webhook_id = ?", h2), 0);
}

struct bad_event {
    const char *type, *subject;
    json_t *payload;
};

static int bad_event_write(db_conn *c, void *arg, gr_err *err)
{
    struct bad_event *b = arg;

    return notify_event(c, b->type, b->subject, 1, b->payload, err);
}

static void test_event_checks(void **state)
{
    static const char *const all[] = {"*", NULL};
    struct bad_event b = {"case.created", "case", NULL};
    gr_err err = {0};
    int64_t before, h;

    (void)state;
    h = hook_make("http://127.0.0.1:9/all", all);
    before = outbox_rows();
    b.type = "Case Created";
    assert_int_equal(db_write(ctx.db, bad_event_write, &b, &err), GR_EINVAL);
    assert_string_equal(err.field, "type");
    b.type = "";
    assert_int_equal(db_write(ctx.db, bad_event_write, &b, &err), GR_EINVAL);
    assert_string_equal(err.field, "type");
    b.type = "case.created";
    b.payload = json_array();
    assert_int_equal(db_write(ctx.db, bad_event_write, &b, &err), GR_EINVAL);
    assert_string_equal(err.field, "payload");
    json_decref(b.payload);
    b.payload = NULL;
    b.subject = "";
    assert_int_equal(db_write(ctx.db, bad_event_write, &b, &err), GR_EINVAL);
    assert_string_equal(err.field, "subject");
    assert_int_equal(outbox_rows(), before);
    /* No payload is an empty object; "*" takes every type. */
    b.subject = NULL;
    assert_int_equal(db_write(ctx.db, bad_event_write, &b, &err), 0);
    assert_int_equal(count("SELECT count(*) FROM outbox WHERE webhook_id = ? AND payload = '{}' "
                           "AND subject IS NULL",
                           h),
                     1);
    assert_int_equal(notify_webhook_delete(&ctx, h, &err), 0);
}

/* ---- checks ---- */

static void test_subscriptions(void **state)
{
    (void)state;
    assert_true(notify_type_matches("case.created", "case.created"));
    assert_false(notify_type_matches("case.created", "case.create"));
    assert_false(notify_type_matches("case.created", "case.created.x"));
    assert_true(notify_type_matches("case.*", "case.created"));
    assert_true(notify_type_matches("case.*", "case.sla.breached"));
    assert_false(notify_type_matches("case.*", "case"));
    assert_false(notify_type_matches("case.*", "cases.created"));
    assert_true(notify_type_matches("*", "anything.at_all"));
    assert_true(notify_type_matches("org.changed case.closed", "case.closed"));
    assert_false(notify_type_matches("org.changed case.closed", "case.opened"));
    assert_false(notify_type_matches("", "case.closed"));

    assert_int_equal(notify_type_check("case.created", "type", NULL), 0);
    assert_int_equal(notify_type_check("a-b.c_d.9", "type", NULL), 0);
    assert_int_equal(notify_type_check("case..created", "type", NULL), GR_EINVAL);
    assert_int_equal(notify_type_check(".case", "type", NULL), GR_EINVAL);
    assert_int_equal(notify_type_check("case.", "type", NULL), GR_EINVAL);
    assert_int_equal(notify_type_check("case.*", "type", NULL), GR_EINVAL);
    assert_int_equal(notify_type_check("Case", "type", NULL), GR_EINVAL);
    assert_int_equal(notify_type_check(NULL, "type", NULL), GR_EINVAL);
}

static void test_url_rules(void **state)
{
    static const char *const good[] = {"http://127.0.0.1:8080/hook", "https://example.org/x?y=1",
                                       "HTTPS://Example.org", "http://[::1]:9/p"};
    static const char *const bad[] = {"ftp://example.org/x",
                                      "file:///etc/passwd",
                                      "gopher://example.org",
                                      "http://user:pw@host/x",
                                      "http://user@host/x",
                                      "https://:secret@host/",
                                      "example.org/hook",
                                      "",
                                      "http://",
                                      "javascript:alert(1)",
                                      "http://exa mple.org/",
                                      "http://host/\x01",
                                      "dict://127.0.0.1:11211/",
                                      "http://host;auth=NTLM@x/",
                                      "http://:80/"};
    char longurl[NOTIFY_URL_MAX + 32];
    gr_err err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (notify_url_check(good[i], &err))
            fail_msg("%s refused: %s", good[i], err.msg);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&err, 0, sizeof(err));
        if (notify_url_check(bad[i], &err) != GR_EINVAL)
            fail_msg("%s accepted", bad[i]);
        assert_string_equal(err.field, "url");
    }
    memset(longurl, 'a', sizeof(longurl) - 1);
    memcpy(longurl, "http://h/", 9);
    longurl[sizeof(longurl) - 1] = '\0';
    assert_int_equal(notify_url_check(longurl, &err), GR_EINVAL);
    assert_string_equal(err.field, "url");
}

/* RFC 4231, test cases 2 and 6 (a key longer than the block): published
 * HMAC-SHA256 values computed by others. */
static void test_signature_vectors(void **state)
{
    char sig[NOTIFY_SIGNATURE_LEN], key[132];
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";

    (void)state;
    notify_sign("Jefe", "what do ya want for nothing?", 28, sig);
    assert_string_equal(sig,
                        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key, 0xaa, 131);
    key[131] = '\0';
    notify_sign(key, data6, strlen(data6), sig);
    assert_string_equal(sig,
                        "sha256=60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    /* The exact bytes count: one more space is another signature. */
    notify_sign("Jefe", "what do ya want for nothing? ", 29, key);
    assert_string_not_equal(key, sig);
}

static void test_backoff_schedule(void **state)
{
    /* base 10 s: 10, 20, 40, 80, 160, 320, 640, 1280, 2560 s, then the 1 h cap. */
    static const int64_t want[12] = {10000,  20000,   40000,   80000,   160000,  320000,
                                     640000, 1280000, 2560000, 3600000, 3600000, 3600000};
    int64_t i, prev_hi = 0, lo, hi;

    (void)state;
    for (i = 1; i <= 12; i++) {
        hi = notify_backoff_ms(10000, i, 0);
        lo = notify_backoff_ms(10000, i, UINT32_MAX);
        assert_int_equal(hi, want[i - 1]);
        /* Jitter takes off at most a quarter. */
        assert_int_equal(lo, want[i - 1] - want[i - 1] / 4);
        assert_true(notify_backoff_ms(10000, i, UINT32_MAX / 2) < hi);
        assert_true(notify_backoff_ms(10000, i, UINT32_MAX / 2) > lo);
        /* Until the cap, the shortest next wait is longer than any earlier one. */
        if (hi < NOTIFY_BACKOFF_CAP_MS)
            assert_true(lo > prev_hi);
        prev_hi = hi;
    }
    assert_int_equal(notify_backoff_ms(10000, 60, 0), NOTIFY_BACKOFF_CAP_MS);
    assert_int_equal(notify_backoff_ms(50, 1, 0), 50);
    assert_int_equal(notify_backoff_ms(50, 3, 0), 200);
    assert_int_equal(notify_backoff_ms(0, 1, 0), 1);
}

/* ---- webhooks ---- */

static void test_webhook_storage(void **state)
{
    static const char *const types[] = {"case.*", "org.changed", NULL};
    static const char *const bad_types[] = {"case.*", "not a type", NULL};
    notify_webhook_input in = {0};
    notify_webhook_patch p = {0};
    char secret[NOTIFY_SECRET_MAX + 1], opened[NOTIFY_SECRET_MAX + 1];
    unsigned char sealed[NOTIFY_SECRET_MAX + CRYPTO_SEAL_OVERHEAD];
    notify_webhook w;
    gr_err err = {0};
    int64_t id = 0, before;
    size_t len = 0, olen = 0;
    db_stmt *st;
    const void *b;

    (void)state;
    in.url = "https://receiver.example/hooks";
    in.types = types;
    in.ntypes = 2;
    in.active = 1;
    /* No secret given: one is made and answered once. */
    assert_int_equal(notify_webhook_create(&ctx, &in, secret, &id, &err), 0);
    assert_memory_equal(secret, "whsec_", 6);
    assert_int_equal(strlen(secret), 6 + 43);
    assert_int_equal(notify_webhook_get(gr_testdb_reader(ctx.db), A, id, &w, &err), 0);
    assert_string_equal(w.url, in.url);
    assert_string_equal(w.event_types, "case.* org.changed");
    assert_int_equal(w.active, 1);
    assert_int_equal(w.version, 1);
    assert_int_equal(w.created_by, 0);

    /* Stored sealed: not the text, and it opens to the secret. */
    st = db_prepare(gr_testdb_reader(ctx.db), "SELECT secret_enc FROM webhooks WHERE id = ?", &err);
    db_bind_int(st, 1, id);
    assert_int_equal(db_step(st, &err), DB_ROW);
    b = db_col_blob(st, 0, &len);
    assert_true(len == strlen(secret) + CRYPTO_SEAL_OVERHEAD);
    memcpy(sealed, b, len);
    db_done(st);
    assert_null(memmem(sealed, len, secret + 6, 20));
    assert_int_equal(crypto_open(ctx.field_key, sealed, len, NOTIFY_SECRET_AD,
                                 (unsigned char *)opened, sizeof(opened), &olen, &err),
                     0);
    assert_string_equal(opened, secret);

    /* Bad input names its field and changes nothing. */
    before = count("SELECT count(*) FROM webhooks", 0);
    in.types = bad_types;
    assert_int_equal(notify_webhook_create(&ctx, &in, secret, NULL, &err), GR_EINVAL);
    assert_string_equal(err.field, "event_types");
    assert_string_equal(secret, "");
    in.types = types;
    in.ntypes = 0;
    assert_int_equal(notify_webhook_create(&ctx, &in, secret, NULL, &err), GR_EINVAL);
    assert_string_equal(err.field, "event_types");
    in.ntypes = 2;
    in.secret = "short";
    assert_int_equal(notify_webhook_create(&ctx, &in, secret, NULL, &err), GR_EINVAL);
    assert_string_equal(err.field, "secret");
    in.secret = "has a space in the secret text";
    assert_int_equal(notify_webhook_create(&ctx, &in, secret, NULL, &err), GR_EINVAL);
    assert_string_equal(err.field, "secret");
    in.secret = NULL;
    in.url = "http://user:pw@receiver.example/";
    assert_int_equal(notify_webhook_create(&ctx, &in, secret, NULL, &err), GR_EINVAL);
    assert_string_equal(err.field, "url");
    assert_int_equal(count("SELECT count(*) FROM webhooks", 0), before);

    /* Updates: optimistic on version, the secret replaced but never read back. */
    p.url = "http://127.0.0.1:9/new";
    p.secret = "a-new-secret-of-enough-length";
    p.version = 1;
    assert_int_equal(notify_webhook_update(&ctx, id, &p, &err), 0);
    assert_int_equal(notify_webhook_get(gr_testdb_reader(ctx.db), A, id, &w, &err), 0);
    assert_string_equal(w.url, "http://127.0.0.1:9/new");
    assert_string_equal(w.event_types, "case.* org.changed");
    assert_int_equal(w.version, 2);
    st = db_prepare(gr_testdb_reader(ctx.db), "SELECT secret_enc FROM webhooks WHERE id = ?", &err);
    db_bind_int(st, 1, id);
    assert_int_equal(db_step(st, &err), DB_ROW);
    b = db_col_blob(st, 0, &len);
    memcpy(sealed, b, len);
    db_done(st);
    assert_int_equal(crypto_open(ctx.field_key, sealed, len, NOTIFY_SECRET_AD,
                                 (unsigned char *)opened, sizeof(opened), &olen, &err),
                     0);
    assert_string_equal(opened, "a-new-secret-of-enough-length");

    memset(&p, 0, sizeof(p));
    p.url = "http://127.0.0.1:9/stale";
    p.version = 1;
    assert_int_equal(notify_webhook_update(&ctx, id, &p, &err), GR_ECONFLICT);
    assert_string_equal(err.field, "version");
    p.url = "ftp://127.0.0.1/x";
    p.version = 2;
    assert_int_equal(notify_webhook_update(&ctx, id, &p, &err), GR_EINVAL);
    assert_string_equal(err.field, "url");
    assert_int_equal(notify_webhook_get(gr_testdb_reader(ctx.db), A, id, &w, &err), 0);
    assert_string_equal(w.url, "http://127.0.0.1:9/new");
    assert_int_equal(w.version, 2);
    p.url = NULL;
    assert_int_equal(notify_webhook_update(&ctx, id + 1000, &p, &err), GR_ENOTFOUND);
    assert_string_equal(err.field, "id");

    /* A test event for an active webhook; a paused one refuses. */
    {
        int64_t delivery = 0;
        notify_delivery d;

        assert_int_equal(notify_webhook_test(&ctx, id, &delivery, &err), 0);
        assert_int_equal(notify_delivery_get(gr_testdb_reader(ctx.db), A, delivery, &d, &err), 0);
        assert_string_equal(d.event_type, NOTIFY_TEST_EVENT);
        assert_int_equal(d.webhook_id, id);
        assert_string_equal(notify_delivery_status(&d), "pending");
        p.set_active = 1;
        p.active = 0;
        assert_int_equal(notify_webhook_update(&ctx, id, &p, &err), 0);
        assert_int_equal(notify_webhook_test(&ctx, id, &delivery, &err), GR_ECONFLICT);
        assert_string_equal(err.field, "active");
        assert_int_equal(notify_webhook_test(&ctx, id + 1000, &delivery, &err), GR_ENOTFOUND);
    }

    assert_int_equal(notify_webhook_delete(&ctx, id, &err), 0);
    assert_int_equal(notify_webhook_delete(&ctx, id, &err), GR_ENOTFOUND);
    assert_int_equal(notify_webhook_get(gr_testdb_reader(ctx.db), A, id, &w, &err), GR_ENOTFOUND);
}

static void test_delivery_list(void **state)
{
    static const char *const types[] = {"case.*", NULL};
    struct change ch = {"case.created", 0, 0, 0};
    notify_delivery *v = NULL;
    size_t n = 0;
    int more = 0, i;
    gr_err err = {0};
    int64_t h;

    (void)state;
    h = hook_make("http://127.0.0.1:9/list", types);
    for (i = 1; i <= 3; i++) {
        ch.subject_id = 100 + i;
        assert_int_equal(db_write(ctx.db, change_write, &ch, &err), 0);
    }
    /* Newest first, in pages. */
    assert_int_equal(
        notify_delivery_list(gr_testdb_reader(ctx.db), A, h, NULL, 0, 2, &v, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    assert_true(more);
    assert_int_equal(v[0].subject_id, 103);
    assert_int_equal(v[1].subject_id, 102);
    assert_int_equal(
        notify_delivery_list(gr_testdb_reader(ctx.db), A, h, NULL, v[1].id, 2, &v, &n, &more, &err),
        0);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_int_equal(v[0].subject_id, 101);
    assert_int_equal(
        notify_delivery_list(gr_testdb_reader(ctx.db), A, h, "pending", 0, 10, &v, &n, &more, &err),
        0);
    assert_int_equal(n, 3);
    assert_int_equal(
        notify_delivery_list(gr_testdb_reader(ctx.db), A, h, "dead", 0, 10, &v, &n, &more, &err),
        0);
    assert_int_equal(n, 0);
    assert_int_equal(
        notify_delivery_list(gr_testdb_reader(ctx.db), A, h, "lost", 0, 10, &v, &n, &more, &err),
        GR_EINVAL);
    assert_string_equal(err.field, "status");
    assert_int_equal(notify_webhook_delete(&ctx, h, &err), 0);
}

/* ---- notices ---- */

struct notice_args {
    int64_t user;
    const char *kind, *text;
};

static int notice_write(db_conn *c, void *arg, gr_err *err)
{
    struct notice_args *a = arg;

    return notify_notice(c, a->user, a->kind, a->text, NULL, 0, err);
}

static void test_notices_are_their_owners(void **state)
{
    int64_t ann = user_make("ann"), bob = user_make("bob");
    struct notice_args na = {ann, "case.closed", "Your report 17 was resolved"};
    notify_notice_info *v = NULL, x;
    size_t n = 0;
    int more = 0;
    gr_err err = {0};

    (void)state;
    assert_int_equal(db_write(ctx.db, notice_write, &na, &err), 0);
    na.text = "你的诉求已受理";
    assert_int_equal(db_write(ctx.db, notice_write, &na, &err), 0);
    /* Bad notices name their field and store nothing. */
    na.text = "";
    assert_int_equal(db_write(ctx.db, notice_write, &na, &err), GR_EINVAL);
    assert_string_equal(err.field, "text");
    na.text = "x";
    na.kind = "Bad Kind";
    assert_int_equal(db_write(ctx.db, notice_write, &na, &err), GR_EINVAL);
    assert_string_equal(err.field, "kind");
    na.kind = "case.closed";
    na.user = 999999;
    assert_int_equal(db_write(ctx.db, notice_write, &na, &err), GR_EINVAL);
    assert_string_equal(err.field, "user_id");

    assert_int_equal(
        notify_notice_list(gr_testdb_reader(ctx.db), A, ann, 0, 0, 10, &v, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].text, "你的诉求已受理"); /* newest first */
    assert_int_equal(v[0].read_at, 0);
    assert_int_equal(
        notify_notice_list(gr_testdb_reader(ctx.db), A, bob, 0, 0, 10, &v, &n, &more, &err), 0);
    assert_int_equal(n, 0);

    assert_int_equal(
        notify_notice_list(gr_testdb_reader(ctx.db), A, ann, 0, 0, 10, &v, &n, &more, &err), 0);
    /* Bob cannot read Ann's notice, nor learn that it exists. */
    assert_int_equal(notify_notice_mark_read(&ctx, bob, v[1].id, &err), GR_ENOTFOUND);
    assert_int_equal(notify_notice_get(gr_testdb_reader(ctx.db), A, bob, v[1].id, &x, &err),
                     GR_ENOTFOUND);
    assert_int_equal(notify_notice_mark_read(&ctx, ann, v[1].id, &err), 0);
    assert_int_equal(notify_notice_get(gr_testdb_reader(ctx.db), A, ann, v[1].id, &x, &err), 0);
    assert_true(x.read_at > 0);
    assert_int_equal(
        notify_notice_list(gr_testdb_reader(ctx.db), A, ann, 1, 0, 10, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].text, "你的诉求已受理");
}

/* ---- the sender ---- */

struct sent {
    int calls;
    char channel[16], to[64], text[64];
};

static int sender_record(const char *channel, const char *to, const char *text, void *arg)
{
    struct sent *s = arg;

    s->calls++;
    snprintf(s->channel, sizeof(s->channel), "%s", channel);
    snprintf(s->to, sizeof(s->to), "%s", to);
    snprintf(s->text, sizeof(s->text), "%s", text);
    return 0;
}

static int sender_fail(const char *channel, const char *to, const char *text, void *arg)
{
    (void)channel;
    (void)to;
    (void)text;
    (void)arg;
    return -1;
}

static void test_sender(void **state)
{
    struct sent s = {0};
    gr_err err = {0};

    (void)state;
    /* The default only logs, and says it sent. */
    assert_int_equal(notify_send("sms", "13800138000", "hello", &err), 0);
    notify_set_sender(sender_record, &s);
    assert_int_equal(notify_send("email", "a@example.org", "your case", &err), 0);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.channel, "email");
    assert_string_equal(s.to, "a@example.org");
    assert_string_equal(s.text, "your case");
    assert_int_equal(notify_send("fax", "1", "x", &err), GR_EINVAL);
    assert_string_equal(err.field, "channel");
    assert_int_equal(notify_send("sms", "", "x", &err), GR_EINVAL);
    assert_string_equal(err.field, "to");
    assert_int_equal(s.calls, 1);
    notify_set_sender(sender_fail, NULL);
    assert_int_equal(notify_send("sms", "1", "x", &err), GR_EUNAVAIL);
    notify_set_sender(NULL, NULL);
    assert_int_equal(notify_send("sms", "1", "x", &err), 0);
    assert_int_equal(s.calls, 1);
}

static void test_config(void **state)
{
    notify_config cfg;
    gr_err err = {0};

    (void)state;
    unsetenv("GR_NOTIFY_BACKOFF_MS");
    unsetenv("GR_NOTIFY_MAX_ATTEMPTS");
    unsetenv("GR_NOTIFY_KEEP_DAYS");
    assert_int_equal(notify_config_load(&cfg, &err), 0);
    assert_int_equal(cfg.backoff_ms, 10000);
    assert_int_equal(cfg.max_attempts, 12);
    assert_int_equal(cfg.keep_days, 30);
    setenv("GR_NOTIFY_BACKOFF_MS", "50", 1);
    assert_int_equal(notify_config_load(&cfg, &err), 0);
    assert_int_equal(cfg.backoff_ms, 50);
    setenv("GR_NOTIFY_BACKOFF_MS", "50ms", 1);
    assert_int_equal(notify_config_load(&cfg, &err), GR_EINVAL);
    assert_string_equal(err.field, "GR_NOTIFY_BACKOFF_MS");
    /* app_open reports it too. */
    assert_int_equal(notify_ctx_open(&ctx, &err), GR_EINVAL);
    setenv("GR_NOTIFY_BACKOFF_MS", "0", 1);
    assert_int_equal(notify_config_load(&cfg, &err), GR_EINVAL);
    unsetenv("GR_NOTIFY_BACKOFF_MS");
    setenv("GR_NOTIFY_MAX_ATTEMPTS", "101", 1);
    assert_int_equal(notify_config_load(&cfg, &err), GR_EINVAL);
    assert_string_equal(err.field, "GR_NOTIFY_MAX_ATTEMPTS");
    unsetenv("GR_NOTIFY_MAX_ATTEMPTS");
    assert_int_equal(notify_ctx_open(&ctx, &err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outbox_rolls_back_with_the_write),
        cmocka_unit_test(test_event_checks),
        cmocka_unit_test(test_subscriptions),
        cmocka_unit_test(test_url_rules),
        cmocka_unit_test(test_signature_vectors),
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_webhook_storage),
        cmocka_unit_test(test_delivery_list),
        cmocka_unit_test(test_notices_are_their_owners),
        cmocka_unit_test(test_sender),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
