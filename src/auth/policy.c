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
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))

const char *const policy_actions[] = {
    "public",   "session",   "metrics.read",  "user.read",      "user.write",   "token.write",
    "org.read", "org.write", "catalog.write", "calendar.write", "media.upload", "webhook.write"};
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
