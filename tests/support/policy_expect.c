#include "policy_expect.h"

#include <string.h>

const char *const gr_expect_roles[] = {"resident",         "grid_inspector", "acceptor",
                                       "dispatcher",       "shift_leader",   "department_staff",
                                       "community_worker", "data_steward",   "leader",
                                       "auditor",          "admin",          "anonymous"};
const size_t gr_expect_nroles = sizeof(gr_expect_roles) / sizeof(gr_expect_roles[0]);

_Static_assert(sizeof(gr_expect_roles) / sizeof(gr_expect_roles[0]) == GR_EXPECT_NSTORED + 1,
               "the stored roles and anonymous");

#define STAFF                                                                                      \
    "grid_inspector acceptor dispatcher shift_leader department_staff community_worker "           \
    "data_steward leader auditor admin"

const gr_expect_rule gr_expect_rules[] = {
    {"public", "resident " STAFF " anonymous"},
    {"session", "resident " STAFF},
    {"metrics.read", "auditor admin"},
    {"user.read", "auditor admin"},
    {"user.write", "admin"},
    {"token.write", "admin"},
    {"org.read", STAFF},
    {"org.write", "data_steward admin"},
    {"catalog.write", "admin"},
    {"calendar.write", "admin"},
    {"media.upload", "resident " STAFF " anonymous"},
    {"webhook.write", "admin"},
    {"routing.write", "admin"},
    {"case.report", "resident " STAFF " anonymous"},
    {"case.read", STAFF},
    {"case.accept", "acceptor shift_leader"},
    {"case.reject", "acceptor shift_leader"},
    {"case.merge", "acceptor shift_leader"},
    {"case.file", "shift_leader"},
    {"case.close", "shift_leader"},
    {"case.cancel", "shift_leader"},
    {"case.decide", "shift_leader"},
    {"case.approve-extension", "shift_leader"},
    {"case.deny-extension", "shift_leader"},
    {"case.backlog", "shift_leader"},
    {"case.unbacklog", "shift_leader"},
    {"case.dispatch", "dispatcher shift_leader"},
    {"case.escalate", "dispatcher shift_leader"},
    {"case.review", "dispatcher shift_leader"},
    {"case.sign", "department_staff"},
    {"case.handle", "department_staff"},
    {"case.return", "department_staff"},
    {"case.extend", "department_staff"},
    {"case.verify", "grid_inspector"},
    {"case.confirm", "resident"},
    {"case.rate", "resident"},
    {"case.supervise", "leader shift_leader"},
    {"case.info", "resident " STAFF},
    {"case.respond", "department_staff"},
    {"case.export", "acceptor dispatcher shift_leader community_worker data_steward leader auditor "
                    "admin"},
    {"case.contact", "acceptor shift_leader"},
    {"audit.read", "auditor admin"},
    {"eval.read", "leader shift_leader dispatcher community_worker auditor admin"},
    {"eval.write", "admin"},
    {"eval.adopt", "leader admin"},
    {"basedata.read", "community_worker grid_inspector data_steward department_staff leader admin"},
    {"basedata.write", "community_worker grid_inspector data_steward admin"},
    {"basedata.reveal", "data_steward admin community_worker"},
    {"basedata.emergency",
     "leader shift_leader community_worker grid_inspector data_steward admin"},
    {"share.apply", "data_steward admin"},
    {"share.view", "data_steward admin auditor"},
    {"share.decide", "data_steward"},
    {"share.revoke", "data_steward admin"},
    {"share.read", "anonymous"},
};
const size_t gr_expect_nrules = sizeof(gr_expect_rules) / sizeof(gr_expect_rules[0]);

const char *gr_expect_allowed(const char *action)
{
    size_t i;

    for (i = 0; i < gr_expect_nrules; i++)
        if (strcmp(gr_expect_rules[i].action, action) == 0)
            return gr_expect_rules[i].allowed;
    return NULL;
}

int gr_expect_has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    const char *p = list;

    while ((p = strstr(p, word)) != NULL) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
        p += n;
    }
    return 0;
}
