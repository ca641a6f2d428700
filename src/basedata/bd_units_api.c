/*
 * The HTTP routes of organisations, facilities and underground spaces, and
 * the HTTP import of every base-data entity (for data stewards). JSON in and
 * out and the caller's scope; the rules live in bd_units.c and bd_import.c.
 */
#include "basedata/bd_units.h"
#include "basedata/bd_http.h"

#include "base/csv.h"
#include "base/log.h"
#include "geo/coord.h"

#include <civetweb.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    PAGE_DEFAULT = 50,
    PAGE_MAX = 500,
    RADIUS_MAX_M = 50000,
    IMPORT_BODY_MAX = 8 << 20, /* a steward's file; bigger files go through the command */
    IMPORT_ERRORS_MAX = 1000,  /* error rows answered; the counts say how many there were */
};

#define PREFIX "/api/v1/basedata/"

/* The entity a route is about: the path's segment after the prefix. */
static const bd_unit_def *route_def(http_req *req)
{
    char name[32];
    const char *p = req->path + strlen(PREFIX);
    size_t n = strcspn(p, "/");

    if (strncmp(req->path, PREFIX, strlen(PREFIX)) != 0 || n >= sizeof(name))
        return NULL;
    memcpy(name, p, n);
    name[n] = '\0';
    return bd_unit_find(name);
}

/* Who acts. A signed-in user without a place in the org tree has no area. */
static int actor(http_req *req, bd_actor *who)
{
    bd_http_actor(req, who);
    if (who->scope_org_id <= 0)
        return err_set(&req->err, GR_EFORBIDDEN, "",
                       "your account has no place in the org tree (no scope)");
    return 0;
}

struct write_arg {
    gr_ctx *ctx;
    const bd_unit_def *d;
    const bd_actor *who;
    bd_unit_op op;
    json_t *in;
    int64_t id, version;
    int changed, retire;
};

static int write_fn(db_conn *c, void *arg, gr_err *err)
{
    struct write_arg *w = arg;

    if (w->retire)
        return bd_unit_retire(w->ctx, c, w->d, w->who, w->id, w->version, err);
    return bd_unit_write(w->ctx, c, w->d, w->who, &w->op, w->in, &w->id, &w->changed, err);
}

static int send_record(http_req *req, const bd_unit_def *d, const bd_actor *who, int64_t id,
                       int status)
{
    db_conn *c = bd_http_reader(req);
    json_t *o = NULL;
    char loc[96];
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = bd_unit_get(c, d, who, id, &o, &req->err);
    if (rc)
        return rc;
    if (status == 201) {
        snprintf(loc, sizeof(loc), PREFIX "%s/%" PRId64, bd_unit_collection(d), id);
        http_add_header(req, "Location", loc);
    }
    return http_send_json(req, status, o);
}

/* "source" says how the record came (collected, imported, shared): the
 * operation's, not a column of the body. */
static int source_take(http_req *req, json_t *body, const char **source)
{
    json_t *v = json_object_get(body, "source");

    if (!v)
        return 0;
    if (!json_is_string(v))
        return err_set(&req->err, GR_EINVAL, "source", "must be collected, imported or shared");
    *source = arena_strdup(req->arena, json_string_value(v));
    json_object_del(body, "source");
    return 0;
}

/* Runs w on d as who, then answers the record as it now is. */
static int write_send(http_req *req, const bd_unit_def *d, const bd_actor *who, struct write_arg *w,
                      int status)
{
    int rc;

    w->ctx = req->ctx;
    w->d = d;
    w->who = who;
    rc = db_write(req->db, write_fn, w, &req->err);
    return rc ? rc : send_record(req, d, who, w->id, status);
}

static int handle_create(http_req *req)
{
    const bd_unit_def *d = route_def(req);
    struct write_arg w;
    bd_actor who;
    json_t *body = NULL;
    int rc;

    memset(&w, 0, sizeof(w));
    rc = actor(req, &who);
    if (!rc)
        rc = http_read_json(req, &body);
    if (rc)
        goto out;
    if (!json_is_object(body)) {
        rc = err_set(&req->err, GR_EINVAL, "", "the body must be a JSON object");
        goto out;
    }
    rc = source_take(req, body, &w.op.source);
    if (rc)
        goto out;
    w.op.mode = BD_UNIT_CREATE;
    w.in = body;
    rc = write_send(req, d, &who, &w, 201);
out:
    json_decref(body);
    return rc;
}

static int handle_get(http_req *req)
{
    bd_actor who;
    int rc = actor(req, &who);

    return rc ? rc : send_record(req, route_def(req), &who, http_param_int(req, "id"), 200);
}

static int handle_patch(http_req *req)
{
    const bd_unit_def *d = route_def(req);
    struct write_arg w;
    bd_actor who;
    json_t *body = NULL, *v;
    int rc;

    memset(&w, 0, sizeof(w));
    rc = actor(req, &who);
    if (!rc)
        rc = http_read_json(req, &body);
    if (rc)
        goto out;
    v = json_object_get(body, "version");
    if (!json_is_object(body) || !json_is_integer(v) || json_integer_value(v) < 1) {
        rc = err_set(&req->err, GR_EINVAL, "version",
                     "is required: the version of the record you read");
        goto out;
    }
    w.op.version = (int64_t)json_integer_value(v);
    json_object_del(body, "version");
    rc = source_take(req, body, &w.op.source);
    if (rc)
        goto out;
    w.op.mode = BD_UNIT_UPDATE;
    w.in = body;
    w.id = http_param_int(req, "id");
    rc = write_send(req, d, &who, &w, 200);
out:
    json_decref(body);
    return rc;
}

static int handle_retire(http_req *req)
{
    static const jv_field fields[] = {{"version", JV_INT, 1, 0, 1, 9e18}};
    const bd_unit_def *d = route_def(req);
    struct write_arg w;
    bd_actor who;
    json_t *body = NULL;
    int rc;

    memset(&w, 0, sizeof(w));
    rc = actor(req, &who);
    if (!rc)
        rc = http_read_body(req, fields, 1, &body);
    if (rc)
        goto out;
    w.retire = 1;
    w.id = http_param_int(req, "id");
    w.version = jv_int(body, "version", 0);
    rc = write_send(req, d, &who, &w, 200);
out:
    json_decref(body);
    return rc;
}

static int handle_history(http_req *req)
{
    const bd_unit_def *d = route_def(req);
    int64_t id = http_param_int(req, "id"), limit, after;
    json_t *items = NULL;
    bd_actor who;
    bd_meta m;
    db_conn *c;
    int more = 0, rc;

    rc = actor(req, &who);
    if (!rc)
        rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &limit, &after);
    if (rc)
        return rc;
    if (!(c = bd_http_reader(req)))
        return GR_EUNAVAIL;
    rc = bd_unit_meta(c, d, id, &m, &req->err);
    if (!rc)
        rc = bd_scope_check(c, &who, &m, &req->err);
    if (!rc)
        rc = bd_history_list(c, req->arena, bd_unit_entity(d), id, after, limit, &items, &more,
                             &req->err);
    if (rc)
        return rc;
    return http_send_page(req, items, more,
                          json_array_size(items)
                              ? (int64_t)json_integer_value(json_object_get(
                                    json_array_get(items, json_array_size(items) - 1), "version"))
                              : 0);
}

/* "a,b,c,d" -> four finite numbers. */
static int numbers(const char *s, double *v, int n)
{
    char *end;
    int i;

    for (i = 0; i < n; i++) {
        v[i] = strtod(s, &end);
        if (end == s || !isfinite(v[i]) || (i + 1 < n ? *end != ',' : *end != '\0'))
            return -1;
        s = end + (i + 1 < n);
    }
    return 0;
}

/* A filter that only some collections have. */
static int only_for(http_req *req, const bd_unit_def *d, const bd_unit_def *want, const char *name,
                    const char **out)
{
    *out = http_query(req, name);
    if (*out && d != want)
        return err_set(&req->err, GR_EINVAL, name, "is not a filter of %s", bd_unit_collection(d));
    return 0;
}

static int handle_list(http_req *req)
{
    const bd_unit_def *d = route_def(req);
    bd_unit_filter f;
    const char *bbox, *near, *retired;
    int64_t major = 0, minor = 0, radius = 0, last = 0;
    json_t *items = NULL;
    bd_actor who;
    db_conn *c;
    int more = 0, rc;

    memset(&f, 0, sizeof(f));
    rc = actor(req, &who);
    if (!rc)
        rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &f.limit, &f.after);
    if (!rc)
        rc = only_for(req, d, &bd_unit_orgs, "type", &f.type);
    if (!rc)
        rc = only_for(req, d, &bd_unit_orgs, "industry", &f.industry);
    if (!rc)
        rc = only_for(req, d, &bd_unit_facilities, "state", &f.state);
    if (!rc)
        rc = only_for(req, d, &bd_unit_spaces, "kind", &f.kind);
    if (!rc && (http_query(req, "major") || http_query(req, "minor")) && d != &bd_unit_facilities)
        rc = err_set(&req->err, GR_EINVAL, http_query(req, "major") ? "major" : "minor",
                     "is not a filter of %s", bd_unit_collection(d));
    if (!rc)
        rc = http_query_int(req, "major", 1, 99, 0, &major);
    if (!rc)
        rc = http_query_int(req, "minor", 1, 99, 0, &minor);
    if (rc)
        return rc;
    f.major = (int)major;
    f.minor = (int)minor;
    f.scope = who.scope_org_id;
    bbox = http_query(req, "bbox");
    near = http_query(req, "near");
    retired = http_query(req, "retired");
    if (retired && strcmp(retired, "include") != 0)
        return err_set(&req->err, GR_EINVAL, "retired", "must be include (or absent)");
    f.include_retired = retired != NULL;
    if (bbox && near)
        return err_set(&req->err, GR_EINVAL, "near", "give bbox or near, not both");
    if (bbox) {
        double v[4];

        if (numbers(bbox, v, 4) || v[0] > v[2] || v[1] > v[3] ||
            geo_check_latlon(v[1], v[0], NULL) || geo_check_latlon(v[3], v[2], NULL))
            return err_set(&req->err, GR_EINVAL, "bbox",
                           "must be west,south,east,north in degrees (WGS-84)");
        f.has_bbox = 1;
        f.west = v[0];
        f.south = v[1];
        f.east = v[2];
        f.north = v[3];
    }
    if (near) {
        double v[2];

        if (numbers(near, v, 2) || geo_check_latlon(v[0], v[1], NULL))
            return err_set(&req->err, GR_EINVAL, "near", "must be lat,lon in degrees (WGS-84)");
        rc = http_query_int(req, "radius", 1, RADIUS_MAX_M, 500, &radius);
        if (rc)
            return rc;
        f.has_near = 1;
        f.lat = v[0];
        f.lon = v[1];
        f.radius_m = (double)radius;
    }
    if (!(c = bd_http_reader(req)))
        return GR_EUNAVAIL;
    rc = bd_unit_list(c, d, &f, &items, &more, &last, &req->err);
    if (rc)
        return rc;
    return http_send_page(req, items, more, last);
}

/* ---- the HTTP import ---- */

struct body_reader {
    http_req *req;
    size_t total;
    int too_big;
};

static long body_read(void *arg, char *out, size_t n)
{
    struct body_reader *b = arg;
    int got = mg_read(b->req->conn, out, n);

    if (got < 0)
        return -1;
    b->total += (size_t)got;
    if (b->total > IMPORT_BODY_MAX) {
        b->too_big = 1;
        return -1;
    }
    return got;
}

/* The report's rows (line,column,reason) as JSON, at most IMPORT_ERRORS_MAX. */
static json_t *report_json(const char *text, size_t len)
{
    csv_reader *r = csv_new_mem(text, len);
    json_t *arr = json_array();
    gr_err err;

    if (r && csv_next(r, &err) == 1)
        while (csv_next(r, &err) == 1 && json_array_size(arr) < IMPORT_ERRORS_MAX)
            json_array_append_new(
                arr, json_pack("{s:I, s:s, s:s}", "line", (json_int_t)atol(csv_field(r, 0, NULL)),
                               "column", csv_field(r, 1, NULL), "reason", csv_field(r, 2, NULL)));
    csv_free(r);
    return arr;
}

static int handle_import(http_req *req)
{
    const char *name = http_param(req, "entity");
    const char *ct = http_header(req, "Content-Type");
    const bd_import_entity *e = bd_import_find(name);
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    struct body_reader br = {req, 0, 0};
    bd_import_result res;
    csv_reader *in = NULL;
    char *report = NULL;
    size_t report_len = 0;
    FILE *rf = NULL;
    bd_actor who;
    json_t *o;
    int rc;

    rc = actor(req, &who);
    if (rc)
        return rc;
    if (!e)
        return err_set(&req->err, GR_ENOTFOUND, "entity", "no import for '%s' (one of: %s)", name,
                       bd_import_names());
    if (!ct || strncasecmp(ct, "text/csv", 8) != 0 || (ct[8] && ct[8] != ';' && ct[8] != ' '))
        return err_set(&req->err, GR_EMEDIA, "Content-Type", "must be text/csv");
    if (ri->content_length > IMPORT_BODY_MAX)
        return err_set(&req->err, GR_ETOOBIG, "",
                       "the file is larger than %d bytes; use the "
                       "grassroots import command",
                       IMPORT_BODY_MAX);
    rf = open_memstream(&report, &report_len);
    in = csv_new_fn(body_read, &br);
    if (!rf || !in) {
        rc = err_set(&req->err, GR_EINTERNAL, "", "out of memory");
        goto out;
    }
    rc = bd_import_run(req->ctx, e, in, &who, rf, &res, &req->err);
    fclose(rf);
    rf = NULL;
    if (br.too_big)
        rc = err_set(&req->err, GR_ETOOBIG, "",
                     "the file is larger than %d bytes; use the "
                     "grassroots import command",
                     IMPORT_BODY_MAX);
    if (rc && rc != GR_EINVAL)
        goto out;
    if (rc && res.rows == 0)
        goto out; /* the header did not fit: nothing was read */
    o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o}", "entity", e->name, "rows", (json_int_t)res.rows,
                  "stored", (json_int_t)res.stored, "unchanged", (json_int_t)res.unchanged, "bad",
                  (json_int_t)res.bad, "errors", report_json(report, report_len));
    if (rc)
        json_object_set_new(o, "stopped", json_string(req->err.msg));
    log_msg(LOG_INFO, "basedata.import",
            "user %" PRId64 " imported %s: %" PRId64 " rows, %" PRId64 " stored, %" PRId64 " bad",
            req->who.user_id, e->name, res.rows, res.stored, res.bad);
    err_clear(&req->err);
    rc = http_send_json(req, 200, o);
out:
    if (rf)
        fclose(rf);
    free(report);
    csv_free(in);
    return rc;
}

void bd_units_api_register(http_router *r)
{
    static const char *const colls[] = {"orgs", "facilities", "spaces"};
    char p[128];
    size_t i;

    for (i = 0; i < sizeof(colls) / sizeof(colls[0]); i++) {
        snprintf(p, sizeof(p), PREFIX "%s", colls[i]);
        http_route(r, "POST", p, handle_create, "basedata.write");
        http_route(r, "GET", p, handle_list, "basedata.read");
        snprintf(p, sizeof(p), PREFIX "%s/{id:int}", colls[i]);
        http_route(r, "GET", p, handle_get, "basedata.read");
        http_route(r, "PATCH", p, handle_patch, "basedata.write");
        snprintf(p, sizeof(p), PREFIX "%s/{id:int}/retire", colls[i]);
        http_route(r, "POST", p, handle_retire, "basedata.write");
        snprintf(p, sizeof(p), PREFIX "%s/{id:int}/history", colls[i]);
        http_route(r, "GET", p, handle_history, "basedata.read");
    }
    http_route(r, "POST", PREFIX "import/{entity:str}", handle_import, "basedata.write");
}
