/*
 * The HTTP routes of cases: JSON in and out, who sees what (full contact,
 * masked contact, the resident's view, the public view), and nothing else;
 * the rules live in the model (case_model.c, case_flow.c). Roles are decided
 * by the policy (the action named on each route), the scope and the data
 * rules by the model or, for reads, here.
 */
#include "cases/case_model.h"

#include "auth/policy.h"
#include "base/timeutil.h"
#include "media/media.h"
#include "org/org.h"
#include "privacy/audit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PAGE_DEFAULT = 20, PAGE_MAX = 100 };
#define ID_MAX 9e15

/* ---- JSON ---- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *location_json(const case_rec *r)
{
    return r->has_point ? json_pack("{s:f, s:f}", "lat", r->lat, "lon", r->lon) : json_null();
}

static int role_is(const http_req *req, const char *role)
{
    return strcmp(req->who.role, role) == 0;
}

/* The roles that call reporters back: they may reveal the full contact
 * (GET …/contact, with a purpose), so they also see who reported. */
static int sees_contact(const http_req *req)
{
    return policy_allows(req->who.role, "case.contact");
}

static json_t *allowed_json(const char *role, case_state s)
{
    const char *v[32];
    size_t n = case_allowed(role, s, v, 32), i;
    json_t *a = json_array();

    for (i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The media ids on the events of a timeline (public_only: those anyone may read). */
static json_t *media_json(http_req *req, db_conn *c, const case_event *ev, size_t n,
                          int public_only)
{
    json_t *out = json_array(), *ids, *v;
    media_info mi;
    size_t i, k;

    for (i = 0; i < n; i++) {
        ids = ev[i].media ? json_loads(ev[i].media, 0, NULL) : NULL;
        json_array_foreach(ids, k, v)
        {
            if (public_only &&
                (media_get(c, req->arena, json_integer_value(v), &mi, NULL) || !mi.is_public))
                continue;
            json_array_append(out, v);
        }
        json_decref(ids);
    }
    return out;
}

static json_t *event_json(const case_event *e, int staff, int show_note)
{
    json_t *o = json_pack("{s:I, s:o, s:s, s:o, s:s}", "id", (json_int_t)e->id, "at",
                          http_json_time(e->at), "action", e->action, "from_state",
                          str_or_null(e->from_state), "to_state", e->to_state);

    json_object_set_new(o, "actor_role", json_string(e->actor_role));
    if (staff) {
        json_object_set_new(o, "actor_user_id", http_json_id(e->actor_user_id));
        json_object_set_new(o, "data", e->data ? json_loads(e->data, 0, NULL) : json_null());
        json_object_set_new(o, "media", e->media ? json_loads(e->media, 0, NULL) : json_array());
    }
    if (show_note)
        json_object_set_new(o, "note", str_or_null(e->note));
    return o;
}

/* Internal steps a resident does not see at all. */
static int event_internal(const case_event *e)
{
    static const char *const hidden[] = {"extend", "approve-extension", "deny-extension",
                                         "supervise", "escalate"};
    size_t i;

    for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
        if (strcmp(e->action, hidden[i]) == 0)
            return 1;
    return 0;
}

/* Whose notes a resident reads: what is said to them, not staff's working notes. */
static int note_for_resident(const case_event *e, int64_t user_id)
{
    static const char *const shown[] = {"report", "reject", "handle", "close",
                                        "cancel", "review", "rate",   "confirm"};
    size_t i;

    if (strcmp(e->action, "info") == 0)
        return e->actor_user_id == user_id;
    for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        if (strcmp(e->action, shown[i]) == 0)
            return 1;
    return 0;
}

enum view { VIEW_STAFF, VIEW_RESIDENT, VIEW_PUBLIC };

static json_t *timeline_json(http_req *req, const case_event *ev, size_t n, enum view v)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++) {
        const case_event *e = &ev[i];
        if (v == VIEW_STAFF) {
            json_array_append_new(a, event_json(e, 1, 1));
        } else if (v == VIEW_RESIDENT) {
            if (!event_internal(e) &&
                (strcmp(e->action, "info") != 0 || e->actor_user_id == req->who.user_id))
                json_array_append_new(a, event_json(e, 0, note_for_resident(e, req->who.user_id)));
        } else if (!e->from_state || strcmp(e->from_state, e->to_state) != 0) {
            /* The public sees the state changes only: notes are free text. */
            json_array_append_new(a, event_json(e, 0, 0));
        }
    }
    return a;
}

/* What everyone may see of a case. */
static json_t *case_public_json(const case_rec *r)
{
    return json_pack("{s:s, s:o, s:s, s:s, s:o, s:s, s:o, s:o, s:o}", "public_code", r->public_code,
                     "category_id", http_json_id(r->category_id), "title", r->title, "description",
                     r->description, "location", location_json(r), "state",
                     case_state_name(r->state), "created_at", http_json_time(r->created_at),
                     "updated_at", http_json_time(r->updated_at), "closed_at",
                     http_json_time(r->closed_at));
}

/* The reporter's own view: the public part and what is theirs. */
static json_t *case_resident_json(const case_rec *r)
{
    json_t *o = case_public_json(r);

    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "channel", json_string(r->channel));
    json_object_set_new(o, "address", str_or_null(r->address));
    json_object_set_new(o, "contact", str_or_null(r->contact_hint));
    json_object_set_new(o, "anonymous", json_boolean(r->anonymous));
    json_object_set_new(o, "is_public", json_boolean(r->is_public));
    json_object_set_new(o, "merged_into", http_json_id(r->merged_into));
    json_object_set_new(o, "rating", str_or_null(r->rating));
    json_object_set_new(o, "rating_comment", str_or_null(r->rating_comment));
    json_object_set_new(o, "version", json_integer(r->version));
    return o;
}

static json_t *case_staff_json(const case_rec *r, const char *contact)
{
    json_t *o = case_resident_json(r);

    json_object_update_new(
        o, json_pack(
               "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:s#, s:o, "
               "s:o, s:i, s:i, s:b, s:o}",
               "grid_id", http_json_id(r->grid_id), "community_id", http_json_id(r->community_id),
               "street_id", http_json_id(r->street_id), "district_id", http_json_id(r->district_id),
               "first_unit_id", http_json_id(r->first_unit_id), "department_id",
               http_json_id(r->department_id), "handler_org_id", http_json_id(r->handler_org_id),
               "reporter_user_id", http_json_id(r->reporter_user_id), "entered_by",
               http_json_id(r->entered_by), "step", str_or_null(r->step), "step_due_at",
               r->step ? http_json_time(r->step_due_at) : json_null(), "urgent", r->urgent,
               "area_class", &r->area_class, (size_t)1, "extension_until",
               http_json_time(r->ext_until), "created_at", http_json_time(r->created_at), "returns",
               r->returns, "reworks", r->reworks, "reviewed", r->reviewed, "contact",
               str_or_null(contact)));
    return o;
}

/* ---- helpers ---- */

db_conn *case_reader(http_req *req)
{
    db_conn *c = db_reader(req->db);

    if (!c)
        err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    return c;
}

/* The contact as a view shows it: masked, or not at all when the reporter
 * asked to stay anonymous and the caller is not one who calls back. The
 * full value is only ever on GET …/contact. */
static const char *contact_for(const http_req *req, const case_rec *r)
{
    return !r->anonymous || sees_contact(req) ? r->contact_hint : NULL;
}

/* The timeline a view shows, its media and (but for the public) what the
 * caller may do now, added to o: the timeline ev[0..n) when the caller has
 * it, else read. */
static int view_finish(http_req *req, db_conn *c, const case_rec *r, enum view v, json_t *o,
                       const case_event *given, size_t ngiven)
{
    case_event *read = NULL;
    const case_event *ev = given;
    size_t n = ngiven;
    int rc = 0;

    if (!given) {
        rc = case_timeline(c, req->arena, r->id, &read, &n, &req->err);
        ev = read;
    }
    if (rc) {
        json_decref(o);
        return rc;
    }
    json_object_set_new(o, "media", media_json(req, c, ev, n, v == VIEW_PUBLIC));
    json_object_set_new(o, "timeline", timeline_json(req, ev, n, v));
    if (v != VIEW_PUBLIC)
        json_object_set_new(o, "allowed", allowed_json(req->who.role, r->state));
    return 0;
}

/* Whether the caller's scope (and, for department staff, department)
 * covers case r: 0, or 403. wrote: the answer to the caller's own write,
 * shown even when it took the case out of the department (a return). */
static int staff_may_see(http_req *req, db_conn *c, const case_rec *r, int wrote)
{
    int rc = 0;
    case_actor who;

    /* The row settles the common case; org_require_scope says why not. */
    if (!(req->who.user_id && case_within(c, r, req->who.scope_org_id)))
        rc = org_require_scope(req, case_scope_unit(r));
    case_actor_from(&req->who, &who);
    return rc || wrote ? rc : case_department_check(&who, r, &req->err);
}

/* A case for staff whose scope covers it: 404, or 403 (staff_may_see). */
static int staff_case(http_req *req, db_conn *c, int64_t id, int wrote, case_rec *r)
{
    int rc = case_get(c, req->arena, id, r, &req->err);

    return rc ? rc : staff_may_see(req, c, r, wrote);
}

/* The staff's view of r (read or just written; its timeline ev[0..n), or
 * NULL to read it). */
static int staff_json(http_req *req, db_conn *c, const case_rec *r, const case_event *ev, size_t n,
                      json_t **out)
{
    *out = case_staff_json(r, contact_for(req, r));
    if (r->anonymous && !sees_contact(req))
        json_object_set_new(*out, "reporter_user_id", json_null());
    return view_finish(req, c, r, VIEW_STAFF, *out, ev, n);
}

/* The staff's view, for staff whose scope covers the case; *r receives
 * the case as read (each view does the same). */
static int staff_view(http_req *req, int64_t id, int wrote, case_rec *r, json_t **out)
{
    db_conn *c = case_reader(req);
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = staff_case(req, c, id, wrote, r);
    return rc ? rc : staff_json(req, c, r, NULL, 0, out);
}

/* The staff's view of a case just reported, from the record the write
 * made: the same answer as a GET of it, without reading it back. */
static int staff_view_made(http_req *req, const case_rec *made, const case_event *ev, size_t n,
                           case_rec *r, json_t **out)
{
    db_conn *c = case_reader(req);
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    *r = *made;
    rc = staff_may_see(req, c, r, 1);
    return rc ? rc : staff_json(req, c, r, ev, n, out);
}

/* The reporter's view (404 unless the caller reported it). */
static int resident_view(http_req *req, int64_t id, case_rec *r, json_t **out)
{
    db_conn *c = case_reader(req);
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    if (!case_is_reporter(c, id, req->who.user_id))
        return err_set(&req->err, GR_ENOTFOUND, "id", "no case with id %lld among your reports",
                       (long long)id);
    rc = case_get(c, req->arena, id, r, &req->err);
    if (rc)
        return rc;
    *out = case_resident_json(r);
    /* Who joined another's report sees no part of that reporter's contact. */
    if (r->reporter_user_id != req->who.user_id)
        json_object_set_new(*out, "contact", json_null());
    return view_finish(req, c, r, VIEW_RESIDENT, *out, NULL, 0);
}

/* After the caller's own write: staff get the staff view; residents the reporter's. */
static int send_case(http_req *req, int status, int64_t id)
{
    json_t *o = NULL;
    case_rec r;
    int rc =
        role_is(req, "resident") ? resident_view(req, id, &r, &o) : staff_view(req, id, 1, &r, &o);

    return rc ? rc : http_send_json(req, status, o);
}

/* The media ids of a body: an array of positive integers. */
static int media_arg(http_req *req, json_t *body, int64_t **out, size_t *n)
{
    json_t *a = json_object_get(body, "media"), *v;
    size_t i;

    *out = NULL;
    *n = 0;
    if (!a || json_is_null(a))
        return 0;
    if (json_array_size(a) > CASE_MEDIA_MAX)
        return err_set(&req->err, GR_EINVAL, "media", "at most %d photos or videos",
                       CASE_MEDIA_MAX);
    *out = arena_alloc(req->arena, (json_array_size(a) + 1) * sizeof(int64_t));
    json_array_foreach(a, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return err_set(&req->err, GR_EINVAL, "media", "must be an array of media ids");
        (*out)[(*n)++] = json_integer_value(v);
    }
    return case_media_check(*out, *n, &req->err);
}

/* lat and lon together (or neither), in crs, converted to WGS-84. */
static int point_arg(http_req *req, json_t *body, int *has, double *lat, double *lon, geo_crs *crs)
{
    json_t *jlat = json_object_get(body, "lat"), *jlon = json_object_get(body, "lon");
    int rc = geo_crs_arg(jv_str(body, "crs"), crs, &req->err);

    *has = 0;
    if (rc)
        return rc;
    if (!jlat != !jlon)
        return err_set(&req->err, GR_EINVAL, jlat ? "lon" : "lat", "is required with %s",
                       jlat ? "lat" : "lon");
    if (!jlat)
        return 0;
    *has = 1;
    *lat = json_number_value(jlat);
    *lon = json_number_value(jlon);
    return geo_check_latlon(*lat, *lon, &req->err);
}

static int area_arg(http_req *req, json_t *body, char *out)
{
    const char *s = jv_str(body, "area_class");

    *out = 0;
    if (!s)
        return 0;
    if (strlen(s) != 1 || s[0] < 'A' || s[0] > 'C')
        return err_set(&req->err, GR_EINVAL, "area_class", "must be A, B or C");
    *out = s[0];
    return 0;
}

/* ---- intake ---- */

#define F_LATLON                                                                                   \
    {"lat", JV_NUMBER, 0, 0, -90, 90}, {"lon", JV_NUMBER, 0, 0, -180, 180},                        \
        {"crs", JV_STRING, 0, 0, 1, 8},                                                            \
    {                                                                                              \
        "address", JV_STRING, 0, 0, 1, CASE_ADDRESS_MAX                                            \
    }

static const jv_field report_fields[] = {
    {"channel", JV_STRING, 0, 0, 1, 16},
    {"category_id", JV_INT, 0, 1, 1, ID_MAX},
    {"title", JV_STRING, 1, 0, 1, CASE_TITLE_MAX},
    {"description", JV_STRING, 1, 0, 1, CASE_TEXT_MAX},
    F_LATLON,
    {"contact", JV_STRING, 0, 1, 1, 32},
    {"anonymous", JV_BOOL, 0, 0, 0, 0},
    {"is_public", JV_BOOL, 0, 0, 0, 0},
    {"urgent", JV_BOOL, 0, 0, 0, 0},
    {"area_class", JV_STRING, 0, 0, 1, 1},
    {"media", JV_ARRAY, 0, 1, 0, 0},
    {"duplicate_of", JV_INT, 0, 1, 1, ID_MAX},
};

static int report_input(http_req *req, json_t *body, case_input *in)
{
    int64_t *media = NULL;
    int rc;

    memset(in, 0, sizeof(*in));
    in->channel = jv_str(body, "channel");
    /* "open311" belongs to the Open311 endpoint, not to this body. */
    if (in->channel && strcmp(in->channel, "open311") == 0)
        return err_set(&req->err, GR_EINVAL, "channel", "must be hotline or counter");
    in->category_id = jv_int(body, "category_id", 0);
    in->title = jv_str(body, "title");
    in->description = jv_str(body, "description");
    in->address = jv_str(body, "address");
    in->contact = jv_str(body, "contact");
    in->anonymous = json_is_true(json_object_get(body, "anonymous"));
    in->is_public = json_is_true(json_object_get(body, "is_public"));
    in->urgent = json_is_true(json_object_get(body, "urgent"));
    in->duplicate_of = jv_int(body, "duplicate_of", 0);
    rc = point_arg(req, body, &in->has_point, &in->lat, &in->lon, &in->crs);
    if (!rc)
        rc = area_arg(req, body, &in->area_class);
    if (!rc)
        rc = media_arg(req, body, &media, &in->nmedia);
    in->media = media;
    /* Urgency and the area class are the acceptor's judgement, not the reporter's. */
    if (!rc && (role_is(req, "resident") || role_is(req, "anonymous")) &&
        (json_object_get(body, "urgent") || json_object_get(body, "area_class")))
        rc =
            err_set(&req->err, GR_EINVAL, json_object_get(body, "urgent") ? "urgent" : "area_class",
                    "is set by the acceptor, not by the reporter");
    return rc;
}

/* Whether the caller may learn that case r exists: residents and anonymous
 * callers only of public cases (a private case's place and state are its
 * reporter's business), staff of the cases in their subtree. */
static int nearby_visible(http_req *req, db_conn *c, const case_rec *r)
{
    const char *role = req->who.role;

    if (r->is_public)
        return 1;
    if (!role || strcmp(role, "anonymous") == 0 || strcmp(role, "resident") == 0)
        return 0;
    return case_within(c, r, req->who.scope_org_id);
}

static json_t *nearby_json(http_req *req, db_conn *c, const case_nearby *v, size_t n)
{
    json_t *a = json_array();
    size_t i;

    for (i = 0; i < n; i++) {
        const case_rec *r = &v[i].rec;
        json_t *o;
        if (!nearby_visible(req, c, r))
            continue;
        o = json_pack("{s:I, s:s, s:o, s:s, s:i, s:o}", "id", (json_int_t)r->id, "public_code",
                      r->public_code, "category_id", http_json_id(r->category_id), "state",
                      case_state_name(r->state), "distance_m", (int)lround(v[i].distance_m),
                      "created_at", http_json_time(r->created_at));
        /* A private case's words may carry personal data: only public ones show them. */
        json_object_set_new(o, "title", r->is_public ? json_string(r->title) : json_null());
        json_array_append_new(a, o);
    }
    return a;
}

/* The open cases of the same category near r ("is it one of these?"). */
static json_t *duplicates_for(http_req *req, const case_rec *r)
{
    db_conn *c = db_reader(req->db);
    case_nearby *v = NULL;
    size_t n = 0;
    gr_err e = {0};

    if (!c || !r->has_point || r->state == CS_MERGED ||
        case_find_nearby(c, req->arena, r->lat, r->lon, r->category_id, r->id, time_now_ms(), &v,
                         &n, &e))
        return json_array();
    return nearby_json(req, c, v, n);
}

/* Anonymous reporters get their receipt: the code to quote on the phone. */
static int receipt_view(http_req *req, int64_t id, case_rec *r, json_t **out)
{
    db_conn *c = case_reader(req);
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = case_get(c, req->arena, id, r, &req->err);
    if (!rc)
        *out =
            json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)id, "public_code", r->public_code,
                      "state", case_state_name(r->state), "version", (json_int_t)r->version);
    return rc;
}

static int handle_report(http_req *req)
{
    json_t *body = NULL, *o = NULL;
    case_input in;
    case_actor who;
    case_rec r, made;
    case_event *ev = NULL;
    size_t nev = 0;
    int64_t id = 0;
    char loc[64];
    int rc;

    rc =
        http_read_body(req, report_fields, sizeof(report_fields) / sizeof(report_fields[0]), &body);
    if (!rc)
        rc = report_input(req, body, &in);
    case_actor_from(&req->who, &who);
    if (!rc)
        rc = case_create_written(req->ctx, &who, &in, req->arena, &made, &ev, &nev, &req->err);
    if (!rc)
        id = made.id;
    json_decref(body);
    if (!rc && !req->who.user_id)
        rc = receipt_view(req, id, &r, &o);
    else if (!rc && role_is(req, "resident"))
        rc = resident_view(req, id, &r, &o);
    else if (!rc)
        rc = nev ? staff_view_made(req, &made, ev, nev, &r, &o) : staff_view(req, id, 1, &r, &o);
    /* Staff who report outside their scope (passing through another street)
     * get the receipt: the case was written, it is not theirs to work on. */
    if (rc == GR_EFORBIDDEN && id) {
        err_clear(&req->err);
        rc = receipt_view(req, id, &r, &o);
    }
    if (rc)
        return rc;
    json_object_set_new(o, "duplicates", duplicates_for(req, &r));
    snprintf(loc, sizeof(loc), "/api/v1/cases/%lld", (long long)id);
    http_add_header(req, "Location", loc);
    return http_send_json(req, 201, o);
}

/* ---- reads ---- */

static int handle_get(http_req *req)
{
    json_t *o = NULL;
    case_rec r;
    int rc = staff_view(req, http_param_int(req, "id"), 0, &r, &o);

    return rc ? rc : http_send_json(req, 200, o);
}

static int handle_timeline(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = case_reader(req);
    case_event *ev = NULL;
    size_t n = 0;
    case_rec r;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = staff_case(req, c, id, 0, &r);
    if (!rc)
        rc = case_timeline(c, req->arena, id, &ev, &n, &req->err);
    return rc ? rc : http_send_page(req, timeline_json(req, ev, n, VIEW_STAFF), 0, 0);
}

static int handle_nearby(http_req *req)
{
    double lat = 0, lon = 0, wlat, wlon;
    int64_t category = 0;
    case_nearby *v = NULL;
    size_t n = 0;
    geo_crs crs;
    db_conn *c;
    int rc;

    rc = http_query_number(req, "lat", &lat);
    if (!rc)
        rc = http_query_number(req, "lon", &lon);
    if (!rc)
        rc = geo_check_latlon(lat, lon, &req->err);
    if (!rc)
        rc = geo_crs_arg(http_query(req, "crs"), &crs, &req->err);
    if (!rc)
        rc = http_query_int(req, "category_id", 1, INT64_MAX, 0, &category);
    if (rc)
        return rc;
    geo_to_wgs84(crs, lat, lon, &wlat, &wlon);
    c = case_reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = case_find_nearby(c, req->arena, wlat, wlon, category, 0, time_now_ms(), &v, &n, &req->err);
    return rc ? rc : http_send_page(req, nearby_json(req, c, v, n), 0, 0);
}

static json_t *my_item_json(const void *item)
{
    const case_rec *r = item;

    return json_pack("{s:I, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)r->id,
                     "public_code", r->public_code, "title", r->title, "category_id",
                     http_json_id(r->category_id), "state", case_state_name(r->state),
                     "merged_into", http_json_id(r->merged_into), "rating", str_or_null(r->rating),
                     "created_at", http_json_time(r->created_at), "updated_at",
                     http_json_time(r->updated_at));
}

static int handle_my_list(http_req *req)
{
    case_filter f = {0};
    case_rec *v = NULL;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c = case_reader(req);

    if (!c)
        return GR_EUNAVAIL;
    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &f.limit, &f.after);
    if (rc)
        return rc;
    f.reporter = req->who.user_id;
    f.state = -1;
    f.desc = 1;
    rc = case_list(c, req->arena, &f, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), my_item_json, more, n ? v[n - 1].id : 0);
}

static int handle_my_get(http_req *req)
{
    json_t *o = NULL;
    case_rec r;
    int rc = resident_view(req, http_param_int(req, "id"), &r, &o);

    return rc ? rc : http_send_json(req, 200, o);
}

static int handle_public(http_req *req)
{
    db_conn *c = case_reader(req);
    const char *code = http_param(req, "code");
    case_rec r;
    json_t *o;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = case_get_code(c, req->arena, code, &r, &req->err);
    /* A private case is not there for the public: the same answer as none. */
    if (!rc && !r.is_public)
        rc = err_set(&req->err, GR_ENOTFOUND, "code", "no public case with code %.20s", code);
    if (rc)
        return rc;
    o = case_public_json(&r);
    rc = view_finish(req, c, &r, VIEW_PUBLIC, o, NULL, 0);
    return rc ? rc : http_send_json(req, 200, o);
}

/* ---- transitions ---- */

#define F_COMMON                                                                                   \
    {"version", JV_INT, 1, 0, 1, ID_MAX}, {"note", JV_STRING, 0, 1, 1, CASE_NOTE_MAX},             \
    {                                                                                              \
        "media", JV_ARRAY, 0, 1, 0, 0                                                              \
    }

static const jv_field f_plain[] = {F_COMMON};
static const jv_field f_classify[] = {F_COMMON,
                                      {"category_id", JV_INT, 0, 0, 1, ID_MAX},
                                      F_LATLON,
                                      {"urgent", JV_BOOL, 0, 0, 0, 0},
                                      {"area_class", JV_STRING, 0, 0, 1, 1}};
static const jv_field f_dispatch[] = {F_COMMON, {"department_id", JV_INT, 0, 1, 1, ID_MAX}};
static const jv_field f_review[] = {
    F_COMMON, {"decision", JV_STRING, 1, 0, 1, 16}, {"department_id", JV_INT, 0, 1, 1, ID_MAX}};
static const jv_field f_verify[] = {F_COMMON, {"passed", JV_BOOL, 1, 0, 0, 0}};
static const jv_field f_merge[] = {F_COMMON, {"into", JV_INT, 1, 0, 1, ID_MAX}};
static const jv_field f_rate[] = {
    F_COMMON, {"rating", JV_STRING, 1, 0, 1, 32}, {"resolved", JV_BOOL, 0, 0, 0, 0}};
static const jv_field f_extend[] = {F_COMMON, {"until", JV_STRING, 1, 0, 1, 40}};

#define FIELDS(a) a, sizeof(a) / sizeof(a[0])
static const struct {
    const char *action;
    const jv_field *fields;
    size_t n;
} action_bodies[] = {
    {"accept", FIELDS(f_classify)}, {"file", FIELDS(f_classify)}, {"dispatch", FIELDS(f_dispatch)},
    {"decide", FIELDS(f_dispatch)}, {"review", FIELDS(f_review)}, {"verify", FIELDS(f_verify)},
    {"merge", FIELDS(f_merge)},     {"rate", FIELDS(f_rate)},     {"extend", FIELDS(f_extend)},
};

static void body_fields(const char *action, const jv_field **fields, size_t *n)
{
    size_t i;

    *fields = f_plain;
    *n = sizeof(f_plain) / sizeof(f_plain[0]);
    for (i = 0; i < sizeof(action_bodies) / sizeof(action_bodies[0]); i++)
        if (strcmp(action_bodies[i].action, action) == 0) {
            *fields = action_bodies[i].fields;
            *n = action_bodies[i].n;
        }
}

static int action_input(http_req *req, json_t *body, case_action_input *in)
{
    const char *until = jv_str(body, "until");
    json_t *urgent = json_object_get(body, "urgent");
    int64_t *media = NULL;
    geo_crs crs;
    double lat = 0, lon = 0;
    int rc;

    in->version = jv_int(body, "version", 0);
    in->note = jv_str(body, "note");
    in->department_id = jv_int(body, "department_id", 0);
    in->into = jv_int(body, "into", 0);
    in->passed = json_is_true(json_object_get(body, "passed"));
    in->decision = jv_str(body, "decision");
    in->rating = jv_str(body, "rating");
    in->resolved = !json_object_get(body, "resolved")                ? 0
                   : json_is_true(json_object_get(body, "resolved")) ? 1
                                                                     : -1;
    in->category_id = jv_int(body, "category_id", 0);
    in->address = jv_str(body, "address");
    in->urgent = urgent ? json_is_true(urgent) : -1;
    rc = media_arg(req, body, &media, &in->nmedia);
    in->media = media;
    if (!rc && until && time_parse_iso(until, &in->until))
        rc = err_set(&req->err, GR_EINVAL, "until", "must be an ISO 8601 time");
    if (!rc)
        rc = area_arg(req, body, &in->area_class);
    if (!rc)
        rc = point_arg(req, body, &in->has_point, &lat, &lon, &crs);
    if (!rc && in->has_point)
        geo_to_wgs84(crs, lat, lon, &in->lat, &in->lon);
    return rc;
}

/* A 409 that says what is possible now and which version is current. */
static int send_conflict(http_req *req, const case_result *res)
{
    json_t *p = json_pack(
        "{s:s, s:s, s:i, s:s, s:s, s:I, s:s}", "type", "urn:grassroots:problem:conflict", "title",
        "Conflict", "status", 409, "detail",
        req->err.field[0] ? arena_printf(req->arena, "%s: %s", req->err.field, req->err.msg)
                          : req->err.msg,
        "request_id", req->request_id, "version", (json_int_t)res->version, "state",
        case_state_name(res->state));
    json_t *allowed = json_array();
    char *text;
    size_t i;

    if (req->err.field[0])
        json_object_set_new(
            p, "errors",
            json_pack("[{s:s, s:s}]", "field", req->err.field, "reason", req->err.msg));
    for (i = 0; i < res->nallowed; i++)
        json_array_append_new(allowed, json_string(res->allowed[i]));
    json_object_set_new(p, "allowed", allowed);
    text = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(p);
    if (!text)
        return err_set(&req->err, GR_EINTERNAL, "", "cannot encode the response");
    http_send_text(req, 409, "application/problem+json", text, strlen(text));
    free(text);
    return 0;
}

static int handle_action(http_req *req)
{
    const char *action = req->action + strlen("case.");
    case_action_input in = {0};
    case_result res;
    const jv_field *fields;
    json_t *body = NULL;
    case_actor who;
    size_t nfields;
    int rc;

    body_fields(action, &fields, &nfields);
    rc = http_read_body(req, fields, nfields, &body);
    in.action = action;
    if (!rc)
        rc = action_input(req, body, &in);
    case_actor_from(&req->who, &who);
    if (!rc)
        rc = case_transition(req->ctx, &who, http_param_int(req, "id"), &in, &res, &req->err);
    json_decref(body);
    if (rc == GR_ECONFLICT)
        return send_conflict(req, &res);
    return rc ? rc : send_case(req, 200, http_param_int(req, "id"));
}

/* The reporter's full contact, to call them back: a stated purpose, the
 * case in the caller's scope, and an entry on the audit log before the
 * value leaves (docs/privacy.md). */
static int handle_contact(http_req *req)
{
    const char *purpose = http_query(req, "purpose");
    db_conn *c = case_reader(req);
    const char *contact = NULL;
    int64_t id = http_param_int(req, "id");
    case_rec r;
    int rc;

    /* Its length is the audit log's to check (AUDIT_TEXT_MAX, 400 naming it). */
    if (!purpose || !*purpose)
        return err_set(&req->err, GR_EINVAL, "purpose",
                       "is required: say why the full contact is needed");
    if (!c)
        return GR_EUNAVAIL;
    rc = staff_case(req, c, id, 0, &r);
    if (!rc)
        rc = case_contact(req->ctx, c, req->arena, id, &contact, &req->err);
    if (!rc && !contact)
        rc = err_set(&req->err, GR_ENOTFOUND, "contact", "case %lld has no contact", (long long)id);
    if (!rc)
        rc = audit_record(req, "reveal", "case", id, "contact", purpose);
    if (rc)
        return rc;
    http_add_header(req, "Cache-Control", "no-store");
    return http_send_json(
        req, 200,
        json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "contact", contact, "purpose", purpose));
}

void cases_api_register(http_router *r)
{
    char pattern[96], action[64];
    size_t i;

    http_route(r, "POST", "/api/v1/cases", handle_report, "case.report");
    http_route(r, "GET", "/api/v1/cases/nearby", handle_nearby, "public");
    http_route(r, "GET", "/api/v1/cases/{id:int}", handle_get, "case.read");
    http_route(r, "GET", "/api/v1/cases/{id:int}/timeline", handle_timeline, "case.read");
    http_route(r, "GET", "/api/v1/cases/{id:int}/contact", handle_contact, "case.contact");
    for (i = 0; i < case_nactions; i++) {
        snprintf(pattern, sizeof(pattern), "/api/v1/cases/{id:int}/%s", case_actions[i]);
        snprintf(action, sizeof(action), "case.%s", case_actions[i]);
        http_route(r, "POST", pattern, handle_action, action);
    }
    http_route(r, "GET", "/api/v1/my/cases", handle_my_list, "session");
    http_route(r, "GET", "/api/v1/my/cases/{id:int}", handle_my_get, "session");
    http_route(r, "GET", "/api/v1/public/cases/{code:str}", handle_public, "public");
    case_lists_api_register(r);
    case_rules_api_register(r);
}
