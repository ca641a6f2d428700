/*
 * The state machine of a case. One table (flow_table) says, for every
 * action, the states it may start from, the state it leads to and the check
 * of its data rules; case_transition runs it inside one write: load the
 * case, who may (403), which version (409), from which state (409 naming
 * what is allowed now), the action's own rules, then the row, the step
 * clock, the event, the media and the notifications, together.
 */
#include "cases/case_model.h"

#include "auth/policy.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "media/media.h"
#include "org/org.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define S(x) (1u << (x))
/* Where the loop is alive and may be cancelled, supervised or added to. */
#define S_OPEN                                                                                     \
    (S(CS_REPORTED) | S(CS_ACCEPTED) | S(CS_FILED) | S(CS_DISPATCHED) | S(CS_SIGNED) |             \
     S(CS_REWORK) | S(CS_HANDLED) | S(CS_RETURNED) | S(CS_DISPUTED) | S(CS_BACKLOG) |              \
     S(CS_VERIFIED) | S(CS_REVIEW))
/* The department has it. */
#define S_AT_DEPT (S(CS_DISPATCHED) | S(CS_SIGNED) | S(CS_REWORK))

/* The check picks the target state (verify, review, rate). */
enum { TO_STAYS = -1, TO_CHECK = -2 };

struct flow {
    gr_ctx *ctx;
    db_conn *c;
    arena *a;
    const case_actor *who;
    const case_action_input *in;
    const struct transition *t;
    case_rec cur, next;
    int64_t now;
    json_t *data; /* the event's data (no personal data) */
    int restart;  /* a new step row even if the step name stays */
    int64_t id;   /* the case */
    int64_t into; /* merge: the case merged into */
    case_result *out;
};

typedef int (*flow_check)(struct flow *f, gr_err *err);

struct transition {
    const char *action;
    unsigned from;
    int to;
    flow_check check;
    int public_media;   /* media of this action follow the case's visibility */
    const char *notice; /* what the reporters are told after the code; NULL: nothing */
};

/* ---- data rules shared by several actions ---- */

static int role_is(const struct flow *f, const char *role)
{
    return strcmp(f->who->role, role) == 0;
}

static int note_required(const struct flow *f, const char *what, gr_err *err)
{
    if (!f->in->note || !f->in->note[0])
        return err_set(err, GR_EINVAL, "note", "is required: %s", what);
    return 0;
}

/* Department staff act only on cases dispatched to their own department, or,
 * for territorial cases (no department), when they belong to no department
 * and their scope covers the handling street. */
static int own_department(struct flow *f, gr_err *err)
{
    const case_rec *r = &f->cur;

    if (r->department_id && r->department_id == f->who->department_id)
        return 0;
    if (!r->department_id && r->handler_org_id && !f->who->department_id &&
        org_is_within(f->c, f->who->scope_org_id, r->handler_org_id))
        return 0;
    return err_set(err, GR_EFORBIDDEN, "", "case %" PRId64 " is not dispatched to your department",
                   r->id);
}

/* Sets the department a dispatch sends the case to: the one asked for, or
 * the routed one; none: the territorial street. */
static int dispatch_target(struct flow *f, gr_err *err)
{
    case_rec *n = &f->next;
    int64_t unit = 0;
    int rc;

    if (f->in->department_id) {
        rc = org_dept_unit(f->c, f->in->department_id, &unit, err);
        if (rc == GR_ENOTFOUND)
            return err_set(err, GR_EINVAL, "department_id", "no department with id %" PRId64,
                           f->in->department_id);
        if (rc)
            return rc;
        /* A department serves its unit's subtree: one elsewhere could never
         * sign it (the case is outside its staff's scope). */
        if (!case_within(f->c, n, unit))
            return err_set(err, GR_EINVAL, "department_id",
                           "department %" PRId64 " does not serve the place of case %" PRId64,
                           f->in->department_id, n->id);
        n->department_id = f->in->department_id;
        n->handler_org_id = 0;
    } else if (!n->department_id && !n->handler_org_id) {
        rc = case_route(f->c, f->a, n, err);
        if (rc)
            return rc;
    }
    if (!n->department_id && !n->handler_org_id)
        return err_set(err, GR_EINVAL, "department_id",
                       "is required: the case has no place and no routed department");
    f->restart = 1;
    f->data = n->department_id
                  ? json_pack("{s:I}", "department_id", (json_int_t)n->department_id)
                  : json_pack("{s:I}", "handler_org_id", (json_int_t)n->handler_org_id);
    return 0;
}

/* The acceptor's classification: category, place, urgency, area class. */
static int classify(struct flow *f, gr_err *err)
{
    const case_action_input *in = f->in;
    case_rec *n = &f->next;
    cat_info cat;
    int rc = 0, moved = 0;

    if (in->category_id && in->category_id != n->category_id) {
        rc = case_category_check(f->c, f->a, in->category_id, &cat, err);
        n->category_id = in->category_id;
        moved = 1;
    }
    if (!rc && in->has_point) {
        rc = case_locate(f->ctx, f->c, in->lat, in->lon, n, err);
        n->has_point = 1;
        n->lat = in->lat;
        n->lon = in->lon;
        moved = 1;
    }
    if (in->address)
        n->address = in->address;
    if (in->urgent >= 0)
        n->urgent = in->urgent != 0;
    if (in->area_class)
        n->area_class = in->area_class;
    /* The evidence follows the case to its unit: who may read it is whoever
     * the case's scope now covers. */
    if (!rc && in->has_point)
        rc = media_set_visibility(f->c, "case", n->id, -1, case_scope_unit(n), err);
    if (!rc && moved)
        rc = case_route(f->c, f->a, n, err);
    return rc;
}

/* ---- the actions' own rules ---- */

static int check_none(struct flow *f, gr_err *err)
{
    (void)f;
    (void)err;
    return 0;
}

static int check_accept(struct flow *f, gr_err *err)
{
    return classify(f, err);
}

static int check_reject(struct flow *f, gr_err *err)
{
    return note_required(f, "the reason the case is not accepted", err);
}

static int check_file(struct flow *f, gr_err *err)
{
    int rc = classify(f, err);

    if (!rc && !f->next.category_id)
        rc = err_set(err, GR_EINVAL, "category_id", "is required: classify the case to file it");
    if (!rc && !f->next.has_point)
        rc = err_set(err, GR_EINVAL, "lat", "is required: locate the case (lat, lon) to file it");
    return rc;
}

static int check_dispatch(struct flow *f, gr_err *err)
{
    return dispatch_target(f, err);
}

static int check_decide(struct flow *f, gr_err *err)
{
    int rc = note_required(f, "the decision of the consultation (会商)", err);

    return rc ? rc : dispatch_target(f, err);
}

static int check_dept(struct flow *f, gr_err *err)
{
    return own_department(f, err);
}

static int check_handle(struct flow *f, gr_err *err)
{
    int rc = own_department(f, err);

    return rc ? rc : note_required(f, "what was done (the result)", err);
}

static int check_return(struct flow *f, gr_err *err)
{
    int rc = own_department(f, err);

    if (!rc)
        rc = note_required(f, "why it is not your department's to handle", err);
    if (!rc) {
        f->data =
            json_pack("{s:o}", "department_id",
                      f->cur.department_id ? json_integer(f->cur.department_id) : json_null());
        f->next.returns++;
        f->next.department_id = 0;
        f->next.handler_org_id = 0;
    }
    return rc;
}

static int check_extend(struct flow *f, gr_err *err)
{
    int rc = own_department(f, err);

    if (!rc && f->cur.ext_until)
        return err_set(err, GR_ECONFLICT, "", "an extension request is already pending");
    if (!rc)
        rc = note_required(f, "why more time is needed", err);
    if (!rc && (f->in->until <= f->now || f->in->until <= f->cur.step_due_at))
        rc = err_set(err, GR_EINVAL, "until",
                     "must be later than now and than the current due time");
    if (!rc) {
        f->next.ext_until = f->in->until;
        f->data = json_pack("{s:I}", "until", (json_int_t)f->in->until);
    }
    return rc;
}

static int ext_pending(const struct flow *f, gr_err *err)
{
    if (!f->cur.ext_until)
        return err_set(err, GR_ECONFLICT, "", "no extension request is pending");
    return 0;
}

static int check_approve_ext(struct flow *f, gr_err *err)
{
    int rc = ext_pending(f, err);

    if (!rc) {
        f->data = json_pack("{s:I}", "until", (json_int_t)f->cur.ext_until);
        rc = case_step_extend(f->c, &f->next, f->cur.ext_until, err);
        f->next.ext_until = 0;
    }
    return rc;
}

static int check_deny_ext(struct flow *f, gr_err *err)
{
    int rc = ext_pending(f, err);

    f->next.ext_until = 0;
    return rc;
}

static int check_backlog(struct flow *f, gr_err *err)
{
    f->next.ext_until = 0;
    return note_required(f, "why it cannot be solved in time", err);
}

static int check_unbacklog(struct flow *f, gr_err *err)
{
    (void)err;
    f->restart = 1;
    return 0;
}

static int check_verify(struct flow *f, gr_err *err)
{
    f->data = json_pack("{s:b}", "passed", f->in->passed);
    if (f->in->passed) {
        f->next.state = CS_VERIFIED;
        return 0;
    }
    f->next.state = CS_REWORK;
    f->next.reworks++;
    return note_required(f, "what is still wrong", err);
}

static int check_close(struct flow *f, gr_err *err)
{
    (void)err;
    f->next.closed_at = f->now;
    /* Each closure is rated anew: an earlier rating stays on the timeline. */
    f->next.rating = NULL;
    f->next.rating_comment = NULL;
    return 0;
}

static int check_cancel(struct flow *f, gr_err *err)
{
    f->next.ext_until = 0;
    return note_required(f, "the reason for cancelling (作废)", err);
}

/* The case src may be merged into: another open case, not merged itself. */
static int merge_target(db_conn *c, arena *a, const case_rec *src, int64_t into, case_rec *t,
                        gr_err *err)
{
    int rc;

    if (into == src->id)
        return err_set(err, GR_EINVAL, "into", "a case cannot be merged into itself");
    rc = case_get(c, a, into, t, err);
    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EINVAL, "into", "no case with id %" PRId64, into);
    if (!rc && !case_state_open(t->state))
        rc = err_set(err, GR_EINVAL, "into", "case %" PRId64 " is %s: merge only into an open case",
                     into, case_state_name(t->state));
    return rc;
}

static int check_merge(struct flow *f, gr_err *err)
{
    case_rec t;
    int rc = merge_target(f->c, f->a, &f->cur, f->in->into, &t, err);

    if (!rc) {
        f->next.merged_into = f->in->into;
        f->into = f->in->into;
        f->data = json_pack("{s:I, s:s}", "into", (json_int_t)t.id, "into_code", t.public_code);
    }
    return rc;
}

/* Staff merge only into a case their scope covers: a merge writes on the
 * target (reporters, timeline) and names its code back. */
static int check_merge_staff(struct flow *f, gr_err *err)
{
    case_rec t;
    int rc = check_merge(f, err);

    if (!rc)
        rc = case_get(f->c, f->a, f->into, &t, err);
    if (!rc && !case_within(f->c, &t, f->who->scope_org_id))
        rc = err_set(err, GR_EFORBIDDEN, "into", "case %" PRId64 " is outside your scope", f->into);
    return rc;
}

static int check_supervise(struct flow *f, gr_err *err)
{
    return note_required(f, "the supervision instruction (督办意见)", err);
}

static int check_review(struct flow *f, gr_err *err)
{
    const char *d = f->in->decision;

    if (!d || (strcmp(d, "redispatch") != 0 && strcmp(d, "close") != 0))
        return err_set(err, GR_EINVAL, "decision", "must be redispatch or close");
    if (strcmp(d, "close") == 0) {
        f->next.state = CS_CLOSED;
        f->data = json_pack("{s:s}", "decision", d);
        check_close(f, err);
        return note_required(f, "why the case is closed again", err);
    }
    f->next.state = CS_DISPATCHED;
    return dispatch_target(f, err);
}

static int check_info(struct flow *f, gr_err *err)
{
    if ((!f->in->note || !f->in->note[0]) && !f->in->nmedia)
        return err_set(err, GR_EINVAL, "note", "is required: the information to add (or media)");
    return 0;
}

/* 响应: the department says it reached the reporter (the 12345 response
 * rate counts this, docs/eval.md). */
static int check_respond(struct flow *f, gr_err *err)
{
    int rc = check_dept(f, err);

    return rc ? rc : note_required(f, "how the reporter was reached", err);
}

static int check_rate(struct flow *f, gr_err *err)
{
    const char *r = f->in->rating;

    if (f->cur.rating)
        return err_set(err, GR_ECONFLICT, "", "the case is already rated");
    if (f->in->note && jv_utf8_len(f->in->note) > CASE_COMMENT_MAX)
        return err_set(err, GR_EINVAL, "note", "a rating's comment is at most %d characters",
                       CASE_COMMENT_MAX);
    if (!r || (strcmp(r, "satisfied") != 0 && strcmp(r, "basically_satisfied") != 0 &&
               strcmp(r, "unsatisfied") != 0))
        return err_set(err, GR_EINVAL, "rating",
                       "must be satisfied, basically_satisfied or unsatisfied");
    f->next.rating = r;
    f->next.rating_comment = f->in->note;
    /* 解决: the reporter's own word when given; otherwise anything but
     * unsatisfied counts as solved. */
    f->data = json_pack("{s:s, s:b}", "rating", r, "resolved",
                        f->in->resolved ? f->in->resolved > 0 : strcmp(r, "unsatisfied") != 0);
    /* 不满意 reopens the case for the dispatcher's review, once. */
    if (strcmp(r, "unsatisfied") == 0 && !f->cur.reviewed) {
        f->next.state = CS_REVIEW;
        f->next.reviewed = 1;
        f->next.closed_at = 0;
    }
    return 0;
}

/* The one transition table. Roles are the policy's ("case.<action>"). */
static const struct transition flow_table[] = {
    {"accept", S(CS_REPORTED), CS_ACCEPTED, check_accept, 0, "已受理"},
    {"reject", S(CS_REPORTED), CS_REJECTED, check_reject, 0, "未予受理"},
    {"file", S(CS_ACCEPTED), CS_FILED, check_file, 0, NULL},
    {"dispatch", S(CS_FILED) | S(CS_RETURNED), CS_DISPATCHED, check_dispatch, 0,
     "已派遣至处置单位"},
    {"sign", S(CS_DISPATCHED), CS_SIGNED, check_dept, 0, NULL},
    {"handle", S(CS_SIGNED) | S(CS_REWORK), CS_HANDLED, check_handle, 1, "已处置，待核查"},
    {"return", S(CS_DISPATCHED) | S(CS_SIGNED), CS_RETURNED, check_return, 0, NULL},
    {"escalate", S(CS_RETURNED), CS_DISPUTED, check_none, 0, NULL},
    {"decide", S(CS_DISPUTED), CS_DISPATCHED, check_decide, 0, NULL},
    {"extend", S_AT_DEPT, TO_STAYS, check_extend, 0, NULL},
    {"approve-extension", S_AT_DEPT, TO_STAYS, check_approve_ext, 0, NULL},
    {"deny-extension", S_AT_DEPT, TO_STAYS, check_deny_ext, 0, NULL},
    {"backlog", S(CS_SIGNED) | S(CS_REWORK), CS_BACKLOG, check_backlog, 0, NULL},
    {"unbacklog", S(CS_BACKLOG), CS_SIGNED, check_unbacklog, 0, NULL},
    {"verify", S(CS_HANDLED), TO_CHECK, check_verify, 1, NULL},
    {"confirm", S(CS_HANDLED), CS_VERIFIED, check_none, 1, NULL},
    {"close", S(CS_VERIFIED), CS_CLOSED, check_close, 0, "已办结，欢迎评价"},
    {"cancel", S_OPEN, CS_CANCELLED, check_cancel, 0, "已作废"},
    {"merge", S(CS_REPORTED) | S(CS_ACCEPTED) | S(CS_FILED), CS_MERGED, check_merge_staff, 0,
     "与已有问题合并办理"},
    {"supervise", S_OPEN, TO_STAYS, check_supervise, 0, NULL},
    {"review", S(CS_REVIEW), TO_CHECK, check_review, 0, "已复核"},
    {"info", S_OPEN, TO_STAYS, check_info, 0, NULL},
    {"respond", S_AT_DEPT, TO_STAYS, check_respond, 0, NULL},
    {"rate", S(CS_CLOSED), TO_CHECK, check_rate, 0, NULL},
};
#define NFLOW (sizeof(flow_table) / sizeof(flow_table[0]))

const char *const case_actions[] = {"accept",
                                    "reject",
                                    "file",
                                    "dispatch",
                                    "sign",
                                    "handle",
                                    "return",
                                    "escalate",
                                    "decide",
                                    "extend",
                                    "approve-extension",
                                    "deny-extension",
                                    "backlog",
                                    "unbacklog",
                                    "verify",
                                    "confirm",
                                    "close",
                                    "cancel",
                                    "merge",
                                    "supervise",
                                    "review",
                                    "info",
                                    "respond",
                                    "rate"};
const size_t case_nactions = sizeof(case_actions) / sizeof(case_actions[0]);

_Static_assert(sizeof(case_actions) / sizeof(case_actions[0]) == NFLOW,
               "every transition has its route");

static const struct transition *flow_find(const char *action)
{
    size_t i;

    for (i = 0; action && i < NFLOW; i++)
        if (strcmp(flow_table[i].action, action) == 0)
            return &flow_table[i];
    return NULL;
}

size_t case_allowed(const char *role, case_state s, const char **out, size_t max)
{
    char action[64];
    size_t i, n = 0;

    for (i = 0; i < NFLOW && n < max; i++) {
        if (!(flow_table[i].from & S(s)))
            continue;
        snprintf(action, sizeof(action), "case.%s", flow_table[i].action);
        if (policy_allows(role, action))
            out[n++] = flow_table[i].action;
    }
    return n;
}

/* What a 409 answers with: the actions possible now. */
static void allowed_now(const char *role, case_state s, case_result *out)
{
    out->nallowed =
        case_allowed(role, s, out->allowed, sizeof(out->allowed) / sizeof(out->allowed[0]));
}

/* Who the case lets act, beyond the role: the reporter for residents, the
 * scope for staff (the department on top, in the checks). */
static int who_check(struct flow *f, gr_err *err)
{
    const case_actor *w = f->who;

    if (role_is(f, "system"))
        return 0;
    if (role_is(f, "resident") || role_is(f, "anonymous")) {
        if (case_is_reporter(f->c, f->cur.id, w->user_id))
            return 0;
        return err_set(err, GR_EFORBIDDEN, "", "only the reporter of case %" PRId64 " may do this",
                       f->cur.id);
    }
    if (case_within(f->c, &f->cur, w->scope_org_id))
        return case_department_check(w, &f->cur, err);
    return err_set(err, GR_EFORBIDDEN, "", "case %" PRId64 " is outside your scope", f->cur.id);
}

static int state_check(struct flow *f, gr_err *err)
{
    if (f->in->version != f->cur.version)
        return err_set(err, GR_ECONFLICT, "version",
                       "the case changed since you read it: it is now version %" PRId64,
                       f->cur.version);
    if (!(f->t->from & S(f->cur.state)))
        return err_set(err, GR_ECONFLICT, "", "%s is not possible while the case is %s",
                       f->t->action, case_state_name(f->cur.state));
    return 0;
}

/* Reporters hear of the changes they care about (and the webhooks of all). */
static int flow_notify(struct flow *f, gr_err *err)
{
    const char *type = f->next.state != f->cur.state
                           ? arena_printf(f->a, "case.%s", case_state_name(f->next.state))
                           : arena_printf(f->a, "case.%s", f->t->action);
    const char *text =
        f->t->notice ? arena_printf(f->a, "您反映的问题 %s %s", f->cur.public_code, f->t->notice)
                     : NULL;

    return case_notify(f->c, &f->next, type, f->t->action, text, err);
}

static int flow_event(struct flow *f, gr_err *err)
{
    case_event_new e = {f->cur.id,          f->now,      f->who,  f->t->action, (int)f->cur.state,
                        (int)f->next.state, f->in->note, f->data, f->in->media, f->in->nmedia};

    return case_event_add(f->c, &e, err);
}

/* After a merge: the target gains the reporters and a line on its timeline. */
static int merge_after(struct flow *f, gr_err *err)
{
    case_rec t;
    json_t *d;
    int rc = case_get(f->c, f->a, f->into, &t, err);
    case_event_new e = {f->into,      f->now,      f->who, "merge", (int)t.state,
                        (int)t.state, f->in->note, NULL,   NULL,    0};

    if (rc)
        return rc;
    rc = case_reporters_move(f->c, f->cur.id, f->into, f->now, err);
    d = json_pack("{s:I, s:s}", "merged", (json_int_t)f->cur.id, "merged_code", f->cur.public_code);
    e.data = d;
    if (!rc)
        rc = case_event_add(f->c, &e, err);
    json_decref(d);
    return rc;
}

/* Everything after the checks: row, step, event, media, notifications. */
static int flow_apply(struct flow *f, gr_err *err)
{
    int rc = 0;

    if (f->next.state != f->cur.state || f->restart)
        rc = case_step_move(f->ctx, f->c, &f->next, f->now, f->restart, err);
    if (!rc)
        rc = case_row_save(f->c, &f->next, err);
    if (!rc)
        rc = flow_event(f, err);
    if (!rc && f->in->nmedia)
        rc = case_media_link(f->c, &f->next, f->in->media, f->in->nmedia,
                             f->t->public_media && f->next.is_public, f->who->user_id, err);
    if (!rc && f->into)
        rc = merge_after(f, err);
    if (!rc)
        rc = flow_notify(f, err);
    return rc;
}

static int transition_fn(db_conn *c, void *arg, gr_err *err)
{
    struct flow *f = arg;
    int rc;

    f->c = c;
    rc = case_get(c, f->a, f->id, &f->cur, err);
    if (!rc)
        rc = who_check(f, err);
    if (!rc)
        rc = state_check(f, err);
    if (rc)
        goto out;
    f->next = f->cur;
    f->next.version++;
    f->next.updated_at = f->now;
    if (f->t->to >= 0)
        f->next.state = (case_state)f->t->to;
    rc = f->t->check(f, err);
    /* An extension is asked for the department's handling: a case that
     * leaves the department (handled, returned) takes no pending request on
     * to its next handling step. */
    if (!(S(f->next.state) & S_AT_DEPT))
        f->next.ext_until = 0;
    if (!rc)
        rc = flow_apply(f, err);
out:
    f->out->version = rc ? f->cur.version : f->next.version;
    f->out->state = rc ? f->cur.state : f->next.state;
    if (rc == GR_ECONFLICT)
        allowed_now(f->who->role, f->cur.state, f->out);
    return rc;
}

int case_transition(gr_ctx *ctx, const case_actor *who, int64_t id, const case_action_input *in,
                    case_result *out, gr_err *err)
{
    struct flow f;
    int rc;

    memset(&f, 0, sizeof(f));
    memset(out, 0, sizeof(*out));
    f.t = flow_find(in->action);
    if (!f.t)
        return err_set(err, GR_ENOTFOUND, "action", "no action %.40s",
                       in->action ? in->action : "");
    rc = case_media_check(in->media, in->nmedia, err);
    if (!rc && in->note && jv_utf8_len(in->note) > CASE_NOTE_MAX)
        rc = err_set(err, GR_EINVAL, "note", "must be at most %d characters long", CASE_NOTE_MAX);
    if (rc)
        return rc;
    f.ctx = ctx;
    f.a = arena_new();
    f.who = who;
    f.in = in;
    f.id = id;
    f.out = out;
    f.now = time_now_ms();
    rc = db_write(ctx->db, transition_fn, &f, err);
    if (!rc)
        log_obj(LOG_INFO, "case.transition",
                json_pack("{s:I, s:s, s:s, s:I}", "case_id", (json_int_t)id, "action", in->action,
                          "state", case_state_name(out->state), "user_id",
                          (json_int_t)who->user_id));
    json_decref(f.data);
    arena_free(f.a);
    return rc;
}

int case_merge_apply(gr_ctx *ctx, db_conn *c, case_rec *src, int64_t into, const case_actor *who,
                     const char *note, int64_t now, gr_err *err)
{
    case_action_input in = {0};
    case_result out = {0};
    struct flow f;
    char why[sizeof(err->msg)];
    int rc;

    memset(&f, 0, sizeof(f));
    in.action = "merge";
    in.note = note;
    in.into = into;
    f.ctx = ctx;
    f.c = c;
    f.a = arena_new();
    f.who = who;
    f.in = &in;
    f.t = flow_find("merge");
    f.out = &out;
    f.id = src->id;
    f.now = now;
    f.cur = f.next = *src;
    f.next.version++;
    f.next.state = CS_MERGED;
    rc = check_merge(&f, err);
    if (rc == GR_EINVAL) {
        /* At intake the target is the reporter's duplicate_of. */
        snprintf(why, sizeof(why), "%s", err->msg);
        err_set(err, GR_EINVAL, "duplicate_of", "%s", why);
    }
    if (!rc)
        rc = flow_apply(&f, err);
    if (!rc)
        *src = f.next;
    json_decref(f.data);
    arena_free(f.a);
    return rc;
}
