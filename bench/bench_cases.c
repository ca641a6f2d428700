/*
 * The cases benchmark's loader: a synthetic city year of cases in a demo data
 * directory (`grassroots demo` first: it brings the district, its grids, the
 * catalogue, the departments and the accounts), and the API tokens the HTTP
 * runs use. bench/run.sh drives it.
 *
 *   bench_cases DIR N   appends N cases created over the year before the day
 *                       before yesterday, then prints "key value" lines for
 *                       the wrk scripts: three tokens of the demo admin, "read"
 *                       (case.read), "report" (case.report: the sensor
 *                       channel, trusted) and "eval" (eval.read), "ids"
 *                       (the first and last case id), "street" (the street
 *                       with the most cases) and
 *                       "department" (the department with the most cases),
 *                       and writes DIR/bench-points.txt: "lat lon category"
 *                       per line, every grid's centre with a leaf category,
 *                       where the intake script reports.
 *
 * Going through case_create for 10,000,000 rows would take hours, so this is
 * the bench's own bulk loader: INSERT ... SELECT in batches of 50,000 cases
 * through db_write, rows shaped as the model writes them (docs/cases.md): the
 * unit chain of a demo grid and a point near its centre, a leaf category and
 * its routed department, the state of a realistic mix (older cases mostly
 * closed, the last eleven days mostly open), a timeline of events and steps
 * matching the state and the full-text index (by the triggers). Running steps
 * already past due are marked overdue, as the scheduler would have, so serve
 * does not start by flagging a year of them. Pseudo-random choices are hashes
 * of the id, so a run is reproducible.
 */
#include "app/app.h"
#include "auth/auth_model.h"
#include "base/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 50000 };

#define DAY_MS  (86400000LL)
#define HOUR_MS (3600000LL)

typedef struct load {
    int64_t lo, hi;   /* ids of this batch */
    int64_t first, n; /* ids of the whole load */
    int64_t t0, span; /* created_at of the first id, and the year */
    int64_t now;      /* the overdue line */
} load;

/* The helper tables: grids with their chain, leaf categories with their
 * department, and the events of each state in order. */
static const char *const setup_sql[] = {
    "CREATE TABLE bench_grid (gk INTEGER PRIMARY KEY, grid_id INTEGER, community_id INTEGER, "
    "  street_id INTEGER, district_id INTEGER, city_id INTEGER, lat REAL, lon REAL, name TEXT);"
    "INSERT INTO bench_grid SELECT row_number() OVER (ORDER BY g.id) - 1, g.id, c.id, s.id, d.id, "
    "  d.parent_id, g.centroid_lat, g.centroid_lon, c.name FROM org_units g "
    "  JOIN org_units c ON c.id = g.parent_id JOIN org_units s ON s.id = c.parent_id "
    "  JOIN org_units d ON d.id = s.parent_id WHERE g.kind = 'grid' AND g.boundary IS NOT NULL;"
    "CREATE TABLE bench_cat (ck INTEGER PRIMARY KEY, category_id INTEGER, department_id INTEGER, "
    "  name TEXT);"
    "INSERT INTO bench_cat SELECT row_number() OVER (ORDER BY id) - 1, id, default_department_id, "
    "  name FROM categories WHERE is_leaf = 1 AND active = 1;",
    /* One row per bucket of 100: the state of an older case and of a recent one. */
    "CREATE TABLE bench_mix (b INTEGER PRIMARY KEY, old TEXT, recent TEXT);"
    "WITH RECURSIVE s(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM s WHERE b < 99) "
    "INSERT INTO bench_mix SELECT b, CASE WHEN b < 88 THEN 'closed' WHEN b < 92 THEN 'rejected' "
    "  WHEN b < 94 THEN 'cancelled' WHEN b < 96 THEN 'backlog' WHEN b = 96 THEN 'disputed' "
    "  WHEN b = 97 THEN 'signed' WHEN b = 98 THEN 'review' ELSE 'closed' END, "
    "  CASE WHEN b < 30 THEN 'closed' WHEN b < 32 THEN 'rejected' WHEN b < 33 THEN 'cancelled' "
    "  WHEN b < 41 THEN 'reported' WHEN b < 47 THEN 'accepted' WHEN b < 53 THEN 'filed' "
    "  WHEN b < 63 THEN 'dispatched' WHEN b < 73 THEN 'signed' WHEN b < 75 THEN 'rework' "
    "  WHEN b < 83 THEN 'handled' WHEN b < 89 THEN 'verified' WHEN b < 92 THEN 'returned' "
    "  WHEN b < 93 THEN 'disputed' WHEN b < 94 THEN 'backlog' WHEN b < 95 THEN 'review' "
    "  ELSE 'closed' END FROM s;",
    /* The timeline of each state: the event at ord, the step it starts (NULL:
     * none, or the running one goes on) and its limit in hours, and the ord
     * of the event that ends that step (NULL: still running). */
    "CREATE TABLE bench_path (state TEXT, ord INTEGER, action TEXT, from_state TEXT, "
    "  to_state TEXT, role TEXT, user_id INTEGER, step TEXT, hours INTEGER, end_ord INTEGER, "
    "  PRIMARY KEY (state, ord)) WITHOUT ROWID;"
    "CREATE TABLE bench_seq (ord INTEGER, action TEXT, from_state TEXT, to_state TEXT, "
    "  role TEXT, user_id INTEGER, step TEXT, hours INTEGER);"
    "INSERT INTO bench_seq VALUES (0, 'report', NULL, 'reported', 'resident', 1, 'accept', 4), "
    "  (1, 'accept', 'reported', 'accepted', 'acceptor', 3, 'file', 1), "
    "  (2, 'file', 'accepted', 'filed', 'shift_leader', 5, 'dispatch', 1), "
    "  (3, 'dispatch', 'filed', 'dispatched', 'dispatcher', 4, 'handle', 72), "
    "  (4, 'sign', 'dispatched', 'signed', 'department_staff', 6, NULL, NULL), "
    "  (5, 'handle', 'signed', 'handled', 'department_staff', 6, 'verify', 24), "
    "  (6, 'verify', 'handled', 'verified', 'grid_inspector', 2, 'close', 1), "
    "  (7, 'close', 'verified', 'closed', 'shift_leader', 5, NULL, NULL);"
    /* The main line up to each of its states. */
    "INSERT INTO bench_path SELECT t.to_state, s.ord, s.action, s.from_state, s.to_state, s.role, "
    "  s.user_id, s.step, s.hours, NULL FROM bench_seq t JOIN bench_seq s ON s.ord <= t.ord;",
    /* The detours: the main line to a state, then one more event. */
    "INSERT INTO bench_path SELECT 'rejected', ord, action, from_state, to_state, role, user_id, "
    "  step, hours, NULL FROM bench_path WHERE state = 'reported';"
    "INSERT INTO bench_path VALUES ('rejected', 1, 'reject', 'reported', 'rejected', 'acceptor', "
    "  3, NULL, NULL, NULL);"
    "INSERT INTO bench_path SELECT 'cancelled', ord, action, from_state, to_state, role, user_id, "
    "  step, hours, NULL FROM bench_path WHERE state = 'filed';"
    "INSERT INTO bench_path VALUES ('cancelled', 3, 'cancel', 'filed', 'cancelled', "
    "  'shift_leader', 5, NULL, NULL, NULL);"
    "INSERT INTO bench_path SELECT 'rework', ord, action, from_state, to_state, role, user_id, "
    "  step, hours, NULL FROM bench_path WHERE state = 'handled';"
    "INSERT INTO bench_path VALUES ('rework', 6, 'verify', 'handled', 'rework', 'grid_inspector', "
    "  2, 'handle', 72, NULL);"
    "INSERT INTO bench_path SELECT 'returned', ord, action, from_state, to_state, role, user_id, "
    "  step, hours, NULL FROM bench_path WHERE state = 'dispatched';"
    "INSERT INTO bench_path VALUES ('returned', 4, 'return', 'dispatched', 'returned', "
    "  'department_staff', 6, 'dispatch', 1, NULL);"
    "INSERT INTO bench_path SELECT 'disputed', ord, action, from_state, to_state, role, user_id, "
    "  step, hours, NULL FROM bench_path WHERE state = 'returned';"
    "INSERT INTO bench_path VALUES ('disputed', 5, 'escalate', 'returned', 'disputed', "
    "  'dispatcher', 4, 'decide', 24, NULL);"
    "INSERT INTO bench_path SELECT 'backlog', ord, action, from_state, to_state, role, user_id, "
    "  step, hours, NULL FROM bench_path WHERE state = 'signed';"
    "INSERT INTO bench_path VALUES ('backlog', 5, 'backlog', 'signed', 'backlog', 'shift_leader', "
    "  5, 'backlog', NULL, NULL);"
    "INSERT INTO bench_path SELECT 'review', ord, action, from_state, to_state, role, user_id, "
    "  step, hours, NULL FROM bench_path WHERE state = 'closed';"
    "INSERT INTO bench_path VALUES ('review', 8, 'rate', 'closed', 'review', 'resident', 1, "
    "  'review', 24, NULL);"
    /* A step ends at the next event that starts a step or ends the loop. */
    "UPDATE bench_path AS p SET end_ord = (SELECT min(q.ord) FROM bench_path q WHERE "
    "  q.state = p.state AND q.ord > p.ord AND (q.step IS NOT NULL OR q.to_state IN "
    "  ('closed', 'rejected', 'cancelled'))) WHERE step IS NOT NULL;"};

static const char *const drop_sql[] = {
    "DROP TABLE bench_grid; DROP TABLE bench_cat; DROP TABLE bench_mix;"
    "DROP TABLE bench_path; DROP TABLE bench_seq;"};

/* h(k, salt): a 32-bit hash of the id, as SQL over the row's id k. */
#define H(salt) "((k * 2654435761 + " #salt " * 40503) % 4294967296)"

/* The batch's ids with their choices: grid, category, state, created_at. */
#define PICK                                                                                       \
    "WITH RECURSIVE s(k) AS (SELECT ?1 UNION ALL SELECT k + 1 FROM s WHERE k < ?2), "              \
    "p AS (SELECT k, " H(                                                                          \
        1) " % (SELECT count(*) FROM bench_grid) AS gk, "                                          \
           "  " H(2) " % (SELECT count(*) FROM bench_cat) AS ck, "                                 \
                     "  CASE WHEN k - ?3 < ?4 * 97 / 100 THEN (SELECT old FROM bench_mix WHERE b " \
                     "= " H(3) "  % 100) ELSE (SELECT recent FROM bench_mix WHERE b = " H(         \
                         3) " % 100) END AS st, "                                                  \
                            "  ?5 + (k - ?3) * ?6 / ?4 AS t, " H(4) " % 10 AS ch FROM s) "

static const char cases_sql[] = PICK
    "INSERT INTO cases (id, public_code, channel, category_id, title, description, lat, lon, "
    "  address, city_id, district_id, street_id, community_id, grid_id, first_unit_id, "
    "  department_id, handler_org_id, state, version, reporter_user_id, entered_by, anonymous, "
    "  is_public, urgent, area_class, step, step_due_at, created_at, updated_at, closed_at) "
    "SELECT p.k, 'GR' || substr(strftime('%Y%m%d', p.t / 1000 + 28800, 'unixepoch'), 3) || "
    "  printf('%06d', p.k % 1000000), "
    "  CASE WHEN p.ch < 4 THEN 'web' WHEN p.ch < 7 THEN 'inspector' WHEN p.ch < 9 THEN 'hotline' "
    "  ELSE 'sensor' END, c.category_id, c.name || '：' || g.name, "
    "  g.name || '第' || (" H(
        5) " % 40 + 1) || '号附近发现' || c.name || '问题，请尽快处理。"
           "编号' || p.k, "
           "  g.lat + ((" H(
               6) " % 1000) - 500) * 0.0000005, "
                  "  g.lon + ((" H(
                      7) " % 1000) - 500) * 0.0000005, "
                         "  g.name || (" H(
                             5) " % 40 + 1) || '号', g.city_id, g.district_id, g.street_id, "
                                "  g.community_id, g.grid_id, g.street_id, c.department_id, "
                                "  CASE WHEN c.department_id IS NULL THEN g.street_id END, p.st, "
                                "  (SELECT count(*) FROM bench_path q WHERE q.state = p.st), "
                                "  CASE WHEN p.ch < 2 THEN 1 END, CASE WHEN p.ch >= 4 AND p.ch < 7 "
                                "THEN 2 "
                                "  WHEN p.ch >= 7 AND p.ch < 9 THEN 3 END, 0, " H(8) " % 3 = 0, " H(
                                    9) " % 20 = 0, 'B', "
                                       "  r.step, CASE WHEN r.hours IS NOT NULL THEN p.t + r.ord * "
                                       "7200000 + r.hours * 3600000 END, "
                                       "  p.t, p.t + (SELECT max(ord) FROM bench_path q WHERE "
                                       "q.state = p.st) * 7200000, "
                                       "  CASE WHEN p.st = 'closed' THEN p.t + (SELECT max(ord) "
                                       "FROM bench_path q "
                                       "  WHERE q.state = p.st) * 7200000 END "
                                       "FROM p JOIN bench_grid g ON g.gk = p.gk JOIN bench_cat c "
                                       "ON c.ck = p.ck "
                                       /* The running step: the last one started, unless the loop is
                                          over. */
                                       "LEFT JOIN bench_path r ON r.state = p.st AND r.end_ord IS "
                                       "NULL AND r.step IS NOT NULL "
                                       "  AND p.st NOT IN ('closed', 'rejected', 'cancelled')";

static const char events_sql[] =
    "INSERT INTO case_events (case_id, at, actor_user_id, actor_role, action, from_state, "
    "  to_state, data) "
    "SELECT c.id, c.created_at + q.ord * 7200000, "
    "  CASE WHEN c.channel IN ('inspector', 'sensor') AND q.action IN ('accept', 'file') "
    "  THEN NULL WHEN q.action = 'report' THEN c.reporter_user_id ELSE q.user_id END, "
    "  CASE WHEN c.channel IN ('inspector', 'sensor') AND q.action IN ('accept', 'file') "
    "  THEN 'system' WHEN q.action = 'report' THEN CASE c.channel WHEN 'web' THEN "
    "  CASE WHEN c.reporter_user_id IS NULL THEN 'anonymous' ELSE 'resident' END "
    "  WHEN 'inspector' THEN 'grid_inspector' WHEN 'hotline' THEN 'acceptor' ELSE 'admin' END "
    "  ELSE q.role END, q.action, q.from_state, q.to_state, "
    "  CASE WHEN q.action = 'dispatch' AND c.department_id IS NOT NULL "
    "  THEN json_object('department_id', c.department_id) END "
    "FROM cases c JOIN bench_path q ON q.state = c.state WHERE c.id BETWEEN ?1 AND ?2 "
    "ORDER BY c.id, q.ord";

static const char steps_sql[] =
    "INSERT INTO case_steps (case_id, step, started_at, due_at, ended_at, working_ms, overdue) "
    "SELECT c.id, q.step, c.created_at + q.ord * 7200000, "
    "  c.created_at + q.ord * 7200000 + q.hours * 3600000, "
    "  c.created_at + q.end_ord * 7200000, "
    "  CASE WHEN q.end_ord IS NOT NULL THEN (q.end_ord - q.ord) * 7200000 END, "
    "  q.end_ord IS NULL AND q.hours IS NOT NULL AND "
    "  c.created_at + q.ord * 7200000 + q.hours * 3600000 < ?3 "
    "FROM cases c JOIN bench_path q ON q.state = c.state AND q.step IS NOT NULL "
    "WHERE c.id BETWEEN ?1 AND ?2 ORDER BY c.id, q.ord";

static int run_batch_sql(db_conn *c, const char *sql, const load *l, gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, l->lo);
    db_bind_int(st, 2, l->hi);
    if (strncmp(sql, "WITH", 4) == 0) {
        db_bind_int(st, 3, l->first);
        db_bind_int(st, 4, l->n);
        db_bind_int(st, 5, l->t0);
        db_bind_int(st, 6, l->span);
    } else if (sql == steps_sql) {
        db_bind_int(st, 3, l->now);
    }
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

static int write_batch(db_conn *c, void *arg, gr_err *err)
{
    const load *l = arg;
    int rc = run_batch_sql(c, cases_sql, l, err);

    if (!rc)
        rc = run_batch_sql(c, events_sql, l, err);
    if (!rc)
        rc = run_batch_sql(c, steps_sql, l, err);
    return rc;
}

typedef struct script {
    const char *const *sql;
    size_t n;
} script;

static int exec_sql(db_conn *c, void *arg, gr_err *err)
{
    const script *s = arg;
    int rc = 0;

    for (size_t i = 0; !rc && i < s->n; i++)
        rc = db_exec(c, s->sql[i], err);
    return rc;
}

/* The first row's integer of sql (no parameters), printed as "key value". */
static int print_int(db_conn *c, const char *key, const char *sql, gr_err *err)
{
    int64_t v = 0;
    int rc = db_query_int(c, sql, 0, 0, &v, err);

    if (!rc)
        printf("%s %lld\n", key, (long long)v);
    return rc;
}

static int write_points(db_conn *c, const char *dir, gr_err *err)
{
    char path[4096];
    FILE *f;
    db_stmt *st = db_prepare(c,
                             "WITH c AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k "
                             "FROM categories WHERE is_leaf = 1 AND active = 1) "
                             "SELECT g.centroid_lat, g.centroid_lon, c.id FROM org_units g "
                             "JOIN c ON c.k = g.id % (SELECT count(*) FROM c) "
                             "WHERE g.kind = 'grid' AND g.boundary IS NOT NULL ORDER BY g.id",
                             err);
    int rc = 0, step = 0;

    if (!st)
        return GR_EINTERNAL;
    snprintf(path, sizeof(path), "%s/bench-points.txt", dir);
    f = fopen(path, "w");
    if (!f)
        rc = err_set(err, GR_EINTERNAL, "", "cannot write %s", path);
    while (!rc && (step = db_step(st, err)) == DB_ROW)
        fprintf(f, "%.7f %.7f %lld\n", db_col_double(st, 0), db_col_double(st, 1),
                (long long)db_col_int(st, 2));
    if (!rc && step < 0)
        rc = step;
    if (!rc && fclose(f))
        rc = err_set(err, GR_EINTERNAL, "", "cannot write %s", path);
    else if (f && rc)
        fclose(f);
    db_done(st);
    return rc;
}

static int print_token(gr_ctx *ctx, const char *kind, const char *scopes, gr_err *err)
{
    char text[AUTH_TOKEN_TEXT];
    int64_t id;
    int rc = auth_token_create(ctx, 11, kind, scopes, 1, text, &id, err);

    if (!rc)
        printf("%s %s\n", kind, text);
    return rc;
}

int main(int argc, char **argv)
{
    gr_ctx ctx;
    gr_err err = {0};
    load l = {0};
    int64_t max_id = 0, admin = 0, mark;
    script setup = {setup_sql, sizeof(setup_sql) / sizeof(setup_sql[0])};
    script drop = {drop_sql, 1};
    int rc;

    if (argc != 3) {
        fputs("usage: bench_cases DIR N\n", stderr);
        return 2;
    }
    l.n = strtoll(argv[2], NULL, 10);
    if (l.n < 0)
        l.n = 0;
    if (app_open(&ctx, argv[1], &err)) {
        fprintf(stderr, "bench_cases: %s: %s\n", argv[1], err.msg);
        return 1;
    }
    rc = db_query_int(db_reader(ctx.db), "SELECT id FROM users WHERE username = 'admin' AND ?1", 1,
                      0, &admin, &err);
    if (!rc && admin != 11)
        rc = err_set(&err, GR_EINVAL, "", "run `grassroots demo` first: no demo admin (id 11)");
    if (!rc)
        rc = db_query_int(db_reader(ctx.db), "SELECT coalesce(max(id), 0) + ?1 FROM cases", 0, 0,
                          &max_id, &err);
    l.now = time_now_ms();
    /* The year ends two days ago: today's public codes stay the server's. */
    l.span = 365 * DAY_MS;
    l.t0 = l.now - 2 * DAY_MS - l.span;
    l.first = max_id + 1;
    if (!rc && l.n)
        rc = db_write(ctx.db, exec_sql, &setup, &err);
    mark = time_mono_ns();
    for (int64_t lo = l.first; !rc && lo < l.first + l.n; lo += BATCH) {
        l.lo = lo;
        l.hi = lo + BATCH - 1 < l.first + l.n - 1 ? lo + BATCH - 1 : l.first + l.n - 1;
        rc = db_write(ctx.db, write_batch, &l, &err);
        if (!rc && (l.hi - l.first + 1) % 1000000 == 0) {
            int64_t t = time_mono_ns();
            fprintf(stderr, "bench_cases: %lld cases, this million in %.0f s\n",
                    (long long)(l.hi - l.first + 1), (double)(t - mark) / 1e9);
            mark = t;
        }
    }
    if (!rc && l.n)
        rc = db_write(ctx.db, exec_sql, &drop, &err);
    if (!rc)
        rc = print_int(db_reader(ctx.db), "ids_first", "SELECT min(id) FROM cases", &err);
    if (!rc)
        rc = print_int(db_reader(ctx.db), "ids_last", "SELECT max(id) FROM cases", &err);
    if (!rc)
        rc = print_int(db_reader(ctx.db), "street",
                       "SELECT street_id FROM cases GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                       &err);
    if (!rc)
        rc = print_int(db_reader(ctx.db), "department",
                       "SELECT department_id FROM cases WHERE department_id IS NOT NULL "
                       "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                       &err);
    if (!rc)
        rc = write_points(db_reader(ctx.db), argv[1], &err);
    if (!rc)
        rc = print_token(&ctx, "read", "case.read", &err);
    if (!rc)
        rc = print_token(&ctx, "report", "case.report", &err);
    if (!rc)
        rc = print_token(&ctx, "eval", "eval.read", &err);
    if (rc)
        fprintf(stderr, "bench_cases: %s%s%s\n", err.field, err.field[0] ? ": " : "", err.msg);
    app_close(&ctx);
    return rc ? 1 : 0;
}
