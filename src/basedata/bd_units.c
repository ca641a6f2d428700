/* Organisations, facilities and underground spaces: one table-driven model
 * (bd_units.h). */
#include "basedata/bd_units.h"

#include "base/buf.h"
#include "base/crypto.h"
#include "base/jsonv.h"
#include "base/mask.h"
#include "base/timeutil.h"
#include "base/validate.h"
#include "geo/coord.h"
#include "org/org.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BD_LEGAL_REP_MAX = 50, SQL_MAX = 2048 };

/* The kinds of field. Derived fields are computed from others (never input). */
enum { T_TEXT, T_CODE, T_INT, T_REAL, T_ENUM, T_SEALED, T_DERIVED, T_DERIVED_INT };

typedef struct ucol {
    const char *name;
    int type;
    int required;    /* a record must have it */
    double min, max; /* text: characters; numbers: value */
    const char *const (*codes)[2];
    size_t ncodes;
} ucol;

struct unit_rec;

struct bd_unit_def {
    const char *entity, *collection, *table, *geo, *what;
    const ucol *cols;
    size_t ncols;
    const char *const *key; /* the natural key's columns */
    size_t nkey;
    int key_live_only; /* the key is unique among live records only */
    /* Normalises and derives the entity's special fields of a merged record
     * (codes, parts, references); c is the writer's connection. */
    int (*derive)(db_conn *c, json_t *v, gr_err *err);
    /* The chain of the record's place when it has no point (orgs: the
     * building or house); 0 and chain untouched when it has none. */
    int (*place)(db_conn *c, json_t *v, int64_t chain[5], gr_err *err);
};

/* A stored or new record: the common columns and the fields. */
struct unit_rec {
    bd_meta m;
    json_t *v;          /* field -> value (sealed fields in clear, in the writer only) */
    unsigned char *enc; /* the sealed field's stored ciphertext (malloc) */
    size_t enc_len;
};

static const char *const org_types[][2] = {
    {"enterprise", "企业"},
    {"social", "社会组织"},
    {"individual", "个体工商户"},
    {"public", "机关事业单位"},
};
static const char *const facility_states[][2] = {
    {"normal", "正常"},
    {"damaged", "损坏"},
    {"lost", "丢失"},
    {"removed", "拆除"},
};
static const char *const space_kinds[][2] = {
    {"civil_defense", "人防工程"},
    {"garage", "地下车库"},
    {"commercial", "地下商业"},
    {"other", "其他"},
};

#define NCODES(a) (sizeof(a) / sizeof(a[0]))
#define LATLON                                                                                     \
    {"lat", T_REAL, 0, -90, 90, NULL, 0},                                                          \
    {                                                                                              \
        "lon", T_REAL, 0, -180, 180, NULL, 0                                                       \
    }

static const ucol org_cols[] = {
    {"uscc", T_CODE, 1, 1, 40, NULL, 0},
    {"uscc_legacy", T_DERIVED_INT, 0, 0, 0, NULL, 0},
    {"name", T_TEXT, 1, 1, 200, NULL, 0},
    {"type", T_ENUM, 1, 0, 0, org_types, NCODES(org_types)},
    {"legal_rep", T_SEALED, 0, 1, BD_LEGAL_REP_MAX, NULL, 0},
    {"building_id", T_INT, 0, 1, 9e18, NULL, 0},
    {"house_id", T_INT, 0, 1, 9e18, NULL, 0},
    {"address", T_TEXT, 0, 1, 200, NULL, 0},
    {"industry", T_TEXT, 0, 1, 100, NULL, 0},
    {"employees", T_INT, 0, 0, 10000000, NULL, 0},
    LATLON,
};
static const ucol facility_cols[] = {
    {"code", T_CODE, 1, 1, 40, NULL, 0},
    {"county", T_DERIVED, 0, 0, 0, NULL, 0},
    {"major", T_DERIVED_INT, 0, 0, 0, NULL, 0},
    {"minor", T_DERIVED_INT, 0, 0, 0, NULL, 0},
    {"name", T_TEXT, 0, 1, 200, NULL, 0},
    {"state", T_ENUM, 1, 0, 0, facility_states, NCODES(facility_states)},
    {"owner_dept_id", T_INT, 0, 1, 9e18, NULL, 0},
    {"maintainer_dept_id", T_INT, 0, 1, 9e18, NULL, 0},
    {"lat", T_REAL, 1, -90, 90, NULL, 0},
    {"lon", T_REAL, 1, -180, 180, NULL, 0},
};
static const ucol space_cols[] = {
    {"kind", T_ENUM, 1, 0, 0, space_kinds, NCODES(space_kinds)},
    {"name", T_TEXT, 1, 1, 200, NULL, 0},
    {"address", T_TEXT, 1, 1, 200, NULL, 0},
    {"area_m2", T_REAL, 0, 0.01, 1e8, NULL, 0},
    {"capacity", T_INT, 0, 0, 10000000, NULL, 0},
    {"use", T_TEXT, 0, 1, 200, NULL, 0},
    {"manager_org_id", T_INT, 0, 1, 9e18, NULL, 0},
    LATLON,
};

/* ---- entity rules ---- */

static int ref_exists(db_conn *c, const char *sql, int64_t id, const char *field, const char *what,
                      gr_err *err)
{
    int64_t n = 0;
    int rc = db_query_int(c, sql, id, 0, &n, err);

    if (!rc && !n)
        rc = err_set(err, GR_EINVAL, field, "no %s with id %lld", what, (long long)id);
    return rc;
}

static int64_t field_int(json_t *v, const char *name)
{
    json_t *x = json_object_get(v, name);

    return json_is_integer(x) ? (int64_t)json_integer_value(x) : 0;
}

static int org_derive(db_conn *c, json_t *v, gr_err *err)
{
    validate_uscc_info info;
    int64_t b = field_int(v, "building_id"), h = field_int(v, "house_id");
    int rc = validate_uscc(json_string_value(json_object_get(v, "uscc")), &info, "uscc", err);

    if (rc)
        return rc;
    json_object_set_new(v, "uscc", json_string(info.normalized));
    json_object_set_new(v, "uscc_legacy", json_integer(info.legacy));
    if (b)
        rc = ref_exists(c, "SELECT count(*) FROM bd_buildings WHERE id = ?", b, "building_id",
                        "building", err);
    if (!rc && h)
        rc = ref_exists(c, "SELECT count(*) FROM bd_houses WHERE id = ?", h, "house_id", "house",
                        err);
    if (!rc && b && h) {
        int64_t hb = 0;

        rc = db_query_int(c, "SELECT building_id FROM bd_houses WHERE id = ?", h, 0, &hb, err);
        if (!rc && hb != b)
            rc = err_set(err, GR_EINVAL, "house_id", "house %lld is not in building %lld",
                         (long long)h, (long long)b);
    }
    return rc;
}

static int chain_from(db_conn *c, const char *sql, int64_t id, int64_t chain[5], gr_err *err)
{
    db_stmt *st = db_prepare(c, sql, err);
    int rc, i;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW)
        for (i = 0; i < 5; i++)
            chain[i] = db_col_int(st, i);
    db_done(st);
    return rc < 0 ? rc : 0;
}

static int org_place(db_conn *c, json_t *v, int64_t chain[5], gr_err *err)
{
    int64_t h = field_int(v, "house_id"), b = field_int(v, "building_id");

    if (h)
        return chain_from(c,
                          "SELECT city_id, district_id, street_id, community_id, grid_id "
                          "FROM bd_houses WHERE id = ?",
                          h, chain, err);
    if (b)
        return chain_from(c,
                          "SELECT city_id, district_id, street_id, community_id, grid_id "
                          "FROM bd_buildings WHERE id = ?",
                          b, chain, err);
    return 0;
}

static int dept_check(db_conn *c, json_t *v, const char *field, gr_err *err)
{
    int64_t id = field_int(v, field), org = 0;
    int rc;

    if (!id)
        return 0;
    rc = org_dept_unit(c, id, &org, err);
    if (rc == GR_ENOTFOUND)
        rc = err_set(err, GR_EINVAL, field, "no department with id %lld", (long long)id);
    return rc;
}

static int facility_derive(db_conn *c, json_t *v, gr_err *err)
{
    validate_facility_info info;
    int rc =
        validate_facility_code(json_string_value(json_object_get(v, "code")), &info, "code", err);

    if (rc)
        return rc;
    json_object_set_new(v, "county", json_string(info.county));
    json_object_set_new(v, "major", json_integer(info.major));
    json_object_set_new(v, "minor", json_integer(info.minor));
    rc = dept_check(c, v, "owner_dept_id", err);
    if (!rc)
        rc = dept_check(c, v, "maintainer_dept_id", err);
    return rc;
}

static int space_derive(db_conn *c, json_t *v, gr_err *err)
{
    int64_t m = field_int(v, "manager_org_id");

    if (!m)
        return 0;
    return ref_exists(c, "SELECT count(*) FROM bd_orgs WHERE id = ?", m, "manager_org_id",
                      "organisation", err);
}

static const char *const org_key[] = {"uscc"};
static const char *const facility_key[] = {"code"};
static const char *const space_key[] = {"kind", "name", "address"};

const bd_unit_def bd_unit_orgs = {
    "org",   "orgs", "bd_orgs", "bd_orgs_geo", "an organisation", org_cols, NCODES(org_cols),
    org_key, 1,      0,         org_derive,    org_place};
const bd_unit_def bd_unit_facilities = {"facility",
                                        "facilities",
                                        "bd_facilities",
                                        "bd_facilities_geo",
                                        "a facility",
                                        facility_cols,
                                        NCODES(facility_cols),
                                        facility_key,
                                        1,
                                        0,
                                        facility_derive,
                                        NULL};
const bd_unit_def bd_unit_spaces = {"space",
                                    "spaces",
                                    "bd_spaces",
                                    "bd_spaces_geo",
                                    "an underground space",
                                    space_cols,
                                    NCODES(space_cols),
                                    space_key,
                                    3,
                                    1,
                                    space_derive,
                                    NULL};

const bd_unit_def *bd_unit_find(const char *collection)
{
    static const bd_unit_def *const all[] = {&bd_unit_orgs, &bd_unit_facilities, &bd_unit_spaces};
    size_t i;

    for (i = 0; collection && i < NCODES(all); i++)
        if (strcmp(all[i]->collection, collection) == 0)
            return all[i];
    return NULL;
}

const char *bd_unit_entity(const bd_unit_def *d)
{
    return d->entity;
}

const char *bd_unit_collection(const bd_unit_def *d)
{
    return d->collection;
}

/* ---- SQL text ---- */

#define META_COLS                                                                                  \
    "id, version, steward_org_id, steward_user_id, source, city_id, district_id, street_id, "      \
    "community_id, grid_id, created_at, updated_at, retired_at"
enum { META_N = 13 };

/* ", a, b_enc, b_hint, c" for the fields of d. */
static void sql_cols(buf *b, const bd_unit_def *d, const char *suffix)
{
    size_t i;

    for (i = 0; i < d->ncols; i++) {
        if (d->cols[i].type == T_SEALED)
            buf_printf(b, ", %s_enc%s, %s_hint%s", d->cols[i].name, suffix, d->cols[i].name,
                       suffix);
        else
            buf_printf(b, ", %s%s", d->cols[i].name, suffix);
    }
}

static db_stmt *prepare_select(db_conn *c, const bd_unit_def *d, const char *where, gr_err *err)
{
    buf b = BUF_INIT;
    db_stmt *st;

    buf_puts(&b, "SELECT " META_COLS);
    sql_cols(&b, d, "");
    buf_printf(&b, " FROM %s %s", d->table, where);
    st = db_prepare(c, b.data, err);
    buf_free(&b);
    return st;
}

/* Reads the fields of the current row into v. The sealed field's hint goes
 * to v (masked) unless key is given: then its ciphertext is opened into v
 * and kept in r->enc. */
static int rec_read(db_stmt *st, const bd_unit_def *d, const unsigned char *key, struct unit_rec *r,
                    gr_err *err)
{
    int col = META_N, rc = 0;
    size_t i;

    bd_meta_read(st, &r->m);
    r->m.source = NULL;
    r->v = json_object();
    for (i = 0; i < d->ncols; i++) {
        const ucol *u = &d->cols[i];
        json_t *x = NULL;

        if (u->type == T_SEALED) {
            size_t len = 0;
            const unsigned char *enc = db_col_blob(st, col, &len);

            if (key && enc && len) {
                unsigned char *plain = malloc(len + 1);
                size_t n = 0;

                r->enc = malloc(len);
                if (!plain || !r->enc) {
                    free(plain);
                    return err_set(err, GR_EINTERNAL, "", "out of memory");
                }
                memcpy(r->enc, enc, len);
                r->enc_len = len;
                rc = crypto_open(key, enc, len, BD_AD_LEGAL_REP, plain, len + 1, &n, err);
                if (!rc)
                    x = json_stringn((const char *)plain, n);
                sodium_memzero(plain, len + 1);
                free(plain);
                if (rc)
                    return err_set(err, GR_EINTERNAL, "", "cannot open a sealed field");
            } else if (!key) {
                const char *hint = db_col_text(st, col + 1);

                x = hint ? json_string(hint) : NULL;
            }
            col += 2;
        } else if (db_col_is_null(st, col)) {
            col++;
        } else if (u->type == T_INT || u->type == T_DERIVED_INT) {
            x = json_integer(db_col_int(st, col++));
        } else if (u->type == T_REAL) {
            x = json_real(db_col_double(st, col++));
        } else {
            x = json_string(db_col_text(st, col++));
        }
        if (x)
            json_object_set_new(r->v, u->name, x);
    }
    return 0;
}

static void rec_free(struct unit_rec *r)
{
    json_decref(r->v);
    r->v = NULL;
    if (r->enc) {
        free(r->enc);
        r->enc = NULL;
    }
}

/* Loads record id for a change (sealed fields opened). */
static int rec_load(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, int64_t id, struct unit_rec *r,
                    gr_err *err)
{
    db_stmt *st = prepare_select(c, d, "WHERE id = ?", err);
    int rc;

    memset(r, 0, sizeof(*r));
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW)
        rc = rec_read(st, d, ctx->field_key, r, err);
    else if (rc == DB_DONE)
        rc = err_set(err, GR_ENOTFOUND, "id", "no such record: %lld", (long long)id);
    db_done(st);
    return rc;
}

/* ---- input ---- */

static const ucol *col_find(const bd_unit_def *d, const char *name)
{
    size_t i;

    for (i = 0; i < d->ncols; i++)
        if (strcmp(d->cols[i].name, name) == 0)
            return &d->cols[i];
    return NULL;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_real(const char *s, double *out)
{
    char *end;
    double v;
    const char *p;

    for (p = s; *p; p++)
        if (!strchr("0123456789+-.eE", *p))
            return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* One input value of field u as the stored value (*out new; json null for
 * null). text: x is CSV text. */
static int value_parse(const ucol *u, json_t *x, int text, json_t **out, gr_err *err)
{
    const char *s = json_is_string(x) ? json_string_value(x) : NULL;
    int64_t i;
    double r;

    *out = NULL;
    if (json_is_null(x) || (text && s && !s[0])) {
        *out = json_null();
        return 0;
    }
    switch (u->type) {
    case T_TEXT:
    case T_CODE:
    case T_SEALED:
        if (!s)
            return err_set(err, GR_EINVAL, u->name, "must be a string");
        if (jv_utf8_len(s) < (size_t)u->min || jv_utf8_len(s) > (size_t)u->max)
            return err_set(err, GR_EINVAL, u->name, "must be %g to %g characters long", u->min,
                           u->max);
        if (u->type == T_CODE) {
            /* Codes are upper case: a lower-case code is the same code. */
            char t[4 * 40 + 1];
            size_t k;

            for (k = 0; s[k] && k < sizeof(t) - 1; k++)
                t[k] = s[k] >= 'a' && s[k] <= 'z' ? (char)(s[k] - 'a' + 'A') : s[k];
            t[k] = '\0';
            *out = json_string(t);
        } else {
            *out = json_string(s);
        }
        return 0;
    case T_ENUM: {
        const char *code = NULL;

        if (!s)
            return err_set(err, GR_EINVAL, u->name, "must be a string");
        if (bd_enum_check(s, u->codes, u->ncodes, u->name, &code, err))
            return GR_EINVAL;
        *out = json_string(code);
        return 0;
    }
    case T_INT:
        if (text ? !s || parse_int(s, &i) : !json_is_integer(x))
            return err_set(err, GR_EINVAL, u->name, "must be an integer");
        if (!text)
            i = (int64_t)json_integer_value(x);
        if ((double)i < u->min || (double)i > u->max)
            return err_set(err, GR_EINVAL, u->name, "must be between %.0f and %.0f", u->min,
                           u->max);
        *out = json_integer(i);
        return 0;
    case T_REAL:
        if (text ? !s || parse_real(s, &r) : !json_is_number(x))
            return err_set(err, GR_EINVAL, u->name, "must be a number");
        if (!text)
            r = json_number_value(x);
        if (r < u->min || r > u->max)
            return err_set(err, GR_EINVAL, u->name, "must be between %g and %g", u->min, u->max);
        *out = json_real(r);
        return 0;
    default:
        return err_set(err, GR_EINVAL, u->name, "is computed, not given");
    }
}

/* The common input fields beside the entity's. */
static int common_int(json_t *in, const char *name, int text, int64_t *out, int *given, gr_err *err)
{
    json_t *x = json_object_get(in, name);
    const char *s = json_string_value(x);

    *given = x != NULL;
    *out = 0;
    if (!x || json_is_null(x) || (text && s && !s[0]))
        return 0;
    if (text ? !s || parse_int(s, out) || *out <= 0
             : !json_is_integer(x) || json_integer_value(x) <= 0)
        return err_set(err, GR_EINVAL, name, "must be a positive integer id");
    if (!text)
        *out = (int64_t)json_integer_value(x);
    return 0;
}

struct input {
    json_t *v; /* the entity's given fields, parsed */
    int64_t steward_org_id, steward_user_id;
    int steward_org_given, steward_user_given;
};

static int input_parse(const bd_unit_def *d, json_t *in, int text, struct input *p, gr_err *err)
{
    const char *name;
    json_t *x;
    geo_crs crs = GEO_CRS_WGS84;
    int rc = 0;

    memset(p, 0, sizeof(*p));
    p->v = json_object();
    if (!json_is_object(in))
        return err_set(err, GR_EINVAL, "", "must be a JSON object");
    json_object_foreach(in, name, x)
    {
        const ucol *u = col_find(d, name);
        json_t *val = NULL;

        if (strcmp(name, "steward_org_id") == 0 || strcmp(name, "steward_user_id") == 0)
            continue;
        if (strcmp(name, "crs") == 0) {
            const char *s = json_string_value(x);

            if (geo_crs_arg(s && s[0] ? s : NULL, &crs, err))
                return GR_EINVAL;
            continue;
        }
        if (!u || u->type == T_DERIVED || u->type == T_DERIVED_INT)
            return err_set(err, GR_EINVAL, name, "is not a field of %s", d->collection);
        rc = value_parse(u, x, text, &val, err);
        if (rc)
            return rc;
        json_object_set_new(p->v, name, val);
    }
    rc = common_int(in, "steward_org_id", text, &p->steward_org_id, &p->steward_org_given, err);
    if (!rc)
        rc = common_int(in, "steward_user_id", text, &p->steward_user_id, &p->steward_user_given,
                        err);
    if (rc)
        return rc;
    /* A point comes whole, converted to WGS-84 once here. */
    {
        json_t *la = json_object_get(p->v, "lat"), *lo = json_object_get(p->v, "lon");

        if ((la != NULL) != (lo != NULL) || (la && json_is_null(la) != json_is_null(lo)))
            return err_set(err, GR_EINVAL, la ? "lon" : "lat", "lat and lon come together");
        if (la && !json_is_null(la) && crs != GEO_CRS_WGS84) {
            double lat, lon;

            geo_to_wgs84(crs, json_real_value(la), json_real_value(lo), &lat, &lon);
            json_object_set_new(p->v, "lat", json_real(lat));
            json_object_set_new(p->v, "lon", json_real(lon));
        }
    }
    return 0;
}

/* ---- writes ---- */

static int find_key(db_conn *c, const bd_unit_def *d, json_t *v, int64_t *id, gr_err *err)
{
    buf b = BUF_INIT;
    db_stmt *st;
    size_t i;
    int rc;

    *id = 0;
    for (i = 0; i < d->nkey; i++)
        if (!json_is_string(json_object_get(v, d->key[i])))
            return 0; /* the required check names it */
    buf_printf(&b, "SELECT id FROM %s WHERE ", d->table);
    for (i = 0; i < d->nkey; i++)
        buf_printf(&b, "%s%s = ?", i ? " AND " : "", d->key[i]);
    if (d->key_live_only)
        buf_puts(&b, " AND retired_at IS NULL");
    st = db_prepare(c, b.data, err);
    buf_free(&b);
    if (!st)
        return GR_EINTERNAL;
    for (i = 0; i < d->nkey; i++)
        db_bind_text(st, (int)i + 1, json_string_value(json_object_get(v, d->key[i])));
    rc = db_step(st, err);
    if (rc == DB_ROW)
        *id = db_col_int(st, 0);
    db_done(st);
    return rc < 0 ? rc : 0;
}

static int key_taken(const bd_unit_def *d, json_t *v, int64_t id, gr_err *err)
{
    char key[160];
    size_t i, len = 0;

    key[0] = '\0';
    for (i = 0; i < d->nkey && len < sizeof(key); i++)
        len += (size_t)snprintf(key + len, sizeof(key) - len, "%s%s %s", i ? ", " : "", d->key[i],
                                json_string_value(json_object_get(v, d->key[i])));
    if (id)
        return err_set(err, GR_EEXIST, d->key[0], "%s with %s already exists (id %lld)", d->what,
                       key, (long long)id);
    return err_set(err, GR_EEXIST, d->key[0], "%s with %s already exists", d->what, key);
}

static void bind_value(db_stmt *st, int i, json_t *x)
{
    if (!x || json_is_null(x))
        db_bind_null(st, i);
    else if (json_is_integer(x))
        db_bind_int(st, i, (int64_t)json_integer_value(x));
    else if (json_is_real(x))
        db_bind_double(st, i, json_real_value(x));
    else
        db_bind_text(st, i, json_string_value(x));
}

/* Binds the fields of r from parameter first on; the sealed field is sealed
 * anew when reseal, else its stored ciphertext is kept. */
static int bind_fields(gr_ctx *ctx, db_stmt *st, int first, const bd_unit_def *d,
                       const struct unit_rec *r, int reseal, gr_err *err)
{
    size_t i;
    int p = first;

    for (i = 0; i < d->ncols; i++) {
        const ucol *u = &d->cols[i];
        json_t *x = json_object_get(r->v, u->name);

        if (u->type != T_SEALED) {
            bind_value(st, p++, x);
            continue;
        }
        if (!json_is_string(x)) {
            db_bind_null(st, p++);
            db_bind_null(st, p++);
        } else {
            const char *s = json_string_value(x);
            size_t len = strlen(s), n = 0;
            unsigned char sealed[BD_LEGAL_REP_MAX * 4 + CRYPTO_SEAL_OVERHEAD];
            char hint[BD_LEGAL_REP_MAX * 4 + 1];

            if (!reseal && r->enc) {
                db_bind_blob(st, p++, r->enc, r->enc_len);
            } else {
                if (crypto_seal(ctx->field_key, s, len, BD_AD_LEGAL_REP, sealed, sizeof(sealed), &n,
                                err))
                    return GR_EINTERNAL;
                db_bind_blob(st, p++, sealed, n);
            }
            mask_text(NULL, MASK_NAME, s, hint, sizeof(hint));
            db_bind_text(st, p++, hint);
        }
    }
    return p;
}

static int geo_ok(json_t *v)
{
    return json_is_real(json_object_get(v, "lat")) && json_is_real(json_object_get(v, "lon"));
}

/* The chain of the record: its point's grid, else its place, else the steward unit. */
static int locate(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, struct unit_rec *r, gr_err *err)
{
    int rc = 0;

    memset(r->m.chain, 0, sizeof(r->m.chain));
    if (geo_ok(r->v))
        return bd_chain_at(ctx, c, json_real_value(json_object_get(r->v, "lat")),
                           json_real_value(json_object_get(r->v, "lon")), r->m.chain, err);
    if (d->place)
        rc = d->place(c, r->v, r->m.chain, err);
    return rc;
}

static int chain_empty(const int64_t chain[5])
{
    return !chain[0] && !chain[1] && !chain[2] && !chain[3] && !chain[4];
}

/* field -> [old, new] for every field that differs; sealed ones masked. */
static void diff(const bd_unit_def *d, const struct unit_rec *old, const struct unit_rec *new_,
                 bd_changes *ch, int *sealed_changed)
{
    size_t i;

    *sealed_changed = 0;
    for (i = 0; i < d->ncols; i++) {
        const ucol *u = &d->cols[i];
        json_t *a = old ? json_object_get(old->v, u->name) : NULL;
        json_t *b = json_object_get(new_->v, u->name);

        if (a && json_is_null(a))
            a = NULL;
        if (b && json_is_null(b))
            b = NULL;
        if ((!a && !b) || (a && b && json_equal(a, b)))
            continue;
        if (u->type == T_SEALED) {
            *sealed_changed = 1;
            bd_changes_put_sealed(ch, u->name, a != NULL, b != NULL);
        } else {
            bd_changes_put_json(ch, u->name, a, b);
        }
    }
    bd_changes_put_int(ch, "steward_org_id", old ? old->m.steward_org_id : 0,
                       new_->m.steward_org_id, 1);
    bd_changes_put_int(ch, "steward_user_id", old ? old->m.steward_user_id : 0,
                       new_->m.steward_user_id, 1);
    bd_changes_put_int(ch, "grid_id", old ? old->m.chain[4] : 0, new_->m.chain[4], 1);
}

static void meta_bind(db_stmt *st, const bd_meta *m)
{
    int i;

    db_bind_int(st, 1, m->version);
    db_bind_int(st, 2, m->steward_org_id);
    db_bind_int_or_null(st, 3, m->steward_user_id);
    db_bind_text(st, 4, m->source);
    for (i = 0; i < 5; i++)
        db_bind_int_or_null(st, 5 + i, m->chain[i]);
    db_bind_int(st, 10, m->created_at);
    db_bind_int(st, 11, m->updated_at);
}

static int write_insert(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, struct unit_rec *r,
                        gr_err *err)
{
    buf b = BUF_INIT;
    db_stmt *st;
    size_t i, n = 0;
    int p, rc;

    buf_printf(&b,
               "INSERT INTO %s (version, steward_org_id, steward_user_id, source, city_id, "
               "district_id, street_id, community_id, grid_id, created_at, updated_at",
               d->table);
    sql_cols(&b, d, "");
    buf_puts(&b, ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?");
    for (i = 0; i < d->ncols; i++)
        n += d->cols[i].type == T_SEALED ? 2 : 1;
    for (i = 0; i < n; i++)
        buf_puts(&b, ", ?");
    buf_puts(&b, ")");
    st = db_prepare(c, b.data, err);
    buf_free(&b);
    if (!st)
        return GR_EINTERNAL;
    meta_bind(st, &r->m);
    p = bind_fields(ctx, st, 12, d, r, 1, err);
    rc = p < 0 ? p : db_run(st, err);
    db_done(st);
    if (rc == GR_EEXIST)
        rc = key_taken(d, r->v, 0, err);
    if (!rc)
        r->m.id = db_last_id(c);
    return rc;
}

static int write_update(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, struct unit_rec *r,
                        int reseal, gr_err *err)
{
    buf b = BUF_INIT;
    db_stmt *st;
    int p, rc;

    buf_printf(&b,
               "UPDATE %s SET version = ?, steward_org_id = ?, steward_user_id = ?, source = ?, "
               "city_id = ?, district_id = ?, street_id = ?, community_id = ?, grid_id = ?, "
               "created_at = ?, updated_at = ?",
               d->table);
    sql_cols(&b, d, " = ?");
    buf_puts(&b, " WHERE id = ? AND version = ?");
    st = db_prepare(c, b.data, err);
    buf_free(&b);
    if (!st)
        return GR_EINTERNAL;
    meta_bind(st, &r->m);
    p = bind_fields(ctx, st, 12, d, r, reseal, err);
    if (p < 0) {
        db_done(st);
        return p;
    }
    db_bind_int(st, p, r->m.id);
    db_bind_int(st, p + 1, r->m.version - 1);
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_EEXIST)
        rc = key_taken(d, r->v, 0, err);
    if (!rc && db_changes(c) != 1)
        rc = err_set(err, GR_ECONFLICT, "version", "the record changed meanwhile");
    return rc;
}

static int history(db_conn *c, const bd_unit_def *d, const bd_actor *who, const struct unit_rec *r,
                   const char *action, const bd_changes *changes, gr_err *err)
{
    bd_change ch = {d->entity, r->m.id,     r->m.version, r->m.updated_at,
                    who,       r->m.source, action,       changes};

    return bd_history_add(c, &ch, err);
}

int bd_unit_write(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, const bd_actor *who,
                  const bd_unit_op *op, json_t *in, int64_t *id, int *changed, gr_err *err)
{
    struct input p;
    struct unit_rec old, r;
    int have_old = 0, sealed_changed = 0, rc;
    bd_changes changes = {0};
    const char *name, *source = NULL;
    json_t *x;
    size_t i;

    memset(&p, 0, sizeof(p));
    memset(&old, 0, sizeof(old));
    memset(&r, 0, sizeof(r));
    *changed = 0;
    rc = bd_source_check(op->source, &source, err);
    if (!rc)
        rc = input_parse(d, in, op->text, &p, err);
    if (rc)
        goto out;
    /* The natural key of the input (normalised: lower-case codes are the same code). */
    if (op->mode != BD_UNIT_UPDATE) {
        rc = find_key(c, d, p.v, id, err);
        if (rc)
            goto out;
        if (*id && op->mode == BD_UNIT_CREATE) {
            rc = key_taken(d, p.v, *id, err);
            goto out;
        }
    }
    if (*id) {
        rc = rec_load(ctx, c, d, *id, &old, err);
        if (rc)
            goto out;
        have_old = 1;
        if (op->mode == BD_UNIT_UPDATE && op->version != old.m.version) {
            rc = err_set(err, GR_ECONFLICT, "version",
                         "stale: the record is at version %lld, not %lld", (long long)old.m.version,
                         (long long)op->version);
            goto out;
        }
        if (old.m.retired_at && op->mode == BD_UNIT_UPDATE) {
            rc = err_set(err, GR_ECONFLICT, "id", "the record is retired");
            goto out;
        }
        rc = bd_scope_check(c, who, &old.m, err);
        if (rc)
            goto out;
    }
    /* Merge: the given fields over the stored ones. */
    r.v = have_old ? json_deep_copy(old.v) : json_object();
    json_object_foreach(p.v, name, x)
    {
        if (json_is_null(x))
            json_object_del(r.v, name);
        else
            json_object_set(r.v, name, x);
    }
    for (i = 0; i < d->ncols; i++) {
        const ucol *u = &d->cols[i];

        if (!u->required || json_object_get(r.v, u->name))
            continue;
        if (strcmp(u->name, "state") == 0 && !have_old) {
            json_object_set_new(r.v, "state", json_string("normal"));
            continue;
        }
        rc = err_set(err, GR_EINVAL, u->name, "is required");
        goto out;
    }
    if (d->derive && (rc = d->derive(c, r.v, err)) != 0)
        goto out;
    rc = locate(ctx, c, d, &r, err);
    if (rc)
        goto out;
    r.m.steward_org_id = p.steward_org_given ? p.steward_org_id : old.m.steward_org_id;
    r.m.steward_user_id = p.steward_user_given ? p.steward_user_id : old.m.steward_user_id;
    if (r.m.steward_user_id)
        rc = ref_exists(c, "SELECT count(*) FROM users WHERE id = ?", r.m.steward_user_id,
                        "steward_user_id", "user", err);
    if (!rc && (!have_old || p.steward_org_given))
        rc = bd_steward_fill(c, who, &r.m, err);
    if (!rc && chain_empty(r.m.chain))
        rc = bd_chain_of_unit(c, r.m.steward_org_id, "steward_org_id", r.m.chain, err);
    if (!rc)
        rc = bd_scope_check(c, who, &r.m, err);
    if (rc)
        goto out;
    diff(d, have_old ? &old : NULL, &r, &changes, &sealed_changed);
    if (have_old && changes.n == 0)
        goto out; /* unchanged: no new version */
    if (have_old && old.m.retired_at) {
        rc = err_set(err, GR_ECONFLICT, d->key[0], "%s with this %s is retired (id %lld)", d->what,
                     d->key[0], (long long)old.m.id);
        goto out;
    }
    r.m.source = source;
    r.m.updated_at = time_now_ms();
    if (have_old) {
        r.m.id = old.m.id;
        r.m.version = old.m.version + 1;
        r.m.created_at = old.m.created_at;
        r.enc = old.enc;
        r.enc_len = old.enc_len;
        rc = write_update(ctx, c, d, &r, sealed_changed, err);
        if (!rc && sealed_changed)
            rc = bd_history_seal_keep(c, d->entity, r.m.id, r.m.version, "legal_rep", old.enc,
                                      old.enc_len, err);
        r.enc = NULL;
    } else {
        r.m.version = 1;
        r.m.created_at = r.m.updated_at;
        rc = write_insert(ctx, c, d, &r, err);
    }
    if (!rc)
        rc = history(c, d, who, &r, have_old ? "update" : "create", &changes, err);
    if (!rc) {
        *id = r.m.id;
        *changed = 1;
    }
out:
    bd_changes_free(&changes);
    json_decref(p.v);
    rec_free(&old);
    rec_free(&r);
    return rc;
}

int bd_unit_retire(gr_ctx *ctx, db_conn *c, const bd_unit_def *d, const bd_actor *who, int64_t id,
                   int64_t version, gr_err *err)
{
    struct unit_rec r;
    buf b = BUF_INIT;
    db_stmt *st = NULL;
    bd_changes changes = {0};
    int rc = rec_load(ctx, c, d, id, &r, err);

    if (rc)
        goto out;
    rc = bd_scope_check(c, who, &r.m, err);
    if (rc)
        goto out;
    if (r.m.retired_at) {
        rc = err_set(err, GR_ECONFLICT, "id", "already retired");
        goto out;
    }
    if (version != r.m.version) {
        rc = err_set(err, GR_ECONFLICT, "version", "stale: the record is at version %lld, not %lld",
                     (long long)r.m.version, (long long)version);
        goto out;
    }
    r.m.updated_at = time_now_ms();
    buf_printf(&b,
               "UPDATE %s SET version = version + 1, retired_at = ?, updated_at = ? "
               "WHERE id = ? AND version = ?",
               d->table);
    st = db_prepare(c, b.data, err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, 1, r.m.updated_at);
    db_bind_int(st, 2, r.m.updated_at);
    db_bind_int(st, 3, id);
    db_bind_int(st, 4, version);
    rc = db_run(st, err);
    if (rc)
        goto out;
    r.m.version++;
    r.m.source = "collected";
    bd_changes_put_int(&changes, "retired_at", 0, r.m.updated_at, 1);
    rc = history(c, d, who, &r, "retire", &changes, err);
out:
    if (st)
        db_done(st);
    buf_free(&b);
    bd_changes_free(&changes);
    rec_free(&r);
    return rc;
}

/* ---- reads ---- */

static json_t *chain_json(const bd_meta *m)
{
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "city_id", http_json_id(m->chain[0]),
                     "district_id", http_json_id(m->chain[1]), "street_id",
                     http_json_id(m->chain[2]), "community_id", http_json_id(m->chain[3]),
                     "grid_id", http_json_id(m->chain[4]));
}

/* The API's view of the current row (masked). */
static json_t *row_json(db_stmt *st, const bd_unit_def *d, bd_meta *m)
{
    struct unit_rec r;
    json_t *o, *ch;
    size_t i;

    memset(&r, 0, sizeof(r));
    if (rec_read(st, d, NULL, &r, NULL)) {
        rec_free(&r);
        return NULL;
    }
    *m = r.m;
    m->source = db_col_text(st, 4);
    o = json_pack("{s:I, s:I}", "id", (json_int_t)r.m.id, "version", (json_int_t)r.m.version);
    for (i = 0; i < d->ncols; i++) {
        json_t *x = json_object_get(r.v, d->cols[i].name);

        if (strcmp(d->cols[i].name, "uscc_legacy") == 0)
            json_object_set_new(o, "uscc_legacy", json_boolean(json_integer_value(x)));
        else
            json_object_set(o, d->cols[i].name, x ? x : json_null());
    }
    json_object_set_new(o, "steward_org_id", json_integer(r.m.steward_org_id));
    json_object_set_new(o, "steward_user_id", http_json_id(r.m.steward_user_id));
    json_object_set_new(o, "source", json_string(m->source ? m->source : ""));
    ch = chain_json(&r.m);
    json_object_update(o, ch);
    json_decref(ch);
    json_object_set_new(o, "created_at", http_json_time(r.m.created_at));
    json_object_set_new(o, "updated_at", http_json_time(r.m.updated_at));
    json_object_set_new(o, "retired_at", http_json_time(r.m.retired_at));
    rec_free(&r);
    return o;
}

#define COMMON_OUT                                                                                 \
    "steward_org_id", "steward_user_id", "source", "city_id", "district_id", "street_id",          \
        "community_id", "grid_id", "created_at", "updated_at", "retired_at", NULL

const char *const *bd_unit_columns(const bd_unit_def *d)
{
    static const char *const orgs[] = {"id",       "version", "uscc",      "uscc_legacy",
                                       "name",     "type",    "legal_rep", "building_id",
                                       "house_id", "address", "industry",  "employees",
                                       "lat",      "lon",     COMMON_OUT};
    static const char *const facilities[] = {
        "id",    "version", "code",    "county",        "major",
        "minor", "name",    "state",   "owner_dept_id", "maintainer_dept_id",
        "lat",   "lon",     COMMON_OUT};
    static const char *const spaces[] = {"id",      "version",  "kind", "name",           "address",
                                         "area_m2", "capacity", "use",  "manager_org_id", "lat",
                                         "lon",     COMMON_OUT};

    return d == &bd_unit_orgs ? orgs : d == &bd_unit_facilities ? facilities : spaces;
}

int bd_unit_meta(db_conn *c, const bd_unit_def *d, int64_t id, bd_meta *m, gr_err *err)
{
    buf b = BUF_INIT;
    db_stmt *st;
    int rc;

    buf_printf(&b, "SELECT " META_COLS " FROM %s WHERE id = ?", d->table);
    st = db_prepare(c, b.data, err);
    buf_free(&b);
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        bd_meta_read(st, m);
        m->source = NULL;
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "id", "no such record: %lld", (long long)id);
    }
    db_done(st);
    return rc;
}

int bd_unit_get(db_conn *c, const bd_unit_def *d, const bd_actor *who, int64_t id, json_t **out,
                gr_err *err)
{
    db_stmt *st = prepare_select(c, d, "WHERE id = ?", err);
    bd_meta m;
    int rc;

    *out = NULL;
    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        *out = row_json(st, d, &m);
        rc = *out ? 0 : err_set(err, GR_EINTERNAL, "", "cannot read the record");
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "id", "no such record: %lld", (long long)id);
    }
    db_done(st);
    if (!rc)
        rc = bd_scope_check(c, who, &m, err);
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int bd_unit_list(db_conn *c, const bd_unit_def *d, const bd_unit_filter *f, json_t **items,
                 int *more, int64_t *last, gr_err *err)
{
    buf w = BUF_INIT;
    const char *scope_col = NULL;
    db_stmt *st = NULL;
    json_t *arr = json_array();
    double w_, s_, e_, n_;
    int p = 1, rc = 0;
    int64_t count = 0;

    *items = NULL;
    *more = 0;
    *last = 0;
    if (f->scope) {
        rc = org_unit_column(c, f->scope, &scope_col, err);
        if (rc)
            goto out;
        if (!scope_col)
            goto done; /* no such unit: nothing is inside it */
    }
    buf_puts(&w, "WHERE id > ?");
    if (scope_col)
        buf_printf(&w, " AND %s = ?", scope_col);
    if (!f->include_retired)
        buf_puts(&w, " AND retired_at IS NULL");
    if (f->type)
        buf_puts(&w, " AND type = ?");
    if (f->industry)
        buf_puts(&w, " AND industry = ?");
    if (f->major)
        buf_puts(&w, " AND major = ?");
    if (f->minor)
        buf_puts(&w, " AND minor = ?");
    if (f->state)
        buf_puts(&w, " AND state = ?");
    if (f->kind)
        buf_puts(&w, " AND kind = ?");
    w_ = f->west;
    s_ = f->south;
    e_ = f->east;
    n_ = f->north;
    if (f->has_near) {
        /* The radius' bounding box first (R*Tree), then the exact distance. */
        double dlat = f->radius_m / 111195.0;
        double dlon = dlat / fmax(cos(f->lat * 3.14159265358979323846 / 180.0), 0.01);

        s_ = f->lat - dlat;
        n_ = f->lat + dlat;
        w_ = f->lon - dlon;
        e_ = f->lon + dlon;
    }
    if (f->has_bbox || f->has_near)
        buf_printf(&w,
                   " AND id IN (SELECT id FROM %s WHERE min_lat >= ? AND max_lat <= ? "
                   "AND min_lon >= ? AND max_lon <= ?)",
                   d->geo);
    buf_puts(&w, " ORDER BY id");
    if (!f->has_near)
        buf_puts(&w, " LIMIT ?");
    st = prepare_select(c, d, w.data, err);
    if (!st) {
        rc = GR_EINTERNAL;
        goto out;
    }
    db_bind_int(st, p++, f->after);
    if (scope_col)
        db_bind_int(st, p++, f->scope);
    if (f->type)
        db_bind_text(st, p++, f->type);
    if (f->industry)
        db_bind_text(st, p++, f->industry);
    if (f->major)
        db_bind_int(st, p++, f->major);
    if (f->minor)
        db_bind_int(st, p++, f->minor);
    if (f->state)
        db_bind_text(st, p++, f->state);
    if (f->kind)
        db_bind_text(st, p++, f->kind);
    if (f->has_bbox || f->has_near) {
        db_bind_double(st, p++, s_);
        db_bind_double(st, p++, n_);
        db_bind_double(st, p++, w_);
        db_bind_double(st, p++, e_);
    }
    if (!f->has_near)
        db_bind_int(st, p++, f->limit + 1);
    while ((rc = db_step(st, err)) == DB_ROW) {
        bd_meta m;
        json_t *o;

        if (f->has_near) {
            int lc = -1;
            size_t i;

            for (i = 0, lc = META_N; i < d->ncols && strcmp(d->cols[i].name, "lat") != 0; i++)
                lc += d->cols[i].type == T_SEALED ? 2 : 1;
            if (db_col_is_null(st, lc) || geo_distance_m(f->lat, f->lon, db_col_double(st, lc),
                                                         db_col_double(st, lc + 1)) > f->radius_m)
                continue;
        }
        if (count == f->limit) {
            *more = 1;
            break;
        }
        o = row_json(st, d, &m);
        if (!o) {
            rc = err_set(err, GR_EINTERNAL, "", "cannot read a record");
            goto out;
        }
        json_array_append_new(arr, o);
        *last = m.id;
        count++;
    }
    if (rc > 0)
        rc = 0;
done:
    *items = arr;
    arr = NULL;
out:
    if (st)
        db_done(st);
    buf_free(&w);
    json_decref(arr);
    return rc < 0 ? rc : 0;
}

/* ---- import row functions ---- */

static const char *const org_columns[] = {
    "uscc",     "name",    "type",           "legal_rep",      "building_id",
    "house_id", "address", "industry",       "employees",      "lat",
    "lon",      "crs",     "steward_org_id", "steward_user_id"};
static const char *const org_required[] = {"uscc", "name", "type"};
static const char *const facility_columns[] = {
    "code", "name", "state", "owner_dept_id",  "maintainer_dept_id",
    "lat",  "lon",  "crs",   "steward_org_id", "steward_user_id"};
static const char *const facility_required[] = {"code", "lat", "lon"};
static const char *const space_columns[] = {
    "kind",           "name", "address", "area_m2", "capacity",       "use",
    "manager_org_id", "lat",  "lon",     "crs",     "steward_org_id", "steward_user_id"};
static const char *const space_required[] = {"kind", "name", "address"};

/* A row as the model's input: the non-empty cells as text (an empty cell
 * keeps the stored value). */
static int import_row(const bd_unit_def *d, const bd_import_entity *e, gr_ctx *ctx, db_conn *c,
                      const bd_actor *who, const bd_import_row *row, const int *col, int *changed,
                      gr_err *err)
{
    bd_unit_op op = {BD_UNIT_UPSERT, 0, 1, "imported"};
    json_t *in = json_object();
    int64_t id = 0;
    size_t k;
    int rc;

    for (k = 0; k < e->ncolumns; k++) {
        const char *v = bd_import_value(row, col, k);

        if (v)
            json_object_set_new(in, e->columns[k], json_string(v));
    }
    rc = bd_unit_write(ctx, c, d, who, &op, in, &id, changed, err);
    json_decref(in);
    return rc;
}

static int import_org(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                      const int *col, int *changed, gr_err *err)
{
    return import_row(&bd_unit_orgs, &bd_import_orgs, ctx, c, who, row, col, changed, err);
}

static int import_facility(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                           const int *col, int *changed, gr_err *err)
{
    return import_row(&bd_unit_facilities, &bd_import_facilities, ctx, c, who, row, col, changed,
                      err);
}

static int import_space(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_import_row *row,
                        const int *col, int *changed, gr_err *err)
{
    return import_row(&bd_unit_spaces, &bd_import_spaces, ctx, c, who, row, col, changed, err);
}

const bd_import_entity bd_import_orgs = {
    "orgs", org_columns, NCODES(org_columns), org_required, NCODES(org_required), import_org, NULL};
const bd_import_entity bd_import_facilities = {"facilities",
                                               facility_columns,
                                               NCODES(facility_columns),
                                               facility_required,
                                               NCODES(facility_required),
                                               import_facility,
                                               NULL};
const bd_import_entity bd_import_spaces = {
    "spaces",     space_columns, NCODES(space_columns), space_required, NCODES(space_required),
    import_space, NULL};
