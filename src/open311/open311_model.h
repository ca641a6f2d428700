/*
 * The Open311 module's model, private to src/open311 (and its tests): the
 * services (active leaf categories), their definition, the JSON tree of a
 * request, intake from a form and the queries behind GET requests and
 * servicerequestupdates. Strings belong to the arena given to the call.
 */
#ifndef GR_OPEN311_OPEN311_MODEL_H
#define GR_OPEN311_OPEN311_MODEL_H

#include "open311/open311.h"

enum {
    O311_DAYS_MAX = 90,  /* the spec's widest date window */
    O311_PAGE_MAX = 1000 /* the spec's "first 1000 requests" */
};

typedef struct o311_service {
    int64_t id;
    const char *code;  /* the category code: the service_code */
    const char *name;  /* the category name */
    const char *group; /* the major class's name, or "12345" for demand types */
    const char *kind;  /* "component" | "event" | "demand": the keywords */
    const char *description;
    int active;
} o311_service;

/* Every leaf category, active or retired, in code order (a retired one still
 * names the requests filed under it; only active ones are offered). */
int o311_services_load(db_conn *c, arena *a, o311_service **out, size_t *n, gr_err *err);
const o311_service *o311_service_by_code(const o311_service *v, size_t n, const char *code);
const o311_service *o311_service_by_id(const o311_service *v, size_t n, int64_t id);

json_t *o311_service_json(const o311_service *s);
/* The definition of s: the attributes every service takes. */
json_t *o311_definition_json(const o311_service *s);
/* A request as the public may see it (no reporter data, ever); ext: the
 * FixMyStreet extended status instead of open/closed. */
json_t *o311_request_json(const case_rec *r, const o311_service *s, int ext);

/* Creates a case from a POST requests form as who (the api_key's owner):
 * *code gets its public code. GR_EINVAL naming the form field, GR_ENOTFOUND
 * (field "service_code") for a service that is not offered. */
int o311_request_create(gr_ctx *ctx, const http_principal *who, const o311_form *f, arena *a,
                        const char **code, gr_err *err);

/* A time window [from, to) from the start_date and end_date arguments (either
 * may be NULL): at most O311_DAYS_MAX days, the last O311_DAYS_MAX days before
 * now when neither is given. GR_EINVAL naming the argument otherwise. */
int o311_window(const char *start, const char *end, int64_t now, int64_t *from, int64_t *to,
                gr_err *err);

typedef struct o311_query {
    int64_t from, to;          /* created_at window */
    uint32_t states;           /* 0: any */
    const int64_t *categories; /* NULL/0: any */
    size_t ncategories;
    int64_t offset, page_size;
} o311_query;

/* One page of public cases matching q, newest first (records in a). */
int o311_requests_find(db_conn *c, arena *a, const o311_query *q, case_rec **out, size_t *n,
                       gr_err *err);

/* One page of the updates of public cases in [q->from, q->to), oldest first. */
int o311_updates_find(db_conn *c, arena *a, const o311_query *q, case_update **out, size_t *n,
                      gr_err *err);

#endif
