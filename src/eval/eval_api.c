/*
 * Evaluation over HTTP (docs/eval.md): the indicators of a unit or a
 * department over a period, the monthly rankings of a level, the cases
 * behind a number, and the configuration versions. Everyone sees only
 * their subtree.
 */
#include "eval/eval.h"
#include "eval/eval_http.h"
#include "base/buf.h"
#include "base/calendar.h"
#include "base/csv.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An indicator's value, or null without one. (The value is read only after
 * eval_value has filled it: the order in which a call's arguments are
 * evaluated is unspecified.) */
static json_t *value_json(const eval_indicator *ind, const int64_t v[EC_N])
{
    double x = 0;
    int has = eval_value(ind, v, &x, NULL, NULL);

    return eval_number_or_null(has, x);
}

static json_t *composite_json(const eval_config *cfg, const int64_t v[EC_N])
{
    double score = 0;
    int has = eval_composite(cfg, v, &score);

    return eval_number_or_null(has, score);
}

static json_t *indicators_json(const eval_config *cfg, const int64_t v[EC_N])
{
    static const char *const kinds[] = {"rate", "average", "count"};
    json_t *a = json_array();
    int i;

    for (i = 0; i < cfg->n; i++) {
        const eval_indicator *ind = &cfg->ind[i];
        double value = 0, num = 0, den = 0;
        int has = eval_value(ind, v, &value, &num, &den);
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:o, s:f}", "key", ind->key, "name", ind->name, "kind",
                      kinds[ind->kind], "value", eval_number_or_null(has, value), "numerator", num);
        if (ind->kind != EVAL_COUNT)
            json_object_set_new(o, "denominator", json_real(den));
        if (ind->weight > 0)
            json_object_set_new(o, "weight", json_real(ind->weight));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *counters_json(const int64_t v[EC_N])
{
    json_t *o = json_object();
    int i;

    for (i = 0; i < EC_N; i++)
        json_object_set_new(o, eval_counter_names[i], json_integer(v[i]));
    return o;
}

/* Which version of the definitions a number was computed by. */
static json_t *config_ref(const eval_config *cfg)
{
    return json_pack("{s:I, s:o}", "version", (json_int_t)cfg->version, "valid_from",
                     eval_month_json(cfg->valid_from));
}

static int handle_indicators(http_req *req)
{
    db_conn *c = db_reader(req->db);
    eval_config cfg = {0};
    int64_t from = 0, to = 0, v[EC_N];
    eval_target t;
    json_t *o;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = eval_period_arg(req, &from, &to);
    if (!rc)
        rc = eval_target_arg(req, c, &t);
    if (!rc)
        rc = eval_config_for(c, (int)(from / 100), &cfg, &req->err);
    if (!rc)
        rc = eval_sums(c, t.kind, t.id, from, to, v, &req->err);
    if (rc)
        goto out;
    o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "unit", eval_target_json(&t), "from",
                  eval_day_json(from), "to", eval_day_json(to), "config", config_ref(&cfg),
                  "counters", counters_json(v), "indicators", indicators_json(&cfg, v));
    json_object_set_new(o, "composite", composite_json(&cfg, v));
    rc = http_send_json(req, 200, o);
out:
    eval_config_free(&cfg);
    return rc;
}

static const eval_unit_sums *sums_find(const eval_unit_sums *v, size_t n, int kind, int64_t unit)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].kind < kind || (v[mid].kind == kind && v[mid].unit < unit))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].kind == kind && v[lo].unit == unit ? &v[lo] : NULL;
}

/* The indicators' values alone, by key (the legend says what they are). */
static json_t *values_json(const eval_config *cfg, const int64_t v[EC_N])
{
    json_t *values = json_object();
    int i;

    for (i = 0; i < cfg->n; i++)
        json_object_set_new(values, cfg->ind[i].key, value_json(&cfg->ind[i], v));
    return values;
}

static json_t *legend_json(const eval_config *cfg)
{
    static const char *const kinds[] = {"rate", "average", "count"};
    json_t *legend = json_array();
    int i;

    for (i = 0; i < cfg->n; i++)
        json_array_append_new(legend,
                              json_pack("{s:s, s:s, s:s, s:b}", "key", cfg->ind[i].key, "name",
                                        cfg->ind[i].name, "kind", kinds[cfg->ind[i].kind],
                                        "lower_is_better", cfg->ind[i].lower_is_better));
    return legend;
}

/* ---- rankings ---- */

struct ranked {
    int kind;
    int64_t id;
    const char *name, *level;
    int64_t v[EC_N];
    double score, prev_score;
    int has, prev_has, rank, prev_rank;
};

static int ranked_cmp_now(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;

    if (a->has != b->has)
        return b->has - a->has;
    if (a->has && a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return (a->id > b->id) - (a->id < b->id);
}

static int ranked_cmp_prev(const void *x, const void *y)
{
    const struct ranked *a = x, *b = y;

    if (a->prev_has != b->prev_has)
        return b->prev_has - a->prev_has;
    if (a->prev_has && a->prev_score != b->prev_score)
        return a->prev_score < b->prev_score ? 1 : -1;
    return (a->id > b->id) - (a->id < b->id);
}

enum { MAX_UNITS = 20000 };
static const char *const kind_names[] = {"org_unit", "department", "post"};

/* The org units (kind 0) of a level, the departments (kind 1) or the posts
 * (kind 2: staff by user) inside the caller's subtree; level NULL: all. */
static int scope_units(http_req *req, db_conn *c, const char *level, struct ranked **out, size_t *n)
{
    db_stmt *st = db_prepare(
        c,
        "SELECT 0, u.id, u.name, u.kind FROM org_units u JOIN org_units r ON r.id = ?1 "
        "WHERE (?2 IS NULL OR u.kind = ?2) AND substr(u.path, 1, length(r.path)) = r.path "
        "UNION ALL SELECT 1, d.id, d.name, 'department' FROM departments d JOIN org_units u ON "
        "u.id = d.org_id JOIN org_units r ON r.id = ?1 WHERE (?2 IS NULL OR ?2 = 'department') "
        "AND substr(u.path, 1, length(r.path)) = r.path "
        "UNION ALL SELECT 2, p.id, p.display_name, 'post' FROM users p JOIN org_units u ON "
        "u.id = p.scope_org_id JOIN org_units r ON r.id = ?1 WHERE (?2 IS NULL OR ?2 = 'post') "
        "AND p.role != 'resident' AND substr(u.path, 1, length(r.path)) = r.path "
        "ORDER BY 1, 2 LIMIT ?3",
        &req->err);
    size_t cap = 64;
    int rc;

    *n = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, req->who.scope_org_id);
    db_bind_text(st, 2, level);
    db_bind_int(st, 3, MAX_UNITS + 1);
    *out = arena_alloc(req->arena, cap * sizeof(**out));
    while ((rc = db_step(st, &req->err)) == DB_ROW) {
        struct ranked *x;
        if (*n == MAX_UNITS) {
            rc = err_set(&req->err, GR_EINVAL, "level",
                         "more than %d units: ask for one level of a smaller subtree", MAX_UNITS);
            break;
        }
        if (*n == cap) {
            struct ranked *p = arena_alloc(req->arena, cap * 2 * sizeof(*p));
            memcpy(p, *out, cap * sizeof(*p));
            *out = p;
            cap *= 2;
        }
        x = &(*out)[(*n)++];
        memset(x, 0, sizeof(*x));
        x->kind = (int)db_col_int(st, 0);
        x->id = db_col_int(st, 1);
        x->name = db_col_textdup(st, 2, req->arena);
        x->level = db_col_textdup(st, 3, req->arena);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

static int handle_rankings(http_req *req)
{
    const char *level = http_query(req, "level");
    db_conn *c = db_reader(req->db);
    eval_config cfg = {0}, prev_cfg = {0};
    int64_t from, to, pfrom, pto, pv[EC_N];
    struct ranked *u = NULL;
    eval_unit_sums *now = NULL, *before = NULL;
    int month = 0, prev, rc = 0;
    size_t n = 0, nnow = 0, nbefore = 0, i;
    json_t *items;

    if (!c)
        return GR_EUNAVAIL;
    if (!http_query(req, "month"))
        month = (int)(eval_today() / 100);
    else if (eval_month_parse(http_query(req, "month"), &month))
        return err_set(&req->err, GR_EINVAL, "month", "must be a month YYYY-MM");
    if (!level ||
        (strcmp(level, "street") && strcmp(level, "community") && strcmp(level, "grid") &&
         strcmp(level, "district") && strcmp(level, "department") && strcmp(level, "post")))
        return err_set(&req->err, GR_EINVAL, "level",
                       "must be district, street, community, grid, department or post");
    if (!req->who.scope_org_id)
        return err_set(&req->err, GR_EFORBIDDEN, "",
                       "your account has no place in the org tree (no scope)");
    prev = month % 100 == 1 ? (month / 100 - 1) * 100 + 12 : month - 1;
    from = (int64_t)month * 100 + 1;
    to = (int64_t)month * 100 + eval_days_in_month(month / 100, month % 100);
    pfrom = (int64_t)prev * 100 + 1;
    pto = (int64_t)prev * 100 + eval_days_in_month(prev / 100, prev % 100);
    rc = eval_config_for(c, month, &cfg, &req->err);
    if (!rc)
        rc = eval_config_for(c, prev, &prev_cfg, &req->err);
    if (!rc)
        rc = scope_units(req, c, level, &u, &n);
    /* Every unit's sums of both months in two grouped reads. */
    if (!rc)
        rc = eval_sums_all(c, from, to, &now, &nnow, &req->err);
    if (!rc)
        rc = eval_sums_all(c, pfrom, pto, &before, &nbefore, &req->err);
    if (rc)
        goto out;
    for (i = 0; i < n; i++) {
        const eval_unit_sums *s = sums_find(now, nnow, u[i].kind, u[i].id);
        const eval_unit_sums *p = sums_find(before, nbefore, u[i].kind, u[i].id);
        memset(pv, 0, sizeof(pv));
        if (s)
            memcpy(u[i].v, s->v, sizeof(u[i].v));
        if (p)
            memcpy(pv, p->v, sizeof(pv));
        u[i].has = eval_composite(&cfg, u[i].v, &u[i].score);
        u[i].prev_has = eval_composite(&prev_cfg, pv, &u[i].prev_score);
    }
    qsort(u, n, sizeof(*u), ranked_cmp_prev);
    for (i = 0; i < n; i++)
        u[i].prev_rank = u[i].prev_has ? (int)i + 1 : 0;
    qsort(u, n, sizeof(*u), ranked_cmp_now);
    items = json_array();
    for (i = 0; i < n; i++) {
        json_t *o =
            json_pack("{s:I, s:s?, s:o, s:o, s:o, s:o}", "id", (json_int_t)u[i].id, "name",
                      u[i].name, "composite", eval_number_or_null(u[i].has, u[i].score), "rank",
                      u[i].has ? json_integer((json_int_t)i + 1) : json_null(),
                      "previous_composite", eval_number_or_null(u[i].prev_has, u[i].prev_score),
                      "previous_rank", u[i].prev_rank ? json_integer(u[i].prev_rank) : json_null());
        json_object_set_new(
            o, "change",
            eval_number_or_null(u[i].has && u[i].prev_has, u[i].score - u[i].prev_score));
        json_object_set_new(o, "values", values_json(&cfg, u[i].v));
        json_array_append_new(items, o);
    }
    rc = http_send_json(req, 200,
                        json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "level", level, "month",
                                  eval_month_json(month), "indicators", legend_json(&cfg), "config",
                                  config_ref(&cfg), "previous_config", config_ref(&prev_cfg),
                                  "items", items));
out:
    free(now);
    free(before);
    eval_config_free(&cfg);
    eval_config_free(&prev_cfg);
    return rc;
}

/* ---- the report: every unit of the subtree over a period ---- */

static void html_text(buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            buf_puts(b, "&lt;");
        else if (*s == '>')
            buf_puts(b, "&gt;");
        else if (*s == '&')
            buf_puts(b, "&amp;");
        else if (*s == '"')
            buf_puts(b, "&quot;");
        else
            buf_append(b, s, 1);
    }
}

/* A value as the printed report shows it: rates in percent. */
static void value_text(buf *b, const eval_indicator *ind, int has, double x, int percent)
{
    if (!has)
        buf_puts(b, percent ? "—" : "");
    else if (ind->kind == EVAL_RATE && percent)
        buf_printf(b, "%.2f%%", x * 100);
    else if (ind->kind == EVAL_COUNT)
        buf_printf(b, "%.0f", x);
    else
        buf_printf(b, "%.4f", x);
}

enum { REPORT_JSON, REPORT_CSV, REPORT_HTML };

static void report_head(buf *b, const eval_config *cfg, int format, int64_t from, int64_t to)
{
    int i;

    if (format == REPORT_CSV) {
        buf_puts(b, "kind,level,id,name");
        for (i = 0; i < cfg->n; i++) {
            buf_puts(b, ",");
            csv_field_to_buf(b, cfg->ind[i].name, 0);
        }
        buf_puts(b, ",composite\r\n");
        return;
    }
    buf_printf(b,
               "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>考评报告 "
               "%04d-%02d-%02d 至 %04d-%02d-%02d</title><style>body{font:14px/1.5 sans-serif;"
               "color:#111;margin:2em}table{border-collapse:collapse;width:100%%}th,td{border:1px "
               "solid #555;padding:4px 6px;text-align:right}th:nth-child(-n+2),td:nth-child(-n+2)"
               "{text-align:left}thead{display:table-header-group}tr{break-inside:avoid}"
               "@page{size:A4 landscape;margin:12mm}</style></head><body><h1>考评报告</h1>"
               "<p>%04d-%02d-%02d 至 %04d-%02d-%02d · 口径第 %lld 版（自 %04d-%02d 起）</p>"
               "<table><thead><tr><th scope=\"col\">单位</th><th scope=\"col\">层级</th>",
               (int)(from / 10000), (int)(from / 100 % 100), (int)(from % 100), (int)(to / 10000),
               (int)(to / 100 % 100), (int)(to % 100), (int)(from / 10000), (int)(from / 100 % 100),
               (int)(from % 100), (int)(to / 10000), (int)(to / 100 % 100), (int)(to % 100),
               (long long)cfg->version, cfg->valid_from / 100, cfg->valid_from % 100);
    for (i = 0; i < cfg->n; i++) {
        buf_puts(b, "<th scope=\"col\">");
        html_text(b, cfg->ind[i].name);
        buf_puts(b, "</th>");
    }
    buf_puts(b, "<th scope=\"col\">综合得分</th></tr></thead><tbody>");
}

static const char *level_zh(const char *level)
{
    static const char *const names[][2] = {{"city", "市"},     {"district", "区"},
                                           {"street", "街道"}, {"community", "社区"},
                                           {"grid", "网格"},   {"department", "部门"}};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i][0], level) == 0)
            return names[i][1];
    return level;
}

static void report_row(buf *b, const eval_config *cfg, int format, const struct ranked *u)
{
    double x = 0, score = 0;
    int i, has = eval_composite(cfg, u->v, &score);

    if (format == REPORT_CSV) {
        buf_printf(b, "%s,%s,%lld,", kind_names[u->kind], u->level, (long long)u->id);
        csv_field_to_buf(b, u->name, 1);
    } else {
        buf_puts(b, "<tr><th scope=\"row\">");
        html_text(b, u->name);
        buf_puts(b, "</th><td>");
        html_text(b, level_zh(u->level));
        buf_puts(b, "</td>");
    }
    for (i = 0; i < cfg->n; i++) {
        int ok = eval_value(&cfg->ind[i], u->v, &x, NULL, NULL);
        buf_puts(b, format == REPORT_CSV ? "," : "<td>");
        value_text(b, &cfg->ind[i], ok, x, format == REPORT_HTML);
        buf_puts(b, format == REPORT_CSV ? "" : "</td>");
    }
    if (format == REPORT_CSV) {
        buf_puts(b, ",");
        if (has)
            buf_printf(b, "%.4f", score);
        buf_puts(b, "\r\n");
    } else {
        buf_puts(b, "<td>");
        if (has)
            buf_printf(b, "%.4f", score);
        buf_puts(b, "</td></tr>");
    }
}

static json_t *report_json(const eval_config *cfg, const struct ranked *u, size_t n)
{
    json_t *items = json_array();
    size_t k;

    for (k = 0; k < n; k++)
        json_array_append_new(items, json_pack("{s:s, s:s, s:I, s:s?, s:o, s:o}", "kind",
                                               kind_names[u[k].kind], "level", u[k].level, "id",
                                               (json_int_t)u[k].id, "name", u[k].name, "values",
                                               values_json(cfg, u[k].v), "composite",
                                               composite_json(cfg, u[k].v)));
    return json_pack("{s:o, s:o}", "indicators", legend_json(cfg), "items", items);
}

static int handle_report(http_req *req)
{
    const char *level = http_query(req, "level"), *fmt = http_query(req, "format");
    db_conn *c = db_reader(req->db);
    eval_config cfg = {0};
    eval_unit_sums *sums = NULL;
    int64_t from = 0, to = 0;
    struct ranked *u = NULL;
    size_t n = 0, nsums = 0, i;
    int format, rc;
    buf b = {0};

    if (!c)
        return GR_EUNAVAIL;
    if (!fmt || strcmp(fmt, "json") == 0)
        format = REPORT_JSON;
    else if (strcmp(fmt, "csv") == 0)
        format = REPORT_CSV;
    else if (strcmp(fmt, "html") == 0)
        format = REPORT_HTML;
    else
        return err_set(&req->err, GR_EINVAL, "format", "must be json, csv or html");
    if (level && strcmp(level, "city") && strcmp(level, "district") && strcmp(level, "street") &&
        strcmp(level, "community") && strcmp(level, "grid") && strcmp(level, "department") &&
        strcmp(level, "post"))
        return err_set(&req->err, GR_EINVAL, "level",
                       "must be city, district, street, community, grid, department or post");
    if (!req->who.scope_org_id)
        return err_set(&req->err, GR_EFORBIDDEN, "",
                       "your account has no place in the org tree (no scope)");
    rc = eval_period_arg(req, &from, &to);
    if (!rc)
        rc = eval_config_for(c, (int)(from / 100), &cfg, &req->err);
    if (!rc)
        rc = scope_units(req, c, level, &u, &n);
    if (!rc)
        rc = eval_sums_all(c, from, to, &sums, &nsums, &req->err);
    if (rc)
        goto out;
    for (i = 0; i < n; i++) {
        const eval_unit_sums *s = sums_find(sums, nsums, u[i].kind, u[i].id);
        if (s)
            memcpy(u[i].v, s->v, sizeof(u[i].v));
    }
    if (format == REPORT_JSON) {
        json_t *o = report_json(&cfg, u, n);
        json_object_set_new(o, "from", eval_day_json(from));
        json_object_set_new(o, "to", eval_day_json(to));
        json_object_set_new(o, "config", config_ref(&cfg));
        rc = http_send_json(req, 200, o);
        goto out;
    }
    report_head(&b, &cfg, format, from, to);
    for (i = 0; i < n; i++)
        report_row(&b, &cfg, format, &u[i]);
    if (format == REPORT_HTML)
        buf_puts(&b, "</tbody></table></body></html>");
    else
        http_add_header(req, "Content-Disposition", "attachment; filename=\"eval-report.csv\"");
    rc = http_send_text(
        req, 200, format == REPORT_CSV ? "text/csv; charset=utf-8" : "text/html; charset=utf-8",
        b.data ? b.data : "", b.len);
out:
    buf_free(&b);
    free(sums);
    eval_config_free(&cfg);
    return rc;
}

/* ---- drill-down: the cases behind a number ---- */

static json_t *case_row(db_stmt *st)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:I}", "id", (json_int_t)db_col_int(st, 0),
                     "public_code", db_col_text(st, 1), "state", db_col_text(st, 2), "title",
                     db_col_text(st, 3), "created_at", http_json_time(db_col_int(st, 4)), "count",
                     (json_int_t)db_col_int(st, 5));
}

static int handle_cases(http_req *req)
{
    const char *counter = http_query(req, "counter");
    db_conn *c = db_reader(req->db);
    int64_t from = 0, to = 0, limit = 0, after = 0;
    eval_target t;
    char sql[512];
    db_stmt *st;
    int k = eval_counter_parse(counter), rc;

    if (!c)
        return GR_EUNAVAIL;
    if (k < 0)
        return err_set(&req->err, GR_EINVAL, "counter", "must name a counter (docs/eval.md)");
    rc = eval_period_arg(req, &from, &to);
    if (!rc)
        rc = eval_target_arg(req, c, &t);
    if (!rc)
        rc = http_page(req, 50, 500, &limit, &after);
    if (rc)
        return rc;
    /* Both names come from the fixed lists above, never from the request. */
    /* A post's cases are those whose posts list names the person; what the
     * post counts of them is in its sums (eval_facts_post). */
    snprintf(sql, sizeof(sql),
             "SELECT f.case_id, c.public_code, c.state, c.title, c.created_at, f.%s "
             "FROM eval_facts f JOIN cases c ON c.id = f.case_id WHERE f.day BETWEEN ?1 AND ?2 "
             "AND %s AND f.%s > 0 AND f.case_id > ?4 ORDER BY f.case_id LIMIT ?5",
             eval_counter_names[k],
             t.col ? arena_printf(req->arena, "f.%s = ?3", t.col)
                   : "instr(';' || f.posts, ';' || ?3 || ':') > 0",
             eval_counter_names[k]);
    st = db_prepare(c, sql, &req->err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, from);
    db_bind_int(st, 2, to);
    db_bind_int(st, 3, t.id);
    db_bind_int(st, 4, after);
    db_bind_int(st, 5, limit + 1);
    return eval_send_rows(req, st, limit, case_row);
}

/* ---- configuration versions ---- */

static json_t *config_row(db_stmt *st)
{
    return json_pack("{s:I, s:o, s:o, s:s?, s:o}", "version", (json_int_t)db_col_int(st, 0),
                     "valid_from", eval_month_json(db_col_int(st, 1)), "config",
                     json_loads(db_col_text(st, 2), 0, NULL), "note", db_col_text(st, 3),
                     "created_at", http_json_time(db_col_int(st, 4)));
}

static int handle_configs(http_req *req)
{
    db_conn *c = db_reader(req->db);
    db_stmt *st;

    if (!c)
        return GR_EUNAVAIL;
    st = db_prepare(c,
                    "SELECT version, valid_from, config, note, created_at FROM eval_configs "
                    "ORDER BY version",
                    &req->err);
    /* A version a month at the most: all of them, one page. */
    return st ? eval_send_rows(req, st, INT64_MAX, config_row) : GR_EINTERNAL;
}

struct config_put {
    int valid_from;
    const char *config, *note;
    int64_t user, now, version;
};

static int config_put_fn(db_conn *c, void *arg, gr_err *err)
{
    struct config_put *p = arg;
    int64_t latest = 0;
    db_stmt *st;
    int rc = db_query_int(c, "SELECT max(valid_from) FROM eval_configs", 0, 0, &latest, err);

    /* Versions only go forward: a month already reported on keeps its rules. */
    if (!rc && p->valid_from <= latest)
        rc = err_set(err, GR_ECONFLICT, "valid_from", "must be after %04d-%02d, the newest version",
                     (int)(latest / 100), (int)(latest % 100));
    if (rc)
        return rc;
    st = db_prepare(
        c,
        "INSERT INTO eval_configs (version, valid_from, config, note, created_by, "
        "created_at) VALUES ((SELECT max(version) + 1 FROM eval_configs), ?, ?, ?, ?, ?)",
        err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, p->valid_from);
    db_bind_text(st, 2, p->config);
    db_bind_text(st, 3, p->note);
    db_bind_int_or_null(st, 4, p->user);
    db_bind_int(st, 5, p->now);
    rc = db_run(st, err);
    db_done(st);
    p->version = rc ? 0 : db_last_id(c);
    return rc;
}

static int handle_config_post(http_req *req)
{
    static const jv_field fields[] = {
        {"valid_from", JV_STRING, 1, 0, 7, 7},
        {"config", JV_OBJECT, 1, 0, 0, 0},
        {"note", JV_STRING, 0, 1, 1, 500},
    };
    struct config_put p = {0};
    eval_config cfg = {0};
    json_t *body = NULL;
    int rc;

    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (!rc && eval_month_parse(jv_str(body, "valid_from"), &p.valid_from))
        rc = err_set(&req->err, GR_EINVAL, "valid_from", "must be a month YYYY-MM");
    if (!rc && p.valid_from < eval_today() / 100)
        rc = err_set(&req->err, GR_EINVAL, "valid_from",
                     "must be this month or later: past months keep their rules");
    if (!rc)
        rc = eval_config_parse(json_incref(json_object_get(body, "config")), &cfg, &req->err);
    if (!rc) {
        char *text = json_dumps(cfg.json, JSON_COMPACT | JSON_PRESERVE_ORDER);
        p.config = text ? arena_strdup(req->arena, text) : NULL;
        free(text);
        p.note = jv_str(body, "note");
        p.user = req->who.user_id;
        p.now = time_now_ms();
        rc = p.config ? db_write(req->db, config_put_fn, &p, &req->err)
                      : err_set(&req->err, GR_EINTERNAL, "", "cannot encode the configuration");
    }
    if (!rc)
        rc = http_send_json(req, 201,
                            json_pack("{s:I, s:o, s:O, s:s?}", "version", (json_int_t)p.version,
                                      "valid_from", eval_month_json(p.valid_from), "config",
                                      cfg.json, "note", p.note));
    eval_config_free(&cfg);
    json_decref(body);
    return rc;
}

void eval_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/eval/indicators", handle_indicators, "eval.read");
    http_route(r, "GET", "/api/v1/eval/rankings", handle_rankings, "eval.read");
    http_route(r, "GET", "/api/v1/eval/report", handle_report, "eval.read");
    http_route(r, "GET", "/api/v1/eval/cases", handle_cases, "eval.read");
    http_route(r, "GET", "/api/v1/eval/configs", handle_configs, "eval.read");
    http_route(r, "POST", "/api/v1/eval/configs", handle_config_post, "eval.write");
}
