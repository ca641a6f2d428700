/*
 * GET /api/v1/audit: the audit log for auditors and admins (the policy's
 * audit.read), oldest first, filtered and cursor-paginated by seq. Entries
 * hold no personal data, so reading them is not itself recorded.
 */
#include "privacy/audit.h"

#include "base/crypto.h"
#include "base/timeutil.h"

#include <string.h>

enum { PAGE_DEFAULT = 50, PAGE_MAX = 500 };

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* "a,b" -> ["a","b"]: the field names as a list, [] when none. */
static json_t *fields_json(const char *s)
{
    json_t *arr = json_array();
    const char *p = s, *comma;

    while (p && *p) {
        comma = strchr(p, ',');
        if (comma != p)
            json_array_append_new(arr, json_stringn(p, comma ? (size_t)(comma - p) : strlen(p)));
        p = comma ? comma + 1 : NULL;
    }
    return arr;
}

static json_t *entry_json(const void *item)
{
    const audit_entry *e = item;
    char hex[2 * AUDIT_HASH_BYTES + 1];
    json_t *detail = e->detail ? json_loads(e->detail, 0, NULL) : NULL;

    sodium_bin2hex(hex, sizeof(hex), e->hash, sizeof(e->hash));
    return json_pack("{s:I, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "seq",
                     (json_int_t)e->seq, "at", http_json_time(e->at), "actor_user_id",
                     http_json_id(e->actor_user_id), "actor_role", e->actor_role, "action",
                     e->action, "entity", e->entity, "entity_id", http_json_id(e->entity_id),
                     "fields", fields_json(e->fields), "purpose", str_or_null(e->purpose),
                     "request_id", str_or_null(e->request_id), "detail",
                     detail ? detail : json_null(), "hash", hex);
}

/* An optional name filter (entity, action): the characters names are made of. */
static int name_arg(http_req *req, const char *name, const char **out)
{
    const char *s = http_query(req, name), *p;

    *out = s;
    if (!s)
        return 0;
    if (!*s || strlen(s) > AUDIT_NAME_MAX)
        return err_set(&req->err, GR_EINVAL, name, "must be 1 to %d characters", AUDIT_NAME_MAX);
    for (p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
              *p == '-'))
            return err_set(&req->err, GR_EINVAL, name,
                           "may hold only lower-case letters, digits, '.', '_' and '-'");
    return 0;
}

static int time_arg(http_req *req, const char *name, int64_t *out)
{
    const char *s = http_query(req, name);

    *out = 0;
    if (!s)
        return 0;
    if (time_parse_iso(s, out) != 0 || *out <= 0)
        return err_set(&req->err, GR_EINVAL, name,
                       "must be an ISO 8601 time such as 2026-11-27T08:00:00Z or a date");
    return 0;
}

static int handle_audit_list(http_req *req)
{
    audit_filter f;
    audit_entry *v = NULL;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c;

    memset(&f, 0, sizeof(f));
    rc = http_page(req, PAGE_DEFAULT, PAGE_MAX, &f.limit, &f.after);
    if (!rc)
        rc = name_arg(req, "entity", &f.entity);
    if (!rc)
        rc = http_query_int(req, "entity_id", 1, INT64_MAX, 0, &f.entity_id);
    if (!rc)
        rc = http_query_int(req, "actor", 1, INT64_MAX, 0, &f.actor_user_id);
    if (!rc)
        rc = name_arg(req, "action", &f.action);
    if (!rc)
        rc = time_arg(req, "from", &f.from);
    if (!rc)
        rc = time_arg(req, "to", &f.to);
    if (rc)
        return rc;
    c = db_reader(req->db);
    if (!c)
        return err_set(&req->err, GR_EUNAVAIL, "", "the database does not answer");
    rc = audit_list(c, req->arena, &f, &v, &n, &more, &req->err);
    if (rc)
        return rc;
    return http_send_items(req, v, n, sizeof(*v), entry_json, more, n ? v[n - 1].seq : 0);
}

void audit_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/audit", handle_audit_list, "audit.read");
}
