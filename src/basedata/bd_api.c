/*
 * The HTTP routes of buildings, houses and people: JSON in and out, masking,
 * the reduced view of department staff, audited reveals, history and
 * prefill. The rules live in the model (bd_places.c, bd_people.c); this file
 * translates and decides who sees which field (docs/basedata.md, "Privacy").
 */
#include "basedata/basedata.h"
#include "basedata/bd_model.h"
#include "basedata/bd_http.h"

#include "auth/policy.h"
#include "geo/coord.h"
#include "privacy/audit.h"

#include <stdlib.h>
#include <string.h>

enum { PAGE_DEFAULT = 20, PAGE_MAX = 100 };

static int role_is(const http_req *req, const char *role)
{
    return req->who.role && strcmp(req->who.role, role) == 0;
}

/* ---- JSON ---- */

static void meta_json(json_t *o, const bd_meta *m)
{
    static const char *const chain[] = {"city_id", "district_id", "street_id", "community_id",
                                        "grid_id"};
    int i;

    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "version", json_integer(m->version));
    json_object_set_new(o, "steward_org_id", http_json_id(m->steward_org_id));
    json_object_set_new(o, "steward_user_id", http_json_id(m->steward_user_id));
    json_object_set_new(o, "source", bd_json_str_or_null(m->source));
    for (i = 0; i < 5; i++)
        json_object_set_new(o, chain[i], http_json_id(m->chain[i]));
    json_object_set_new(o, "created_at", http_json_time(m->created_at));
    json_object_set_new(o, "updated_at", http_json_time(m->updated_at));
    json_object_set_new(o, "retired_at", http_json_time(m->retired_at));
}

static json_t *building_json(const void *item)
{
    const bd_building *b = item;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:o, s:s}", "district", b->district,
                          "street", b->street, "road", b->road, "house_number", b->house_number,
                          "building", b->building, "lat", b->lat, "lon", b->lon, "floors",
                          b->floors ? json_integer(b->floors) : json_null(), "use", b->use);

    meta_json(o, &b->m);
    return o;
}

static json_t *house_json(const void *item)
{
    const bd_house *h = item;
    json_t *o = json_pack("{s:I, s:s, s:o, s:s, s:o, s:s, s:s, s:s}", "building_id",
                          (json_int_t)h->building_id, "unit", h->unit, "floor",
                          h->has_floor ? json_integer(h->floor) : json_null(), "room", h->room,
                          "area_m2", h->area_m2 > 0 ? json_real(h->area_m2) : json_null(), "use",
                          h->use, "ownership", h->ownership, "occupancy", h->occupancy);

    meta_json(o, &h->m);
    return o;
}

/* The masked view; department staff get no ID number and no phone at all. */
static json_t *person_view(const bd_person *p, int reduced)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}",
                          "name", p->name_hint, "birth_date", p->birth_date, "sex", p->sex,
                          "ethnicity", bd_json_str_or_null(p->ethnicity), "residency", p->residency,
                          "permit_start", bd_json_str_or_null(p->permit_start), "permit_end",
                          bd_json_str_or_null(p->permit_end), "house_id", http_json_id(p->house_id),
                          "relation", bd_json_str_or_null(p->relation), "employment",
                          bd_json_str_or_null(p->employment), "social_security",
                          bd_json_str_or_null(p->social_security), "care_tags",
                          bd_json_list(p->care_tags), "revealed", json_array(), "masked", 1);

    if (!reduced) {
        json_object_set_new(o, "id_number", json_string(p->id_number_hint));
        json_object_set_new(o, "phone", bd_json_str_or_null(p->phone_hint));
    }
    meta_json(o, &p->m);
    return o;
}

static json_t *person_json(const void *item)
{
    return person_view(item, 0);
}

static json_t *person_json_reduced(const void *item)
{
    return person_view(item, 1);
}

/* department_staff: "a department sees only the fields its role needs". */
static int reduced_view(const http_req *req)
{
    return role_is(req, "department_staff");
}

/* ---- body helpers ---- */

/* A PATCH keeps what the body leaves out; a present null clears. */
static const char *ov_str(json_t *body, const char *k, const char *cur)
{
    json_t *v = json_object_get(body, k);

    if (!v)
        return cur;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t ov_int(json_t *body, const char *k, int64_t cur)
{
    json_t *v = json_object_get(body, k);

    if (!v)
        return cur;
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* lat and lon (in crs, converted to WGS-84); both or neither. */
static int point_in(http_req *req, json_t *body, int required, double *lat, double *lon)
{
    json_t *jlat = json_object_get(body, "lat"), *jlon = json_object_get(body, "lon");
    const char *crs_name = jv_str(body, "crs");
    geo_crs crs = GEO_CRS_WGS84;

    if (geo_crs_arg(crs_name, &crs, &req->err))
        return GR_EINVAL;
    if (!jlat != !jlon)
        return err_set(&req->err, GR_EINVAL, jlat ? "lon" : "lat", "is required with %s",
                       jlat ? "lat" : "lon");
    if (!jlat)
        return required ? err_set(&req->err, GR_EINVAL, "lat", "is required") : 0;
    *lat = json_number_value(jlat);
    *lon = json_number_value(jlon);
    if (geo_check_latlon(*lat, *lon, &req->err))
        return GR_EINVAL;
    geo_to_wgs84(crs, *lat, *lon, lat, lon);
    return 0;
}

static void meta_in(json_t *body, bd_meta *m)
{
    m->steward_org_id = ov_int(body, "steward_org_id", m->steward_org_id);
    m->steward_user_id = ov_int(body, "steward_user_id", m->steward_user_id);
    m->source = ov_str(body, "source", m->source);
}

#define F_META                                                                                     \
    {"steward_org_id", JV_INT, 0, 0, 1, BD_ID_MAX},                                                \
        {"steward_user_id", JV_INT, 0, 1, 1, BD_ID_MAX},                                           \
    {                                                                                              \
        "source", JV_STRING, 0, 0, 1, 16                                                           \
    }
#define F_BUILDING                                                                                 \
    {"district", JV_STRING, 0, 0, 1, BD_TEXT_MAX}, {"street", JV_STRING, 0, 0, 1, BD_TEXT_MAX},    \
        {"road", JV_STRING, 0, 0, 1, BD_TEXT_MAX}, {"house_number", JV_STRING, 0, 0, 1, 20},       \
        {"building", JV_STRING, 0, 1, 0, BD_TEXT_MAX}, {"lat", JV_NUMBER, 0, 0, -90, 90},          \
        {"lon", JV_NUMBER, 0, 0, -180, 180}, {"crs", JV_STRING, 0, 0, 1, 8},                       \
        {"floors", JV_INT, 0, 1, 1, 200}, {"use", JV_STRING, 0, 0, 1, 16}, F_META
#define F_HOUSE                                                                                    \
    {"building_id", JV_INT, 0, 0, 1, BD_ID_MAX}, {"unit", JV_STRING, 0, 1, 0, 20},                 \
        {"floor", JV_INT, 0, 1, -10, 200}, {"room", JV_STRING, 0, 0, 1, 20},                       \
        {"area_m2", JV_NUMBER, 0, 1, 0, 1e6}, {"use", JV_STRING, 0, 0, 1, 16},                     \
        {"ownership", JV_STRING, 0, 0, 1, 16}, {"occupancy", JV_STRING, 0, 0, 1, 16}, F_META
#define F_PERSON                                                                                   \
    {"name", JV_STRING, 0, 0, 1, BD_NAME_MAX}, {"id_number", JV_STRING, 0, 0, 1, 32},              \
        {"phone", JV_STRING, 0, 1, 1, 20}, {"ethnicity", JV_STRING, 0, 1, 1, 20},                  \
        {"residency", JV_STRING, 0, 0, 1, 16}, {"permit_start", JV_STRING, 0, 1, 10, 10},          \
        {"permit_end", JV_STRING, 0, 1, 10, 10}, {"house_id", JV_INT, 0, 1, 1, BD_ID_MAX},         \
        {"relation", JV_STRING, 0, 1, 1, 16}, {"employment", JV_STRING, 0, 1, 1, 16},              \
        {"social_security", JV_STRING, 0, 1, 1, 16}, {"care_tags", JV_ARRAY, 0, 0, 0, 0}, F_META
#define F_VERSION                                                                                  \
    {                                                                                              \
        "version", JV_INT, 1, 0, 1, BD_ID_MAX                                                      \
    }

static const jv_field f_building_new[] = {F_BUILDING};
static const jv_field f_building_patch[] = {F_BUILDING, F_VERSION};
static const jv_field f_house_new[] = {F_HOUSE};
static const jv_field f_house_patch[] = {F_HOUSE, F_VERSION};
static const jv_field f_person_new[] = {F_PERSON};
static const jv_field f_person_patch[] = {F_PERSON, F_VERSION};
static const jv_field f_retire[] = {F_VERSION};
#define NF(a) (sizeof(a) / sizeof(a[0]))

static int building_in(http_req *req, json_t *body, void *item)
{
    bd_building *b = item;
    json_t *floors = json_object_get(body, "floors");

    b->district = ov_str(body, "district", b->district);
    b->street = ov_str(body, "street", b->street);
    b->road = ov_str(body, "road", b->road);
    b->house_number = ov_str(body, "house_number", b->house_number);
    b->building = ov_str(body, "building", b->building);
    b->use = ov_str(body, "use", b->use);
    if (floors)
        b->floors = (int)ov_int(body, "floors", 0);
    meta_in(body, &b->m);
    return point_in(req, body, b->m.id == 0, &b->lat, &b->lon);
}

static int house_in(http_req *req, json_t *body, void *item)
{
    json_t *floor = json_object_get(body, "floor"), *area = json_object_get(body, "area_m2");
    bd_house *h = item;

    (void)req;
    h->building_id = ov_int(body, "building_id", h->building_id);
    h->unit = ov_str(body, "unit", h->unit);
    h->room = ov_str(body, "room", h->room);
    h->use = ov_str(body, "use", h->use);
    h->ownership = ov_str(body, "ownership", h->ownership);
    h->occupancy = ov_str(body, "occupancy", h->occupancy);
    if (floor) {
        h->has_floor = json_is_integer(floor);
        h->floor = (int)json_integer_value(floor);
    }
    if (area)
        h->area_m2 = json_is_number(area) ? json_number_value(area) : 0;
    meta_in(body, &h->m);
    return 0;
}

static int tags_in(http_req *req, json_t *body, bd_person_input *in)
{
    json_t *a = json_object_get(body, "care_tags"), *v;
    size_t i;

    if (!a)
        return 0;
    if (json_array_size(a) > BD_TAGS_MAX)
        return err_set(&req->err, GR_EINVAL, "care_tags", "at most %d tags", BD_TAGS_MAX);
    in->ncare_tags = 0;
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v))
            return err_set(&req->err, GR_EINVAL, "care_tags", "must be an array of tag codes");
        in->care_tags[in->ncare_tags++] = json_string_value(v);
    }
    return 0;
}

static int person_in(http_req *req, json_t *body, bd_person_input *in)
{
    json_t *phone = json_object_get(body, "phone");

    in->name = jv_str(body, "name");
    in->id_number = jv_str(body, "id_number");
    in->phone = jv_str(body, "phone");
    in->phone_clear = phone && json_is_null(phone);
    in->ethnicity = ov_str(body, "ethnicity", in->ethnicity);
    in->residency = ov_str(body, "residency", in->residency);
    in->permit_start = ov_str(body, "permit_start", in->permit_start);
    in->permit_end = ov_str(body, "permit_end", in->permit_end);
    in->house_id = ov_int(body, "house_id", in->house_id);
    in->relation = ov_str(body, "relation", in->relation);
    in->employment = ov_str(body, "employment", in->employment);
    in->social_security = ov_str(body, "social_security", in->social_security);
    in->steward_org_id = ov_int(body, "steward_org_id", in->steward_org_id);
    in->steward_user_id = ov_int(body, "steward_user_id", in->steward_user_id);
    in->source = ov_str(body, "source", in->source);
    return tags_in(req, body, in);
}

/* ---- writes ---- */

enum { W_BUILDING, W_HOUSE, W_PERSON, W_RETIRE };

typedef struct write_arg {
    gr_ctx *ctx;
    bd_actor who;
    int kind;
    void *in;
    const char *entity; /* W_RETIRE */
    int64_t id, version;
    int changed;
} write_arg;

static int write_fn(db_conn *c, void *arg, gr_err *err)
{
    write_arg *w = arg;

    switch (w->kind) {
    case W_BUILDING:
        return bd_building_write(w->ctx, c, &w->who, w->in, &w->id, w->version, &w->changed, err);
    case W_HOUSE:
        return bd_house_write(w->ctx, c, &w->who, w->in, &w->id, w->version, &w->changed, err);
    case W_PERSON:
        return bd_person_write(w->ctx, c, &w->who, w->in, &w->id, w->version, &w->changed, err);
    default:
        return bd_retire_write(w->ctx, c, &w->who, w->entity, w->id, w->version, err);
    }
}

static int write_run(http_req *req, int kind, void *in, int64_t *id, int64_t version)
{
    write_arg w = {req->ctx, {0}, kind, in, NULL, *id, version, 0};
    int rc;

    bd_http_actor(req, &w.who);
    rc = db_write(req->db, write_fn, &w, &req->err);
    *id = w.id;
    return rc;
}

/* ---- loading with scope ---- */

static int scope_read(http_req *req, db_conn *c, const bd_meta *m)
{
    bd_actor who;

    bd_http_actor(req, &who);
    return bd_scope_check(c, &who, m, &req->err);
}

static int load_person(http_req *req, db_conn *c, int64_t id, bd_person *p)
{
    int rc = bd_person_get(c, req->arena, id, p, &req->err);

    return rc ? rc : scope_read(req, c, &p->m);
}

/* ---- buildings and houses ---- */

/* What tells a building from a house in the routes they share; every other
 * step of create, get, patch and list is the same for both. */
typedef struct place_kind {
    int kind; /* W_BUILDING or W_HOUSE */
    size_t size;
    const jv_field *f_new, *f_patch;
    size_t nf_new, nf_patch;
    int (*get)(db_conn *c, arena *a, int64_t id, void *out, gr_err *err);
    int (*list)(db_conn *c, arena *a, const bd_filter *f, void **out, size_t *n, int *more,
                gr_err *err);
    int (*in)(http_req *req, json_t *body, void *item);
    json_t *(*to_json)(const void *item);
} place_kind;

static int building_get(db_conn *c, arena *a, int64_t id, void *out, gr_err *err)
{
    return bd_building_get(c, a, id, out, err);
}

static int house_get(db_conn *c, arena *a, int64_t id, void *out, gr_err *err)
{
    return bd_house_get(c, a, id, out, err);
}

static int building_list(db_conn *c, arena *a, const bd_filter *f, void **out, size_t *n, int *more,
                         gr_err *err)
{
    bd_building *v = NULL;
    int rc = bd_building_list(c, a, f, &v, n, more, err);

    *out = v;
    return rc;
}

static int house_list(db_conn *c, arena *a, const bd_filter *f, void **out, size_t *n, int *more,
                      gr_err *err)
{
    bd_house *v = NULL;
    int rc = bd_house_list(c, a, f, &v, n, more, err);

    *out = v;
    return rc;
}

static const place_kind k_building = {
    W_BUILDING,           sizeof(bd_building), f_building_new, f_building_patch, NF(f_building_new),
    NF(f_building_patch), building_get,        building_list,  building_in,      building_json};
static const place_kind k_house = {W_HOUSE,         sizeof(bd_house),  f_house_new, f_house_patch,
                                   NF(f_house_new), NF(f_house_patch), house_get,   house_list,
                                   house_in,        house_json};

/* The entity of a route: "/api/v1/basedata/<collection>...". */
static const char *route_entity(const http_req *req)
{
    const char *p = req->route + strlen("/api/v1/basedata/");

    if (strncmp(p, "buildings", 9) == 0)
        return "building";
    if (strncmp(p, "houses", 6) == 0)
        return "house";
    return "person";
}

/* The place kind of entity, NULL for a person. */
static const place_kind *place_of(const char *entity)
{
    if (strcmp(entity, "building") == 0)
        return &k_building;
    if (strcmp(entity, "house") == 0)
        return &k_house;
    return NULL;
}

/* The place kind of a buildings or houses route (the only routes the place
 * handlers are registered on). */
static const place_kind *place_route(const http_req *req)
{
    return strcmp(route_entity(req), "building") == 0 ? &k_building : &k_house;
}

/* Every record struct starts with its bd_meta. */
static int64_t place_id(const void *item)
{
    return ((const bd_meta *)item)->id;
}

static int load_place(http_req *req, db_conn *c, const place_kind *k, int64_t id, void *item)
{
    int rc = k->get(c, req->arena, id, item, &req->err);

    return rc ? rc : scope_read(req, c, item);
}

/* The place as stored, within the caller's scope (a write in scope leaves
 * it there: bd_write_allowed checks the new units too). */
static int send_place(http_req *req, const place_kind *k, int status, int64_t id)
{
    db_conn *c = bd_http_reader(req);
    void *item;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    item = arena_alloc(req->arena, k->size);
    rc = load_place(req, c, k, id, item);
    return rc ? rc : http_send_json(req, status, k->to_json(item));
}

static int place_create(http_req *req, const place_kind *k)
{
    void *item = arena_zalloc(req->arena, k->size);
    json_t *body = NULL;
    int64_t id = 0;
    int rc = http_read_body(req, k->f_new, k->nf_new, &body);

    if (!rc)
        rc = k->in(req, body, item);
    if (!rc)
        rc = write_run(req, k->kind, item, &id, 0);
    json_decref(body);
    return rc ? rc : send_place(req, k, 201, id);
}

static int place_get(http_req *req, const place_kind *k)
{
    return send_place(req, k, 200, http_param_int(req, "id"));
}

static int place_patch(http_req *req, const place_kind *k)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = bd_http_reader(req);
    json_t *body = NULL;
    void *item;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    item = arena_alloc(req->arena, k->size);
    rc = http_read_body(req, k->f_patch, k->nf_patch, &body);
    if (!rc)
        rc = load_place(req, c, k, id, item);
    if (!rc)
        rc = k->in(req, body, item);
    if (!rc)
        rc = write_run(req, k->kind, item, &id, jv_int(body, "version", 0));
    json_decref(body);
    return rc ? rc : send_place(req, k, 200, id);
}

/* The filters every list shares (the caller's scope always applies). */
static int filter_in(http_req *req, bd_filter *f)
{
    int rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &f->limit, &f->after);

    f->scope = req->who.scope_org_id;
    if (!rc)
        rc = http_query_int(req, "grid_id", 1, (int64_t)BD_ID_MAX, 0, &f->grid_id);
    if (!rc)
        rc = http_query_int(req, "community_id", 1, (int64_t)BD_ID_MAX, 0, &f->community_id);
    if (!rc)
        rc = http_query_int(req, "building_id", 1, (int64_t)BD_ID_MAX, 0, &f->building_id);
    if (!rc)
        rc = http_query_int(req, "house_id", 1, (int64_t)BD_ID_MAX, 0, &f->house_id);
    return rc;
}

static int place_list(http_req *req, const place_kind *k)
{
    db_conn *c = bd_http_reader(req);
    bd_filter f = {0};
    void *v = NULL;
    size_t n = 0;
    int more = 0, rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = filter_in(req, &f);
    if (!rc)
        rc = k->list(c, req->arena, &f, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, k->size, k->to_json, more,
                           n ? place_id((const char *)v + (n - 1) * k->size) : 0);
}

/* The routes' entries, shared by buildings and houses: the route says which. */
static int handle_place_create(http_req *req)
{
    return place_create(req, place_route(req));
}

static int handle_place_get(http_req *req)
{
    return place_get(req, place_route(req));
}

static int handle_place_patch(http_req *req)
{
    return place_patch(req, place_route(req));
}

static int handle_place_list(http_req *req)
{
    return place_list(req, place_route(req));
}

/* ---- people ---- */

/* Which fields ?reveal= asks for: BD_F_* bits; GR_EINVAL naming "reveal". */
static int reveal_fields(http_req *req, const char *s, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"name", BD_F_NAME}, {"id_number", BD_F_ID_NUMBER}, {"phone", BD_F_PHONE}};
    const char *p = s;
    size_t i, len;

    *out = 0;
    while (p && *p) {
        len = strcspn(p, ",");
        for (i = 0; i < 3; i++)
            if (strlen(names[i].name) == len && strncmp(p, names[i].name, len) == 0)
                break;
        if (i == 3)
            return err_set(&req->err, GR_EINVAL, "reveal",
                           "must list fields among name, id_number, phone");
        *out |= names[i].bit;
        p += len + (p[len] == ',');
    }
    if (!*out)
        return err_set(&req->err, GR_EINVAL, "reveal", "names no field");
    return 0;
}

/* The reveal request of a read: permission, purpose, fields. *fields 0: none asked. */
static int reveal_check(http_req *req, unsigned *fields, const char **purpose)
{
    const char *s = http_query(req, "reveal");

    *fields = 0;
    *purpose = http_query(req, "purpose");
    if (!s)
        return 0;
    if (!policy_allows(req->who.role, "basedata.reveal"))
        return err_set(&req->err, GR_EFORBIDDEN, "reveal",
                       "the role %s may not reveal personal data (basedata.reveal)", req->who.role);
    if (!*purpose || !**purpose)
        return err_set(&req->err, GR_EINVAL, "purpose", "is required to reveal full values");
    if (strlen(*purpose) > 200)
        return err_set(&req->err, GR_EINVAL, "purpose", "must be at most 200 characters");
    return reveal_fields(req, s, fields);
}

static const char *fields_text(arena *a, unsigned f)
{
    return arena_printf(
        a, "%s%s%s%s%s", f & BD_F_NAME ? "name" : "",
        (f & BD_F_NAME) && (f & ~BD_F_NAME) ? "," : "", f & BD_F_ID_NUMBER ? "id_number" : "",
        (f & BD_F_ID_NUMBER) && (f & BD_F_PHONE) ? "," : "", f & BD_F_PHONE ? "phone" : "");
}

/* Opens the asked fields, records the reveal, then puts the values in o. */
static int reveal_apply(http_req *req, db_conn *c, int64_t id, unsigned fields, const char *purpose,
                        json_t *o)
{
    bd_person_clear clear;
    const char *names = fields_text(req->arena, fields);
    json_t *done = json_object_get(o, "revealed");
    int rc = bd_person_reveal(req->ctx, c, req->arena, id, fields, &clear, &req->err);

    if (!rc)
        rc = audit_record(req, "reveal", "person", id, names, purpose);
    if (rc)
        return rc;
    if (fields & BD_F_NAME) {
        json_object_set_new(o, "name", json_string(clear.name));
        json_array_append_new(done, json_string("name"));
    }
    if (fields & BD_F_ID_NUMBER) {
        json_object_set_new(o, "id_number", json_string(clear.id_number));
        json_array_append_new(done, json_string("id_number"));
    }
    if (fields & BD_F_PHONE) {
        json_object_set_new(o, "phone", bd_json_str_or_null(clear.phone));
        json_array_append_new(done, json_string("phone"));
    }
    json_object_set_new(o, "masked", json_false());
    return 0;
}

static int send_person(http_req *req, int status, int64_t id)
{
    db_conn *c = bd_http_reader(req);
    bd_person p;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = load_person(req, c, id, &p);
    return rc ? rc : http_send_json(req, status, person_view(&p, reduced_view(req)));
}

static int handle_person_create(http_req *req)
{
    bd_person_input in;
    json_t *body = NULL;
    int64_t id = 0;
    int rc = http_read_body(req, f_person_new, NF(f_person_new), &body);

    memset(&in, 0, sizeof(in));
    if (!rc)
        rc = person_in(req, body, &in);
    if (!rc)
        rc = write_run(req, W_PERSON, &in, &id, 0);
    json_decref(body);
    return rc ? rc : send_person(req, 201, id);
}

static int handle_person_get(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = bd_http_reader(req);
    const char *purpose;
    unsigned fields;
    bd_person p;
    json_t *o;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = reveal_check(req, &fields, &purpose);
    if (!rc)
        rc = load_person(req, c, id, &p);
    if (rc)
        return rc;
    o = person_view(&p, reduced_view(req));
    if (fields && (rc = reveal_apply(req, c, id, fields, purpose, o)) != 0) {
        json_decref(o);
        return rc;
    }
    return http_send_json(req, 200, o);
}

static int handle_person_patch(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = bd_http_reader(req);
    json_t *body = NULL;
    bd_person_input in;
    bd_person p;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = http_read_body(req, f_person_patch, NF(f_person_patch), &body);
    if (!rc)
        rc = load_person(req, c, id, &p);
    if (!rc) {
        bd_person_input_from(&p, &in);
        bd_person_tags_split(req->arena, p.care_tags, &in);
        rc = person_in(req, body, &in);
    }
    if (!rc)
        rc = write_run(req, W_PERSON, &in, &id, jv_int(body, "version", 0));
    json_decref(body);
    return rc ? rc : send_person(req, 200, id);
}

/* The person filters: residency, care tag, and exact name or ID number
 * through their blind indexes (never by decrypting). */
static int person_filter_in(http_req *req, bd_filter *f)
{
    const char *name = bd_trim(req->arena, http_query(req, "name"));
    const char *idn = bd_trim(req->arena, http_query(req, "id_number"));
    unsigned char *ix;
    int rc = filter_in(req, f);

    if (!rc)
        rc = bd_enum_check(http_query(req, "residency"), bd_residencies, bd_nresidencies,
                           "residency", &f->residency, &req->err);
    if (!rc)
        rc = bd_enum_check(http_query(req, "care_tag"), bd_care_tags, bd_ncare_tags, "care_tag",
                           &f->care_tag, &req->err);
    if (!rc && name) {
        ix = arena_alloc(req->arena, 32);
        bd_blind_index(req->ctx, BD_AD_NAME, name, ix);
        f->name_index = ix;
    }
    /* A role that does not see ID numbers does not search by them either. */
    if (!rc && idn && reduced_view(req))
        rc = err_set(&req->err, GR_EFORBIDDEN, "id_number", "the role %s does not see ID numbers",
                     req->who.role);
    if (!rc && idn) {
        ix = arena_alloc(req->arena, 32);
        bd_blind_index(req->ctx, BD_AD_ID_NUMBER, idn, ix);
        f->id_number_index = ix;
    }
    if (!rc && http_query(req, "reveal"))
        rc = err_set(&req->err, GR_EINVAL, "reveal", "full values are shown one person at a time");
    return rc;
}

static int send_people(http_req *req, db_conn *c, bd_filter *f)
{
    bd_person *v = NULL;
    size_t n = 0;
    int more = 0;
    int rc = bd_person_list(c, req->arena, f, &v, &n, &more, &req->err);

    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v),
                           reduced_view(req) ? person_json_reduced : person_json, more,
                           n ? v[n - 1].m.id : 0);
}

static int handle_person_list(http_req *req)
{
    db_conn *c = bd_http_reader(req);
    bd_filter f = {0};
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = person_filter_in(req, &f);
    return rc ? rc : send_people(req, c, &f);
}

/* Who lives in a house or a building (以房管人). */
static int place_people(http_req *req, const place_kind *k)
{
    db_conn *c = bd_http_reader(req);
    bd_filter f = {0};
    void *item;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    item = arena_alloc(req->arena, k->size);
    rc = load_place(req, c, k, http_param_int(req, "id"), item);
    if (!rc)
        rc = person_filter_in(req, &f);
    if (rc)
        return rc;
    if (k->kind == W_HOUSE)
        f.house_id = place_id(item);
    else
        f.building_id = place_id(item);
    return send_people(req, c, &f);
}

static int handle_place_people(http_req *req)
{
    return place_people(req, place_route(req));
}

/* ---- retire, history ---- */

static int load_meta(http_req *req, db_conn *c, const char *entity, int64_t id)
{
    const place_kind *k = place_of(entity);
    bd_person p;

    if (k)
        return load_place(req, c, k, id, arena_alloc(req->arena, k->size));
    return load_person(req, c, id, &p);
}

static int handle_retire(http_req *req)
{
    const char *entity = route_entity(req);
    int64_t id = http_param_int(req, "id");
    write_arg w = {req->ctx, {0}, W_RETIRE, NULL, entity, id, 0, 0};
    json_t *body = NULL;
    int rc = http_read_body(req, f_retire, NF(f_retire), &body);

    bd_http_actor(req, &w.who);
    w.version = jv_int(body, "version", 0);
    json_decref(body);
    if (!rc)
        rc = db_write(req->db, write_fn, &w, &req->err);
    if (rc)
        return rc;
    if (place_of(entity))
        return send_place(req, place_of(entity), 200, id);
    return send_person(req, 200, id);
}

static int handle_history(http_req *req)
{
    const char *entity = route_entity(req);
    int64_t id = http_param_int(req, "id"), limit, after;
    db_conn *c = bd_http_reader(req);
    json_t *items = NULL;
    int more = 0, rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &limit, &after);
    if (!rc)
        rc = load_meta(req, c, entity, id);
    if (!rc)
        rc = bd_history_list(c, req->arena, entity, id, after, limit, &items, &more, &req->err);
    if (rc)
        return rc;
    return http_send_page(req, items, more,
                          json_array_size(items)
                              ? json_integer_value(json_object_get(
                                    json_array_get(items, json_array_size(items) - 1), "version"))
                              : 0);
}

/* ---- collect once, use many ---- */

static int handle_prefill(http_req *req)
{
    db_conn *c = bd_http_reader(req);
    bd_prefill_out out;
    bd_person p;
    json_t *members, *o;
    int64_t person_id;
    size_t i;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = http_query_int(req, "person_id", 1, (int64_t)BD_ID_MAX, 0, &person_id);
    if (!rc && !person_id)
        rc = err_set(&req->err, GR_EINVAL, "person_id", "is required");
    if (!rc)
        rc = load_person(req, c, person_id, &p);
    if (!rc)
        rc = bd_prefill(c, req->arena, person_id, &out, &req->err);
    if (rc)
        return rc;
    members = json_array();
    for (i = 0; i < out.nmembers; i++)
        json_array_append_new(members, json_pack("{s:I, s:s, s:o}", "person_id",
                                                 (json_int_t)out.members[i].person_id, "name",
                                                 out.members[i].name_hint, "relation",
                                                 bd_json_str_or_null(out.members[i].relation)));
    o = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "person_id",
                  (json_int_t)out.person_id, "house_id", http_json_id(out.house_id), "building_id",
                  http_json_id(out.building_id), "address", bd_json_str_or_null(out.address),
                  "grid_id", http_json_id(out.grid_id), "community_id",
                  http_json_id(out.community_id), "street_id", http_json_id(out.street_id),
                  "household", members);
    return http_send_json(req, 200, o);
}

void bd_api_register(http_router *r)
{
    static const char *const coll[] = {"buildings", "houses", "people"};
    static const http_handler create[] = {handle_place_create, handle_place_create,
                                          handle_person_create};
    static const http_handler list[] = {handle_place_list, handle_place_list, handle_person_list};
    static const http_handler get[] = {handle_place_get, handle_place_get, handle_person_get};
    static const http_handler patch[] = {handle_place_patch, handle_place_patch,
                                         handle_person_patch};
    char p[128];
    size_t i;

    for (i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "/api/v1/basedata/%s", coll[i]);
        http_route(r, "POST", p, create[i], "basedata.write");
        http_route(r, "GET", p, list[i], "basedata.read");
        snprintf(p, sizeof(p), "/api/v1/basedata/%s/{id:int}", coll[i]);
        http_route(r, "GET", p, get[i], "basedata.read");
        http_route(r, "PATCH", p, patch[i], "basedata.write");
        snprintf(p, sizeof(p), "/api/v1/basedata/%s/{id:int}/retire", coll[i]);
        http_route(r, "POST", p, handle_retire, "basedata.write");
        snprintf(p, sizeof(p), "/api/v1/basedata/%s/{id:int}/history", coll[i]);
        http_route(r, "GET", p, handle_history, "basedata.read");
    }
    http_route(r, "GET", "/api/v1/basedata/houses/{id:int}/people", handle_place_people,
               "basedata.read");
    http_route(r, "GET", "/api/v1/basedata/buildings/{id:int}/people", handle_place_people,
               "basedata.read");
    http_route(r, "GET", "/api/v1/basedata/prefill", handle_prefill, "basedata.read");
}
