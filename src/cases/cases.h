/*
 * Cases (诉求/案件): one record from every channel, routed by place and
 * category, moved through the closed loop by a transition table, with
 * deadlines per step, duplicates, and the resident's side. See docs/cases.md.
 *
 * This header is the module's interface for the rest of the program (the
 * HTTP routes, the Open311 endpoint, work lists, evaluation): intake, reads,
 * lists by filters, and transitions. Everything that writes runs inside one
 * db_write, so a case, its timeline, its step rows, its media links and its
 * notifications commit together or not at all.
 *
 * Strings in the structs below belong to the arena given to the call that
 * filled them.
 */
#ifndef GR_CASES_CASES_H
#define GR_CASES_CASES_H

#include "geo/coord.h"
#include "http/http.h"

/* The states of a case (their names are stored and shown). */
typedef enum {
    CS_REPORTED = 0, /* 上报 */
    CS_ACCEPTED,     /* 受理 */
    CS_REJECTED,     /* 不受理 (final) */
    CS_FILED,        /* 立案 */
    CS_DISPATCHED,   /* 派遣: the handling clock runs */
    CS_SIGNED,       /* 签收 */
    CS_REWORK,       /* 返工: verification failed, the department handles again */
    CS_HANDLED,      /* 处置 */
    CS_RETURNED,     /* 退单: the department gave it back, the dispatcher decides */
    CS_DISPUTED,     /* 争议: the shift leader decides (会商) */
    CS_BACKLOG,      /* 挂账 */
    CS_VERIFIED,     /* 核查 passed, or the reporter confirmed */
    CS_CLOSED,       /* 结案 */
    CS_REVIEW,       /* 不满意: back to the dispatcher, once */
    CS_CANCELLED,    /* 作废 (final) */
    CS_MERGED,       /* merged into another case (final) */
    CS_NSTATES
} case_state;

const char *case_state_name(case_state s);
/* The state named s, or -1. */
int case_state_parse(const char *s);
/* 1 for the states after which nothing happens (rejected, cancelled, merged). */
int case_state_final(case_state s);
/* 1 for the states of a live loop: neither final nor closed. */
int case_state_open(case_state s);

/* Who acts: a person with a role, or the system (user_id 0, role "system"). */
typedef struct case_actor {
    int64_t user_id;       /* 0: anonymous, or the system */
    const char *role;      /* a policy role, "anonymous" or "system" */
    int64_t scope_org_id;  /* staff: the root of their subtree */
    int64_t department_id; /* department_staff: their department */
    int64_t token_id;      /* an API token (machines): the "sensor" channel */
} case_actor;

void case_actor_from(const http_principal *who, case_actor *out);

/* ---- the module's context (the scheduler thread) ---- */

int cases_ctx_open(gr_ctx *ctx, gr_err *err);
/* Stops the scheduler if it runs; safe on a zeroed context. */
void cases_ctx_close(gr_ctx *ctx);
void cases_api_register(http_router *r);

/* The deadline scheduler (serve only): every GR_SCHED_INTERVAL_MS (default
 * 30000) flags overdue steps (cases_sched_run_once). Stop finishes the round
 * in flight. */
int cases_sched_start(gr_ctx *ctx, gr_err *err);
void cases_sched_stop(gr_ctx *ctx);
/* One round at now_ms: every running step due before now_ms and not yet
 * flagged is marked overdue, gets a 'supervise' event by the system and a
 * "case.overdue" notification. *flagged (may be NULL): how many. */
int cases_sched_run_once(gr_ctx *ctx, int64_t now_ms, int *flagged, gr_err *err);

/* The demo cases and routing rules (after the org and catalog demos), once. */
int cases_demo_load(gr_ctx *ctx, gr_err *err);

/* ---- intake ---- */

enum {
    CASE_TITLE_MAX = 100,
    CASE_TEXT_MAX = 4000,
    CASE_ADDRESS_MAX = 200,
    CASE_NOTE_MAX = 2000,
    CASE_COMMENT_MAX = 500 /* a rating's comment */
};
enum { CASE_MEDIA_MAX = 9 };

typedef struct case_input {
    /* "web", "inspector", "hotline", "counter", "open311", "sensor"; NULL: the
     * channel follows from the actor (case_channel_for). */
    const char *channel;
    int64_t category_id; /* 0: not classified yet (residents may leave it) */
    const char *title;
    const char *description;
    int has_point;
    double lat, lon; /* in crs; stored as WGS-84 */
    geo_crs crs;
    const char *address; /* or NULL; alone only for hotline and counter */
    const char *contact; /* an 11-digit mainland mobile, or NULL */
    int anonymous, is_public, urgent;
    char area_class;      /* 'A', 'B', 'C'; 0: 'B' */
    const int64_t *media; /* media ids (uploaded by the same caller) */
    size_t nmedia;
    int64_t duplicate_of; /* the reporter says it is this open case: joins it */
} case_input;

/* The channel a case from who gets: an API token "sensor", a grid inspector
 * "inspector", an acceptor the requested "hotline" or "counter", everyone else
 * "web". GR_EINVAL (field "channel") when the request does not fit. */
int case_channel_for(const case_actor *who, const char *requested, const char **channel,
                     gr_err *err);

/* Validates in, routes it, seals the contact and writes the case, its first
 * events (trusted channels: accepted and filed by the system), its first step
 * and its media links. Errors name the field: category_id, lat, lon, crs,
 * address, contact, title, description, media, duplicate_of. */
int case_create(gr_ctx *ctx, const case_actor *who, const case_input *in, int64_t *id, gr_err *err);

/* ---- reads ---- */

typedef struct case_rec {
    int64_t id;
    const char *public_code;
    const char *channel;
    int64_t category_id; /* 0: none yet */
    const char *title;
    const char *description;
    int has_point;
    double lat, lon; /* WGS-84 */
    const char *address;
    int64_t city_id, district_id, street_id, community_id, grid_id;
    int64_t first_unit_id;
    int64_t department_id;  /* 0: none */
    int64_t handler_org_id; /* 0: none */
    case_state state;
    int64_t version;
    int64_t reporter_user_id; /* 0: anonymous or entered by staff */
    int64_t entered_by;
    const char *contact_hint; /* NULL: no contact */
    int anonymous, is_public, urgent;
    char area_class;
    int64_t merged_into;
    const char *step; /* NULL: no step runs */
    int64_t step_due_at;
    int returns, reworks, reviewed;
    const char *rating; /* NULL until rated */
    const char *rating_comment;
    int64_t ext_until; /* a pending extension request, or 0 */
    int64_t created_at, updated_at, closed_at;
} case_rec;

/* The unit a case belongs to for scope checks: its grid, else the most
 * specific unit of its chain. */
int64_t case_scope_unit(const case_rec *r);

/* Whether org unit root holds case r. A root that is a unit of the case's
 * own chain is decided from the row, without a read (a duplicate check
 * judges twenty cases at every intake); a root above the chain's levels
 * asks the org tree. */
int case_within(db_conn *c, const case_rec *r, int64_t root);

int case_get(db_conn *c, arena *a, int64_t id, case_rec *out, gr_err *err);
int case_get_code(db_conn *c, arena *a, const char *public_code, case_rec *out, gr_err *err);
/* The reporter's full contact, for roles that call back (acceptor,
 * shift_leader); *out NULL when the case has none. */
int case_contact(gr_ctx *ctx, db_conn *c, arena *a, int64_t id, const char **out, gr_err *err);
/* 1 when user_id reported the case or a case merged into it. */
int case_is_reporter(db_conn *c, int64_t case_id, int64_t user_id);

typedef struct case_event {
    int64_t id;
    int64_t at;
    int64_t actor_user_id; /* 0: the system or anonymous */
    const char *actor_role;
    const char *action;
    const char *from_state; /* NULL for the report */
    const char *to_state;
    const char *note;
    const char *data;  /* JSON object text or NULL */
    const char *media; /* JSON array text or NULL */
} case_event;

int case_timeline(db_conn *c, arena *a, int64_t id, case_event **out, size_t *n, gr_err *err);

/* case_create, and the case as the write left it, for an answer that need
 * not read it back: *r the row (strings from a) and ev[0..*nev) its
 * timeline. *nev = 0 when the write did more than intake's own events (a
 * report's media linked, a merge into duplicate_of): the caller reads the
 * case back then. */
int case_create_written(gr_ctx *ctx, const case_actor *who, const case_input *in, arena *a,
                        case_rec *r, case_event **ev, size_t *nev, gr_err *err);

typedef struct case_filter {
    int64_t scope;       /* cases whose unit chain contains this unit; 0: any */
    int64_t reporter;    /* cases this user reported (merged ones included); 0: any */
    int64_t department;  /* 0: any */
    int state;           /* -1: any */
    int64_t category_id; /* 0: any */
    const char *q;       /* full text over title and description (3+ characters) */
    int public_only;
    int64_t after, limit; /* id cursor, descending ids when desc */
    int desc;
    int64_t created_from, created_to; /* [from, to) epoch ms on created_at; 0: open-ended */
    uint32_t states; /* bit mask (1u << case_state); 0: any; combined with `state` when both set */
    int overdue;     /* 1: only cases whose running step is past due */
    int has_box;
    double min_lat, min_lon, max_lat, max_lon; /* WGS-84 box */
    int has_radius;
    double near_lat, near_lon, radius_m; /* WGS-84 circle */
    const char *sort; /* NULL/"created" (id order), "due" (step_due_at, then id), "updated" */
    /* Work lists (case_lists.c). territorial: only cases no department handles
     * (department_id NULL), for department_staff without a department. */
    int territorial;
    /* The keyset of sort "due" (ascending, cases without a due time last)
     * and "updated" (newest first): the last row of the previous page.
     * after_id 0: the first page; after_key_null: that row had no due time. */
    int64_t after_id, after_key;
    int after_key_null;
    int64_t now; /* the "now" of overdue; 0: the clock */
} case_filter;

/* Cases in the order of f->sort (id order, newest first with desc); *more
 * says whether another page follows. GR_EINVAL naming the field for q shorter
 * than 3 characters, an unknown sort, a reversed date range, a bad box or
 * radius. */
int case_list(db_conn *c, arena *a, const case_filter *f, case_rec **out, size_t *n, int *more,
              gr_err *err);

/* How many cases match f in each state (f's state, states, cursor and limit
 * are ignored): the work-queue badges. */
int case_count_by_state(db_conn *c, const case_filter *f, int64_t counts[CS_NSTATES], gr_err *err);

/* The sort key of r under f->sort (for the next page's after_key): its due
 * time (0 when none) for "due", updated_at for "updated", its id otherwise. */
int64_t case_sort_key(const case_filter *f, const case_rec *r);

/* One change of a public case, for the update feeds (FixMyStreet, Open311). */
typedef struct case_update {
    int64_t event_id;
    int64_t case_id;
    const char *public_code;
    int64_t at;
    const char *action;
    const char *to_state;
    const char *note; /* always NULL: notes are free text (see docs/cases.md) */
    int is_public;    /* always 1: only public cases are listed */
} case_update;

/* Timeline events of public cases with at in [from, to) (to 0: open-ended),
 * oldest first, after event id `after`, at most limit: the report and every
 * change of state, as the public page shows them. No personal data. */
int case_updates_list(db_conn *c, arena *a, int64_t from, int64_t to, int64_t after, int64_t limit,
                      case_update **out, size_t *n, int *more, gr_err *err);

typedef struct case_nearby {
    case_rec rec;
    double distance_m;
} case_nearby;

enum { CASE_DUP_RADIUS_M = 250, CASE_DUP_DAYS = 7, CASE_DUP_MAX = 20 };

/* Open cases created after now - 7 days within 250 m of the WGS-84 point
 * (of category_id when not 0, excluding case exclude), nearest first. */
int case_find_nearby(db_conn *c, arena *a, double lat, double lon, int64_t category_id,
                     int64_t exclude, int64_t now, case_nearby **out, size_t *n, gr_err *err);

/* ---- transitions ---- */

/* The actions, one per route POST /api/v1/cases/{id}/<action>. */
extern const char *const case_actions[];
extern const size_t case_nactions;

typedef struct case_action_input {
    const char *action;
    int64_t version; /* the version the caller saw */
    const char *note;
    const int64_t *media;
    size_t nmedia;
    int64_t department_id; /* dispatch, decide, review: 0 = the routed one */
    int64_t into;          /* merge */
    int passed;            /* verify */
    const char *decision;  /* review: "redispatch" | "close" */
    const char *rating;    /* rate: satisfied | basically_satisfied | unsatisfied */
    int resolved;          /* rate: 1 solved, -1 not solved, 0 not said */
    int64_t until;         /* extend: the due time asked for */
    /* Classification by the acceptor (accept, file): 0/-1/NULL = unchanged. */
    int64_t category_id;
    int has_point;
    double lat, lon; /* WGS-84 */
    const char *address;
    int urgent;      /* -1: unchanged */
    char area_class; /* 0: unchanged */
} case_action_input;

typedef struct case_result {
    int64_t version; /* after the transition, or the current one on a conflict */
    case_state state;
    /* On an illegal transition (GR_ECONFLICT): the actions this role may take now. */
    const char *allowed[32];
    size_t nallowed;
} case_result;

/* The actions role may take on a case in state s (data rules aside), in
 * table order; returns how many were written to out (at most max). */
size_t case_allowed(const char *role, case_state s, const char **out, size_t max);

/* Applies in->action to case id as who. GR_ENOTFOUND for an unknown case or
 * action, GR_EFORBIDDEN when a data rule excludes who (another department, not
 * the reporter, outside the scope), GR_ECONFLICT for a stale version or an
 * action the current state does not allow (out->allowed names what is
 * possible), GR_EINVAL naming the field for bad input. Nothing changes on error. */
int case_transition(gr_ctx *ctx, const case_actor *who, int64_t id, const case_action_input *in,
                    case_result *out, gr_err *err);

#endif
