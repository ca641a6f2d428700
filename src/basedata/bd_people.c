/* People (实有人口): checks, sealing at rest, blind indexes, masked hints,
 * writes with history, lists, reveal and prefill (bd_model.h). */
#include "basedata/bd_model.h"
#include "basedata/bd_tally.h"

#include "base/crypto.h"
#include "base/mask.h"
#include "base/validate.h"
#include "org/org.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const relations[][2] = {
    {"householder", "户主"}, {"spouse", "配偶"},        {"child", "子女"},
    {"parent", "父母"},      {"grandparent", "祖父母"}, {"grandchild", "孙子女"},
    {"sibling", "兄弟姐妹"}, {"tenant", "租户"},        {"other", "其他"},
};
static const char *const employments[][2] = {
    {"employed", "就业"},  {"self_employed", "自主经营"}, {"unemployed", "失业"},
    {"retired", "离退休"}, {"student", "在校学生"},       {"other", "其他"},
};
static const char *const securities[][2] = {{"insured", "已参保"}, {"uninsured", "未参保"}};
#define NCODES(t) (sizeof(t) / sizeof(t[0]))

#define PERSON_COLS                                                                                \
    BD_META_COLS ", name_hint, id_number_hint, phone_hint, birth_date, sex, ethnicity, "           \
                 "residency, permit_start, permit_end, house_id, relation, employment, "           \
                 "social_security, care_tags"

/* A sealed value and its hint, as stored. */
typedef struct sealed {
    unsigned char *enc;
    size_t len;
    const char *hint;
} sealed;

/* What a write stores beyond bd_person. */
typedef struct person_row {
    bd_person p;
    sealed name, id_number, phone;
    unsigned char name_index[CRYPTO_HASH_BYTES], id_index[CRYPTO_HASH_BYTES];
} person_row;

/* ---- reads ---- */

static void person_read(db_stmt *st, arena *a, void *out)
{
    bd_person *p = out;
    const char *sex;

    bd_meta_read(st, &p->m);
    p->m.source = arena_strdup(a, p->m.source);
    p->name_hint = db_col_textdup(st, 13, a);
    p->id_number_hint = db_col_textdup(st, 14, a);
    p->phone_hint = db_col_textdup(st, 15, a);
    p->birth_date = db_col_textdup(st, 16, a);
    sex = db_col_text(st, 17);
    snprintf(p->sex, sizeof(p->sex), "%s", sex ? sex : "");
    p->ethnicity = db_col_textdup(st, 18, a);
    p->residency = db_col_textdup(st, 19, a);
    p->permit_start = db_col_textdup(st, 20, a);
    p->permit_end = db_col_textdup(st, 21, a);
    p->house_id = db_col_int(st, 22);
    p->relation = db_col_textdup(st, 23, a);
    p->employment = db_col_textdup(st, 24, a);
    p->social_security = db_col_textdup(st, 25, a);
    p->care_tags = db_col_textdup(st, 26, a);
}

int bd_person_get(db_conn *c, arena *a, int64_t id, bd_person *out, gr_err *err)
{
    return bd_read_id(c, a, "SELECT " PERSON_COLS " FROM bd_people WHERE id = ?", id, person_read,
                      out, "person", err);
}

static unsigned char *blob_dup(arena *a, db_stmt *st, int i, size_t *len)
{
    const void *p = db_col_blob(st, i, len);
    unsigned char *out;

    if (!p || !*len)
        return NULL;
    out = arena_alloc(a, *len);
    memcpy(out, p, *len);
    return out;
}

/* The sealed columns of a stored person. */
static int person_sealed(db_conn *c, arena *a, int64_t id, person_row *r, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT name_enc, name_index, id_number_enc, id_number_index, "
                             "phone_enc FROM bd_people WHERE id = ?",
                             err);
    size_t len;
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, id);
    rc = db_step(st, err);
    if (rc == DB_ROW) {
        r->name.enc = blob_dup(a, st, 0, &r->name.len);
        memcpy(r->name_index, db_col_blob(st, 1, &len), sizeof(r->name_index));
        r->id_number.enc = blob_dup(a, st, 2, &r->id_number.len);
        memcpy(r->id_index, db_col_blob(st, 3, &len), sizeof(r->id_index));
        r->phone.enc = blob_dup(a, st, 4, &r->phone.len);
        rc = 0;
    } else if (rc == DB_DONE) {
        rc = err_set(err, GR_ENOTFOUND, "id", "no person with id %lld", (long long)id);
    }
    db_done(st);
    return rc;
}

static int open_text(const gr_ctx *ctx, arena *a, const sealed *s, const char *ad, const char **out,
                     gr_err *err)
{
    unsigned char *plain;
    size_t n;
    int rc;

    *out = NULL;
    if (!s->enc)
        return 0;
    if (s->len < CRYPTO_SEAL_OVERHEAD)
        return err_set(err, GR_EINTERNAL, "", "a sealed value is damaged");
    plain = arena_alloc(a, s->len - CRYPTO_SEAL_OVERHEAD + 1);
    rc = crypto_open(ctx->field_key, s->enc, s->len, ad, plain, s->len - CRYPTO_SEAL_OVERHEAD + 1,
                     &n, err);
    if (rc)
        return err_set(err, GR_EINTERNAL, "", "a sealed value cannot be opened");
    *out = (const char *)plain;
    return 0;
}

/* ---- sealing and indexes ---- */

void bd_blind_index(const gr_ctx *ctx, const char *column, const char *value, unsigned char out[32])
{
    char text[256];
    size_t n;
    int i;

    /* The column's name keeps a name from matching an ID number's index. */
    n = (size_t)snprintf(text, sizeof(text), "%s:%s", column, value ? value : "");
    if (n >= sizeof(text))
        n = sizeof(text) - 1;
    if (strcmp(column, BD_AD_ID_NUMBER) == 0)
        for (i = 0; text[i]; i++)
            if (text[i] == 'x')
                text[i] = 'X';
    crypto_hash_keyed(ctx->index_key, text, n, out);
}

static int seal(const gr_ctx *ctx, arena *a, const char *plain, const char *ad, mask_kind kind,
                sealed *out, gr_err *err)
{
    size_t len = strlen(plain), cap = len + CRYPTO_SEAL_OVERHEAD;
    char hint[128];

    out->enc = arena_alloc(a, cap);
    mask_text(mask_policy_default(), kind, plain, hint, sizeof(hint));
    out->hint = arena_strdup(a, hint);
    return crypto_seal(ctx->field_key, plain, len, ad, out->enc, cap, &out->len, err);
}

/* ---- checks ---- */

static int name_in(const gr_ctx *ctx, arena *a, const char *name, person_row *r, gr_err *err)
{
    int rc;

    /* Trimmed, so that the blind index of " 张三" is that of "张三". */
    name = bd_trim(a, name);
    rc = bd_text_check(name, "name", 1, BD_NAME_MAX, err);

    if (rc)
        return rc;
    bd_blind_index(ctx, BD_AD_NAME, name, r->name_index);
    rc = seal(ctx, a, name, BD_AD_NAME, MASK_NAME, &r->name, err);
    r->p.name_hint = r->name.hint;
    return rc;
}

static int id_number_in(const gr_ctx *ctx, arena *a, const char *s, int today, person_row *r,
                        gr_err *err)
{
    validate_id_info info;
    int rc = validate_id_number(s, today, &info, "id_number", err);

    if (rc)
        return rc;
    r->p.birth_date = arena_printf(a, "%04d-%02d-%02d", info.year, info.month, info.day);
    r->p.sex[0] = info.sex;
    r->p.sex[1] = '\0';
    bd_blind_index(ctx, BD_AD_ID_NUMBER, info.normalized, r->id_index);
    rc = seal(ctx, a, info.normalized, BD_AD_ID_NUMBER, MASK_ID_NUMBER, &r->id_number, err);
    r->p.id_number_hint = r->id_number.hint;
    return rc;
}

static int phone_in(const gr_ctx *ctx, arena *a, const char *s, person_row *r, gr_err *err)
{
    int rc = validate_phone(s, "phone", err);

    if (!rc)
        rc = seal(ctx, a, s, BD_AD_PHONE, MASK_PHONE, &r->phone, err);
    r->p.phone_hint = r->phone.hint;
    return rc;
}

static int residency_in(const bd_person_input *in, bd_person *p, gr_err *err)
{
    int rc;

    if (!in->residency)
        return err_set(err, GR_EINVAL, "residency", "is required");
    rc = bd_enum_check(in->residency, bd_residencies, bd_nresidencies, "residency", &p->residency,
                       err);
    p->permit_start = in->permit_start;
    p->permit_end = in->permit_end;
    if (!rc)
        rc = bd_date_check(p->permit_start, "permit_start", err);
    if (!rc)
        rc = bd_date_check(p->permit_end, "permit_end", err);
    if (!rc && strcmp(p->residency, "floating") == 0 && (!p->permit_start || !p->permit_end))
        rc = err_set(err, GR_EINVAL, p->permit_start ? "permit_end" : "permit_start",
                     "is required for a floating resident (居住证 dates)");
    if (!rc && p->permit_start && p->permit_end && strcmp(p->permit_start, p->permit_end) > 0)
        rc = err_set(err, GR_EINVAL, "permit_end", "must not be before permit_start");
    return rc;
}

static int tag_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The tags as codes, sorted, without repeats, joined by commas. */
static int tags_in(arena *a, const bd_person_input *in, bd_person *p, gr_err *err)
{
    const char *v[BD_TAGS_MAX];
    size_t i, n = 0;
    int rc = 0;

    for (i = 0; i < in->ncare_tags && i < BD_TAGS_MAX && !rc; i++)
        rc =
            bd_enum_check(in->care_tags[i], bd_care_tags, bd_ncare_tags, "care_tags", &v[n++], err);
    if (rc)
        return rc;
    qsort(v, n, sizeof(v[0]), tag_cmp);
    p->care_tags = "";
    for (i = 0; i < n; i++)
        if (!i || strcmp(v[i], v[i - 1]) != 0)
            p->care_tags =
                arena_printf(a, "%s%s%s", p->care_tags, p->care_tags[0] ? "," : "", v[i]);
    return 0;
}

static int fields_in(arena *a, const bd_person_input *in, bd_person *p, gr_err *err)
{
    int rc = residency_in(in, p, err);

    if (!rc)
        rc = bd_text_check(in->ethnicity, "ethnicity", 0, 20, err);
    p->ethnicity = in->ethnicity;
    if (!rc)
        rc = bd_enum_check(in->relation, relations, NCODES(relations), "relation", &p->relation,
                           err);
    if (!rc)
        rc = bd_enum_check(in->employment, employments, NCODES(employments), "employment",
                           &p->employment, err);
    if (!rc)
        rc = bd_enum_check(in->social_security, securities, NCODES(securities), "social_security",
                           &p->social_security, err);
    if (!rc)
        rc = tags_in(a, in, p, err);
    return rc;
}

/* The chain: the house's (its building's), or the steward unit's without a house. */
static int person_place(db_conn *c, arena *a, const bd_actor *who, const int64_t *house_chain,
                        bd_person *p, gr_err *err)
{
    bd_house h;
    int64_t unit = p->m.steward_org_id ? p->m.steward_org_id : who->scope_org_id;
    int rc;

    if (!p->house_id) {
        if (!unit)
            return err_set(err, GR_EINVAL, "house_id", "is required without a steward unit");
        return bd_chain_of_unit(c, unit, "steward_org_id", p->m.chain, err);
    }
    if (house_chain) {
        memcpy(p->m.chain, house_chain, sizeof(p->m.chain));
        return 0;
    }
    rc = bd_house_get(c, a, p->house_id, &h, err);
    if (rc == GR_ENOTFOUND || (!rc && h.m.retired_at))
        return err_set(err, GR_EINVAL, "house_id", "no live house with id %lld",
                       (long long)p->house_id);
    if (!rc)
        memcpy(p->m.chain, h.m.chain, sizeof(p->m.chain));
    return rc;
}

/* ---- the write ---- */

/* Whether a sealed field changes, and its history entry; keeps the old ciphertext. */
static int sealed_diff(db_conn *c, bd_changes *ch, const char *field, const sealed *old,
                       const sealed *new_, int differs, const bd_meta *m, gr_err *err)
{
    if (!differs)
        return 0;
    bd_changes_put_sealed(ch, field, old->enc != NULL, new_->enc != NULL);
    if (!old->enc)
        return 0;
    return bd_history_seal_keep(c, "person", m->id, m->version, field, old->enc, old->len, err);
}

/* The person's own fields; where they live and who stewards them are put
 * by place_diff, after the sealed fields. */
static void person_diff(bd_changes *ch, const bd_person *o, const bd_person *n)
{
    bd_changes_put_text(ch, "birth_date", o->birth_date, n->birth_date);
    bd_changes_put_text(ch, "sex", o->sex[0] ? o->sex : NULL, n->sex);
    bd_changes_put_text(ch, "ethnicity", o->ethnicity, n->ethnicity);
    bd_changes_put_text(ch, "residency", o->residency, n->residency);
    bd_changes_put_text(ch, "permit_start", o->permit_start, n->permit_start);
    bd_changes_put_text(ch, "permit_end", o->permit_end, n->permit_end);
    bd_changes_put_text(ch, "relation", o->relation, n->relation);
    bd_changes_put_text(ch, "employment", o->employment, n->employment);
    bd_changes_put_text(ch, "social_security", o->social_security, n->social_security);
    bd_changes_put_text(ch, "care_tags", o->care_tags, n->care_tags);
    bd_changes_put_text(ch, "source", o->m.source, n->m.source);
}

static void place_diff(bd_changes *ch, const bd_person *o, const bd_person *n)
{
    bd_changes_put_int(ch, "house_id", o->house_id, n->house_id, 1);
    bd_meta_diff(ch, &o->m, &n->m);
}

static int person_save(db_conn *c, const person_row *r, int is_new, gr_err *err)
{
    static const char *const ins =
        "INSERT INTO bd_people (name_enc, name_index, name_hint, id_number_enc, "
        "id_number_index, id_number_hint, phone_enc, phone_hint, birth_date, sex, ethnicity, "
        "residency, permit_start, permit_end, house_id, relation, employment, social_security, "
        "care_tags, " BD_META_INSERT ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, " BD_META_PARAMS ")";
    static const char *const upd =
        "UPDATE bd_people SET name_enc = ?, name_index = ?, name_hint = ?, id_number_enc = ?, "
        "id_number_index = ?, id_number_hint = ?, phone_enc = ?, phone_hint = ?, "
        "birth_date = ?, sex = ?, ethnicity = ?, residency = ?, permit_start = ?, "
        "permit_end = ?, house_id = ?, relation = ?, employment = ?, social_security = ?, "
        "care_tags = ?, version = ?, steward_org_id = ?, steward_user_id = ?, source = ?, "
        "city_id = ?, district_id = ?, street_id = ?, community_id = ?, grid_id = ?, "
        "created_at = ?, updated_at = ? WHERE id = ?";
    const bd_person *p = &r->p;
    db_stmt *st = db_prepare(c, is_new ? ins : upd, err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_blob_ref(st, 1, r->name.enc, r->name.len);
    db_bind_blob_ref(st, 2, r->name_index, sizeof(r->name_index));
    db_bind_text_ref(st, 3, p->name_hint);
    db_bind_blob_ref(st, 4, r->id_number.enc, r->id_number.len);
    db_bind_blob_ref(st, 5, r->id_index, sizeof(r->id_index));
    db_bind_text_ref(st, 6, p->id_number_hint);
    if (r->phone.enc)
        db_bind_blob_ref(st, 7, r->phone.enc, r->phone.len);
    else
        db_bind_null(st, 7);
    db_bind_text_ref(st, 8, r->phone.enc ? p->phone_hint : NULL);
    db_bind_text_ref(st, 9, p->birth_date);
    db_bind_text_ref(st, 10, p->sex);
    db_bind_text_ref(st, 11, p->ethnicity);
    db_bind_text_ref(st, 12, p->residency);
    db_bind_text_ref(st, 13, p->permit_start);
    db_bind_text_ref(st, 14, p->permit_end);
    db_bind_int_or_null(st, 15, p->house_id);
    db_bind_text_ref(st, 16, p->relation);
    db_bind_text_ref(st, 17, p->employment);
    db_bind_text_ref(st, 18, p->social_security);
    db_bind_text_ref(st, 19, p->care_tags);
    bd_meta_bind(st, 20, &p->m);
    if (!is_new)
        db_bind_int(st, 31, p->m.id);
    rc = db_run(st, err);
    db_done(st);
    if (rc == GR_EEXIST)
        return err_set(err, GR_EEXIST, "id_number", "a person with this ID number is registered");
    return rc;
}

static int tags_save(db_conn *c, const bd_person *p, int is_new, gr_err *err)
{
    db_stmt *st;
    const char *s = p->care_tags, *e;
    int rc = 0;

    if (!is_new) {
        st = db_prepare(c, "DELETE FROM bd_person_tags WHERE person_id = ?", err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_int(st, 1, p->m.id);
        rc = db_run(st, err);
        db_done(st);
    }
    while (!rc && s && *s) {
        e = strchr(s, ',');
        st = db_prepare(c, "INSERT INTO bd_person_tags (tag, person_id) VALUES (?, ?)", err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_textn(st, 1, s, e ? (size_t)(e - s) : strlen(s));
        db_bind_int(st, 2, p->m.id);
        rc = db_run(st, err);
        db_done(st);
        s = e ? e + 1 : NULL;
    }
    return rc;
}

/* The new row's sealed fields: from the input, else the stored ones. */
static int person_sealed_in(const gr_ctx *ctx, arena *a, const bd_person_input *in,
                            const person_row *old, person_row *r, gr_err *err)
{
    int rc = 0;

    if (in->name)
        rc = name_in(ctx, a, in->name, r, err);
    else if (old->name.enc) {
        r->name = old->name;
        memcpy(r->name_index, old->name_index, sizeof(r->name_index));
        r->p.name_hint = old->p.name_hint;
    } else
        rc = err_set(err, GR_EINVAL, "name", "is required");
    if (!rc && in->id_number)
        rc = id_number_in(ctx, a, in->id_number, in->today_yyyymmdd, r, err);
    else if (!rc && old->id_number.enc) {
        r->id_number = old->id_number;
        memcpy(r->id_index, old->id_index, sizeof(r->id_index));
        r->p.id_number_hint = old->p.id_number_hint;
        r->p.birth_date = old->p.birth_date;
        memcpy(r->p.sex, old->p.sex, sizeof(r->p.sex));
    } else if (!rc)
        rc = err_set(err, GR_EINVAL, "id_number", "is required");
    if (!rc && in->phone && !in->phone_clear)
        rc = phone_in(ctx, a, in->phone, r, err);
    else if (!rc && !in->phone_clear) {
        r->phone = old->phone;
        r->p.phone_hint = old->p.phone_hint;
    }
    return rc;
}

/* Whether the phone changes: the stored one is opened to compare. */
static int phone_differs(const gr_ctx *ctx, arena *a, const person_row *old,
                         const bd_person_input *in, int *differs, gr_err *err)
{
    const char *was;
    int rc;

    *differs = 0;
    if (in->phone_clear) {
        *differs = old->phone.enc != NULL;
        return 0;
    }
    if (!in->phone)
        return 0;
    rc = open_text(ctx, a, &old->phone, BD_AD_PHONE, &was, err);
    *differs = !rc && (!was || strcmp(was, in->phone) != 0);
    return rc;
}

static int person_load_old(db_conn *c, arena *a, int64_t id, int64_t version, person_row *old,
                           gr_err *err)
{
    int rc = bd_person_get(c, a, id, &old->p, err);

    if (!rc)
        rc = bd_version_check(&old->p.m, version, err);
    if (!rc)
        rc = person_sealed(c, a, id, old, err);
    return rc;
}

static int sealed_diffs(gr_ctx *ctx, db_conn *c, arena *a, const bd_person_input *in,
                        const person_row *old, const person_row *r, bd_changes *ch, gr_err *err)
{
    int is_new = old->p.m.id == 0, phone = 0, rc;

    rc = sealed_diff(c, ch, "name", &old->name, &r->name,
                     is_new || memcmp(old->name_index, r->name_index, 32) != 0, &r->p.m, err);
    if (!rc)
        rc = sealed_diff(c, ch, "id_number", &old->id_number, &r->id_number,
                         is_new || memcmp(old->id_index, r->id_index, 32) != 0, &r->p.m, err);
    if (!rc && !is_new)
        rc = phone_differs(ctx, a, old, in, &phone, err);
    if (!rc)
        rc = sealed_diff(c, ch, "phone", &old->phone, &r->phone,
                         is_new ? r->phone.enc != NULL : phone, &r->p.m, err);
    return rc;
}

/* A new person's sealed fields and the changes of their own fields (the
 * history of a create: the write adds the house and steward). */
struct bd_person_prep {
    person_row r;
    const char *created; /* bd_changes text, from the arena */
    size_t ncreated;
};

int bd_person_prepare(const gr_ctx *ctx, arena *a, const bd_person_input *in, bd_person_prep **out,
                      gr_err *err)
{
    person_row none;
    bd_person_prep *p;
    int rc;

    *out = NULL;
    if (!in->name || !in->id_number || (!in->phone && !in->phone_clear))
        return 0;
    p = arena_alloc(a, sizeof(*p));
    memset(p, 0, sizeof(*p));
    memset(&none, 0, sizeof(none));
    rc = person_sealed_in(ctx, a, in, &none, &p->r, err);
    if (!rc)
        rc = fields_in(a, in, &p->r.p, err);
    if (!rc) {
        bd_changes ch = {0};

        p->r.p.m.source = in->source;
        person_diff(&ch, &none.p, &p->r.p);
        bd_changes_put_sealed(&ch, "name", 0, 1);
        bd_changes_put_sealed(&ch, "id_number", 0, 1);
        if (p->r.phone.enc)
            bd_changes_put_sealed(&ch, "phone", 0, 1);
        p->created = ch.n ? arena_strdup(a, ch.text.data) : NULL;
        p->ncreated = ch.n;
        bd_changes_free(&ch);
        *out = p;
    }
    return rc;
}

static int person_write(gr_ctx *ctx, db_conn *c, arena *a, const bd_actor *who,
                        const bd_person_input *in, const bd_person_prep *prep,
                        const int64_t *house_chain, int64_t *id, int64_t version, int *changed,
                        gr_err *err)
{
    person_row old, r;
    bd_changes ch = {0};
    int is_new = *id == 0, rc = 0;

    memset(&old, 0, sizeof(old));
    if (prep)
        r = prep->r;
    else
        memset(&r, 0, sizeof(r));
    r.p.house_id = in->house_id;
    r.p.m.steward_org_id = in->steward_org_id;
    r.p.m.steward_user_id = in->steward_user_id;
    r.p.m.source = in->source;
    if (!is_new)
        rc = person_load_old(c, a, *id, version, &old, err);
    if (!rc && !prep)
        rc = person_sealed_in(ctx, a, in, &old, &r, err);
    if (!rc && !prep)
        rc = fields_in(a, in, &r.p, err);
    if (!rc)
        rc = person_place(c, a, who, house_chain, &r.p, err);
    if (!rc)
        rc = bd_write_allowed(c, who, is_new, &old.p.m, &r.p.m, err);
    if (rc)
        goto out;
    r.p.m.id = *id;
    if (prep && is_new && prep->created) {
        buf_puts(&ch.text, prep->created);
        ch.n = prep->ncreated;
    } else {
        person_diff(&ch, &old.p, &r.p);
        rc = sealed_diffs(ctx, c, a, in, &old, &r, &ch, err);
    }
    place_diff(&ch, &old.p, &r.p);
    *changed = is_new || ch.n > 0;
    if (rc || !*changed)
        goto out;
    rc = person_save(c, &r, is_new, err);
    if (!rc && is_new)
        r.p.m.id = *id = db_last_id(c);
    if (!rc && (is_new || strcmp(old.p.care_tags, r.p.care_tags) != 0))
        rc = tags_save(c, &r.p, is_new, err);
    if (!rc && (is_new || !bd_tally_person_same(&old.p, &r.p))) {
        if (!is_new)
            rc = bd_tally_person(c, &old.p, -1, err);
        if (!rc)
            rc = bd_tally_person(c, &r.p, 1, err);
    }
    if (!rc)
        rc = bd_history_write(c, who, "person", &r.p.m, is_new, &ch, err);
out:
    bd_changes_free(&ch);
    return rc;
}

int bd_person_write_prepared(gr_ctx *ctx, db_conn *c, const bd_actor *who,
                             const bd_person_input *in, const bd_person_prep *prep,
                             const int64_t house_chain[5], int64_t *id, int64_t version,
                             int *changed, gr_err *err)
{
    arena *a = arena_new();
    int rc = person_write(ctx, c, a, who, in, prep, house_chain, id, version, changed, err);

    arena_free(a);
    return rc;
}

int bd_person_write(gr_ctx *ctx, db_conn *c, const bd_actor *who, const bd_person_input *in,
                    int64_t *id, int64_t version, int *changed, gr_err *err)
{
    return bd_person_write_prepared(ctx, c, who, in, NULL, NULL, id, version, changed, err);
}

void bd_person_input_from(const bd_person *p, bd_person_input *in)
{
    memset(in, 0, sizeof(*in));
    in->ethnicity = p->ethnicity;
    in->residency = p->residency;
    in->permit_start = p->permit_start;
    in->permit_end = p->permit_end;
    in->house_id = p->house_id;
    in->relation = p->relation;
    in->employment = p->employment;
    in->social_security = p->social_security;
    in->steward_org_id = p->m.steward_org_id;
    in->steward_user_id = p->m.steward_user_id;
    in->source = p->m.source;
}

void bd_person_tags_split(arena *a, const char *tags, bd_person_input *in)
{
    const char *s = tags, *e;

    in->ncare_tags = 0;
    while (s && *s && in->ncare_tags < BD_TAGS_MAX) {
        e = strchr(s, ',');
        in->care_tags[in->ncare_tags++] =
            e ? arena_strndup(a, s, (size_t)(e - s)) : arena_strdup(a, s);
        s = e ? e + 1 : NULL;
    }
}

/* ---- lookups, lists, reveal ---- */

int bd_person_find_id_number(gr_ctx *ctx, db_conn *c, const char *id_number, int64_t *id,
                             gr_err *err)
{
    unsigned char ix[CRYPTO_HASH_BYTES];
    db_stmt *st;
    int rc;

    *id = 0;
    bd_blind_index(ctx, BD_AD_ID_NUMBER, id_number, ix);
    st = db_prepare(c, "SELECT id FROM bd_people WHERE id_number_index = ? AND retired_at IS NULL",
                    err);
    if (!st)
        return GR_EINTERNAL;
    db_bind_blob(st, 1, ix, sizeof(ix));
    rc = db_step(st, err);
    if (rc == DB_ROW)
        *id = db_col_int(st, 0);
    db_done(st);
    if (rc == DB_DONE)
        return err_set(err, GR_ENOTFOUND, "id_number", "no person with this ID number");
    return rc < 0 ? rc : 0;
}

/* A query's conditions and their parameters, built together. */
typedef struct query {
    const char *where;
    struct {
        int64_t i;
        const char *s;
        const unsigned char *blob;
    } arg[10];
    int n;
} query;

static void q_add(arena *a, query *q, const char *cond, int64_t i, const char *s,
                  const unsigned char *blob)
{
    q->where = arena_printf(a, "%s AND %s", q->where, cond);
    q->arg[q->n].i = i;
    q->arg[q->n].s = s;
    q->arg[q->n].blob = blob;
    q->n++;
}

static void q_bind(db_stmt *st, const query *q)
{
    int k;

    for (k = 0; k < q->n; k++) {
        if (q->arg[k].blob)
            db_bind_blob(st, k + 1, q->arg[k].blob, CRYPTO_HASH_BYTES);
        else if (q->arg[k].s)
            db_bind_text(st, k + 1, q->arg[k].s);
        else
            db_bind_int(st, k + 1, q->arg[k].i);
    }
}

static int person_query(db_conn *c, arena *a, const bd_filter *f, query *q, gr_err *err)
{
    const char *col = NULL;
    int rc = 0;

    q->where = f->include_retired ? "1" : "retired_at IS NULL";
    q->n = 0;
    if (f->scope)
        rc = org_unit_column(c, f->scope, &col, err);
    if (rc)
        return rc;
    if (f->scope)
        q_add(a, q, arena_printf(a, "%s = ?", col ? col : "id"), col ? f->scope : -1, NULL, NULL);
    if (f->grid_id)
        q_add(a, q, "grid_id = ?", f->grid_id, NULL, NULL);
    if (f->community_id)
        q_add(a, q, "community_id = ?", f->community_id, NULL, NULL);
    if (f->house_id)
        q_add(a, q, "house_id = ?", f->house_id, NULL, NULL);
    if (f->building_id)
        q_add(a, q, "house_id IN (SELECT id FROM bd_houses WHERE building_id = ?)", f->building_id,
              NULL, NULL);
    if (f->residency)
        q_add(a, q, "residency = ?", 0, f->residency, NULL);
    if (f->care_tag)
        q_add(a, q, "id IN (SELECT person_id FROM bd_person_tags WHERE tag = ?)", 0, f->care_tag,
              NULL);
    if (f->name_index)
        q_add(a, q, "name_index = ?", 0, NULL, f->name_index);
    if (f->id_number_index)
        q_add(a, q, "id_number_index = ?", 0, NULL, f->id_number_index);
    return 0;
}

int bd_person_list(db_conn *c, arena *a, const bd_filter *f, bd_person **out, size_t *n, int *more,
                   gr_err *err)
{
    query q;
    db_stmt *st;
    int rc = person_query(c, a, f, &q, err);

    if (rc)
        return rc;
    st = db_prepare(c,
                    arena_printf(a,
                                 "SELECT " PERSON_COLS " FROM bd_people WHERE %s AND id > ? "
                                 "ORDER BY id LIMIT ?",
                                 q.where),
                    err);
    if (!st)
        return GR_EINTERNAL;
    q_bind(st, &q);
    db_bind_int(st, q.n + 1, f->after);
    db_bind_int(st, q.n + 2, f->limit + 1);
    rc = db_read_page(st, a, f->limit, sizeof(**out), person_read, (void **)out, n, more, err);
    db_done(st);
    return rc;
}

int bd_person_reveal(gr_ctx *ctx, db_conn *c, arena *a, int64_t id, unsigned fields,
                     bd_person_clear *out, gr_err *err)
{
    person_row r;
    int rc;

    memset(&r, 0, sizeof(r));
    memset(out, 0, sizeof(*out));
    rc = person_sealed(c, a, id, &r, err);
    if (!rc && (fields & BD_F_NAME))
        rc = open_text(ctx, a, &r.name, BD_AD_NAME, &out->name, err);
    if (!rc && (fields & BD_F_ID_NUMBER))
        rc = open_text(ctx, a, &r.id_number, BD_AD_ID_NUMBER, &out->id_number, err);
    if (!rc && (fields & BD_F_PHONE))
        rc = open_text(ctx, a, &r.phone, BD_AD_PHONE, &out->phone, err);
    return rc;
}

/* ---- collect once, use many ---- */

static int members_read(db_conn *c, arena *a, int64_t house_id, bd_prefill_out *out, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT id, name_hint, relation FROM bd_people WHERE house_id = ? "
                             "AND retired_at IS NULL ORDER BY id LIMIT 50",
                             err);
    int rc;

    if (!st)
        return GR_EINTERNAL;
    out->members = arena_alloc(a, 50 * sizeof(*out->members));
    db_bind_int(st, 1, house_id);
    while ((rc = db_step(st, err)) == DB_ROW) {
        bd_member *m = &out->members[out->nmembers++];
        m->person_id = db_col_int(st, 0);
        m->name_hint = db_col_textdup(st, 1, a);
        m->relation = db_col_textdup(st, 2, a);
    }
    db_done(st);
    return rc;
}

int bd_prefill(db_conn *c, arena *a, int64_t person_id, bd_prefill_out *out, gr_err *err)
{
    bd_person p;
    bd_house h;
    bd_building b;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = bd_person_get(c, a, person_id, &p, err);
    if (!rc && p.m.retired_at)
        rc = err_set(err, GR_ENOTFOUND, "person_id", "the person is retired");
    if (rc)
        return rc;
    out->person_id = person_id;
    out->grid_id = p.m.chain[4];
    out->community_id = p.m.chain[3];
    out->street_id = p.m.chain[2];
    if (!p.house_id)
        return 0;
    rc = bd_house_get(c, a, p.house_id, &h, err);
    if (!rc)
        rc = bd_building_get(c, a, h.building_id, &b, err);
    if (rc)
        return rc;
    out->house_id = h.m.id;
    out->building_id = b.m.id;
    out->address = bd_address_text(a, &b, &h);
    return members_read(c, a, h.m.id, out, err);
}
