/*
 * GET /api/v1/basedata/{entity}/export.csv and .geojson: every live record
 * of an entity within the caller's scope, masked values only (people: the
 * masked name; never an ID number or a phone). Written page by page to a
 * temporary file in the data directory and streamed from there, so memory
 * stays flat however many records match.
 */
#include "basedata/bd_units.h"

#include "base/buf.h"
#include "base/csv.h"
#include "base/log.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PAGE = 1000, EXPORT_MAX_ROWS = 2000000 };

#define PREFIX "/api/v1/basedata/"

/* One export in progress. */
struct exp {
    http_req *req;
    FILE *out;
    int geojson;
    int64_t rows;
    const char *const *columns; /* CSV header (NULL: take the first record's keys) */
    int header_done;
    /* The last building looked up (houses and people share buildings). */
    int64_t bid;
    double blat, blon;
    int64_t hid, hbid;
};

static void csv_value(FILE *f, json_t *x)
{
    char num[64];

    if (json_is_string(x))
        csv_field_to_file(f, json_string_value(x), 0);
    else if (json_is_integer(x))
        fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(x));
    else if (json_is_real(x)) {
        snprintf(num, sizeof(num), "%.15g", json_real_value(x));
        fputs(num, f);
    } else if (json_is_true(x))
        fputs("true", f);
    else if (json_is_false(x))
        fputs("false", f);
}

/* Writes one record o (stolen); lat / lon (NAN: no point) give its geometry. */
static void put(struct exp *e, json_t *o, double lat, double lon)
{
    const char *k;
    json_t *x;
    size_t i;

    if (e->geojson) {
        json_t *f = json_pack(
            "{s:s, s:o, s:o}", "type", "Feature", "geometry",
            isnan(lat) ? json_null()
                       : json_pack("{s:s, s:[f, f]}", "type", "Point", "coordinates", lon, lat),
            "properties", o);
        char *s = json_dumps(f, JSON_COMPACT | JSON_REAL_PRECISION(15));

        if (s) {
            fputs(e->rows ? ",\n" : "\n", e->out);
            fputs(s, e->out);
            free(s);
        }
        json_decref(f);
        e->rows++;
        return;
    }
    if (!e->header_done) {
        i = 0;
        if (e->columns)
            for (; e->columns[i]; i++)
                fprintf(e->out, "%s%s", i ? "," : "", e->columns[i]);
        else
            json_object_foreach(o, k, x) fprintf(e->out, "%s%s", i++ ? "," : "", k);
        fputs("\r\n", e->out);
        e->header_done = 1;
    }
    i = 0;
    if (e->columns)
        for (; e->columns[i]; i++) {
            if (i)
                fputc(',', e->out);
            csv_value(e->out, json_object_get(o, e->columns[i]));
        }
    else
        json_object_foreach(o, k, x)
        {
            if (i++)
                fputc(',', e->out);
            csv_value(e->out, x);
        }
    fputs("\r\n", e->out);
    json_decref(o);
    e->rows++;
}

static void meta_put(json_t *o, const bd_meta *m)
{
    json_object_set_new(o, "version", json_integer(m->version));
    json_object_set_new(o, "steward_org_id", json_integer(m->steward_org_id));
    json_object_set_new(o, "source", json_string(m->source ? m->source : ""));
    json_object_set_new(o, "street_id", http_json_id(m->chain[2]));
    json_object_set_new(o, "community_id", http_json_id(m->chain[3]));
    json_object_set_new(o, "grid_id", http_json_id(m->chain[4]));
    json_object_set_new(o, "updated_at", http_json_time(m->updated_at));
}

/* The point of building id (cached: lists come in id order, houses of one
 * building together). */
static void building_point(struct exp *e, db_conn *c, arena *a, int64_t id, double *lat,
                           double *lon)
{
    bd_building b;
    gr_err err;

    if (id && id != e->bid) {
        e->bid = id;
        e->blat = e->blon = NAN;
        if (!bd_building_get(c, a, id, &b, &err)) {
            e->blat = b.lat;
            e->blon = b.lon;
        }
    }
    *lat = id ? e->blat : NAN;
    *lon = id ? e->blon : NAN;
}

static int64_t house_building(struct exp *e, db_conn *c, arena *a, int64_t house)
{
    bd_house h;
    gr_err err;

    if (house && house != e->hid) {
        e->hid = house;
        e->hbid = bd_house_get(c, a, house, &h, &err) ? 0 : h.building_id;
    }
    return house ? e->hbid : 0;
}

static const char *const building_cols[] = {
    "id",     "district",  "street",       "road",    "house_number", "building",
    "lat",    "lon",       "floors",       "use",     "version",      "steward_org_id",
    "source", "street_id", "community_id", "grid_id", "updated_at",   NULL};
static const char *const house_cols[] = {
    "id",        "building_id", "unit",    "floor",          "room",   "area_m2",   "use",
    "ownership", "occupancy",   "version", "steward_org_id", "source", "street_id", "community_id",
    "grid_id",   "updated_at",  NULL};
static const char *const person_cols[] = {
    "id",           "name",    "residency",      "house_id", "relation",
    "care_tags",    "version", "steward_org_id", "source",   "street_id",
    "community_id", "grid_id", "updated_at",     NULL};

/* A's entities, a page at a time. */
static int export_places(struct exp *e, db_conn *c, const char *entity, int64_t scope, gr_err *err)
{
    bd_filter f;
    arena *a = arena_new();
    int more = 1, rc = 0;
    size_t n, i;

    memset(&f, 0, sizeof(f));
    f.scope = scope;
    f.limit = PAGE;
    while (!rc && more && e->rows < EXPORT_MAX_ROWS) {
        arena_reset(a);
        if (strcmp(entity, "buildings") == 0) {
            bd_building *v = NULL;

            rc = bd_building_list(c, a, &f, &v, &n, &more, err);
            for (i = 0; !rc && i < n; i++) {
                json_t *o = json_pack(
                    "{s:I, s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:o, s:s}", "id",
                    (json_int_t)v[i].m.id, "district", v[i].district, "street", v[i].street, "road",
                    v[i].road, "house_number", v[i].house_number, "building",
                    v[i].building ? v[i].building : "", "lat", v[i].lat, "lon", v[i].lon, "floors",
                    v[i].floors ? json_integer(v[i].floors) : json_null(), "use",
                    v[i].use ? v[i].use : "");

                meta_put(o, &v[i].m);
                put(e, o, v[i].lat, v[i].lon);
                f.after = v[i].m.id;
            }
        } else if (strcmp(entity, "houses") == 0) {
            bd_house *v = NULL;

            rc = bd_house_list(c, a, &f, &v, &n, &more, err);
            for (i = 0; !rc && i < n; i++) {
                double lat, lon;
                json_t *o = json_pack(
                    "{s:I, s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:s}", "id", (json_int_t)v[i].m.id,
                    "building_id", (json_int_t)v[i].building_id, "unit", v[i].unit ? v[i].unit : "",
                    "floor", v[i].has_floor ? json_integer(v[i].floor) : json_null(), "room",
                    v[i].room ? v[i].room : "", "area_m2",
                    v[i].area_m2 > 0 ? json_real(v[i].area_m2) : json_null(), "use",
                    v[i].use ? v[i].use : "", "ownership", v[i].ownership ? v[i].ownership : "",
                    "occupancy", v[i].occupancy ? v[i].occupancy : "");

                meta_put(o, &v[i].m);
                building_point(e, c, a, v[i].building_id, &lat, &lon);
                put(e, o, lat, lon);
                f.after = v[i].m.id;
            }
        } else {
            bd_person *v = NULL;

            rc = bd_person_list(c, a, &f, &v, &n, &more, err);
            for (i = 0; !rc && i < n; i++) {
                double lat, lon;
                /* Masked name only: no ID number, no phone, no birth date. */
                json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:s}", "id", (json_int_t)v[i].m.id,
                                      "name", v[i].name_hint ? v[i].name_hint : "", "residency",
                                      v[i].residency ? v[i].residency : "", "house_id",
                                      http_json_id(v[i].house_id), "relation",
                                      v[i].relation ? json_string(v[i].relation) : json_null(),
                                      "care_tags", v[i].care_tags ? v[i].care_tags : "");

                meta_put(o, &v[i].m);
                building_point(e, c, a, house_building(e, c, a, v[i].house_id), &lat, &lon);
                put(e, o, lat, lon);
                f.after = v[i].m.id;
            }
        }
    }
    arena_free(a);
    return rc;
}

/* B's entities, a page at a time. */
static int export_units(struct exp *e, db_conn *c, const bd_unit_def *d, int64_t scope, gr_err *err)
{
    bd_unit_filter f;
    int more = 1, rc = 0;

    memset(&f, 0, sizeof(f));
    f.scope = scope;
    f.limit = PAGE;
    while (!rc && more && e->rows < EXPORT_MAX_ROWS) {
        json_t *items = NULL, *o;
        int64_t last = 0;
        size_t i;

        rc = bd_unit_list(c, d, &f, &items, &more, &last, err);
        json_array_foreach(items, i, o)
        {
            json_t *la = json_object_get(o, "lat"), *lo = json_object_get(o, "lon");

            put(e, json_incref(o), json_is_number(la) ? json_number_value(la) : NAN,
                json_is_number(lo) ? json_number_value(lo) : NAN);
        }
        json_decref(items);
        f.after = last;
    }
    return rc;
}

/* "/api/v1/basedata/orgs/export.csv" -> "orgs". */
static const char *route_entity(http_req *req, char *name, size_t cap)
{
    const char *p = req->path + strlen(PREFIX);
    size_t n = strcspn(p, "/");

    if (n >= cap)
        n = 0;
    memcpy(name, p, n);
    name[n] = '\0';
    return name;
}

static int handle_export(http_req *req)
{
    char path[4096], name[32], disp[96], num[32];
    const bd_unit_def *d;
    struct exp e;
    db_conn *c;
    int fd, rc;

    memset(&e, 0, sizeof(e));
    e.req = req;
    e.bid = e.hid = -1;
    e.geojson = strstr(req->path, ".geojson") != NULL;
    if (req->who.scope_org_id <= 0)
        return err_set(&req->err, GR_EFORBIDDEN, "",
                       "your account has no place in the org tree (no scope)");
    route_entity(req, name, sizeof(name));
    d = bd_unit_find(name);
    if (!(c = db_reader(req->db)))
        return err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    snprintf(path, sizeof(path), "%s/export-XXXXXX", req->ctx->data_dir);
    fd = mkstemp(path);
    if (fd < 0 || !(e.out = fdopen(fd, "w+"))) {
        if (fd >= 0)
            close(fd);
        log_msg(LOG_ERROR, "basedata.export", "cannot create a temporary file");
        return err_set(&req->err, GR_EUNAVAIL, "", "cannot prepare the export now");
    }
    if (e.geojson)
        fputs("{\"type\":\"FeatureCollection\",\"features\":[", e.out);
    else if (strcmp(name, "buildings") == 0)
        e.columns = building_cols;
    else if (strcmp(name, "houses") == 0)
        e.columns = house_cols;
    else if (strcmp(name, "people") == 0)
        e.columns = person_cols;
    if (d && !e.geojson)
        e.columns = bd_unit_columns(d);
    if (e.columns) {
        size_t i;

        for (i = 0; e.columns[i]; i++)
            fprintf(e.out, "%s%s", i ? "," : "", e.columns[i]);
        fputs("\r\n", e.out);
        e.header_done = 1;
    }
    if (d)
        rc = export_units(&e, c, d, req->who.scope_org_id, &req->err);
    else
        rc = export_places(&e, c, name, req->who.scope_org_id, &req->err);
    if (e.geojson)
        fputs("\n]}\n", e.out);
    if (fclose(e.out) && !rc)
        rc = err_set(&req->err, GR_EINTERNAL, "", "cannot write the export");
    if (!rc) {
        snprintf(disp, sizeof(disp), "attachment; filename=\"%s.%s\"", name,
                 e.geojson ? "geojson" : "csv");
        http_add_header(req, "Content-Disposition", disp);
        if (e.rows >= EXPORT_MAX_ROWS) {
            snprintf(num, sizeof(num), "%d", EXPORT_MAX_ROWS);
            http_add_header(req, "X-Truncated", num);
        }
        rc =
            http_send_file(req, 200, e.geojson ? "application/geo+json" : "text/csv; charset=utf-8",
                           path, NULL, NULL);
    }
    unlink(path);
    if (!rc)
        log_msg(LOG_INFO, "basedata.export", "user %" PRId64 " exported %" PRId64 " %s",
                req->who.user_id, e.rows, name);
    return rc;
}

void bd_export_api_register(http_router *r)
{
    static const char *const names[] = {"buildings", "houses",     "people",
                                        "orgs",      "facilities", "spaces"};
    char p[128];
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(p, sizeof(p), PREFIX "%s/export.csv", names[i]);
        http_route(r, "GET", p, handle_export, "basedata.read");
        snprintf(p, sizeof(p), PREFIX "%s/export.geojson", names[i]);
        http_route(r, "GET", p, handle_export, "basedata.read");
    }
}
