/*
 * The policy as the tests expect it, written out here independently of
 * src/auth/policy.c (deriving it from the table would test nothing): the
 * roles, and who may perform each action. test_auth, test_policy_routes and
 * test_api_policy all check the application against this one list. Adding an
 * action means adding it here, after deciding who may.
 */
#ifndef GR_TESTS_POLICY_EXPECT_H
#define GR_TESTS_POLICY_EXPECT_H

#include <stddef.h>

/* The eleven stored roles in the order of users.role's CHECK, then
 * "anonymous" (nobody signed in). */
#define GR_EXPECT_NSTORED 11
extern const char *const gr_expect_roles[];
extern const size_t gr_expect_nroles;

typedef struct gr_expect_rule {
    const char *action;
    const char *allowed; /* space-separated roles */
} gr_expect_rule;

extern const gr_expect_rule gr_expect_rules[];
extern const size_t gr_expect_nrules;

/* The roles allowed to perform action, or NULL when it has no expectation. */
const char *gr_expect_allowed(const char *action);
/* 1 when word is one of the space-separated words of list. */
int gr_expect_has_word(const char *list, const char *word);

#endif
