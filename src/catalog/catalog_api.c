/*
 * The HTTP routes of the category catalogue and the working-day calendar:
 * JSON in and out and nothing else; the rules live in catalog_model.c and
 * catalog_calendar.c. Categories and the calendar are deployment-wide
 * configuration: the policy (catalog.write, calendar.write) decides who may
 * change them, and reading is public (the residents' category picker).
 */
#include "catalog/catalog_model.h"

#include "base/jsonv.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { HISTORY_PAGE_DEFAULT = 50, HISTORY_PAGE_MAX = 500, Q_MAX_CHARS = 100, LIMITS_MAX = 60 };

#define ID_MAX 9007199254740991.0 /* 2^53 - 1: exact in JSON everywhere */

/* ---- JSON ---- */

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *cat_json(const cat_record *r)
{
    const cat_info *i = &r->info;

    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:b, s:s, s:o, s:o, s:o, s:b, s:I, s:o, s:o}", "id",
                     (json_int_t)i->id, "code", i->code, "name", i->name, "kind", i->kind,
                     "parent_id", http_json_id(i->parent_id), "is_leaf", i->is_leaf, "standard_ref",
                     r->standard_ref, "default_department_id",
                     http_json_id(i->default_department_id), "filing_condition",
                     json_str_or_null(i->filing_condition), "closing_condition",
                     json_str_or_null(i->closing_condition), "active", i->active, "version",
                     (json_int_t)i->version, "created_at", http_json_time(r->created_at),
                     "updated_at", http_json_time(r->updated_at));
}

static json_t *limit_json(const cat_limit_row *l)
{
    char area[2] = {l->area_class, '\0'};

    return json_pack("{s:s, s:s, s:s, s:I, s:s}", "step", catalog_step_name(l->step), "area_class",
                     area, "urgency", catalog_urgency_name(l->urgency), "amount",
                     (json_int_t)l->amount, "unit", calendar_unit_name(l->unit));
}

static json_t *day_json(const cat_day *d)
{
    return json_pack("{s:s, s:s, s:s}", "date", d->date, "kind", catalog_day_kind_name(d->kind),
                     "name", d->name);
}

static db_conn *reader(http_req *req)
{
    db_conn *c = db_reader(req->db);

    if (!c)
        err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    return c;
}

/* ---- categories ---- */

static int kind_arg(http_req *req, const char **kind)
{
    *kind = http_query(req, "kind");
    if (*kind && strcmp(*kind, "component") != 0 && strcmp(*kind, "event") != 0 &&
        strcmp(*kind, "demand") != 0)
        return err_set(&req->err, GR_EINVAL, "kind", "must be component, event or demand");
    return 0;
}

/* The tree: major classes with their minor classes as children, and the
 * demand types, in code order. A category whose major class the filter
 * left out stands at the top level (it still names its parent_id). */
static json_t *tree_json(const cat_record *v, size_t n)
{
    json_t *items = json_array(), *o, *major = NULL;
    int64_t major_id = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        o = cat_json(&v[i]);
        /* Code order puts each major class right before its minor classes. */
        if (v[i].info.parent_id && v[i].info.parent_id == major_id) {
            json_array_append_new(json_object_get(major, "children"), o);
            continue;
        }
        if (!v[i].info.is_leaf) {
            json_object_set_new(o, "children", json_array());
            major = o;
            major_id = v[i].info.id;
        }
        json_array_append_new(items, o);
    }
    return items;
}

static int handle_categories_list(http_req *req)
{
    cat_filter f = {NULL, -1, NULL};
    cat_record *v = NULL;
    int64_t active = -1;
    size_t n = 0;
    db_conn *c;
    int rc;

    rc = kind_arg(req, &f.kind);
    if (!rc)
        rc = http_query_int(req, "active", 0, 1, -1, &active);
    if (!rc) {
        f.q = http_query(req, "q");
        if (f.q && jv_utf8_len(f.q) > Q_MAX_CHARS)
            rc = err_set(&req->err, GR_EINVAL, "q", "must be at most %d characters long",
                         Q_MAX_CHARS);
    }
    if (rc)
        return rc;
    f.active = (int)active;
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = cat_list(c, req->arena, &f, &v, &n, &req->err);
    if (rc)
        return rc;
    return http_send_json(req, 200, json_pack("{s:o}", "items", tree_json(v, n)));
}

static int send_category(http_req *req, int status, int64_t id)
{
    db_conn *c = reader(req);
    cat_record r, parent;
    cat_limit_row *lims = NULL;
    size_t n = 0, i;
    json_t *o, *arr;
    char loc[64];
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = cat_record_get(c, req->arena, id, &r, &req->err);
    if (!rc)
        rc = cat_limits_get(c, req->arena, id, &lims, &n, &req->err);
    if (!rc && r.info.parent_id)
        rc = cat_record_get(c, req->arena, r.info.parent_id, &parent, &req->err);
    if (rc)
        return rc;
    o = cat_json(&r);
    arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(arr, limit_json(&lims[i]));
    json_object_set_new(o, "limits", arr);
    json_object_set_new(o, "parent",
                        r.info.parent_id
                            ? json_pack("{s:I, s:s, s:s}", "id", (json_int_t)parent.info.id, "code",
                                        parent.info.code, "name", parent.info.name)
                            : json_null());
    if (status == 201) {
        snprintf(loc, sizeof(loc), "/api/v1/categories/%lld", (long long)id);
        http_add_header(req, "Location", loc);
    }
    return http_send_json(req, status, o);
}

static int handle_category_get(http_req *req)
{
    return send_category(req, 200, http_param_int(req, "id"));
}

static int handle_category_create(http_req *req)
{
    static const jv_field fields[] = {
        {"code", JV_STRING, 1, 0, 1, 5},
        {"name", JV_STRING, 1, 0, 1, 100},
        {"standard_ref", JV_STRING, 0, 0, 1, 32},
        {"default_department_id", JV_INT, 0, 1, 1, ID_MAX},
        {"filing_condition", JV_STRING, 0, 1, 1, 500},
        {"closing_condition", JV_STRING, 0, 1, 1, 500},
    };
    cat_input in = {0};
    json_t *body = NULL;
    int64_t id = 0;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    in.code = jv_str(body, "code");
    in.name = jv_str(body, "name");
    in.standard_ref = jv_str(body, "standard_ref");
    in.default_department_id = jv_int(body, "default_department_id", 0);
    in.filing_condition = jv_str(body, "filing_condition");
    in.closing_condition = jv_str(body, "closing_condition");
    in.by = req->who.user_id;
    rc = cat_create(req->ctx, &in, &id, &req->err);
out:
    json_decref(body);
    return rc ? rc : send_category(req, 201, id);
}

static int handle_category_patch(http_req *req)
{
    static const jv_field fields[] = {
        {"name", JV_STRING, 0, 0, 1, 100},
        {"standard_ref", JV_STRING, 0, 0, 1, 32},
        {"default_department_id", JV_INT, 0, 1, 1, ID_MAX},
        {"filing_condition", JV_STRING, 0, 1, 1, 500},
        {"closing_condition", JV_STRING, 0, 1, 1, 500},
        {"active", JV_BOOL, 0, 0, 0, 0},
        {"version", JV_INT, 1, 0, 1, ID_MAX},
    };
    int64_t id = http_param_int(req, "id");
    cat_patch p;
    json_t *body = NULL, *active;
    int rc;

    memset(&p, 0, sizeof(p));
    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    p.name = jv_str(body, "name");
    p.standard_ref = jv_str(body, "standard_ref");
    p.set_department = json_object_get(body, "default_department_id") != NULL;
    p.default_department_id = jv_int(body, "default_department_id", 0);
    p.set_filing = json_object_get(body, "filing_condition") != NULL;
    p.filing_condition = jv_str(body, "filing_condition");
    p.set_closing = json_object_get(body, "closing_condition") != NULL;
    p.closing_condition = jv_str(body, "closing_condition");
    active = json_object_get(body, "active");
    p.active = active ? json_is_true(active) : -1;
    p.version = jv_int(body, "version", 0);
    p.by = req->who.user_id;
    rc = cat_update(req->ctx, id, &p, &req->err);
out:
    json_decref(body);
    return rc ? rc : send_category(req, 200, id);
}

/* Sets req->err's field to "limits[i].<field>" (or "limits[i]" when the
 * field is empty) and returns code. */
static int limit_error(http_req *req, size_t i, int code)
{
    char f[sizeof(req->err.field) + 32];

    snprintf(f, sizeof(f), "limits[%zu]%s%s", i, req->err.field[0] ? "." : "", req->err.field);
    snprintf(req->err.field, sizeof(req->err.field), "%.63s", f);
    return code;
}

static int limits_from_json(http_req *req, json_t *arr, cat_limit_row **out, size_t *n)
{
    static const jv_field fields[] = {
        {"step", JV_STRING, 1, 0, 1, 16},    {"area_class", JV_STRING, 1, 0, 1, 1},
        {"urgency", JV_STRING, 1, 0, 1, 16}, {"amount", JV_INT, 1, 0, 1, 527040},
        {"unit", JV_STRING, 1, 0, 1, 32},
    };
    size_t i, count = json_array_size(arr);
    cat_limit_row *v;
    json_t *o;
    int rc, x;

    *n = 0;
    if (count > LIMITS_MAX)
        return err_set(&req->err, GR_EINVAL, "limits",
                       "at most %d rows: one per step, area class and urgency", LIMITS_MAX);
    v = arena_alloc(req->arena, (count ? count : 1) * sizeof(*v));
    json_array_foreach(arr, i, o)
    {
        rc = jv_check(o, fields, sizeof(fields) / sizeof(fields[0]), &req->err);
        if (rc)
            return limit_error(req, i, rc);
        x = catalog_step_parse(jv_str(o, "step"));
        if (x < 0)
            return limit_error(req, i,
                               err_set(&req->err, GR_EINVAL, "step",
                                       "must be one of accept, file, dispatch, handle, verify"));
        v[i].step = (cat_step)x;
        v[i].area_class = catalog_area_parse(jv_str(o, "area_class"));
        if (!v[i].area_class)
            return limit_error(req, i,
                               err_set(&req->err, GR_EINVAL, "area_class", "must be A, B, C or *"));
        v[i].urgency = catalog_urgency_parse(jv_str(o, "urgency"));
        if (v[i].urgency < CAT_URGENCY_ANY)
            return limit_error(
                req, i, err_set(&req->err, GR_EINVAL, "urgency", "must be normal, urgent or *"));
        x = calendar_unit_parse(jv_str(o, "unit"));
        if (x < 0)
            return limit_error(req, i,
                               err_set(&req->err, GR_EINVAL, "unit",
                                       "must be natural_minutes, working_minutes or "
                                       "working_days"));
        v[i].unit = (cal_unit)x;
        v[i].amount = jv_int(o, "amount", 0);
    }
    *out = v;
    *n = count;
    return 0;
}

static int handle_limits_put(http_req *req)
{
    static const jv_field fields[] = {
        {"limits", JV_ARRAY, 1, 0, 0, 0},
        {"version", JV_INT, 0, 0, 1, ID_MAX},
    };
    int64_t id = http_param_int(req, "id");
    cat_limit_row *rows = NULL;
    json_t *body = NULL;
    size_t n = 0;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc)
        rc = limits_from_json(req, json_object_get(body, "limits"), &rows, &n);
    if (!rc)
        rc = cat_limits_replace(req->ctx, id, rows, n, jv_int(body, "version", 0), req->who.user_id,
                                &req->err);
    json_decref(body);
    return rc ? rc : send_category(req, 200, id);
}

static json_t *history_json(const void *item)
{
    const cat_history *h = item;

    return json_pack("{s:I, s:I, s:o, s:o, s:o}", "id", (json_int_t)h->id, "version",
                     (json_int_t)h->version, "changed_by", http_json_id(h->changed_by),
                     "changed_at", http_json_time(h->changed_at), "old",
                     json_loads(h->old, 0, NULL));
}

static int handle_history(http_req *req)
{
    int64_t id = http_param_int(req, "id"), limit = 0, after = 0;
    cat_history *v = NULL;
    cat_record r;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c = reader(req);

    if (!c)
        return GR_EUNAVAIL;
    rc = http_page(req, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX, &limit, &after);
    if (!rc)
        rc = cat_record_get(c, req->arena, id, &r, &req->err);
    if (!rc)
        rc = cat_history_list(c, req->arena, id, after, limit, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), history_json, more, n ? v[n - 1].id : 0);
}

/* ---- the calendar ---- */

static int64_t local_year_now(void)
{
    time_t t = (time_t)((time_now_ms() + 8 * 3600000LL) / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    return tm.tm_year + 1900;
}

static json_t *working_hours_json(void)
{
    int start[4], end[4];
    size_t n = calendar_periods(start, end, 4), i;
    json_t *arr = json_array();
    char s[32], e[32];

    for (i = 0; i < n && i < 4; i++) {
        snprintf(s, sizeof(s), "%02d:%02d", start[i] / 60, start[i] % 60);
        snprintf(e, sizeof(e), "%02d:%02d", end[i] / 60, end[i] % 60);
        json_array_append_new(arr, json_pack("{s:s, s:s}", "start", s, "end", e));
    }
    return arr;
}

static int handle_calendar_get(http_req *req)
{
    int64_t year = 0;
    cat_day *v = NULL;
    size_t n = 0, i;
    json_t *items;
    db_conn *c;
    int rc = http_query_int(req, "year", 1900, 9999, local_year_now(), &year);

    if (rc)
        return rc;
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = cat_days_list(c, req->arena, (int)year, &v, &n, &req->err);
    if (rc)
        return rc;
    items = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(items, day_json(&v[i]));
    return http_send_json(req, 200,
                          json_pack("{s:I, s:s, s:o, s:o}", "year", (json_int_t)year, "timezone",
                                    "Asia/Shanghai", "working_hours", working_hours_json(), "items",
                                    items));
}

static int handle_calendar_put(http_req *req)
{
    static const jv_field fields[] = {
        {"kind", JV_STRING, 1, 0, 1, 16},
        {"name", JV_STRING, 1, 0, 1, 50},
    };
    const char *date = http_param(req, "date");
    json_t *body = NULL;
    cat_day d;
    int created = 0, rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    memset(&d, 0, sizeof(d));
    d.kind = catalog_day_kind_parse(jv_str(body, "kind"));
    d.name = arena_strdup(req->arena, jv_str(body, "name"));
    rc = cat_day_put(req->ctx, date, d.kind, d.name, req->who.user_id, &created, &req->err);
    if (!rc) {
        snprintf(d.date, sizeof(d.date), "%s", date);
        rc = http_send_json(req, created ? 201 : 200, day_json(&d));
    }
out:
    json_decref(body);
    return rc;
}

static int handle_calendar_delete(http_req *req)
{
    int rc = cat_day_delete(req->ctx, http_param(req, "date"), &req->err);

    return rc ? rc : http_send_empty(req, 204);
}

static int handle_due(http_req *req)
{
    const char *step_s = http_query(req, "step"), *area_s = http_query(req, "area_class");
    const char *urg_s = http_query(req, "urgency"), *from_s = http_query(req, "from");
    int64_t category_id = 0, from = time_now_ms(), due = 0;
    int step, urgency = CAT_URGENCY_NORMAL, rc;
    char area = 'B', area_txt[2] = {0, 0}, from_txt[40], due_txt[40];
    cat_limit lim;
    cat_limit_source src;
    json_t *o;
    db_conn *c;

    rc = http_query_int(req, "category_id", 1, INT64_MAX, 0, &category_id);
    if (!rc && !category_id)
        rc = err_set(&req->err, GR_EINVAL, "category_id", "is required");
    if (rc)
        return rc;
    step = catalog_step_parse(step_s);
    if (step < 0)
        return err_set(&req->err, GR_EINVAL, "step",
                       step_s ? "must be one of accept, file, dispatch, handle, verify"
                              : "is required");
    if (area_s)
        area = catalog_area_parse(area_s);
    if (!area || area == '*') /* a place has an area class; "*" is for limit rows */
        return err_set(&req->err, GR_EINVAL, "area_class", "must be A, B or C");
    if (urg_s && ((urgency = catalog_urgency_parse(urg_s)) < 0))
        return err_set(&req->err, GR_EINVAL, "urgency", "must be normal or urgent");
    if (from_s && time_parse_iso(from_s, &from))
        return err_set(&req->err, GR_EINVAL, "from",
                       "must be an ISO 8601 time such as 2026-02-13T09:00:00+08:00");
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = cat_due_find(req->ctx, c, category_id, (cat_step)step, area, urgency, from, &due, &lim,
                      &src, &req->err);
    if (rc)
        return rc;
    area_txt[0] = area;
    /* from is the caller's and may be at or before 1970: always a time here,
     * never the null http_json_time gives an unset one. */
    time_format_iso(from, from_txt, sizeof(from_txt));
    time_format_iso(due, due_txt, sizeof(due_txt));
    o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "category_id", (json_int_t)category_id, "step",
                  catalog_step_name((cat_step)step), "area_class", area_txt, "urgency",
                  catalog_urgency_name(urgency), "from", from_txt, "due",
                  due == INT64_MAX ? json_null() : json_string(due_txt));
    area_txt[0] = src.area_class;
    json_object_set_new(o, "limit",
                        json_pack("{s:I, s:s, s:I, s:s, s:s}", "amount", (json_int_t)lim.amount,
                                  "unit", calendar_unit_name(lim.unit), "category_id",
                                  (json_int_t)src.category_id, "area_class", area_txt, "urgency",
                                  catalog_urgency_name(src.urgency)));
    return http_send_json(req, 200, o);
}

void catalog_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/categories", handle_categories_list, "public");
    http_route(r, "POST", "/api/v1/categories", handle_category_create, "catalog.write");
    http_route(r, "GET", "/api/v1/categories/{id:int}", handle_category_get, "public");
    http_route(r, "PATCH", "/api/v1/categories/{id:int}", handle_category_patch, "catalog.write");
    http_route(r, "PUT", "/api/v1/categories/{id:int}/limits", handle_limits_put, "catalog.write");
    http_route(r, "GET", "/api/v1/categories/{id:int}/history", handle_history, "catalog.write");
    http_route(r, "GET", "/api/v1/calendar", handle_calendar_get, "public");
    http_route(r, "GET", "/api/v1/calendar/due", handle_due, "public");
    http_route(r, "PUT", "/api/v1/calendar/{date:str}", handle_calendar_put, "calendar.write");
    http_route(r, "DELETE", "/api/v1/calendar/{date:str}", handle_calendar_delete,
               "calendar.write");
}
