/*
 * The HTTP routes of the org tree: JSON in and out, the caller's scope, and
 * nothing else; the rules live in org_model.c. Roles are decided by the policy
 * (the action named on each route); here only the scope, on the unit the
 * request is about.
 */
#include "org/org_api.h"
#include "org/org_model.h"

#include "base/jsonv.h"
#include "base/timeutil.h"
#include "geo/coord.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PAGE_DEFAULT = 50, PAGE_MAX = 500, Q_MAX_CHARS = 100 };

/* ---- JSON ---- */

static json_t *unit_brief(const org_unit *u)
{
    return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)u->id, "code", u->code, "name",
                     u->name, "kind", org_kind_name(u->kind));
}

static json_t *unit_json(const void *item)
{
    const org_unit *u = item;
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:b, s:o, s:s, s:o, s:o, s:I}", "id", (json_int_t)u->id, "code",
        u->code, "name", u->name, "kind", org_kind_name(u->kind), "parent_id",
        http_json_id(u->parent_id), "has_boundary", u->has_boundary, "centroid",
        u->has_boundary ? json_pack("{s:f, s:f}", "lat", u->centroid_lat, "lon", u->centroid_lon)
                        : json_null(),
        "source", u->source, "created_at", http_json_time(u->created_at), "updated_at",
        http_json_time(u->updated_at), "version", (json_int_t)u->version);

    if (o && u->boundary)
        json_object_set_new(o, "boundary", json_loads(u->boundary, 0, NULL));
    return o;
}

static json_t *dept_json(const void *item)
{
    const org_dept *d = item;

    return json_pack("{s:I, s:I, s:s, s:s?, s:s, s:s?, s:o, s:o, s:I}", "id", (json_int_t)d->id,
                     "org_id", (json_int_t)d->org_id, "name", d->name, "full_name", d->full_name,
                     "level", org_kind_name(d->level), "code", d->code, "created_at",
                     http_json_time(d->created_at), "updated_at", http_json_time(d->updated_at),
                     "version", (json_int_t)d->version);
}

/* A boundary from a body, as compact text for the model (NULL when null). */
static const char *boundary_text(http_req *req, json_t *v, size_t *len)
{
    char *s, *copy;

    *len = 0;
    if (!v || json_is_null(v))
        return NULL;
    /* 15 significant digits: 116.4 stays 116.4 (not 116.40000000000001) and
     * equal inputs give equal text, so shared vertices stay shared. */
    s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (!s)
        return NULL;
    *len = strlen(s);
    copy = arena_strndup(req->arena, s, *len);
    free(s);
    return copy;
}

/* A page of n items (size bytes apart in v), each as to_json makes it. The
 * same in auth_api.c: it belongs in src/http (http_send_page's neighbour). */
/* Sends o; a 201 names the new resource, collection/id, in Location. */
static int send_resource(http_req *req, int status, const char *collection, int64_t id, json_t *o)
{
    char loc[96];

    if (status == 201) {
        snprintf(loc, sizeof(loc), "%s/%lld", collection, (long long)id);
        http_add_header(req, "Location", loc);
    }
    return http_send_json(req, status, o);
}

static db_conn *reader(http_req *req)
{
    db_conn *c = db_reader(req->db);

    if (!c)
        err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    return c;
}

/* The kind named s (field: where it came from): -1 when s is NULL. */
static int kind_arg(http_req *req, const char *field, const char *s, int *kind)
{
    *kind = -1;
    if (!s)
        return 0;
    *kind = org_kind_parse(s);
    if (*kind < 0)
        return err_set(&req->err, GR_EINVAL, field,
                       "must be one of city, district, street, community, grid");
    return 0;
}

/* An org unit a request names (field: parent_id or org_id) must be in the
 * caller's scope; one that does not exist at all is bad input, not a 403. */
static int unit_ref_check(http_req *req, const char *field, int64_t id)
{
    int rc = org_require_scope(req, id);

    if (rc == GR_EFORBIDDEN && !org_is_within(db_reader(req->db), id, id))
        rc = err_set(&req->err, GR_EINVAL, field, "no org unit with id %lld", (long long)id);
    return rc;
}

static int query_q(http_req *req, const char **q)
{
    *q = http_query(req, "q");
    if (*q && jv_utf8_len(*q) > Q_MAX_CHARS)
        return err_set(&req->err, GR_EINVAL, "q", "must be at most %d characters long",
                       Q_MAX_CHARS);
    return 0;
}

/* ---- units ---- */

static int handle_units_list(http_req *req)
{
    org_unit_filter f = {0};
    org_unit *v = NULL;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c;

    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &f.limit, &f.after);
    if (!rc)
        rc = http_query_int(req, "parent_id", 1, INT64_MAX, 0, &f.parent_id);
    if (!rc)
        rc = kind_arg(req, "kind", http_query(req, "kind"), &f.kind);
    if (!rc)
        rc = query_q(req, &f.q);
    if (!rc)
        f.code = http_query(req, "code");
    if (!rc)
        rc = org_require_scope(req, req->who.scope_org_id);
    if (rc)
        return rc;
    f.scope = req->who.scope_org_id;
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = org_unit_list(c, req->arena, &f, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), unit_json, more, n ? v[n - 1].id : 0);
}

/* Reads a unit the caller may see: 404, or 403 outside the caller's scope. */
static int unit_load(http_req *req, db_conn *c, int64_t id, int with_boundary, org_unit *u)
{
    int rc = org_unit_get(c, req->arena, id, with_boundary, u, &req->err);

    return rc ? rc : org_require_scope(req, id);
}

static int send_unit(http_req *req, int status, int64_t id, int with_boundary)
{
    db_conn *c = reader(req);
    org_unit u, *anc = NULL;
    int64_t children = 0;
    size_t n = 0, i;
    json_t *o, *chain;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = unit_load(req, c, id, with_boundary, &u);
    if (!rc)
        rc = org_unit_ancestors(c, req->arena, &u, &anc, &n, &req->err);
    if (!rc)
        rc = org_unit_child_count(c, id, &children, &req->err);
    if (rc)
        return rc;
    o = unit_json(&u);
    chain = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(chain, unit_brief(&anc[i]));
    json_object_set_new(o, "ancestors", chain);
    json_object_set_new(o, "child_count", json_integer(children));
    return send_resource(req, status, "/api/v1/org/units", id, o);
}

static int handle_unit_get(http_req *req)
{
    int64_t geometry = 0;
    int rc = http_query_int(req, "geometry", 0, 1, 0, &geometry);

    return rc ? rc : send_unit(req, 200, http_param_int(req, "id"), (int)geometry);
}

static int handle_unit_children(http_req *req)
{
    org_unit_filter f = {0};
    org_unit *v = NULL, u;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c = reader(req);

    if (!c)
        return GR_EUNAVAIL;
    f.parent_id = http_param_int(req, "id");
    f.kind = -1;
    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &f.limit, &f.after);
    if (!rc)
        rc = unit_load(req, c, f.parent_id, 0, &u);
    if (rc)
        return rc;
    f.scope = f.parent_id;
    rc = org_unit_list(c, req->arena, &f, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), unit_json, more, n ? v[n - 1].id : 0);
}

static int handle_unit_create(http_req *req)
{
    static const jv_field fields[] = {
        {"code", JV_STRING, 1, 0, 1, 15},    {"name", JV_STRING, 1, 0, 1, 100},
        {"kind", JV_STRING, 1, 0, 1, 16},    {"parent_id", JV_INT, 1, 0, 1, 9e15},
        {"boundary", JV_OBJECT, 0, 1, 0, 0},
    };
    org_unit_input in = {0};
    json_t *body = NULL;
    int64_t id = 0;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc)
        rc = kind_arg(req, "kind", jv_str(body, "kind"), &in.kind);
    if (rc)
        goto out;
    in.code = jv_str(body, "code");
    in.name = jv_str(body, "name");
    in.parent_id = jv_int(body, "parent_id", 0);
    in.boundary = boundary_text(req, json_object_get(body, "boundary"), &in.boundary_len);
    in.source = "manual";
    /* Top-level units come from `grassroots import divisions`; through the
     * API a unit is created under a parent the caller's scope covers. */
    rc = unit_ref_check(req, "parent_id", in.parent_id);
    if (!rc)
        rc = org_unit_create(req->ctx, &in, &id, &req->err);
out:
    json_decref(body);
    return rc ? rc : send_unit(req, 201, id, 0);
}

static int handle_unit_patch(http_req *req)
{
    static const jv_field fields[] = {
        {"name", JV_STRING, 0, 0, 1, 100},
        {"parent_id", JV_INT, 0, 0, 1, 9e15},
        {"boundary", JV_OBJECT, 0, 1, 0, 0},
        {"version", JV_INT, 1, 0, 1, 9e15},
    };
    int64_t id = http_param_int(req, "id");
    org_unit_patch p = {0};
    json_t *body = NULL;
    db_conn *c = reader(req);
    org_unit u;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc)
        rc = unit_load(req, c, id, 0, &u);
    if (rc)
        goto out;
    p.name = jv_str(body, "name");
    p.version = jv_int(body, "version", 0);
    if (json_object_get(body, "parent_id")) {
        p.set_parent = 1;
        p.parent_id = jv_int(body, "parent_id", 0);
        /* Moving in needs the scope of the new parent too. */
        rc = unit_ref_check(req, "parent_id", p.parent_id);
        if (rc)
            goto out;
    }
    if (json_object_get(body, "boundary")) {
        p.set_boundary = 1;
        p.boundary = boundary_text(req, json_object_get(body, "boundary"), &p.boundary_len);
    }
    rc = org_unit_update(req->ctx, id, &p, &req->err);
out:
    json_decref(body);
    return rc ? rc : send_unit(req, 200, id, 0);
}

static int handle_unit_delete(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = reader(req);
    org_unit u;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = unit_load(req, c, id, 0, &u);
    if (!rc && id == req->who.scope_org_id)
        rc = err_set(&req->err, GR_EFORBIDDEN, "id", "is the root of your own scope");
    if (!rc)
        rc = org_unit_delete(req->ctx, id, &req->err);
    return rc ? rc : http_send_empty(req, 204);
}

/* Public: where the grids and streets are is the city's own geography, and
 * a resident's map shows the grid boundaries around the pin (docs/org.md). */
static int handle_unit_boundaries(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    buf out = BUF_INIT;
    db_conn *c = reader(req);
    org_unit u;
    int kind, rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = kind_arg(req, "kind", http_query(req, "kind"), &kind);
    if (!rc)
        rc = org_unit_get(c, req->arena, id, 0, &u, &req->err);
    if (!rc)
        rc = org_unit_boundaries(c, id, kind, &out, &req->err);
    if (!rc)
        rc = http_send_text(req, 200, "application/geo+json", out.data, out.len);
    buf_free(&out);
    return rc;
}

/* ---- departments ---- */

static int handle_depts_list(http_req *req)
{
    org_dept_filter f = {0};
    org_dept *v = NULL;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c;

    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &f.limit, &f.after);
    if (!rc)
        rc = http_query_int(req, "org_id", 1, INT64_MAX, 0, &f.org_id);
    if (!rc)
        rc = query_q(req, &f.q);
    if (!rc)
        rc = org_require_scope(req, req->who.scope_org_id);
    if (rc)
        return rc;
    f.scope = req->who.scope_org_id;
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = org_dept_list(c, req->arena, &f, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), dept_json, more, n ? v[n - 1].id : 0);
}

static int dept_load(http_req *req, db_conn *c, int64_t id, org_dept *d)
{
    int rc = org_dept_get(c, req->arena, id, d, &req->err);

    return rc ? rc : org_require_scope(req, d->org_id);
}

static int send_dept(http_req *req, int status, int64_t id)
{
    db_conn *c = reader(req);
    org_dept d;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = dept_load(req, c, id, &d);
    if (rc)
        return rc;
    return send_resource(req, status, "/api/v1/org/departments", id, dept_json(&d));
}

static int handle_dept_get(http_req *req)
{
    return send_dept(req, 200, http_param_int(req, "id"));
}

static int handle_dept_create(http_req *req)
{
    static const jv_field fields[] = {
        {"org_id", JV_INT, 1, 0, 1, 9e15},      {"name", JV_STRING, 1, 0, 1, 100},
        {"full_name", JV_STRING, 0, 1, 1, 200}, {"level", JV_STRING, 0, 0, 1, 16},
        {"code", JV_STRING, 0, 1, 1, 32},
    };
    org_dept_input in = {0};
    json_t *body = NULL;
    int64_t id = 0;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc)
        rc = kind_arg(req, "level", jv_str(body, "level"), &in.level);
    if (rc)
        goto out;
    in.org_id = jv_int(body, "org_id", 0);
    in.name = jv_str(body, "name");
    in.full_name = jv_str(body, "full_name");
    in.code = jv_str(body, "code");
    /* The org unit a department serves must exist and be in the caller's scope. */
    rc = unit_ref_check(req, "org_id", in.org_id);
    if (!rc)
        rc = org_dept_create(req->ctx, &in, &id, &req->err);
out:
    json_decref(body);
    return rc ? rc : send_dept(req, 201, id);
}

static int handle_dept_patch(http_req *req)
{
    static const jv_field fields[] = {
        {"org_id", JV_INT, 0, 0, 1, 9e15},      {"name", JV_STRING, 0, 0, 1, 100},
        {"full_name", JV_STRING, 0, 1, 1, 200}, {"level", JV_STRING, 0, 0, 1, 16},
        {"code", JV_STRING, 0, 1, 1, 32},       {"version", JV_INT, 1, 0, 1, 9e15},
    };
    int64_t id = http_param_int(req, "id");
    org_dept_patch p = {0};
    json_t *body = NULL;
    db_conn *c = reader(req);
    org_dept d;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc)
        rc = kind_arg(req, "level", jv_str(body, "level"), &p.level);
    if (!rc)
        rc = dept_load(req, c, id, &d);
    if (rc)
        goto out;
    p.org_id = jv_int(body, "org_id", 0);
    p.name = jv_str(body, "name");
    p.set_full_name = json_object_get(body, "full_name") != NULL;
    p.full_name = jv_str(body, "full_name");
    p.set_code = json_object_get(body, "code") != NULL;
    p.code = jv_str(body, "code");
    p.version = jv_int(body, "version", 0);
    if (p.org_id)
        rc = unit_ref_check(req, "org_id", p.org_id);
    if (!rc)
        rc = org_dept_update(req->ctx, id, &p, &req->err);
out:
    json_decref(body);
    return rc ? rc : send_dept(req, 200, id);
}

static int handle_dept_delete(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = reader(req);
    org_dept d;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = dept_load(req, c, id, &d);
    if (!rc)
        rc = org_dept_delete(req->ctx, id, &req->err);
    return rc ? rc : http_send_empty(req, 204);
}

/* ---- locate ---- */

static int handle_locate(http_req *req)
{
    const char *crs_name = http_query(req, "crs");
    geo_crs crs = GEO_CRS_WGS84;
    double lat = 0, lon = 0, wlat, wlon;
    org_location loc;
    json_t *o;
    db_conn *c;
    int rc;

    rc = http_query_number(req, "lat", &lat);
    if (!rc)
        rc = http_query_number(req, "lon", &lon);
    if (!rc)
        rc = geo_check_latlon(lat, lon, &req->err);
    if (!rc)
        rc = geo_crs_arg(crs_name, &crs, &req->err);
    if (rc)
        return rc;
    geo_to_wgs84(crs, lat, lon, &wlat, &wlon);
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = org_locate(req->ctx, c, req->arena, wlat, wlon, &loc, &req->err);
    if (rc)
        return rc;
    o = json_pack("{s:o, s:o, s:o, s:o, s:{s:f, s:f}}", "grid", unit_brief(&loc.grid), "community",
                  loc.has_community ? unit_brief(&loc.community) : json_null(), "street",
                  loc.has_street ? unit_brief(&loc.street) : json_null(), "district",
                  loc.has_district ? unit_brief(&loc.district) : json_null(), "wgs84", "lat", wlat,
                  "lon", wlon);
    return http_send_json(req, 200, o);
}

void org_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/org/units", handle_units_list, "org.read");
    http_route(r, "POST", "/api/v1/org/units", handle_unit_create, "org.write");
    http_route(r, "GET", "/api/v1/org/units/{id:int}", handle_unit_get, "org.read");
    http_route(r, "PATCH", "/api/v1/org/units/{id:int}", handle_unit_patch, "org.write");
    http_route(r, "DELETE", "/api/v1/org/units/{id:int}", handle_unit_delete, "org.write");
    http_route(r, "GET", "/api/v1/org/units/{id:int}/children", handle_unit_children, "org.read");
    http_route(r, "GET", "/api/v1/org/units/{id:int}/boundaries", handle_unit_boundaries, "public");
    http_route(r, "GET", "/api/v1/org/departments", handle_depts_list, "org.read");
    http_route(r, "POST", "/api/v1/org/departments", handle_dept_create, "org.write");
    http_route(r, "GET", "/api/v1/org/departments/{id:int}", handle_dept_get, "org.read");
    http_route(r, "PATCH", "/api/v1/org/departments/{id:int}", handle_dept_patch, "org.write");
    http_route(r, "DELETE", "/api/v1/org/departments/{id:int}", handle_dept_delete, "org.write");
    http_route(r, "GET", "/api/v1/geo/locate", handle_locate, "public");
}
