/*
 * The category catalogue (categories are data): a versioned tree of 部件
 * components and 事件 events (2-digit major + 2-digit minor, GB/T 30428.2
 * shape) plus the 12345 demand types (咨询 求助 投诉 举报 建议). Each minor
 * class carries its filing and closing conditions, a default department and
 * the time limit of every step, which may differ by area class (A 核心区,
 * B 一般区, C) and urgency. Also the working-day calendar the limits run on.
 */
#ifndef GR_CATALOG_CATALOG_H
#define GR_CATALOG_CATALOG_H

#include "base/calendar.h"
#include "http/http.h"

typedef enum {
    CAT_STEP_ACCEPT = 0,
    CAT_STEP_FILE,
    CAT_STEP_DISPATCH,
    CAT_STEP_HANDLE,
    CAT_STEP_VERIFY,
    CAT_NSTEPS
} cat_step;

typedef struct cat_info {
    int64_t id;
    const char *code; /* "C0101" component, "E0110" event, "D01" demand ... */
    const char *name;
    const char *kind;              /* "component" | "event" | "demand" */
    int64_t parent_id;             /* the major class; 0 for a root */
    int is_leaf;                   /* a minor class: cases are filed under leaves only */
    int64_t default_department_id; /* 0 when none */
    const char *filing_condition;
    const char *closing_condition;
    int active;
    int64_t version;
} cat_info;

typedef struct cat_limit {
    int64_t amount;
    cal_unit unit;
} cat_limit;

int catalog_ctx_open(gr_ctx *ctx, gr_err *err);
void catalog_ctx_close(gr_ctx *ctx);
void catalog_api_register(http_router *r);

/* Lookups (strings in a). GR_ENOTFOUND when absent. */
int catalog_get(db_conn *c, arena *a, int64_t id, cat_info *out, gr_err *err);
int catalog_find_code(db_conn *c, arena *a, const char *code, cat_info *out, gr_err *err);
/* A category a case may be filed under: an active leaf (a minor class or a
 * demand type). GR_EINVAL naming field (e.g. "category_id") with the reason
 * when it is unknown, a major class or retired. */
int catalog_check_filable(db_conn *c, arena *a, int64_t id, const char *field, cat_info *out,
                          gr_err *err);
/* The limit of a step for a category, area class ('A','B','C') and urgency;
 * falls back to the category's general limit, then to its major class. */
int catalog_limit(db_conn *c, int64_t category_id, cat_step step, char area_class, int urgent,
                  cat_limit *out, gr_err *err);
/* start + the step's limit on the deployment's calendar. */
int catalog_due(gr_ctx *ctx, db_conn *c, int64_t category_id, cat_step step, char area_class,
                int urgent, int64_t start_ms, int64_t *due_ms, gr_err *err);
/* Working time between two instants on the deployment's calendar. */
int64_t catalog_working_ms(gr_ctx *ctx, int64_t from_ms, int64_t to_ms);
const char *catalog_step_name(cat_step step);

/* The demo catalogue (≥ 40 minor classes with realistic limits), once. */
int catalog_demo_load(gr_ctx *ctx, gr_err *err);

/* grassroots import calendar FILE (CSV: date,kind,name) */
extern const char catalog_cli_calendar_help[];
int catalog_cli_calendar(gr_ctx *ctx, int argc, char **argv);

#endif
