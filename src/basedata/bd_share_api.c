/*
 * The HTTP routes of data-sharing applications (bd_share.h): filing,
 * listing, deciding and revoking, and the reads through a share token at
 * GET /api/v1/share/{entity}.
 */
#include "basedata/bd_share.h"
#include "basedata/bd_http.h"

#include "base/timeutil.h"
#include "org/org.h"

#include <string.h>
#include <strings.h>

enum { PAGE_DEFAULT = 50, PAGE_MAX = 500 };

/* An application as stored; 503 when no reader can be had. */
static int app_get(http_req *req, int64_t id, bd_share_app *app)
{
    db_conn *c = bd_http_reader(req);

    return c ? bd_share_get(c, req->arena, id, app, &req->err) : GR_EUNAVAIL;
}

static json_t *app_json(const void *item)
{
    const bd_share_app *p = item;

    return json_pack(
        "{s:I, s:I, s:s, s:s, s:s, s:o, s:s, s:o, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:o, "
        "s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o}",
        "id", (json_int_t)p->id, "version", (json_int_t)p->version, "org_name", p->org_name,
        "org_uscc", p->org_uscc, "entity", p->entity, "fields", bd_json_list(p->fields), "personal",
        p->personal, "legal_basis", bd_json_str_or_null(p->legal_basis), "area_id",
        (json_int_t)p->area_id, "purpose", p->purpose, "period_from", p->period_from, "period_to",
        p->period_to, "state", p->state, "granted_personal",
        bd_json_str_or_null(p->granted_personal), "reason", bd_json_str_or_null(p->reason),
        "filed_by", (json_int_t)p->filed_by, "decided_by", http_json_id(p->decided_by),
        "decided_at", http_json_time(p->decided_at), "revoked_by", http_json_id(p->revoked_by),
        "revoked_at", http_json_time(p->revoked_at), "last_read_at",
        http_json_time(p->last_read_at), "reads", (json_int_t)p->reads, "created_at",
        http_json_time(p->created_at), "updated_at", http_json_time(p->updated_at), "valid_until",
        http_json_time(p->valid_until));
}

static int handle_apply(http_req *req)
{
    static const jv_field fields[] = {
        {"org_name", JV_STRING, 1, 0, 1, BD_SHARE_NAME_MAX},
        {"org_uscc", JV_STRING, 1, 0, 1, 32},
        {"entity", JV_STRING, 1, 0, 1, 32},
        {"fields", JV_ARRAY, 1, 0, 0, 0},
        {"personal", JV_STRING, 0, 1, 1, 16},
        {"legal_basis", JV_STRING, 0, 1, 1, BD_SHARE_TEXT_MAX},
        {"area_id", JV_INT, 1, 0, 1, BD_ID_MAX},
        {"purpose", JV_STRING, 1, 0, 1, BD_SHARE_TEXT_MAX},
        {"period_from", JV_STRING, 1, 0, 1, 10},
        {"period_to", JV_STRING, 1, 0, 1, 10},
    };
    json_t *body = NULL, *v, *f;
    bd_share_input in;
    bd_actor who;
    bd_share_app app;
    int64_t id = 0;
    char loc[64];
    size_t i;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    memset(&in, 0, sizeof(in));
    in.org_name = jv_str(body, "org_name");
    in.org_uscc = jv_str(body, "org_uscc");
    in.entity = jv_str(body, "entity");
    in.personal = jv_str(body, "personal");
    in.legal_basis = jv_str(body, "legal_basis");
    in.area_id = jv_int(body, "area_id", 0);
    in.purpose = jv_str(body, "purpose");
    in.period_from = jv_str(body, "period_from");
    in.period_to = jv_str(body, "period_to");
    v = json_object_get(body, "fields");
    if (json_array_size(v) > BD_SHARE_FIELDS_MAX) {
        rc = err_set(&req->err, GR_EINVAL, "fields", "at most %d fields", BD_SHARE_FIELDS_MAX);
        goto out;
    }
    json_array_foreach(v, i, f)
    {
        if (!json_is_string(f)) {
            rc = err_set(&req->err, GR_EINVAL, "fields", "every field is a name (a string)");
            goto out;
        }
        in.fields[in.nfields++] = json_string_value(f);
    }
    bd_http_actor(req, &who);
    rc = bd_share_apply(req->ctx, &who, &in, &id, &req->err);
    if (rc)
        goto out;
    rc = app_get(req, id, &app);
    if (rc)
        goto out;
    snprintf(loc, sizeof(loc), "/api/v1/share/applications/%lld", (long long)id);
    http_add_header(req, "Location", loc);
    rc = http_send_json(req, 201, app_json(&app));
out:
    json_decref(body);
    return rc;
}

static int handle_list(http_req *req)
{
    const char *state = http_query(req, "state");
    int64_t limit, after;
    bd_share_app *v;
    db_conn *c;
    size_t n;
    int more, rc;

    rc = http_page(req, 20, 100, &limit, &after);
    if (rc)
        return rc;
    if (state && strcmp(state, "pending") != 0 && strcmp(state, "approved") != 0 &&
        strcmp(state, "refused") != 0 && strcmp(state, "revoked") != 0)
        return err_set(&req->err, GR_EINVAL, "state",
                       "must be pending, approved, refused or revoked");
    if (!(c = bd_http_reader(req)))
        return GR_EUNAVAIL;
    rc = bd_share_list(c, req->arena, req->who.scope_org_id, state, after, limit, &v, &n, &more,
                       &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), app_json, more, n ? v[n - 1].id : 0);
}

/* The application of the route's id, if the caller's scope covers its area. */
static int app_in_scope(http_req *req, db_conn *c, bd_share_app *app)
{
    int rc = bd_share_get(c, req->arena, http_param_int(req, "id"), app, &req->err);

    if (rc)
        return rc;
    if (req->who.scope_org_id && !org_is_within(c, req->who.scope_org_id, app->area_id))
        return err_set(&req->err, GR_ENOTFOUND, "id", "there is no such application");
    return 0;
}

static int handle_get(http_req *req)
{
    bd_share_app app;
    json_t *o, *h = NULL;
    db_conn *c;
    int rc;

    if (!(c = bd_http_reader(req)))
        return GR_EUNAVAIL;
    rc = app_in_scope(req, c, &app);
    if (!rc)
        rc = bd_share_history(c, app.id, &h, &req->err);
    if (rc) {
        json_decref(h);
        return rc;
    }
    o = app_json(&app);
    json_object_set_new(o, "history", h);
    return http_send_json(req, 200, o);
}

/* After a change: the application as it now is. */
static int send_app(http_req *req, json_t *extra_token)
{
    bd_share_app app;
    json_t *o;
    int rc = app_get(req, http_param_int(req, "id"), &app);

    if (rc) {
        json_decref(extra_token);
        return rc;
    }
    o = app_json(&app);
    if (extra_token) {
        json_object_set_new(o, "token", extra_token);
        /* Shown once: never cached anywhere on the way. */
        http_add_header(req, "Cache-Control", "no-store");
    }
    return http_send_json(req, 200, o);
}

static int handle_approve(http_req *req)
{
    static const jv_field fields[] = {{"personal", JV_STRING, 0, 1, 1, 16}};
    json_t *body = NULL;
    char token[BD_SHARE_TOKEN_TEXT];
    bd_actor who;
    int rc;

    rc = http_read_body(req, fields, 1, &body);
    if (rc)
        goto out;
    bd_http_actor(req, &who);
    rc = bd_share_approve(req->ctx, &who, http_param_int(req, "id"), jv_str(body, "personal"),
                          token, &req->err);
    if (rc)
        goto out;
    rc = send_app(req, json_string(token));
    sodium_memzero(token, sizeof(token));
out:
    json_decref(body);
    return rc;
}

static int with_reason(http_req *req, int revoke)
{
    static const jv_field fields[] = {{"reason", JV_STRING, 1, 0, 1, BD_SHARE_TEXT_MAX}};
    json_t *body = NULL;
    bd_actor who;
    int rc;

    rc = http_read_body(req, fields, 1, &body);
    if (rc)
        goto out;
    bd_http_actor(req, &who);
    rc = (revoke ? bd_share_revoke : bd_share_refuse)(req->ctx, &who, http_param_int(req, "id"),
                                                      jv_str(body, "reason"), &req->err);
    if (!rc)
        rc = send_app(req, NULL);
out:
    json_decref(body);
    return rc;
}

static int handle_refuse(http_req *req)
{
    return with_reason(req, 0);
}

static int handle_revoke(http_req *req)
{
    return with_reason(req, 1);
}

/* GET /api/v1/share/{entity} with a share token (the auth hook lets it
 * through as nobody on this route only). */
static int handle_read(http_req *req)
{
    const char *authz = http_header(req, "Authorization");
    const char *entity = http_param(req, "entity");
    int64_t now = time_now_ms(), limit, after, last = 0;
    bd_share_app app;
    json_t *items = NULL;
    db_conn *c;
    int more = 0, rc;

    if (!authz || strncasecmp(authz, "Bearer ", 7) != 0) {
        http_add_header(req, "WWW-Authenticate", "Bearer realm=\"grassroots\"");
        return err_set(&req->err, GR_EAUTH, "Authorization",
                       "a share token is required: Authorization: Bearer grs_...");
    }
    authz += 7;
    while (*authz == ' ')
        authz++;
    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &limit, &after);
    if (rc)
        return rc;
    if (!(c = bd_http_reader(req)))
        return GR_EUNAVAIL;
    rc = bd_share_resolve(req->ctx, c, req->arena, authz, now, &app, &req->err);
    if (rc == GR_EAUTH)
        http_add_header(req, "WWW-Authenticate",
                        "Bearer realm=\"grassroots\", error=\"invalid_token\"");
    if (rc)
        return rc;
    if (strcmp(entity, app.entity) != 0)
        return err_set(&req->err, GR_EFORBIDDEN, "entity", "the share token grants %s, not %.32s",
                       app.entity, entity);
    rc =
        bd_share_read(req->ctx, c, req->arena, &app, after, limit, &items, &more, &last, &req->err);
    /* Audited before anything is sent: no entry, no data. */
    if (!rc)
        rc = bd_share_record_read(req->ctx, &app, json_array_size(items), now, req->request_id,
                                  &req->err);
    if (rc) {
        json_decref(items);
        return rc;
    }
    http_add_header(req, "Cache-Control", "no-store");
    return http_send_page(req, items, more, last);
}

void bd_share_api_register(http_router *r)
{
    http_route(r, "POST", "/api/v1/share/applications", handle_apply, "share.apply");
    http_route(r, "GET", "/api/v1/share/applications", handle_list, "share.view");
    http_route(r, "GET", "/api/v1/share/applications/{id:int}", handle_get, "share.view");
    http_route(r, "POST", "/api/v1/share/applications/{id:int}/approve", handle_approve,
               "share.decide");
    http_route(r, "POST", "/api/v1/share/applications/{id:int}/refuse", handle_refuse,
               "share.decide");
    http_route(r, "POST", "/api/v1/share/applications/{id:int}/revoke", handle_revoke,
               "share.revoke");
    http_route(r, "GET", "/api/v1/share/{entity:str}", handle_read, AUTH_SHARE_ACTION);
}
