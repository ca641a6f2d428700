/* What the evaluation's routes share (eval_http.h). */
#include "eval/eval_http.h"
#include "base/calendar.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Today's local (Asia/Shanghai) date as YYYYMMDD. */
int64_t eval_today(void)
{
    time_t t = (time_t)(time_now_ms() / 1000 + 8 * 3600);
    struct tm tm;

    gmtime_r(&t, &tm);
    return (int64_t)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

int eval_days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : d[m - 1];
}

/* A strict "YYYY-MM" as YYYYMM. */
int eval_month_parse(const char *s, int *out)
{
    int y, m;
    char tail;

    if (!s || strlen(s) != 7 || s[4] != '-' || sscanf(s, "%4d-%2d%c", &y, &m, &tail) != 2 ||
        y < 1900 || y > 9999 || m < 1 || m > 12)
        return GR_EINVAL;
    *out = y * 100 + m;
    return 0;
}

static int date_arg(http_req *req, const char *name, int64_t def, int64_t *out)
{
    const char *s = http_query(req, name);
    int y, m, d;

    if (!s) {
        *out = def;
        return 0;
    }
    if (calendar_date_parse(s, &y, &m, &d))
        return err_set(&req->err, GR_EINVAL, name, "must be a date YYYY-MM-DD");
    *out = (int64_t)y * 10000 + m * 100 + d;
    return 0;
}

/* from..to, local days: this month up to today unless given. */
int eval_period_arg(http_req *req, int64_t *from, int64_t *to)
{
    int64_t now = eval_today();
    int rc = date_arg(req, "from", now / 100 * 100 + 1, from);

    if (!rc)
        rc = date_arg(req, "to", now, to);
    if (!rc && *to < *from)
        rc = err_set(&req->err, GR_EINVAL, "to", "is before from");
    return rc;
}

json_t *eval_day_json(int64_t day)
{
    char s[16];

    snprintf(s, sizeof(s), "%04d-%02d-%02d", (int)(day / 10000), (int)(day / 100 % 100),
             (int)(day % 100));
    return json_string(s);
}

static int target_name(db_conn *c, http_req *req, eval_target *t)
{
    static const char *const sql[] = {"SELECT name FROM org_units WHERE id = ?",
                                      "SELECT name FROM departments WHERE id = ?",
                                      "SELECT display_name FROM users WHERE id = ?"};
    db_stmt *st = db_prepare(c, sql[t->kind], &req->err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, t->id);
    rc = db_step(st, &req->err);
    if (rc == DB_ROW)
        t->name = db_col_textdup(st, 0, req->arena);
    db_done(st);
    return rc < 0 ? rc : 0;
}

int eval_target_arg(http_req *req, db_conn *c, eval_target *t)
{
    int64_t unit = 0, dept = 0, user = 0, org = 0;
    int rc = http_query_int(req, "unit_id", 1, INT64_MAX, 0, &unit);

    memset(t, 0, sizeof(*t));
    if (!rc)
        rc = http_query_int(req, "department_id", 1, INT64_MAX, 0, &dept);
    if (!rc)
        rc = http_query_int(req, "user_id", 1, INT64_MAX, 0, &user);
    if (!rc && (!!unit + !!dept + !!user) > 1)
        rc = err_set(&req->err, GR_EINVAL, user ? "user_id" : "department_id",
                     "give one of unit_id, department_id and user_id");
    if (rc)
        return rc;
    if (user) {
        /* A post: a member of staff whose own unit lies in the caller's
         * subtree (or the caller themself). */
        t->kind = 2;
        t->id = user;
        rc = db_query_int(c, "SELECT scope_org_id FROM users WHERE id = ? AND role != 'resident'",
                          user, 0, &org, &req->err);
        if (!rc && !org)
            rc = err_set(&req->err, GR_EINVAL, "user_id", "no member of staff %" PRId64, user);
        if (!rc && user == req->who.user_id)
            return target_name(c, req, t);
    } else if (dept) {
        t->kind = 1;
        t->id = dept;
        t->col = "department_id";
        rc = org_dept_unit(c, dept, &org, &req->err);
        if (rc == GR_ENOTFOUND)
            rc = err_set(&req->err, GR_EINVAL, "department_id", "no department %" PRId64, dept);
    } else {
        t->id = org = unit ? unit : req->who.scope_org_id;
        if (!t->id)
            return err_set(&req->err, GR_EFORBIDDEN, "",
                           "your account has no place in the org tree (no scope)");
        rc = org_unit_column(c, t->id, &t->col, &req->err);
        if (!rc && !t->col)
            rc = err_set(&req->err, GR_EINVAL, "unit_id", "no org unit %" PRId64, t->id);
    }
    if (!rc)
        rc = org_require_scope(req, org);
    if (!rc)
        rc = target_name(c, req, t);
    return rc;
}

json_t *eval_target_json(const eval_target *t)
{
    static const char *const kinds[] = {"org_unit", "department", "post"};

    return json_pack("{s:s, s:I, s:s?}", "kind", kinds[t->kind], "id", (json_int_t)t->id, "name",
                     t->name);
}

json_t *eval_number_or_null(int has, double v)
{
    return has ? json_real(v) : json_null();
}

json_t *eval_month_json(int64_t m)
{
    char s[16];

    snprintf(s, sizeof(s), "%04d-%02d", (int)(m / 100), (int)(m % 100));
    return json_string(s);
}

int eval_send_rows(http_req *req, db_stmt *st, int64_t limit, json_t *(*row)(db_stmt *st))
{
    json_t *items = json_array();
    int64_t last = 0, n = 0;
    int rc, more = 0;

    while ((rc = db_step(st, &req->err)) == DB_ROW) {
        if (n == limit) {
            more = 1;
            break;
        }
        last = db_col_int(st, 0);
        json_array_append_new(items, row(st));
        n++;
    }
    db_done(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    return http_send_page(req, items, more, last);
}
