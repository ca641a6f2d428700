/*
 * What the evaluation's routes share (private to src/eval): today's local
 * date, periods and months from the query, the unit asked for.
 */
#ifndef GR_EVAL_EVAL_HTTP_H
#define GR_EVAL_EVAL_HTTP_H

#include "eval/eval.h"

/* The unit asked for: unit_id (an org unit, kind 0), department_id (kind
 * 1), user_id (a post, kind 2), or the caller's own unit; always inside the
 * caller's subtree. */
typedef struct eval_target {
    int kind;
    int64_t id;
    const char *col; /* the column of cases and eval_facts that holds it; NULL for a post */
    const char *name;
} eval_target;

/* Today's local (Asia/Shanghai) date as YYYYMMDD. */
int64_t eval_today(void);
int eval_days_in_month(int y, int m);
/* A strict "YYYY-MM" as YYYYMM; GR_EINVAL otherwise. */
int eval_month_parse(const char *s, int *out);
/* from..to (YYYYMMDD) from the query: this month up to today unless given;
 * 400 naming the field for a bad date or to before from. */
int eval_period_arg(http_req *req, int64_t *from, int64_t *to);
/* unit_id or department_id from the query, or the caller's unit: 400 for
 * an unknown one, 403 outside the caller's subtree. */
int eval_target_arg(http_req *req, db_conn *c, eval_target *t);
json_t *eval_target_json(const eval_target *t);
json_t *eval_day_json(int64_t day);
json_t *eval_month_json(int64_t month);
/* A number, or null when has is 0. */
json_t *eval_number_or_null(int has, double v);

/* Steps st (its first column the id) and sends its rows made by row as a
 * page of at most limit items (st was asked for limit + 1); finishes st. */
int eval_send_rows(http_req *req, db_stmt *st, int64_t limit, json_t *(*row)(db_stmt *st));

#endif
