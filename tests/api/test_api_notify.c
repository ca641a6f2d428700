/* Webhooks and notices over HTTP against the demo: the CRUD of webhooks with
 * every validation error naming its field and changing nothing, the secret
 * answered once and never again, the test event followed through the real
 * delivery thread to a receiver that is down until it is given up, the
 * notice that tells the webhook's owner, and notices only their owner sees.
 * Only loopback addresses are used. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---- */

static long call(gr_client *c, const char *method, const char *path, const char *body, gr_resp *r)
{
    return gr_request(c, method, path, NULL, body, r);
}

static char *body_of(gr_client *c, const char *path)
{
    gr_resp r;
    char *s;

    assert_int_equal(gr_get(c, path, &r), 200);
    s = strdup(r.body);
    gr_resp_free(&r);
    return s;
}

static int64_t my_id(gr_client *c)
{
    gr_resp r;
    int64_t id;

    assert_int_equal(gr_get(c, "/api/v1/auth/me", &r), 200);
    id = gr_jint(json_object_get(r.json, "user"), "id");
    gr_resp_free(&r);
    return id;
}

/* A loopback port nothing listens on: bound for a moment, then closed. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int64_t webhook_create(gr_client *admin, const char *body, json_t **answer)
{
    gr_resp r;
    int64_t id;

    if (call(admin, "POST", "/api/v1/webhooks", body, &r) != 201)
        fail_msg("create: %ld %s", r.status, r.body);
    id = gr_jint(r.json, "id");
    if (answer)
        *answer = json_incref(r.json);
    gr_resp_free(&r);
    return id;
}

/* ---- webhooks ---- */

static void test_webhook_crud(void **state)
{
    gr_client admin;
    gr_resp r;
    json_t *o = NULL;
    char path[96], loc[96], secret[300];
    int64_t id, id2;

    (void)state;
    gr_login_demo(&admin, "admin");

    /* No secret given: one is made and answered once. */
    id = webhook_create(&admin,
                        "{\"url\":\"http://127.0.0.1:9/hook\",\"event_types\":[\"case.*\","
                        "\"org.changed\"]}",
                        &o);
    snprintf(secret, sizeof(secret), "%s", gr_jstr(o, "secret"));
    assert_memory_equal(secret, "whsec_", 6);
    assert_int_equal(strlen(secret), 49);
    assert_string_equal(gr_jstr(o, "url"), "http://127.0.0.1:9/hook");
    assert_int_equal(json_array_size(json_object_get(o, "event_types")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(o, "event_types"), 0)),
                        "case.*");
    assert_true(json_is_true(json_object_get(o, "active")));
    assert_int_equal(gr_jint(o, "version"), 1);
    assert_int_equal(gr_jint(o, "created_by"), my_id(&admin));
    assert_non_null(gr_jstr(o, "created_at"));
    json_decref(o);

    /* Never again: not in the resource, the list, nor after a change. */
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)id);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_null(json_object_get(r.json, "secret"));
    assert_null(strstr(r.body, secret + 6));
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/webhooks?limit=500", &r), 200);
    assert_null(strstr(r.body, "secret"));
    assert_null(strstr(r.body, secret + 6));
    gr_resp_free(&r);

    /* A given secret is answered as given, and a Location names the new webhook. */
    assert_int_equal(call(&admin, "POST", "/api/v1/webhooks",
                          "{\"url\":\"https://127.0.0.1:9/two\",\"event_types\":[\"*\"],"
                          "\"secret\":\"given-secret-0123456789\",\"active\":false}",
                          &r),
                     201);
    id2 = gr_jint(r.json, "id");
    assert_string_equal(gr_jstr(r.json, "secret"), "given-secret-0123456789");
    assert_true(json_is_false(json_object_get(r.json, "active")));
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)id2);
    assert_string_equal(gr_resp_header(&r, "Location", loc, sizeof(loc)), path);
    gr_resp_free(&r);

    /* Changes: optimistic on version; the secret can be replaced, not read. */
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)id);
    assert_int_equal(call(&admin, "PATCH", path,
                          "{\"version\":1,\"event_types\":[\"case.closed\"],\"active\":false,"
                          "\"secret\":\"replaced-secret-0123456789\"}",
                          &r),
                     200);
    assert_int_equal(gr_jint(r.json, "version"), 2);
    assert_true(json_is_false(json_object_get(r.json, "active")));
    assert_int_equal(json_array_size(json_object_get(r.json, "event_types")), 1);
    assert_string_equal(gr_jstr(r.json, "url"), "http://127.0.0.1:9/hook");
    assert_null(json_object_get(r.json, "secret"));
    assert_null(strstr(r.body, "replaced-secret"));
    gr_resp_free(&r);
    gr_expect_problem(&admin, "PATCH", path, "{\"version\":1,\"active\":true}", 409, "version");
    gr_expect_problem(&admin, "PATCH", "/api/v1/webhooks/999999", "{\"version\":1}", 404, NULL);

    /* Delete: gone, and gone again is 404. */
    assert_int_equal(call(&admin, "DELETE", path, NULL, &r), 204);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, path, &r), 404);
    gr_resp_free(&r);
    gr_expect_problem(&admin, "DELETE", path, NULL, 404, NULL);
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)id2);
    assert_int_equal(call(&admin, "DELETE", path, NULL, &r), 204);
    gr_resp_free(&r);
    gr_client_free(&admin);
}

static void test_webhook_validation(void **state)
{
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":\"ftp://127.0.0.1/x\",\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":\"file:///etc/passwd\",\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":\"http://user:pw@127.0.0.1/x\",\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":\"http://user@127.0.0.1/x\",\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":\"127.0.0.1/x\",\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":\"\",\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":7,\"event_types\":[\"case.*\"]}", "url"},
        {"{\"url\":\"http://127.0.0.1/x\"}", "event_types"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[]}", "event_types"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":\"case.*\"}", "event_types"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[1]}", "event_types"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"Not A Type\"]}", "event_types"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"case.**\"]}", "event_types"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"case.*\"],\"secret\":\"short\"}",
         "secret"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"case.*\"],"
         "\"secret\":\"with spaces inside it\"}",
         "secret"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"case.*\"],\"active\":\"yes\"}",
         "active"},
        {"{\"url\":\"http://127.0.0.1/x\",\"event_types\":[\"case.*\"],\"extra\":1}", "extra"},
    };
    gr_client admin, dispatcher, anon;
    gr_resp r;
    char *before, *after, *one_before, *one_after, path[96], dpath[128];
    int64_t id;
    size_t i;

    (void)state;
    gr_login_demo(&admin, "admin");
    id = webhook_create(&admin,
                        "{\"url\":\"http://127.0.0.1:9/keep\",\"event_types\":[\"case.*\"]}", NULL);
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)id);
    before = body_of(&admin, "/api/v1/webhooks?limit=500");
    one_before = body_of(&admin, path);

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        gr_expect_problem(&admin, "POST", "/api/v1/webhooks", bad[i].body, 400, bad[i].field);
    gr_expect_problem(&admin, "PATCH", path, "{\"url\":\"http://127.0.0.1:9/x\"}", 400, "version");
    gr_expect_problem(&admin, "PATCH", path, "{\"version\":1,\"url\":\"gopher://127.0.0.1/\"}", 400,
                      "url");
    gr_expect_problem(&admin, "PATCH", path, "{\"version\":1,\"event_types\":[]}", 400,
                      "event_types");
    gr_expect_problem(&admin, "PATCH", path, "{\"version\":1,\"secret\":\"tiny\"}", 400, "secret");
    gr_expect_problem(&admin, "PATCH", path, "{\"version\":1,\"id\":5}", 400, "id");

    after = body_of(&admin, "/api/v1/webhooks?limit=500");
    one_after = body_of(&admin, path);
    assert_string_equal(after, before);
    assert_string_equal(one_after, one_before);
    free(before);
    free(after);
    free(one_before);
    free(one_after);

    /* Deliveries: of a webhook that exists, with a known status. */
    snprintf(dpath, sizeof(dpath), "%s/deliveries?status=lost", path);
    gr_expect_problem(&admin, "GET", dpath, NULL, 400, "status");
    gr_expect_problem(&admin, "GET", "/api/v1/webhooks/999999/deliveries", NULL, 404, NULL);
    gr_expect_problem(&admin, "POST", "/api/v1/webhooks/999999/test", NULL, 404, NULL);

    /* Admins only. */
    gr_login_demo(&dispatcher, "dispatcher");
    gr_expect_problem(&dispatcher, "GET", "/api/v1/webhooks", NULL, 403, NULL);
    gr_expect_problem(&dispatcher, "POST", "/api/v1/webhooks",
                      "{\"url\":\"http://127.0.0.1:9/x\",\"event_types\":[\"*\"]}", 403, NULL);
    gr_expect_problem(&dispatcher, "GET", dpath, NULL, 403, NULL);
    gr_client_init(&anon, &gr_srv);
    gr_expect_problem(&anon, "GET", "/api/v1/webhooks", NULL, 401, NULL);
    gr_expect_problem(&anon, "GET", "/api/v1/notices", NULL, 401, NULL);

    gr_expect_problem(&admin, "DELETE", "/api/v1/webhooks/999999", NULL, 404, NULL);
    gr_client_free(&anon);
    gr_client_free(&dispatcher);
    assert_int_equal(call(&admin, "DELETE", path, NULL, &r), 204);
    gr_resp_free(&r);
    gr_client_free(&admin);
}

/* ---- the delivery thread in the server, and notices ---- */

/* The webhook's deliveries once the newest has status, within seconds. */
static json_t *deliveries_when(gr_client *c, int64_t hook, const char *status, int seconds)
{
    char path[128];
    time_t until = time(NULL) + seconds;
    gr_resp r;
    json_t *items;

    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld/deliveries", (long long)hook);
    for (;;) {
        assert_int_equal(gr_get(c, path, &r), 200);
        items = json_object_get(r.json, "items");
        if (json_array_size(items) > 0 &&
            strcmp(gr_jstr(json_array_get(items, 0), "status"), status) == 0) {
            items = json_incref(items);
            gr_resp_free(&r);
            return items;
        }
        if (time(NULL) > until)
            fail_msg("no %s delivery: %s", status, r.body);
        gr_resp_free(&r);
        usleep(50000);
    }
}

static void test_given_up_delivery_and_notices(void **state)
{
    gr_client admin, auditor, resident;
    char body[256], path[128], read_path[96];
    json_t *items, *d, *n = NULL, *v;
    int64_t hook, notice = 0;
    gr_resp r;
    size_t i;

    (void)state;
    gr_login_demo(&admin, "admin");
    snprintf(body, sizeof(body),
             "{\"url\":\"http://127.0.0.1:%d/down\",\"event_types\":[\"case.*\"]}", closed_port());
    hook = webhook_create(&admin, body, NULL);

    /* The test event is queued at once... */
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld/test", (long long)hook);
    assert_int_equal(call(&admin, "POST", path, NULL, &r), 202);
    assert_string_equal(gr_jstr(r.json, "event_type"), "webhook.test");
    assert_int_equal(gr_jint(r.json, "webhook_id"), hook);
    assert_non_null(strstr(gr_jstr(r.json, "idempotency_key"), gr_jstr(r.json, "event_id")));
    gr_resp_free(&r);

    /* ... tried against a receiver that is down, and given up after the last
     * attempt (GR_NOTIFY_MAX_ATTEMPTS=2 for this server). */
    items = deliveries_when(&admin, hook, "dead", 30);
    d = json_array_get(items, 0);
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(gr_jint(d, "attempts"), 2);
    assert_true(json_is_null(json_object_get(d, "last_status")));
    assert_true(strlen(gr_jstr(d, "last_error")) > 0);
    assert_true(json_is_null(json_object_get(d, "next_attempt_at")));
    assert_true(json_is_null(json_object_get(d, "delivered_at")));
    assert_non_null(gr_jstr(d, "dead_at"));
    json_decref(items);
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld/deliveries?status=delivered",
             (long long)hook);
    assert_int_equal(gr_get(&admin, path, &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    gr_resp_free(&r);

    /* Its owner is told in the app. */
    assert_int_equal(gr_get(&admin, "/api/v1/notices?unread=1", &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, v)
    {
        if (strcmp(gr_jstr(v, "kind"), "webhook.dead") == 0 && gr_jint(v, "subject_id") == hook)
            n = json_incref(v);
    }
    gr_resp_free(&r);
    if (!n)
        fail_msg("no webhook.dead notice for the admin");
    notice = gr_jint(n, "id");
    assert_string_equal(gr_jstr(n, "subject"), "webhook");
    assert_true(json_is_false(json_object_get(n, "read")));
    json_decref(n);

    /* Nobody else sees it or can mark it. */
    snprintf(read_path, sizeof(read_path), "/api/v1/notices/%lld/read", (long long)notice);
    gr_login_demo(&auditor, "auditor");
    assert_int_equal(gr_get(&auditor, "/api/v1/notices?limit=500", &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, v)
        assert_true(gr_jint(v, "id") != notice);
    gr_resp_free(&r);
    gr_expect_problem(&auditor, "POST", read_path, NULL, 404, NULL);
    gr_login_demo(&resident, "resident");
    assert_int_equal(gr_get(&resident, "/api/v1/notices?limit=500", &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, v)
    {
        assert_true(gr_jint(v, "id") != notice);
        assert_string_not_equal(gr_jstr(v, "kind"), "webhook.dead");
    }
    gr_resp_free(&r);
    gr_expect_problem(&resident, "POST", read_path, NULL, 404, NULL);
    gr_expect_problem(&resident, "POST", "/api/v1/notices/999999/read", NULL, 404, NULL);
    gr_expect_problem(&resident, "GET", "/api/v1/notices?unread=2", NULL, 400, "unread");

    /* The owner marks it read (twice is fine); it leaves the unread list. */
    assert_int_equal(call(&admin, "POST", read_path, NULL, &r), 200);
    assert_true(json_is_true(json_object_get(r.json, "read")));
    assert_non_null(gr_jstr(r.json, "read_at"));
    gr_resp_free(&r);
    assert_int_equal(call(&admin, "POST", read_path, NULL, &r), 200);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/notices?unread=1", &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, v)
        assert_true(gr_jint(v, "id") != notice);
    gr_resp_free(&r);
    assert_int_equal(gr_get(&admin, "/api/v1/notices", &r), 200);
    assert_int_equal(gr_jint(json_array_get(json_object_get(r.json, "items"), 0), "id"), notice);
    gr_resp_free(&r);

    /* A paused webhook takes no test event. */
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld", (long long)hook);
    assert_int_equal(call(&admin, "PATCH", path, "{\"version\":1,\"active\":false}", &r), 200);
    gr_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/webhooks/%lld/test", (long long)hook);
    gr_expect_problem(&admin, "POST", path, NULL, 409, "active");

    gr_client_free(&resident);
    gr_client_free(&auditor);
    gr_client_free(&admin);
}

static int setup(void **state)
{
    /* Quick retries and an early give-up, so the server's own delivery thread
     * shows a whole life in seconds. */
    setenv("GR_NOTIFY_BACKOFF_MS", "20", 1);
    setenv("GR_NOTIFY_MAX_ATTEMPTS", "2", 1);
    return gr_setup_demo(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_crud),
        cmocka_unit_test(test_webhook_validation),
        cmocka_unit_test(test_given_up_delivery_and_notices),
    };

    return cmocka_run_group_tests(tests, setup, gr_teardown_server);
}
