/*
 * Organisations (单位), facilities (部件) and underground spaces (地下空间) of
 * the base data: their model (bd_units.c), routes (bd_units_api.c), import
 * row functions and the CSV / GeoJSON export of every entity (bd_export.c).
 * See docs/basedata.md "Organisations, facilities, underground spaces".
 *
 * The three entities share one table-driven model: a record is a JSON object
 * of its fields (the names of the API, of the CSV columns and of the table's
 * columns), checked and normalised by the entity's rules, located (the unit
 * chain from the point's grid, else from the building or house, else from the
 * steward unit), scope-checked, diffed against the stored version and written
 * with its history row in the same db_write.
 */
#ifndef GR_BASEDATA_BD_UNITS_H
#define GR_BASEDATA_BD_UNITS_H

#include "basedata/bd_import.h"
#include "basedata/bd_model.h"
#include "http/http.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

/* Additional data binding the sealed legal representative to its column. */
#define BD_AD_LEGAL_REP "bd_orgs.legal_rep"

typedef struct bd_unit_def bd_unit_def;

extern const bd_unit_def bd_unit_orgs, bd_unit_facilities, bd_unit_spaces;

/* "orgs", "facilities", "spaces" -> the definition; NULL otherwise. */
const bd_unit_def *bd_unit_find(const char *collection);
/* The entity's name in the history ("org", "facility", "space"). */
const char *bd_unit_entity(const bd_unit_def *d);
/* The collection's name ("orgs" ...). */
const char *bd_unit_collection(const bd_unit_def *d);

typedef enum bd_unit_mode {
    BD_UNIT_CREATE, /* a new record; its natural key taken: GR_EEXIST naming the key */
    BD_UNIT_UPDATE, /* record *id at `version`: fields of in replace the stored ones */
    BD_UNIT_UPSERT  /* the import: create, or update the record with the same natural key */
} bd_unit_mode;

typedef struct bd_unit_op {
    bd_unit_mode mode;
    int64_t version;    /* BD_UNIT_UPDATE: the version the caller read (stale: GR_ECONFLICT) */
    int text;           /* 1: values are CSV text ("12", "39.9"); 0: typed JSON */
    const char *source; /* collected | imported | shared; NULL: collected */
} bd_unit_op;

/*
 * Inside a write: checks in (unknown fields refused, every refusal naming the
 * field and the reason), locates, scope-checks (GR_EFORBIDDEN), diffs and
 * writes the record and its history row. *id gets the record's id;
 * *changed is 0 when the stored record already said the same (no new
 * version, no history row). Fields of in: those of the entity (see
 * docs/basedata.md) and steward_org_id, steward_user_id, crs (wgs84, gcj02,
 * bd09 for lat / lon). A JSON null (or an empty CSV cell) clears a field on
 * update, except in the import, where an empty cell keeps the stored value.
 */
int bd_unit_write(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, const bd_actor *who,
                  const bd_unit_op *op, json_t *in, int64_t *id, int *changed, gr_err *err);

/* Inside a write: retires (注销) record id at version. GR_ECONFLICT naming
 * "version" when stale, naming "id" when already retired. */
int bd_unit_retire(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, const bd_actor *who, int64_t id,
                   int64_t version, gr_err *err);

/* One record as the API shows it (the legal representative masked).
 * GR_ENOTFOUND naming "id"; GR_EFORBIDDEN outside who's scope. *out is new. */
int bd_unit_get(db_conn *c, const bd_unit_def *d, const bd_actor *who, int64_t id, json_t **out,
                gr_err *err);

/* The version and scope unit of record id (for the API's checks). */
int bd_unit_meta(db_conn *c, const bd_unit_def *d, int64_t id, bd_meta *m, gr_err *err);

typedef struct bd_unit_filter {
    int64_t scope;               /* 0: everything */
    const char *type, *industry; /* orgs */
    int major, minor;            /* facilities; 0: any */
    const char *state;           /* facilities */
    const char *kind;            /* spaces */
    int has_bbox;
    double west, south, east, north;
    int has_near;
    double lat, lon, radius_m;
    int include_retired;
    int64_t after, limit;
} bd_unit_filter;

/* A page of records (oldest id first, ids above f->after): *items is a new
 * array of what bd_unit_get shows; *more when another page follows; *last
 * the id of the last item (0: none). */
int bd_unit_list(db_conn *c, const bd_unit_def *d, const bd_unit_filter *f, json_t **items,
                 int *more, int64_t *last, gr_err *err);

/* The fields bd_unit_get shows, in order, NULL-terminated (for CSV headers). */
const char *const *bd_unit_columns(const bd_unit_def *d);

/* Import row functions of the three entities (natural keys: the credit code,
 * the facility code, (kind, name, address)). */
extern const bd_import_entity bd_import_orgs, bd_import_facilities, bd_import_spaces;

/* The routes of orgs, facilities, spaces, the HTTP import and the export. */
void bd_units_api_register(http_router *r);
void bd_export_api_register(http_router *r);

#endif
