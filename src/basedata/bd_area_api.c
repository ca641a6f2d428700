/*
 * The HTTP routes of areas: who lives in an area, the counts of an area,
 * the statistics of a unit, and the emergency view of a drawn area (audited:
 * its list of vulnerable people is personal data). The model is bd_area.c;
 * docs/basedata.md, "Area queries, the emergency view and statistics".
 */
#include "basedata/bd_area.h"
#include "basedata/bd_http.h"

#include "geo/coord.h"
#include "privacy/audit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { PAGE_DEFAULT = 50, PAGE_MAX = 500 };

/* The area of a GET: polygon (GeoJSON text), near + radius, or unit_id, in
 * crs; none of them: the caller's scope, unless required. Then intersected
 * with the scope and resolved. */
static int area_from_query(http_req *req, db_conn *c, int required, bd_area *a)
{
    const char *poly = http_query(req, "polygon"), *near = http_query(req, "near");
    const char *radius = http_query(req, "radius"), *crs = http_query(req, "crs");
    const char *field = "unit_id";
    int64_t unit = 0;
    int rc, given;

    memset(a, 0, sizeof(*a));
    rc = http_query_int(req, "unit_id", 1, INT64_MAX, 0, &unit);
    if (rc)
        return rc;
    given = !!poly + !!near + !!unit;
    if (given > 1)
        return err_set(&req->err, GR_EINVAL, "area",
                       "give one of polygon, near (with radius) or unit_id");
    if (radius && !near)
        return err_set(&req->err, GR_EINVAL, "near", "is required with radius");
    if (poly) {
        field = "polygon";
        rc = bd_area_parse_polygon(poly, strlen(poly), crs, field, a, &req->err);
    } else if (near) {
        field = "near";
        rc = bd_area_parse_near(near, radius, crs, a, &req->err);
    } else if (unit) {
        rc = bd_area_unit(c, unit, field, a, &req->err);
    } else if (required) {
        return err_set(&req->err, GR_EINVAL, "area",
                       "is required: polygon, near with radius, or unit_id");
    }
    if (!rc)
        rc = bd_area_scope(c, a, req->who.scope_org_id, field, &req->err);
    if (!rc)
        rc = bd_area_resolve(c, req->arena, a, &req->err);
    return rc;
}

static json_t *person_json(const void *item)
{
    const bd_area_person *p = item;

    return json_pack("{s:I, s:s?, s:s?, s:s?, s:s?, s:o, s:o, s:o, s:b}", "id", (json_int_t)p->id,
                     "name", p->name_hint, "sex", p->sex, "birth_date", p->birth_date, "residency",
                     p->residency, "house_id", http_json_id(p->house_id), "building_id",
                     http_json_id(p->building_id), "care_tags", bd_json_list(p->care_tags),
                     "masked", 1);
}

static int handle_people(http_req *req)
{
    db_conn *c = bd_http_reader(req);
    bd_area_person *items = NULL;
    int64_t limit, after;
    size_t n = 0;
    int more = 0, rc;
    bd_area a;

    memset(&a, 0, sizeof(a));
    if (!c)
        return GR_EUNAVAIL;
    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &limit, &after);
    if (!rc)
        rc = area_from_query(req, c, 1, &a);
    if (!rc)
        rc = bd_area_people(c, req->arena, &a, after, limit, &items, &n, &more, &req->err);
    bd_area_free(&a);
    if (rc)
        return rc;
    return http_send_items(req, items, n, sizeof(*items), person_json, more,
                           n ? items[n - 1].id : 0);
}

static int handle_summary(http_req *req)
{
    db_conn *c = bd_http_reader(req);
    json_t *out = NULL;
    char today[11];
    bd_area a;
    int rc;

    memset(&a, 0, sizeof(a));
    if (!c)
        return GR_EUNAVAIL;
    bd_area_today(today);
    rc = area_from_query(req, c, 0, &a);
    if (!rc)
        rc = bd_area_summary(c, &a, today, &out, &req->err);
    bd_area_free(&a);
    if (rc)
        return rc;
    json_object_set_new(out, "as_of", json_string(today));
    return http_send_json(req, 200, out);
}

static int handle_stats(http_req *req)
{
    db_conn *c = bd_http_reader(req);
    json_t *out = NULL;
    int64_t unit = 0;
    char today[11];
    bd_area a;
    int rc;

    memset(&a, 0, sizeof(a));
    if (!c)
        return GR_EUNAVAIL;
    bd_area_today(today);
    rc = http_query_int(req, "unit_id", 1, INT64_MAX, 0, &unit);
    if (!rc && unit)
        rc = bd_area_unit(c, unit, "unit_id", &a, &req->err);
    if (!rc)
        rc = bd_area_scope(c, &a, req->who.scope_org_id, "unit_id", &req->err);
    if (!rc)
        rc = bd_area_stats(c, &a, today, &out, &req->err);
    bd_area_free(&a);
    if (rc)
        return rc;
    json_object_set_new(out, "unit_id", http_json_id(a.unit));
    json_object_set_new(out, "as_of", json_string(today));
    return http_send_json(req, 200, out);
}

static const jv_field f_emergency[] = {
    {"area", JV_OBJECT, 0, 0, 0, 0},      {"crs", JV_STRING, 0, 0, 1, 8},
    {"lat", JV_NUMBER, 0, 0, -90, 90},    {"lon", JV_NUMBER, 0, 0, -180, 180},
    {"radius", JV_NUMBER, 0, 0, 0, 5000}, {"unit_id", JV_INT, 0, 0, 1, BD_ID_MAX},
    {"purpose", JV_STRING, 1, 0, 1, 200},
};

/* The area of the emergency body: a drawn polygon ("area"), a circle (lat,
 * lon, radius) or a unit (unit_id); exactly one. */
static int area_from_body(http_req *req, db_conn *c, json_t *body, bd_area *a, const char **field)
{
    json_t *geom = json_object_get(body, "area"), *lat = json_object_get(body, "lat");
    json_t *lon = json_object_get(body, "lon"), *radius = json_object_get(body, "radius");
    const char *crs = jv_str(body, "crs");
    int64_t unit = jv_int(body, "unit_id", 0);
    char *text;
    int rc;

    memset(a, 0, sizeof(*a));
    *field = "area";
    if (!!geom + !!(lat || lon || radius) + !!unit != 1)
        return err_set(&req->err, GR_EINVAL, "area",
                       "give one of area (a GeoJSON polygon), lat/lon/radius or unit_id");
    if (geom) {
        text = json_dumps(geom, JSON_COMPACT | JSON_REAL_PRECISION(17));
        if (!text)
            return err_set(&req->err, GR_EINTERNAL, "area", "out of memory");
        rc = bd_area_parse_polygon(text, strlen(text), crs, "area", a, &req->err);
        free(text);
        return rc;
    }
    if (unit) {
        *field = "unit_id";
        return bd_area_unit(c, unit, "unit_id", a, &req->err);
    }
    *field = "radius";
    if (!lat || !lon)
        return err_set(&req->err, GR_EINVAL, lat ? "lon" : "lat", "is required with radius");
    if (!radius)
        return err_set(&req->err, GR_EINVAL, "radius", "is required with lat and lon");
    if (crs) {
        geo_crs k;
        double la, lo;
        if (geo_crs_arg(crs, &k, &req->err))
            return GR_EINVAL;
        geo_to_wgs84(k, json_number_value(lat), json_number_value(lon), &la, &lo);
        return bd_area_circle(la, lo, json_number_value(radius), a, &req->err);
    }
    return bd_area_circle(json_number_value(lat), json_number_value(lon), json_number_value(radius),
                          a, &req->err);
}

static int handle_emergency(http_req *req)
{
    db_conn *c = bd_http_reader(req);
    json_t *body = NULL, *out = NULL;
    const char *field = "area", *purpose;
    bd_area a;
    int rc;

    memset(&a, 0, sizeof(a));
    if (!c)
        return GR_EUNAVAIL;
    rc = http_read_body(req, f_emergency, sizeof(f_emergency) / sizeof(f_emergency[0]), &body);
    if (!rc)
        rc = area_from_body(req, c, body, &a, &field);
    if (!rc)
        rc = bd_area_scope(c, &a, req->who.scope_org_id, field, &req->err);
    if (!rc)
        rc = bd_area_resolve(c, req->arena, &a, &req->err);
    if (!rc)
        rc = bd_area_emergency(c, &a, &out, &req->err);
    /* The list of vulnerable people is personal data: on the audit log
     * before anything is sent, and nothing sent when that fails. */
    purpose = jv_str(body, "purpose");
    if (!rc)
        rc = audit_record(req, "emergency.view", "area", a.kind == BD_AREA_UNIT ? a.unit : 0,
                          "vulnerable.name,vulnerable.care_tags,vulnerable.house", purpose);
    if (!rc)
        json_object_set_new(out, "purpose", json_string(purpose));
    bd_area_free(&a);
    json_decref(body);
    if (rc) {
        json_decref(out);
        return rc;
    }
    return http_send_json(req, 200, out);
}

void bd_area_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/basedata/area/people", handle_people, "basedata.read");
    http_route(r, "GET", "/api/v1/basedata/area/summary", handle_summary, "basedata.read");
    http_route(r, "GET", "/api/v1/basedata/stats", handle_stats, "basedata.read");
    http_route(r, "POST", "/api/v1/basedata/emergency", handle_emergency, "basedata.emergency");
}
