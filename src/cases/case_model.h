/*
 * Private to src/cases: what the files of the module share. Other modules
 * use cases.h only.
 *
 *   case_model.c  rows, intake, reads, reporters, media links, notifications
 *   case_flow.c   the transition table and case_transition
 *   case_route.c  place -> units, category + place -> department
 *   case_sched.c  steps, due times, the overdue scheduler
 *   case_api.c    HTTP <-> the calls above
 *   case_lists.c  work lists: filters, keyset pages, counts, the update feed, CSV
 *   case_lists_api.c  the work-list routes
 *   case_demo.c   the demo rules and cases
 */
#ifndef GR_CASES_CASE_MODEL_H
#define GR_CASES_CASE_MODEL_H

#include "cases/cases.h"
#include "catalog/catalog.h"

#include <jansson.h>
#include <stdio.h>

/* Additional data binding a sealed contact to its column. */
#define CASE_CONTACT_AD "cases.contact"

/* ---- rows (case_model.c) ---- */

/* The columns case_row_read reads, in its order. */
#define CASE_COLS                                                                                  \
    "id, public_code, channel, category_id, title, description, lat, lon, address, city_id, "      \
    "district_id, street_id, community_id, grid_id, first_unit_id, department_id, "                \
    "handler_org_id, state, version, reporter_user_id, entered_by, contact_hint, anonymous, "      \
    "is_public, urgent, area_class, merged_into, step, step_due_at, returns, reworks, reviewed, "  \
    "rating, rating_comment, ext_until, created_at, updated_at, closed_at"

/* Fills r from a row of "SELECT " CASE_COLS (strings copied to a). */
/* A db_row_reader filling a case_rec. */
void case_row_read(db_stmt *st, arena *a, void *out);

/* Writes every mutable column of r back to its row (inside a write). */
int case_row_save(db_conn *c, const case_rec *r, gr_err *err);

/* The cells of the cases_near index (migration 0010): near_cell is
 * row * CASE_CELL_ROW + column, rows and columns of CASE_CELL_DEG degrees
 * counted from -90 and -180. */
#define CASE_CELL_DEG 0.0025
#define CASE_CELL_ROW 1000000
typedef struct case_cell_span {
    int64_t r0, r1; /* the rows of cells, inclusive */
    int64_t c0, c1; /* the columns, inclusive */
} case_cell_span;

/* The cells that cover a box (clamped to the globe). */
void case_cell_span_of(double min_lat, double max_lat, double min_lon, double max_lon,
                       case_cell_span *out);

/* One event of the timeline, inside a write. data (may be NULL) is not stolen. */
typedef struct case_event_new {
    int64_t case_id;
    int64_t at;
    const case_actor *who;
    const char *action;
    int from_state; /* -1: none (the report) */
    int to_state;
    const char *note;
    json_t *data;
    const int64_t *media;
    size_t nmedia;
} case_event_new;

int case_event_add(db_conn *c, const case_event_new *e, gr_err *err);

/* Links media to case r (inside a write): each must exist, be unlinked and
 * have been uploaded by uploader (0: anonymously). GR_EINVAL naming "media". */
int case_media_link(db_conn *c, const case_rec *r, const int64_t *media, size_t n, int is_public,
                    int64_t uploader, gr_err *err);

/* Tells the outside of a change (inside a write): the webhook event type
 * (payload without personal data) and, when notice_text is not NULL, an
 * in-app notice to every signed-in reporter of r. */
int case_notify(db_conn *c, const case_rec *r, const char *type, const char *action,
                const char *notice_text, gr_err *err);

/* Adds a reporter row (inside a write). */
int case_reporter_add(db_conn *c, int64_t case_id, int64_t source_case_id, int64_t user_id,
                      const unsigned char *contact_enc, size_t enc_len, const char *hint,
                      int64_t now, gr_err *err);
/* Moves every reporter of case from to case into (a merge). */
int case_reporters_move(db_conn *c, int64_t from, int64_t into, int64_t now, gr_err *err);

/* Department staff see and act on their department's cases only and, without
 * a department, on the territorial ones (no department_id), as their work
 * lists do: GR_EFORBIDDEN otherwise. 0 for every other role (their scope is
 * checked apart). */
int case_department_check(const case_actor *who, const case_rec *r, gr_err *err);

/* Whether the media ids are well-formed (positive, no repeats, at most CASE_MEDIA_MAX). */
int case_media_check(const int64_t *media, size_t n, gr_err *err);

/* ---- routing (case_route.c) ---- */

/* The unit chain (case_rec's city .. grid ids) of a WGS-84 point; GR_EINVAL
 * naming "lat" when the point is outside every grid. */
int case_locate(gr_ctx *ctx, db_conn *c, double lat, double lon, case_rec *r, gr_err *err);
/* The unit chain of the unit itself (a case without a place: its first unit). */
int case_locate_unit(db_conn *c, int64_t unit, case_rec *r, gr_err *err);
/* A category cases may be filed under (an active leaf); GR_EINVAL naming
 * "category_id" otherwise. */
int case_category_check(db_conn *c, arena *a, int64_t id, cat_info *out, gr_err *err);
/* Sets r->department_id and r->handler_org_id from the routing rules, the
 * category's default department, or the territorial street. */
int case_route(db_conn *c, arena *a, case_rec *r, gr_err *err);
/* Adds or replaces a routing rule (inside a write). */
int case_rule_put(db_conn *c, int64_t category_id, int64_t org_id, int64_t department_id,
                  int64_t now, gr_err *err);

typedef struct case_rule {
    int64_t id, category_id, org_id, department_id, created_at;
} case_rule;

/* Whether a rule may exist: the category and the unit exist, and the
 * department serves the unit (its own unit is the rule's unit or above it).
 * GR_EINVAL naming category_id, org_id or department_id otherwise. */
int case_rule_check(db_conn *c, arena *a, int64_t category_id, int64_t org_id,
                    int64_t department_id, gr_err *err);
int case_rule_get(db_conn *c, int64_t id, case_rule *out, gr_err *err);
/* The rules whose unit lies in the subtree of scope (0: all), of category
 * category_id (0: any), ids above after, at most limit; *more when another
 * page follows. */
int case_rule_list(db_conn *c, arena *a, int64_t scope, int64_t category_id, int64_t after,
                   int64_t limit, case_rule **out, size_t *n, int *more, gr_err *err);
/* Inside a write: GR_ENOTFOUND when there is no such rule. */
int case_rule_delete(db_conn *c, int64_t id, gr_err *err);

/* ---- steps and deadlines (case_sched.c) ---- */

/* The step that runs while a case is in state s, or NULL. */
const char *case_step_of(case_state s);
/* Ends the running step of r at now (time spent, overdue) and, when
 * r->state has a step, starts it with its due time: r->step and
 * r->step_due_at follow. restart: a new step row even when the step name
 * stays (rework, re-dispatch). Inside a write. */
int case_step_move(gr_ctx *ctx, db_conn *c, case_rec *r, int64_t now, int restart, gr_err *err);
/* Sets r->step and r->step_due_at for r->state entered at now, reading
 * only (the calendar and the category's limits): intake plans a new case's
 * step before its write. */
int case_step_plan(gr_ctx *ctx, db_conn *c, case_rec *r, int64_t now, gr_err *err);
/* Adds the row of r's running step (r->step, r->step_due_at) from now;
 * inside a write. */
int case_step_start(db_conn *c, const case_rec *r, int64_t now, gr_err *err);
/* Moves the due time of the running step (an approved extension). */
int case_step_extend(db_conn *c, case_rec *r, int64_t due, gr_err *err);

/* ---- the flow (case_flow.c) ---- */

/* Merges src into the case into (inside a write, src already loaded):
 * checks into, moves the reporters, writes both events. */
int case_merge_apply(gr_ctx *ctx, db_conn *c, case_rec *src, int64_t into, const case_actor *who,
                     const char *note, int64_t now, gr_err *err);

/* ---- work lists (case_lists.c) ---- */

/* Writes the cases matching f (in f's order, from its cursor) to out as CSV:
 * a UTF-8 BOM, a header row, then one row per case, fetched a page at a
 * time; at most max_rows rows (*truncated 1 when more matched). No contact,
 * no description (docs/cases.md, "Work lists"). */
int case_export_csv(db_conn *c, const case_filter *f, int64_t max_rows, FILE *out, int64_t *rows,
                    int *truncated, gr_err *err);

/* The statement case_list runs for f (for tests of its query plan). */
int case_list_sql(db_conn *c, arena *a, const case_filter *f, const char **sql, gr_err *err);

/* Shared by the route files (case_api.c): the reader connection
 * (GR_EUNAVAIL in req->err when there is none). */
db_conn *case_reader(http_req *req);

/* The work-list routes (case_lists_api.c), registered by cases_api_register. */
void case_lists_api_register(http_router *r);
void case_rules_api_register(http_router *r);

/* ---- small shared helpers ---- */

/* A JSON array of the ids (for events and output). */
json_t *case_ids_json(const int64_t *ids, size_t n);
/* Local (Asia/Shanghai) calendar date of ms as YYMMDD. */
void case_local_yymmdd(int64_t ms, char out[8]);

#endif
