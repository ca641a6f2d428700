/*
 * Recurring problems, hot spots and governance topics over HTTP
 * (docs/eval.md): the candidates the data shows, the density of cases by
 * unit and category for the map, and the topics leaders adopt from them
 * (从解决一件事到治理一类事) with an owner, a plan and progress.
 */
#include "eval/eval_http.h"
#include "base/timeutil.h"
#include "auth/policy.h"
#include "org/org.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- candidates ---- */

static int handle_recurring(http_req *req)
{
    db_conn *c = db_reader(req->db);
    eval_trend_rule rule = {30, 5, 1.5, 0.001};
    int64_t days = 0, times = 0, window = 0, today = eval_today();
    eval_place *places = NULL;
    eval_trend *trends = NULL;
    size_t np = 0, nt = 0, i;
    json_t *pa, *ta;
    eval_target t;
    int rc, k;

    if (!c)
        return GR_EUNAVAIL;
    rc = http_query_int(req, "days", 7, 366, 90, &days);
    if (!rc)
        rc = http_query_int(req, "times", 2, 1000, 3, &times);
    if (!rc)
        rc = http_query_int(req, "window", 7, 92, 30, &window);
    if (!rc)
        rc = eval_target_arg(req, c, &t);
    if (!rc && t.kind)
        rc = err_set(&req->err, GR_EINVAL, t.kind == 1 ? "department_id" : "user_id",
                     "recurring problems are found by place: give unit_id");
    if (rc)
        return rc;
    rule.window_days = (int)window;
    rc = eval_recurring_places(c, t.col, t.id, time_now_ms() - days * 86400000LL, (int)times,
                               &places, &np, &req->err);
    if (!rc)
        rc = eval_rising_categories(c, t.col, t.id, today, &rule, &trends, &nt, &req->err);
    if (rc)
        goto out;
    pa = json_array();
    for (i = 0; i < np; i++) {
        json_t *ids = json_array();
        for (k = 0; k < places[i].ncases; k++)
            json_array_append_new(ids, json_integer(places[i].cases[k]));
        json_array_append_new(pa, json_pack("{s:I, s:f, s:f, s:I, s:I, s:o, s:o, s:o}",
                                            "category_id", (json_int_t)places[i].category_id, "lat",
                                            places[i].lat, "lon", places[i].lon, "reports",
                                            (json_int_t)places[i].reports, "reopened",
                                            (json_int_t)places[i].reopened, "first_at",
                                            http_json_time(places[i].first_at), "last_at",
                                            http_json_time(places[i].last_at), "cases", ids));
    }
    ta = json_array();
    for (i = 0; i < nt; i++)
        json_array_append_new(
            ta, json_pack("{s:I, s:I, s:f, s:f, s:s, s:i}", "category_id",
                          (json_int_t)trends[i].category_id, "recent", (json_int_t)trends[i].recent,
                          "baseline", trends[i].baseline, "p", trends[i].p, "baseline_from",
                          trends[i].seasonal ? "earlier_years" : "earlier_windows",
                          "baseline_windows", trends[i].windows));
    rc = http_send_json(req, 200,
                        json_pack("{s:o, s:I, s:I, s:I, s:o, s:o}", "unit", eval_target_json(&t),
                                  "days", (json_int_t)days, "times", (json_int_t)times, "window",
                                  (json_int_t)window, "places", pa, "trends", ta));
out:
    free(places);
    free(trends);
    return rc;
}

/* ---- hot spots: cases by unit (and category) over a period ---- */

static int handle_hotspots(http_req *req)
{
    static const char *const levels[][2] = {
        {"street", "street_id"}, {"community", "community_id"}, {"grid", "grid_id"}};
    const char *level = http_query(req, "level"), *col = NULL;
    db_conn *c = db_reader(req->db);
    int64_t from = 0, to = 0, category = 0;
    char sql[768];
    eval_target t;
    db_stmt *st;
    json_t *items;
    size_t i;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(levels[i][0], level ? level : "grid") == 0)
            col = levels[i][1];
    if (!col)
        return err_set(&req->err, GR_EINVAL, "level", "must be street, community or grid");
    rc = eval_period_arg(req, &from, &to);
    if (!rc)
        rc = http_query_int(req, "category_id", 1, INT64_MAX, 0, &category);
    if (!rc)
        rc = eval_target_arg(req, c, &t);
    if (!rc && t.kind)
        rc = err_set(&req->err, GR_EINVAL, t.kind == 1 ? "department_id" : "user_id",
                     "hot spots are by place: give unit_id");
    if (rc)
        return rc;
    /* Both column names come from the fixed lists, never from the request.
     * A unit's centroid places its count on the map. */
    snprintf(sql, sizeof(sql),
             "SELECT f.%s, u.name, u.centroid_lat, u.centroid_lon, count(*), "
             "total(f.closed), total(f.overdue_pending) FROM eval_facts f "
             "JOIN org_units u ON u.id = f.%s WHERE f.day BETWEEN ?1 AND ?2 AND f.%s = ?3 "
             "AND (?4 = 0 OR f.category_id = ?4) GROUP BY f.%s ORDER BY count(*) DESC LIMIT 5000",
             col, col, t.col, col);
    st = db_prepare(c, sql, &req->err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, from);
    db_bind_int(st, 2, to);
    db_bind_int(st, 3, t.id);
    db_bind_int(st, 4, category);
    items = json_array();
    while ((rc = db_step(st, &req->err)) == DB_ROW)
        json_array_append_new(
            items,
            json_pack("{s:I, s:s?, s:o, s:o, s:I, s:I, s:I}", "unit_id",
                      (json_int_t)db_col_int(st, 0), "name", db_col_text(st, 1), "lat",
                      eval_number_or_null(!db_col_is_null(st, 2), db_col_double(st, 2)), "lon",
                      eval_number_or_null(!db_col_is_null(st, 3), db_col_double(st, 3)), "cases",
                      (json_int_t)db_col_int(st, 4), "closed", (json_int_t)db_col_double(st, 5),
                      "overdue_pending", (json_int_t)db_col_double(st, 6)));
    db_done(st);
    if (rc < 0) {
        json_decref(items);
        return rc;
    }
    return http_send_json(req, 200,
                          json_pack("{s:o, s:s, s:o, s:o, s:o}", "unit", eval_target_json(&t),
                                    "level", level ? level : "grid", "from", eval_day_json(from),
                                    "to", eval_day_json(to), "items", items));
}

/* ---- governance topics ---- */

static json_t *topic_json(db_stmt *st)
{
    return json_pack(
        "{s:I, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:I, s:s, s:i, s:s, s:o, s:o}", "id",
        (json_int_t)db_col_int(st, 0), "title", db_col_text(st, 1), "source", db_col_text(st, 2),
        "category_id", (json_int_t)db_col_int(st, 3), "unit_id", (json_int_t)db_col_int(st, 4),
        "lat", eval_number_or_null(!db_col_is_null(st, 5), db_col_double(st, 5)), "lon",
        eval_number_or_null(!db_col_is_null(st, 6), db_col_double(st, 6)), "cases",
        json_loads(db_col_text(st, 7), 0, NULL), "owner_user_id", (json_int_t)db_col_int(st, 8),
        "plan", db_col_text(st, 9), "progress", (int)db_col_int(st, 10), "state",
        db_col_text(st, 11), "created_at", http_json_time(db_col_int(st, 12)), "updated_at",
        http_json_time(db_col_int(st, 13)));
}

#define TOPIC_COLS                                                                                 \
    "t.id, t.title, t.source, t.category_id, t.unit_id, t.lat, t.lon, t.cases, t.owner_user_id, "  \
    "t.plan, t.progress, t.state, t.created_at, t.updated_at"

static int handle_topics(http_req *req)
{
    const char *state = http_query(req, "state");
    db_conn *c = db_reader(req->db);
    int64_t limit = 0, after = 0;
    db_stmt *st;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    if (state && strcmp(state, "open") && strcmp(state, "done") && strcmp(state, "dropped"))
        return err_set(&req->err, GR_EINVAL, "state", "must be open, done or dropped");
    rc = http_page(req, 50, 500, &limit, &after);
    if (rc)
        return rc;
    if (!req->who.scope_org_id)
        return err_set(&req->err, GR_EFORBIDDEN, "",
                       "your account has no place in the org tree (no scope)");
    st = db_prepare(c,
                    "SELECT " TOPIC_COLS " FROM eval_topics t JOIN org_units u ON u.id = t.unit_id "
                    "JOIN org_units r ON r.id = ?1 WHERE substr(u.path, 1, length(r.path)) = "
                    "r.path AND (?2 IS NULL OR t.state = ?2) AND t.id > ?3 ORDER BY t.id LIMIT ?4",
                    &req->err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, req->who.scope_org_id);
    db_bind_text(st, 2, state);
    db_bind_int(st, 3, after);
    db_bind_int(st, 4, limit + 1);
    return eval_send_rows(req, st, limit, topic_json);
}

struct topic_new {
    const char *title, *source, *plan, *cases;
    int64_t category_id, unit_id, owner, by, now, id;
    int has_point;
    double lat, lon;
};

static int topic_insert(db_conn *c, void *arg, gr_err *err)
{
    struct topic_new *t = arg;
    db_stmt *st = db_prepare(c,
                             "INSERT INTO eval_topics (title, source, category_id, unit_id, lat, "
                             "lon, cases, owner_user_id, plan, created_by, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, t->title);
    db_bind_text(st, 2, t->source);
    db_bind_int(st, 3, t->category_id);
    db_bind_int(st, 4, t->unit_id);
    if (t->has_point) {
        db_bind_double(st, 5, t->lat);
        db_bind_double(st, 6, t->lon);
    }
    db_bind_text(st, 7, t->cases);
    db_bind_int(st, 8, t->owner);
    db_bind_text(st, 9, t->plan);
    db_bind_int(st, 10, t->by);
    db_bind_int(st, 11, t->now);
    db_bind_int(st, 12, t->now);
    rc = db_run(st, err);
    db_done(st);
    t->id = rc ? 0 : db_last_id(c);
    return rc;
}

/* The cases a topic names: each exists and lies in the caller's subtree. */
static int topic_cases_check(http_req *req, db_conn *c, json_t *cases)
{
    size_t i;
    json_t *x;

    if (json_array_size(cases) == 0 || json_array_size(cases) > EVAL_PLACE_CASES)
        return err_set(&req->err, GR_EINVAL, "cases", "must list 1 to %d case ids",
                       EVAL_PLACE_CASES);
    json_array_foreach(cases, i, x)
    {
        int64_t unit = 0;
        if (!json_is_integer(x) || json_integer_value(x) < 1)
            return err_set(&req->err, GR_EINVAL, "cases", "must be case ids");
        if (db_query_int(c,
                         "SELECT coalesce(grid_id, community_id, street_id, district_id, city_id, "
                         "first_unit_id) FROM cases WHERE id = ?",
                         json_integer_value(x), 0, &unit, &req->err))
            return GR_EINTERNAL;
        if (!unit || !org_is_within(c, req->who.scope_org_id, unit))
            return err_set(&req->err, GR_EINVAL, "cases",
                           "case %" PRId64 " is not a case of your subtree",
                           (int64_t)json_integer_value(x));
    }
    return 0;
}

static int handle_topic_post(http_req *req)
{
    static const jv_field fields[] = {
        {"title", JV_STRING, 1, 0, 1, 100},     {"source", JV_STRING, 1, 0, 1, 8},
        {"category_id", JV_INT, 1, 0, 1, 9e15}, {"unit_id", JV_INT, 1, 0, 1, 9e15},
        {"lat", JV_NUMBER, 0, 1, -90, 90},      {"lon", JV_NUMBER, 0, 1, -180, 180},
        {"cases", JV_ARRAY, 1, 0, 0, 0},        {"owner_user_id", JV_INT, 1, 0, 1, 9e15},
        {"plan", JV_STRING, 1, 0, 1, 4000},
    };
    struct topic_new t = {0};
    db_conn *c = db_reader(req->db);
    json_t *body = NULL, *lat, *lon;
    int64_t found = 0;
    char *cases = NULL;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        return rc;
    t.title = jv_str(body, "title");
    t.source = jv_str(body, "source");
    t.plan = jv_str(body, "plan");
    t.category_id = jv_int(body, "category_id", 0);
    t.unit_id = jv_int(body, "unit_id", 0);
    t.owner = jv_int(body, "owner_user_id", 0);
    lat = json_object_get(body, "lat");
    lon = json_object_get(body, "lon");
    t.has_point = json_is_number(lat) && json_is_number(lon);
    t.lat = json_number_value(lat);
    t.lon = json_number_value(lon);
    if (strcmp(t.source, "place") != 0 && strcmp(t.source, "trend") != 0)
        rc = err_set(&req->err, GR_EINVAL, "source", "must be place or trend");
    else if (!t.has_point && strcmp(t.source, "place") == 0)
        rc = err_set(&req->err, GR_EINVAL, "lat", "a place topic needs lat and lon");
    if (!rc)
        rc = db_query_int(c, "SELECT count(*) FROM categories WHERE id = ?", t.category_id, 0,
                          &found, &req->err);
    if (!rc && !found)
        rc = err_set(&req->err, GR_EINVAL, "category_id", "no category %" PRId64, t.category_id);
    if (!rc)
        rc = db_query_int(c, "SELECT count(*) FROM org_units WHERE id = ?", t.unit_id, 0, &found,
                          &req->err);
    if (!rc && !found)
        rc = err_set(&req->err, GR_EINVAL, "unit_id", "no org unit %" PRId64, t.unit_id);
    if (!rc)
        rc = org_require_scope(req, t.unit_id);
    /* The owner is a member of staff who works inside the topic's unit (or
     * above it). */
    if (!rc)
        rc = db_query_int(c,
                          "SELECT scope_org_id FROM users WHERE id = ? AND status = 'active' "
                          "AND role != 'resident'",
                          t.owner, 0, &found, &req->err);
    if (!rc &&
        (!found || !(org_is_within(c, found, t.unit_id) || org_is_within(c, t.unit_id, found))))
        rc = err_set(&req->err, GR_EINVAL, "owner_user_id",
                     "must be an active member of staff working in unit %" PRId64, t.unit_id);
    if (!rc)
        rc = topic_cases_check(req, c, json_object_get(body, "cases"));
    if (!rc) {
        cases = json_dumps(json_object_get(body, "cases"), JSON_COMPACT);
        t.cases = cases;
        t.by = req->who.user_id;
        t.now = time_now_ms();
        rc = db_write(req->db, topic_insert, &t, &req->err);
    }
    free(cases);
    json_decref(body);
    if (rc)
        return rc;
    return http_send_json(req, 201,
                          json_pack("{s:I, s:s}", "id", (json_int_t)t.id, "state", "open"));
}

struct topic_note {
    int64_t topic, user, now, progress;
    const char *state, *note;
};

static int topic_note_fn(db_conn *c, void *arg, gr_err *err)
{
    struct topic_note *n = arg;
    db_stmt *st = db_prepare(c,
                             "UPDATE eval_topics SET progress = ?, state = ?, updated_at = ? "
                             "WHERE id = ?",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, n->progress);
    db_bind_text(st, 2, n->state);
    db_bind_int(st, 3, n->now);
    db_bind_int(st, 4, n->topic);
    rc = db_run(st, err);
    db_done(st);
    st = rc ? NULL
            : db_prepare(c,
                         "INSERT INTO eval_topic_notes (topic_id, user_id, at, progress, state, "
                         "note) VALUES (?, ?, ?, ?, ?, ?)",
                         err);
    if (!rc && !st)
        return GR_EINTERNAL;
    if (rc)
        return rc;
    db_bind_int(st, 1, n->topic);
    db_bind_int(st, 2, n->user);
    db_bind_int(st, 3, n->now);
    db_bind_int(st, 4, n->progress);
    db_bind_text(st, 5, n->state);
    db_bind_text(st, 6, n->note);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* Progress on a topic: its owner, or whoever may adopt topics in its unit. */
static int handle_topic_progress(http_req *req)
{
    static const jv_field fields[] = {
        {"progress", JV_INT, 1, 0, 0, 100},
        {"state", JV_STRING, 0, 0, 1, 8},
        {"note", JV_STRING, 1, 0, 1, 4000},
    };
    struct topic_note n = {0};
    db_conn *c = db_reader(req->db);
    int64_t owner = 0, unit = 0;
    json_t *body = NULL;
    db_stmt *st;
    int rc;

    if (!c)
        return GR_EUNAVAIL;
    n.topic = http_param_int(req, "id");
    st = db_prepare(c, "SELECT owner_user_id, unit_id FROM eval_topics WHERE id = ?", &req->err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, n.topic);
    rc = db_step(st, &req->err);
    if (rc == DB_ROW) {
        owner = db_col_int(st, 0);
        unit = db_col_int(st, 1);
    }
    db_done(st);
    rc = rc < 0 ? rc : 0;
    /* A topic outside the caller's subtree is not theirs to see. */
    if (!rc &&
        (!owner || (owner != req->who.user_id &&
                    !(req->who.scope_org_id && org_is_within(c, req->who.scope_org_id, unit)))))
        rc = err_set(&req->err, GR_ENOTFOUND, "id", "no topic %" PRId64, n.topic);
    if (!rc && owner != req->who.user_id && !policy_allows(req->who.role, "eval.adopt"))
        rc =
            err_set(&req->err, GR_EFORBIDDEN, "", "only the topic's owner or a leader may do this");
    if (!rc)
        rc = http_read_body(req, fields, sizeof(fields) / sizeof(fields[0]), &body);
    if (rc)
        goto out;
    n.progress = jv_int(body, "progress", 0);
    n.state = jv_str(body, "state") ? jv_str(body, "state") : "open";
    n.note = jv_str(body, "note");
    if (strcmp(n.state, "open") && strcmp(n.state, "done") && strcmp(n.state, "dropped"))
        rc = err_set(&req->err, GR_EINVAL, "state", "must be open, done or dropped");
    else if (strcmp(n.state, "done") == 0 && n.progress != 100)
        rc = err_set(&req->err, GR_EINVAL, "progress", "a topic is done at 100");
    if (!rc) {
        n.user = req->who.user_id;
        n.now = time_now_ms();
        rc = db_write(req->db, topic_note_fn, &n, &req->err);
    }
    if (!rc)
        rc = http_send_json(req, 200,
                            json_pack("{s:I, s:I, s:s}", "id", (json_int_t)n.topic, "progress",
                                      (json_int_t)n.progress, "state", n.state));
out:
    json_decref(body);
    return rc;
}

void eval_topics_api_register(http_router *r)
{
    http_route(r, "GET", "/api/v1/eval/recurring", handle_recurring, "eval.read");
    http_route(r, "GET", "/api/v1/eval/hotspots", handle_hotspots, "eval.read");
    http_route(r, "GET", "/api/v1/eval/topics", handle_topics, "eval.read");
    http_route(r, "POST", "/api/v1/eval/topics", handle_topic_post, "eval.adopt");
    http_route(r, "POST", "/api/v1/eval/topics/{id:int}/progress", handle_topic_progress,
               "session");
}
