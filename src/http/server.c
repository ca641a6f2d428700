/*
 * The server: CivetWeb with our router behind /api, /open311 and /metrics,
 * static files of the web build for everything else, problem+json errors,
 * request ids, the access log, metrics and graceful shutdown.
 */
#include "http/http.h"
#include "base/log.h"
#include "base/timeutil.h"

#include <civetweb.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BODY_LIMIT (1024 * 1024)

/* Sent with every answer of the server: no framing, no sniffing, no referrer
 * leaks, and scripts only from our own origin. */
#define SECURITY_HEADERS                                                                           \
    "X-Content-Type-Options: nosniff\r\n"                                                          \
    "Referrer-Policy: strict-origin-when-cross-origin\r\n"                                         \
    "X-Frame-Options: DENY\r\n"                                                                    \
    "Content-Security-Policy: default-src 'self'; img-src 'self' data: blob: https:; "             \
    "style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; "                    \
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

/* Status codes counted per route in /metrics; anything else is "other". */
static const int counted_status[] = {200, 201, 204, 304, 400, 401, 403, 404,
                                     405, 409, 413, 415, 429, 500, 503};
#define NSTATUS (sizeof(counted_status) / sizeof(counted_status[0]))

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};

struct http_server {
    struct mg_context *mg;
    http_router *router;
    db *db;
    http_hooks hooks;
    gr_ctx *ctx;
    size_t body_limit;
    int port;
    size_t nroutes;
    _Atomic uint64_t *counts; /* (nroutes + 1) × (NSTATUS + 1) */
    metrics_hist latency;
};

static _Thread_local arena *thread_arena;

int http_status_for(int code)
{
    switch (code) {
    case GR_EINVAL:
        return 400;
    case GR_EAUTH:
        return 401;
    case GR_EFORBIDDEN:
        return 403;
    case GR_ENOTFOUND:
        return 404;
    case GR_ENOMETHOD:
        return 405;
    case GR_EEXIST:
    case GR_ECONFLICT:
        return 409;
    case GR_ETOOBIG:
        return 413;
    case GR_EMEDIA:
        return 415;
    case GR_ETHROTTLED:
        return 429;
    case GR_EUNAVAIL:
        return 503;
    default:
        return 500;
    }
}

static const char *reason(int status)
{
    const char *r = mg_get_response_code_text(NULL, status);

    return r ? r : "Error";
}

void http_add_header(http_req *req, const char *name, const char *value)
{
    req->extra_headers = arena_printf(req->arena, "%s%s: %s\r\n",
                                      req->extra_headers ? req->extra_headers : "", name, value);
}

enum { SEND_JOIN_MAX = 64 * 1024 };

int http_send_text(http_req *req, int status, const char *content_type, const char *body,
                   size_t len)
{
    int head = strcmp(req->method, "HEAD") == 0;
    const char *h = arena_printf(req->arena,
                                 "HTTP/1.1 %d %s\r\n"
                                 "Content-Type: %s\r\n"
                                 "Content-Length: %zu\r\n"
                                 "Cache-Control: no-store\r\n"
                                 "X-Request-Id: %s\r\n"
                                 "%s"
                                 "%s\r\n\r\n",
                                 status, reason(status), content_type, len, req->request_id,
                                 req->extra_headers ? req->extra_headers : "", SECURITY_HEADERS);
    size_t hlen = strlen(h);

    req->status = status;
    if (head)
        len = 0;
    /* Head and body in one send when the body is small (nearly every API
     * answer): one system call and one segment, not two. */
    if (len && len <= SEND_JOIN_MAX) {
        char *all = arena_alloc(req->arena, hlen + len);

        memcpy(all, h, hlen);
        memcpy(all + hlen, body, len);
        mg_write(req->conn, all, hlen + len);
        return 0;
    }
    mg_write(req->conn, h, hlen);
    if (len)
        mg_write(req->conn, body, len);
    return 0;
}

int http_send_empty(http_req *req, int status)
{
    req->status = status;
    mg_printf(req->conn,
              "HTTP/1.1 %d %s\r\n"
              "Content-Length: 0\r\n"
              "Cache-Control: no-store\r\n"
              "X-Request-Id: %s\r\n"
              "%s"
              "%s\r\n\r\n",
              status, reason(status), req->request_id, req->extra_headers ? req->extra_headers : "",
              SECURITY_HEADERS);
    return 0;
}

/* Whether an If-None-Match value (a list of entity tags, or *) names etag.
 * The comparison is weak, as RFC 9110 asks for If-None-Match. */
static int etag_listed(const char *list, const char *etag)
{
    size_t n = strlen(etag);
    const char *p = list;

    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (*p == '"' && strncmp(p + 1, etag, n) == 0 && p[n + 1] == '"')
            return 1;
        p = strchr(p, ',');
    }
    return 0;
}

int http_send_file(http_req *req, int status, const char *type, const char *path,
                   const char *cache_control, const char *etag)
{
    enum { CHUNK = 64 * 1024 };
    int head = strcmp(req->method, "HEAD") == 0;
    const char *tag = etag ? arena_printf(req->arena, "ETag: \"%s\"\r\n", etag) : "";
    const char *cc = cache_control ? cache_control : "no-store";
    struct stat sb;
    char *chunk;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0)
            close(fd);
        return err_set(&req->err, GR_ENOTFOUND, "", "no such file");
    }
    if (etag && etag_listed(http_header(req, "If-None-Match"), etag)) {
        close(fd);
        req->status = 304;
        mg_printf(req->conn,
                  "HTTP/1.1 304 %s\r\n%sCache-Control: %s\r\nX-Request-Id: %s\r\n%s%s\r\n\r\n",
                  reason(304), tag, cc, req->request_id,
                  req->extra_headers ? req->extra_headers : "", SECURITY_HEADERS);
        return 0;
    }
    req->status = status;
    mg_printf(req->conn,
              "HTTP/1.1 %d %s\r\n"
              "Content-Type: %s\r\n"
              "Content-Length: %lld\r\n"
              "Cache-Control: %s\r\n"
              "%s"
              "X-Request-Id: %s\r\n"
              "%s"
              "%s\r\n\r\n",
              status, reason(status), type, (long long)sb.st_size, cc, tag, req->request_id,
              req->extra_headers ? req->extra_headers : "", SECURITY_HEADERS);
    chunk = head ? NULL : arena_alloc(req->arena, CHUNK);
    while (chunk) {
        n = read(fd, chunk, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            log_msg(LOG_ERROR, "http.file", "request %s: read failed: %s", req->request_id,
                    strerror(errno));
        /* A client that went away ends the copy too. */
        if (n <= 0 || mg_write(req->conn, chunk, (size_t)n) <= 0)
            break;
    }
    close(fd);
    return 0;
}

json_t *http_json_time(int64_t ms)
{
    char t[40];

    if (ms <= 0)
        return json_null();
    time_format_iso(ms, t, sizeof(t));
    return json_string(t);
}

json_t *http_json_id(int64_t id)
{
    return id > 0 ? json_integer(id) : json_null();
}

int http_send_json(http_req *req, int status, json_t *body)
{
    /* 12 significant digits: coordinates read as people expect them (116.44,
     * not 116.43999999999999773) and still resolve 1e-9 degrees. */
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
    int rc;

    json_decref(body);
    if (!text)
        return err_set(&req->err, GR_EINTERNAL, "", "cannot encode the response");
    rc = http_send_text(req, status, "application/json; charset=utf-8", text, strlen(text));
    free(text);
    return rc;
}

int http_send_page(http_req *req, json_t *items, int more, int64_t last_id)
{
    return http_send_json(req, 200,
                          json_pack("{s:o, s:o}", "items", items, "next_after",
                                    more ? json_integer(last_id) : json_null()));
}

int http_send_items(http_req *req, const void *v, size_t n, size_t size,
                    json_t *(*to_json)(const void *item), int more, int64_t last_id)
{
    json_t *items = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(items, to_json((const char *)v + i * size));
    return http_send_page(req, items, more, last_id);
}

int http_send_problem(http_req *req, int code)
{
    int status;
    json_t *p;
    char *text;

    if (req->err.code == 0 || (code && req->err.code != code))
        err_set(&req->err, code, "", "%s",
                code == GR_EINTERNAL ? "" : reason(http_status_for(code)));
    status = http_status_for(req->err.code);
    p = json_pack("{s:o, s:s, s:i, s:s}", "type",
                  json_sprintf("urn:grassroots:problem:%s", err_name(req->err.code)), "title",
                  reason(status), "status", status, "request_id", req->request_id);
    if (status != 500) {
        json_object_set_new(
            p, "detail",
            json_string(req->err.field[0]
                            ? arena_printf(req->arena, "%s: %s", req->err.field, req->err.msg)
                            : req->err.msg));
        if (req->err.field[0])
            json_object_set_new(
                p, "errors",
                json_pack("[{s:s, s:s}]", "field", req->err.field, "reason", req->err.msg));
    } else {
        /* Internals stay in the log; people get the request id to quote. */
        json_object_set_new(p, "detail",
                            json_string("an internal error occurred; quote the request id"));
    }
    text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    if (!text)
        return 0;
    http_send_text(req, status, "application/problem+json", text, strlen(text));
    free(text);
    return 0;
}

/* ---- metrics ---- */

static size_t status_slot(int status)
{
    size_t i;

    for (i = 0; i < NSTATUS; i++)
        if (counted_status[i] == status)
            return i;
    return NSTATUS;
}

static void count_request(http_server *s, const http_req *req, double seconds)
{
    size_t row = req->route_index >= 0 ? (size_t)req->route_index : s->nroutes;

    atomic_fetch_add_explicit(&s->counts[row * (NSTATUS + 1) + status_slot(req->status)], 1,
                              memory_order_relaxed);
    metrics_hist_observe(&s->latency, seconds);
}

void http_metrics_render(http_server *s, buf *out)
{
    http_route_info *routes = calloc(s->nroutes + 1, sizeof(*routes));
    db_stats ds;
    size_t r, k;

    if (!routes)
        abort();
    http_router_list(s->router, routes, s->nroutes);
    buf_puts(out, "# HELP grassroots_http_requests_total Requests answered, by route and status.\n"
                  "# TYPE grassroots_http_requests_total counter\n");
    for (r = 0; r <= s->nroutes; r++) {
        for (k = 0; k <= NSTATUS; k++) {
            uint64_t v = atomic_load(&s->counts[r * (NSTATUS + 1) + k]);
            char status[8];
            if (!v)
                continue;
            if (k < NSTATUS)
                snprintf(status, sizeof(status), "%d", counted_status[k]);
            else
                snprintf(status, sizeof(status), "other");
            buf_printf(out,
                       "grassroots_http_requests_total{method=\"%s\",route=\"%s\",status=\"%s\"}"
                       " %llu\n",
                       r < s->nroutes ? routes[r].method : "",
                       r < s->nroutes ? routes[r].pattern : "unmatched", status,
                       (unsigned long long)v);
        }
    }
    free(routes);
    buf_puts(out, "# HELP grassroots_http_request_duration_seconds Time to answer a request.\n"
                  "# TYPE grassroots_http_request_duration_seconds histogram\n");
    metrics_hist_render(&s->latency, "grassroots_http_request_duration_seconds", "", out);
    db_get_stats(s->db, &ds);
    buf_printf(out,
               "# HELP grassroots_db_commits_total Transactions committed by the writer.\n"
               "# TYPE grassroots_db_commits_total counter\n"
               "grassroots_db_commits_total %llu\n"
               "# HELP grassroots_db_writes_total Write functions run by the writer.\n"
               "# TYPE grassroots_db_writes_total counter\n"
               "grassroots_db_writes_total %llu\n"
               "# HELP grassroots_db_failed_writes_total Write functions that failed.\n"
               "# TYPE grassroots_db_failed_writes_total counter\n"
               "grassroots_db_failed_writes_total %llu\n",
               (unsigned long long)ds.commits, (unsigned long long)ds.writes,
               (unsigned long long)ds.failed_writes);
    buf_puts(out, "# HELP grassroots_db_batch_size Writes per group commit.\n"
                  "# TYPE grassroots_db_batch_size histogram\n");
    metrics_hist_render(ds.batch_size, "grassroots_db_batch_size", "", out);
    buf_puts(out, "# HELP grassroots_db_commit_seconds Time to run and commit one batch.\n"
                  "# TYPE grassroots_db_commit_seconds histogram\n");
    metrics_hist_render(ds.commit_seconds, "grassroots_db_commit_seconds", "", out);
}

int http_handle_metrics(http_req *req)
{
    buf out = BUF_INIT;

    http_metrics_render(req->server, &out);
    http_send_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data ? out.data : "",
                   out.len);
    buf_free(&out);
    return 0;
}

/* ---- the request path ---- */

static void set_request_id(http_req *req)
{
    const char *given = mg_get_header(req->conn, "X-Request-Id");
    unsigned char raw[12];
    size_t i, n;

    /* Keep a caller's id when it is short and plain, so a proxy's id carries
     * through to our log; otherwise make one. */
    if (given && (n = strlen(given)) > 0 && n < sizeof(req->request_id)) {
        for (i = 0; i < n; i++) {
            char c = given[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.'))
                break;
        }
        if (i == n) {
            memcpy(req->request_id, given, n + 1);
            return;
        }
    }
    randombytes_buf(raw, sizeof(raw));
    sodium_bin2hex(req->request_id, sizeof(req->request_id), raw, sizeof(raw));
}

/* Method names are tokens; anything else is logged as "other" so the line
 * stays valid JSON without escaping. */
static const char *safe_method(const char *m)
{
    const char *p;

    for (p = m; *p; p++)
        if (*p < 'A' || *p > 'Z')
            return "other";
    return p - m > 0 && p - m < 16 ? m : "other";
}

static void access_log(const http_req *req, double seconds)
{
    char fields[512];

    if (log_get_level() > LOG_INFO)
        return;
    /* The route pattern, never the raw path or query: those may carry
     * personal data (a phone number, an ID number). Request ids and route
     * patterns contain no characters that need escaping. */
    snprintf(fields, sizeof(fields),
             "\"request_id\":\"%s\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,"
             "\"ms\":%.3f,\"user_id\":%lld",
             req->request_id, safe_method(req->method), req->route ? req->route : "unmatched",
             req->status, seconds * 1000.0, (long long)req->who.user_id);
    log_fields(LOG_INFO, "http.access", fields);
    if (req->status >= 500 && req->err.code)
        log_msg(LOG_ERROR, "http.error", "request %s: %s", req->request_id, req->err.msg);
}

static int api_handler(struct mg_connection *conn, void *cbdata)
{
    http_server *s = cbdata;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int64_t t0 = time_mono_ns();
    http_req req;
    http_handler fn = NULL;
    char allow[128];
    int rc;

    if (!thread_arena)
        thread_arena = arena_new();
    memset(&req, 0, sizeof(req));
    req.conn = conn;
    req.arena = thread_arena;
    req.db = s->db;
    req.ctx = s->ctx;
    req.server = s;
    req.method = ri->request_method;
    req.path = ri->local_uri ? ri->local_uri : "/";
    req.query = ri->query_string;
    req.remote_addr = ri->remote_addr;
    req.is_tls = ri->is_ssl;
    req.route_index = -1;
    req.body_limit = s->body_limit;
    req.who.role = "anonymous";
    set_request_id(&req);

    rc = http_router_match(s->router, &req, &fn, allow, sizeof(allow));
    if (rc == HTTP_NO_ROUTE) {
        err_set(&req.err, GR_ENOTFOUND, "", "no such resource: %s", req.path);
        http_send_problem(&req, GR_ENOTFOUND);
        goto out;
    }
    if (rc == HTTP_NO_METHOD) {
        http_add_header(&req, "Allow", allow);
        err_set(&req.err, GR_ENOMETHOD, "", "%s is not allowed here; allowed: %s", req.method,
                allow);
        http_send_problem(&req, GR_ENOMETHOD);
        goto out;
    }
    /* One snapshot for the request's reads (db.h says why); a write ends it. */
    if (s->db)
        db_read_begin(s->db);
    rc = s->hooks.authenticate ? s->hooks.authenticate(&req) : 0;
    if (!rc && s->hooks.authorize)
        rc = s->hooks.authorize(&req);
    if (!rc)
        rc = fn(&req);
    if (rc < 0 && req.status == 0)
        http_send_problem(&req, rc);
    else if (req.status == 0)
        http_send_problem(&req, GR_EINTERNAL);
out : {
    double secs = (double)(time_mono_ns() - t0) / 1e9;
    count_request(s, &req, secs);
    access_log(&req, secs);
}
    if (s->db)
        db_read_end(s->db);
    if (s->hooks.after)
        s->hooks.after(&req);
    arena_reset(thread_arena);
    return req.status ? req.status : 500;
}

static int log_message(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_msg(LOG_WARN, "http.civetweb", "%s", message);
    return 1;
}

static void end_request(const struct mg_connection *conn, int status)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *uri = ri && ri->local_uri ? ri->local_uri : "";

    /* API requests are logged by api_handler; this covers static files. */
    if (strncmp(uri, "/api", 4) == 0 || strncmp(uri, "/open311", 8) == 0 ||
        strncmp(uri, "/metrics", 8) == 0 || log_get_level() > LOG_INFO)
        return;
    log_obj(LOG_INFO, "http.static",
            json_pack("{s:s, s:s, s:i}", "method", ri ? ri->request_method : "", "route", "static",
                      "status", status));
}

static void exit_thread(const struct mg_context *ctx, int thread_type, void *user)
{
    (void)ctx;
    (void)thread_type;
    (void)user;
    arena_free(thread_arena);
    thread_arena = NULL;
}

int http_server_start(http_server **out, const http_config *cfg, http_router *router, gr_ctx *ctx,
                      const http_hooks *hooks, gr_err *err)
{
    http_server *s = calloc(1, sizeof(*s));
    struct mg_callbacks cb;
    struct mg_server_port ports[4];
    const char *opts[40];
    char threads[16], ports_opt[160];
    size_t n = 0;
    int rc = 0;

    if (!s)
        abort();
    mg_init_library(cfg->tls_cert ? MG_FEATURES_TLS : 0);
    s->router = router;
    s->db = ctx->db;
    s->hooks = *hooks;
    s->ctx = ctx;
    s->body_limit = cfg->body_limit ? cfg->body_limit : DEFAULT_BODY_LIMIT;
    s->nroutes = http_router_count(router);
    s->counts = calloc((s->nroutes + 1) * (NSTATUS + 1), sizeof(*s->counts));
    if (!s->counts)
        abort();
    metrics_hist_init(&s->latency, latency_bounds, sizeof(latency_bounds) / sizeof(double));

    snprintf(threads, sizeof(threads), "%d", cfg->threads > 0 ? cfg->threads : 8);
    snprintf(ports_opt, sizeof(ports_opt), "%s%s", cfg->listen, cfg->tls_cert ? "s" : "");
    opts[n++] = "listening_ports";
    opts[n++] = ports_opt;
    opts[n++] = "num_threads";
    opts[n++] = threads;
    opts[n++] = "enable_keep_alive";
    opts[n++] = "yes";
    opts[n++] = "tcp_nodelay";
    opts[n++] = "1";
    opts[n++] = "request_timeout_ms";
    opts[n++] = "30000";
    opts[n++] = "listen_backlog";
    opts[n++] = "1024";
    opts[n++] = "connection_queue";
    opts[n++] = "1024";
    opts[n++] = "additional_header";
    opts[n++] = SECURITY_HEADERS;
    opts[n++] = "enable_directory_listing";
    opts[n++] = "no";
    if (cfg->web_root) {
        opts[n++] = "document_root";
        opts[n++] = cfg->web_root;
        /* Built assets have content hashes in their names; index.html is
         * revalidated through its ETag. */
        opts[n++] = "static_file_max_age";
        opts[n++] = "3600";
    }
    if (cfg->tls_cert) {
        opts[n++] = "ssl_certificate";
        opts[n++] = cfg->tls_cert;
    }
    opts[n] = NULL;

    memset(&cb, 0, sizeof(cb));
    cb.log_message = log_message;
    cb.end_request = end_request;
    cb.exit_thread = exit_thread;
    s->mg = mg_start(&cb, s, opts);
    if (!s->mg) {
        rc = err_set(err, GR_EINVAL, "listen", "cannot listen on %s (in use, or not an address)",
                     cfg->listen);
        goto out;
    }
    mg_set_request_handler(s->mg, "/api", api_handler, s);
    mg_set_request_handler(s->mg, "/open311", api_handler, s);
    mg_set_request_handler(s->mg, "/metrics", api_handler, s);
    memset(ports, 0, sizeof(ports));
    if (mg_get_server_ports(s->mg, 4, ports) > 0)
        s->port = ports[0].port;
    *out = s;
out:
    if (rc) {
        free(s->counts);
        free(s);
    }
    return rc;
}

int http_server_port(const http_server *s)
{
    return s->port;
}

void http_server_stop(http_server *s)
{
    if (!s)
        return;
    /* mg_stop closes the listening sockets and joins the workers, each of
     * which finishes the request it is serving. */
    mg_stop(s->mg);
    mg_exit_library();
    free(s->counts);
    free(s);
}
