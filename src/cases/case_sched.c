/*
 * Steps and deadlines. Each state of a case runs a step (accept, file,
 * dispatch, handle, verify, close, decide, review; backlog has no clock);
 * entering a step writes a case_steps row with its due time from the
 * category's limits on the working-day calendar, leaving it records the
 * working time spent and whether it was late. The scheduler thread flags
 * running steps whose due time passed, once each, with a supervision event
 * (督办) by the system and a "case.overdue" notification.
 */
#include "cases/case_model.h"

#include "base/log.h"
#include "base/ticker.h"
#include "base/timeutil.h"
#include "notify/notify.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* An unclassified report has no category limits: the acceptance clock then
 * runs on this default (natural minutes; the hotline centre works 7×24). */
enum { ACCEPT_DEFAULT_MIN = 240 };
/* Steps flagged per write: bounds one transaction of the scheduler. */
enum { OVERDUE_BATCH = 256 };

static const struct {
    case_state state;
    const char *step;
    int cat_step; /* the catalog limit that times it; -1: no clock */
} step_table[] = {
    {CS_REPORTED, "accept", CAT_STEP_ACCEPT},   {CS_ACCEPTED, "file", CAT_STEP_FILE},
    {CS_FILED, "dispatch", CAT_STEP_DISPATCH},  {CS_RETURNED, "dispatch", CAT_STEP_DISPATCH},
    {CS_DISPUTED, "decide", CAT_STEP_DISPATCH}, {CS_REVIEW, "review", CAT_STEP_DISPATCH},
    {CS_DISPATCHED, "handle", CAT_STEP_HANDLE}, {CS_SIGNED, "handle", CAT_STEP_HANDLE},
    {CS_REWORK, "handle", CAT_STEP_HANDLE},     {CS_HANDLED, "verify", CAT_STEP_VERIFY},
    {CS_VERIFIED, "close", CAT_STEP_FILE},      {CS_BACKLOG, "backlog", -1},
};
#define NSTEPS (sizeof(step_table) / sizeof(step_table[0]))

const char *case_step_of(case_state s)
{
    size_t i;

    for (i = 0; i < NSTEPS; i++)
        if (step_table[i].state == s)
            return step_table[i].step;
    return NULL;
}

static int cat_step_of(case_state s)
{
    size_t i;

    for (i = 0; i < NSTEPS; i++)
        if (step_table[i].state == s)
            return step_table[i].cat_step;
    return -1;
}

/* The due time of the step r enters at now; 0: no clock. */
static int step_due(gr_ctx *ctx, db_conn *c, const case_rec *r, int64_t now, int64_t *due,
                    gr_err *err)
{
    int cs = cat_step_of(r->state), rc;

    *due = 0;
    if (cs < 0)
        return 0;
    if (!r->category_id) {
        *due = cs == CAT_STEP_ACCEPT ? now + ACCEPT_DEFAULT_MIN * 60000LL : 0;
        return 0;
    }
    rc = catalog_due(ctx, c, r->category_id, (cat_step)cs, r->area_class, r->urgent, now, due, err);
    /* A category without a limit for this step leaves it untimed. */
    if (rc == GR_ENOTFOUND) {
        err_clear(err);
        *due = 0;
        rc = 0;
    }
    return rc;
}

/* Ends the running step row of case id at now. */
static int step_end(gr_ctx *ctx, db_conn *c, int64_t id, int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(
        c, "SELECT id, started_at FROM case_steps WHERE case_id = ? AND ended_at IS NULL", err);
    int64_t step_id = 0, started = 0;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        step_id = db_col_int(st, 0);
        started = db_col_int(st, 1);
    }
    db_done(st);
    if (rc < 0 || !step_id)
        return rc < 0 ? rc : 0;
    st = db_prepare(c,
                    "UPDATE case_steps SET ended_at = ?1, working_ms = ?2, overdue = "
                    "CASE WHEN due_at IS NOT NULL AND due_at < ?1 THEN 1 ELSE overdue END "
                    "WHERE id = ?3",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, now);
    db_bind_int(st, 2, catalog_working_ms(ctx, started, now));
    db_bind_int(st, 3, step_id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

int case_step_start(db_conn *c, const case_rec *r, int64_t now, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO case_steps (case_id, step, started_at, due_at) "
                             "VALUES (?, ?, ?, ?)",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, r->id);
    db_bind_text(st, 2, r->step);
    db_bind_int(st, 3, now);
    if (r->step_due_at)
        db_bind_int(st, 4, r->step_due_at);
    else
        db_bind_null(st, 4);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

int case_step_plan(gr_ctx *ctx, db_conn *c, case_rec *r, int64_t now, gr_err *err)
{
    r->step = case_step_of(r->state);
    r->step_due_at = 0;
    return r->step ? step_due(ctx, c, r, now, &r->step_due_at, err) : 0;
}

int case_step_move(gr_ctx *ctx, db_conn *c, case_rec *r, int64_t now, int restart, gr_err *err)
{
    const char *next = case_step_of(r->state);
    int rc;

    if (!restart && r->step && next && strcmp(r->step, next) == 0)
        return 0;
    rc = step_end(ctx, c, r->id, now, err);
    if (!rc)
        rc = case_step_plan(ctx, c, r, now, err);
    if (!rc && r->step)
        rc = case_step_start(c, r, now, err);
    return rc;
}

int case_step_extend(db_conn *c, case_rec *r, int64_t due, gr_err *err)
{
    /* A new due time also clears the overdue flag the old one may have set:
     * the approved deadline is the one the step is judged by. */
    db_stmt *st = db_prepare(c,
                             "UPDATE case_steps SET due_at = ?, overdue = 0 "
                             "WHERE case_id = ? AND ended_at IS NULL",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, due);
    db_bind_int(st, 2, r->id);
    rc = db_run(st, err);
    db_done(st);
    if (!rc)
        r->step_due_at = due;
    return rc;
}

/* ---- the scheduler ---- */

struct sched_w {
    gr_ctx *ctx;
    int64_t now;
    int flagged;
    int full; /* the batch was full: run another */
};

static int flag_one(db_conn *c, int64_t step_id, int64_t case_id, const char *step, int64_t due,
                    int64_t now, gr_err *err)
{
    static const case_actor sys = {0, "system", 0, 0, 0};
    db_stmt *st = db_prepare(c, "UPDATE case_steps SET overdue = 1 WHERE id = ?", err);
    arena *a = arena_new();
    case_rec r;
    json_t *data = json_pack("{s:s, s:I}", "step", step, "due_at", (json_int_t)due);
    case_event_new e = {case_id, now, &sys, "supervise", 0, 0, "overdue", data, NULL, 0};
    int rc;

    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, step_id);
    rc = db_run(st, err);
    db_done(st);
    if (!rc)
        rc = case_get(c, a, case_id, &r, err);
    if (!rc) {
        e.from_state = e.to_state = (int)r.state;
        rc = case_event_add(c, &e, err);
    }
    if (!rc)
        rc = case_notify(c, &r, "case.overdue", "supervise", NULL, err);
out:
    json_decref(data);
    arena_free(a);
    return rc;
}

static int sched_fn(db_conn *c, void *arg, gr_err *err)
{
    struct sched_w *w = arg;
    db_stmt *st = db_prepare(c,
                             "SELECT id, case_id, step, due_at FROM case_steps WHERE ended_at "
                             "IS NULL AND overdue = 0 AND due_at < ? ORDER BY due_at LIMIT ?",
                             err);
    struct {
        int64_t id, case_id, due;
        char step[16];
    } v[OVERDUE_BATCH];
    int n = 0, i, rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, w->now);
    db_bind_int(st, 2, OVERDUE_BATCH);
    while ((rc = db_step(st, err)) == DB_ROW && n < OVERDUE_BATCH) {
        v[n].id = db_col_int(st, 0);
        v[n].case_id = db_col_int(st, 1);
        snprintf(v[n].step, sizeof(v[n].step), "%s", db_col_text(st, 2));
        v[n].due = db_col_int(st, 3);
        n++;
    }
    db_done(st);
    if (rc < 0)
        return rc;
    for (i = 0, rc = 0; !rc && i < n; i++)
        rc = flag_one(c, v[i].id, v[i].case_id, v[i].step, v[i].due, w->now, err);
    w->flagged += rc ? 0 : n;
    w->full = !rc && n == OVERDUE_BATCH;
    return rc;
}

int cases_sched_run_once(gr_ctx *ctx, int64_t now_ms, int *flagged, gr_err *err)
{
    struct sched_w w = {ctx, now_ms, 0, 1};
    int rc = 0;

    while (!rc && w.full) {
        int before = w.flagged;
        rc = db_write(ctx->db, sched_fn, &w, err);
        if (rc)
            w.flagged = before;
    }
    if (flagged)
        *flagged = w.flagged;
    if (w.flagged)
        log_obj(LOG_INFO, "case.overdue", json_pack("{s:i}", "flagged", w.flagged));
    return rc;
}

struct cases_ctx {
    ticker *sched;
    int64_t interval_ms;
};

/* The writer's commit hook: indexes the text of the batch's new cases in
 * one go (migration 0010 says why). */
static int fts_drain(db_conn *c, void *arg, gr_err *err)
{
    static const char *const sql[] = {
        "INSERT INTO cases_fts (rowid, title, description) SELECT c.id, c.title, c.description "
        "FROM cases_fts_queue q JOIN cases c ON c.id = q.id",
        "DELETE FROM cases_fts_queue"};
    int64_t queued = 0;
    size_t i;
    int rc;

    (void)arg;
    rc = db_query_int(c, "SELECT EXISTS (SELECT 1 FROM cases_fts_queue)", 0, 0, &queued, err);
    for (i = 0; i < 2 && !rc && queued; i++) {
        db_stmt *st = db_prepare(c, sql[i], err);
        if (!st)
            return GR_EINTERNAL;
        rc = db_run(st, err);
        db_done(st);
    }
    return rc;
}

int cases_ctx_open(gr_ctx *ctx, gr_err *err)
{
    struct cases_ctx *cc;
    const char *iv = getenv("GR_SCHED_INTERVAL_MS");
    int rc = db_on_commit(ctx->db, fts_drain, NULL, err);

    if (rc)
        return rc;
    cc = calloc(1, sizeof(*cc));
    if (!cc)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    cc->interval_ms = iv && atoll(iv) > 0 ? atoll(iv) : 30000;
    ctx->cases = cc;
    return 0;
}

void cases_ctx_close(gr_ctx *ctx)
{
    if (!ctx->cases)
        return;
    cases_sched_stop(ctx);
    free(ctx->cases);
    ctx->cases = NULL;
}

static void sched_round(void *arg)
{
    gr_err err = {0};

    if (cases_sched_run_once(arg, time_now_ms(), NULL, &err))
        log_msg(LOG_ERROR, "case.sched", "the overdue round failed: %s", err.msg);
}

int cases_sched_start(gr_ctx *ctx, gr_err *err)
{
    struct cases_ctx *cc = ctx->cases;

    if (!cc)
        return err_set(err, GR_EINTERNAL, "", "the cases module is not open");
    if (cc->sched)
        return 0;
    return ticker_start(&cc->sched, "case scheduler", cc->interval_ms, sched_round, ctx, err);
}

void cases_sched_stop(gr_ctx *ctx)
{
    struct cases_ctx *cc = ctx->cases;

    if (!cc)
        return;
    ticker_stop(cc->sched);
    cc->sched = NULL;
}
