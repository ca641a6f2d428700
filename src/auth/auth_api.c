/*
 * The HTTP routes of accounts, sessions and API tokens: each handler checks
 * the body's shape (jv_check), the target's scope (org_require_scope), calls
 * the model and translates its answer. Phones are answered masked.
 */
#include "auth/auth_api.h"
#include "auth/auth_model.h"
#include "base/jsonv.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAX 9007199254740991.0 /* 2^53 - 1: exact in JSON everywhere */

static json_t *user_json(const void *item)
{
    const auth_user *u = item;

    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:o, s:o, s:o, s:I}", "id",
                     (json_int_t)u->id, "username", u->username, "display_name", u->display_name,
                     "role", u->role, "scope_org_id", http_json_id(u->scope_org_id),
                     "department_id", http_json_id(u->department_id), "status", u->status, "phone",
                     u->phone_hint ? json_string(u->phone_hint) : json_null(), "created_at",
                     http_json_time(u->created_at), "updated_at", http_json_time(u->updated_at),
                     "version", (json_int_t)u->version);
}

static json_t *token_json(const void *item)
{
    const auth_token *t = item;
    json_t *scopes = json_array();
    char *copy = strdup(t->scopes ? t->scopes : ""), *save = NULL, *s;

    for (s = strtok_r(copy, " ", &save); s; s = strtok_r(NULL, " ", &save))
        json_array_append_new(scopes, json_string(s));
    free(copy);
    return json_pack("{s:I, s:s, s:o, s:I, s:s, s:o, s:o, s:o, s:b}", "id", (json_int_t)t->id,
                     "name", t->name, "scopes", scopes, "user_id", (json_int_t)t->user_id, "owner",
                     t->owner, "created_at", http_json_time(t->created_at), "expires_at",
                     http_json_time(t->expires_at), "last_used_at", http_json_time(t->last_used_at),
                     "revoked", t->revoked);
}

/* A page of n items (size bytes apart in v), each as to_json makes it. The
 * same in org_api.c: it belongs in src/http (http_send_page's neighbour). */
static void retry_after(http_req *req, int64_t ms)
{
    char v[32];

    snprintf(v, sizeof(v), "%lld", (long long)((ms + 999) / 1000 > 0 ? (ms + 999) / 1000 : 1));
    http_add_header(req, "Retry-After", v);
}

/* ---- sessions ---- */

static int handle_login(http_req *req)
{
    static const jv_field fields[] = {
        {"username", JV_STRING, 1, 0, 1, 64},
        {"password", JV_STRING, 1, 0, 1, 1024},
    };
    json_t *body = NULL;
    auth_login out;
    char cookie[256];
    int rc;

    rc = http_read_body(req, fields, 2, &body);
    if (rc)
        goto out;
    rc = auth_login_password(req->ctx, req->arena, jv_str(body, "username"),
                             jv_str(body, "password"), req->remote_addr, &out, &req->err);
    if (rc == GR_ETHROTTLED)
        retry_after(req, out.retry_after_ms);
    if (rc)
        goto out;
    snprintf(cookie, sizeof(cookie),
             AUTH_SESSION_COOKIE "=%s; Path=/; Max-Age=%lld; HttpOnly; "
                                 "SameSite=Lax%s",
             out.token, (long long)(AUTH_SESSION_MAX_MS / 1000), req->is_tls ? "; Secure" : "");
    http_add_header(req, "Set-Cookie", cookie);
    sodium_memzero(cookie, sizeof(cookie));
    sodium_memzero(out.token, sizeof(out.token));
    rc = http_send_json(
        req, 200, json_pack("{s:o, s:s}", "user", user_json(&out.user), "csrf_token", out.csrf));
out:
    json_decref(body);
    return rc;
}

static int handle_logout(http_req *req)
{
    int rc = 0;

    if (req->who.session_id)
        rc = auth_session_revoke(req->ctx, req->who.session_id, &req->err);
    if (rc && rc != GR_ENOTFOUND)
        return rc;
    http_add_header(req, "Set-Cookie",
                    AUTH_SESSION_COOKIE "=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    return http_send_empty(req, 204);
}

static int handle_me(http_req *req)
{
    const char *csrf = NULL;
    auth_user u;
    json_t *o;
    int rc;

    rc = auth_user_get(req->ctx, req->arena, req->who.user_id, &u, &req->err);
    if (!rc && req->who.session_id)
        rc = auth_session_csrf(req->ctx, req->arena, req->who.session_id, &csrf, &req->err);
    if (rc)
        return rc;
    o = json_pack("{s:o}", "user", user_json(&u));
    if (csrf)
        json_object_set_new(o, "csrf_token", json_string(csrf));
    return http_send_json(req, 200, o);
}

static int handle_password(http_req *req)
{
    static const jv_field fields[] = {
        {"old_password", JV_STRING, 1, 0, 1, 1024},
        {"new_password", JV_STRING, 1, 0, 1, 4096},
    };
    json_t *body = NULL;
    int64_t wait = 0;
    int rc;

    rc = http_read_body(req, fields, 2, &body);
    if (!rc)
        rc = auth_password_change(req->ctx, req->who.user_id, req->who.session_id, req->remote_addr,
                                  jv_str(body, "old_password"), jv_str(body, "new_password"), &wait,
                                  &req->err);
    if (rc == GR_ETHROTTLED)
        retry_after(req, wait);
    json_decref(body);
    return rc ? rc : http_send_empty(req, 204);
}

/* ---- users ---- */

static int handle_users_list(http_req *req)
{
    int64_t limit, after;
    auth_user *v;
    size_t n;
    int rc;

    rc = http_page(req, 50, 500, &limit, &after);
    if (!rc)
        rc = auth_user_list(req->ctx, req->arena, 0, req->who.scope_org_id, after, limit, &v, &n,
                            &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), user_json, (int64_t)n == limit,
                           n ? v[n - 1].id : 0);
}

/* Reads user id for the caller: 404, or 403 when outside the caller's scope. */
static int user_load(http_req *req, int64_t id, auth_user *u)
{
    int rc = auth_user_get(req->ctx, req->arena, id, u, &req->err);

    if (!rc && u->scope_org_id > 0)
        rc = org_require_scope(req, u->scope_org_id);
    return rc;
}

static int send_user(http_req *req, int status, int64_t id)
{
    auth_user u;
    int rc = auth_user_get(req->ctx, req->arena, id, &u, &req->err);

    return rc ? rc : http_send_json(req, status, user_json(&u));
}

static int handle_user_get(http_req *req)
{
    auth_user u;
    int rc = user_load(req, http_param_int(req, "id"), &u);

    return rc ? rc : http_send_json(req, 200, user_json(&u));
}

static int handle_user_create(http_req *req)
{
    static const jv_field fields[] = {
        {"username", JV_STRING, 1, 0, 1, 64},      {"display_name", JV_STRING, 1, 0, 1, 64},
        {"password", JV_STRING, 1, 0, 1, 4096},    {"role", JV_STRING, 1, 0, 1, 64},
        {"scope_org_id", JV_INT, 0, 1, 1, ID_MAX}, {"department_id", JV_INT, 0, 1, 1, ID_MAX},
        {"phone", JV_STRING, 0, 1, 1, 32},
    };
    json_t *body = NULL;
    auth_user_new in;
    int64_t id = 0;
    char loc[64];
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    memset(&in, 0, sizeof(in));
    in.username = jv_str(body, "username");
    in.display_name = jv_str(body, "display_name");
    in.password = jv_str(body, "password");
    in.role = jv_str(body, "role");
    in.phone = jv_str(body, "phone");
    in.scope_org_id = jv_int(body, "scope_org_id", 0);
    in.department_id = jv_int(body, "department_id", 0);
    /* Only inside one's own subtree. */
    if (in.scope_org_id > 0) {
        rc = org_require_scope(req, in.scope_org_id);
        if (rc)
            goto out;
    }
    rc = auth_user_create(req->ctx, &in, &id, &req->err);
    if (rc)
        goto out;
    snprintf(loc, sizeof(loc), "/api/v1/users/%lld", (long long)id);
    http_add_header(req, "Location", loc);
    rc = send_user(req, 201, id);
out:
    json_decref(body);
    return rc;
}

static int handle_user_patch(http_req *req)
{
    static const jv_field fields[] = {
        {"version", JV_INT, 1, 0, 1, ID_MAX},       {"display_name", JV_STRING, 0, 0, 1, 64},
        {"role", JV_STRING, 0, 0, 1, 64},           {"scope_org_id", JV_INT, 0, 1, 1, ID_MAX},
        {"department_id", JV_INT, 0, 1, 1, ID_MAX}, {"status", JV_STRING, 0, 0, 1, 16},
        {"phone", JV_STRING, 0, 1, 1, 32},          {"password", JV_STRING, 0, 0, 1, 4096},
    };
    int64_t id = http_param_int(req, "id");
    json_t *body = NULL;
    auth_user_patch p;
    auth_user cur;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc && json_object_size(body) < 2)
        rc = err_set(&req->err, GR_EINVAL, "", "nothing to change: name a field besides version");
    if (rc)
        goto out;
    memset(&p, 0, sizeof(p));
    p.version = jv_int(body, "version", 0);
    p.display_name = jv_str(body, "display_name");
    p.role = jv_str(body, "role");
    p.status = jv_str(body, "status");
    p.password = jv_str(body, "password");
    p.set_scope = json_object_get(body, "scope_org_id") != NULL;
    p.scope_org_id = jv_int(body, "scope_org_id", 0);
    p.set_department = json_object_get(body, "department_id") != NULL;
    p.department_id = jv_int(body, "department_id", 0);
    p.set_phone = json_object_get(body, "phone") != NULL;
    p.phone = jv_str(body, "phone");
    rc = user_load(req, id, &cur);
    if (!rc && p.set_scope && p.scope_org_id > 0)
        rc = org_require_scope(req, p.scope_org_id);
    if (rc)
        goto out;
    /* Nobody locks themselves out by accident. */
    if (id == req->who.user_id && p.status && strcmp(p.status, "active") != 0) {
        rc = err_set(&req->err, GR_EINVAL, "status", "you cannot disable your own account");
        goto out;
    }
    if (id == req->who.user_id && p.role && strcmp(p.role, cur.role) != 0) {
        rc = err_set(&req->err, GR_EINVAL, "role", "you cannot change your own role");
        goto out;
    }
    rc = auth_user_update(req->ctx, id, &p, &req->err);
    if (!rc)
        rc = send_user(req, 200, id);
out:
    json_decref(body);
    return rc;
}

/* ---- API tokens ---- */

static int handle_token_create(http_req *req)
{
    static const jv_field fields[] = {
        {"name", JV_STRING, 1, 0, 1, 64},
        {"scopes", JV_ARRAY, 1, 0, 0, 0},
        {"expires_in_days", JV_INT, 1, 0, 1, AUTH_TOKEN_DAYS_MAX},
    };
    char text[AUTH_TOKEN_TEXT];
    json_t *body = NULL, *v, *o;
    auth_token t;
    size_t i;
    const char *scopes = "";
    int64_t id = 0;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    json_array_foreach(json_object_get(body, "scopes"), i, v)
    {
        if (!json_is_string(v) || json_string_length(v) == 0 || strchr(json_string_value(v), ' ')) {
            rc = err_set(&req->err, GR_EINVAL, "scopes", "must be an array of action names");
            goto out;
        }
        scopes = arena_printf(req->arena, "%s%s%s", scopes, i ? " " : "", json_string_value(v));
    }
    /* A token cannot mint tokens: it would escape its own scopes. */
    if (req->who.token_id) {
        rc = err_set(&req->err, GR_EFORBIDDEN, "", "API tokens are created by people, not tokens");
        goto out;
    }
    rc = auth_token_create(req->ctx, req->who.user_id, jv_str(body, "name"), scopes,
                           (int)jv_int(body, "expires_in_days", 0), text, &id, &req->err);
    if (!rc)
        rc = auth_token_get(req->ctx, req->arena, id, &t, &req->err);
    if (rc)
        goto out;
    o = token_json(&t);
    json_object_set_new(o, "token", json_string(text));
    sodium_memzero(text, sizeof(text));
    rc = http_send_json(req, 201, o);
out:
    json_decref(body);
    return rc;
}

static int handle_tokens_list(http_req *req)
{
    int64_t limit, after;
    auth_token *v;
    size_t n;
    int rc;

    rc = http_page(req, 50, 500, &limit, &after);
    if (!rc)
        rc = auth_token_list(req->ctx, req->arena, 0, req->who.scope_org_id, after, limit, &v, &n,
                             &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), token_json, (int64_t)n == limit,
                           n ? v[n - 1].id : 0);
}

static int handle_token_revoke(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    auth_token t;
    int rc;

    rc = auth_token_get(req->ctx, req->arena, id, &t, &req->err);
    if (!rc)
        rc = org_require_scope(req, t.owner_scope);
    if (!rc)
        rc = auth_token_revoke(req->ctx, id, &req->err);
    return rc ? rc : http_send_empty(req, 204);
}

void auth_api_register(http_router *r)
{
    http_route(r, "POST", "/api/v1/auth/login", handle_login, "public");
    http_route(r, "POST", "/api/v1/auth/logout", handle_logout, "session");
    http_route(r, "GET", "/api/v1/auth/me", handle_me, "session");
    http_route(r, "POST", "/api/v1/auth/password", handle_password, "session");
    http_route(r, "GET", "/api/v1/users", handle_users_list, "user.read");
    http_route(r, "POST", "/api/v1/users", handle_user_create, "user.write");
    http_route(r, "GET", "/api/v1/users/{id:int}", handle_user_get, "user.read");
    http_route(r, "PATCH", "/api/v1/users/{id:int}", handle_user_patch, "user.write");
    http_route(r, "GET", "/api/v1/tokens", handle_tokens_list, "token.write");
    http_route(r, "POST", "/api/v1/tokens", handle_token_create, "token.write");
    http_route(r, "DELETE", "/api/v1/tokens/{id:int}", handle_token_revoke, "token.write");
}
