/* The audit log over HTTP and on the command line: only auditors and admins
 * read it, bad filters are 400 naming the parameter, filters and pages work
 * (on synthetic entries put in with the sqlite3 shell, since no route of
 * this build reveals a value yet), and `grassroots audit verify` says an
 * empty log is intact and finds entries written without the key.
 * tests/unit/test_audit.c covers the chain itself. */
#include "harness.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* The seqs of a page, and its next_after (0 for null). */
static size_t page(gr_client *c, const char *path, int64_t *seqs, size_t max, int64_t *next)
{
    gr_resp r;
    json_t *items, *it;
    size_t i, n;

    if (gr_get(c, path, &r) != 200)
        fail_msg("GET %s: %ld %s", path, r.status, r.body);
    items = json_object_get(r.json, "items");
    assert_true(json_is_array(items));
    n = json_array_size(items);
    assert_true(n <= max);
    json_array_foreach(items, i, it) seqs[i] = gr_jint(it, "seq");
    *next = gr_jint(r.json, "next_after");
    gr_resp_free(&r);
    return n;
}

static void test_empty_log(void **state)
{
    static const char *const roles[] = {"auditor", "admin"};
    size_t k;

    (void)state;
    for (k = 0; k < 2; k++) {
        gr_client c;
        gr_resp r;

        gr_login_demo(&c, roles[k]);
        assert_int_equal(gr_get(&c, "/api/v1/audit", &r), 200);
        assert_true(json_is_array(json_object_get(r.json, "items")));
        assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
        assert_true(json_is_null(json_object_get(r.json, "next_after")));
        gr_resp_free(&r);
        /* Filters on an empty log: an empty page. */
        assert_int_equal(gr_get(&c,
                                "/api/v1/audit?entity=case&entity_id=1&actor=1&action=reveal"
                                "&from=2026-01-01&to=2026-02-01T00:00:00Z",
                                &r),
                         200);
        assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
        gr_resp_free(&r);
        gr_client_free(&c);
    }
}

static void test_others_refused(void **state)
{
    static const char *const roles[] = {"community_worker", "leader", "acceptor", "resident"};
    gr_client c;
    gr_resp r;
    size_t k;

    (void)state;
    for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++) {
        gr_login_demo(&c, roles[k]);
        gr_get(&c, "/api/v1/audit", &r);
        gr_assert_problem(&r, 403, NULL);
        assert_non_null(strstr(gr_jstr(r.json, "detail"), "audit.read"));
        gr_resp_free(&r);
        gr_client_free(&c);
    }
    gr_client_init(&c, &gr_srv);
    gr_get(&c, "/api/v1/audit", &r);
    gr_assert_problem(&r, 401, NULL);
    gr_resp_free(&r);
    gr_client_free(&c);
}

static void test_bad_filters(void **state)
{
    static const struct {
        const char *query, *field;
    } bad[] = {
        {"from=yesterday", "from"},
        {"to=2026-13-01", "to"},
        {"from=2026-02-01&to=2026-01-01", "to"},
        {"from=2026-01-01&to=2026-01-01", "to"},
        {"entity=Case", "entity"},
        {"entity=", "entity"},
        {"action=re%20veal", "action"},
        {"actor=abc", "actor"},
        {"actor=0", "actor"},
        {"entity_id=-1", "entity_id"},
        {"limit=0", "limit"},
        {"limit=501", "limit"},
        {"after=x", "after"},
    };
    char path[256];
    gr_client c;
    size_t i;

    (void)state;
    gr_login_demo(&c, "auditor");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/audit?%s", bad[i].query);
        gr_expect_problem(&c, "GET", path, NULL, 400, bad[i].field);
    }
    gr_client_free(&c);
}

/* Synthetic entries, one hour apart from 2026-01-01T00:00Z, put in behind
 * the application's back (with zero hashes: no key here). */
static void seed(void)
{
    gr_sql_int(&gr_srv,
               "PRAGMA busy_timeout = 10000; "
               "INSERT INTO audit_log VALUES (1, 1767225600000, 7, 'acceptor', 'reveal', 'case', "
               "101, 'contact', 'callback', NULL, NULL, zeroblob(32), zeroblob(32)); "
               "INSERT INTO audit_log VALUES (2, 1767229200000, 7, 'acceptor', 'reveal', 'case', "
               "102, 'contact', 'callback', NULL, NULL, zeroblob(32), zeroblob(32)); "
               "INSERT INTO audit_log VALUES (3, 1767232800000, 8, 'dispatcher', 'reveal', "
               "'case', 101, 'contact', 'dispatch', NULL, NULL, zeroblob(32), zeroblob(32)); "
               "INSERT INTO audit_log VALUES (4, 1767236400000, 9, 'auditor', 'export', "
               "'person', 0, 'name,phone', 'annual review', NULL, NULL, zeroblob(32), "
               "zeroblob(32)); "
               "INSERT INTO audit_log VALUES (5, 1767240000000, 7, 'acceptor', 'reveal', 'case', "
               "101, 'contact', 'callback', NULL, NULL, zeroblob(32), zeroblob(32));");
    assert_int_equal(gr_sql_int(&gr_srv, "SELECT count(*) FROM audit_log"), 5);
}

static void test_filters_and_pages(void **state)
{
    int64_t s[8], next;
    gr_client c;
    gr_resp r;
    json_t *e;

    (void)state;
    seed();
    gr_login_demo(&c, "auditor");
    assert_int_equal(page(&c, "/api/v1/audit?entity=case&entity_id=101", s, 8, &next), 3);
    assert_true(s[0] == 1 && s[1] == 3 && s[2] == 5 && next == 0);
    assert_int_equal(page(&c, "/api/v1/audit?actor=7&action=reveal", s, 8, &next), 3);
    assert_true(s[0] == 1 && s[1] == 2 && s[2] == 5);
    assert_int_equal(
        page(&c, "/api/v1/audit?from=2026-01-01T01:00:00Z&to=2026-01-01T03:00:00Z", s, 8, &next),
        2);
    assert_true(s[0] == 2 && s[1] == 3);
    assert_int_equal(page(&c, "/api/v1/audit?action=export", s, 8, &next), 1);
    assert_int_equal(s[0], 4);

    /* Pages of two, oldest first. */
    assert_int_equal(page(&c, "/api/v1/audit?limit=2", s, 8, &next), 2);
    assert_true(s[0] == 1 && s[1] == 2 && next == 2);
    assert_int_equal(page(&c, "/api/v1/audit?limit=2&after=2", s, 8, &next), 2);
    assert_true(s[0] == 3 && s[1] == 4 && next == 4);
    assert_int_equal(page(&c, "/api/v1/audit?limit=2&after=4", s, 8, &next), 1);
    assert_true(s[0] == 5 && next == 0);

    /* One entry as JSON. */
    assert_int_equal(gr_get(&c, "/api/v1/audit?after=3&limit=1", &r), 200);
    e = json_array_get(json_object_get(r.json, "items"), 0);
    assert_int_equal(gr_jint(e, "seq"), 4);
    assert_int_equal(strncmp(gr_jstr(e, "at"), "2026-01-01T03:00:00", 19), 0);
    assert_int_equal(gr_jint(e, "actor_user_id"), 9);
    assert_string_equal(gr_jstr(e, "actor_role"), "auditor");
    assert_string_equal(gr_jstr(e, "entity"), "person");
    assert_true(json_is_null(json_object_get(e, "entity_id")));
    assert_int_equal(json_array_size(json_object_get(e, "fields")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(e, "fields"), 1)),
                        "phone");
    assert_string_equal(gr_jstr(e, "purpose"), "annual review");
    assert_true(json_is_null(json_object_get(e, "detail")));
    assert_int_equal(strlen(gr_jstr(e, "hash")), 64);
    gr_resp_free(&r);
    gr_client_free(&c);
}

/* SIGTERM and wait, keeping the data directory (gr_server_stop removes it
 * afterwards, the pid cleared). */
static void stop_keep(gr_server *s)
{
    int status = 0;

    kill(s->pid, SIGTERM);
    assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    s->pid = 0;
}

static void test_verify_empty_log(void **state)
{
    const char *args[] = {"audit", "verify", NULL};
    char out[1024] = "";
    gr_server s;

    (void)state;
    gr_server_start(&s, 0);
    stop_keep(&s);
    assert_int_equal(gr_cli(&s, out, sizeof(out), args), 0);
    assert_non_null(strstr(out, "audit log intact: 0 entries"));
    gr_server_stop(&s);
}

/* The entries seeded above carry no valid hashes: verify finds the first. */
static void test_verify_finds_unkeyed_entries(void **state)
{
    const char *args[] = {"audit", "verify", NULL};
    const char *usage[] = {"audit", "check", NULL};
    char out[1024] = "";

    (void)state;
    stop_keep(&gr_srv);
    assert_int_equal(gr_cli(&gr_srv, out, sizeof(out), args), 1);
    assert_non_null(strstr(out, "NOT intact"));
    assert_non_null(strstr(out, "first bad entry: seq 1"));
    assert_int_equal(gr_cli(&gr_srv, NULL, 0, usage), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_log),
        cmocka_unit_test(test_others_refused),
        cmocka_unit_test(test_bad_filters),
        cmocka_unit_test(test_filters_and_pages),
        cmocka_unit_test(test_verify_empty_log),
        cmocka_unit_test(test_verify_finds_unkeyed_entries),
    };

    return cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server);
}
