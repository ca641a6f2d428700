/* What the base-data entities share: unit chains, scope, stewards, the fixed
 * code lists (bd_model.h). */
#include "basedata/bd_model.h"
#include "basedata/bd_tally.h"

#include "base/calendar.h"
#include "base/timeutil.h"
#include "org/org.h"

#include <stdio.h>
#include <string.h>

/* Care tags (重点关爱对象): the groups emergency and social work look for. */
const char *const bd_care_tags[][2] = {
    {"elderly_alone", "独居老人"},
    {"empty_nest", "空巢老人"},
    {"disabled", "残疾人"},
    {"low_income", "低保"},
    {"special_care", "优抚对象"},
    {"extreme_poverty", "特困人员"},
    {"left_behind_child", "留守儿童"},
    {"serious_illness", "重病患者"},
};
const size_t bd_ncare_tags = sizeof(bd_care_tags) / sizeof(bd_care_tags[0]);

/* china_standards.md §4.5. */
const char *const bd_residencies[][2] = {
    {"registered", "户籍"},
    {"permanent", "常住"},
    {"floating", "流动"},
};
const size_t bd_nresidencies = sizeof(bd_residencies) / sizeof(bd_residencies[0]);

int64_t bd_scope_unit(const bd_meta *m)
{
    int i;

    for (i = 4; i >= 0; i--)
        if (m->chain[i])
            return m->chain[i];
    return m->steward_org_id;
}

int bd_scope_check(db_conn *c, const bd_actor *who, const bd_meta *m, gr_err *err)
{
    if (!who->scope_org_id || org_is_within(c, who->scope_org_id, bd_scope_unit(m)))
        return 0;
    return err_set(err, GR_EFORBIDDEN, "id", "the record lies outside your area");
}

int bd_chain_of_unit(db_conn *c, int64_t unit, const char *field, int64_t chain[5], gr_err *err)
{
    int rc = unit > 0 ? org_unit_levels(c, unit, chain, err) : GR_ENOTFOUND;

    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_EINVAL, field, "no org unit with id %lld", (long long)unit);
    return rc;
}

int bd_chain_at(gr_ctx *ctx, db_conn *c, double lat, double lon, int64_t chain[5], gr_err *err)
{
    int64_t grid = org_grid_at(ctx, lat, lon);

    if (!grid)
        return err_set(err, GR_EINVAL, "lat", "the location is outside every grid");
    return bd_chain_of_unit(c, grid, "lat", chain, err);
}

int bd_source_check(const char *s, const char **out, gr_err *err)
{
    static const char *const sources[] = {"collected", "imported", "shared"};
    size_t i;

    if (!s) {
        *out = "collected";
        return 0;
    }
    for (i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
        if (strcmp(s, sources[i]) == 0) {
            *out = sources[i];
            return 0;
        }
    return err_set(err, GR_EINVAL, "source", "must be collected, imported or shared");
}

int bd_steward_fill(db_conn *c, const bd_actor *who, bd_meta *m, gr_err *err)
{
    int64_t chain[5];
    int rc;

    if (!m->steward_user_id)
        m->steward_user_id = who->user_id;
    if (!m->steward_org_id) {
        m->steward_org_id = who->scope_org_id ? who->scope_org_id : bd_scope_unit(m);
        if (!m->steward_org_id)
            return err_set(err, GR_EINVAL, "steward_org_id", "is required");
        return 0;
    }
    rc = bd_chain_of_unit(c, m->steward_org_id, "steward_org_id", chain, err);
    if (!rc && who->scope_org_id && !org_is_within(c, who->scope_org_id, m->steward_org_id))
        rc = err_set(err, GR_EFORBIDDEN, "steward_org_id", "the unit lies outside your area");
    return rc;
}

int bd_date_check(const char *s, const char *field, gr_err *err)
{
    int y, mo, d;

    if (s && calendar_date_parse(s, &y, &mo, &d))
        return err_set(err, GR_EINVAL, field, "must be a date YYYY-MM-DD");
    return 0;
}

static int enum_refuse(const char *const (*codes)[2], size_t n, const char *field, gr_err *err)
{
    char list[200];
    size_t i, len = 0;

    list[0] = '\0';
    for (i = 0; i < n && len < sizeof(list); i++)
        len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", codes[i][0]);
    return err_set(err, GR_EINVAL, field, "must be one of %s", list);
}

int bd_enum_check(const char *s, const char *const (*codes)[2], size_t n, const char *field,
                  const char **out, gr_err *err)
{
    size_t i;

    *out = NULL;
    if (!s)
        return 0;
    for (i = 0; i < n; i++)
        if (strcmp(s, codes[i][0]) == 0 || strcmp(s, codes[i][1]) == 0) {
            *out = codes[i][0];
            return 0;
        }
    return enum_refuse(codes, n, field, err);
}

#define META_READ_COLS 13

int bd_read_id(db_conn *c, arena *a, const char *sql, int64_t id, db_row_reader read, void *out,
               const char *what, gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_read_one(st, a, read, out, err);
    db_done(st);
    if (rc == GR_ENOTFOUND)
        return err_set(err, GR_ENOTFOUND, "id", "no %s with id %lld", what, (long long)id);
    return rc;
}

void bd_meta_read(db_stmt *st, bd_meta *m)
{
    int i;

    m->id = db_col_int(st, 0);
    m->version = db_col_int(st, 1);
    m->steward_org_id = db_col_int(st, 2);
    m->steward_user_id = db_col_int(st, 3);
    m->source = db_col_text(st, 4);
    for (i = 0; i < 5; i++)
        m->chain[i] = db_col_int(st, 5 + i);
    m->created_at = db_col_int(st, 10);
    m->updated_at = db_col_int(st, 11);
    m->retired_at = db_col_int(st, 12);
}

void bd_meta_bind(db_stmt *st, int first, const bd_meta *m)
{
    int i;

    db_bind_int(st, first, m->version);
    db_bind_int(st, first + 1, m->steward_org_id);
    db_bind_int_or_null(st, first + 2, m->steward_user_id);
    db_bind_text_ref(st, first + 3, m->source);
    for (i = 0; i < 5; i++)
        db_bind_int_or_null(st, first + 4 + i, m->chain[i]);
    db_bind_int(st, first + 9, m->created_at);
    db_bind_int(st, first + 10, m->updated_at);
}

void bd_meta_diff(bd_changes *ch, const bd_meta *old, const bd_meta *new_)
{
    bd_changes_put_int(ch, "steward_org_id", old->steward_org_id, new_->steward_org_id, 1);
    bd_changes_put_int(ch, "steward_user_id", old->steward_user_id, new_->steward_user_id, 1);
    bd_changes_put_int(ch, "grid_id", old->chain[4], new_->chain[4], 1);
}

const char *bd_trim(arena *a, const char *s)
{
    size_t n;

    if (!s)
        return NULL;
    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return n ? arena_strndup(a, s, n) : NULL;
}

int bd_text_check(const char *s, const char *field, int required, size_t max, gr_err *err)
{
    if (!s)
        return required ? err_set(err, GR_EINVAL, field, "is required") : 0;
    if (jv_utf8_len(s) > max)
        return err_set(err, GR_EINVAL, field, "must be at most %zu characters", max);
    return 0;
}

/* The version checks of a change: the stored row is live and at version. */
int bd_version_check(const bd_meta *old, int64_t version, gr_err *err)
{
    if (old->retired_at)
        return err_set(err, GR_ECONFLICT, "id", "the record is retired");
    if (old->version != version)
        return err_set(err, GR_ECONFLICT, "version",
                       "the record changed: version %lld is current, not %lld",
                       (long long)old->version, (long long)version);
    return 0;
}

/* The meta of a write: versions, times, steward; *is_new when there is no old row. */
int bd_meta_prepare(db_conn *c, const bd_actor *who, const bd_meta *old, bd_meta *m, gr_err *err)
{
    int64_t now = time_now_ms();
    int rc = bd_source_check(m->source, &m->source, err);

    m->version = old->version + 1;
    m->created_at = old->id ? old->created_at : now;
    m->updated_at = now;
    if (!rc && (!old->id || m->steward_org_id != old->steward_org_id ||
                m->steward_user_id != old->steward_user_id))
        rc = bd_steward_fill(c, who, m, err);
    return rc;
}

int bd_write_allowed(db_conn *c, const bd_actor *who, int is_new, const bd_meta *old, bd_meta *m,
                     gr_err *err)
{
    int rc = is_new ? 0 : bd_scope_check(c, who, old, err);

    if (!rc)
        rc = bd_scope_check(c, who, m, err);
    return rc ? rc : bd_meta_prepare(c, who, old, m, err);
}

int bd_history_write(db_conn *c, const bd_actor *who, const char *entity, const bd_meta *m,
                     int is_new, const bd_changes *ch, gr_err *err)
{
    bd_change h = {
        entity, m->id, m->version, m->updated_at, who, m->source, is_new ? "create" : "update", ch};

    return bd_history_add(c, &h, err);
}

/* ---- retire (注销) ---- */

static const struct retirable {
    const char *entity, *load, *live_children, *retire, *children;
} retirables[] = {
    {"building", "SELECT " BD_META_COLS " FROM bd_buildings WHERE id = ?",
     "SELECT count(*) FROM bd_houses WHERE building_id = ? AND retired_at IS NULL",
     "UPDATE bd_buildings SET retired_at = ?1, updated_at = ?1, version = ?2 WHERE id = ?3",
     "live houses"},
    {"house", "SELECT " BD_META_COLS " FROM bd_houses WHERE id = ?",
     "SELECT count(*) FROM bd_people WHERE house_id = ? AND retired_at IS NULL",
     "UPDATE bd_houses SET retired_at = ?1, updated_at = ?1, version = ?2 WHERE id = ?3",
     "people registered"},
    {"person", "SELECT " BD_META_COLS " FROM bd_people WHERE id = ?", NULL,
     "UPDATE bd_people SET retired_at = ?1, updated_at = ?1, version = ?2 WHERE id = ?3", NULL},
};

static int retire_load(db_conn *c, const struct retirable *t, int64_t id, bd_meta *m,
                       char source[16], gr_err *err)
{
    db_stmt *st = db_prepare(c, t->load, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        bd_meta_read(st, m);
        snprintf(source, 16, "%s", m->source ? m->source : "collected");
        m->source = source;
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "id", "no %s with id %lld", t->entity, (long long)id);
    }
    db_done(st);
    return rc;
}

static int retire_children(db_conn *c, const struct retirable *t, int64_t id, gr_err *err)
{
    int64_t n = 0;
    int rc;

    if (!t->live_children)
        return 0;
    rc = db_query_int(c, t->live_children, id, 0, &n, err);
    if (!rc && n > 0)
        rc = err_set(err, GR_ECONFLICT, "id", "the %s still has %lld %s", t->entity, (long long)n,
                     t->children);
    return rc;
}

static int retire_run(db_conn *c, const struct retirable *t, const bd_meta *m, gr_err *err)
{
    db_stmt *st = db_prepare(c, t->retire, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, m->updated_at);
    db_bind_int(st, 2, m->version);
    db_bind_int(st, 3, m->id);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* A retired person or house stops counting in the area tallies. */
static int retire_untally(db_conn *c, const char *entity, int64_t id, gr_err *err)
{
    arena *a;
    bd_person p;
    bd_house h;
    int rc;

    if (strcmp(entity, "person") != 0 && strcmp(entity, "house") != 0)
        return 0;
    a = arena_new();
    if (!a)
        return err_set(err, GR_EINTERNAL, "", "out of memory");
    if (entity[0] == 'p') {
        rc = bd_person_get(c, a, id, &p, err);
        if (!rc)
            rc = bd_tally_person(c, &p, -1, err);
    } else {
        rc = bd_house_get(c, a, id, &h, err);
        if (!rc)
            rc = bd_tally_house(c, &h, -1, err);
    }
    arena_free(a);
    return rc;
}

int bd_retire_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, const char *entity, int64_t id,
                    int64_t version, gr_err *err)
{
    const struct retirable *t = NULL;
    bd_changes ch = {0};
    char source[16];
    bd_meta m;
    size_t i;
    int rc;

    (void)ctx;
    for (i = 0; i < sizeof(retirables) / sizeof(retirables[0]); i++)
        if (strcmp(retirables[i].entity, entity) == 0)
            t = &retirables[i];
    if (!t)
        return err_set(err, GR_EINVAL, "entity", "cannot retire a %s here", entity);
    rc = retire_load(c, t, id, &m, source, err);
    if (!rc)
        rc = bd_version_check(&m, version, err);
    if (!rc)
        rc = bd_scope_check(c, who, &m, err);
    if (!rc)
        rc = retire_children(c, t, id, err);
    if (rc)
        return rc;
    m.version++;
    m.updated_at = time_now_ms();
    bd_changes_put_int(&ch, "retired_at", 0, m.updated_at, 1);
    rc = retire_untally(c, entity, id, err);
    if (!rc)
        rc = retire_run(c, t, &m, err);
    if (!rc) {
        bd_change h = {entity, id, m.version, m.updated_at, who, m.source, "retire", &ch};
        rc = bd_history_add(c, &h, err);
    }
    bd_changes_free(&ch);
    return rc;
}
