/* notify/ delivery: the real delivery thread against small CivetWeb receivers
 * on 127.0.0.1 (never another address): a signed event with its idempotency
 * key, retries with growing delays until a 2xx, a receiver that is down,
 * giving up after the last attempt (and telling the webhook's owner), and a
 * stop that finishes the delivery in flight. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tmpdir.h"

#include "base/arena.h"
#include "base/crypto.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "notify/notify_model.h"

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "delivery-test-secret-0123456789"

static char dir[64];
static gr_ctx ctx;
static arena *A;

/* ---- the receiver ---- */

typedef struct hit {
    char delivery[128], event[64], signature[96], timestamp[32], content_type[64];
    char *body;
    int64_t at_ms;
} hit;

typedef struct receiver {
    struct mg_context *mg;
    int port;
    pthread_mutex_t mu;
    int fail_first;  /* answer 500 to this many requests, then 200 */
    int fail_always; /* answer 500 to every request */
    int delay_ms;    /* wait this long before answering */
    atomic_int started;
    hit hits[64];
    int n;
} receiver;

static void header_copy(struct mg_connection *conn, const char *name, char *out, size_t len)
{
    const char *v = mg_get_header(conn, name);

    snprintf(out, len, "%s", v ? v : "");
}

static int on_request(struct mg_connection *conn, void *cbdata)
{
    receiver *r = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    size_t cap = ri->content_length > 0 ? (size_t)ri->content_length : 0, got = 0;
    char *body = calloc(1, cap + 1);
    int status = 200, k;
    hit *h = NULL;

    while (got < cap && (k = mg_read(conn, body + got, cap - got)) > 0)
        got += (size_t)k;
    pthread_mutex_lock(&r->mu);
    if (r->n < 64) {
        h = &r->hits[r->n];
        h->at_ms = time_now_ms();
        h->body = body;
        body = NULL;
        header_copy(conn, "X-Grassroots-Delivery", h->delivery, sizeof(h->delivery));
        header_copy(conn, "X-Grassroots-Event", h->event, sizeof(h->event));
        header_copy(conn, "X-Grassroots-Signature", h->signature, sizeof(h->signature));
        header_copy(conn, "X-Grassroots-Timestamp", h->timestamp, sizeof(h->timestamp));
        header_copy(conn, "Content-Type", h->content_type, sizeof(h->content_type));
        if (r->fail_always || r->n < r->fail_first)
            status = 500;
        r->n++;
    }
    pthread_mutex_unlock(&r->mu);
    free(body);
    atomic_fetch_add(&r->started, 1);
    if (r->delay_ms)
        usleep((useconds_t)r->delay_ms * 1000);
    mg_printf(conn,
              "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
              "Connection: close\r\n\r\nok",
              status, status == 200 ? "OK" : "Internal Server Error");
    return status;
}

/* Listens on 127.0.0.1:port (0: any free port); 0, or -1 when it cannot. */
static int receiver_start(receiver *r, int port)
{
    char listen[32];
    const char *opts[] = {"listening_ports", listen, "num_threads", "4", NULL};
    struct mg_callbacks cb;
    struct mg_server_port ports[2];

    memset(&cb, 0, sizeof(cb));
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    r->mg = mg_start(&cb, NULL, opts);
    if (!r->mg)
        return -1;
    mg_set_request_handler(r->mg, "/", on_request, r);
    if (mg_get_server_ports(r->mg, 2, ports) < 1) {
        mg_stop(r->mg);
        r->mg = NULL;
        return -1;
    }
    r->port = ports[0].port;
    return 0;
}

static void receiver_init(receiver *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    assert_int_equal(receiver_start(r, 0), 0);
}

static void receiver_stop(receiver *r)
{
    if (r->mg)
        mg_stop(r->mg);
    r->mg = NULL;
}

/* Forgets what came and how to answer; the receiver keeps listening. */
static void receiver_reset(receiver *r)
{
    int i;

    pthread_mutex_lock(&r->mu);
    for (i = 0; i < r->n; i++)
        free(r->hits[i].body);
    memset(r->hits, 0, sizeof(r->hits));
    r->n = 0;
    r->fail_first = r->fail_always = r->delay_ms = 0;
    atomic_store(&r->started, 0);
    pthread_mutex_unlock(&r->mu);
}

static void receiver_free(receiver *r)
{
    receiver_stop(r);
    receiver_reset(r);
    pthread_mutex_destroy(&r->mu);
}

static int hits(receiver *r)
{
    int n;

    pthread_mutex_lock(&r->mu);
    n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- fixtures ---- */

/* One receiver for the file (a CivetWeb stop takes seconds), reset per test. */
static receiver R;

static int setup(void **state)
{
    char path[128];
    gr_err err = {0};

    (void)state;
    log_set_level(LOG_ERROR);
    mg_init_library(0);
    assert_int_equal(crypto_init(&err), 0);
    assert_int_equal(gr_tmpdir_make(dir, sizeof(dir), "notify-delivery"), 0);
    snprintf(path, sizeof(path), "%s/t.db", dir);
    memset(&ctx, 0, sizeof(ctx));
    ctx.data_dir = dir;
    randombytes_buf(ctx.field_key, sizeof(ctx.field_key));
    assert_int_equal(db_open(&ctx.db, path, &err), 0);
    assert_int_equal(db_migrate(ctx.db, NULL, &err), 0);
    /* As in serve: results go through the writer thread. */
    assert_int_equal(db_writer_start(ctx.db, &err), 0);
    A = arena_new();
    receiver_init(&R);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    receiver_free(&R);
    notify_ctx_close(&ctx);
    db_close(ctx.db);
    arena_free(A);
    mg_exit_library();
    return gr_tmpdir_remove(dir);
}

static void start_delivery(const char *backoff_ms)
{
    gr_err err = {0};

    setenv("GR_NOTIFY_BACKOFF_MS", backoff_ms, 1);
    unsetenv("GR_NOTIFY_MAX_ATTEMPTS");
    if (notify_start(&ctx, &err))
        fail_msg("notify_start: %s", err.msg);
}

static db_conn *rd(void)
{
    db_conn *c = db_reader(ctx.db);

    assert_non_null(c);
    return c;
}

static int64_t hook_make(int port, int64_t owner)
{
    static const char *const types[] = {"case.*", NULL};
    notify_webhook_input in = {0};
    char url[64], secret[NOTIFY_SECRET_MAX + 1];
    gr_err err = {0};
    int64_t id = 0;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
    in.url = url;
    in.types = types;
    in.ntypes = 1;
    in.secret = SECRET;
    in.active = 1;
    in.created_by = owner;
    if (notify_webhook_create(&ctx, &in, secret, &id, &err))
        fail_msg("webhook: %s", err.msg);
    return id;
}

struct raise {
    const char *type;
    int64_t subject_id;
};

static int raise_write(db_conn *c, void *arg, gr_err *err)
{
    struct raise *r = arg;
    json_t *payload = json_pack("{s:s, s:I}", "status", "dispatched", "department_id", 12);
    int rc = notify_event(c, r->type, "case", r->subject_id, payload, err);

    json_decref(payload);
    return rc;
}

static void raise_event(const char *type, int64_t subject_id)
{
    struct raise r = {type, subject_id};
    gr_err err = {0};

    assert_int_equal(db_write(ctx.db, raise_write, &r, &err), 0);
}

/* The only delivery of a webhook (as the API lists it). */
static void delivery_of(int64_t hook, notify_delivery *d)
{
    notify_delivery *v = NULL;
    size_t n = 0;
    int more = 0;
    gr_err err = {0};

    assert_int_equal(notify_delivery_list(rd(), A, hook, NULL, 0, 10, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    *d = v[0];
}

/* Polls the delivery until it has the status (and at least min_attempts), for
 * at most seconds. */
static void wait_delivery(int64_t hook, const char *status, int64_t min_attempts, int seconds,
                          notify_delivery *d)
{
    int64_t until = time_now_ms() + seconds * 1000;

    for (;;) {
        delivery_of(hook, d);
        if (strcmp(notify_delivery_status(d), status) == 0 && d->attempts >= min_attempts)
            return;
        if (time_now_ms() > until)
            fail_msg("delivery %lld is %s after %lld attempts, not %s", (long long)d->id,
                     notify_delivery_status(d), (long long)d->attempts, status);
        usleep(10000);
    }
}

/* HMAC-SHA256 built here from SHA-256 (RFC 2104), not through notify_sign. */
static void hmac_reference(const char *key, const char *msg, size_t len, char out[80])
{
    unsigned char k[64] = {0}, pad[64], inner[32], mac[32];
    crypto_hash_sha256_state st;
    size_t klen = strlen(key), i;

    if (klen > 64)
        crypto_hash_sha256(k, (const unsigned char *)key, klen);
    else
        memcpy(k, key, klen);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x36;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, pad, 64);
    crypto_hash_sha256_update(&st, (const unsigned char *)msg, len);
    crypto_hash_sha256_final(&st, inner);
    for (i = 0; i < 64; i++)
        pad[i] = k[i] ^ 0x5c;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, pad, 64);
    crypto_hash_sha256_update(&st, inner, 32);
    crypto_hash_sha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 80 - 7, mac, 32);
}

static void assert_signed(const hit *h)
{
    char want[80];

    hmac_reference(SECRET, h->body, strlen(h->body), want);
    assert_string_equal(h->signature, want);
}

/* ---- tests ---- */

static void test_delivered_signed(void **state)
{
    receiver *r = &R;
    notify_delivery d;
    json_t *body, *data;
    int64_t hook, occurred = 0, ts;
    gr_err err = {0};

    (void)state;
    receiver_reset(r);
    start_delivery("50");
    hook = hook_make(r->port, 0);
    raise_event("case.dispatched", 4242);
    wait_delivery(hook, "delivered", 1, 10, &d);
    notify_stop(&ctx);

    assert_int_equal(hits(r), 1);
    assert_int_equal(d.attempts, 1);
    assert_int_equal(d.last_status, 200);
    assert_null(d.last_error);
    assert_true(d.delivered_at >= d.created_at);
    assert_string_equal(r->hits[0].delivery, d.idempotency_key);
    assert_string_equal(r->hits[0].event, "case.dispatched");
    assert_string_equal(r->hits[0].content_type, "application/json");
    assert_signed(&r->hits[0]);
    ts = atoll(r->hits[0].timestamp);
    assert_true(ts >= d.created_at / 1000 - 1 && ts <= time_now_ms() / 1000 + 1);

    body = json_loads(r->hits[0].body, 0, NULL);
    assert_non_null(body);
    assert_string_equal(json_string_value(json_object_get(body, "id")), d.event_id);
    assert_string_equal(json_string_value(json_object_get(body, "type")), "case.dispatched");
    assert_string_equal(json_string_value(json_object_get(body, "subject")), "case");
    assert_int_equal(json_integer_value(json_object_get(body, "subject_id")), 4242);
    assert_int_equal(
        time_parse_iso(json_string_value(json_object_get(body, "occurred_at")), &occurred), 0);
    assert_int_equal(occurred, d.created_at);
    data = json_object_get(body, "data");
    assert_string_equal(json_string_value(json_object_get(data, "status")), "dispatched");
    assert_int_equal(json_integer_value(json_object_get(data, "department_id")), 12);
    assert_int_equal(json_object_size(body), 6);
    json_decref(body);

    assert_int_equal(notify_webhook_delete(&ctx, hook, &err), 0);
    receiver_reset(r);
}

static void test_retries_until_2xx(void **state)
{
    receiver *r = &R;
    notify_delivery d;
    int64_t hook, gap1, gap2;
    gr_err err = {0};

    (void)state;
    receiver_reset(r);
    r->fail_first = 2;
    start_delivery("100");
    hook = hook_make(r->port, 0);
    raise_event("case.closed", 7);
    wait_delivery(hook, "delivered", 3, 10, &d);
    notify_stop(&ctx);

    assert_int_equal(hits(r), 3);
    assert_int_equal(d.attempts, 3);
    assert_int_equal(d.last_status, 200);
    /* One delivery id and the same signed body on every attempt. */
    assert_string_equal(r->hits[0].delivery, d.idempotency_key);
    assert_string_equal(r->hits[1].delivery, d.idempotency_key);
    assert_string_equal(r->hits[2].delivery, d.idempotency_key);
    assert_string_equal(r->hits[1].body, r->hits[0].body);
    assert_string_equal(r->hits[2].body, r->hits[0].body);
    assert_signed(&r->hits[2]);
    /* Backoff 100 ms, then 200 ms, each less at most a quarter of jitter. */
    gap1 = r->hits[1].at_ms - r->hits[0].at_ms;
    gap2 = r->hits[2].at_ms - r->hits[1].at_ms;
    if (gap1 < 75 || gap2 < 150 || gap2 <= gap1)
        fail_msg("the delays do not grow: %lld ms then %lld ms", (long long)gap1, (long long)gap2);

    assert_int_equal(notify_webhook_delete(&ctx, hook, &err), 0);
    receiver_reset(r);
}

static void test_refused_is_retried(void **state)
{
    receiver r;
    notify_delivery d;
    int64_t hook;
    int port;
    gr_err err = {0};

    (void)state;
    /* A port that was just free: nothing listens there now. */
    receiver_init(&r);
    port = r.port;
    receiver_stop(&r);
    start_delivery("50");
    hook = hook_make(port, 0);
    raise_event("case.created", 8);
    wait_delivery(hook, "retrying", 2, 10, &d);
    assert_int_equal(d.last_status, 0);
    assert_non_null(d.last_error);
    assert_true(strlen(d.last_error) > 0);
    assert_null(strstr(d.last_error, "127.0.0.1"));

    /* The receiver comes back: the next retry gets through, with the same id. */
    assert_int_equal(receiver_start(&r, port), 0);
    wait_delivery(hook, "delivered", 3, 20, &d);
    notify_stop(&ctx);
    assert_int_equal(hits(&r), 1);
    assert_string_equal(r.hits[0].delivery, d.idempotency_key);
    assert_signed(&r.hits[0]);

    assert_int_equal(notify_webhook_delete(&ctx, hook, &err), 0);
    receiver_free(&r);
}

struct user_ins {
    int64_t id;
};

static int user_insert(db_conn *c, void *arg, gr_err *err)
{
    struct user_ins *u = arg;
    int rc = db_exec(c,
                     "INSERT INTO users(username, display_name, role, password_hash, created_at, "
                     "updated_at) VALUES ('hook-admin', 'hook admin', 'resident', 'x', 1, 1)",
                     err);

    u->id = db_last_id(c);
    return rc;
}

static void test_dead_after_max_attempts(void **state)
{
    struct user_ins owner = {0};
    notify_notice_info *v = NULL;
    notify_delivery d;
    receiver *r = &R;
    size_t n = 0;
    int more = 0, i;
    int64_t hook;
    gr_err err = {0};

    (void)state;
    assert_int_equal(db_write(ctx.db, user_insert, &owner, &err), 0);
    receiver_reset(r);
    r->fail_always = 1;
    start_delivery("1"); /* 1, 2, 4 ... 1024 ms: twelve attempts in about 2 s */
    hook = hook_make(r->port, owner.id);
    raise_event("case.reopened", 9);
    wait_delivery(hook, "dead", 12, 30, &d);
    /* Nothing more is sent once it is dead. */
    usleep(300000);
    notify_stop(&ctx);

    assert_int_equal(hits(r), 12);
    assert_int_equal(d.attempts, 12);
    assert_int_equal(d.last_status, 500);
    assert_string_equal(d.last_error, "the receiver answered 500");
    assert_true(d.dead_at > 0);
    assert_int_equal(d.delivered_at, 0);
    for (i = 0; i < 12; i++)
        assert_string_equal(r->hits[i].delivery, d.idempotency_key);

    /* The owner of the webhook is told, in the app. */
    assert_int_equal(notify_notice_list(rd(), A, owner.id, 1, 0, 10, &v, &n, &more, &err), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].kind, "webhook.dead");
    assert_string_equal(v[0].subject, "webhook");
    assert_int_equal(v[0].subject_id, hook);

    assert_int_equal(notify_webhook_delete(&ctx, hook, &err), 0);
    receiver_reset(r);
}

static void test_stop_finishes_in_flight(void **state)
{
    receiver *r = &R;
    notify_delivery d;
    int64_t hook, until;
    gr_err err = {0};

    (void)state;
    receiver_reset(r);
    r->delay_ms = 400;
    start_delivery("50");
    hook = hook_make(r->port, 0);
    raise_event("case.closed", 10);
    until = time_now_ms() + 10000;
    while (atomic_load(&r->started) == 0 && time_now_ms() < until)
        usleep(5000);
    assert_int_equal(atomic_load(&r->started), 1);
    /* The receiver is still answering: stop waits for it and records the result. */
    notify_stop(&ctx);
    delivery_of(hook, &d);
    assert_string_equal(notify_delivery_status(&d), "delivered");
    assert_int_equal(d.attempts, 1);

    assert_int_equal(notify_webhook_delete(&ctx, hook, &err), 0);
    receiver_reset(r);
}

static void test_test_event(void **state)
{
    receiver *r = &R;
    notify_delivery d;
    json_t *body;
    int64_t hook, delivery = 0;
    gr_err err = {0};

    (void)state;
    receiver_reset(r);
    start_delivery("50");
    hook = hook_make(r->port, 0);
    /* webhook.test goes to the webhook whatever it subscribes to. */
    assert_int_equal(notify_webhook_test(&ctx, hook, &delivery, &err), 0);
    wait_delivery(hook, "delivered", 1, 10, &d);
    notify_stop(&ctx);
    assert_int_equal(d.id, delivery);
    assert_int_equal(hits(r), 1);
    assert_string_equal(r->hits[0].event, NOTIFY_TEST_EVENT);
    body = json_loads(r->hits[0].body, 0, NULL);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(body, "data"), "webhook_id")), hook);
    json_decref(body);
    assert_signed(&r->hits[0]);

    assert_int_equal(notify_webhook_delete(&ctx, hook, &err), 0);
    receiver_reset(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered_signed),
        cmocka_unit_test(test_retries_until_2xx),
        cmocka_unit_test(test_refused_is_retried),
        cmocka_unit_test(test_dead_after_max_attempts),
        cmocka_unit_test(test_stop_finishes_in_flight),
        cmocka_unit_test(test_test_event),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
