/*
 * The HTTP layer on CivetWeb: a router of method + path pattern to handler,
 * request and response helpers, RFC 9457 problem+json errors, and the server
 * (access log, metrics, security headers, static files, graceful shutdown).
 *
 * A handler gets an http_req, answers with one of the http_send_* calls and
 * returns 0, or returns a negative code from base/err.h with req->err filled,
 * and the layer answers with problem+json. Everything a handler allocates for
 * the request comes from req->arena, freed when the response has been sent.
 */
#ifndef GR_HTTP_HTTP_H
#define GR_HTTP_HTTP_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsonv.h"
#include "db/db.h"

#include <jansson.h>
#include <stdint.h>

struct mg_connection;
struct org_ctx;
struct auth_ctx;
struct catalog_ctx;
struct notify_ctx;
struct cases_ctx;
typedef struct http_router http_router;

/*
 * The application context every handler sees as req->ctx: the storage and the
 * state of each module, forward-declared so that modules stay independent.
 * Owned by main (src/app/app.c).
 */
typedef struct gr_ctx {
    db *db;
    const char *data_dir;
    struct org_ctx *org;         /* src/org: the org tree's point -> grid index */
    struct auth_ctx *auth;       /* src/auth: keys, throttling */
    struct catalog_ctx *catalog; /* src/catalog: the loaded working-day calendar */
    struct cases_ctx *cases;     /* src/cases: the deadline scheduler */
    struct notify_ctx *notify;   /* src/notify: the delivery thread */
    struct eval_ctx *eval;       /* src/eval: the evaluation sync thread */
    unsigned char field_key[32]; /* XChaCha20-Poly1305 key for personal fields at rest */
    unsigned char index_key[32]; /* BLAKE2b key for blind indexes and token hashes */
} gr_ctx;
typedef struct http_server http_server;

/* Who is asking: filled by the authentication hook. */
typedef struct http_principal {
    int64_t user_id;          /* 0: anonymous */
    int64_t session_id;       /* cookie session, or 0 */
    int64_t token_id;         /* API token (Bearer), or 0 */
    const char *username;     /* NULL when anonymous */
    const char *role;         /* "anonymous" when nobody is signed in */
    int64_t scope_org_id;     /* root of the subtree the user works in; 0: none */
    int64_t department_id;    /* the user's department (处置人员), or 0 */
    const char *token_scopes; /* API tokens: space-separated actions; NULL otherwise */
} http_principal;

#define HTTP_MAX_PARAMS 6

typedef struct http_req {
    struct mg_connection *conn;
    arena *arena;
    db *db;
    gr_ctx *ctx; /* the application context given to http_server_start */
    http_server *server;
    const char *method;
    const char *path;   /* decoded, without the query string */
    const char *query;  /* raw query string or NULL */
    const char *route;  /* the matched pattern, for logs and metrics */
    int route_index;    /* -1 when no route matched */
    const char *action; /* the policy action of the route */
    const char *remote_addr;
    int is_tls;
    char request_id[40];
    http_principal who;
    int nparams;
    const char *param_names[HTTP_MAX_PARAMS];
    const char *param_values[HTTP_MAX_PARAMS];
    int64_t param_ints[HTTP_MAX_PARAMS];
    gr_err err;
    int status; /* the status sent; 0 until then */
    size_t body_limit;
    char *extra_headers; /* "Name: value\r\n" lines added by the handler */
} http_req;

typedef int (*http_handler)(http_req *req);

/* ---- routing ---- */

http_router *http_router_new(void);
void http_router_free(http_router *r);
/* pattern: "/api/v1/org/units/{id:int}"; segments "{name:int}" (a positive
 * 64-bit integer) or "{name:str}" (1-128 characters, no '/'). action names
 * the permission the policy decides ("public" for everyone). */
void http_route(http_router *r, const char *method, const char *pattern, http_handler fn,
                const char *action);

typedef struct http_route_info {
    const char *method;
    const char *pattern;
    const char *action;
} http_route_info;
/* Walks every route (for the policy test and the docs check). */
size_t http_router_list(const http_router *r, http_route_info *out, size_t max);
size_t http_router_count(const http_router *r);

enum { HTTP_MATCH = 0, HTTP_NO_ROUTE = -1, HTTP_NO_METHOD = -2 };
/* Matches method and path; fills req's route, action, fn and params, or, for
 * HTTP_NO_METHOD, allow with the methods the path accepts ("GET, POST"). */
int http_router_match(const http_router *r, http_req *req, http_handler *fn, char *allow,
                      size_t allow_len);

/* ---- request helpers ---- */

const char *http_param(const http_req *req, const char *name);
int64_t http_param_int(const http_req *req, const char *name);
const char *http_header(const http_req *req, const char *name);
/* A query-string value, decoded (arena-owned), or NULL when absent. */
const char *http_query(http_req *req, const char *name);
/* Parses an integer query parameter within [min,max]; def when absent.
 * GR_EINVAL naming the parameter otherwise. */
int http_query_int(http_req *req, const char *name, int64_t min, int64_t max, int64_t def,
                   int64_t *out);
/* A required finite decimal number from the query string (plain digits,
 * sign, point and exponent: no "inf", no hex); GR_EINVAL naming it otherwise. */
int http_query_number(http_req *req, const char *name, double *out);
/* Cursor pagination: ?limit= (1..max, default def) and ?after= (an id > 0). */
int http_page(http_req *req, int64_t def, int64_t max, int64_t *limit, int64_t *after);

/* Reads and parses a JSON body: 415 unless Content-Type is application/json,
 * 413 above req->body_limit, 400 with line and column when malformed. */
int http_read_json(http_req *req, json_t **out);

/* http_read_json, then jv_check against fields: the body a handler may trust.
 * On failure *out is NULL and req->err names the field. */
int http_read_body(http_req *req, const jv_field *fields, size_t nfields, json_t **out);

/* Decodes a URL-encoded string (query or form); returns length or -1 if bad. */
int http_url_decode(const char *src, size_t len, char *dst, size_t dst_len, int is_form);

/* ---- responses ---- */

void http_add_header(http_req *req, const char *name, const char *value);
/* Sends body (stolen) as JSON with status. Always returns 0. */
int http_send_json(http_req *req, int status, json_t *body);
/* JSON for a stored epoch-ms time: ISO 8601 UTC, or null when ms <= 0 (unset). */
json_t *http_json_time(int64_t ms);
/* JSON for an optional row id: the integer, or null when id <= 0 (unset). */
json_t *http_json_id(int64_t id);
/* A page of a cursor-paginated list: {"items": items, "next_after": last id or null}.
 * more says whether a next page may exist. Steals items. */
int http_send_page(http_req *req, json_t *items, int more, int64_t last_id);
/* A page built from an array of n records of size bytes, each turned into
 * JSON by to_json. */
int http_send_items(http_req *req, const void *v, size_t n, size_t size,
                    json_t *(*to_json)(const void *item), int more, int64_t last_id);
int http_send_text(http_req *req, int status, const char *content_type, const char *body,
                   size_t len);
int http_send_empty(http_req *req, int status);
/* Streams the regular file at path (never loaded whole) with type and
 * Cache-Control cache_control (NULL: no-store). etag (the bare value, quoted
 * here; may be NULL) is sent as ETag, and a request whose If-None-Match names
 * it (or *) gets 304 without a body. GR_ENOTFOUND (nothing sent) when the
 * file cannot be opened. */
int http_send_file(http_req *req, int status, const char *type, const char *path,
                   const char *cache_control, const char *etag);
/* The problem+json document for req->err (or for code if err is unset). */
int http_send_problem(http_req *req, int code);
int http_status_for(int code);

/* ---- the server ---- */

typedef struct http_hooks {
    /* Fills req->who from the cookie or the Bearer token; 0, or an error
     * (401 for a bad token, 403 for a failed CSRF check). */
    int (*authenticate)(http_req *req);
    /* Decides req->action for req->who: 0, GR_EAUTH or GR_EFORBIDDEN. */
    int (*authorize)(http_req *req);
    /* Called once per request after the response, e.g. to free caches. */
    void (*after)(http_req *req);
} http_hooks;

typedef struct http_config {
    const char *listen;   /* "127.0.0.1:8080" */
    int threads;          /* worker threads */
    const char *web_root; /* built web files, or NULL */
    size_t body_limit;    /* bytes; default 1 MiB */
    const char *tls_cert; /* PEM with key, or NULL */
} http_config;

int http_server_start(http_server **out, const http_config *cfg, http_router *router, gr_ctx *ctx,
                      const http_hooks *hooks, gr_err *err);
/* The port actually bound (useful with port 0). */
int http_server_port(const http_server *s);
/* Stops accepting, waits for in-flight requests, and frees the server. */
void http_server_stop(http_server *s);

/* Prometheus text for /metrics: requests by route and status, latency, writer. */
void http_metrics_render(http_server *s, buf *out);
/* Answers GET /metrics: a handler the app registers. */
int http_handle_metrics(http_req *req);

#endif
