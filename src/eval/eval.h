/*
 * 考评: evaluation of units by the outcomes of their cases (docs/eval.md).
 *
 * Every number comes from the case timeline. The sync reads the events
 * written since it last ran, works out again what each case they belong to
 * counts for (its facts: filed, handled on time, closed, rated ...) and adds
 * the difference to the daily sums of the units of the case's chain and of
 * its department. An indicator of a unit over a period is then a ratio of
 * sums of those daily rows, by the definitions of the configuration version
 * in force for the period.
 */
#ifndef GR_EVAL_EVAL_H
#define GR_EVAL_EVAL_H

#include "http/http.h"

#include <jansson.h>

/* The counters of a case's facts: the columns of eval_facts and eval_daily
 * (migration 0017), in this order. */
typedef enum {
    EC_REPORTED = 0,
    EC_ACCEPTED,
    EC_REJECTED,
    EC_FILED,
    EC_FILED_ON_TIME,
    EC_DISPATCHED,
    EC_DISPATCHED_ON_TIME,
    EC_DISPATCHED_OK,
    EC_RETURNS,
    EC_DISPUTES,
    EC_TO_HANDLE,
    EC_HANDLED,
    EC_HANDLED_ON_TIME,
    EC_OVERDUE_PENDING,
    EC_EXTENDED,
    EC_REWORKED,
    EC_TO_CLOSE,
    EC_CLOSED,
    EC_CLOSED_ON_TIME,
    EC_HANDLE_MS,
    EC_HANDLE_TIMED,
    EC_CALLBACKS,
    EC_CONTACTED,
    EC_RESOLVED,
    EC_SATISFIED,
    EC_BASICALLY_SATISFIED,
    EC_UNSATISFIED,
    EC_PUBLIC_FIRST,
    EC_N
} eval_counter;

extern const char *const eval_counter_names[EC_N];
/* The counter named s, or -1. */
int eval_counter_parse(const char *s);

/* The departments a case was returned by (推诿 shows here), at most
 * EVAL_MAX_RETURNERS of them; more are counted under the last. */
enum { EVAL_MAX_RETURNERS = 8 };
typedef struct eval_returner {
    int64_t department_id;
    int64_t returns, disputes;
} eval_returner;

/* The posts (岗位) that took part in a case: a person and the steps they
 * took, each step counting its own counters under that person. */
enum {
    EVAL_POST_REPORT = 1u << 0,   /* reported it as an inspector */
    EVAL_POST_ACCEPT = 1u << 1,   /* accepted or rejected it */
    EVAL_POST_FILE = 1u << 2,     /* filed it */
    EVAL_POST_DISPATCH = 1u << 3, /* dispatched it (or decided, or re-dispatched) */
    EVAL_POST_HANDLE = 1u << 4,   /* signed, handled, returned, responded, extended */
    EVAL_MAX_POSTS = 8
};
typedef struct eval_post {
    int64_t user_id;
    unsigned steps;
} eval_post;

/* What one case counts for. chain: city, district, street, community, grid.
 * department_id: the department handling it (dispatched last and not
 * returned since), or 0. */
typedef struct eval_facts {
    int64_t case_id;
    int64_t day; /* local date of the report, YYYYMMDD */
    int64_t category_id;
    int64_t chain[5];
    int64_t department_id;
    int64_t v[EC_N];
    eval_returner ret[EVAL_MAX_RETURNERS];
    int nret;
    eval_post posts[EVAL_MAX_POSTS];
    int nposts;
} eval_facts;

/* The counters a department counts of case f: everything for the
 * department handling it, returns and disputes for those who returned it.
 * v receives the row for department i of f's list (i = -1: the handling
 * department); 0 when there is no such department. */
int eval_facts_department(const eval_facts *f, int i, int64_t *dept, int64_t v[EC_N]);
/* The counters post i of f counts (kind 2): those of the steps it took. */
void eval_facts_post(const eval_facts *f, int i, int64_t v[EC_N]);

/* The facts of case id from its row, events and steps (a reader or the
 * writer's connection). GR_ENOTFOUND for no such case. */
int eval_facts_compute(db_conn *c, int64_t id, eval_facts *out, gr_err *err);

/* ---- definitions and indicators ---- */

enum { EVAL_MAX_INDICATORS = 32, EVAL_MAX_TERMS = 8 };
typedef enum { EVAL_RATE = 0, EVAL_AVERAGE, EVAL_COUNT } eval_kind;

typedef struct eval_term {
    int counter;
    double weight;
} eval_term;

typedef struct eval_indicator {
    const char *key, *name; /* strings of the config's JSON */
    eval_kind kind;
    eval_term num[EVAL_MAX_TERMS];
    int nnum;
    int den[EVAL_MAX_TERMS]; /* counters summed */
    int nden;
    double scale; /* 1 unless given */
    int lower_is_better;
    double weight; /* in the composite; 0: not in it */
} eval_indicator;

/* One version of the definitions. json owns the strings. */
typedef struct eval_config {
    int64_t version;
    int valid_from; /* YYYYMM */
    json_t *json;
    eval_indicator ind[EVAL_MAX_INDICATORS];
    int n;
} eval_config;

/* Checks and reads a configuration ({"indicators": {...}, "composite":
 * {...}}); a bad one is GR_EINVAL naming the field (e.g.
 * "config.indicators.close_rate.numerator") and the reason. Takes a
 * reference to json. */
int eval_config_parse(json_t *json, eval_config *out, gr_err *err);
void eval_config_free(eval_config *cfg);
/* The version in force in month YYYYMM. */
int eval_config_for(db_conn *c, int month, eval_config *out, gr_err *err);

/* The value of indicator i over the sums v; 0 when it has none (a rate or
 * an average over nothing). */
int eval_value(const eval_indicator *ind, const int64_t v[EC_N], double *value, double *num,
               double *den);
/* The composite score over v (weights of the config); 0 when a weighted
 * indicator has no value. */
int eval_composite(const eval_config *cfg, const int64_t v[EC_N], double *score);

/* The sums of unit (kind 0: an org unit, 1: a department, 2: a post, by
 * user id) over the local
 * days from..to (YYYYMMDD, inclusive): the whole months from the monthly
 * sums, the other days from the daily ones. */
int eval_sums(db_conn *c, int kind, int64_t unit, int64_t from, int64_t to, int64_t v[EC_N],
              gr_err *err);

typedef struct eval_unit_sums {
    int kind;
    int64_t unit;
    int64_t v[EC_N];
} eval_unit_sums;

/* The sums of every unit and department with cases in from..to, ordered by
 * (kind, unit); *out is malloc'ed (free it). */
int eval_sums_all(db_conn *c, int64_t from, int64_t to, eval_unit_sums **out, size_t *n,
                  gr_err *err);

/* ---- recurring problems ---- */

enum { EVAL_PLACE_CASES = 50, EVAL_MAX_BASELINES = 3 };

/* A place where a category keeps coming back: a cell of 0.001 degrees. */
typedef struct eval_place {
    int64_t category_id;
    double lat, lon;  /* the mean of its cases' points */
    int64_t reports;  /* cases, merged duplicates included */
    int64_t reopened; /* reworks and 不满意 reopens among them */
    int64_t first_at, last_at;
    int64_t cases[EVAL_PLACE_CASES];
    int ncases;
} eval_place;

/* The places of the unit (unit_col: its column in cases, from
 * org_unit_column) where one category was reported or reopened at least
 * min_times times since since_ms, most first; *out is malloc'ed. */
int eval_recurring_places(db_conn *c, const char *unit_col, int64_t unit, int64_t since_ms,
                          int min_times, eval_place **out, size_t *n, gr_err *err);

typedef struct eval_trend_rule {
    int window_days; /* the recent window, e.g. 30 */
    int64_t min_count;
    double min_ratio; /* recent >= ratio × baseline */
    double max_p;     /* Poisson P(X >= recent | baseline) below this */
} eval_trend_rule;

/* A category rising against its baseline: the same window in earlier
 * years (seasonal) when the facts reach back that far, else the windows
 * just before. */
typedef struct eval_trend {
    int64_t category_id;
    int64_t recent;
    double baseline;
    double p;
    int seasonal, windows;
} eval_trend;

int eval_rising_categories(db_conn *c, const char *unit_col, int64_t unit, int64_t today,
                           const eval_trend_rule *rule, eval_trend **out, size_t *n, gr_err *err);
/* P(X >= k) for X ~ Poisson(lambda). */
double eval_poisson_tail(int64_t k, double lambda);
/* ymd (YYYYMMDD) plus days. */
int64_t eval_day_add(int64_t ymd, int64_t days);

/* ---- the sync ---- */

/* The events a write of the sync takes when the caller says 0. The sums
 * take one upsert per (unit, day) and per (unit, month) a write, some 18 us
 * of the writer's time each (30 counters): 2,000 events (some 700 cases of
 * intake) touched nearly a row of each per case, as many grids as cases;
 * 10,000 events share their rows three times as well, and hold the writer
 * some 80 ms a write. */
enum { EVAL_SYNC_EVENTS = 10000 };

/* Counts the cases of the events written since the last sync, at most
 * limit events a write (0: EVAL_SYNC_EVENTS), until none is left; *cases
 * (may be NULL): how many cases were counted again. */
int eval_sync_run(gr_ctx *ctx, int limit, int64_t *cases, gr_err *err);
/* Forgets every sum and counts every case anew (after a bulk load, or by
 * hand: `grassroots eval rebuild`). */
int eval_rebuild(gr_ctx *ctx, int64_t *cases, gr_err *err);

/* The module's context: starts nothing until eval_sync_start (serve). */
int eval_ctx_open(gr_ctx *ctx, gr_err *err);
void eval_ctx_close(gr_ctx *ctx);
/* Runs the sync every GR_EVAL_INTERVAL_MS (default 5000) in the background. */
int eval_sync_start(gr_ctx *ctx, gr_err *err);

void eval_api_register(http_router *r);
/* Recurring problems, hot spots and governance topics (eval_topics.c). */
void eval_topics_api_register(http_router *r);
/* `grassroots eval rebuild` */
extern const char eval_cli_help[];
int eval_cli(gr_ctx *ctx, int argc, char **argv);

#endif
