/*
 * The HTTP side of Open311 GeoReport v2 (docs/open311.md). Paths carry the
 * format as a suffix ("services.xml"), so each route takes the last segment
 * whole and splits the suffix here. Every answer, errors included, is in the
 * spec's format; a handler therefore sends its own errors and returns 0.
 */
#include "open311/open311_model.h"

#include "auth/auth.h"
#include "base/timeutil.h"

#include <civetweb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { FMT_XML = 0, FMT_JSON } o311_fmt;

#define SPEC_URL  "http://wiki.open311.org/GeoReport_v2"
#define CHANGESET "2026-11-27T00:00:00Z"

/* "services.json" -> stem "services", FMT_JSON. -1 without a known suffix
 * (*fmt is then XML, the format the spec requires). */
static int name_split(arena *a, const char *seg, const char **stem, o311_fmt *fmt)
{
    const char *dot = seg ? strrchr(seg, '.') : NULL;

    *fmt = FMT_XML;
    *stem = seg ? seg : "";
    if (!dot || dot == seg)
        return -1;
    if (strcmp(dot, ".json") == 0)
        *fmt = FMT_JSON;
    else if (strcmp(dot, ".xml") != 0)
        return -1;
    *stem = arena_strndup(a, seg, (size_t)(dot - seg));
    return 0;
}

/* The stem of the route's file segment, or NULL without a known suffix. */
static const char *file_stem(http_req *req, o311_fmt *fmt)
{
    const char *stem;

    return name_split(req->arena, http_param(req, "file"), &stem, fmt) == 0 ? stem : NULL;
}

#define BAD_SUFFIX "the format must be .xml or .json"

/* Sends v (stolen) as the document root in fmt. */
static int send_doc(http_req *req, o311_fmt fmt, int status, const char *root, json_t *v)
{
    buf b = BUF_INIT;
    char *text;
    int rc;

    if (fmt == FMT_JSON) {
        text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(12));
        rc = http_send_text(req, status, "application/json; charset=utf-8", text, strlen(text));
        free(text);
    } else {
        open311_xml_write(&b, root, v);
        rc = http_send_text(req, status, "text/xml; charset=utf-8", b.data, b.len);
        buf_free(&b);
    }
    json_decref(v);
    return rc;
}

/* The spec's error list with one error. */
static int send_error(http_req *req, o311_fmt fmt, int status, const char *description)
{
    return send_doc(req, fmt, status, "errors",
                    json_pack("[{s:i, s:s}]", "code", status, "description", description));
}

/* A model error: 404 for what is not found, 403 for keys, 400 for the rest
 * (the spec's "anything else"), 500 with no detail for our own faults. */
static int send_err(http_req *req, o311_fmt fmt, int rc, const gr_err *e)
{
    int status = rc == GR_ENOTFOUND ? 404 : rc == GR_EFORBIDDEN || rc == GR_EAUTH ? 403 : 400;
    const char *desc;

    if (rc == GR_EINTERNAL)
        return send_error(req, fmt, 500, "internal error: the request was not completed");
    if (rc == GR_EUNAVAIL)
        return send_error(req, fmt, 503, e->msg);
    desc = e->field[0] ? arena_printf(req->arena, "%s: %s", e->field, e->msg)
                       : arena_strdup(req->arena, e->msg);
    return send_error(req, fmt, status, desc);
}

/* A query argument; empty counts as absent, as the spec asks. */
static const char *arg(http_req *req, const char *name)
{
    const char *v = http_query(req, name);

    return v && *v ? v : NULL;
}

static db_conn *reader(http_req *req, o311_fmt fmt)
{
    db_conn *c = db_reader(req->db);

    if (!c)
        send_error(req, fmt, 503, "the database is not available");
    return c;
}

/* A reader and the services: what most handlers start with. */
typedef struct svc_set {
    db_conn *c;
    o311_service *v;
    size_t n;
} svc_set;

/* 0, or -1 when the error has been sent. */
static int svc_open(http_req *req, o311_fmt fmt, svc_set *s)
{
    int rc;

    s->c = reader(req, fmt);
    if (!s->c)
        return -1;
    rc = o311_services_load(s->c, req->arena, &s->v, &s->n, &req->err);
    if (rc) {
        send_err(req, fmt, rc, &req->err);
        return -1;
    }
    return 0;
}

/* ---- discovery ---- */

static int send_discovery(http_req *req, o311_fmt fmt)
{
    const char *host = http_header(req, "Host");
    char *url = arena_printf(req->arena, "%s://%s/open311/v2", req->is_tls ? "https" : "http",
                             host ? host : "localhost");
    json_t *d =
        json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s, s]}]}", "changeset", CHANGESET,
                  "contact", "the operator of this Grassroots deployment", "key_service",
                  "an API token with the scope case.report, issued by an administrator "
                  "(POST /api/v1/auth/tokens); send it as api_key",
                  "endpoints", "specification", SPEC_URL, "url", url, "changeset", CHANGESET,
                  "type", "production", "formats", "text/xml", "application/json");

    return send_doc(req, fmt, 200, "discovery", d);
}

static int handle_root_file(http_req *req)
{
    o311_fmt fmt;
    const char *stem = file_stem(req, &fmt);

    if (stem && strcmp(stem, "discovery") == 0)
        return send_discovery(req, fmt);
    return send_error(req, fmt, 404, "no such resource: see /open311/discovery.xml");
}

/* ---- services ---- */

static int send_services(http_req *req, o311_fmt fmt)
{
    svc_set sv;
    json_t *list;
    size_t i;

    if (svc_open(req, fmt, &sv))
        return 0;
    list = json_array();
    for (i = 0; i < sv.n; i++)
        if (sv.v[i].active)
            json_array_append_new(list, o311_service_json(&sv.v[i]));
    return send_doc(req, fmt, 200, "services", list);
}

static int handle_service_definition(http_req *req)
{
    o311_fmt fmt;
    const char *code = file_stem(req, &fmt);
    const o311_service *s;
    svc_set sv;

    if (!code)
        return send_error(req, fmt, 400, BAD_SUFFIX);
    if (svc_open(req, fmt, &sv))
        return 0;
    s = o311_service_by_code(sv.v, sv.n, code);
    if (!s || !s->active)
        return send_error(req, fmt, 404,
                          arena_printf(req->arena, "service_code %.20s not found", code));
    return send_doc(req, fmt, 200, "service_definition", o311_definition_json(s));
}

/* ---- requests ---- */

/* Splits a comma-separated argument into at most max non-empty items. */
static size_t list_split(arena *a, const char *s, const char **out, size_t max)
{
    char *copy = arena_strdup(a, s), *save = NULL, *tok;
    size_t n = 0;

    for (tok = strtok_r(copy, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save))
        if (*tok)
            out[n++] = tok;
    return n;
}

static int send_requests(http_req *req, o311_fmt fmt, case_rec *recs, size_t n, o311_service *sv,
                         size_t ns, int ext)
{
    json_t *list = json_array();
    size_t i;

    for (i = 0; i < n; i++)
        json_array_append_new(
            list,
            o311_request_json(&recs[i], o311_service_by_id(sv, ns, recs[i].category_id), ext));
    return send_doc(req, fmt, 200, "service_requests", list);
}

/* page and page_size (the community extension): offset and size. */
static int page_args(http_req *req, o311_query *q)
{
    int64_t page;
    int rc = http_query_int(req, "page", 1, 1000000, 1, &page);

    if (!rc)
        rc = http_query_int(req, "page_size", 1, O311_PAGE_MAX, O311_PAGE_MAX, &q->page_size);
    if (!rc)
        q->offset = (page - 1) * q->page_size;
    return rc;
}

static int extensions_on(http_req *req)
{
    const char *e = arg(req, "extensions");

    return e && strcasecmp(e, "true") == 0;
}

/* service_request_id overrides every other argument. */
static int requests_by_id(http_req *req, o311_fmt fmt, db_conn *c, const char *ids,
                          o311_service *sv, size_t ns)
{
    const char **codes = arena_alloc(req->arena, O311_PAGE_MAX * sizeof(*codes));
    case_rec *recs = arena_alloc(req->arena, O311_PAGE_MAX * sizeof(*recs));
    size_t n = list_split(req->arena, ids, codes, O311_PAGE_MAX), i, k = 0;
    int rc;

    for (i = 0; i < n; i++) {
        rc = case_get_code(c, req->arena, codes[i], &recs[k], &req->err);
        if (rc == GR_ENOTFOUND || (!rc && !recs[k].is_public))
            continue;
        if (rc)
            return send_err(req, fmt, rc, &req->err);
        k++;
    }
    return send_requests(req, fmt, recs, k, sv, ns, extensions_on(req));
}

/* The status argument: "open", "closed" or both, comma-separated. */
static int status_mask(arena *a, const char *arg_status, uint32_t *mask, gr_err *err)
{
    const char *items[8];
    size_t n = arg_status ? list_split(a, arg_status, items, 8) : 0, i;
    int s, known;

    *mask = 0;
    for (i = 0; i < n; i++) {
        known = 0;
        for (s = 0; s < CS_NSTATES; s++)
            if (strcmp(open311_status((case_state)s), items[i]) == 0) {
                *mask |= 1u << s;
                known = 1;
            }
        if (!known)
            return err_set(err, GR_EINVAL, "status", "must be open, closed or both");
    }
    return 0;
}

/* The service_code argument: category ids, each a known service. */
static int code_filter(http_req *req, const char *arg_codes, o311_service *sv, size_t ns,
                       o311_query *q)
{
    const char **codes = arena_alloc(req->arena, (ns + 1) * sizeof(*codes));
    int64_t *ids = arena_alloc(req->arena, (ns + 1) * sizeof(*ids));
    const o311_service *s;
    size_t n = arg_codes ? list_split(req->arena, arg_codes, codes, ns + 1) : 0, i;

    for (i = 0; i < n; i++) {
        s = o311_service_by_code(sv, ns, codes[i]);
        if (!s)
            return err_set(&req->err, GR_ENOTFOUND, "service_code", "no service with code %.20s",
                           codes[i]);
        ids[i] = s->id;
    }
    q->categories = ids;
    q->ncategories = n;
    return 0;
}

static int requests_query(http_req *req, o311_fmt fmt)
{
    o311_query q = {0};
    case_rec *recs;
    svc_set sv;
    size_t n;
    int rc;

    if (svc_open(req, fmt, &sv))
        return 0;
    if (arg(req, "service_request_id"))
        return requests_by_id(req, fmt, sv.c, arg(req, "service_request_id"), sv.v, sv.n);
    rc = code_filter(req, arg(req, "service_code"), sv.v, sv.n, &q);
    if (!rc)
        rc = o311_window(arg(req, "start_date"), arg(req, "end_date"), time_now_ms(), &q.from,
                         &q.to, &req->err);
    if (!rc)
        rc = status_mask(req->arena, arg(req, "status"), &q.states, &req->err);
    if (!rc)
        rc = page_args(req, &q);
    if (!rc)
        rc = o311_requests_find(sv.c, req->arena, &q, &recs, &n, &req->err);
    if (rc)
        return send_err(req, fmt, rc, &req->err);
    return send_requests(req, fmt, recs, n, sv.v, sv.n, extensions_on(req));
}

/* The body of a POST: form-encoded, at most O311_BODY_MAX bytes. */
static int form_read(http_req *req, o311_form *f)
{
    const char *ct = http_header(req, "Content-Type");
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    char *body;
    size_t len = 0;
    int n;

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        (ct[33] != '\0' && ct[33] != ';' && ct[33] != ' '))
        return err_set(&req->err, GR_EINVAL, "Content-Type",
                       "must be application/x-www-form-urlencoded");
    if (ri->content_length > O311_BODY_MAX)
        return err_set(&req->err, GR_EINVAL, "", "the body is larger than %d bytes", O311_BODY_MAX);
    body = arena_alloc(req->arena, O311_BODY_MAX + 1);
    while (len <= O311_BODY_MAX) {
        n = mg_read(req->conn, body + len, O311_BODY_MAX + 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (len > O311_BODY_MAX)
        return err_set(&req->err, GR_EINVAL, "", "the body is larger than %d bytes", O311_BODY_MAX);
    return open311_form_parse(req->arena, body, len, f, &req->err);
}

static int requests_create(http_req *req, o311_fmt fmt)
{
    const char *key, *code = NULL;
    http_principal who;
    o311_form f;
    int rc = form_read(req, &f);

    if (rc)
        return send_err(req, fmt, rc, &req->err);
    key = open311_form_get(&f, "api_key");
    if (!key)
        return send_error(req, fmt, 403, "api_key is required to create a request");
    rc = auth_token_principal(req->ctx, req->arena, key, "case.report", &who, &req->err);
    if (rc)
        return send_error(req, fmt, 403,
                          "Invalid api_key received -- can't proceed with create_request");
    rc = o311_request_create(req->ctx, &who, &f, req->arena, &code, &req->err);
    if (rc)
        return send_err(req, fmt, rc, &req->err);
    return send_doc(req, fmt, 200, "service_requests",
                    json_pack("[{s:s, s:s}]", "service_request_id", code, "service_notice",
                              "created: follow it with GET requests/{service_request_id}"));
}

static int handle_request_one(http_req *req)
{
    o311_fmt fmt;
    const char *code = file_stem(req, &fmt);
    svc_set sv;
    case_rec r;
    int rc;

    if (!code)
        return send_error(req, fmt, 400, BAD_SUFFIX);
    if (svc_open(req, fmt, &sv))
        return 0;
    rc = case_get_code(sv.c, req->arena, code, &r, &req->err);
    /* A private case is not there for the public: the same answer as none. */
    if (rc == GR_ENOTFOUND || (!rc && !r.is_public))
        return send_error(req, fmt, 404,
                          arena_printf(req->arena, "service_request_id %.20s not found", code));
    if (rc)
        return send_err(req, fmt, rc, &req->err);
    return send_requests(req, fmt, &r, 1, sv.v, sv.n, extensions_on(req));
}

/* ---- tokens ---- */

static int handle_token(http_req *req)
{
    const char *token;
    o311_fmt fmt;

    token = file_stem(req, &fmt);
    if (!token)
        return send_error(req, fmt, 400, BAD_SUFFIX);
    /* Requests are created in real time: no token is ever issued. */
    return send_error(req, fmt, 404,
                      arena_printf(req->arena,
                                   "token %.40s not found: this server is realtime and "
                                   "returns service_request_id at once",
                                   token));
}

/* ---- servicerequestupdates (FixMyStreet) ---- */

static const char *upper(arena *a, const char *s)
{
    char *u = arena_strdup(a, s), *p;

    for (p = u; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
    return u;
}

static int send_updates(http_req *req, o311_fmt fmt)
{
    db_conn *c = reader(req, fmt);
    int ext = extensions_on(req);
    o311_query q = {0};
    case_update *u;
    json_t *list;
    char t[40];
    size_t n, i;
    int rc, s;

    if (!c)
        return 0;
    rc = o311_window(arg(req, "start_date"), arg(req, "end_date"), time_now_ms(), &q.from, &q.to,
                     &req->err);
    if (!rc)
        rc = page_args(req, &q);
    if (!rc)
        rc = o311_updates_find(c, req->arena, &q, &u, &n, &req->err);
    if (rc)
        return send_err(req, fmt, rc, &req->err);
    list = json_array();
    for (i = 0; i < n; i++) {
        s = case_state_parse(u[i].to_state);
        if (s < 0)
            s = CS_REPORTED;
        time_format_iso(u[i].at, t, sizeof(t));
        /* FixMyStreet reads statuses in upper case. */
        json_array_append_new(list,
                              json_pack("{s:s, s:s, s:s, s:s, s:s}", "update_id",
                                        arena_printf(req->arena, "%lld", (long long)u[i].event_id),
                                        "service_request_id", u[i].public_code, "status",
                                        upper(req->arena, ext ? open311_status_ext((case_state)s)
                                                              : open311_status((case_state)s)),
                                        "updated_datetime", t, "description",
                                        open311_status_notes((case_state)s)));
    }
    return send_doc(req, fmt, 200, "service_request_updates", list);
}

/* ---- the v2 resources ---- */

static int handle_v2_get(http_req *req)
{
    o311_fmt fmt;
    const char *stem = file_stem(req, &fmt);

    if (stem) {
        if (strcmp(stem, "discovery") == 0)
            return send_discovery(req, fmt);
        if (strcmp(stem, "services") == 0)
            return send_services(req, fmt);
        if (strcmp(stem, "requests") == 0)
            return requests_query(req, fmt);
        if (strcmp(stem, "servicerequestupdates") == 0)
            return send_updates(req, fmt);
    }
    return send_error(req, fmt, 404, "no such resource: see /open311/v2/discovery.xml");
}

static int handle_v2_post(http_req *req)
{
    o311_fmt fmt;
    const char *stem = file_stem(req, &fmt);

    if (stem && strcmp(stem, "requests") == 0)
        return requests_create(req, fmt);
    return send_error(req, fmt, 404, "no such resource: POST requests.xml or requests.json");
}

void open311_api_register(http_router *r)
{
    /* GETs need no key; POST checks its api_key itself (the spec's 403). */
    http_route(r, "GET", "/open311/{file:str}", handle_root_file, "public");
    http_route(r, "GET", "/open311/v2/{file:str}", handle_v2_get, "public");
    http_route(r, "POST", "/open311/v2/{file:str}", handle_v2_post, "public");
    http_route(r, "GET", "/open311/v2/services/{file:str}", handle_service_definition, "public");
    http_route(r, "GET", "/open311/v2/requests/{file:str}", handle_request_one, "public");
    http_route(r, "GET", "/open311/v2/tokens/{file:str}", handle_token, "public");
}
