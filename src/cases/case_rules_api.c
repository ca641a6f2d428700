/*
 * The routing rules over HTTP (category × org subtree → department): list,
 * put, delete. Only translation between HTTP and case_route.c.
 */
#include "cases/case_model.h"

#include "base/timeutil.h"
#include "org/org.h"

static json_t *rule_json(const void *item)
{
    const case_rule *r = item;

    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "id", (json_int_t)r->id, "category_id",
                     (json_int_t)r->category_id, "org_id", (json_int_t)r->org_id, "department_id",
                     (json_int_t)r->department_id, "created_at", http_json_time(r->created_at));
}

static int handle_rules_list(http_req *req)
{
    int64_t limit, after, category = 0;
    case_rule *v = NULL;
    size_t n = 0;
    int more = 0, rc;
    db_conn *c;

    rc = http_page(req, 100, 500, &limit, &after);
    if (!rc)
        rc = http_query_int(req, "category_id", 1, INT64_MAX, 0, &category);
    if (rc)
        return rc;
    c = case_reader(req);
    if (!c)
        return GR_EUNAVAIL;
    rc = case_rule_list(c, req->arena, req->who.scope_org_id, category, after, limit, &v, &n, &more,
                        &req->err);
    return rc ? rc : http_send_items(req, v, n, sizeof(*v), rule_json, more, n ? v[n - 1].id : 0);
}

struct rule_put {
    case_rule rule;
};

static int put_fn(db_conn *c, void *arg, gr_err *err)
{
    struct rule_put *p = arg;
    int rc = case_rule_put(c, p->rule.category_id, p->rule.org_id, p->rule.department_id,
                           p->rule.created_at, err);
    db_stmt *st;

    if (rc)
        return rc;
    /* An upsert: the id is the existing rule's when one was replaced. */
    st = db_prepare(c, "SELECT id FROM routing_rules WHERE category_id = ? AND org_id = ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, p->rule.category_id);
    db_bind_int(st, 2, p->rule.org_id);
    rc = db_step(st, err);
    if (rc == DB_ROW)
        p->rule.id = db_col_int(st, 0);
    db_done(st);
    return rc < 0 ? rc : 0;
}

static int handle_rule_put(http_req *req)
{
    static const jv_field fields[] = {
        {"category_id", JV_INT, 1, 0, 1, 9e15},
        {"org_id", JV_INT, 1, 0, 1, 9e15},
        {"department_id", JV_INT, 1, 0, 1, 9e15},
    };
    struct rule_put p = {{0}};
    json_t *body = NULL;
    db_conn *c;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    p.rule.category_id = jv_int(body, "category_id", 0);
    p.rule.org_id = jv_int(body, "org_id", 0);
    p.rule.department_id = jv_int(body, "department_id", 0);
    p.rule.created_at = time_now_ms();
    c = case_reader(req);
    if (!c) {
        rc = GR_EUNAVAIL;
        goto out;
    }
    rc = case_rule_check(c, req->arena, p.rule.category_id, p.rule.org_id, p.rule.department_id,
                         &req->err);
    if (!rc)
        rc = org_require_scope(req, p.rule.org_id);
    if (!rc)
        rc = db_write(req->db, put_fn, &p, &req->err);
    if (!rc)
        rc = http_send_json(req, 201, rule_json(&p.rule));
out:
    json_decref(body);
    return rc;
}

static int delete_fn(db_conn *c, void *arg, gr_err *err)
{
    return case_rule_delete(c, *(int64_t *)arg, err);
}

static int handle_rule_delete(http_req *req)
{
    int64_t id = http_param_int(req, "id");
    db_conn *c = case_reader(req);
    case_rule r;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = case_rule_get(c, id, &r, &req->err);
    /* A rule outside the caller's subtree is not theirs to see: 404, as if absent. */
    if (!rc && req->who.scope_org_id && !org_is_within(c, req->who.scope_org_id, r.org_id))
        rc = err_set(&req->err, GR_ENOTFOUND, "", "no routing rule %lld", (long long)id);
    if (!rc)
        rc = db_write(req->db, delete_fn, &id, &req->err);
    return rc ? rc : http_send_empty(req, 204);
}

void case_rules_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/routing-rules", handle_rules_list, "org.read");
    http_route(r, "POST", "/api/v1/routing-rules", handle_rule_put, "routing.write");
    http_route(r, "DELETE", "/api/v1/routing-rules/{id:int}", handle_rule_delete, "routing.write");
}
