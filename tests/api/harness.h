/*
 * Black-box HTTP tests: start the real `grassroots serve` (path in $GR_BIN) on
 * a free port with a temporary data directory, talk to it with libcurl, stop
 * it with SIGTERM and check it exited cleanly.
 */
#ifndef GR_TESTS_HARNESS_H
#define GR_TESTS_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct gr_server {
    pid_t pid;
    int port;
    char dir[256]; /* the temporary data directory */
    char base[64]; /* "http://127.0.0.1:PORT" */
} gr_server;

/* Starts a server; with demo != 0 runs `grassroots demo` into the data directory
 * first (the demo accounts and their passwords are in harness.c: gr_demo_password).
 * Aborts the test on failure. */
void gr_server_start(gr_server *s, int demo);
/* SIGTERM, waits, asserts exit status 0, removes the data directory. */
void gr_server_stop(gr_server *s);
/* The fixture of a test group on the demo: gr_setup_demo starts gr_srv with
 * `grassroots demo` loaded (and sets *state to it), gr_teardown_server stops
 * it. Use as cmocka_run_group_tests(tests, gr_setup_demo, gr_teardown_server). */
extern gr_server gr_srv;
int gr_setup_demo(void **state);
int gr_teardown_server(void **state);

/* Runs `grassroots ARGS...` against the server's data directory (--data added);
 * returns the exit status; stdout is captured into out (may be NULL). */
int gr_cli(const gr_server *s, char *out, size_t outlen, const char *const *args);

/* Runs sql with the sqlite3 shell on s's database (to set up what no route does
 * yet, or to count rows): the first column of the first line of its output as
 * an integer, 0 when there is none. Fails the test when sqlite3 does. */
int64_t gr_sql_int(const gr_server *s, const char *sql);

typedef struct gr_resp {
    long status;
    char *body; /* malloc'ed, NUL-terminated */
    size_t body_len;
    json_t *json;  /* parsed body when it is JSON, else NULL */
    char *headers; /* all response headers, malloc'ed */
} gr_resp;

/* A client: keeps cookies (a session) and the CSRF token from the login answer. */
typedef struct gr_client {
    const gr_server *server;
    void *curl;
    char csrf[128];
    char bearer[256];
    char extra[256]; /* one more request header line, e.g. "X-Request-Id: abc" */
} gr_client;

void gr_client_init(gr_client *c, const gr_server *s);
void gr_client_free(gr_client *c);

/* Sends a request. body may be NULL; content_type NULL means application/json
 * when body is set. Adds X-CSRF-Token when the client has one and Authorization
 * when bearer is set. Returns the status; the response is in out (free with
 * gr_resp_free). */
long gr_request(gr_client *c, const char *method, const char *path, const char *content_type,
                const char *body, gr_resp *out);
/* gr_request with a body of len bytes that may hold any byte (a file). */
long gr_request_bin(gr_client *c, const char *method, const char *path, const char *content_type,
                    const void *body, size_t len, gr_resp *out);
/* Convenience: JSON body built from a jansson value (stolen). */
long gr_request_json(gr_client *c, const char *method, const char *path, json_t *body,
                     gr_resp *out);
/* POST /api/v1/auth/login; returns the status and keeps the csrf token. */
long gr_login(gr_client *c, const char *username, const char *password);
void gr_resp_free(gr_resp *r);
/* The value of a response header (case-insensitive), copied into buf, or NULL. */
const char *gr_resp_header(const gr_resp *r, const char *name, char *buf, size_t len);

/* The demo password of a demo account (see auth_demo_load). */
const char *gr_demo_password(const char *username);
/* A new client of gr_srv signed in as the demo account user; fails the test
 * when the login does. */
void gr_login_demo(gr_client *c, const char *user);

/* Asserts r is an RFC 9457 problem+json answer with status (and its members
 * type, title, status, request_id) whose first errors[] entry names field
 * with a reason (field NULL: any errors). */
void gr_assert_problem(const gr_resp *r, long status, const char *field);

/* A GET of path (gr_request without a body). */
long gr_get(gr_client *c, const char *path, gr_resp *r);
/* Sends body with method to path and asserts the answer is a problem with
 * status naming field (as gr_assert_problem); frees the response. */
void gr_expect_problem(gr_client *c, const char *method, const char *path, const char *body,
                       long status, const char *field);
/* Member k of o as an integer (0 when missing) or a string (NULL when missing). */
int64_t gr_jint(const json_t *o, const char *k);
const char *gr_jstr(const json_t *o, const char *k);

/* The scope_org_id of a demo account (from GET /api/v1/auth/me). */
int64_t gr_scope_of(const char *user);
/* The centroid of a grid (one that locates back to that grid) inside
 * (want_in) or outside the org unit community; fails the test when there is
 * none. */
void gr_grid_point(gr_client *c, int64_t community, int want_in, double *lat, double *lon);
/* POSTs body to path and fails the test unless the status is want; the
 * answer's JSON (a new reference, NULL when there is none). */
json_t *gr_post(gr_client *c, const char *path, const char *body, long want);
/* gr_post expecting 201: the id of the record made. */
int64_t gr_create(gr_client *c, const char *path, const char *body);

#endif
