/* The import row functions of buildings, houses and people (bd_import.h):
 * each row is found by its natural key (the standard address; building,
 * unit and room; the ID number through its blind index) and written only
 * when it says something new, so re-importing a file changes nothing. */
#include "basedata/bd_model.h"

#include "geo/coord.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { C_DISTRICT, C_STREET, C_ROAD, C_NUMBER, C_BUILDING };

static const char *const building_cols[] = {"district", "street", "road",  "house_number",
                                            "building", "lat",    "lon",   "crs",
                                            "floors",   "use",    "source"};
static const char *const building_req[] = {"district", "street", "road", "house_number",
                                           "lat",      "lon",    "use"};
static const char *const house_cols[] = {
    "district", "street", "road",    "house_number", "building",  "building_id", "unit",
    "floor",    "room",   "area_m2", "use",          "ownership", "occupancy",   "source"};
/* house_cols by name, in their order. */
enum {
    H_DISTRICT,
    H_STREET,
    H_ROAD,
    H_NUMBER,
    H_BUILDING,
    H_BUILDING_ID,
    H_UNIT,
    H_FLOOR,
    H_ROOM,
    H_AREA_M2,
    H_USE,
    H_OWNERSHIP,
    H_OCCUPANCY,
    H_SOURCE
};
_Static_assert(sizeof(house_cols) / sizeof(house_cols[0]) == H_SOURCE + 1,
               "house_cols and their names differ");
static const char *const house_req[] = {"room", "ownership"};
static const char *const person_cols[] = {
    "district",  "street",       "road",       "house_number", "building",   "unit",
    "room",      "house_id",     "name",       "id_number",    "phone",      "ethnicity",
    "residency", "permit_start", "permit_end", "relation",     "employment", "social_security",
    "care_tags", "source"};
/* person_cols by name, in their order. */
enum {
    P_DISTRICT,
    P_STREET,
    P_ROAD,
    P_NUMBER,
    P_BUILDING,
    P_UNIT,
    P_ROOM,
    P_HOUSE_ID,
    P_NAME,
    P_ID_NUMBER,
    P_PHONE,
    P_ETHNICITY,
    P_RESIDENCY,
    P_PERMIT_START,
    P_PERMIT_END,
    P_RELATION,
    P_EMPLOYMENT,
    P_SOCIAL_SECURITY,
    P_CARE_TAGS,
    P_SOURCE
};
_Static_assert(sizeof(person_cols) / sizeof(person_cols[0]) == P_SOURCE + 1,
               "person_cols and their names differ");
static const char *const person_req[] = {"name", "id_number", "residency"};
#define N(a) (sizeof(a) / sizeof(a[0]))

/* The value of the named column (NULL when absent or empty). */
static const char *val(const bd_import_row *row, const int *col, const char *const *cols,
                       size_t ncols, const char *name)
{
    size_t k;

    for (k = 0; k < ncols; k++)
        if (strcmp(cols[k], name) == 0)
            return bd_import_value(row, col, k);
    return NULL;
}

static int num(const char *s, const char *field, double *out, gr_err *err)
{
    char *end;

    *out = 0;
    if (!s)
        return 0;
    errno = 0;
    *out = strtod(s, &end);
    if (errno || *end || end == s || !isfinite(*out))
        return err_set(err, GR_EINVAL, field, "must be a number");
    return 0;
}

static int integer(const char *s, const char *field, int64_t *out, gr_err *err)
{
    char *end;

    *out = 0;
    if (!s)
        return 0;
    errno = 0;
    *out = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return err_set(err, GR_EINVAL, field, "must be a whole number");
    return 0;
}

static const char *source_of(const char *s)
{
    return s ? s : "imported";
}

/* ---- buildings ---- */

#define BV(name) val(row, col, building_cols, N(building_cols), name)

static int building_row_in(const bd_import_row *row, const int *col, bd_building *b, gr_err *err)
{
    geo_crs crs = GEO_CRS_WGS84;
    int64_t floors = 0;
    int rc;

    memset(b, 0, sizeof(*b));
    b->district = BV("district");
    b->street = BV("street");
    b->road = BV("road");
    b->house_number = BV("house_number");
    b->building = BV("building");
    b->use = BV("use");
    b->m.source = source_of(BV("source"));
    if (geo_crs_arg(BV("crs"), &crs, err))
        return GR_EINVAL;
    rc = num(BV("lat"), "lat", &b->lat, err);
    if (!rc)
        rc = num(BV("lon"), "lon", &b->lon, err);
    if (!rc)
        rc = geo_check_latlon(b->lat, b->lon, err);
    if (!rc)
        geo_to_wgs84(crs, b->lat, b->lon, &b->lat, &b->lon);
    if (!rc)
        rc = integer(BV("floors"), "floors", &floors, err);
    b->floors = (int)floors;
    return rc;
}

static int building_row(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                        const int *col, int *changed, gr_err *err)
{
    arena *a = arena_new();
    bd_building b, old;
    int64_t id = 0, version = 0;
    int rc = building_row_in(row, col, &b, err);

    *changed = 0;
    if (!rc && b.district && b.street && b.road && b.house_number) {
        if (!b.building)
            b.building = "";
        rc = bd_building_find_key(c, a, &b, &id, &version, NULL, err);
    }
    /* A known building keeps its steward. */
    if (!rc && id && (rc = bd_building_get(c, a, id, &old, err)) == 0) {
        b.m.steward_org_id = old.m.steward_org_id;
        b.m.steward_user_id = old.m.steward_user_id;
    }
    if (!rc)
        rc = bd_building_write(ctx, c, who, &b, &id, version, changed, err);
    arena_free(a);
    return rc;
}

/* ---- houses ---- */

#define HV(k) bd_import_value(row, col, k)

/* Whether two rows hold the same cells in the columns key[0..n). */
static int same_cells(const bd_import_row *a, const bd_import_row *b, const int *col,
                      const int *key, size_t n)
{
    size_t k;

    for (k = 0; k < n; k++) {
        const char *x = bd_import_value(a, col, key[k]), *y = bd_import_value(b, col, key[k]);

        if (!x != !y || (x && strcmp(x, y) != 0))
            return 0;
    }
    return 1;
}

/* The building of a row: building_id, or the live building at the address
 * (its chain to chain, when not NULL). */
static int row_building(db_conn *c, arena *a, const char *id_text, const char *const addr[5],
                        int64_t *id, int64_t chain[5], gr_err *err)
{
    bd_building b;
    int64_t version;
    int rc;

    if (id_text)
        return integer(id_text, "building_id", id, err);
    if (!addr[C_DISTRICT] || !addr[C_STREET] || !addr[C_ROAD] || !addr[C_NUMBER])
        return err_set(err, GR_EINVAL, "building_id",
                       "is required without district, street, road and house_number");
    memset(&b, 0, sizeof(b));
    b.district = addr[C_DISTRICT];
    b.street = addr[C_STREET];
    b.road = addr[C_ROAD];
    b.house_number = addr[C_NUMBER];
    b.building = addr[C_BUILDING] ? addr[C_BUILDING] : "";
    rc = bd_building_find_key(c, a, &b, id, &version, chain, err);
    if (!rc && !*id)
        rc = err_set(err, GR_EINVAL, "house_number", "no building at this address");
    return rc;
}

/* The building of a house's row: the one the row before found when the
 * row names the same address (the rooms of a building follow each other);
 * else by its address, remembered for the rows after. */
static int house_building(db_conn *c, arena *a, const bd_import_row *row, const int *col,
                          bd_house *h, const int64_t **chain, gr_err *err)
{
    static const int key[] = {H_BUILDING_ID, H_DISTRICT, H_STREET, H_ROAD, H_NUMBER, H_BUILDING};
    const char *addr[5] = {HV(H_DISTRICT), HV(H_STREET), HV(H_ROAD), HV(H_NUMBER), HV(H_BUILDING)};
    bd_import_memo *memo = row->memo;
    int rc;

    if (memo && memo->row && same_cells(memo->row, row, col, key, N(key))) {
        h->building_id = memo->id;
        *chain = memo->chain;
        return 0;
    }
    if (HV(H_BUILDING_ID) || !memo)
        return row_building(c, a, HV(H_BUILDING_ID), addr, &h->building_id, NULL, err);
    rc = row_building(c, a, NULL, addr, &h->building_id, memo->chain, err);
    if (!rc) {
        memo->row = row;
        memo->id = h->building_id;
        *chain = memo->chain;
    }
    return rc;
}

/* A house's own cells, parsed (no database needed). */
static int house_fields_in(const bd_import_row *row, const int *col, bd_house *h, gr_err *err)
{
    int64_t floor = 0;
    int rc;

    memset(h, 0, sizeof(*h));
    h->unit = HV(H_UNIT) ? HV(H_UNIT) : "";
    h->room = HV(H_ROOM);
    h->use = HV(H_USE);
    h->ownership = HV(H_OWNERSHIP);
    h->occupancy = HV(H_OCCUPANCY);
    h->m.source = source_of(HV(H_SOURCE));
    h->has_floor = HV(H_FLOOR) != NULL;
    rc = integer(HV(H_FLOOR), "floor", &floor, err);
    h->floor = (int)floor;
    if (!rc)
        rc = num(HV(H_AREA_M2), "area_m2", &h->area_m2, err);
    return rc;
}

/* A house's row before the write: its fields checked, and the history
 * changes of a new house (bd_house_prepare), in the reading thread. */
struct house_prep {
    bd_house h;
    bd_house_prep *changes;
};

static int house_prep(gr_ctx *ctx, const bd_import_row *row, const int *col, arena *a, void **out,
                      gr_err *err)
{
    struct house_prep *p = arena_alloc(a, sizeof(*p));
    int rc = house_fields_in(row, col, &p->h, err);

    (void)ctx;
    if (!rc)
        rc = bd_house_prepare(a, &p->h, &p->changes, err);
    *out = rc ? NULL : p;
    return rc;
}

static int house_row_in(db_conn *c, arena *a, const bd_import_row *row, const int *col, bd_house *h,
                        const int64_t **chain, gr_err *err)
{
    const struct house_prep *prep = row->prep;
    int rc = 0;

    if (prep)
        *h = prep->h;
    else
        rc = house_fields_in(row, col, h, err);
    if (!rc)
        rc = house_building(c, a, row, col, h, chain, err);
    return rc;
}

static int house_row(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                     const int *col, int *changed, gr_err *err)
{
    arena *a = arena_new();
    const struct house_prep *prep = row->prep;
    int64_t id = 0, version = 0;
    bd_house h, old;
    const int64_t *chain = NULL;
    int rc = house_row_in(c, a, row, col, &h, &chain, err);

    *changed = 0;
    /* As for people: written as a new house first, and only a unit and
     * room the building already has (refused before anything is written)
     * looks the stored house up, which keeps its steward. */
    if (!rc)
        rc = bd_house_write_placed(ctx, c, who, &h, prep ? prep->changes : NULL, chain, &id, 0,
                                   changed, err);
    if (rc == GR_EEXIST) {
        memset(err, 0, sizeof(*err));
        rc = house_row_in(c, a, row, col, &h, &chain, err);
        if (!rc)
            rc = bd_house_find_key(c, h.building_id, h.unit, h.room, &id, &version, NULL, err);
        if (!rc && id && (rc = bd_house_get(c, a, id, &old, err)) == 0) {
            h.m.steward_org_id = old.m.steward_org_id;
            h.m.steward_user_id = old.m.steward_user_id;
        }
        if (!rc)
            rc = bd_house_write_placed(ctx, c, who, &h, NULL, chain, &id, version, changed, err);
    }
    arena_free(a);
    return rc;
}

/* ---- people ---- */

#define PV(k) bd_import_value(row, col, k)

/* The house of a row: house_id, or (building address, unit, room); the
 * house the row before found when the row names the same one. */
static int row_house(db_conn *c, arena *a, const bd_import_row *row, const int *col,
                     bd_person_input *in, const int64_t **chain, gr_err *err)
{
    const char *addr[5] = {PV(P_DISTRICT), PV(P_STREET), PV(P_ROAD), PV(P_NUMBER), PV(P_BUILDING)};
    static const int key[] = {P_HOUSE_ID, P_DISTRICT, P_STREET, P_ROAD,
                              P_NUMBER,   P_BUILDING, P_UNIT,   P_ROOM};
    static const int building_key[] = {P_DISTRICT, P_STREET, P_ROAD, P_NUMBER, P_BUILDING};
    bd_import_memo *memo = row->memo;
    int64_t building = 0, version;
    int rc = 0;

    in->house_id = 0;
    if (PV(P_HOUSE_ID))
        return integer(PV(P_HOUSE_ID), "house_id", &in->house_id, err);
    if (!PV(P_ROOM))
        return 0;
    if (memo && memo->row && same_cells(memo->row, row, col, key, N(key))) {
        in->house_id = memo->id;
        *chain = memo->chain;
        return 0;
    }
    /* A new house in the building of the row before (the houses of a
     * building follow each other): its building needs no lookup. */
    if (memo && memo->row && same_cells(memo->row, row, col, building_key, N(building_key)))
        building = memo->building;
    else
        rc = row_building(c, a, NULL, addr, &building, NULL, err);
    if (!rc)
        rc = bd_house_find_key(c, building, PV(P_UNIT), PV(P_ROOM), &in->house_id, &version,
                               memo ? memo->chain : NULL, err);
    if (!rc && !in->house_id)
        rc = err_set(err, GR_EINVAL, "room", "no house with this unit and room in the building");
    if (!rc && memo) {
        memo->row = row;
        memo->id = in->house_id;
        memo->building = building;
        *chain = memo->chain;
    }
    return rc;
}

/* Care tags in one cell: separated by ';', '|', '、' or ','. */
static void row_tags(arena *a, const char *s, bd_person_input *in)
{
    char *t = s ? arena_strdup(a, s) : NULL, *p;

    for (p = t; p && *p; p++)
        if (*p == ';' || *p == '|')
            *p = ',';
    while (t && (p = strstr(t, "、")) != NULL) {
        *p = ',';
        memmove(p + 1, p + 3, strlen(p + 3) + 1);
    }
    bd_person_tags_split(a, t, in);
}

/* A person's row before the write: the input, checked and sealed
 * (bd_person_prepare) in the reading thread. */
struct person_prep {
    bd_person_input in;
    bd_person_prep *sealed; /* NULL: left to the write */
};

static void person_in(arena *a, const bd_import_row *row, const int *col, bd_person_input *in)
{
    memset(in, 0, sizeof(*in));
    in->name = PV(P_NAME);
    in->id_number = PV(P_ID_NUMBER);
    in->phone = PV(P_PHONE);
    in->phone_clear = !in->phone;
    in->ethnicity = PV(P_ETHNICITY);
    in->residency = PV(P_RESIDENCY);
    in->permit_start = PV(P_PERMIT_START);
    in->permit_end = PV(P_PERMIT_END);
    in->relation = PV(P_RELATION);
    in->employment = PV(P_EMPLOYMENT);
    in->social_security = PV(P_SOCIAL_SECURITY);
    in->source = source_of(PV(P_SOURCE));
    row_tags(a, PV(P_CARE_TAGS), in);
}

static int person_prep(gr_ctx *ctx, const bd_import_row *row, const int *col, arena *a, void **out,
                       gr_err *err)
{
    struct person_prep *p = arena_alloc(a, sizeof(*p));
    int rc;

    person_in(a, row, col, &p->in);
    rc = bd_person_prepare(ctx, a, &p->in, &p->sealed, err);
    *out = rc ? NULL : p;
    return rc;
}

static int person_row(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                      const int *col, int *changed, gr_err *err)
{
    arena *a = arena_new();
    const struct person_prep *prep = row->prep;
    const bd_person_prep *sealed = prep ? prep->sealed : NULL;
    bd_person_input in;
    bd_person old;
    const int64_t *chain = NULL;
    int64_t id = 0;
    int rc;

    *changed = 0;
    if (prep)
        in = prep->in;
    else
        person_in(a, row, col, &in);
    rc = row_house(c, a, row, col, &in, &chain, err);
    /* Most rows of a file are new people: the row is written as a new
     * record first, and only an ID number already registered (the insert
     * refused before writing anything) looks the stored person up, who
     * keeps their steward. One probe of the ID number index a row fewer. */
    if (!rc)
        rc = bd_person_write_prepared(ctx, c, who, &in, sealed, chain, &id, 0, changed, err);
    if (rc == GR_EEXIST && in.id_number) {
        memset(err, 0, sizeof(*err));
        rc = bd_person_find_id_number(ctx, c, in.id_number, &id, err);
        if (!rc)
            rc = bd_person_get(c, a, id, &old, err);
        if (!rc) {
            in.steward_org_id = old.m.steward_org_id;
            in.steward_user_id = old.m.steward_user_id;
            rc = bd_person_write_prepared(ctx, c, who, &in, sealed, chain, &id, old.m.version,
                                          changed, err);
        }
    }
    arena_free(a);
    return rc;
}

const bd_import_entity bd_import_buildings = {"buildings",  building_cols,   N(building_cols),
                                              building_req, N(building_req), building_row,
                                              NULL};
const bd_import_entity bd_import_houses = {"houses",     house_cols, N(house_cols), house_req,
                                           N(house_req), house_row,  house_prep};
const bd_import_entity bd_import_people = {"people",      person_cols, N(person_cols), person_req,
                                           N(person_req), person_row,  person_prep};
