/*
 * The base-data model shared by the files of src/basedata and, through
 * basedata.h and the prefill call below, by other modules: buildings (楼栋),
 * houses (户 / 房屋) and people (实有人口), each with a version, a steward, a
 * source and its unit chain; history in bd_history.h. See docs/basedata.md.
 *
 *   bd_common.c  chains, scope, care tags, small checks
 *   bd_places.c  buildings and houses
 *   bd_people.c  people: sealing, blind indexes, masking, reveal, prefill
 *   bd_api.c     the HTTP routes
 *
 * Writes: the *_write functions run inside a db_write (the API wraps them,
 * the import framework calls them per row); nothing is written on error.
 * Strings in the structs below belong to the arena given to the call that
 * filled them.
 */
#ifndef GR_BASEDATA_BD_MODEL_H
#define GR_BASEDATA_BD_MODEL_H

#include "basedata/bd_history.h"
#include "basedata/bd_import.h"
#include "http/http.h"

#include <jansson.h>
#include <stdint.h>

/* Additional data binding each sealed column to its place. */
#define BD_AD_NAME      "bd_people.name"
#define BD_AD_ID_NUMBER "bd_people.id_number"
#define BD_AD_PHONE     "bd_people.phone"

enum { BD_TEXT_MAX = 50, BD_NAME_MAX = 50 };

/* ---- common columns (bd_common.c) ---- */

typedef struct bd_meta {
    int64_t id, version;
    int64_t steward_org_id, steward_user_id; /* steward_user_id 0: none */
    const char *source;                      /* collected | imported | shared */
    int64_t chain[5];                        /* city, district, street, community, grid (0: none) */
    int64_t created_at, updated_at, retired_at; /* retired_at 0: live */
} bd_meta;

/* The most specific unit of m's chain: what scope is checked against. */
int64_t bd_scope_unit(const bd_meta *m);
/* GR_EFORBIDDEN (field "id") unless who's scope covers m (scope 0: all). */
int bd_scope_check(db_conn *c, const bd_actor *who, const bd_meta *m, gr_err *err);
/* The chain of the grid containing a WGS-84 point; GR_EINVAL naming "lat"
 * when the point lies outside every grid. */
int bd_chain_at(gr_ctx *ctx, db_conn *c, double lat, double lon, int64_t chain[5], gr_err *err);
/* The chain of an org unit; GR_EINVAL naming field when it does not exist. */
int bd_chain_of_unit(db_conn *c, int64_t unit, const char *field, int64_t chain[5], gr_err *err);
/* "collected" when s is NULL; GR_EINVAL naming "source" for an unknown one. */
int bd_source_check(const char *s, const char **out, gr_err *err);
/* Fills the steward of a new record: the given unit (which must exist and
 * lie in who's scope) or who's scope unit, else the record's own unit. */
int bd_steward_fill(db_conn *c, const bd_actor *who, bd_meta *m, gr_err *err);
/* A strict YYYY-MM-DD (or NULL) naming field on error. */
int bd_date_check(const char *s, const char *field, gr_err *err);
/* s when it is one of the n codes (or their Chinese names), as the code;
 * GR_EINVAL naming field otherwise. NULL stays NULL. */
int bd_enum_check(const char *s, const char *const (*codes)[2], size_t n, const char *field,
                  const char **out, gr_err *err);

/* The common columns in bd_meta_read's order, for SELECTs. */
#define BD_META_COLS                                                                               \
    "id, version, steward_org_id, steward_user_id, source, city_id, district_id, street_id, "      \
    "community_id, grid_id, created_at, updated_at, retired_at"
/* The columns bd_meta_bind binds from `first` on, in its order, for INSERTs. */
#define BD_META_INSERT                                                                             \
    "version, steward_org_id, steward_user_id, source, city_id, district_id, street_id, "          \
    "community_id, grid_id, created_at, updated_at"
#define BD_META_PARAMS "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
/* Reads columns 0..12 (BD_META_COLS); source is valid until the next step
 * (callers copy it). */
void bd_meta_read(db_stmt *st, bd_meta *m);
/* The one row sql (with one parameter, the id) selects, through read;
 * GR_ENOTFOUND naming "id" ("no <what> with id N") when there is none. */
int bd_read_id(db_conn *c, arena *a, const char *sql, int64_t id, db_row_reader read, void *out,
               const char *what, gr_err *err);
void bd_meta_bind(db_stmt *st, int first, const bd_meta *m);
/* Adds the changed steward and grid to a history's changes. */
void bd_meta_diff(bd_changes *ch, const bd_meta *old, const bd_meta *new_);
/* s without leading and trailing spaces and tabs, in a; NULL when empty. */
const char *bd_trim(arena *a, const char *s);
/* GR_EINVAL naming field when s is missing (and required) or longer than max characters. */
int bd_text_check(const char *s, const char *field, int required, size_t max, gr_err *err);

/* GR_ECONFLICT unless old is live (field "id") and at version (field "version"). */
int bd_version_check(const bd_meta *old, int64_t version, gr_err *err);
/* The meta of a write over old (zeroed for a new record): version, times,
 * source, and the steward checked when new or changed. */
int bd_meta_prepare(db_conn *c, const bd_actor *who, const bd_meta *old, bd_meta *m, gr_err *err);
/* Whether who may write m over old (is_new: there is no old): their scope
 * covers both, checked before the meta is prepared (bd_meta_prepare). */
int bd_write_allowed(db_conn *c, const bd_actor *who, int is_new, const bd_meta *old, bd_meta *m,
                     gr_err *err);
/* The history row of m's new version ("create" when is_new, else "update"). */
int bd_history_write(db_conn *c, const bd_actor *who, const char *entity, const bd_meta *m,
                     int is_new, const bd_changes *ch, gr_err *err);

/* The fixed care tags: code and Chinese name. */
extern const char *const bd_care_tags[][2];
extern const size_t bd_ncare_tags;
extern const char *const bd_residencies[][2];
extern const size_t bd_nresidencies;

/* ---- buildings and houses (bd_places.c) ---- */

typedef struct bd_building {
    bd_meta m;
    const char *district, *street, *road, *house_number, *building; /* building "" : none */
    double lat, lon;                                                /* WGS-84 */
    int floors;                                                     /* 0: unknown */
    const char *use;
} bd_building;

typedef struct bd_house {
    bd_meta m;
    int64_t building_id;
    const char *unit; /* "" : none */
    int floor, has_floor;
    const char *room;
    double area_m2; /* 0: unknown */
    const char *use, *ownership, *occupancy;
} bd_house;

/* The address text of a building, and of a house in it (h may be NULL). */
const char *bd_address_text(arena *a, const bd_building *b, const bd_house *h);

int bd_building_get(db_conn *c, arena *a, int64_t id, bd_building *out, gr_err *err);
int bd_house_get(db_conn *c, arena *a, int64_t id, bd_house *out, gr_err *err);

/* Inside a write: creates (id 0) or changes building id from version
 * `version` to in (every field: the caller merges a PATCH into the stored
 * record). Checks and normalises in, locates it, checks scope, diffs, writes
 * the row and its history. *id receives the id; *changed 0 when nothing
 * differed (no new version). GR_EEXIST naming "address" for a live building
 * at the same address, GR_ECONFLICT naming "version" for a stale version. */
int bd_building_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, bd_building *in, int64_t *id,
                      int64_t version, int *changed, gr_err *err);
/* The same for houses; GR_EEXIST naming "room" for (building, unit, room) taken. */
int bd_house_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, bd_house *in, int64_t *id,
                   int64_t version, int *changed, gr_err *err);
/* A house's fields checked (and made canonical) before the write, where no
 * database is needed (an import's reading thread), with the history
 * changes they make as a new house; *out made from a. The errors are
 * bd_house_write's for the fields. */
typedef struct bd_house_prep bd_house_prep;
int bd_house_prepare(arena *a, bd_house *in, bd_house_prep **out, gr_err *err);
/* bd_house_write with in's prep (may be NULL), and the chain of
 * in->building_id when the caller found the building live in this same
 * write (an import's rooms of a building; NULL: the write reads it). */
int bd_house_write_placed(gr_ctx *ctx, db_conn *c, const bd_actor *who, bd_house *in,
                          const bd_house_prep *prep, const int64_t building_chain[5], int64_t *id,
                          int64_t version, int *changed, gr_err *err);

/* The live record with a natural key: the building at b's address, the
 * house (building, unit, room); *id 0 when there is none. The record's
 * chain goes to chain (may be NULL). */
int bd_building_find_key(db_conn *c, arena *a, const bd_building *b, int64_t *id, int64_t *version,
                         int64_t chain[5], gr_err *err);
int bd_house_find_key(db_conn *c, int64_t building_id, const char *unit, const char *room,
                      int64_t *id, int64_t *version, int64_t chain[5], gr_err *err);

/* ---- people (bd_people.c) ---- */

enum { BD_TAGS_MAX = 16 };

typedef struct bd_person {
    bd_meta m;
    const char *name_hint, *id_number_hint, *phone_hint; /* masked; phone_hint NULL: none */
    const char *birth_date;                              /* YYYY-MM-DD */
    char sex[2];                                         /* "M" | "F" */
    const char *ethnicity, *residency, *permit_start, *permit_end;
    int64_t house_id; /* 0: none */
    const char *relation, *employment, *social_security;
    const char *care_tags; /* sorted, comma-separated; "" for none */
} bd_person;

/* What a write of a person says. name, id_number, phone are clear text: on
 * a change NULL keeps the stored value (phone_clear removes the phone); the
 * other fields are the complete new state. */
typedef struct bd_person_input {
    const char *name, *id_number, *phone;
    int phone_clear;
    const char *ethnicity, *residency, *permit_start, *permit_end;
    int64_t house_id;
    const char *relation, *employment, *social_security;
    const char *care_tags[BD_TAGS_MAX];
    size_t ncare_tags;
    int64_t steward_org_id, steward_user_id;
    const char *source;
    int today_yyyymmdd; /* 0: today (tests pass a fixed day) */
} bd_person_input;

int bd_person_get(db_conn *c, arena *a, int64_t id, bd_person *out, gr_err *err);
/* Copies the unsealed fields of p into in (for merging a PATCH). */
void bd_person_input_from(const bd_person *p, bd_person_input *in);
/* Splits "a,b" into in->care_tags. */
void bd_person_tags_split(arena *a, const char *tags, bd_person_input *in);
/* Inside a write: creates (id 0) or changes a person. GR_EINVAL naming the
 * field (id_number with the validator's reason, phone, residency,
 * permit_start ...), GR_EEXIST naming "id_number" for a live person with the
 * same number, GR_ECONFLICT naming "version" for a stale version. */
int bd_person_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_person_input *in,
                    int64_t *id, int64_t version, int *changed, gr_err *err);
/* A person's input checked and sealed before the write, where no database
 * is needed (an import's reading thread): *out NULL when the input lacks a
 * field the write would take from the stored person (the name, the ID
 * number, the phone or its clearing), else made from a. The input's own
 * errors as bd_person_write's. */
typedef struct bd_person_prep bd_person_prep;
int bd_person_prepare(const gr_ctx *ctx, arena *a, const bd_person_input *in, bd_person_prep **out,
                      gr_err *err);
/* bd_person_write with in's prep (may be NULL), and the chain of
 * in->house_id when the caller found the house live in this same write (an
 * import's household; NULL: the write reads it). */
int bd_person_write_prepared(gr_ctx *ctx, db_conn *c, const bd_actor *who,
                             const bd_person_input *in, const bd_person_prep *prep,
                             const int64_t house_chain[5], int64_t *id, int64_t version,
                             int *changed, gr_err *err);

/* The blind index of a value of a sealed column (normalised: trimmed, an
 * ID number's x upper-case). */
void bd_blind_index(const gr_ctx *ctx, const char *column, const char *value,
                    unsigned char out[32]);
/* The live person with this ID number; GR_ENOTFOUND naming "id_number". */
int bd_person_find_id_number(gr_ctx *ctx, db_conn *c, const char *id_number, int64_t *id,
                             gr_err *err);

/* The full values of a person (reveal): bits of BD_F_*; those not asked
 * stay NULL; phone NULL when none. */
enum { BD_F_NAME = 1, BD_F_ID_NUMBER = 2, BD_F_PHONE = 4 };
typedef struct bd_person_clear {
    const char *name, *id_number, *phone;
} bd_person_clear;
int bd_person_reveal(gr_ctx *ctx, db_conn *c, arena *a, int64_t id, unsigned fields,
                     bd_person_clear *out, gr_err *err);

/* Lists. Scope 0: everything; the other filters 0 / NULL: any. Keyset by id
 * ascending (after, limit). */
typedef struct bd_filter {
    int64_t scope;
    int64_t grid_id, community_id, building_id, house_id;
    const char *residency, *care_tag;
    const unsigned char *name_index, *id_number_index; /* 32 bytes, or NULL */
    int include_retired;
    int64_t after, limit;
} bd_filter;

int bd_building_list(db_conn *c, arena *a, const bd_filter *f, bd_building **out, size_t *n,
                     int *more, gr_err *err);
int bd_house_list(db_conn *c, arena *a, const bd_filter *f, bd_house **out, size_t *n, int *more,
                  gr_err *err);
int bd_person_list(db_conn *c, arena *a, const bd_filter *f, bd_person **out, size_t *n, int *more,
                   gr_err *err);

/* Retires (注销) a record inside a write: entity "building" (no live house
 * may remain), "house" (no live person), "person". GR_ECONFLICT naming
 * "version" for a stale version or "id" when already retired. */
int bd_retire_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, const char *entity, int64_t id,
                    int64_t version, gr_err *err);

/* ---- collect once, use many ---- */

typedef struct bd_member {
    int64_t person_id;
    const char *name_hint; /* masked */
    const char *relation;  /* NULL: not given */
} bd_member;

/* References to the base data of a person: their house and building, the
 * address text, the units, and the household (every live person of the
 * house, the person included) as ids with masked names. Other modules keep
 * these ids, never copies. */
typedef struct bd_prefill_out {
    int64_t person_id, house_id, building_id; /* house, building 0: none */
    const char *address;                      /* NULL without a house */
    int64_t grid_id, community_id, street_id;
    bd_member *members;
    size_t nmembers;
} bd_prefill_out;

int bd_prefill(db_conn *c, arena *a, int64_t person_id, bd_prefill_out *out, gr_err *err);

/* ---- import row functions (bd_import.h) ---- */

extern const bd_import_entity bd_import_buildings, bd_import_houses, bd_import_people;

#endif
