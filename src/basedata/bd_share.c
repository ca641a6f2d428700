/* Data-sharing applications: the model (see bd_share.h and docs/basedata.md). */
#include "basedata/bd_share.h"
#include "basedata/bd_model.h"
#include "basedata/bd_http.h"
#include "basedata/bd_units.h"

#include "base/buf.h"
#include "base/timeutil.h"
#include "base/validate.h"
#include "org/org.h"
#include "privacy/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The period's dates are days in Asia/Shanghai (UTC+8, no daylight saving). */
#define ZONE_MS (8LL * 3600 * 1000)
#define DAY_MS  (24LL * 3600 * 1000)

enum kind { K_TEXT, K_INT, K_REAL, K_TAGS, K_SEALED };

/* One field an application may ask for: its column, and for a sealed
 * personal field the masked column (col) and the sealed one (enc, ad). */
struct fspec {
    const char *name, *col;
    enum kind kind;
    const char *enc, *ad;
};

struct espec {
    const char *entity, *table;
    const struct fspec *f;
    size_t n;
};

static const struct fspec people_f[] = {
    {"name", "name_hint", K_SEALED, "name_enc", BD_AD_NAME},
    {"id_number", "id_number_hint", K_SEALED, "id_number_enc", BD_AD_ID_NUMBER},
    {"phone", "phone_hint", K_SEALED, "phone_enc", BD_AD_PHONE},
    {"birth_date", "birth_date", K_TEXT, NULL, NULL},
    {"sex", "sex", K_TEXT, NULL, NULL},
    {"ethnicity", "ethnicity", K_TEXT, NULL, NULL},
    {"residency", "residency", K_TEXT, NULL, NULL},
    {"permit_start", "permit_start", K_TEXT, NULL, NULL},
    {"permit_end", "permit_end", K_TEXT, NULL, NULL},
    {"house_id", "house_id", K_INT, NULL, NULL},
    {"relation", "relation", K_TEXT, NULL, NULL},
    {"employment", "employment", K_TEXT, NULL, NULL},
    {"social_security", "social_security", K_TEXT, NULL, NULL},
    {"care_tags", "care_tags", K_TAGS, NULL, NULL},
};
static const struct fspec houses_f[] = {
    {"building_id", "building_id", K_INT, NULL, NULL},
    {"unit", "unit", K_TEXT, NULL, NULL},
    {"floor", "floor", K_INT, NULL, NULL},
    {"room", "room", K_TEXT, NULL, NULL},
    {"area_m2", "area_m2", K_REAL, NULL, NULL},
    {"use", "use", K_TEXT, NULL, NULL},
    {"ownership", "ownership", K_TEXT, NULL, NULL},
    {"occupancy", "occupancy", K_TEXT, NULL, NULL},
};
static const struct fspec buildings_f[] = {
    {"district", "district", K_TEXT, NULL, NULL},
    {"street", "street", K_TEXT, NULL, NULL},
    {"road", "road", K_TEXT, NULL, NULL},
    {"house_number", "house_number", K_TEXT, NULL, NULL},
    {"building", "building", K_TEXT, NULL, NULL},
    {"lat", "lat", K_REAL, NULL, NULL},
    {"lon", "lon", K_REAL, NULL, NULL},
    {"floors", "floors", K_INT, NULL, NULL},
    {"use", "use", K_TEXT, NULL, NULL},
};
static const struct fspec orgs_f[] = {
    {"uscc", "uscc", K_TEXT, NULL, NULL},
    {"name", "name", K_TEXT, NULL, NULL},
    {"type", "type", K_TEXT, NULL, NULL},
    {"legal_rep", "legal_rep_hint", K_SEALED, "legal_rep_enc", BD_AD_LEGAL_REP},
    {"building_id", "building_id", K_INT, NULL, NULL},
    {"house_id", "house_id", K_INT, NULL, NULL},
    {"address", "address", K_TEXT, NULL, NULL},
    {"industry", "industry", K_TEXT, NULL, NULL},
    {"employees", "employees", K_INT, NULL, NULL},
    {"lat", "lat", K_REAL, NULL, NULL},
    {"lon", "lon", K_REAL, NULL, NULL},
};
static const struct fspec facilities_f[] = {
    {"code", "code", K_TEXT, NULL, NULL},
    {"major", "major", K_INT, NULL, NULL},
    {"minor", "minor", K_INT, NULL, NULL},
    {"name", "name", K_TEXT, NULL, NULL},
    {"lat", "lat", K_REAL, NULL, NULL},
    {"lon", "lon", K_REAL, NULL, NULL},
    {"state", "state", K_TEXT, NULL, NULL},
    {"owner_dept_id", "owner_dept_id", K_INT, NULL, NULL},
    {"maintainer_dept_id", "maintainer_dept_id", K_INT, NULL, NULL},
};
static const struct fspec spaces_f[] = {
    {"kind", "kind", K_TEXT, NULL, NULL},
    {"name", "name", K_TEXT, NULL, NULL},
    {"address", "address", K_TEXT, NULL, NULL},
    {"lat", "lat", K_REAL, NULL, NULL},
    {"lon", "lon", K_REAL, NULL, NULL},
    {"area_m2", "area_m2", K_REAL, NULL, NULL},
    {"capacity", "capacity", K_INT, NULL, NULL},
    {"use", "use", K_TEXT, NULL, NULL},
    {"manager_org_id", "manager_org_id", K_INT, NULL, NULL},
};

#define E(name, tbl, f)                                                                            \
    {                                                                                              \
        name, tbl, f, sizeof(f) / sizeof(f[0])                                                     \
    }
static const struct espec entities[] = {
    E("people", "bd_people", people_f),
    E("houses", "bd_houses", houses_f),
    E("buildings", "bd_buildings", buildings_f),
    E("orgs", "bd_orgs", orgs_f),
    E("facilities", "bd_facilities", facilities_f),
    E("spaces", "bd_spaces", spaces_f),
};
#undef E

static const struct espec *entity_find(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(entities) / sizeof(entities[0]); i++)
        if (strcmp(entities[i].entity, name) == 0)
            return &entities[i];
    return NULL;
}

static const struct fspec *field_find(const struct espec *e, const char *name, size_t *idx)
{
    size_t i;

    for (i = 0; e && name && i < e->n; i++)
        if (strcmp(e->f[i].name, name) == 0) {
            if (idx)
                *idx = i;
            return &e->f[i];
        }
    return NULL;
}

int bd_share_field_allowed(const char *entity, const char *field, int *personal)
{
    const struct fspec *f = field_find(entity_find(entity), field, NULL);

    if (personal)
        *personal = f && f->kind == K_SEALED;
    return f != NULL;
}

/* Whether name is one of the comma-separated names in list. */
static int list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    while (p && *p) {
        if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
            return 1;
        p = strchr(p, ',');
        if (p)
            p++;
    }
    return 0;
}

static int text_check(const char *s, const char *field, size_t max, gr_err *err)
{
    if (!s || !*s)
        return err_set(err, GR_EINVAL, field, "is required");
    if (jv_utf8_len(s) > max)
        return err_set(err, GR_EINVAL, field, "is longer than %zu characters", max);
    return 0;
}

/* UTC midnight of a strict YYYY-MM-DD. */
static int day_ms(const char *s, const char *field, int64_t *ms, gr_err *err)
{
    if (!s)
        return err_set(err, GR_EINVAL, field, "is required (YYYY-MM-DD)");
    if (bd_date_check(s, field, err) != 0)
        return GR_EINVAL;
    if (time_parse_iso(s, ms) != 0)
        return err_set(err, GR_EINVAL, field, "is not a date (YYYY-MM-DD)");
    return 0;
}

int bd_share_input_check(arena *a, const bd_share_input *in, int64_t now, const char **fields,
                         const char **uscc, int64_t *valid_from, int64_t *valid_until, gr_err *err)
{
    const struct espec *e;
    validate_uscc_info ui;
    int asked[BD_SHARE_FIELDS_MAX * 2] = {0}, any_personal = 0;
    int64_t from, to, limit;
    char next[16];
    int y, m, d;
    size_t i, idx;
    buf b;
    int rc;

    rc = text_check(in->org_name, "org_name", BD_SHARE_NAME_MAX, err);
    if (!rc)
        rc = validate_uscc(in->org_uscc, &ui, "org_uscc", err);
    if (rc)
        return rc;
    *uscc = arena_strdup(a, ui.normalized);
    e = entity_find(in->entity);
    if (!e)
        return err_set(err, GR_EINVAL, "entity",
                       "must be one of people, houses, buildings, orgs, facilities, spaces");
    if (in->nfields == 0)
        return err_set(err, GR_EINVAL, "fields", "name at least one field");
    for (i = 0; i < in->nfields; i++) {
        const struct fspec *f = field_find(e, in->fields[i], &idx);

        if (!f)
            return err_set(err, GR_EINVAL, "fields",
                           "'%.40s' is not a field of %s that may be shared",
                           in->fields[i] ? in->fields[i] : "", e->entity);
        if (asked[idx]++)
            return err_set(err, GR_EINVAL, "fields", "'%s' is named twice", f->name);
        any_personal |= f->kind == K_SEALED;
    }
    memset(&b, 0, sizeof(b));
    for (i = 0; i < e->n; i++)
        if (asked[i]) {
            if (b.len)
                buf_puts(&b, ",");
            buf_puts(&b, e->f[i].name);
        }
    *fields = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    if (in->personal && strcmp(in->personal, "masked") != 0 && strcmp(in->personal, "full") != 0)
        return err_set(err, GR_EINVAL, "personal", "must be 'masked' or 'full'");
    if (in->legal_basis && text_check(in->legal_basis, "legal_basis", BD_SHARE_TEXT_MAX, err))
        return GR_EINVAL;
    if (in->personal && strcmp(in->personal, "full") == 0) {
        if (!any_personal)
            return err_set(err, GR_EINVAL, "personal",
                           "'full' applies to personal fields, and none is asked for");
        if (!in->legal_basis)
            return err_set(err, GR_EINVAL, "legal_basis",
                           "is required to ask for personal fields in full (the law or contract "
                           "that allows it)");
    }
    if (in->area_id <= 0)
        return err_set(err, GR_EINVAL, "area_id", "is required (an org unit)");
    rc = text_check(in->purpose, "purpose", BD_SHARE_TEXT_MAX, err);
    if (!rc)
        rc = day_ms(in->period_from, "period_from", &from, err);
    if (!rc)
        rc = day_ms(in->period_to, "period_to", &to, err);
    if (rc)
        return rc;
    if (to < from)
        return err_set(err, GR_EINVAL, "period_to", "is before period_from");
    /* At most one year: to lies before the same day a year after from (a
     * 29 February counts to 1 March). */
    if (sscanf(in->period_from, "%4d-%2d-%2d", &y, &m, &d) != 3)
        return err_set(err, GR_EINVAL, "period_from", "is not a date (YYYY-MM-DD)");
    if (m == 2 && d == 29)
        m = 3, d = 1;
    snprintf(next, sizeof(next), "%04d-%02d-%02d", (y + 1) % 10000, m, d);
    if (time_parse_iso(next, &limit) != 0 || to >= limit)
        return err_set(err, GR_EINVAL, "period_to", "the period is longer than one year");
    *valid_from = from - ZONE_MS;
    *valid_until = to + DAY_MS - ZONE_MS;
    if (*valid_until <= now)
        return err_set(err, GR_EINVAL, "period_to", "the period is already over");
    return 0;
}

/* ---- writes ---- */

static int covers(db_conn *c, int64_t scope, int64_t unit)
{
    return scope == 0 || org_is_within(c, scope, unit);
}

static int history_add(db_conn *c, int64_t app, int64_t at, const bd_actor *who, const char *action,
                       const char *state, const char *reason, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "INSERT INTO bd_share_history(app_id, at, actor_user_id, actor_role, "
                             "action, state, reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, app);
    db_bind_int(st, 2, at);
    db_bind_int(st, 3, who->user_id);
    db_bind_text(st, 4, who->role ? who->role : "");
    db_bind_text(st, 5, action);
    db_bind_text(st, 6, state);
    db_bind_text(st, 7, reason);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* An audit entry on an application: a decision that opens or closes
 * access to data, or a read through its token. */
static int share_audit(const unsigned char *index_key, db_conn *c, int64_t user, const char *role,
                       const char *action, int64_t app, const char *fields, const char *request_id,
                       const char *detail, gr_err *err)
{
    unsigned char key[AUDIT_HASH_BYTES];
    audit_entry e;
    int rc;

    memset(&e, 0, sizeof(e));
    e.actor_user_id = user;
    e.actor_role = role;
    e.action = action;
    e.entity = "share_application";
    e.entity_id = app;
    e.fields = fields;
    e.request_id = request_id;
    e.detail = detail;
    audit_key_derive(index_key, key);
    rc = audit_append(c, key, &e, err);
    sodium_memzero(key, sizeof(key));
    return rc;
}

static int audit_state(gr_ctx *ctx, db_conn *c, const bd_actor *who, const char *action,
                       int64_t app, const char *fields, const char *personal, gr_err *err)
{
    char detail[160];

    snprintf(detail, sizeof(detail), "{\"application_id\":%lld,\"personal\":\"%s\"}",
             (long long)app, personal ? personal : "masked");
    return share_audit(ctx->index_key, c, who->user_id, who->role ? who->role : "system", action,
                       app, fields, NULL, detail, err);
}

struct apply_w {
    gr_ctx *ctx;
    const bd_actor *who;
    const bd_share_input *in;
    const char *fields, *uscc;
    int64_t valid_from, valid_until, now, id;
};

static int apply_fn(db_conn *c, void *arg, gr_err *err)
{
    struct apply_w *w = arg;
    const bd_share_input *in = w->in;
    const char *col = NULL;
    db_stmt *st;
    int rc;

    rc = org_unit_column(c, in->area_id, &col, err);
    if (rc)
        return rc;
    if (!col)
        return err_set(err, GR_EINVAL, "area_id",
                       "is not an org unit (city, district, street, "
                       "community or grid) of this deployment");
    if (!covers(c, w->who->scope_org_id, in->area_id))
        return err_set(err, GR_EFORBIDDEN, "area_id", "the area lies outside your scope");
    st = db_prepare(c,
                    "INSERT INTO bd_share_apps(org_name, org_uscc, entity, fields, personal, "
                    "legal_basis, area_id, purpose, period_from, period_to, valid_from, "
                    "valid_until, filed_by, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, in->org_name);
    db_bind_text(st, 2, w->uscc);
    db_bind_text(st, 3, in->entity);
    db_bind_text(st, 4, w->fields);
    db_bind_text(st, 5, in->personal ? in->personal : "masked");
    db_bind_text(st, 6, in->legal_basis);
    db_bind_int(st, 7, in->area_id);
    db_bind_text(st, 8, in->purpose);
    db_bind_text(st, 9, in->period_from);
    db_bind_text(st, 10, in->period_to);
    db_bind_int(st, 11, w->valid_from);
    db_bind_int(st, 12, w->valid_until);
    db_bind_int(st, 13, w->who->user_id);
    db_bind_int(st, 14, w->now);
    db_bind_int(st, 15, w->now);
    rc = db_run(st, err);
    db_done(st);
    if (rc)
        return rc;
    w->id = db_last_id(c);
    return history_add(c, w->id, w->now, w->who, "apply", "pending", NULL, err);
}

int bd_share_apply(gr_ctx *ctx, const bd_actor *who, const bd_share_input *in, int64_t *id,
                   gr_err *err)
{
    arena *a = arena_new();
    struct apply_w w = {ctx, who, in, NULL, NULL, 0, 0, time_now_ms(), 0};
    int rc;

    rc = bd_share_input_check(a, in, w.now, &w.fields, &w.uscc, &w.valid_from, &w.valid_until, err);
    if (rc)
        goto out;
    rc = db_write(ctx->db, apply_fn, &w, err);
    if (!rc)
        *id = w.id;
out:
    arena_free(a);
    return rc;
}

/* The fresh state of an application inside a write. */
struct cur {
    int64_t area, filed_by, valid_until;
    char state[16], personal[8], fields[404];
};

static int cur_read(db_conn *c, int64_t id, struct cur *out, gr_err *err)
{
    db_stmt *st = db_prepare(
        c,
        "SELECT area_id, filed_by, valid_until, state, personal, fields FROM bd_share_apps "
        "WHERE id = ?",
        err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        out->area = db_col_int(st, 0);
        out->filed_by = db_col_int(st, 1);
        out->valid_until = db_col_int(st, 2);
        snprintf(out->state, sizeof(out->state), "%s", db_col_text(st, 3));
        snprintf(out->personal, sizeof(out->personal), "%s", db_col_text(st, 4));
        snprintf(out->fields, sizeof(out->fields), "%s", db_col_text(st, 5));
        rc = 0;
    } else if (rc >= 0) {
        rc = err_set(err, GR_ENOTFOUND, "id", "there is no such application");
    }
    db_done(st);
    return rc;
}

enum op { OP_APPROVE, OP_REFUSE, OP_REVOKE };

struct decide_w {
    gr_ctx *ctx;
    const bd_actor *who;
    int64_t id, now;
    enum op op;
    const char *personal, *reason;
    unsigned char hash[CRYPTO_HASH_BYTES];
};

static int decide_fn(db_conn *c, void *arg, gr_err *err)
{
    static const char *const names[] = {"approve", "refuse", "revoke"};
    static const char *const states[] = {"approved", "refused", "revoked"};
    struct decide_w *w = arg;
    struct cur cur;
    db_stmt *st;
    int rc;

    rc = cur_read(c, w->id, &cur, err);
    if (rc)
        return rc;
    if (!covers(c, w->who->scope_org_id, cur.area))
        return err_set(err, GR_EFORBIDDEN, "area_id",
                       "the application's area lies outside your scope");
    if (w->op != OP_REVOKE && cur.filed_by == w->who->user_id)
        return err_set(err, GR_EFORBIDDEN, "id",
                       "who filed an application cannot decide it: another steward must");
    if (strcmp(cur.state, w->op == OP_REVOKE ? "approved" : "pending") != 0)
        return err_set(err, GR_ECONFLICT, "state", "the application is %s: it cannot be %s",
                       cur.state, w->op == OP_REVOKE ? "revoked" : "decided");
    if (w->op == OP_APPROVE) {
        if (cur.valid_until <= w->now)
            return err_set(err, GR_ECONFLICT, "period_to", "the period is already over");
        if (strcmp(w->personal, "full") == 0 && strcmp(cur.personal, "full") != 0)
            return err_set(err, GR_EINVAL, "personal",
                           "'full' may be granted only when asked for with a legal basis");
        st = db_prepare(c,
                        "UPDATE bd_share_apps SET state = 'approved', granted_personal = ?, "
                        "token_hash = ?, decided_by = ?, decided_at = ?, version = version + 1, "
                        "updated_at = ? WHERE id = ?",
                        err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_text(st, 1, w->personal);
        db_bind_blob(st, 2, w->hash, sizeof(w->hash));
    } else if (w->op == OP_REFUSE) {
        st = db_prepare(c,
                        "UPDATE bd_share_apps SET state = 'refused', reason = ?, decided_by = ?, "
                        "decided_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
                        err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_text(st, 1, w->reason);
        db_bind_null(st, 2);
    } else {
        st = db_prepare(c,
                        "UPDATE bd_share_apps SET state = 'revoked', reason = ?, revoked_by = ?, "
                        "revoked_at = ?, version = version + 1, updated_at = ? WHERE id = ?",
                        err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_text(st, 1, w->reason);
        db_bind_null(st, 2);
    }
    if (w->op == OP_APPROVE) {
        db_bind_int(st, 3, w->who->user_id);
        db_bind_int(st, 4, w->now);
        db_bind_int(st, 5, w->now);
        db_bind_int(st, 6, w->id);
    } else {
        db_bind_int(st, 2, w->who->user_id);
        db_bind_int(st, 3, w->now);
        db_bind_int(st, 4, w->now);
        db_bind_int(st, 5, w->id);
    }
    rc = db_run(st, err);
    db_done(st);
    if (!rc)
        rc = history_add(c, w->id, w->now, w->who, names[w->op], states[w->op], w->reason, err);
    if (!rc && w->op != OP_REFUSE)
        rc = audit_state(w->ctx, c, w->who, w->op == OP_APPROVE ? "share.approve" : "share.revoke",
                         w->id, cur.fields, w->op == OP_APPROVE ? w->personal : cur.personal, err);
    return rc;
}

int bd_share_approve(gr_ctx *ctx, const bd_actor *who, int64_t id, const char *personal,
                     char token[BD_SHARE_TOKEN_TEXT], gr_err *err)
{
    struct decide_w w = {ctx,  who, id, time_now_ms(), OP_APPROVE, personal ? personal : "masked",
                         NULL, {0}};
    unsigned char raw[CRYPTO_TOKEN_BYTES];
    char text[CRYPTO_TOKEN_TEXT];
    int rc;

    if (strcmp(w.personal, "masked") != 0 && strcmp(w.personal, "full") != 0)
        return err_set(err, GR_EINVAL, "personal", "must be 'masked' or 'full'");
    /* The same token machinery as sessions and API tokens: only the keyed
     * hash is stored. */
    crypto_token_new(raw, text);
    crypto_hash_token(ctx->index_key, raw, w.hash);
    rc = db_write(ctx->db, decide_fn, &w, err);
    if (!rc)
        snprintf(token, BD_SHARE_TOKEN_TEXT, "%s%s", AUTH_SHARE_TOKEN_PREFIX, text);
    sodium_memzero(raw, sizeof(raw));
    sodium_memzero(text, sizeof(text));
    return rc;
}

static int decide_with_reason(gr_ctx *ctx, const bd_actor *who, int64_t id, enum op op,
                              const char *reason, gr_err *err)
{
    struct decide_w w = {ctx, who, id, time_now_ms(), op, NULL, reason, {0}};
    int rc = text_check(reason, "reason", BD_SHARE_TEXT_MAX, err);

    if (rc)
        return rc;
    return db_write(ctx->db, decide_fn, &w, err);
}

int bd_share_refuse(gr_ctx *ctx, const bd_actor *who, int64_t id, const char *reason, gr_err *err)
{
    return decide_with_reason(ctx, who, id, OP_REFUSE, reason, err);
}

int bd_share_revoke(gr_ctx *ctx, const bd_actor *who, int64_t id, const char *reason, gr_err *err)
{
    return decide_with_reason(ctx, who, id, OP_REVOKE, reason, err);
}

/* ---- reads ---- */

#define APP_COLS                                                                                   \
    "id, version, org_name, org_uscc, entity, fields, personal, legal_basis, area_id, purpose, "   \
    "period_from, period_to, valid_from, valid_until, state, granted_personal, filed_by, "         \
    "decided_by, decided_at, revoked_by, revoked_at, reason, reads, last_read_at, created_at, "    \
    "updated_at FROM bd_share_apps"

static void app_read(db_stmt *st, arena *a, void *out)
{
    bd_share_app *p = out;

    p->id = db_col_int(st, 0);
    p->version = db_col_int(st, 1);
    p->org_name = db_col_textdup(st, 2, a);
    p->org_uscc = db_col_textdup(st, 3, a);
    p->entity = db_col_textdup(st, 4, a);
    p->fields = db_col_textdup(st, 5, a);
    p->personal = db_col_textdup(st, 6, a);
    p->legal_basis = db_col_textdup(st, 7, a);
    p->area_id = db_col_int(st, 8);
    p->purpose = db_col_textdup(st, 9, a);
    p->period_from = db_col_textdup(st, 10, a);
    p->period_to = db_col_textdup(st, 11, a);
    p->valid_from = db_col_int(st, 12);
    p->valid_until = db_col_int(st, 13);
    p->state = db_col_textdup(st, 14, a);
    p->granted_personal = db_col_textdup(st, 15, a);
    p->filed_by = db_col_int(st, 16);
    p->decided_by = db_col_int(st, 17);
    p->decided_at = db_col_int(st, 18);
    p->revoked_by = db_col_int(st, 19);
    p->revoked_at = db_col_int(st, 20);
    p->reason = db_col_textdup(st, 21, a);
    p->reads = db_col_int(st, 22);
    p->last_read_at = db_col_int(st, 23);
    p->created_at = db_col_int(st, 24);
    p->updated_at = db_col_int(st, 25);
}

int bd_share_get(db_conn *c, arena *a, int64_t id, bd_share_app *out, gr_err *err)
{
    int rc =
        bd_read_id(c, a, "SELECT " APP_COLS " WHERE id = ?", id, app_read, out, "application", err);

    if (rc == GR_ENOTFOUND)
        err_set(err, GR_ENOTFOUND, "id", "there is no such application");
    return rc;
}

int bd_share_list(db_conn *c, arena *a, int64_t scope, const char *state, int64_t after,
                  int64_t limit, bd_share_app **out, size_t *n, int *more, gr_err *err)
{
    /* The scope as a path prefix in SQL, so that LIMIT counts only the
     * applications the caller may see. */
    db_stmt *st = db_prepare(c,
                             "SELECT " APP_COLS " WHERE id > ?1 AND (?2 IS NULL OR state = ?2) "
                             "AND (?3 = 0 OR EXISTS (SELECT 1 FROM org_units u JOIN org_units r "
                             "ON r.id = ?3 WHERE u.id = area_id AND substr(u.path, 1, "
                             "length(r.path)) = r.path)) ORDER BY id LIMIT ?4",
                             err);
    int rc;

    *n = 0;
    *more = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, after);
    db_bind_text(st, 2, state);
    db_bind_int(st, 3, scope);
    db_bind_int(st, 4, limit + 1);
    rc = db_read_page(st, a, limit, sizeof(**out), app_read, (void **)out, n, more, err);
    db_done(st);
    return rc;
}

int bd_share_history(db_conn *c, int64_t id, json_t **items, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT at, actor_user_id, actor_role, action, state, reason FROM "
                             "bd_share_history WHERE app_id = ? ORDER BY id",
                             err);
    int rc;

    *items = json_array();
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    while ((rc = db_step(st, err)) == DB_ROW) {
        const char *reason = db_col_text(st, 5);

        json_array_append_new(*items, json_pack("{s:o, s:I, s:s, s:s, s:s, s:o}", "at",
                                                http_json_time(db_col_int(st, 0)), "actor_user_id",
                                                (json_int_t)db_col_int(st, 1), "actor_role",
                                                db_col_text(st, 2), "action", db_col_text(st, 3),
                                                "state", db_col_text(st, 4), "reason",
                                                reason ? json_string(reason) : json_null()));
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int bd_share_period_check(const bd_share_app *app, int64_t now, gr_err *err)
{
    if (now < app->valid_from)
        return err_set(err, GR_EFORBIDDEN, "period",
                       "the share period has not begun: it runs from %s to %s (Asia/Shanghai)",
                       app->period_from, app->period_to);
    if (now >= app->valid_until)
        return err_set(err, GR_EFORBIDDEN, "period",
                       "the share period is over: it ran from %s to %s (Asia/Shanghai)",
                       app->period_from, app->period_to);
    return 0;
}

int bd_share_resolve(gr_ctx *ctx, db_conn *c, arena *a, const char *token, int64_t now,
                     bd_share_app *out, gr_err *err)
{
    size_t plen = strlen(AUTH_SHARE_TOKEN_PREFIX);
    unsigned char raw[CRYPTO_TOKEN_BYTES], h[CRYPTO_HASH_BYTES];
    db_stmt *st;
    int rc;

    if (!token || strncmp(token, AUTH_SHARE_TOKEN_PREFIX, plen) != 0 ||
        crypto_token_parse(token + plen, raw) != 0)
        return err_set(err, GR_EAUTH, "Authorization",
                       "a share token (Bearer grs_...) is required");
    crypto_hash_token(ctx->index_key, raw, h);
    sodium_memzero(raw, sizeof(raw));
    st = db_prepare(c, "SELECT " APP_COLS " WHERE token_hash = ?", err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_blob(st, 1, h, sizeof(h));
    rc = db_read_one(st, a, app_read, out, err);
    db_done(st);
    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EAUTH, "Authorization", "the share token is not valid");
    if (rc)
        return rc;
    if (strcmp(out->state, "revoked") == 0)
        return err_set(err, GR_EAUTH, "Authorization", "the share token was revoked: %.180s",
                       out->reason ? out->reason : "");
    if (strcmp(out->state, "approved") != 0)
        return err_set(err, GR_EFORBIDDEN, "Authorization", "the application is %s", out->state);
    return bd_share_period_check(out, now, err);
}

/* The value of a sealed column in clear. */
static json_t *unseal(gr_ctx *ctx, db_stmt *st, int i, const char *ad, gr_err *err, int *rc)
{
    size_t len = 0, out_len = 0;
    const unsigned char *blob = db_col_blob(st, i, &len);
    unsigned char plain[512];
    json_t *v;

    if (!blob)
        return json_null();
    if (len < CRYPTO_SEAL_OVERHEAD || len - CRYPTO_SEAL_OVERHEAD + 1 > sizeof(plain) ||
        crypto_open(ctx->field_key, blob, len, ad, plain, sizeof(plain), &out_len, err) != 0) {
        *rc = err_set(err, GR_EINTERNAL, "", "a sealed value cannot be opened");
        return json_null();
    }
    v = json_stringn((const char *)plain, out_len);
    sodium_memzero(plain, sizeof(plain));
    return v;
}

int bd_share_read(gr_ctx *ctx, db_conn *c, arena *a, const bd_share_app *app, int64_t after,
                  int64_t limit, json_t **items, int *more, int64_t *last_id, gr_err *err)
{
    const struct espec *e = entity_find(app->entity);
    int full = app->granted_personal && strcmp(app->granted_personal, "full") == 0;
    const char *col = NULL, *sql;
    int pos[BD_SHARE_FIELDS_MAX * 2], enc[BD_SHARE_FIELDS_MAX * 2],
        granted[BD_SHARE_FIELDS_MAX * 2];
    db_stmt *st;
    int64_t k = 0;
    size_t i;
    buf b;
    int rc, at = 1;

    *items = json_array();
    *more = 0;
    *last_id = 0;
    if (!e)
        return err_set(err, GR_EINTERNAL, "", "unknown entity");
    rc = org_unit_column(c, app->area_id, &col, err);
    if (rc)
        return rc;
    if (!col)
        return 0;
    /* Every allowed column of the entity (a fixed text per entity and area
     * level, so statements are cached); only the granted ones are read out. */
    memset(&b, 0, sizeof(b));
    buf_puts(&b, "SELECT id");
    for (i = 0; i < e->n; i++) {
        granted[i] = list_has(app->fields, e->f[i].name);
        pos[i] = at++;
        buf_printf(&b, ", %s", e->f[i].col);
        enc[i] = 0;
        if (e->f[i].kind == K_SEALED) {
            enc[i] = at++;
            buf_printf(&b, ", %s", e->f[i].enc);
        }
    }
    buf_printf(&b, " FROM %s WHERE %s = ? AND retired_at IS NULL AND id > ? ORDER BY id LIMIT ?",
               e->table, col);
    sql = arena_strndup(a, b.data, b.len);
    buf_free(&b);
    st = db_prepare(c, sql, err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, app->area_id);
    db_bind_int(st, 2, after);
    db_bind_int(st, 3, limit + 1);
    while (!rc && (rc = db_step(st, err)) == DB_ROW) {
        json_t *o;

        rc = 0;
        if (k == limit) {
            *more = 1;
            break;
        }
        o = json_object();
        *last_id = db_col_int(st, 0);
        json_object_set_new(o, "id", json_integer(*last_id));
        for (i = 0; i < e->n; i++) {
            const struct fspec *f = &e->f[i];
            int p = pos[i];
            json_t *v;

            if (!granted[i])
                continue;
            if (db_col_is_null(st, p) && f->kind != K_SEALED)
                v = json_null();
            else if (f->kind == K_SEALED && full)
                v = unseal(ctx, st, enc[i], f->ad, err, &rc);
            else if (f->kind == K_SEALED || f->kind == K_TEXT)
                v = db_col_is_null(st, p) ? json_null() : json_string(db_col_text(st, p));
            else if (f->kind == K_INT)
                v = json_integer(db_col_int(st, p));
            else if (f->kind == K_REAL)
                v = json_real(db_col_double(st, p));
            else
                v = bd_json_list(db_col_text(st, p));
            json_object_set_new(o, f->name, v);
        }
        json_array_append_new(*items, o);
        k++;
    }
    db_done(st);
    if (rc == DB_DONE)
        rc = 0;
    return rc < 0 ? rc : 0;
}

struct read_w {
    gr_ctx *ctx;
    const bd_share_app *app;
    size_t n;
    int64_t now;
    const char *request_id;
};

static int read_fn(db_conn *c, void *arg, gr_err *err)
{
    struct read_w *w = arg;
    const bd_share_app *app = w->app;
    struct cur cur;
    char detail[400];
    db_stmt *st;
    int rc;

    rc = cur_read(c, app->id, &cur, err);
    if (rc)
        return rc;
    /* A revocation committed after the token was checked still wins. */
    if (strcmp(cur.state, "approved") != 0)
        return err_set(err, GR_EAUTH, "Authorization", "the share token was %s", cur.state);
    st = db_prepare(c, "UPDATE bd_share_apps SET reads = reads + 1, last_read_at = ? WHERE id = ?",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, w->now);
    db_bind_int(st, 2, app->id);
    rc = db_run(st, err);
    db_done(st);
    if (rc)
        return rc;
    snprintf(detail, sizeof(detail),
             "{\"application_id\":%lld,\"entity\":\"%s\",\"records\":%zu,\"personal\":\"%s\","
             "\"org_uscc\":\"%s\"}",
             (long long)app->id, app->entity, w->n,
             app->granted_personal ? app->granted_personal : "masked", app->org_uscc);
    return share_audit(w->ctx->index_key, c, 0, "share_token", "share.read", app->id, app->fields,
                       w->request_id, detail, err);
}

int bd_share_record_read(gr_ctx *ctx, const bd_share_app *app, size_t nrecords, int64_t now,
                         const char *request_id, gr_err *err)
{
    struct read_w w = {ctx, app, nrecords, now, request_id};

    return db_write(ctx->db, read_fn, &w, err);
}
