/* The keel over HTTP and the command line: health, readiness, errors as
 * problem+json, 404/405, body limits, headers, static files, metrics, the CLI,
 * backup while serving, refusing a newer database, graceful shutdown. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void test_health_ready_headers(void **state)
{
    gr_client c;
    gr_resp r;
    char h[512];

    (void)state;
    gr_client_init(&c, &gr_srv);
    assert_int_equal(gr_request(&c, "GET", "/api/v1/health", NULL, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    assert_non_null(gr_resp_header(&r, "X-Content-Type-Options", h, sizeof(h)));
    assert_string_equal(h, "nosniff");
    assert_non_null(gr_resp_header(&r, "Content-Security-Policy", h, sizeof(h)));
    assert_non_null(strstr(h, "frame-ancestors 'none'"));
    assert_non_null(gr_resp_header(&r, "Referrer-Policy", h, sizeof(h)));
    assert_non_null(gr_resp_header(&r, "X-Request-Id", h, sizeof(h)));
    assert_int_equal(strlen(h), 24);
    assert_non_null(gr_resp_header(&r, "Cache-Control", h, sizeof(h)));
    assert_string_equal(h, "no-store");
    gr_resp_free(&r);

    assert_int_equal(gr_request(&c, "GET", "/api/v1/ready", NULL, NULL, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ready");
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_request_id_passthrough(void **state)
{
    gr_client c;
    gr_resp r;
    char h[128];

    (void)state;
    gr_client_init(&c, &gr_srv);
    /* A plain id is kept; one that could forge a log line is replaced. */
    snprintf(c.extra, sizeof(c.extra), "X-Request-Id: lb-7f3a.42_x");
    assert_int_equal(gr_request(&c, "GET", "/api/v1/nope", NULL, NULL, &r), 404);
    gr_assert_problem(&r, 404, NULL);
    assert_non_null(gr_resp_header(&r, "X-Request-Id", h, sizeof(h)));
    assert_string_equal(h, "lb-7f3a.42_x");
    assert_string_equal(json_string_value(json_object_get(r.json, "request_id")), h);
    gr_resp_free(&r);
    snprintf(c.extra, sizeof(c.extra), "X-Request-Id: a\"b} {\"level\":\"error");
    assert_int_equal(gr_request(&c, "GET", "/api/v1/health", NULL, NULL, &r), 200);
    assert_non_null(gr_resp_header(&r, "X-Request-Id", h, sizeof(h)));
    assert_int_equal(strlen(h), 24);
    assert_null(strchr(h, '"'));
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_errors(void **state)
{
    gr_client c;
    gr_resp r;
    char h[128], *big;
    size_t n = 1024 * 1024 + 10;

    (void)state;
    gr_client_init(&c, &gr_srv);

    assert_int_equal(gr_request(&c, "DELETE", "/api/v1/health", NULL, NULL, &r), 405);
    gr_assert_problem(&r, 405, NULL);
    assert_non_null(gr_resp_header(&r, "Allow", h, sizeof(h)));
    assert_string_equal(h, "GET");
    gr_resp_free(&r);

    assert_int_equal(gr_request(&c, "POST", "/api/v1/auth/login", "text/plain", "{}", &r), 415);
    gr_assert_problem(&r, 415, "Content-Type");
    gr_resp_free(&r);

    assert_int_equal(
        gr_request(&c, "POST", "/api/v1/auth/login", NULL, "{\"username\": \"a\",\n  oops}", &r),
        400);
    gr_assert_problem(&r, 400, NULL);
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "detail")), "line 2"));
    gr_resp_free(&r);

    big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    assert_int_equal(gr_request(&c, "POST", "/api/v1/auth/login", NULL, big, &r), 413);
    gr_assert_problem(&r, 413, NULL);
    gr_resp_free(&r);
    free(big);

    assert_int_equal(gr_request(&c, "POST", "/api/v1/auth/login", NULL,
                                "{\"username\":\"admin\",\"password\":\"x\",\"extra\":1}", &r),
                     400);
    gr_assert_problem(&r, 400, "extra");
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_static_files(void **state)
{
    gr_client c;
    gr_resp r;
    char h[256], script[256] = "";
    const char *src;

    (void)state;
    gr_client_init(&c, &gr_srv);
    assert_int_equal(gr_request(&c, "GET", "/", NULL, NULL, &r), 200);
    assert_non_null(gr_resp_header(&r, "Content-Type", h, sizeof(h)));
    assert_non_null(strstr(h, "text/html"));
    assert_non_null(strstr(r.body, "<html"));
    assert_non_null(gr_resp_header(&r, "X-Content-Type-Options", h, sizeof(h)));
    /* The page's own script: web/dist (built, hashed names) or web/static. */
    src = strstr(r.body, "src=\"/");
    assert_non_null(src);
    assert_int_equal(sscanf(src + 5, "%255[^\"]", script), 1);
    gr_resp_free(&r);
    assert_int_equal(gr_request(&c, "GET", script, NULL, NULL, &r), 200);
    assert_non_null(gr_resp_header(&r, "Content-Type", h, sizeof(h)));
    assert_non_null(strstr(h, "javascript"));
    assert_non_null(gr_resp_header(&r, "Cache-Control", h, sizeof(h)));
    assert_non_null(strstr(h, "max-age="));
    gr_resp_free(&r);
    assert_int_equal(gr_request(&c, "GET", "/../../etc/passwd", NULL, NULL, &r) == 200 &&
                         strstr(r.body, "root:"),
                     0);
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_metrics(void **state)
{
    gr_client c;
    gr_resp r;

    (void)state;
    gr_client_init(&c, &gr_srv);
    assert_int_equal(gr_request(&c, "GET", "/metrics", NULL, NULL, &r), 401);
    gr_resp_free(&r);
    assert_int_equal(gr_login(&c, "admin", gr_demo_password("admin")), 200);
    assert_int_equal(gr_request(&c, "GET", "/api/v1/health", NULL, NULL, &r), 200);
    gr_resp_free(&r);
    assert_int_equal(gr_request(&c, "GET", "/metrics", NULL, NULL, &r), 200);
    assert_non_null(strstr(r.body, "grassroots_http_requests_total{method=\"GET\","
                                   "route=\"/api/v1/health\",status=\"200\"}"));
    assert_non_null(strstr(r.body, "grassroots_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert_non_null(strstr(r.body, "grassroots_db_batch_size_count"));
    assert_non_null(strstr(r.body, "grassroots_db_commit_seconds_bucket"));
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_cli(void **state)
{
    char out[8192], backup[512], cmd[1400];
    const char *version[] = {"version", NULL};
    const char *migrate[] = {"migrate", NULL};
    const char *bad[] = {"frobnicate", NULL};
    const char *helps[][3] = {{"serve", "--help", NULL},  {"migrate", "--help", NULL},
                              {"demo", "--help", NULL},   {"user", "--help", NULL},
                              {"import", "--help", NULL}, {"backup", "--help", NULL},
                              {"version", "--help", NULL}};
    size_t i;

    (void)state;
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), version), 0);
    assert_non_null(strstr(out, "grassroots "));
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), migrate), 0);
    assert_non_null(strstr(out, "schema version"));
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), bad), 2);
    for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), helps[i]), 0);
        assert_non_null(strstr(out, "usage: grassroots"));
    }

    /* Backup while the server is running, then the copy is a working database. */
    snprintf(backup, sizeof(backup), "%.*s/copy", (int)(strrchr(gr_srv.dir, '/') - gr_srv.dir),
             gr_srv.dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p %s && cp %s/keys %s/keys", backup, gr_srv.dir, backup);
    assert_int_equal(system(cmd), 0);
    {
        char dest[600];
        const char *args[] = {"backup", dest, NULL};
        snprintf(dest, sizeof(dest), "%s/grassroots.db", backup);
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), args), 0);
        /* A second backup onto an existing file is refused. */
        assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), args), 2);
        snprintf(cmd, sizeof(cmd), "%s user list --data %s > %s/list.txt", getenv("GR_BIN"), backup,
                 backup);
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof(cmd), "grep -q dispatcher %s/list.txt", backup);
        assert_int_equal(system(cmd), 0);
        /* A database from a newer binary is refused with exit code 3. */
        snprintf(cmd, sizeof(cmd),
                 "sqlite3 %s \"INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)\"",
                 dest);
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof(cmd), "%s migrate --data %s 2>/dev/null", getenv("GR_BIN"), backup);
        assert_int_equal(WEXITSTATUS(system(cmd)), 3);
        snprintf(cmd, sizeof(cmd), "%s serve --listen 127.0.0.1:0 --data %s 2>/dev/null >/dev/null",
                 getenv("GR_BIN"), backup);
        assert_int_equal(WEXITSTATUS(system(cmd)), 3);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_ready_headers),
        cmocka_unit_test(test_request_id_passthrough),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_static_files),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
