/*
 * The one policy table: which roles may perform which action. Routes name
 * their action (http_route's last argument); auth_authorize asks
 * policy_allows. The scope part (which subtree of the org tree) is checked by
 * the handlers on the target's org unit (org_require_scope).
 *
 * Adding an action: add a row to the table in policy.c, and the expectation
 * in tests/support/policy_expect.c (which the tests check this table against).
 */
#ifndef GR_AUTH_POLICY_H
#define GR_AUTH_POLICY_H

#include <stddef.h>

/* The roles, in the order of the users.role CHECK (migrations/0003_auth.sql). */
extern const char *const policy_roles[];
extern const size_t policy_nroles;

/* The actions the table knows, "public" and "session" first. */
extern const char *const policy_actions[];
extern const size_t policy_nactions;

/* 1 when role is one of policy_roles. */
int policy_role_valid(const char *role);
/* 1 when the table has a row for action. */
int policy_action_known(const char *action);

/* 1 when role may perform action. "public" allows everyone (also
 * "anonymous"); "session" any signed-in role; an unknown action or role
 * allows nobody (and an unknown action is logged as an error: it is a typo in
 * a route). */
int policy_allows(const char *role, const char *action);

#endif
