/*
 * The staff work lists over HTTP: GET /api/v1/cases (filters, sort, keyset
 * pages), /api/v1/cases/counts (by state and the queue badges) and
 * /api/v1/cases/export.csv. Every list is intersected with the caller's
 * scope; department staff see their department's cases (or, without a
 * department, the territorial ones). The queries are in case_lists.c.
 */
#include "cases/case_model.h"

#include "base/log.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LIST_DEFAULT = 20, LIST_MAX = 100, Q_MAX = 100, EXPORT_MAX_ROWS = 100000 };

/* ---- query parameters ---- */

/* n comma-separated finite numbers, nothing else. */
static int numbers_arg(http_req *req, const char *name, const char *s, double *out, int n)
{
    char *end;
    int i;

    for (i = 0; i < n; i++) {
        errno = 0;
        out[i] = strtod(s, &end);
        if (end == s || errno || !isfinite(out[i]) ||
            strspn(s, "0123456789+-.eE") != (size_t)(end - s))
            break;
        if (i + 1 < n ? *end != ',' : *end != '\0')
            break;
        s = end + 1;
    }
    if (i < n)
        return err_set(&req->err, GR_EINVAL, name, "must be %d comma-separated numbers", n);
    return 0;
}

static int time_arg(http_req *req, const char *name, int64_t *out)
{
    const char *s = http_query(req, name);

    *out = 0;
    if (s && (time_parse_iso(s, out) || *out <= 0))
        return err_set(&req->err, GR_EINVAL, name, "must be an ISO 8601 time");
    return 0;
}

static int states_arg(http_req *req, case_filter *f)
{
    const char *s = http_query(req, "state"), *list = http_query(req, "states");
    char *copy, *tok, *save = NULL;
    int st;

    f->state = -1;
    if (s && (f->state = case_state_parse(s)) < 0)
        return err_set(&req->err, GR_EINVAL, "state", "unknown state %.32s", s);
    if (!list)
        return 0;
    copy = arena_strdup(req->arena, list);
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if ((st = case_state_parse(tok)) < 0)
            return err_set(&req->err, GR_EINVAL, "states", "unknown state %.32s", tok);
        f->states |= 1u << st;
    }
    if (!f->states)
        return err_set(&req->err, GR_EINVAL, "states", "must name at least one state");
    return 0;
}

/* The subtree: org_id within the caller's scope (403 outside it), or the scope. */
static int scope_arg(http_req *req, case_filter *f)
{
    int64_t org = 0;
    int rc = http_query_int(req, "org_id", 1, INT64_MAX, 0, &org);

    if (!rc)
        rc = org_require_scope(req, req->who.scope_org_id);
    if (!rc && org) {
        rc = org_require_scope(req, org);
        if (rc == GR_EFORBIDDEN && !org_is_within(db_reader(req->db), org, org))
            rc = err_set(&req->err, GR_EINVAL, "org_id", "no org unit with id %" PRId64, org);
    }
    f->scope = org ? org : req->who.scope_org_id;
    return rc;
}

/* Department staff work on their department's cases; without a department,
 * on the territorial ones (docs/cases.md, routing). */
static int department_arg(http_req *req, case_filter *f)
{
    int64_t dept = 0;
    int rc = http_query_int(req, "department_id", 1, INT64_MAX, 0, &dept);

    if (rc)
        return rc;
    f->department = dept;
    if (strcmp(req->who.role, "department_staff") != 0)
        return 0;
    if (dept && dept != req->who.department_id)
        return err_set(&req->err, GR_EFORBIDDEN, "department_id",
                       "department staff see their own department's cases only");
    f->department = req->who.department_id;
    f->territorial = req->who.department_id == 0;
    return 0;
}

static int place_arg(http_req *req, case_filter *f)
{
    const char *crs_s = http_query(req, "crs"), *bbox = http_query(req, "bbox");
    const char *near = http_query(req, "near"), *radius = http_query(req, "radius");
    geo_crs crs = GEO_CRS_WGS84;
    double v[4];
    int rc = 0;

    if (geo_crs_arg(crs_s, &crs, &req->err))
        return GR_EINVAL;
    if (bbox) {
        rc = numbers_arg(req, "bbox", bbox, v, 4);
        if (!rc && (geo_check_latlon(v[1], v[0], &req->err) ||
                    geo_check_latlon(v[3], v[2], &req->err) || v[0] > v[2] || v[1] > v[3]))
            rc = err_set(&req->err, GR_EINVAL, "bbox",
                         "must be minLon,minLat,maxLon,maxLat with min below max");
        if (rc)
            return rc;
        f->has_box = 1;
        geo_to_wgs84(crs, v[1], v[0], &f->min_lat, &f->min_lon);
        geo_to_wgs84(crs, v[3], v[2], &f->max_lat, &f->max_lon);
    }
    if (!near != !radius)
        return err_set(&req->err, GR_EINVAL, near ? "radius" : "near", "is required with %s",
                       near ? "near" : "radius");
    if (!near)
        return 0;
    rc = numbers_arg(req, "near", near, v, 2);
    if (!rc && geo_check_latlon(v[0], v[1], &req->err))
        rc = err_set(&req->err, GR_EINVAL, "near", "must be lat,lon within range");
    if (!rc)
        rc = numbers_arg(req, "radius", radius, &f->radius_m, 1);
    if (!rc && !(f->radius_m > 0 && f->radius_m <= 50000))
        rc = err_set(&req->err, GR_EINVAL, "radius", "must be more than 0 and at most 50000 m");
    if (rc)
        return rc;
    f->has_radius = 1;
    geo_to_wgs84(crs, v[0], v[1], &f->near_lat, &f->near_lon);
    return 0;
}

/* The filters shared by the list, the counts and the export. */
static int filter_args(http_req *req, case_filter *f)
{
    const char *overdue = http_query(req, "overdue");
    int rc;

    memset(f, 0, sizeof(*f));
    rc = scope_arg(req, f);
    if (!rc)
        rc = states_arg(req, f);
    if (!rc)
        rc = department_arg(req, f);
    if (!rc)
        rc = http_query_int(req, "category_id", 1, INT64_MAX, 0, &f->category_id);
    if (!rc && overdue) {
        if (strcmp(overdue, "1") == 0 || strcmp(overdue, "true") == 0)
            f->overdue = 1;
        else if (strcmp(overdue, "0") != 0 && strcmp(overdue, "false") != 0)
            rc = err_set(&req->err, GR_EINVAL, "overdue", "must be 1 or 0");
    }
    if (!rc)
        rc = time_arg(req, "from", &f->created_from);
    if (!rc)
        rc = time_arg(req, "to", &f->created_to);
    if (!rc && f->created_from && f->created_to && f->created_from >= f->created_to)
        rc = err_set(&req->err, GR_EINVAL, "to", "must be later than from");
    f->q = http_query(req, "q");
    if (!rc && f->q && jv_utf8_len(f->q) < 3)
        rc = err_set(&req->err, GR_EINVAL, "q", "must be at least 3 characters long");
    if (!rc && f->q && jv_utf8_len(f->q) > Q_MAX)
        rc = err_set(&req->err, GR_EINVAL, "q", "must be at most %d characters long", Q_MAX);
    if (!rc)
        rc = place_arg(req, f);
    f->sort = http_query(req, "sort");
    /* The overdue queue is worked most overdue first unless asked otherwise. */
    if (!f->sort && f->overdue)
        f->sort = "due";
    if (!rc && f->sort && strcmp(f->sort, "created") != 0 && strcmp(f->sort, "due") != 0 &&
        strcmp(f->sort, "updated") != 0)
        rc = err_set(&req->err, GR_EINVAL, "sort", "must be created, due or updated");
    return rc;
}

/* ---- the cursor of sort=due and sort=updated ---- */

/* base64url of "<sort letter><key or n>.<id>": opaque to clients. */
static const char *cursor_make(http_req *req, const case_filter *f, const case_rec *r)
{
    int64_t key = case_sort_key(f, r);
    char plain[64], *out;
    size_t len;

    if (f->sort[0] == 'd' && !key)
        snprintf(plain, sizeof(plain), "dn.%" PRId64, r->id);
    else
        snprintf(plain, sizeof(plain), "%c%" PRId64 ".%" PRId64, f->sort[0], key, r->id);
    len = sodium_base64_ENCODED_LEN(strlen(plain), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out = arena_alloc(req->arena, len);
    return sodium_bin2base64(out, len, (const unsigned char *)plain, strlen(plain),
                             sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int cursor_parse(http_req *req, const char *s, case_filter *f)
{
    unsigned char plain[64];
    size_t len = 0;
    char text[65], *end, *dot;
    long long key = 0, id;

    if (sodium_base642bin(plain, sizeof(plain) - 1, s, strlen(s), NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len < 4)
        goto bad;
    memcpy(text, plain, len);
    text[len] = '\0';
    if (text[0] != f->sort[0] || !(dot = strchr(text, '.')))
        goto bad;
    if (strncmp(text + 1, "n.", 2) == 0 && text[0] == 'd')
        f->after_key_null = 1;
    else {
        errno = 0;
        key = strtoll(text + 1, &end, 10);
        if (errno || end != dot)
            goto bad;
    }
    errno = 0;
    id = strtoll(dot + 1, &end, 10);
    if (errno || *end || id <= 0)
        goto bad;
    f->after_key = key;
    f->after_id = id;
    return 0;
bad:
    return err_set(&req->err, GR_EINVAL, "cursor", "is not a cursor of this sort");
}

/* ?limit, and ?after (sort=created) or ?cursor (the other sorts). */
static int page_args(http_req *req, case_filter *f)
{
    const char *cursor = http_query(req, "cursor");
    int keyset = f->sort && strcmp(f->sort, "created") != 0;
    int rc = http_page(req, LIST_DEFAULT, LIST_MAX, &f->limit, &f->after);

    f->desc = 1;
    if (!rc && keyset && f->after)
        rc = err_set(&req->err, GR_EINVAL, "after", "sort=%s pages with cursor", f->sort);
    if (!rc && !keyset && cursor)
        rc = err_set(&req->err, GR_EINVAL, "cursor", "sort=created pages with after");
    if (!rc && keyset && cursor)
        rc = cursor_parse(req, cursor, f);
    return rc;
}

/* ---- the list ---- */

/* A row of a work list: what a queue shows, never the contact. */
static json_t *item_json(const case_rec *r, int64_t now)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                          (json_int_t)r->id, "public_code", r->public_code, "channel", r->channel,
                          "category_id", http_json_id(r->category_id), "title", r->title, "state",
                          case_state_name(r->state), "street_id", http_json_id(r->street_id),
                          "community_id", http_json_id(r->community_id), "grid_id",
                          http_json_id(r->grid_id), "department_id", http_json_id(r->department_id),
                          "handler_org_id", http_json_id(r->handler_org_id), "step",
                          r->step ? json_string(r->step) : json_null(), "step_due_at",
                          http_json_time(r->step ? r->step_due_at : 0));

    json_object_set_new(o, "overdue",
                        json_boolean(r->step && r->step_due_at && r->step_due_at < now));
    json_object_set_new(o, "urgent", json_boolean(r->urgent));
    json_object_set_new(o, "location",
                        r->has_point ? json_pack("{s:f, s:f}", "lat", r->lat, "lon", r->lon)
                                     : json_null());
    json_object_set_new(o, "rating", r->rating ? json_string(r->rating) : json_null());
    json_object_set_new(o, "created_at", http_json_time(r->created_at));
    json_object_set_new(o, "updated_at", http_json_time(r->updated_at));
    json_object_set_new(o, "closed_at", http_json_time(r->closed_at));
    return o;
}

static int handle_list(http_req *req)
{
    int64_t now = time_now_ms();
    case_filter f;
    case_rec *v = NULL;
    size_t n = 0, i;
    int more = 0, rc;
    json_t *items, *body;
    db_conn *c;

    rc = filter_args(req, &f);
    if (!rc)
        rc = page_args(req, &f);
    if (rc)
        return rc;
    if (!(c = case_reader(req)))
        return GR_EUNAVAIL;
    f.now = now;
    rc = case_list(c, req->arena, &f, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    items = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(items, item_json(&v[i], now));
    body = json_pack("{s:o, s:o, s:o}", "items", items, "next_after",
                     more && (!f.sort || strcmp(f.sort, "created") == 0) ? json_integer(v[n - 1].id)
                                                                         : json_null(),
                     "next_cursor",
                     more && f.sort && strcmp(f.sort, "created") != 0
                         ? json_string(cursor_make(req, &f, &v[n - 1]))
                         : json_null());
    return http_send_json(req, 200, body);
}

/* ---- counts and badges ---- */

/* The queues, the states each counts, and the roles that work them. */
static const struct badge {
    const char *name;
    uint32_t states;
    const char *roles; /* space-separated; every other staff role sees none of them */
} badges[] = {
    {"to_accept", 1u << CS_REPORTED, "acceptor shift_leader"},
    {"to_file", 1u << CS_ACCEPTED, "shift_leader"},
    {"to_dispatch", 1u << CS_FILED | 1u << CS_REVIEW, "dispatcher shift_leader"},
    {"to_sign", 1u << CS_DISPATCHED, "department_staff"},
    {"to_handle", 1u << CS_SIGNED | 1u << CS_REWORK, "department_staff"},
    {"to_verify", 1u << CS_HANDLED, "grid_inspector"},
    {"returned_or_disputed", 1u << CS_RETURNED | 1u << CS_DISPUTED, "dispatcher shift_leader"},
};

/* Leaders, auditors and admins oversee: they see every queue. */
static int sees_badge(const char *role, const struct badge *b)
{
    size_t n = strlen(role);
    const char *p;

    if (strcmp(role, "leader") == 0 || strcmp(role, "auditor") == 0 || strcmp(role, "admin") == 0)
        return 1;
    for (p = strstr(b->roles, role); p; p = strstr(p + 1, role))
        if ((p == b->roles || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static int handle_counts(http_req *req)
{
    int64_t counts[CS_NSTATES], late[CS_NSTATES], overdue = 0, sum;
    case_filter f;
    json_t *body, *b;
    size_t i;
    int rc, s;
    db_conn *c;

    rc = filter_args(req, &f);
    if (rc)
        return rc;
    if (!(c = case_reader(req)))
        return GR_EUNAVAIL;
    f.now = time_now_ms();
    rc = case_count_by_state(c, &f, counts, &req->err);
    f.overdue = 1;
    if (!rc)
        rc = case_count_by_state(c, &f, late, &req->err);
    if (rc)
        return rc;
    body = json_object();
    b = json_object();
    for (s = 0; s < CS_NSTATES; s++) {
        json_object_set_new(body, case_state_name((case_state)s), json_integer(counts[s]));
        overdue += late[s];
    }
    for (i = 0; i < sizeof(badges) / sizeof(badges[0]); i++) {
        if (!sees_badge(req->who.role, &badges[i]))
            continue;
        for (sum = 0, s = 0; s < CS_NSTATES; s++)
            if (badges[i].states & (1u << s))
                sum += counts[s];
        json_object_set_new(b, badges[i].name, json_integer(sum));
    }
    json_object_set_new(b, "overdue", json_integer(overdue));
    json_object_set_new(body, "badges", b);
    return http_send_json(req, 200, body);
}

/* ---- CSV export ---- */

/* Written to a temporary file a page of cases at a time and streamed from
 * there: memory stays flat however many rows match. */
static int handle_export(http_req *req)
{
    char path[4096], header[128];
    case_filter f;
    int64_t rows = 0;
    int truncated = 0, rc, fd = -1;
    FILE *out = NULL;
    db_conn *c;

    rc = filter_args(req, &f);
    if (rc)
        return rc;
    f.desc = !f.sort || strcmp(f.sort, "created") == 0;
    if (!(c = case_reader(req)))
        return GR_EUNAVAIL;
    f.now = time_now_ms();
    snprintf(path, sizeof(path), "%s/export-XXXXXX", req->ctx->data_dir);
    fd = mkstemp(path);
    if (fd < 0 || !(out = fdopen(fd, "w+"))) {
        if (fd >= 0)
            close(fd);
        log_msg(LOG_ERROR, "case.export", "cannot create a temporary file in the data directory");
        return err_set(&req->err, GR_EUNAVAIL, "", "cannot prepare the export now");
    }
    rc = case_export_csv(c, &f, EXPORT_MAX_ROWS, out, &rows, &truncated, &req->err);
    if (fclose(out) && !rc)
        rc = err_set(&req->err, GR_EINTERNAL, "", "cannot write the export");
    if (!rc) {
        http_add_header(req, "Content-Disposition", "attachment; filename=\"cases.csv\"");
        if (truncated) {
            snprintf(header, sizeof(header), "%d", EXPORT_MAX_ROWS);
            http_add_header(req, "X-Truncated", header);
        }
        rc = http_send_file(req, 200, "text/csv; charset=utf-8", path, NULL, NULL);
    }
    unlink(path);
    if (!rc)
        log_msg(LOG_INFO, "case.export", "user %" PRId64 " exported %" PRId64 " cases",
                req->who.user_id, rows);
    return rc;
}

void case_lists_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/cases", handle_list, "case.read");
    http_route(r, "GET", "/api/v1/cases/counts", handle_counts, "case.read");
    http_route(r, "GET", "/api/v1/cases/export.csv", handle_export, "case.export");
}
