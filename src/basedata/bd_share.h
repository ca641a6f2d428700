/*
 * Data-sharing applications (数据共享申请, docs/basedata.md "Data-sharing
 * applications"): an outside organisation asks for one entity's fields within
 * one area for a period; a data steward of that area approves (a share token
 * is issued, shown once, only its keyed hash stored) or refuses with a reason;
 * a steward or an admin revokes. Reads through the token deliver only the
 * granted fields of live records inside the area, within the period, each
 * read audited ("share.read") before anything is sent.
 *
 * Who applies: the outside party has no account (no role fits an outside
 * organisation); a data_steward or admin files the application on its behalf,
 * recording its name and 统一社会信用代码 (the counter principle). The steward
 * who filed an application cannot decide it (four eyes).
 *
 * Personal fields (people: name, id_number, phone; orgs: legal_rep) are
 * delivered masked, unless the application states a legal basis and asks for
 * "full" and the approving steward grants "full".
 *
 * Strings in the structs belong to the arena given to the call that filled
 * them. The functions that change state run their own db_write.
 */
#ifndef GR_BASEDATA_BD_SHARE_H
#define GR_BASEDATA_BD_SHARE_H

#include "auth/auth.h"
#include "base/crypto.h"
#include "basedata/bd_history.h"
#include "http/http.h"

#include <jansson.h>
#include <stdint.h>

/* The share token's text: the prefix the auth hook recognises and a
 * base64url random token. */
#define BD_SHARE_TOKEN_TEXT (sizeof(AUTH_SHARE_TOKEN_PREFIX) - 1 + CRYPTO_TOKEN_TEXT)

enum { BD_SHARE_FIELDS_MAX = 16, BD_SHARE_TEXT_MAX = 500, BD_SHARE_NAME_MAX = 200 };

typedef struct bd_share_app {
    int64_t id, version;
    const char *org_name, *org_uscc;
    const char *entity;      /* people | houses | buildings | orgs | facilities | spaces */
    const char *fields;      /* comma-separated, in the entity's allow-list order */
    const char *personal;    /* asked: masked | full */
    const char *legal_basis; /* NULL: none */
    int64_t area_id;
    const char *purpose;
    const char *period_from, *period_to; /* YYYY-MM-DD */
    int64_t valid_from, valid_until;     /* epoch ms: [from, until) */
    const char *state;                   /* pending | approved | refused | revoked */
    const char *granted_personal;        /* NULL until approved */
    int64_t filed_by, decided_by, decided_at, revoked_by, revoked_at; /* 0: not yet */
    const char *reason;                                               /* NULL: none */
    int64_t reads, last_read_at, created_at, updated_at;
} bd_share_app;

typedef struct bd_share_input {
    const char *org_name, *org_uscc, *entity, *purpose;
    const char *personal;    /* NULL: masked */
    const char *legal_basis; /* required with personal "full" */
    const char *fields[BD_SHARE_FIELDS_MAX];
    size_t nfields;
    int64_t area_id;
    const char *period_from, *period_to;
} bd_share_input;

/* 1 when field may be asked for entity; *personal 1 for a personal field. */
int bd_share_field_allowed(const char *entity, const char *field, int *personal);

/* Checks in (without the database) as of now (epoch ms): the entity, the
 * fields (allow-list, no duplicates; normalised into fields, in a), the
 * personal rule, the credit code, the purpose, the period (strict dates, to
 * not before from, at most one year, not already over). GR_EINVAL naming
 * the field. Fills *valid_from / *valid_until. */
int bd_share_input_check(arena *a, const bd_share_input *in, int64_t now, const char **fields,
                         const char **uscc, int64_t *valid_from, int64_t *valid_until, gr_err *err);

/* Files an application for who (a steward whose scope covers the area);
 * GR_EINVAL naming the field, GR_EFORBIDDEN naming "area_id". */
int bd_share_apply(gr_ctx *ctx, const bd_actor *who, const bd_share_input *in, int64_t *id,
                   gr_err *err);

int bd_share_get(db_conn *c, arena *a, int64_t id, bd_share_app *out, gr_err *err);
/* Applications whose area lies within scope (0: all), optionally in one
 * state, keyset by id. */
int bd_share_list(db_conn *c, arena *a, int64_t scope, const char *state, int64_t after,
                  int64_t limit, bd_share_app **out, size_t *n, int *more, gr_err *err);
/* The state changes of an application, oldest first: [{at, actor_user_id,
 * actor_role, action, state, reason}]. */
int bd_share_history(db_conn *c, int64_t id, json_t **items, gr_err *err);

/* Approves a pending application: personal "masked" (NULL) or "full" (only
 * when asked with a legal basis). token receives the share token (shown
 * once). GR_EFORBIDDEN when who's scope does not cover the area or who
 * filed it; GR_ECONFLICT naming "state" unless pending, "period_to" when the
 * period is over. */
int bd_share_approve(gr_ctx *ctx, const bd_actor *who, int64_t id, const char *personal,
                     char token[BD_SHARE_TOKEN_TEXT], gr_err *err);
/* Refuses a pending application; reason required (GR_EINVAL naming "reason"). */
int bd_share_refuse(gr_ctx *ctx, const bd_actor *who, int64_t id, const char *reason, gr_err *err);
/* Revokes an approved application's token at once; reason required. */
int bd_share_revoke(gr_ctx *ctx, const bd_actor *who, int64_t id, const char *reason, gr_err *err);

/* The application of a share token (the whole text, prefix included), as of
 * now: GR_EAUTH (field "Authorization") for an unknown or revoked token (the
 * message gives the revocation's reason), GR_EFORBIDDEN (field "period")
 * outside the period or for an application not approved. */
int bd_share_resolve(gr_ctx *ctx, db_conn *c, arena *a, const char *token, int64_t now,
                     bd_share_app *out, gr_err *err);
/* GR_EFORBIDDEN naming "period" unless now lies in app's period. */
int bd_share_period_check(const bd_share_app *app, int64_t now, gr_err *err);

/* A page of the granted fields (and "id") of the live records of app's
 * entity inside its area with id > after. *delivered receives the field
 * names sent (comma-separated, in a). */
int bd_share_read(gr_ctx *ctx, db_conn *c, arena *a, const bd_share_app *app, int64_t after,
                  int64_t limit, json_t **items, int *more, int64_t *last_id, gr_err *err);

/* In one write: checks that app is still approved and in its period (a
 * revocation a moment ago wins: GR_EAUTH), counts the read and appends the
 * audit entry (action "share.read", entity "share_application", the
 * application id and the number of records in detail, the fields). */
int bd_share_record_read(gr_ctx *ctx, const bd_share_app *app, size_t nrecords, int64_t now,
                         const char *request_id, gr_err *err);

/* The routes (bd_share_api.c). */
void bd_share_api_register(http_router *r);

#endif
