/* Graceful shutdown: SIGTERM while clients are writing. Every write the server
 * acknowledged is in the database after a restart, the server exits 0, and a
 * request is either answered whole or refused, never cut off. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WRITERS        6
#define MAX_PER_WRITER 400

static gr_server srv;
static int64_t scope_id;
static atomic_int acknowledged;

struct writer {
    int n;
    int64_t ids[MAX_PER_WRITER];
    int torn; /* an answer that was neither a whole response nor a refusal */
    int index;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    gr_client c;
    gr_resp r;
    int i;
    long st;

    gr_client_init(&c, &srv);
    if (gr_login(&c, "admin", gr_demo_password("admin")) != 200) {
        w->torn = -1;
        goto out;
    }
    for (i = 0; i < MAX_PER_WRITER; i++) {
        char name[64];
        snprintf(name, sizeof(name), "shutdown_w%d_%d_u", w->index, i);
        st = gr_request_json(&c, "POST", "/api/v1/users",
                             json_pack("{s:s, s:s, s:s, s:s, s:I}", "username", name,
                                       "display_name", "测试", "password", "long-enough-pw", "role",
                                       "acceptor", "scope_org_id", (json_int_t)scope_id),
                             &r);
        if (st == 201 && r.json && json_integer_value(json_object_get(r.json, "id")) > 0) {
            w->ids[w->n++] = json_integer_value(json_object_get(r.json, "id"));
            atomic_fetch_add(&acknowledged, 1);
        } else if (st == 0 || st == 503) {
            gr_resp_free(&r);
            break; /* refused: the server is going away */
        } else {
            w->torn++;
        }
        gr_resp_free(&r);
    }
out:
    gr_client_free(&c);
    return NULL;
}

static void test_sigterm_while_writing(void **state)
{
    pthread_t th[WRITERS];
    struct writer w[WRITERS];
    gr_client c;
    gr_resp r;
    int i, k, status = 0, total = 0;
    char path[64];

    (void)state;
    gr_server_start(&srv, 1);
    gr_client_init(&c, &srv);
    assert_int_equal(gr_login(&c, "admin", gr_demo_password("admin")), 200);
    assert_int_equal(gr_request(&c, "GET", "/api/v1/auth/me", NULL, NULL, &r), 200);
    scope_id = json_integer_value(json_object_get(json_object_get(r.json, "user"), "scope_org_id"));
    gr_resp_free(&r);
    assert_true(scope_id > 0);
    gr_client_free(&c);

    memset(w, 0, sizeof(w));
    for (i = 0; i < WRITERS; i++) {
        w[i].index = i;
        pthread_create(&th[i], NULL, writer_main, &w[i]);
    }
    while (atomic_load(&acknowledged) < 60)
        usleep(10000);
    kill(srv.pid, SIGTERM);
    for (i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    waitpid(srv.pid, &status, 0);
    srv.pid = 0;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* Reopen the same data: every acknowledged user is there. */
    {
        const char *args[] = {"user", "list", NULL};
        char *out = malloc(1 << 20);
        assert_int_equal(gr_cli(&srv, out, 1 << 20, args), 0);
        for (i = 0; i < WRITERS; i++) {
            assert_int_equal(w[i].torn, 0);
            for (k = 0; k < w[i].n; k++) {
                snprintf(path, sizeof(path), "shutdown_w%d_%d_u", i, k);
                assert_non_null(strstr(out, path));
                total++;
            }
        }
        free(out);
    }
    assert_true(total >= 60);
    gr_server_stop(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_while_writing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
