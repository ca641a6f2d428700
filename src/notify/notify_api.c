/*
 * The HTTP routes of webhooks, their deliveries and in-app notices: JSON in
 * and out, nothing else; the rules live in notify_model.c. Webhooks are for
 * admins (the policy's webhook.write); notices are each user's own.
 */
#include "notify/notify_model.h"

#include "base/crypto.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PAGE_DEFAULT = 50, PAGE_MAX = 500 };

#define ID_MAX 9007199254740991.0 /* 2^53 - 1: exact in JSON everywhere */

/* ---- JSON ---- */

static json_t *json_str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *webhook_json(const void *item)
{
    const notify_webhook *w = item;
    json_t *types = json_array();
    char *copy = strdup(w->event_types ? w->event_types : ""), *save = NULL, *s;

    if (!copy)
        abort();
    for (s = strtok_r(copy, " ", &save); s; s = strtok_r(NULL, " ", &save))
        json_array_append_new(types, json_string(s));
    free(copy);
    return json_pack("{s:I, s:s, s:o, s:b, s:o, s:o, s:o, s:I}", "id", (json_int_t)w->id, "url",
                     w->url, "event_types", types, "active", w->active, "created_by",
                     http_json_id(w->created_by), "created_at", http_json_time(w->created_at),
                     "updated_at", http_json_time(w->updated_at), "version",
                     (json_int_t)w->version);
}

static json_t *delivery_json(const void *item)
{
    const notify_delivery *d = item;
    const char *status = notify_delivery_status(d);
    int waiting = !d->delivered_at && !d->dead_at;

    return json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "id", (json_int_t)d->id, "webhook_id", (json_int_t)d->webhook_id, "event_id",
                     d->event_id, "event_type", d->event_type, "subject",
                     json_str_or_null(d->subject), "subject_id", http_json_id(d->subject_id),
                     "idempotency_key", d->idempotency_key, "status", status, "attempts",
                     (json_int_t)d->attempts, "next_attempt_at",
                     waiting ? http_json_time(d->next_attempt_at) : json_null(), "delivered_at",
                     http_json_time(d->delivered_at), "dead_at", http_json_time(d->dead_at),
                     "last_status", http_json_id(d->last_status), "last_error",
                     json_str_or_null(d->last_error), "created_at", http_json_time(d->created_at));
}

static json_t *notice_json(const void *item)
{
    const notify_notice_info *x = item;

    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:b, s:o, s:o}", "id", (json_int_t)x->id, "kind",
                     x->kind, "text", x->text, "subject", json_str_or_null(x->subject),
                     "subject_id", http_json_id(x->subject_id), "read", x->read_at != 0, "read_at",
                     http_json_time(x->read_at), "created_at", http_json_time(x->created_at));
}

static db_conn *reader(http_req *req)
{
    db_conn *c = db_reader(req->db);

    if (!c)
        err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    return c;
}

/* A list's ?limit= and ?after=, and the connection to read it on. */
static int page_open(http_req *req, int64_t *limit, int64_t *after, db_conn **c)
{
    int rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, limit, after);

    if (rc)
        return rc;
    *c = reader(req);
    return *c ? 0 : GR_EUNAVAIL;
}

/* The strings of a JSON array (arena-owned pointers into arr). */
static int types_arg(http_req *req, json_t *arr, const char *const **out, size_t *n)
{
    const char **v;
    json_t *x;
    size_t i;

    *n = json_array_size(arr);
    v = arena_alloc(req->arena, (*n + 1) * sizeof(*v));
    json_array_foreach(arr, i, x)
    {
        if (!json_is_string(x))
            return err_set(&req->err, GR_EINVAL, "event_types", "must be an array of strings");
        v[i] = json_string_value(x);
    }
    *out = v;
    return 0;
}

/* ---- webhooks ---- */

static int send_webhook(http_req *req, int status, int64_t id, const char *secret)
{
    db_conn *c = reader(req);
    notify_webhook w;
    char loc[64];
    json_t *o;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = notify_webhook_get(c, req->arena, id, &w, &req->err);
    if (rc)
        return rc;
    o = webhook_json(&w);
    if (secret)
        json_object_set_new(o, "secret", json_string(secret));
    if (status == 201) {
        snprintf(loc, sizeof(loc), "/api/v1/webhooks/%lld", (long long)id);
        http_add_header(req, "Location", loc);
    }
    return http_send_json(req, status, o);
}

static int handle_webhooks_list(http_req *req)
{
    int64_t limit, after;
    notify_webhook *v = NULL;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c;

    rc = page_open(req, &limit, &after, &c);
    if (rc)
        return rc;
    rc = notify_webhook_list(c, req->arena, after, limit, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), webhook_json, more, n ? v[n - 1].id : 0);
}

static int handle_webhook_create(http_req *req)
{
    static const jv_field fields[] = {
        {"url", JV_STRING, 1, 0, 1, NOTIFY_URL_MAX},
        {"event_types", JV_ARRAY, 1, 0, 0, 0},
        {"secret", JV_STRING, 0, 0, NOTIFY_SECRET_MIN, NOTIFY_SECRET_MAX},
        {"active", JV_BOOL, 0, 0, 0, 0},
    };
    char secret[NOTIFY_SECRET_MAX + 1] = "";
    notify_webhook_input in = {0};
    json_t *body = NULL;
    int64_t id = 0;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc)
        rc = types_arg(req, json_object_get(body, "event_types"), &in.types, &in.ntypes);
    if (rc)
        goto out;
    in.url = jv_str(body, "url");
    in.secret = jv_str(body, "secret");
    in.active = !json_is_false(json_object_get(body, "active"));
    in.created_by = req->who.user_id;
    rc = notify_webhook_create(req->ctx, &in, secret, &id, &req->err);
    if (!rc)
        /* The secret is answered here once; afterwards only its use shows. */
        rc = send_webhook(req, 201, id, secret);
out:
    sodium_memzero(secret, sizeof(secret));
    json_decref(body);
    return rc;
}

static int handle_webhook_get(http_req *req)
{
    return send_webhook(req, 200, http_param_int(req, "id"), NULL);
}

static int handle_webhook_patch(http_req *req)
{
    static const jv_field fields[] = {
        {"url", JV_STRING, 0, 0, 1, NOTIFY_URL_MAX},
        {"event_types", JV_ARRAY, 0, 0, 0, 0},
        {"secret", JV_STRING, 0, 0, NOTIFY_SECRET_MIN, NOTIFY_SECRET_MAX},
        {"active", JV_BOOL, 0, 0, 0, 0},
        {"version", JV_INT, 1, 0, 1, ID_MAX},
    };
    int64_t id = http_param_int(req, "id");
    notify_webhook_patch p = {0};
    json_t *body = NULL, *active;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc && json_object_get(body, "event_types"))
        rc = types_arg(req, json_object_get(body, "event_types"), &p.types, &p.ntypes);
    if (rc)
        goto out;
    p.url = jv_str(body, "url");
    p.secret = jv_str(body, "secret");
    active = json_object_get(body, "active");
    p.set_active = active != NULL;
    p.active = json_is_true(active);
    p.version = jv_int(body, "version", 0);
    rc = notify_webhook_update(req->ctx, id, &p, &req->err);
    if (!rc)
        rc = send_webhook(req, 200, id, NULL);
out:
    json_decref(body);
    return rc;
}

static int handle_webhook_delete(http_req *req)
{
    int rc = notify_webhook_delete(req->ctx, http_param_int(req, "id"), &req->err);

    return rc ? rc : http_send_empty(req, 204);
}

static int handle_webhook_test(http_req *req)
{
    int64_t delivery = 0;
    notify_delivery d;
    db_conn *c;
    int rc;

    rc = notify_webhook_test(req->ctx, http_param_int(req, "id"), &delivery, &req->err);
    if (rc)
        return rc;
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = notify_delivery_get(c, req->arena, delivery, &d, &req->err);
    return rc ? rc : http_send_json(req, 202, delivery_json(&d));
}

static int handle_deliveries_list(http_req *req)
{
    int64_t id = http_param_int(req, "id"), limit, after;
    notify_delivery *v = NULL;
    notify_webhook w;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c;

    rc = page_open(req, &limit, &after, &c);
    if (!rc)
        rc = notify_webhook_get(c, req->arena, id, &w, &req->err);
    if (!rc)
        rc = notify_delivery_list(c, req->arena, id, http_query(req, "status"), after, limit, &v,
                                  &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), delivery_json, more, n ? v[n - 1].id : 0);
}

/* ---- notices ---- */

static int handle_notices_list(http_req *req)
{
    int64_t limit, after, unread = 0;
    notify_notice_info *v = NULL;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c;

    rc = page_open(req, &limit, &after, &c);
    if (!rc)
        rc = http_query_int(req, "unread", 0, 1, 0, &unread);
    if (rc)
        return rc;
    rc = notify_notice_list(c, req->arena, req->who.user_id, (int)unread, after, limit, &v, &n,
                            &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), notice_json, more, n ? v[n - 1].id : 0);
}

static int handle_notice_read(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    notify_notice_info x;
    db_conn *c;
    int rc;

    rc = notify_notice_mark_read(req->ctx, req->who.user_id, id, &req->err);
    if (rc)
        return rc;
    c = reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = notify_notice_get(c, req->arena, req->who.user_id, id, &x, &req->err);
    return rc ? rc : http_send_json(req, 200, notice_json(&x));
}

void notify_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/webhooks", handle_webhooks_list, "webhook.write");
    http_route(r, "POST", "/api/v1/webhooks", handle_webhook_create, "webhook.write");
    http_route(r, "GET", "/api/v1/webhooks/{id:int}", handle_webhook_get, "webhook.write");
    http_route(r, "PATCH", "/api/v1/webhooks/{id:int}", handle_webhook_patch, "webhook.write");
    http_route(r, "DELETE", "/api/v1/webhooks/{id:int}", handle_webhook_delete, "webhook.write");
    http_route(r, "GET", "/api/v1/webhooks/{id:int}/deliveries", handle_deliveries_list,
               "webhook.write");
    http_route(r, "POST", "/api/v1/webhooks/{id:int}/test", handle_webhook_test, "webhook.write");
    http_route(r, "GET", "/api/v1/notices", handle_notices_list, "session");
    http_route(r, "POST", "/api/v1/notices/{id:int}/read", handle_notice_read, "session");
}
