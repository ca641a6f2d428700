/* Buildings (楼栋) and houses (户 / 房屋): checks, natural keys, writes with
 * history, reads (bd_model.h). */
#include "basedata/bd_model.h"
#include "basedata/bd_tally.h"

#include "geo/coord.h"
#include "org/org.h"

#include <math.h>
#include <string.h>

static const char *const building_uses[][2] = {
    {"residential", "住宅"}, {"commercial", "商业"}, {"office", "办公"}, {"industrial", "工业"},
    {"public", "公共"},      {"mixed", "综合"},      {"other", "其他"},
};
static const char *const house_uses[][2] = {
    {"residential", "住宅"}, {"commercial", "商业"}, {"office", "办公"},
    {"storage", "仓储"},     {"other", "其他"},
};
static const char *const ownerships[][2] = {
    {"private", "私有"},    {"public_rental", "公租"}, {"collective", "集体"},
    {"enterprise", "单位"}, {"other", "其他"},
};
static const char *const occupancies[][2] = {{"occupied", "自住或出租"}, {"vacant", "空置"}};
#define NCODES(t) (sizeof(t) / sizeof(t[0]))

#define BUILDING_COLS                                                                              \
    BD_META_COLS ", district, street, road, house_number, building, lat, lon, floors, use"
#define HOUSE_COLS                                                                                 \
    BD_META_COLS ", building_id, unit, floor, room, area_m2, use, ownership, occupancy"

const char *bd_address_text(arena *a, const bd_building *b, const bd_house *h)
{
    const char *s = arena_printf(a, "%s%s%s%s%s%s", b->district, b->street, b->road,
                                 b->house_number, b->building[0] ? " " : "", b->building);

    if (h)
        s = arena_printf(a, "%s%s%s %s", s, h->unit[0] ? " " : "", h->unit, h->room);
    return s;
}

/* ---- reads ---- */

static void building_read(db_stmt *st, arena *a, void *out)
{
    bd_building *b = out;

    bd_meta_read(st, &b->m);
    b->m.source = arena_strdup(a, b->m.source);
    b->district = db_col_textdup(st, 13, a);
    b->street = db_col_textdup(st, 14, a);
    b->road = db_col_textdup(st, 15, a);
    b->house_number = db_col_textdup(st, 16, a);
    b->building = db_col_textdup(st, 17, a);
    b->lat = db_col_double(st, 18);
    b->lon = db_col_double(st, 19);
    b->floors = (int)db_col_int(st, 20);
    b->use = db_col_textdup(st, 21, a);
}

static void house_read(db_stmt *st, arena *a, void *out)
{
    bd_house *h = out;

    bd_meta_read(st, &h->m);
    h->m.source = arena_strdup(a, h->m.source);
    h->building_id = db_col_int(st, 13);
    h->unit = db_col_textdup(st, 14, a);
    h->has_floor = !db_col_is_null(st, 15);
    h->floor = (int)db_col_int(st, 15);
    h->room = db_col_textdup(st, 16, a);
    h->area_m2 = db_col_double(st, 17);
    h->use = db_col_textdup(st, 18, a);
    h->ownership = db_col_textdup(st, 19, a);
    h->occupancy = db_col_textdup(st, 20, a);
}

int bd_building_get(db_conn *c, arena *a, int64_t id, bd_building *out, gr_err *err)
{
    return bd_read_id(c, a, "SELECT " BUILDING_COLS " FROM bd_buildings WHERE id = ?", id,
                      building_read, out, "building", err);
}

int bd_house_get(db_conn *c, arena *a, int64_t id, bd_house *out, gr_err *err)
{
    return bd_read_id(c, a, "SELECT " HOUSE_COLS " FROM bd_houses WHERE id = ?", id, house_read,
                      out, "house", err);
}

/* ---- checks ---- */

static int building_check(bd_building *b, gr_err *err)
{
    int rc = bd_text_check(b->district, "district", 1, BD_TEXT_MAX, err);

    if (!rc)
        rc = bd_text_check(b->street, "street", 1, BD_TEXT_MAX, err);
    if (!rc)
        rc = bd_text_check(b->road, "road", 1, BD_TEXT_MAX, err);
    if (!rc)
        rc = bd_text_check(b->house_number, "house_number", 1, 20, err);
    if (!b->building)
        b->building = "";
    if (!rc)
        rc = bd_text_check(b->building, "building", 0, BD_TEXT_MAX, err);
    if (!rc && (b->floors < 0 || b->floors > 200))
        rc = err_set(err, GR_EINVAL, "floors", "must be between 1 and 200");
    if (!rc)
        rc = geo_check_latlon(b->lat, b->lon, err);
    if (!rc && !b->use)
        rc = err_set(err, GR_EINVAL, "use", "is required");
    if (!rc)
        rc = bd_enum_check(b->use, building_uses, NCODES(building_uses), "use", &b->use, err);
    return rc;
}

static int house_check(bd_house *h, gr_err *err)
{
    int rc = 0;

    if (!h->unit)
        h->unit = "";
    rc = bd_text_check(h->unit, "unit", 0, 20, err);
    if (!rc)
        rc = bd_text_check(h->room, "room", 1, 20, err);
    if (!rc && h->has_floor && (h->floor < -10 || h->floor > 200))
        rc = err_set(err, GR_EINVAL, "floor", "must be between -10 and 200");
    if (!rc && (h->area_m2 < 0 || !isfinite(h->area_m2) || h->area_m2 > 1e6))
        rc = err_set(err, GR_EINVAL, "area_m2", "must be a positive area in square metres");
    if (!rc && !h->use)
        h->use = "residential";
    if (!rc)
        rc = bd_enum_check(h->use, house_uses, NCODES(house_uses), "use", &h->use, err);
    if (!rc && !h->ownership)
        rc = err_set(err, GR_EINVAL, "ownership", "is required");
    if (!rc)
        rc = bd_enum_check(h->ownership, ownerships, NCODES(ownerships), "ownership", &h->ownership,
                           err);
    if (!rc && !h->occupancy)
        h->occupancy = "occupied";
    if (!rc)
        rc = bd_enum_check(h->occupancy, occupancies, NCODES(occupancies), "occupancy",
                           &h->occupancy, err);
    return rc;
}

/* ---- history ---- */

static void building_diff(bd_changes *ch, const bd_building *o, const bd_building *n, int is_new)
{
    bd_changes_put_text(ch, "district", o->district, n->district);
    bd_changes_put_text(ch, "street", o->street, n->street);
    bd_changes_put_text(ch, "road", o->road, n->road);
    bd_changes_put_text(ch, "house_number", o->house_number, n->house_number);
    bd_changes_put_text(ch, "building", o->building, n->building);
    bd_changes_put_real(ch, "lat", !is_new, o->lat, 1, n->lat);
    bd_changes_put_real(ch, "lon", !is_new, o->lon, 1, n->lon);
    bd_changes_put_int(ch, "floors", o->floors, n->floors, 1);
    bd_changes_put_text(ch, "use", o->use, n->use);
    bd_changes_put_text(ch, "source", o->m.source, n->m.source);
    bd_meta_diff(ch, &o->m, &n->m);
}

/* A house's own fields, old against new; its building and place follow
 * (house_place_diff). */
static void house_fields_diff(bd_changes *ch, const bd_house *o, const bd_house *n, int is_new)
{
    bd_changes_put_text(ch, "unit", o->unit, n->unit);
    if (o->has_floor != n->has_floor || o->floor != n->floor) {
        json_t *was = o->has_floor ? json_integer(o->floor) : NULL;
        json_t *is = n->has_floor ? json_integer(n->floor) : NULL;

        bd_changes_put_json(ch, "floor", was, is);
        json_decref(was);
        json_decref(is);
    }
    bd_changes_put_text(ch, "room", o->room, n->room);
    if ((o->area_m2 != n->area_m2 || is_new) && (n->area_m2 > 0 || !is_new))
        bd_changes_put_real(ch, "area_m2", o->area_m2 > 0, o->area_m2, n->area_m2 > 0, n->area_m2);
    bd_changes_put_text(ch, "use", o->use, n->use);
    bd_changes_put_text(ch, "ownership", o->ownership, n->ownership);
    bd_changes_put_text(ch, "occupancy", o->occupancy, n->occupancy);
    bd_changes_put_text(ch, "source", o->m.source, n->m.source);
}

static void house_place_diff(bd_changes *ch, const bd_house *o, const bd_house *n)
{
    bd_changes_put_int(ch, "building_id", o->building_id, n->building_id, 1);
    bd_meta_diff(ch, &o->m, &n->m);
}

/* ---- buildings ---- */

static const char *building_key(arena *a, const bd_building *b)
{
    return arena_printf(a, "%s|%s|%s|%s|%s", b->district, b->street, b->road, b->house_number,
                        b->building);
}

static int building_save(db_conn *c, arena *a, const bd_building *b, int is_new, gr_err *err)
{
    static const char *const ins =
        "INSERT INTO bd_buildings (district, street, road, house_number, building, address_key, "
        "lat, lon, floors, use, " BD_META_INSERT
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " BD_META_PARAMS ")";
    static const char *const upd =
        "UPDATE bd_buildings SET district = ?, street = ?, road = ?, house_number = ?, "
        "building = ?, address_key = ?, lat = ?, lon = ?, floors = ?, use = ?, version = ?, "
        "steward_org_id = ?, steward_user_id = ?, source = ?, city_id = ?, district_id = ?, "
        "street_id = ?, community_id = ?, grid_id = ?, created_at = ?, updated_at = ? "
        "WHERE id = ?";
    db_stmt *st = db_prepare(c, is_new ? ins : upd, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_text_ref(st, 1, b->district);
    db_bind_text_ref(st, 2, b->street);
    db_bind_text_ref(st, 3, b->road);
    db_bind_text_ref(st, 4, b->house_number);
    db_bind_text_ref(st, 5, b->building);
    db_bind_text_ref(st, 6, building_key(a, b));
    db_bind_double(st, 7, b->lat);
    db_bind_double(st, 8, b->lon);
    db_bind_int_or_null(st, 9, b->floors);
    db_bind_text_ref(st, 10, b->use);
    bd_meta_bind(st, 11, &b->m);
    if (!is_new)
        db_bind_int(st, 22, b->m.id);
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_EEXIST)
        return err_set(err, GR_EEXIST, "address", "a building with this address exists");
    return rc;
}

/* A building moved to other units (old -> m) takes its houses and their
 * people along, a house moved to another building its people; the area
 * tallies follow (out under the old chain before, in under the new one
 * after). Nothing for a new record or one that stays. */
static int chain_cascade(db_conn *c, const char *entity, const bd_meta *old, const bd_meta *m,
                         gr_err *err)
{
    static const char *const sql[] = {
        "UPDATE bd_houses SET city_id = ?1, district_id = ?2, street_id = ?3, community_id = ?4, "
        "grid_id = ?5 WHERE building_id = ?6",
        "UPDATE bd_people SET city_id = ?1, district_id = ?2, street_id = ?3, community_id = ?4, "
        "grid_id = ?5 WHERE house_id IN (SELECT id FROM bd_houses WHERE building_id = ?6)",
        "UPDATE bd_people SET city_id = ?1, district_id = ?2, street_id = ?3, community_id = ?4, "
        "grid_id = ?5 WHERE house_id = ?6"};
    int building = strcmp(entity, "building") == 0;
    size_t k = building ? 0 : 2, end = building ? 2 : 3;
    int i, rc;

    if (!old->id || memcmp(old->chain, m->chain, sizeof(m->chain)) == 0)
        return 0;
    rc = bd_tally_place(c, entity, m->id, -1, err);

    for (; k < end && !rc; k++) {
        db_stmt *st = db_prepare(c, sql[k], err);
        if (!st)
            return GR_EINTERNAL;
        for (i = 0; i < 5; i++)
            db_bind_int_or_null(st, i + 1, m->chain[i]);
        db_bind_int(st, 6, m->id);
        rc = db_run(st, err);
        db_done(st);
    }
    return rc ? rc : bd_tally_place(c, entity, m->id, 1, err);
}

static int building_write(gr_ctx *ctx, db_conn *c, arena *a, const bd_actor *who, bd_building *in,
                          int64_t *id, int64_t version, int *changed, gr_err *err)
{
    bd_building old = {0};
    bd_changes ch = {0};
    int is_new = *id == 0, rc;

    rc = building_check(in, err);
    if (!rc)
        rc = bd_chain_at(ctx, c, in->lat, in->lon, in->m.chain, err);
    if (!rc && !is_new) {
        rc = bd_building_get(c, a, *id, &old, err);
        if (!rc)
            rc = bd_version_check(&old.m, version, err);
    }
    if (!rc)
        rc = bd_write_allowed(c, who, is_new, &old.m, &in->m, err);
    if (rc)
        goto out;
    in->m.id = *id;
    building_diff(&ch, &old, in, is_new);
    *changed = is_new || ch.n > 0;
    if (!*changed)
        goto out;
    rc = building_save(c, a, in, is_new, err);
    if (!rc && is_new)
        in->m.id = *id = db_last_id(c);
    if (!rc)
        rc = chain_cascade(c, "building", &old.m, &in->m, err);
    if (!rc)
        rc = bd_history_write(c, who, "building", &in->m, is_new, &ch, err);
out:
    bd_changes_free(&ch);
    return rc;
}

int bd_building_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, bd_building *in, int64_t *id,
                      int64_t version, int *changed, gr_err *err)
{
    arena *a = arena_new();
    int rc = building_write(ctx, c, a, who, in, id, version, changed, err);

    arena_free(a);
    return rc;
}

/* ---- houses ---- */

static int house_save(db_conn *c, const bd_house *h, int is_new, gr_err *err)
{
    static const char *const ins =
        "INSERT INTO bd_houses (building_id, unit, floor, room, area_m2, use, ownership, "
        "occupancy, " BD_META_INSERT ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, " BD_META_PARAMS ")";
    static const char *const upd =
        "UPDATE bd_houses SET building_id = ?, unit = ?, floor = ?, room = ?, area_m2 = ?, "
        "use = ?, ownership = ?, occupancy = ?, version = ?, steward_org_id = ?, "
        "steward_user_id = ?, source = ?, city_id = ?, district_id = ?, street_id = ?, "
        "community_id = ?, grid_id = ?, created_at = ?, updated_at = ? WHERE id = ?";
    db_stmt *st = db_prepare(c, is_new ? ins : upd, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, h->building_id);
    db_bind_text_ref(st, 2, h->unit);
    if (h->has_floor)
        db_bind_int(st, 3, h->floor);
    else
        db_bind_null(st, 3);
    db_bind_text_ref(st, 4, h->room);
    if (h->area_m2 > 0)
        db_bind_double(st, 5, h->area_m2);
    else
        db_bind_null(st, 5);
    db_bind_text_ref(st, 6, h->use);
    db_bind_text_ref(st, 7, h->ownership);
    db_bind_text_ref(st, 8, h->occupancy);
    bd_meta_bind(st, 9, &h->m);
    if (!is_new)
        db_bind_int(st, 20, h->m.id);
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_EEXIST)
        return err_set(err, GR_EEXIST, "room", "this building already has that unit and room");
    return rc;
}

/* The house takes its building's units. */
static int house_place(db_conn *c, arena *a, const int64_t *building_chain, bd_house *h,
                       gr_err *err)
{
    bd_building b;
    int rc;

    if (h->building_id <= 0)
        return err_set(err, GR_EINVAL, "building_id", "is required");
    if (building_chain) {
        memcpy(h->m.chain, building_chain, sizeof(h->m.chain));
        return 0;
    }
    rc = bd_building_get(c, a, h->building_id, &b, err);
    if (rc == GR_ENOTFOUND || (!rc && b.m.retired_at))
        return err_set(err, GR_EINVAL, "building_id", "no live building with id %lld",
                       (long long)h->building_id);
    if (!rc)
        memcpy(h->m.chain, b.m.chain, sizeof(h->m.chain));
    return rc;
}

/* The changes of a new house, made where the fields were checked. */
struct bd_house_prep {
    const char *created;
    int ncreated;
};

int bd_house_prepare(arena *a, bd_house *in, bd_house_prep **out, gr_err *err)
{
    bd_house none = {0};
    bd_changes ch = {0};
    bd_house_prep *p;
    int rc = house_check(in, err);

    *out = NULL;
    if (rc)
        return rc;
    p = arena_alloc(a, sizeof(*p));
    house_fields_diff(&ch, &none, in, 1);
    p->created = ch.n ? arena_strdup(a, ch.text.data) : NULL;
    p->ncreated = ch.n;
    bd_changes_free(&ch);
    *out = p;
    return 0;
}

static int house_write(db_conn *c, arena *a, const bd_actor *who, bd_house *in,
                       const bd_house_prep *prep, const int64_t *building_chain, int64_t *id,
                       int64_t version, int *changed, gr_err *err)
{
    bd_house old = {0};
    bd_changes ch = {0};
    int is_new = *id == 0, rc;

    rc = house_check(in, err);
    if (!rc)
        rc = house_place(c, a, building_chain, in, err);
    if (!rc && !is_new) {
        rc = bd_house_get(c, a, *id, &old, err);
        if (!rc)
            rc = bd_version_check(&old.m, version, err);
    }
    if (!rc)
        rc = bd_write_allowed(c, who, is_new, &old.m, &in->m, err);
    if (rc)
        goto out;
    in->m.id = *id;
    if (prep && is_new && prep->created) {
        buf_puts(&ch.text, prep->created);
        ch.n = prep->ncreated;
    } else {
        house_fields_diff(&ch, &old, in, is_new);
    }
    house_place_diff(&ch, &old, in);
    *changed = is_new || ch.n > 0;
    if (!*changed)
        goto out;
    rc = house_save(c, in, is_new, err);
    if (!rc && is_new)
        in->m.id = *id = db_last_id(c);
    if (!rc)
        rc = chain_cascade(c, "house", &old.m, &in->m, err);
    if (!rc && (is_new || memcmp(old.m.chain, in->m.chain, sizeof(old.m.chain)) != 0 ||
                strcmp(old.occupancy, in->occupancy) != 0)) {
        if (!is_new)
            rc = bd_tally_house(c, &old, -1, err);
        if (!rc)
            rc = bd_tally_house(c, in, 1, err);
    }
    if (!rc)
        rc = bd_history_write(c, who, "house", &in->m, is_new, &ch, err);
out:
    bd_changes_free(&ch);
    return rc;
}

int bd_house_write_placed(gr_ctx *ctx, db_conn *c, const bd_actor *who, bd_house *in,
                          const bd_house_prep *prep, const int64_t building_chain[5], int64_t *id,
                          int64_t version, int *changed, gr_err *err)
{
    arena *a = arena_new();
    int rc;

    (void)ctx;
    rc = house_write(c, a, who, in, prep, building_chain, id, version, changed, err);
    arena_free(a);
    return rc;
}

int bd_house_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, bd_house *in, int64_t *id,
                   int64_t version, int *changed, gr_err *err)
{
    return bd_house_write_placed(ctx, c, who, in, NULL, NULL, id, version, changed, err);
}

/* ---- lists ---- */

/* Appends the scope condition on the alias's chain (nothing matches an unknown unit). */
static int scope_sql(db_conn *c, arena *a, int64_t scope, const char **where, gr_err *err)
{
    const char *col;
    int rc;

    if (!scope)
        return 0;
    rc = org_unit_column(c, scope, &col, err);
    if (rc)
        return rc;
    *where = arena_printf(a, "%s AND %s = %lld", *where, col ? col : "id",
                          col ? (long long)scope : -1LL);
    return 0;
}

/* A filter of a list: "AND col = ?" with its value, when it is set. */
static void where_add(arena *a, const char **where, const char *col, int64_t v, int64_t *args,
                      size_t *k)
{
    if (!v)
        return;
    *where = arena_printf(a, "%s AND %s = ?", *where, col);
    args[(*k)++] = v;
}

/* One page of cols from table: what every place list shares (retired rows,
 * the scope, grid and community), plus building_id where the table has one. */
static int list_run(db_conn *c, arena *a, const char *cols, const char *table, const bd_filter *f,
                    int by_building, size_t size, db_row_reader read, void **out, size_t *n,
                    int *more, gr_err *err)
{
    const char *where = f->include_retired ? "1" : "retired_at IS NULL";
    int64_t args[3];
    size_t i, k = 0;
    db_stmt *st;
    int rc = scope_sql(c, a, f->scope, &where, err);

    if (rc)
        return rc;
    where_add(a, &where, "grid_id", f->grid_id, args, &k);
    where_add(a, &where, "community_id", f->community_id, args, &k);
    if (by_building)
        where_add(a, &where, "building_id", f->building_id, args, &k);
    st = db_prepare(c,
                    arena_printf(a, "SELECT %s FROM %s WHERE %s AND id > ? ORDER BY id LIMIT ?",
                                 cols, table, where),
                    err);
    if (!st)
        return GR_EINTERNAL;
    for (i = 0; i < k; i++)
        db_bind_int(st, (int)i + 1, args[i]);
    db_bind_int(st, (int)k + 1, f->after);
    db_bind_int(st, (int)k + 2, f->limit + 1);
    rc = db_read_page(st, a, f->limit, size, read, out, n, more, err);
    db_done(st);
    return rc;
}

int bd_building_list(db_conn *c, arena *a, const bd_filter *f, bd_building **out, size_t *n,
                     int *more, gr_err *err)
{
    return list_run(c, a, BUILDING_COLS, "bd_buildings", f, 0, sizeof(**out), building_read,
                    (void **)out, n, more, err);
}

int bd_house_list(db_conn *c, arena *a, const bd_filter *f, bd_house **out, size_t *n, int *more,
                  gr_err *err)
{
    return list_run(c, a, HOUSE_COLS, "bd_houses", f, 1, sizeof(**out), house_read, (void **)out, n,
                    more, err);
}

/* ---- natural keys (import) ---- */

/* The unit chain of a row, from column i on (city .. grid), into chain
 * when it is not NULL. */
static void chain_read(db_stmt *st, int i, int64_t chain[5])
{
    int k;

    for (k = 0; chain && k < 5; k++)
        chain[k] = db_col_int(st, i + k);
}

int bd_building_find_key(db_conn *c, arena *a, const bd_building *b, int64_t *id, int64_t *version,
                         int64_t chain[5], gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, version, city_id, district_id, street_id, community_id, "
                             "grid_id FROM bd_buildings WHERE address_key = ? AND "
                             "retired_at IS NULL",
                             err);
    int rc;

    *id = *version = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_text(st, 1, building_key(a, b));
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *id = db_col_int(st, 0);
        *version = db_col_int(st, 1);
        chain_read(st, 2, chain);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}

int bd_house_find_key(db_conn *c, int64_t building_id, const char *unit, const char *room,
                      int64_t *id, int64_t *version, int64_t chain[5], gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, version, city_id, district_id, street_id, community_id, "
                             "grid_id FROM bd_houses WHERE building_id = ? AND unit = ? AND "
                             "room = ? AND retired_at IS NULL",
                             err);
    int rc;

    *id = *version = 0;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, building_id);
    db_bind_text(st, 2, unit ? unit : "");
    db_bind_text(st, 3, room);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *id = db_col_int(st, 0);
        *version = db_col_int(st, 1);
        chain_read(st, 2, chain);
    }
    db_done(st);
    return rc < 0 ? rc : 0;
}
