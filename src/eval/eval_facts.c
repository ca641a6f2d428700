/* What one case counts for, read off its timeline (docs/eval.md, "Facts"). */
#include "eval/eval.h"
#include "cases/cases.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

const char *const eval_counter_names[EC_N] = {"reported",
                                              "accepted",
                                              "rejected",
                                              "filed",
                                              "filed_on_time",
                                              "dispatched",
                                              "dispatched_on_time",
                                              "dispatched_ok",
                                              "returns",
                                              "disputes",
                                              "to_handle",
                                              "handled",
                                              "handled_on_time",
                                              "overdue_pending",
                                              "extended",
                                              "reworked",
                                              "to_close",
                                              "closed",
                                              "closed_on_time",
                                              "handle_ms",
                                              "handle_timed",
                                              "callbacks",
                                              "contacted",
                                              "resolved",
                                              "satisfied",
                                              "basically_satisfied",
                                              "unsatisfied",
                                              "public_first"};

int eval_counter_parse(const char *s)
{
    int i;

    for (i = 0; s && i < EC_N; i++)
        if (strcmp(eval_counter_names[i], s) == 0)
            return i;
    return -1;
}

/* The local (Asia/Shanghai, UTC+8 all year) date of ms as YYYYMMDD. */
static int64_t local_day(int64_t ms)
{
    time_t t = (time_t)(ms / 1000 + 8 * 3600);
    struct tm tm;

    gmtime_r(&t, &tm);
    return (int64_t)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* What the case's row says: its place, department, state and channel. */
static int read_row(db_conn *c, int64_t id, eval_facts *f, int *state, int *public_report,
                    gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT created_at, category_id, city_id, district_id, street_id, "
                             "community_id, grid_id, department_id, state, channel FROM cases "
                             "WHERE id = ?",
                             err);
    int rc, i;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        const char *ch = db_col_text(st, 9);
        f->day = local_day(db_col_int(st, 0));
        f->category_id = db_col_int(st, 1);
        for (i = 0; i < 5; i++)
            f->chain[i] = db_col_int(st, 2 + i);
        f->department_id = db_col_int(st, 7);
        *state = case_state_parse(db_col_text(st, 8));
        /* 漏报: the public found it, not a grid inspector nor a machine. */
        *public_report = ch && strcmp(ch, "inspector") != 0 && strcmp(ch, "sensor") != 0;
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "id", "no case with id %" PRId64, id);
    }
    db_done(st);
    return rc;
}

/* What the timeline says. */
struct seen {
    int accepted, filed, dispatched, handled, extended, reworked, returns, disputes;
    int last_returner; /* index in f->ret of the last return, -1: none */
    int rated;
    char rating[24];
    int resolved;
    int64_t first_respond_at; /* 0: never */
};

static void seen_rating(struct seen *s, const char *data)
{
    json_t *o = data ? json_loads(data, 0, NULL) : NULL;
    const char *r = json_string_value(json_object_get(o, "rating"));
    json_t *res = json_object_get(o, "resolved");

    if (r) {
        s->rated = 1;
        snprintf(s->rating, sizeof(s->rating), "%s", r);
        /* Ratings from before `resolved` was asked: anything but unsatisfied. */
        s->resolved = res ? json_is_true(res) : strcmp(r, "unsatisfied") != 0;
    }
    json_decref(o);
}

/* A return: counted for the department that gave the case back. */
static void seen_return(struct seen *s, eval_facts *f, const char *data)
{
    json_t *o = data ? json_loads(data, 0, NULL) : NULL;
    int64_t dept = json_integer_value(json_object_get(o, "department_id"));
    int i;

    json_decref(o);
    s->returns++;
    if (!dept)
        return;
    for (i = 0; i < f->nret && f->ret[i].department_id != dept; i++)
        ;
    if (i == f->nret) {
        if (f->nret == EVAL_MAX_RETURNERS)
            i = f->nret - 1;
        else
            f->ret[f->nret++].department_id = dept;
    }
    f->ret[i].returns++;
    s->last_returner = i;
}

/* The step an action is part of, for the post that took it. */
static unsigned post_step(const char *action)
{
    static const struct {
        const char *action;
        unsigned step;
    } steps[] = {{"accept", EVAL_POST_ACCEPT},   {"reject", EVAL_POST_ACCEPT},
                 {"file", EVAL_POST_FILE},       {"dispatch", EVAL_POST_DISPATCH},
                 {"decide", EVAL_POST_DISPATCH}, {"review", EVAL_POST_DISPATCH},
                 {"sign", EVAL_POST_HANDLE},     {"handle", EVAL_POST_HANDLE},
                 {"return", EVAL_POST_HANDLE},   {"respond", EVAL_POST_HANDLE},
                 {"extend", EVAL_POST_HANDLE}};
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        if (strcmp(steps[i].action, action) == 0)
            return steps[i].step;
    return 0;
}

static void seen_post(eval_facts *f, int64_t user, unsigned step)
{
    int i;

    if (!user || !step)
        return;
    for (i = 0; i < f->nposts && f->posts[i].user_id != user; i++)
        ;
    if (i == f->nposts) {
        if (f->nposts == EVAL_MAX_POSTS)
            return;
        f->posts[f->nposts++].user_id = user;
    }
    f->posts[i].steps |= step;
}

static int read_events(db_conn *c, int64_t id, struct seen *s, eval_facts *f, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT action, to_state, at, data, actor_user_id, actor_role FROM "
                             "case_events WHERE case_id = ? ORDER BY id",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    while ((rc = db_step(st, err)) == DB_ROW) {
        const char *action = db_col_text(st, 0), *to = db_col_text(st, 1);
        s->accepted |= strcmp(to, "accepted") == 0;
        s->filed |= strcmp(to, "filed") == 0;
        s->dispatched |= strcmp(to, "dispatched") == 0;
        s->handled |= strcmp(action, "handle") == 0;
        s->extended |= strcmp(action, "approve-extension") == 0;
        s->reworked |= strcmp(to, "rework") == 0;
        if (strcmp(action, "return") == 0)
            seen_return(s, f, db_col_text(st, 3));
        /* A dispute is over the last return: that department's. */
        if (strcmp(action, "escalate") == 0) {
            s->disputes++;
            if (s->last_returner >= 0)
                f->ret[s->last_returner].disputes++;
        }
        /* An inspector's own report is their post's (上报, 有效上报). */
        if (strcmp(action, "report") == 0 && db_col_text(st, 5) &&
            strcmp(db_col_text(st, 5), "grid_inspector") == 0)
            seen_post(f, db_col_int(st, 4), EVAL_POST_REPORT);
        else
            seen_post(f, db_col_int(st, 4), post_step(action));
        if (strcmp(action, "respond") == 0 && !s->first_respond_at)
            s->first_respond_at = db_col_int(st, 2);
        /* The last rating is the reporter's answer (an unsatisfied one may
         * be followed by a second after the review). */
        if (strcmp(action, "rate") == 0)
            seen_rating(s, db_col_text(st, 3));
    }
    db_done(st);
    return rc == DB_DONE ? 0 : rc;
}

/* What the steps say: lateness of each kind of step, handling time. */
struct steps {
    int late_intake, late_dispatch, late_handle, late_any, handle_pending_late;
    int64_t handle_ms, handle_timed, first_handle_due;
    int first_handle_seen;
};

static int read_steps(db_conn *c, int64_t id, struct steps *s, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT step, due_at, ended_at, working_ms, overdue FROM case_steps "
                             "WHERE case_id = ? ORDER BY id",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    while ((rc = db_step(st, err)) == DB_ROW) {
        const char *step = db_col_text(st, 0);
        int late = db_col_int(st, 4) != 0, ended = !db_col_is_null(st, 2);
        s->late_any |= late;
        if (strcmp(step, "accept") == 0 || strcmp(step, "file") == 0)
            s->late_intake |= late;
        else if (strcmp(step, "dispatch") == 0)
            s->late_dispatch |= late;
        else if (strcmp(step, "handle") == 0) {
            s->late_handle |= late;
            s->handle_pending_late |= late && !ended;
            if (!s->first_handle_seen) {
                s->first_handle_seen = 1;
                s->first_handle_due = db_col_int(st, 1); /* 0: untimed */
            }
            if (ended && !db_col_is_null(st, 3)) {
                s->handle_ms += db_col_int(st, 3);
                s->handle_timed = 1;
            }
        }
    }
    db_done(st);
    return rc == DB_DONE ? 0 : rc;
}

int eval_facts_compute(db_conn *c, int64_t id, eval_facts *f, gr_err *err)
{
    struct seen s = {.last_returner = -1};
    struct steps t = {0};
    int state = -1, public_report = 0, rc, at_dept;
    int64_t *v = f->v;

    memset(f, 0, sizeof(*f));
    f->case_id = id;
    rc = read_row(c, id, f, &state, &public_report, err);
    if (!rc)
        rc = read_events(c, id, &s, f, err);
    if (!rc)
        rc = read_steps(c, id, &t, err);
    if (rc)
        return rc;
    v[EC_REPORTED] = 1;
    /* Routing proposes a department at intake; it counts a case only once
     * the case is dispatched to it (a return clears it until the next). */
    if (!s.dispatched)
        f->department_id = 0;
    /* A duplicate merged into another case is that case's report: counted
     * once, there. */
    if (state == CS_MERGED) {
        f->department_id = 0;
        f->nret = 0;
        f->nposts = 0;
        return 0;
    }
    v[EC_ACCEPTED] = s.accepted;
    v[EC_REJECTED] = state == CS_REJECTED;
    v[EC_FILED] = s.filed;
    v[EC_FILED_ON_TIME] = s.filed && !t.late_intake;
    v[EC_DISPATCHED] = s.dispatched;
    v[EC_DISPATCHED_ON_TIME] = s.dispatched && !t.late_dispatch;
    v[EC_DISPATCHED_OK] = s.dispatched && !s.returns;
    v[EC_RETURNS] = s.returns;
    v[EC_DISPUTES] = s.disputes;
    v[EC_TO_HANDLE] = s.dispatched;
    v[EC_HANDLED] = s.handled;
    v[EC_HANDLED_ON_TIME] = s.handled && !t.late_handle;
    at_dept = state == CS_DISPATCHED || state == CS_SIGNED || state == CS_REWORK;
    v[EC_OVERDUE_PENDING] = at_dept && t.handle_pending_late;
    v[EC_EXTENDED] = s.extended;
    v[EC_REWORKED] = s.reworked;
    v[EC_TO_CLOSE] = s.filed && state != CS_CANCELLED;
    v[EC_CLOSED] = state == CS_CLOSED;
    v[EC_CLOSED_ON_TIME] = state == CS_CLOSED && !t.late_any;
    v[EC_HANDLE_MS] = s.handled ? t.handle_ms : 0;
    v[EC_HANDLE_TIMED] = s.handled && t.handle_timed;
    if (s.rated) {
        v[EC_CALLBACKS] = 1;
        /* 响应: reached before the first handling time ran out. */
        v[EC_CONTACTED] =
            s.first_respond_at && (!t.first_handle_due || s.first_respond_at <= t.first_handle_due);
        v[EC_RESOLVED] = s.resolved;
        v[EC_SATISFIED] = strcmp(s.rating, "satisfied") == 0;
        v[EC_BASICALLY_SATISFIED] = strcmp(s.rating, "basically_satisfied") == 0;
        v[EC_UNSATISFIED] = strcmp(s.rating, "unsatisfied") == 0;
    }
    v[EC_PUBLIC_FIRST] = s.filed && public_report;
    return 0;
}

int eval_facts_department(const eval_facts *f, int i, int64_t *dept, int64_t v[EC_N])
{
    int k;

    if (i < 0) {
        *dept = f->department_id;
        if (!*dept)
            return 0;
        memcpy(v, f->v, sizeof(f->v));
        v[EC_RETURNS] = v[EC_DISPUTES] = 0;
        for (k = 0; k < f->nret; k++)
            if (f->ret[k].department_id == *dept) {
                v[EC_RETURNS] = f->ret[k].returns;
                v[EC_DISPUTES] = f->ret[k].disputes;
            }
        return 1;
    }
    if (i >= f->nret || f->ret[i].department_id == f->department_id)
        return 0;
    *dept = f->ret[i].department_id;
    memset(v, 0, sizeof(f->v));
    v[EC_RETURNS] = f->ret[i].returns;
    v[EC_DISPUTES] = f->ret[i].disputes;
    return 1;
}

void eval_facts_post(const eval_facts *f, int i, int64_t v[EC_N])
{
    static const struct {
        unsigned step;
        int counters[12];
    } by_step[] = {
        {EVAL_POST_REPORT, {EC_REPORTED, EC_FILED, -1}},
        {EVAL_POST_ACCEPT, {EC_REPORTED, EC_ACCEPTED, EC_REJECTED, -1}},
        {EVAL_POST_FILE, {EC_FILED, EC_FILED_ON_TIME, -1}},
        {EVAL_POST_DISPATCH,
         {EC_DISPATCHED, EC_DISPATCHED_ON_TIME, EC_DISPATCHED_OK, EC_RETURNS, -1}},
        {EVAL_POST_HANDLE,
         {EC_TO_HANDLE, EC_HANDLED, EC_HANDLED_ON_TIME, EC_OVERDUE_PENDING, EC_EXTENDED,
          EC_REWORKED, EC_HANDLE_MS, EC_HANDLE_TIMED, EC_CALLBACKS, EC_CONTACTED, EC_RESOLVED, -1}},
    };
    size_t k;
    int j;

    memset(v, 0, sizeof(f->v));
    for (k = 0; k < sizeof(by_step) / sizeof(by_step[0]); k++) {
        if (!(f->posts[i].steps & by_step[k].step))
            continue;
        for (j = 0; j < 12 && by_step[k].counters[j] >= 0; j++)
            v[by_step[k].counters[j]] = f->v[by_step[k].counters[j]];
        /* The handler is rated with the case. */
        if (by_step[k].step == EVAL_POST_HANDLE) {
            v[EC_SATISFIED] = f->v[EC_SATISFIED];
            v[EC_BASICALLY_SATISFIED] = f->v[EC_BASICALLY_SATISFIED];
            v[EC_UNSATISFIED] = f->v[EC_UNSATISFIED];
        }
    }
}
