/* The policy table: role × action (see policy.h and docs/auth.md). */
#include "auth/policy.h"
#include "base/log.h"

#include <string.h>

enum {
    R_RESIDENT = 1u << 0,
    R_GRID_INSPECTOR = 1u << 1,
    R_ACCEPTOR = 1u << 2,
    R_DISPATCHER = 1u << 3,
    R_SHIFT_LEADER = 1u << 4,
    R_DEPARTMENT_STAFF = 1u << 5,
    R_COMMUNITY_WORKER = 1u << 6,
    R_DATA_STEWARD = 1u << 7,
    R_LEADER = 1u << 8,
    R_AUDITOR = 1u << 9,
    R_ADMIN = 1u << 10,
    /* Not a stored role: nobody signed in. */
    R_ANONYMOUS = 1u << 11,
};

#define R_SIGNED_IN (R_ANONYMOUS - 1u)
#define R_STAFF     (R_SIGNED_IN & ~(unsigned)R_RESIDENT)

/* Same order as the bits above. */
const char *const policy_roles[] = {"resident",         "grid_inspector", "acceptor",
                                    "dispatcher",       "shift_leader",   "department_staff",
                                    "community_worker", "data_steward",   "leader",
                                    "auditor",          "admin"};
const size_t policy_nroles = sizeof(policy_roles) / sizeof(policy_roles[0]);

/* The table. Deny is the default: a role not listed may not. */
static const struct rule {
    const char *action;
    unsigned roles;
} rules[] = {
    {"public", R_SIGNED_IN | R_ANONYMOUS},
    {"session", R_SIGNED_IN},
    {"metrics.read", R_ADMIN | R_AUDITOR},
    {"user.read", R_ADMIN | R_AUDITOR},
    {"user.write", R_ADMIN},
    {"token.write", R_ADMIN},
    {"org.read", R_STAFF},
    {"org.write", R_ADMIN | R_DATA_STEWARD},
    /* The category catalogue and the working-day calendar are configuration. */
    {"catalog.write", R_ADMIN},
    {"calendar.write", R_ADMIN},
    /* Anyone may upload evidence for a report (anonymous reporting is allowed);
     * who may read it follows the case it belongs to. */
    {"media.upload", R_SIGNED_IN | R_ANONYMOUS},
    {"webhook.write", R_ADMIN},
    /* Which department gets which category where: configuration, like the catalogue. */
    {"routing.write", R_ADMIN},
    /* Cases: anyone reports; each step of the loop belongs to the post that
     * takes it in practice (受理员, 值班长, 派遣员, 处置人员, 网格员). Scope,
     * own department and own report are data checks in src/cases. */
    {"case.report", R_SIGNED_IN | R_ANONYMOUS},
    {"case.read", R_STAFF},
    {"case.accept", R_ACCEPTOR | R_SHIFT_LEADER},
    {"case.reject", R_ACCEPTOR | R_SHIFT_LEADER},
    {"case.merge", R_ACCEPTOR | R_SHIFT_LEADER},
    {"case.file", R_SHIFT_LEADER},
    {"case.close", R_SHIFT_LEADER},
    {"case.cancel", R_SHIFT_LEADER},
    {"case.decide", R_SHIFT_LEADER},
    {"case.approve-extension", R_SHIFT_LEADER},
    {"case.deny-extension", R_SHIFT_LEADER},
    {"case.backlog", R_SHIFT_LEADER},
    {"case.unbacklog", R_SHIFT_LEADER},
    {"case.dispatch", R_DISPATCHER | R_SHIFT_LEADER},
    {"case.escalate", R_DISPATCHER | R_SHIFT_LEADER},
    {"case.review", R_DISPATCHER | R_SHIFT_LEADER},
    {"case.sign", R_DEPARTMENT_STAFF},
    {"case.handle", R_DEPARTMENT_STAFF},
    {"case.return", R_DEPARTMENT_STAFF},
    {"case.extend", R_DEPARTMENT_STAFF},
    {"case.verify", R_GRID_INSPECTOR},
    {"case.confirm", R_RESIDENT},
    {"case.rate", R_RESIDENT},
    {"case.supervise", R_LEADER | R_SHIFT_LEADER},
    {"case.info", R_SIGNED_IN},
    {"case.respond", R_DEPARTMENT_STAFF},
    /* Bulk export of work lists (CSV, no contact data): the posts that report
     * on the workload, not the field roles (grid_inspector, department_staff)
     * and never residents. */
    {"case.export", R_ACCEPTOR | R_DISPATCHER | R_SHIFT_LEADER | R_LEADER | R_AUDITOR | R_ADMIN |
                        R_COMMUNITY_WORKER | R_DATA_STEWARD},
    /* The reporter's full contact, for the posts that call reporters back
     * (受理员, 值班长): with a stated purpose, on the audit log. */
    {"case.contact", R_ACCEPTOR | R_SHIFT_LEADER},
    /* The audit log (src/privacy): who saw which personal value, and why. */
    {"audit.read", R_AUDITOR | R_ADMIN},
    /* Evaluation (src/eval, docs/eval.md): the posts that lead and supervise
     * the loop read the numbers of their subtree; the definitions are
     * configuration. */
    {"eval.read",
     R_LEADER | R_SHIFT_LEADER | R_DISPATCHER | R_COMMUNITY_WORKER | R_AUDITOR | R_ADMIN},
    {"eval.write", R_ADMIN},
    /* Adopting a recurring problem as a governance topic with an owner. */
    {"eval.adopt", R_LEADER | R_ADMIN},
    /* Base data (src/basedata, docs/basedata.md "Privacy"): department staff
     * read a reduced field set (no ID number, no phone); full values need
     * basedata.reveal, a purpose and an audit entry, and a community worker
     * reveals only within their subtree (the scope check in src/basedata). */
    {"basedata.read", R_COMMUNITY_WORKER | R_GRID_INSPECTOR | R_DATA_STEWARD | R_DEPARTMENT_STAFF |
                          R_LEADER | R_ADMIN},
    {"basedata.write", R_COMMUNITY_WORKER | R_GRID_INSPECTOR | R_DATA_STEWARD | R_ADMIN},
    {"basedata.reveal", R_DATA_STEWARD | R_ADMIN | R_COMMUNITY_WORKER},
    /* The emergency view (docs/basedata.md): the vulnerable people of a drawn
     * area for those who lead or work a response on the ground; audited, with
     * a purpose, names masked. */
    {"basedata.emergency",
     R_LEADER | R_SHIFT_LEADER | R_COMMUNITY_WORKER | R_GRID_INSPECTOR | R_DATA_STEWARD | R_ADMIN},
    /* Data-sharing applications (docs/basedata.md): a steward files one for
     * an outside organisation (which has no account), another steward of the
     * area decides, a steward or an admin revokes; auditors see them. The
     * reads through a share token are nobody's: the auth hook admits a share
     * token on share.read routes only, and no signed-in role (nor an API
     * token) may use them; the handler checks the token. */
    {"share.apply", R_DATA_STEWARD | R_ADMIN},
    {"share.view", R_DATA_STEWARD | R_ADMIN | R_AUDITOR},
    {"share.decide", R_DATA_STEWARD},
    {"share.revoke", R_DATA_STEWARD | R_ADMIN},
    {"share.read", R_ANONYMOUS},
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

const char *const policy_actions[] = {"public",
                                      "session",
                                      "metrics.read",
                                      "user.read",
                                      "user.write",
                                      "token.write",
                                      "org.read",
                                      "org.write",
                                      "catalog.write",
                                      "calendar.write",
                                      "media.upload",
                                      "webhook.write",
                                      "routing.write",
                                      "case.report",
                                      "case.read",
                                      "case.accept",
                                      "case.reject",
                                      "case.merge",
                                      "case.file",
                                      "case.close",
                                      "case.cancel",
                                      "case.decide",
                                      "case.approve-extension",
                                      "case.deny-extension",
                                      "case.backlog",
                                      "case.unbacklog",
                                      "case.dispatch",
                                      "case.escalate",
                                      "case.review",
                                      "case.sign",
                                      "case.handle",
                                      "case.return",
                                      "case.extend",
                                      "case.verify",
                                      "case.confirm",
                                      "case.rate",
                                      "case.supervise",
                                      "case.info",
                                      "case.respond",
                                      "case.export",
                                      "case.contact",
                                      "audit.read",
                                      "eval.read",
                                      "eval.write",
                                      "eval.adopt",
                                      "basedata.read",
                                      "basedata.write",
                                      "basedata.reveal",
                                      "basedata.emergency",
                                      "share.apply",
                                      "share.view",
                                      "share.decide",
                                      "share.revoke",
                                      "share.read"};
const size_t policy_nactions = sizeof(policy_actions) / sizeof(policy_actions[0]);

_Static_assert(sizeof(policy_actions) / sizeof(policy_actions[0]) == NRULES,
               "policy_actions lists every rule");

static unsigned role_bit(const char *role)
{
    size_t i;

    if (!role)
        return 0;
    if (strcmp(role, "anonymous") == 0)
        return R_ANONYMOUS;
    for (i = 0; i < policy_nroles; i++)
        if (strcmp(role, policy_roles[i]) == 0)
            return 1u << i;
    return 0;
}

static const struct rule *find_rule(const char *action)
{
    size_t i;

    for (i = 0; action && i < NRULES; i++)
        if (strcmp(rules[i].action, action) == 0)
            return &rules[i];
    return NULL;
}

int policy_role_valid(const char *role)
{
    unsigned b = role_bit(role);

    return b != 0 && b != R_ANONYMOUS;
}

int policy_action_known(const char *action)
{
    return find_rule(action) != NULL;
}

int policy_allows(const char *role, const char *action)
{
    const struct rule *r = find_rule(action);

    if (!r) {
        /* A route names an action the table lacks: deny, loudly. */
        log_msg(LOG_ERROR, "auth.policy", "unknown action '%s' denied", action ? action : "");
        return 0;
    }
    return (r->roles & role_bit(role)) != 0;
}
