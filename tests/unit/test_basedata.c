/* basedata/: buildings, houses and people in a real database on the demo
 * district: validation reasons naming the field, encryption at rest (the raw
 * columns hold no plain text), blind-index lookup, masking, history rows
 * with old and new values, stale versions, scope, retire, reveal, prefill,
 * and the import row functions (re-import changes nothing). ID numbers are
 * the public examples of china_standards.md §4.1 or synthetic ones whose
 * check character is computed here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "tally_check.h"
#include "id_number.h"
#include "testdb.h"
#include "tmpdir.h"

#include "app/app.h"
#include "auth/auth.h"
#include "base/log.h"
#include "basedata/bd_model.h"
#include "org/org.h"
#include "org/org_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];
static gr_ctx ctx;
static arena *A;
static bd_actor steward, worker, system_actor = {0, "system", 0};
static double in_lat, in_lon;   /* a point in the community worker's community */
static double out_lat, out_lon; /* a point in another community */

static void expect_err(int rc, const gr_err *err, int code, const char *field)
{
    if (rc != code || strcmp(err->field, field) != 0)
        print_error("got rc %d field '%s' (%s); want %d '%s'\n", rc, err->field, err->msg, code,
                    field);
    assert_int_equal(rc, code);
    assert_string_equal(err->field, field);
    assert_true(err->msg[0] != '\0');
}

/* A synthetic ID number: 17 digits and their MOD 11-2 check character. */
static const char *make_id(const char *first17)
{
    char *out = arena_alloc(A, 19);

    gr_test_id_number(first17, out);
    return out;
}

static void actor_for(const char *username, bd_actor *out)
{
    http_principal p = gr_testdb_principal(ctx.db, A, username);

    out->user_id = p.user_id;
    out->role = p.role;
    out->scope_org_id = p.scope_org_id;
}

static int group_setup(void **state)
{
    (void)state;
    gr_testdb_demo_app(&ctx, dir, sizeof(dir), "basedata");
    A = arena_new();
    actor_for("data_steward", &steward);
    actor_for("community_worker", &worker);
    assert_int_equal(
        gr_testdb_demo_point(&ctx, worker.scope_org_id, 1, 300, &in_lat, &in_lon, NULL), 0);
    assert_int_equal(
        gr_testdb_demo_point(&ctx, worker.scope_org_id, 0, 300, &out_lat, &out_lon, NULL), 0);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    app_close(&ctx);
    arena_free(A);
    return gr_tmpdir_remove(dir);
}

/* ---- writes through the writer, as the API does ---- */

typedef struct w {
    int kind; /* 0 building, 1 house, 2 person, 3 retire */
    const bd_actor *who;
    void *in;
    const char *entity;
    int64_t id, version;
    int changed;
} w;

static int w_fn(db_conn *c, void *arg, gr_err *err)
{
    w *x = arg;

    switch (x->kind) {
    case 0:
        return bd_building_write(&ctx, c, x->who, x->in, &x->id, x->version, &x->changed, err);
    case 1:
        return bd_house_write(&ctx, c, x->who, x->in, &x->id, x->version, &x->changed, err);
    case 2:
        return bd_person_write(&ctx, c, x->who, x->in, &x->id, x->version, &x->changed, err);
    default:
        return bd_retire_write(&ctx, c, x->who, x->entity, x->id, x->version, err);
    }
}

static int run(int kind, const bd_actor *who, void *in, int64_t *id, int64_t version, gr_err *err)
{
    w x = {kind, who, in, NULL, *id, version, 0};
    int rc = db_write(ctx.db, w_fn, &x, err);

    *id = x.id;
    return rc;
}

static int retire(const bd_actor *who, const char *entity, int64_t id, int64_t version, gr_err *err)
{
    w x = {3, who, NULL, entity, id, version, 0};

    return db_write(ctx.db, w_fn, &x, err);
}

static bd_building building_at(const char *number, double lat, double lon)
{
    bd_building b;

    memset(&b, 0, sizeof(b));
    b.district = "朝阳区";
    b.street = "建外街道";
    b.road = "建国路";
    b.house_number = number;
    b.building = "1号楼";
    b.lat = lat;
    b.lon = lon;
    b.floors = 18;
    b.use = "residential";
    return b;
}

static int64_t new_building(const char *number)
{
    bd_building b = building_at(number, in_lat, in_lon);
    gr_err err = {0};
    int64_t id = 0;

    assert_int_equal(run(0, &steward, &b, &id, 0, &err), 0);
    return id;
}

static int64_t new_house(int64_t building, const char *room)
{
    bd_house h;
    gr_err err = {0};
    int64_t id = 0;

    memset(&h, 0, sizeof(h));
    h.building_id = building;
    h.unit = "2单元";
    h.room = room;
    h.floor = 3;
    h.has_floor = 1;
    h.area_m2 = 89.5;
    h.ownership = "private";
    assert_int_equal(run(1, &steward, &h, &id, 0, &err), 0);
    return id;
}

static bd_person_input person_in(const char *name, const char *id_number, int64_t house)
{
    bd_person_input in;

    memset(&in, 0, sizeof(in));
    in.name = name;
    in.id_number = id_number;
    in.phone = "13800138000";
    in.residency = "registered";
    in.house_id = house;
    in.relation = "householder";
    in.today_yyyymmdd = 20261127;
    return in;
}

static int64_t new_person(const char *name, const char *id_number, int64_t house)
{
    bd_person_input in = person_in(name, id_number, house);
    gr_err err = {0};
    int64_t id = 0;

    assert_int_equal(run(2, &steward, &in, &id, 0, &err), 0);
    return id;
}

/* ---- tests ---- */

static void test_places(void **state)
{
    bd_building b = building_at("1号", in_lat, in_lon), got;
    bd_house h, hg;
    gr_err err = {0};
    int64_t id = 0, hid = 0, grid = org_grid_at(&ctx, in_lat, in_lon);

    (void)state;
    assert_int_equal(run(0, &steward, &b, &id, 0, &err), 0);
    assert_int_equal(bd_building_get(gr_testdb_reader(ctx.db), A, id, &got, &err), 0);
    assert_int_equal(got.m.version, 1);
    assert_int_equal(got.m.chain[4], grid);
    assert_true(org_is_within(gr_testdb_reader(ctx.db), worker.scope_org_id, got.m.chain[3]));
    assert_int_equal(got.m.steward_org_id, steward.scope_org_id);
    assert_string_equal(got.m.source, "collected");
    /* The same address again is the same building. */
    b = building_at("1号", in_lat, in_lon);
    {
        int64_t again = 0;
        expect_err(run(0, &steward, &b, &again, 0, &err), &err, GR_EEXIST, "address");
    }
    memset(&h, 0, sizeof(h));
    h.building_id = id;
    h.room = "101";
    h.ownership = "public_rental";
    assert_int_equal(run(1, &steward, &h, &hid, 0, &err), 0);
    assert_int_equal(bd_house_get(gr_testdb_reader(ctx.db), A, hid, &hg, &err), 0);
    assert_memory_equal(hg.m.chain, got.m.chain, sizeof(hg.m.chain));
    assert_string_equal(hg.occupancy, "occupied");
    assert_string_equal(hg.unit, "");
    {
        int64_t again = 0;
        expect_err(run(1, &steward, &h, &again, 0, &err), &err, GR_EEXIST, "room");
    }
    assert_string_equal(bd_address_text(A, &got, &hg), "朝阳区建外街道建国路1号 1号楼 101");
}

/* The unit chain of houses and people has no foreign keys of its own
 * (migration 0019): it is copied from the building, whose grid keeps its
 * key, so the grid of a building with people in it still cannot be
 * deleted, and every unit of every chain is one a building or a steward
 * holds, or the parent of one. */
static void test_chain_units_not_deletable(void **state)
{
    int64_t b = new_building("88号"), h = new_house(b, "808"),
            p = new_person("赵六", make_id("11010519750505101"), h);
    int64_t grid = org_grid_at(&ctx, in_lat, in_lon);
    gr_err err = {0};

    (void)state;
    assert_true(grid > 0);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT grid_id FROM bd_people WHERE id = ?", p), grid);
    expect_err(org_unit_delete(&ctx, grid, &err), &err, GR_ECONFLICT, "id");
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM org_units WHERE id = ?", grid), 1);
    assert_int_equal(
        gr_testdb_int(ctx.db,
                      "SELECT count(*) FROM (SELECT city_id AS u FROM bd_people UNION "
                      "SELECT district_id FROM bd_people UNION SELECT street_id FROM bd_people "
                      "UNION SELECT community_id FROM bd_people UNION SELECT grid_id FROM "
                      "bd_people UNION SELECT city_id FROM bd_houses UNION SELECT district_id "
                      "FROM bd_houses UNION SELECT street_id FROM bd_houses UNION SELECT "
                      "community_id FROM bd_houses UNION SELECT grid_id FROM bd_houses) "
                      "WHERE u IS NOT NULL AND ? = 0 "
                      "AND NOT EXISTS (SELECT 1 FROM bd_buildings WHERE grid_id = u OR "
                      "community_id = u OR street_id = u OR district_id = u OR city_id = u) "
                      "AND NOT EXISTS (SELECT 1 FROM bd_people WHERE steward_org_id = u) "
                      "AND NOT EXISTS (SELECT 1 FROM org_units WHERE parent_id = u)",
                      0),
        0);
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM pragma_foreign_key_check "
                                   "WHERE ? = 0",
                                   0),
                     0);
}

static void test_place_validation(void **state)
{
    bd_building b = building_at("2号", 10.0, 10.0);
    bd_house h;
    gr_err err = {0};
    int64_t id = 0;

    (void)state;
    expect_err(run(0, &steward, &b, &id, 0, &err), &err, GR_EINVAL, "lat");
    b = building_at("2号", in_lat, in_lon);
    b.use = "castle";
    expect_err(run(0, &steward, &b, &id, 0, &err), &err, GR_EINVAL, "use");
    assert_non_null(strstr(err.msg, "residential"));
    b = building_at("2号", in_lat, in_lon);
    b.road = NULL;
    expect_err(run(0, &steward, &b, &id, 0, &err), &err, GR_EINVAL, "road");
    b = building_at("2号", in_lat, in_lon);
    b.use = "住宅"; /* the Chinese name is taken as the code */
    assert_int_equal(run(0, &steward, &b, &id, 0, &err), 0);
    memset(&h, 0, sizeof(h));
    h.building_id = 999999;
    h.room = "1";
    h.ownership = "private";
    {
        int64_t hid = 0;
        expect_err(run(1, &steward, &h, &hid, 0, &err), &err, GR_EINVAL, "building_id");
        h.building_id = id;
        h.ownership = NULL;
        expect_err(run(1, &steward, &h, &hid, 0, &err), &err, GR_EINVAL, "ownership");
    }
}

static void test_person_validation(void **state)
{
    int64_t house = new_house(new_building("3号"), "301"), id = 0;
    bd_person_input in;
    gr_err err = {0};

    (void)state;
    in = person_in("李四", "110105194912310021", house); /* neighbour of the public example */
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "id_number");
    assert_non_null(strstr(err.msg, "checksum"));
    in = person_in("李四", "11010519491331002X", house);
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "id_number");
    assert_non_null(strstr(err.msg, "date"));
    in = person_in("李四", make_id("11010519800101003"), house);
    in.phone = "12345";
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "phone");
    in = person_in("李四", make_id("11010519800101003"), house);
    in.residency = "floating";
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "permit_start");
    in.permit_start = "2026-01-01";
    in.permit_end = "2025-01-01";
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "permit_end");
    in = person_in("李四", make_id("11010519800101003"), house);
    in.care_tags[0] = "vip";
    in.ncare_tags = 1;
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "care_tags");
    in = person_in(NULL, make_id("11010519800101003"), house);
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "name");
    in = person_in("李四", make_id("11010519800101003"), 0);
    in.residency = "tourist";
    expect_err(run(2, &steward, &in, &id, 0, &err), &err, GR_EINVAL, "residency");
    assert_int_equal(id, 0);
}

/* Nothing of the name, the ID number or the phone is stored in clear. */
static void test_encryption_at_rest(void **state)
{
    int64_t house = new_house(new_building("4号"), "401");
    int64_t id = new_person("张三丰", "11010519491231002X", house);
    db_conn *c = gr_testdb_reader(ctx.db);
    const char *cols[] = {"name_enc", "id_number_enc", "phone_enc", "name_index",
                          "id_number_index"};
    const char *plain[] = {"张三丰", "11010519491231002X", "13800138000", "19491231002X", "138001"};
    bd_person p;
    gr_err err = {0};
    size_t i, k;

    (void)state;
    for (i = 0; i < 5; i++) {
        char sql[128];
        db_stmt *st;
        const unsigned char *blob;
        size_t len;
        snprintf(sql, sizeof(sql), "SELECT %s FROM bd_people WHERE id = ?", cols[i]);
        st = db_prepare(c, sql, &err);
        assert_non_null(st);
        db_bind_int(st, 1, id);
        assert_int_equal(db_step(st, &err), DB_ROW);
        blob = db_col_blob(st, 0, &len);
        assert_true(len >= 32);
        for (k = 0; k < 5; k++)
            assert_null(memmem(blob, len, plain[k], strlen(plain[k])));
        db_done(st);
    }
    assert_int_equal(bd_person_get(c, A, id, &p, &err), 0);
    assert_string_equal(p.name_hint, "张**");
    assert_string_equal(p.id_number_hint, "110105********002X");
    assert_string_equal(p.phone_hint, "138****8000");
    assert_string_equal(p.birth_date, "1949-12-31");
    assert_string_equal(p.sex, "F");
    /* The sealed value is bound to its column: the name's ciphertext does not
     * open as an ID number. */
    {
        bd_person_clear clear;
        assert_int_equal(
            bd_person_reveal(&ctx, c, A, id, BD_F_NAME | BD_F_ID_NUMBER | BD_F_PHONE, &clear, &err),
            0);
        assert_string_equal(clear.name, "张三丰");
        assert_string_equal(clear.id_number, "11010519491231002X");
        assert_string_equal(clear.phone, "13800138000");
    }
}

static void test_blind_index(void **state)
{
    int64_t house = new_house(new_building("5号"), "501");
    const char *idn = make_id("11010519900307123");
    int64_t id = new_person("王五", idn, house), found = 0, dup = 0;
    bd_person_input in;
    bd_filter f = {0};
    bd_person *v = NULL;
    unsigned char ix[32];
    size_t n = 0;
    int more = 0;
    gr_err err = {0};

    (void)state;
    assert_int_equal(bd_person_find_id_number(&ctx, gr_testdb_reader(ctx.db), idn, &found, &err),
                     0);
    assert_int_equal(found, id);
    expect_err(bd_person_find_id_number(&ctx, gr_testdb_reader(ctx.db),
                                        make_id("11010519900307124"), &found, &err),
               &err, GR_ENOTFOUND, "id_number");
    /* The same number twice is refused, naming the field. */
    in = person_in("王五五", idn, house);
    expect_err(run(2, &steward, &in, &dup, 0, &err), &err, GR_EEXIST, "id_number");
    /* By name, within scope. */
    bd_blind_index(&ctx, BD_AD_NAME, "王五", ix);
    f.name_index = ix;
    /* The name as typed, with spaces around it, is the same name. */
    {
        bd_person_input again = person_in(" 王五 ", make_id("11010519900307131"), house);
        int64_t other = 0;
        assert_int_equal(run(2, &steward, &again, &other, 0, &err), 0);
    }
    f.scope = worker.scope_org_id;
    f.limit = 10;
    assert_int_equal(bd_person_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].m.id, id);
    /* The name index is not the ID number index of the same text. */
    {
        unsigned char a[32], b[32];
        bd_blind_index(&ctx, BD_AD_NAME, "x", a);
        bd_blind_index(&ctx, BD_AD_ID_NUMBER, "x", b);
        assert_memory_not_equal(a, b, 32);
        bd_blind_index(&ctx, BD_AD_ID_NUMBER, "11010519491231002x", a);
        bd_blind_index(&ctx, BD_AD_ID_NUMBER, "11010519491231002X", b);
        assert_memory_equal(a, b, 32);
    }
}

static json_t *history_of(const char *entity, int64_t id)
{
    json_t *items = NULL;
    int more = 0;
    gr_err err = {0};

    assert_int_equal(
        bd_history_list(gr_testdb_reader(ctx.db), A, entity, id, 0, 100, &items, &more, &err), 0);
    return items;
}

static int history_raw(db_conn *c, void *arg, gr_err *err)
{
    bd_change h = {"building", 999999, 1, 1, &system_actor, "collected", "create", arg};

    return bd_history_add(c, &h, err);
}

/* The changes text is written by bd_changes, not by jansson: what is read
 * back is what was put, escapes and all, in the order put; equal values
 * put nothing. */
static void test_history_changes_text(void **state)
{
    json_t *want = json_pack(
        "{s:[n, s], s:[i, I], s:[n, i], s:[f, n], s:[f, f], s:[s, b], s:[s, s], s:[s, n], "
        "s:[n, [i, s]]}",
        "road", "a \"quoted\" \\ road\n\t\001\r\b 路", "floors", 3, (json_int_t)-9007199254740993LL,
        "grid_id", 7, "area_m2", 12.5, "lat", 39.0, 39.915000000000006, "odd", "x", 1, "unit", "",
        "单元", "name", BD_SEALED_MARK, "tags", 1, "t");
    json_t *x = json_string("x"), *yes = json_true(), *arr = json_pack("[i, s]", 1, "t");
    bd_changes ch = {0};
    json_t *h, *got;
    gr_err err = {0};

    (void)state;
    bd_changes_put_text(&ch, "road", NULL, "a \"quoted\" \\ road\n\t\001\r\b 路");
    bd_changes_put_text(&ch, "same", "路", "路");
    bd_changes_put_int(&ch, "floors", 3, -9007199254740993LL, 0);
    bd_changes_put_int(&ch, "grid_id", 0, 7, 1);
    bd_changes_put_int(&ch, "steward_org_id", 5, 5, 1);
    bd_changes_put_real(&ch, "area_m2", 1, 12.5, 0, 0);
    bd_changes_put_real(&ch, "lat", 1, 39.0, 1, 39.915000000000006);
    bd_changes_put_real(&ch, "lon", 1, 116.4, 1, 116.4);
    bd_changes_put_json(&ch, "odd", x, yes);
    bd_changes_put_json(&ch, "also_same", x, x);
    bd_changes_put_text(&ch, "unit", "", "单元");
    bd_changes_put_sealed(&ch, "name", 1, 0);
    bd_changes_put_json(&ch, "tags", json_null(), arr);
    assert_int_equal(ch.n, 9);
    assert_int_equal(db_write(ctx.db, history_raw, &ch, &err), 0);
    h = history_of("building", 999999);
    assert_int_equal(json_array_size(h), 1);
    got = json_object_get(json_array_get(h, 0), "changes");
    assert_true(json_equal(got, want));
    assert_string_equal(json_object_iter_key(json_object_iter(got)), "road");
    /* Whole reals keep their point, as jansson writes them. */
    assert_non_null(strstr(ch.text.data, "\"lat\":[39.0,"));
    json_decref(h);
    json_decref(want);
    json_decref(x);
    json_decref(yes);
    json_decref(arr);
    bd_changes_free(&ch);
}

/* ---- the area tallies (bd_tally.h) ---- */

static void assert_tallies(void)
{
    const char *sql;
    int64_t bad;
    int k;

    /* Everyone registered to a house lies in the house's units. */
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM bd_people p JOIN bd_houses h ON h.id = "
                                   "p.house_id WHERE (p.grid_id IS NOT h.grid_id OR p.community_id "
                                   "IS NOT h.community_id) AND ?",
                                   1),
                     0);

    for (k = 0; (sql = gr_tally_check_sql(k)) != NULL; k++) {
        bad = gr_testdb_int(ctx.db, sql, 0);
        if (bad)
            print_error("%s differs from the tables\n", gr_tally_name(k));
        assert_int_equal(bad, 0);
    }
}

/* The live people a tally counts under a unit. */
static int64_t tally_people(int64_t unit)
{
    return gr_testdb_int(ctx.db, "SELECT coalesce(sum(n), 0) FROM bd_pop_tally WHERE unit_id = ?",
                         unit);
}

static int64_t tally_houses(int64_t unit, const char *occupancy)
{
    char sql[160];

    snprintf(sql, sizeof(sql),
             "SELECT coalesce(sum(n), 0) FROM bd_house_tally WHERE unit_id = ? AND occupancy = "
             "'%s'",
             occupancy);
    return gr_testdb_int(ctx.db, sql, unit);
}

static int64_t tallied_house(int64_t building, const char *room, const char *occupancy)
{
    bd_house h;
    gr_err err = {0};
    int64_t id = 0;

    memset(&h, 0, sizeof(h));
    h.building_id = building;
    h.room = room;
    h.ownership = "private";
    h.occupancy = occupancy;
    assert_int_equal(run(1, &steward, &h, &id, 0, &err), 0);
    return id;
}

/* A person as stored, ready to be written again. */
static bd_person_input person_again(int64_t id, int64_t *version)
{
    bd_person p;
    bd_person_input in;
    gr_err err = {0};

    assert_int_equal(bd_person_get(gr_testdb_reader(ctx.db), A, id, &p, &err), 0);
    bd_person_input_from(&p, &in);
    bd_person_tags_split(A, p.care_tags, &in);
    *version = p.m.version;
    return in;
}

/* Every write of the model keeps the tallies exact: people written, their
 * tags, residency and ID number (the birth year) changed, a person moved to
 * another house, a building and a house moved to other units with the
 * people in them, an unchanged rewrite, houses' occupancy, retirement. */
static void test_area_tallies(void **state)
{
    int64_t ga = org_grid_at(&ctx, in_lat, in_lon), gb = org_grid_at(&ctx, out_lat, out_lon);
    bd_building ba = building_at("T1号", in_lat, in_lon),
                bb = building_at("T2号", out_lat, out_lon),
                bc = building_at("T3号", in_lat, in_lon), got;
    int64_t a = 0, b = 0, c = 0, ha1, ha2, hb1, p1, p2, p3, v, ca, ca_people;
    bd_person_input in;
    bd_house h;
    gr_err err = {0};

    (void)state;
    assert_true(ga > 0 && gb > 0 && ga != gb);
    /* The population is tallied down to the community (a grid counts its
     * people itself: BD_TALLY_POP_LEVELS); the two grids lie in two. */
    ca = gr_testdb_int(ctx.db, "SELECT parent_id FROM org_units WHERE id = ?", ga);
    assert_int_not_equal(ca,
                         gr_testdb_int(ctx.db, "SELECT parent_id FROM org_units WHERE id = ?", gb));
    assert_tallies();
    ca_people = tally_people(ca);
    assert_int_equal(run(0, &steward, &ba, &a, 0, &err), 0);
    assert_int_equal(run(0, &steward, &bb, &b, 0, &err), 0);
    ha1 = tallied_house(a, "101", "occupied");
    ha2 = tallied_house(a, "102", "vacant");
    hb1 = tallied_house(b, "101", "vacant");
    in = person_in("钱一", make_id("11010519330303001"), ha1);
    in.care_tags[0] = "elderly_alone";
    in.ncare_tags = 1;
    p1 = 0;
    assert_int_equal(run(2, &steward, &in, &p1, 0, &err), 0);
    p2 = new_person("钱二", make_id("11010519610606002"), ha1);
    p3 = new_person("钱三", make_id("11010519720707003"), 0);
    assert_tallies();
    assert_int_equal(tally_people(ca), ca_people + 2);
    assert_int_equal(tally_houses(ga, "vacant"), 1);

    /* Residency, tags and the ID number (another birth year) of p2. */
    in = person_again(p2, &v);
    in.residency = "floating";
    in.permit_start = "2026-01-01";
    in.permit_end = "2027-12-31";
    in.care_tags[0] = "disabled";
    in.care_tags[1] = "low_income";
    in.ncare_tags = 2;
    in.id_number = make_id("11010519620606002");
    in.today_yyyymmdd = 20261127;
    assert_int_equal(run(2, &steward, &in, &p2, v, &err), 0);
    assert_tallies();
    /* p1 to a house of the other grid, tags along; an unchanged p3 (a new
     * name only) moves nothing. */
    in = person_again(p1, &v);
    in.house_id = hb1;
    assert_int_equal(run(2, &steward, &in, &p1, v, &err), 0);
    in = person_again(p3, &v);
    in.name = "钱叁";
    assert_int_equal(run(2, &steward, &in, &p3, v, &err), 0);
    assert_tallies();
    assert_int_equal(tally_people(ca), ca_people + 1);
    /* Occupancy. */
    assert_int_equal(bd_house_get(gr_testdb_reader(ctx.db), A, ha2, &h, &err), 0);
    h.occupancy = "occupied";
    assert_int_equal(run(1, &steward, &h, &ha2, h.m.version, &err), 0);
    assert_tallies();
    assert_int_equal(tally_houses(ga, "vacant"), 0);

    /* Building a moves to the other grid with its houses and p2; then house
     * ha1 (p2 in it) to a new building c back in the first grid. */
    assert_int_equal(bd_building_get(gr_testdb_reader(ctx.db), A, a, &got, &err), 0);
    got.lat = out_lat;
    got.lon = out_lon;
    assert_int_equal(run(0, &steward, &got, &a, got.m.version, &err), 0);
    assert_tallies();
    assert_int_equal(tally_people(ca), ca_people);
    assert_int_equal(tally_houses(gb, "occupied"), 2);
    assert_int_equal(run(0, &steward, &bc, &c, 0, &err), 0);
    assert_int_equal(bd_house_get(gr_testdb_reader(ctx.db), A, ha1, &h, &err), 0);
    h.building_id = c;
    assert_int_equal(run(1, &steward, &h, &ha1, h.m.version, &err), 0);
    assert_tallies();
    assert_int_equal(tally_people(ca), ca_people + 1);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT grid_id FROM bd_people WHERE id = ?", p2), ga);

    /* Retirement: a person, and a house with nobody in it. */
    in = person_again(p1, &v);
    assert_int_equal(retire(&steward, "person", p1, v, &err), 0);
    assert_int_equal(bd_house_get(gr_testdb_reader(ctx.db), A, ha2, &h, &err), 0);
    assert_int_equal(retire(&steward, "house", ha2, h.m.version, &err), 0);
    assert_tallies();
    assert_int_equal(tally_houses(gb, "occupied"), 0);
    assert_int_equal(tally_people(ga) + tally_people(gb), 0);
}

static void test_history_and_versions(void **state)
{
    int64_t house = new_house(new_building("6号"), "601");
    int64_t id = new_person("赵六", make_id("11010519850615201"), house);
    bd_person p;
    bd_person_input in;
    json_t *h, *ch;
    gr_err err = {0};

    (void)state;
    assert_int_equal(bd_person_get(gr_testdb_reader(ctx.db), A, id, &p, &err), 0);
    bd_person_input_from(&p, &in);
    in.phone = "13900139000";
    in.residency = "permanent";
    in.care_tags[0] = "elderly_alone";
    in.care_tags[1] = "低保";
    in.ncare_tags = 2;
    assert_int_equal(run(2, &worker, &in, &id, 1, &err), 0);
    h = history_of("person", id);
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "action")),
                        "create");
    ch = json_object_get(json_array_get(h, 1), "changes");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "residency"), 0)),
                        "registered");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "residency"), 1)),
                        "permanent");
    assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "phone"), 1)),
                        BD_SEALED_MARK);
    assert_string_equal(json_string_value(json_array_get(json_object_get(ch, "care_tags"), 1)),
                        "elderly_alone,low_income");
    assert_null(json_object_get(ch, "name"));
    {
        char *text = json_dumps(ch, 0);
        assert_null(strstr(text, "13800138000"));
        free(text);
    }
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM bd_history_sealed WHERE entity = 'person' "
                                   "AND entity_id = ?1 AND field = 'phone' AND version = 2",
                                   id),
                     1);
    assert_int_equal(
        gr_testdb_int(ctx.db, "SELECT count(*) FROM bd_person_tags WHERE person_id = ?1", id), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 1), "actor_role")),
                        "community_worker");
    json_decref(h);
    /* A stale version changes nothing. */
    in.phone = NULL;
    in.residency = "registered";
    expect_err(run(2, &worker, &in, &id, 1, &err), &err, GR_ECONFLICT, "version");
    /* The same state again is no new version. */
    in.residency = "permanent";
    assert_int_equal(run(2, &worker, &in, &id, 2, &err), 0);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT version FROM bd_people WHERE id = ?1", id), 2);
    /* History is append-only. */
    {
        char sql[] = "UPDATE bd_history SET action = 'update'";
        assert_int_not_equal(db_write(ctx.db, gr_testdb_exec_fn, sql, &err), 0);
    }
}

static void test_scope(void **state)
{
    bd_building b = building_at("7号", out_lat, out_lon);
    int64_t id = 0, inside = new_building("8号");
    bd_filter f = {0};
    bd_building *v = NULL, got;
    size_t n = 0, i;
    int more = 0;
    gr_err err = {0};

    (void)state;
    expect_err(run(0, &worker, &b, &id, 0, &err), &err, GR_EFORBIDDEN, "id");
    assert_int_equal(run(0, &steward, &b, &id, 0, &err), 0);
    /* A change by the worker of a building outside the community: refused. */
    assert_int_equal(bd_building_get(gr_testdb_reader(ctx.db), A, id, &got, &err), 0);
    got.floors = 3;
    expect_err(run(0, &worker, &got, &id, 1, &err), &err, GR_EFORBIDDEN, "id");
    expect_err(retire(&worker, "building", id, 1, &err), &err, GR_EFORBIDDEN, "id");
    /* Moving a building of the community out of it is refused too. */
    assert_int_equal(bd_building_get(gr_testdb_reader(ctx.db), A, inside, &got, &err), 0);
    got.lat = out_lat;
    got.lon = out_lon;
    expect_err(run(0, &worker, &got, &inside, 1, &err), &err, GR_EFORBIDDEN, "id");
    /* Lists: only what lies in the scope. */
    f.scope = worker.scope_org_id;
    f.limit = 100;
    assert_int_equal(bd_building_list(gr_testdb_reader(ctx.db), A, &f, &v, &n, &more, &err), 0);
    assert_true(n > 0);
    for (i = 0; i < n; i++)
        assert_int_not_equal(v[i].m.id, id);
}

static void test_retire_and_prefill(void **state)
{
    int64_t b = new_building("9号"), house = new_house(b, "901");
    int64_t p1 = new_person("钱七", make_id("11010519700101301"), house);
    int64_t p2 = new_person("钱八", make_id("11010520050101302"), house);
    bd_prefill_out out;
    json_t *h;
    gr_err err = {0};

    (void)state;
    assert_int_equal(bd_prefill(gr_testdb_reader(ctx.db), A, p1, &out, &err), 0);
    assert_int_equal(out.house_id, house);
    assert_int_equal(out.building_id, b);
    assert_string_equal(out.address, "朝阳区建外街道建国路9号 1号楼 2单元 901");
    assert_int_equal(out.nmembers, 2);
    assert_int_equal(out.members[1].person_id, p2);
    assert_string_equal(out.members[1].name_hint, "钱*");
    assert_true(out.community_id > 0);
    /* A house with people cannot be retired; a person can, once. */
    expect_err(retire(&steward, "house", house, 1, &err), &err, GR_ECONFLICT, "id");
    assert_int_equal(retire(&steward, "person", p2, 1, &err), 0);
    expect_err(retire(&steward, "person", p2, 2, &err), &err, GR_ECONFLICT, "id");
    h = history_of("person", p2);
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 1), "action")),
                        "retire");
    json_decref(h);
    assert_int_equal(bd_prefill(gr_testdb_reader(ctx.db), A, p1, &out, &err), 0);
    assert_int_equal(out.nmembers, 1);
    /* A retired person's ID number may be registered again. */
    (void)system_actor;
}

static void import_csv(const bd_import_entity *e, const char *csv, bd_import_result *res)
{
    csv_reader *in = csv_new_mem(csv, strlen(csv));
    gr_err err = {0};

    memset(res, 0, sizeof(*res));
    assert_int_equal(bd_import_run(&ctx, e, in, &steward, NULL, res, &err), 0);
    csv_free(in);
}

/* "houseNUMBER/room" of the person born on date (one each in the test below). */
static char *house_of(const char *birth_date)
{
    static char out[64];
    db_conn *c = gr_testdb_reader(ctx.db);
    gr_err err = {0};
    db_stmt *st = db_prepare(c,
                             "SELECT b.house_number || '/' || h.room FROM bd_people p JOIN "
                             "bd_houses h ON h.id = p.house_id JOIN bd_buildings b ON "
                             "b.id = h.building_id WHERE p.birth_date = ?",
                             &err);

    assert_non_null(st);
    db_bind_text(st, 1, birth_date);
    out[0] = '\0';
    if (db_step(st, &err) == DB_ROW)
        snprintf(out, sizeof(out), "%s", db_col_text(st, 0));
    db_done(st);
    return out;
}

/* People rows find their houses: a new house in the building of the row
 * before skips the building's lookup (bd_rows.c), a row of another
 * building with the same unit and room does not, nor does the building
 * after it that returns to the first. */
static void test_import_people_across_buildings(void **state)
{
    char buildings[512], people[2048];
    bd_import_result r;

    (void)state;
    snprintf(buildings, sizeof(buildings),
             "district,street,road,house_number,building,lat,lon,floors,use\n"
             "朝阳区,建外街道,光华路,30号,,%.7f,%.7f,6,residential\n"
             "朝阳区,建外街道,光华路,31号,,%.7f,%.7f,6,residential\n",
             in_lat, in_lon, in_lat, in_lon);
    import_csv(&bd_import_buildings, buildings, &r);
    assert_int_equal(r.stored, 2);
    import_csv(&bd_import_houses,
               "district,street,road,house_number,building,unit,room,ownership\n"
               "朝阳区,建外街道,光华路,30号,,1单元,101,private\n"
               "朝阳区,建外街道,光华路,30号,,1单元,102,private\n"
               "朝阳区,建外街道,光华路,31号,,1单元,101,private\n"
               "朝阳区,建外街道,光华路,31号,,1单元,102,private\n",
               &r);
    assert_int_equal(r.stored, 4);
    snprintf(people, sizeof(people),
             "district,street,road,house_number,building,unit,room,name,id_number,residency\n"
             "朝阳区,建外街道,光华路,30号,,1单元,101,周一,%s,registered\n"
             "朝阳区,建外街道,光华路,30号,,1单元,102,周二,%s,registered\n"
             "朝阳区,建外街道,光华路,31号,,1单元,102,周三,%s,registered\n"
             "朝阳区,建外街道,光华路,31号,,1单元,101,周四,%s,registered\n"
             "朝阳区,建外街道,光华路,30号,,1单元,102,周五,%s,registered\n"
             "朝阳区,建外街道,光华路,30号,,1单元,103,周六,%s,registered\n",
             make_id("11010519510101101"), make_id("11010519520101101"),
             make_id("11010519530101101"), make_id("11010519540101101"),
             make_id("11010519550101101"), make_id("11010519560101101"));
    import_csv(&bd_import_people, people, &r);
    assert_int_equal(r.stored, 5);
    assert_int_equal(r.bad, 1); /* 30号 has no room 103 */
    assert_string_equal(house_of("1951-01-01"), "30号/101");
    assert_string_equal(house_of("1952-01-01"), "30号/102");
    assert_string_equal(house_of("1953-01-01"), "31号/102");
    assert_string_equal(house_of("1954-01-01"), "31号/101");
    assert_string_equal(house_of("1955-01-01"), "30号/102");
    assert_string_equal(house_of("1956-01-01"), "");
}

/* The row functions: good rows stored, bad ones counted, a second import
 * of the same file changes nothing (no new versions, no new history). */
static void test_import_rows(void **state)
{
    char buildings[512], houses[512], people[1024];
    bd_import_result r;
    int64_t hist;

    (void)state;
    snprintf(buildings, sizeof(buildings),
             "district,street,road,house_number,building,lat,lon,floors,use\n"
             "朝阳区,建外街道,光华路,20号,A座,%.7f,%.7f,12,residential\n"
             "朝阳区,建外街道,光华路,21号,,%.7f,%.7f,x,residential\n",
             in_lat, in_lon, in_lat, in_lon);
    snprintf(houses, sizeof(houses),
             "district,street,road,house_number,building,unit,floor,room,area_m2,ownership\n"
             "朝阳区,建外街道,光华路,20号,A座,1单元,5,501,70.5,private\n"
             "朝阳区,建外街道,光华路,20号,A座,1单元,5,502,,private\n"
             "朝阳区,建外街道,光华路,99号,A座,1单元,5,501,70.5,private\n");
    snprintf(people, sizeof(people),
             "district,street,road,house_number,building,unit,room,name,id_number,phone,"
             "residency,permit_start,permit_end,relation,care_tags\n"
             "朝阳区,建外街道,光华路,20号,A座,1单元,501,孙一,%s,13700137000,户籍,,,户主,"
             "独居老人;disabled\n"
             "朝阳区,建外街道,光华路,20号,A座,1单元,501,孙二,%s,,流动,2026-01-01,2026-12-31,"
             "tenant,\n"
             "朝阳区,建外街道,光华路,20号,A座,1单元,502,孙三,110105194912310021,,常住,,,,\n",
             make_id("11010519400202501"), make_id("41010519950505602"));
    import_csv(&bd_import_buildings, buildings, &r);
    assert_int_equal(r.rows, 2);
    assert_int_equal(r.stored, 1);
    assert_int_equal(r.bad, 1);
    import_csv(&bd_import_houses, houses, &r);
    assert_int_equal(r.stored, 2);
    assert_int_equal(r.bad, 1);
    /* An imported house's changes were made in the reading thread
     * (bd_house_prepare): the same as a house written through the model
     * with the same fields, but for the room and the steward. */
    {
        bd_house h;
        gr_err err = {0};
        int64_t hid = 0, building = gr_testdb_int(ctx.db,
                                                  "SELECT id FROM bd_buildings WHERE road = "
                                                  "'光华路' AND house_number = '20号' AND ?1",
                                                  1);

        memset(&h, 0, sizeof(h));
        h.building_id = building;
        h.unit = "1单元";
        h.floor = 5;
        h.has_floor = 1;
        h.room = "503";
        h.area_m2 = 70.5;
        h.ownership = "private";
        h.m.source = "imported";
        assert_int_equal(run(1, &steward, &h, &hid, 0, &err), 0);
        assert_int_equal(
            gr_testdb_int(ctx.db,
                          "SELECT count(*) FROM bd_history i, bd_history m, bd_houses x WHERE "
                          "x.building_id = (SELECT building_id FROM bd_houses WHERE id = ?1) AND "
                          "x.room = '501' AND i.entity = 'house' "
                          "AND i.entity_id = x.id AND i.action = 'create' AND m.entity = "
                          "'house' AND m.entity_id = ?1 AND m.action = 'create' AND "
                          "json_remove(i.changes, '$.room', '$.steward_org_id', "
                          "'$.steward_user_id') = json_remove(m.changes, '$.room', "
                          "'$.steward_org_id', '$.steward_user_id') AND "
                          "json_extract(i.changes, '$.area_m2[1]') = 70.5 AND "
                          "json_extract(i.changes, '$.building_id[1]') = x.building_id",
                          hid),
            1);
    }
    import_csv(&bd_import_people, people, &r);
    assert_int_equal(r.stored, 2);
    assert_int_equal(r.bad, 1);
    assert_int_equal(gr_testdb_int(ctx.db,
                                   "SELECT count(*) FROM bd_person_tags t JOIN bd_people p ON "
                                   "p.id = t.person_id WHERE p.source = 'imported' AND ?1",
                                   1),
                     2);
    hist = gr_testdb_int(ctx.db, "SELECT count(*) FROM bd_history WHERE ?1", 1);
    import_csv(&bd_import_buildings, buildings, &r);
    assert_int_equal(r.unchanged, 1);
    import_csv(&bd_import_houses, houses, &r);
    assert_int_equal(r.unchanged, 2);
    import_csv(&bd_import_people, people, &r);
    assert_int_equal(r.unchanged, 2);
    assert_int_equal(r.stored, 0);
    assert_int_equal(gr_testdb_int(ctx.db, "SELECT count(*) FROM bd_history WHERE ?1", 1), hist);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_places),
        cmocka_unit_test(test_history_changes_text),
        cmocka_unit_test(test_area_tallies),
        cmocka_unit_test(test_chain_units_not_deletable),
        cmocka_unit_test(test_place_validation),
        cmocka_unit_test(test_person_validation),
        cmocka_unit_test(test_encryption_at_rest),
        cmocka_unit_test(test_blind_index),
        cmocka_unit_test(test_history_and_versions),
        cmocka_unit_test(test_scope),
        cmocka_unit_test(test_retire_and_prefill),
        cmocka_unit_test(test_import_rows),
        cmocka_unit_test(test_import_people_across_buildings),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
