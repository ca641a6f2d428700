/*
 * Recurring problems (每月一题, docs/eval.md "Recurring problems"): places
 * where the same category comes back, and categories that rise against
 * their baseline. Both are candidates for a structural fix, not verdicts:
 * a leader looks at the cases and adopts one as a governance topic.
 */
#include "eval/eval.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Cells of 0.001 degrees: about 110 m north-south and 85 m east-west at
 * Beijing, "the same place" at the scale of a street corner. */
#define CELL_DEG 0.001

static int growth(void **v, size_t *cap, size_t n, size_t size)
{
    void *p;

    if (n < *cap)
        return 0;
    p = realloc(*v, (*cap = *cap ? *cap * 2 : 16) * size);
    if (!p)
        return GR_EINTERNAL;
    *v = p;
    return 0;
}

int eval_recurring_places(db_conn *c, const char *unit_col, int64_t unit, int64_t since_ms,
                          int min_times, eval_place **out, size_t *n, gr_err *err)
{
    char sql[1024];
    eval_place *v = NULL;
    size_t cap = 0;
    db_stmt *st;
    int rc;

    *out = NULL;
    *n = 0;
    /* unit_col comes from org_unit_column (a fixed list), never from input.
     * Merged duplicates count: each is the problem reported again. A rework
     * or a 不满意 reopen is the problem coming back after it was "fixed". */
    snprintf(sql, sizeof(sql),
             "SELECT category_id, CAST((lat + 90) / %g AS INTEGER) AS r, "
             "CAST((lon + 180) / %g AS INTEGER) AS k, count(*), "
             "total(reworks + reviewed), avg(lat), avg(lon), min(created_at), max(created_at), "
             "group_concat(id) FROM cases WHERE %s = ?1 AND created_at >= ?2 AND lat IS NOT NULL "
             "AND category_id IS NOT NULL GROUP BY 1, 2, 3 "
             "HAVING count(*) + total(reworks + reviewed) >= ?3 "
             "ORDER BY count(*) + total(reworks + reviewed) DESC, 1 LIMIT 200",
             CELL_DEG, CELL_DEG, unit_col);
    st = db_prepare(c, sql, err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, unit);
    db_bind_int(st, 2, since_ms);
    db_bind_int(st, 3, min_times);
    while ((rc = db_step(st, err)) == DB_ROW) {
        eval_place *p;
        const char *ids = db_col_text(st, 9);
        if (growth((void **)&v, &cap, *n, sizeof(*v))) {
            rc = err_set(err, GR_EINTERNAL, "", "out of memory");
            break;
        }
        p = &v[(*n)++];
        memset(p, 0, sizeof(*p));
        p->category_id = db_col_int(st, 0);
        p->reports = db_col_int(st, 3);
        p->reopened = (int64_t)db_col_double(st, 4);
        p->lat = db_col_double(st, 5);
        p->lon = db_col_double(st, 6);
        p->first_at = db_col_int(st, 7);
        p->last_at = db_col_int(st, 8);
        /* The first EVAL_PLACE_CASES ids, in the order the group met them. */
        while (ids && *ids && p->ncases < EVAL_PLACE_CASES) {
            p->cases[p->ncases++] = strtoll(ids, NULL, 10);
            ids = strchr(ids, ',');
            ids = ids ? ids + 1 : NULL;
        }
    }
    db_done(st);
    if (rc < 0) {
        free(v);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}

double eval_poisson_tail(int64_t k, double lambda)
{
    double term, sum = 0;
    int64_t i;

    if (k <= 0)
        return 1;
    if (lambda <= 0)
        return 0;
    /* 1 - P(X < k), the terms summed in logs (lambda may be thousands). */
    for (i = 0; i < k; i++) {
        term = exp((double)i * log(lambda) - lambda - lgamma((double)i + 1));
        sum += term;
    }
    return sum >= 1 ? 0 : 1 - sum;
}

int64_t eval_day_add(int64_t ymd, int64_t days)
{
    struct tm tm = {0};
    time_t t;

    tm.tm_year = (int)(ymd / 10000) - 1900;
    tm.tm_mon = (int)(ymd / 100 % 100) - 1;
    tm.tm_mday = (int)(ymd % 100);
    tm.tm_hour = 12;
    t = timegm(&tm) + (time_t)days * 86400;
    gmtime_r(&t, &tm);
    return (int64_t)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

/* Reports of each category of the unit over from..to (days), into counts
 * (category id, count) sorted by category. */
static int category_counts(db_conn *c, const char *unit_col, int64_t unit, int64_t from, int64_t to,
                           int64_t **ids, int64_t **counts, size_t *n, gr_err *err)
{
    char sql[512];
    size_t cap = 0, cap2 = 0;
    db_stmt *st;
    int rc;

    *n = 0;
    *ids = *counts = NULL;
    snprintf(sql, sizeof(sql),
             "SELECT category_id, count(*) FROM eval_facts WHERE day BETWEEN ?1 AND ?2 AND %s = "
             "?3 AND category_id IS NOT NULL GROUP BY 1 ORDER BY 1",
             unit_col);
    st = db_prepare(c, sql, err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, from);
    db_bind_int(st, 2, to);
    db_bind_int(st, 3, unit);
    while ((rc = db_step(st, err)) == DB_ROW) {
        if (growth((void **)ids, &cap, *n, sizeof(**ids)) ||
            growth((void **)counts, &cap2, *n, sizeof(**counts))) {
            rc = err_set(err, GR_EINTERNAL, "", "out of memory");
            break;
        }
        (*ids)[*n] = db_col_int(st, 0);
        (*counts)[(*n)++] = db_col_int(st, 1);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

static int64_t count_of(const int64_t *ids, const int64_t *counts, size_t n, int64_t id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (ids[i] == id)
            return counts[i];
    return 0;
}

int eval_rising_categories(db_conn *c, const char *unit_col, int64_t unit, int64_t today,
                           const eval_trend_rule *rule, eval_trend **out, size_t *n, gr_err *err)
{
    int64_t from = eval_day_add(today, -(rule->window_days - 1)), *ids = NULL, *counts = NULL;
    int64_t *bids[EVAL_MAX_BASELINES] = {0}, *bcounts[EVAL_MAX_BASELINES] = {0};
    size_t nb[EVAL_MAX_BASELINES] = {0}, nids = 0, cap = 0, i;
    int nbase = 0, seasonal = 0, k, rc;
    eval_trend *v = NULL;

    *out = NULL;
    *n = 0;
    rc = category_counts(c, unit_col, unit, from, today, &ids, &counts, &nids, err);
    /* The seasonal baseline: the same window in each earlier year with
     * facts; without a year of history, the windows just before. */
    for (k = 1; !rc && k <= EVAL_MAX_BASELINES; k++) {
        int64_t y0 = from - (int64_t)k * 10000, y1 = today - (int64_t)k * 10000, any = 0;
        rc = db_query_int(c, "SELECT EXISTS (SELECT 1 FROM eval_facts WHERE day <= ?)", y0, 0, &any,
                          err);
        if (rc || !any)
            break;
        rc = category_counts(c, unit_col, unit, y0, y1, &bids[nbase], &bcounts[nbase], &nb[nbase],
                             err);
        nbase++;
        seasonal = 1;
    }
    for (k = 0; !rc && !seasonal && k < EVAL_MAX_BASELINES; k++) {
        int64_t b1 = eval_day_add(from, -1 - (int64_t)k * rule->window_days);
        int64_t b0 = eval_day_add(b1, -(rule->window_days - 1)), any = 0;
        rc = db_query_int(c, "SELECT EXISTS (SELECT 1 FROM eval_facts WHERE day <= ?)", b0, 0, &any,
                          err);
        if (rc || !any)
            break;
        rc = category_counts(c, unit_col, unit, b0, b1, &bids[nbase], &bcounts[nbase], &nb[nbase],
                             err);
        nbase++;
    }
    for (i = 0; !rc && nbase && i < nids; i++) {
        double base = 0, p;
        eval_trend *t;
        for (k = 0; k < nbase; k++)
            base += (double)count_of(bids[k], bcounts[k], nb[k], ids[i]);
        base /= nbase;
        /* A floor under the baseline: a category never seen before is not
         * an alarm for one or two reports. */
        p = eval_poisson_tail(counts[i], fmax(base, 0.5));
        if (counts[i] < rule->min_count || (double)counts[i] < rule->min_ratio * base ||
            p >= rule->max_p)
            continue;
        if (growth((void **)&v, &cap, *n, sizeof(*v))) {
            rc = err_set(err, GR_EINTERNAL, "", "out of memory");
            break;
        }
        t = &v[(*n)++];
        t->category_id = ids[i];
        t->recent = counts[i];
        t->baseline = base;
        t->p = p;
        t->seasonal = seasonal;
        t->windows = nbase;
    }
    for (k = 0; k < EVAL_MAX_BASELINES; k++) {
        free(bids[k]);
        free(bcounts[k]);
    }
    free(ids);
    free(counts);
    if (rc) {
        free(v);
        *n = 0;
        return rc;
    }
    *out = v;
    return 0;
}
