/*
 * The base-data benchmark's generator and loader (issue 4 "Performance"): a
 * synthetic population of the demo district (`grassroots demo` first: it
 * brings the district, its grids and the data_steward account). bench/run.sh
 * drives it. Never real data: names are drawn from short lists of common
 * characters, ID numbers are GB 11643 numbers of region 110105 with made-up
 * birth dates and serials (and correct check characters), phones are made up.
 *
 *   bench_basedata csv DIR OUT N   writes OUT/buildings.csv, OUT/houses.csv
 *                                  and OUT/people.csv (N people with their
 *                                  houses and buildings) for `grassroots
 *                                  import`, which the operator's path times,
 *                                  and OUT/bench-ids.txt (as below).
 *   bench_basedata load DIR N      appends N people with their houses and
 *                                  buildings straight into the tables, in
 *                                  writes of about 50,000 people; the time
 *                                  of every million goes to stderr. Writes
 *                                  DIR/bench-ids.txt: 100,000 ID numbers of
 *                                  loaded people, spread over the load.
 *
 * Both print "key value" lines: "token" (an API token of the demo
 * data_steward with basedata.read), "district" (the demo district's unit id)
 * and "street" (the street of the first grid, where the first building is).
 *
 * Going through bd_person_write for 20,000,000 rows would take hours, so
 * `load` is the bench's own bulk loader. Rows are shaped as the model writes
 * them (bd_people.c, bd_places.c): names, ID numbers and phones sealed with
 * the field key and their column's additional data, the keyed blind indexes
 * computed by bd_blind_index, the masked hints by the default policy, birth
 * date and sex as the ID number says, the unit chain of the building's grid,
 * care tags in bd_person_tags. What it leaves out: the history rows of the
 * creations (bd_history), which a lookup never reads. The indexes of
 * bd_people are dropped for the load and built again at its end (see
 * drop_indexes); their time is printed apart.
 *
 * Households: a building of 2-3 units and 6-18 floors, two houses a floor,
 * 8% of them vacant; an occupied house holds 1-5 people (a householder, a
 * spouse, children, parents) of ages that fit, one residency each (60%
 * registered, 25% permanent, 15% floating with permit dates); a person
 * living alone at 70 or over is tagged elderly_alone, a few others disabled,
 * low_income or special_care. Choices are hashes of a counter, so a run is
 * reproducible.
 */
#include "app/app.h"
#include "auth/auth_model.h"
#include "base/crypto.h"
#include "base/mask.h"
#include "base/timeutil.h"
#include "basedata/bd_model.h"
#include "basedata/bd_tally.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 50000, NSAMPLE = 100000, FIRST_YEAR = 1930, LAST_YEAR = 2025, NOW_YEAR = 2026 };

/* ---- reproducible choices ---- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* A number in [0, n) from the counter and a salt. */
static uint64_t pick(uint64_t k, uint64_t salt, uint64_t n)
{
    return mix(k * 0x9e3779b97f4a7c15ULL + salt) % n;
}

/* Days since 1970-01-01 of a civil date, and back (proleptic Gregorian). */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ---- the synthetic population ---- */

static const char *const surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
                                       "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
static const char *const given[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋",
                                    "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平",
                                    "刚", "桂", "英", "华", "文", "建", "国", "玉", "兰", "志"};
static const char *const roads[] = {"朝阳路",     "建国路",   "光华路", "东三环中路", "团结湖路",
                                    "农展馆南路", "工体北路", "望京街", "酒仙桥路",   "来广营西路"};
#define N(a) (sizeof(a) / sizeof(a[0]))

typedef struct grid {
    int64_t chain[5]; /* city, district, street, community, grid */
    double lat, lon;
    char street[64];
} grid;

typedef struct person {
    char name[32], id_number[19], phone[12], birth[11], sex[2];
    const char *ethnicity, *residency, *relation, *employment, *security;
    char permit_start[11], permit_end[11];
    const char *tags[3];
    size_t ntags;
} person;

typedef struct house {
    char unit[16], room[16];
    int floor, npeople;
    double area;
    const char *ownership, *occupancy;
    person p[5];
} house;

typedef struct building {
    const grid *g;
    char road[32], number[32], building[16];
    double lat, lon;
    int floors, nhouses;
    house h[3 * 18 * 2];
} building;

typedef struct gen {
    grid *grids;
    size_t ngrids;
    int64_t want, people, buildings, houses; /* people wanted, and made so far */
    uint64_t k;                              /* the choice counter */
    int64_t day0, ndays;                     /* birth dates: FIRST_YEAR .. LAST_YEAR */
    uint16_t (*serials)[2];                  /* the serials given per birth date and sex */
    int64_t sample_every;
    FILE *ids; /* the sampled ID numbers, or NULL */
} gen;

/* GB 11643: the MOD 11-2 check character of the first 17 digits. */
static char id_check(const char *s)
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int i, sum = 0;

    for (i = 0; i < 17; i++)
        sum += (s[i] - '0') * w[i];
    return "10X98765432"[sum % 11];
}

/* An ID number for a person born in year (day from the counter) of sex
 * ('M' odd serial, 'F' even); serials run out at 499 a day and sex, then
 * the next day takes over. */
static void make_id(gen *g, int year, char sex, person *p)
{
    int64_t day = days_from_civil(year, 1, 1) + (int64_t)pick(g->k++, 11, 365) - g->day0;
    int s = sex == 'M' ? 1 : 0, y, m, d, serial;

    if (day < 0)
        day = 0;
    if (day >= g->ndays)
        day = g->ndays - 1;
    while (g->serials[day][s] >= 499)
        day = (day + 1) % g->ndays;
    serial = 2 * g->serials[day][s]++ + (s ? 1 : 2);
    civil_from_days(g->day0 + day, &y, &m, &d);
    snprintf(p->id_number, sizeof(p->id_number), "110105%04d%02d%02d%03d", y, m, d, serial);
    p->id_number[17] = id_check(p->id_number);
    p->id_number[18] = '\0';
    snprintf(p->birth, sizeof(p->birth), "%04d-%02d-%02d", y, m, d);
    p->sex[0] = sex;
    p->sex[1] = '\0';
}

static void make_person(gen *g, int year, char sex, const char *relation, const char *residency,
                        person *p)
{
    uint64_t k = g->k++;
    int age = NOW_YEAR - year;

    if (year < FIRST_YEAR)
        year = FIRST_YEAR;
    if (year > LAST_YEAR)
        year = LAST_YEAR;
    memset(p, 0, sizeof(*p));
    make_id(g, year, sex, p);
    snprintf(p->name, sizeof(p->name), "%s%s%s", surnames[pick(k, 1, N(surnames))],
             given[pick(k, 2, N(given))], pick(k, 3, 3) ? given[pick(k, 4, N(given))] : "");
    if (pick(k, 5, 10) < 8)
        snprintf(p->phone, sizeof(p->phone), "1%c%09llu", "35789"[pick(k, 6, 5)],
                 (unsigned long long)pick(k, 7, 1000000000));
    p->ethnicity = pick(k, 8, 100) < 92 ? "汉族" : pick(k, 9, 2) ? "回族" : "满族";
    p->residency = residency;
    if (strcmp(residency, "floating") == 0) {
        int start = 2022 + (int)pick(k, 10, 4);
        snprintf(p->permit_start, sizeof(p->permit_start), "%04d-%02d-01", start,
                 1 + (int)pick(k, 11, 12));
        snprintf(p->permit_end, sizeof(p->permit_end), "%04d-%s", start + 3, p->permit_start + 5);
    }
    p->relation = relation;
    p->employment = age < 18                ? "student"
                    : age < 23              ? (pick(k, 12, 2) ? "student" : "employed")
                    : age >= 60             ? "retired"
                    : pick(k, 13, 100) < 88 ? "employed"
                    : pick(k, 14, 2)        ? "self_employed"
                                            : "unemployed";
    p->security = pick(k, 15, 100) < 92 ? "insured" : "uninsured";
    if (pick(k, 16, 1000) < 20)
        p->tags[p->ntags++] = "disabled";
    if (pick(k, 17, 1000) < 15)
        p->tags[p->ntags++] = "low_income";
    else if (pick(k, 18, 1000) < 5)
        p->tags[p->ntags++] = "special_care";
}

/* The people of an occupied house: 1-5 (25/30/25/13/7%). */
static void make_household(gen *g, house *h)
{
    static const int sizes[] = {25, 55, 80, 93, 100};
    uint64_t k = g->k++;
    int r = (int)pick(k, 20, 100), n = 1, hh_age, i;
    char sex = pick(k, 21, 2) ? 'M' : 'F';
    const char *res = pick(k, 22, 100) < 60 ? "registered"
                      : pick(k, 23, 8) < 5  ? "permanent"
                                            : "floating";

    while (r >= sizes[n - 1])
        n++;
    hh_age = n == 1 ? 22 + (int)pick(k, 24, 70) : 28 + (int)pick(k, 24, 45);
    make_person(g, NOW_YEAR - hh_age, sex, "householder", res, &h->p[0]);
    if (n == 1 && hh_age >= 70)
        h->p[0].tags[h->p[0].ntags++] = "elderly_alone";
    for (i = 1; i < n; i++) {
        int child = hh_age - 22 - (int)pick(k, 30 + (unsigned)i, 14);
        char other = pick(k, 40 + (unsigned)i, 2) ? 'M' : 'F';

        if (i == 1)
            make_person(g, NOW_YEAR - (hh_age - 4 + (int)pick(k, 25, 9)), sex == 'M' ? 'F' : 'M',
                        "spouse", res, &h->p[i]);
        else if (i == 4 || (i == 3 && hh_age < 50))
            make_person(g, NOW_YEAR - (hh_age + 24 + (int)pick(k, 26, 8)), other, "parent", res,
                        &h->p[i]);
        else
            make_person(g, NOW_YEAR - (child < 0 ? 0 : child), other, "child", res, &h->p[i]);
    }
    h->npeople = n;
}

/* The next building, with its houses and people; 0 when enough people. */
static int next_building(gen *g, building *b)
{
    uint64_t k = g->k++;
    int units, f, u, r;

    if (g->people >= g->want)
        return 0;
    b->g = &g->grids[g->buildings % (int64_t)g->ngrids];
    snprintf(b->road, sizeof(b->road), "%s", roads[pick(k, 50, N(roads))]);
    snprintf(b->number, sizeof(b->number), "%lld号", (long long)(g->buildings + 1));
    snprintf(b->building, sizeof(b->building), "%d号楼", 1 + (int)pick(k, 51, 9));
    /* Near the grid's centre, so it lies in that grid. */
    b->lat = b->g->lat + ((double)pick(k, 52, 1001) - 500) * 1e-7;
    b->lon = b->g->lon + ((double)pick(k, 53, 1001) - 500) * 1e-7;
    b->floors = 6 + (int)pick(k, 54, 13);
    units = 2 + (int)pick(k, 55, 2);
    b->nhouses = 0;
    for (u = 1; u <= units; u++)
        for (f = 1; f <= b->floors; f++)
            for (r = 1; r <= 2; r++) {
                house *h = &b->h[b->nhouses++];
                uint64_t hk = g->k++;

                snprintf(h->unit, sizeof(h->unit), "%d单元", u);
                snprintf(h->room, sizeof(h->room), "%d%02d", f, r);
                h->floor = f;
                h->area = 50 + (double)pick(hk, 60, 900) / 10;
                h->ownership = pick(hk, 61, 10) < 8 ? "private" : "public_rental";
                h->npeople = 0;
                h->occupancy = "vacant";
                if (pick(hk, 62, 100) >= 8 && g->people < g->want) {
                    make_household(g, h);
                    if (h->npeople > g->want - g->people)
                        h->npeople = (int)(g->want - g->people);
                    h->occupancy = "occupied";
                    g->people += h->npeople;
                }
            }
    g->buildings++;
    g->houses += b->nhouses;
    return 1;
}

static void sample(gen *g, const person *p, int64_t nth)
{
    if (g->ids && nth % g->sample_every == 0)
        fprintf(g->ids, "%s\n", p->id_number);
}

/* The tags sorted (as the model stores them), joined by sep. */
static void join_tags(const person *p, const char *sep, char *out, size_t cap)
{
    const char *v[3];
    size_t i, j, n = p->ntags, len = 0;

    memcpy(v, p->tags, n * sizeof(v[0]));
    for (i = 1; i < n; i++)
        for (j = i; j > 0 && strcmp(v[j], v[j - 1]) < 0; j--) {
            const char *t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    out[0] = '\0';
    for (i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? sep : "", v[i]);
}

/* ---- CSV files for the importer ---- */

static int write_csv(gen *g, const char *out, gr_err *err)
{
    char path[3][4096];
    static const char *const names[3] = {"buildings.csv", "houses.csv", "people.csv"};
    FILE *f[3] = {NULL, NULL, NULL};
    building *b = malloc(sizeof(*b));
    int64_t n = 0;
    int i, j, rc = 0;

    for (i = 0; i < 3 && !rc; i++) {
        snprintf(path[i], sizeof(path[i]), "%s/%s", out, names[i]);
        if (!(f[i] = fopen(path[i], "w")))
            rc = err_set(err, GR_EINTERNAL, "", "cannot write %s", path[i]);
    }
    if (!rc && !b)
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
    if (rc)
        goto out;
    fputs("district,street,road,house_number,building,lat,lon,floors,use\n", f[0]);
    fputs("district,street,road,house_number,building,unit,floor,room,area_m2,use,ownership,"
          "occupancy\n",
          f[1]);
    fputs("district,street,road,house_number,building,unit,room,name,id_number,phone,ethnicity,"
          "residency,permit_start,permit_end,relation,employment,social_security,care_tags\n",
          f[2]);
    while (next_building(g, b)) {
        fprintf(f[0], "朝阳区,%s,%s,%s,%s,%.7f,%.7f,%d,residential\n", b->g->street, b->road,
                b->number, b->building, b->lat, b->lon, b->floors);
        for (i = 0; i < b->nhouses; i++) {
            const house *h = &b->h[i];

            fprintf(f[1], "朝阳区,%s,%s,%s,%s,%s,%d,%s,%.1f,residential,%s,%s\n", b->g->street,
                    b->road, b->number, b->building, h->unit, h->floor, h->room, h->area,
                    h->ownership, h->occupancy);
            for (j = 0; j < h->npeople; j++) {
                const person *p = &h->p[j];

                char tags[64];

                join_tags(p, ";", tags, sizeof(tags));
                fprintf(f[2], "朝阳区,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n",
                        b->g->street, b->road, b->number, b->building, h->unit, h->room, p->name,
                        p->id_number, p->phone, p->ethnicity, p->residency, p->permit_start,
                        p->permit_end, p->relation, p->employment, p->security, tags);
                sample(g, p, n++);
            }
        }
    }
out:
    for (i = 0; i < 3; i++)
        if (f[i] && fclose(f[i]) && !rc)
            rc = err_set(err, GR_EINTERNAL, "", "cannot write %s", path[i]);
    free(b);
    return rc;
}

/* ---- the bulk loader ---- */

typedef struct load {
    gr_ctx *ctx;
    gen *g;
    building *b;
    int64_t now, n;
    arena *a;
} load;

static int seal_col(const gr_ctx *ctx, arena *a, const char *plain, const char *ad,
                    unsigned char **enc, size_t *len, gr_err *err)
{
    size_t cap = strlen(plain) + CRYPTO_SEAL_OVERHEAD;

    *enc = arena_alloc(a, cap);
    return crypto_seal(ctx->field_key, plain, strlen(plain), ad, *enc, cap, len, err);
}

static void bind_meta(db_stmt *st, int i, const grid *g, int64_t now)
{
    int k;

    db_bind_int(st, i++, 1);
    db_bind_int(st, i++, g->chain[4]);
    db_bind_null(st, i++);
    db_bind_text(st, i++, "imported");
    for (k = 0; k < 5; k++)
        db_bind_int(st, i++, g->chain[k]);
    db_bind_int(st, i++, now);
    db_bind_int(st, i, now);
}

static int load_person(load *l, db_conn *c, const person *p, int64_t house_id, const grid *g,
                       gr_err *err)
{
    static const char ins[] =
        "INSERT INTO bd_people (name_enc, name_index, name_hint, id_number_enc, "
        "id_number_index, id_number_hint, phone_enc, phone_hint, birth_date, sex, ethnicity, "
        "residency, permit_start, permit_end, house_id, relation, employment, social_security, "
        "care_tags, " BD_META_INSERT ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, " BD_META_PARAMS ")";
    unsigned char name_ix[32], id_ix[32], *name_enc, *id_enc, *phone_enc = NULL;
    size_t name_len, id_len, phone_len = 0;
    char name_hint[64], id_hint[32], phone_hint[32], tags[64];
    db_stmt *st;
    size_t i;
    int64_t id;
    int rc;

    bd_blind_index(l->ctx, BD_AD_NAME, p->name, name_ix);
    bd_blind_index(l->ctx, BD_AD_ID_NUMBER, p->id_number, id_ix);
    mask_text(mask_policy_default(), MASK_NAME, p->name, name_hint, sizeof(name_hint));
    mask_text(mask_policy_default(), MASK_ID_NUMBER, p->id_number, id_hint, sizeof(id_hint));
    rc = seal_col(l->ctx, l->a, p->name, BD_AD_NAME, &name_enc, &name_len, err);
    if (!rc)
        rc = seal_col(l->ctx, l->a, p->id_number, BD_AD_ID_NUMBER, &id_enc, &id_len, err);
    if (!rc && p->phone[0]) {
        mask_text(mask_policy_default(), MASK_PHONE, p->phone, phone_hint, sizeof(phone_hint));
        rc = seal_col(l->ctx, l->a, p->phone, BD_AD_PHONE, &phone_enc, &phone_len, err);
    }
    if (rc)
        return rc;
    join_tags(p, ",", tags, sizeof(tags));
    if (!(st = db_prepare(c, ins, err)))
        return GR_EINTERNAL;
    db_bind_blob(st, 1, name_enc, name_len);
    db_bind_blob(st, 2, name_ix, sizeof(name_ix));
    db_bind_text(st, 3, name_hint);
    db_bind_blob(st, 4, id_enc, id_len);
    db_bind_blob(st, 5, id_ix, sizeof(id_ix));
    db_bind_text(st, 6, id_hint);
    if (phone_enc)
        db_bind_blob(st, 7, phone_enc, phone_len);
    else
        db_bind_null(st, 7);
    db_bind_text(st, 8, phone_enc ? phone_hint : NULL);
    db_bind_text(st, 9, p->birth);
    db_bind_text(st, 10, p->sex);
    db_bind_text(st, 11, p->ethnicity);
    db_bind_text(st, 12, p->residency);
    db_bind_text(st, 13, p->permit_start[0] ? p->permit_start : NULL);
    db_bind_text(st, 14, p->permit_end[0] ? p->permit_end : NULL);
    db_bind_int(st, 15, house_id);
    db_bind_text(st, 16, p->relation);
    db_bind_text(st, 17, p->employment);
    db_bind_text(st, 18, p->security);
    db_bind_text(st, 19, tags);
    bind_meta(st, 20, g, l->now);
    rc = db_run(st, err);
    db_done(st);
    id = db_last_id(c);
    for (i = 0; !rc && i < p->ntags; i++) {
        if (!(st = db_prepare(c, "INSERT INTO bd_person_tags (tag, person_id) VALUES (?, ?)", err)))
            return GR_EINTERNAL;
        db_bind_text(st, 1, p->tags[i]);
        db_bind_int(st, 2, id);
        rc = db_run(st, err);
        db_done(st);
    }
    return rc;
}

static int load_building(load *l, db_conn *c, const building *b, gr_err *err)
{
    static const char bins[] =
        "INSERT INTO bd_buildings (district, street, road, house_number, building, address_key, "
        "lat, lon, floors, use, " BD_META_INSERT
        ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, " BD_META_PARAMS ")";
    static const char hins[] =
        "INSERT INTO bd_houses (building_id, unit, floor, room, area_m2, use, ownership, "
        "occupancy, " BD_META_INSERT ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, " BD_META_PARAMS ")";
    char key[256];
    db_stmt *st = db_prepare(c, bins, err);
    int64_t bid, hid;
    int i, j, rc;

    if (!st)
        return GR_EINTERNAL;
    snprintf(key, sizeof(key), "朝阳区|%s|%s|%s|%s", b->g->street, b->road, b->number, b->building);
    db_bind_text(st, 1, "朝阳区");
    db_bind_text(st, 2, b->g->street);
    db_bind_text(st, 3, b->road);
    db_bind_text(st, 4, b->number);
    db_bind_text(st, 5, b->building);
    db_bind_text(st, 6, key);
    db_bind_double(st, 7, b->lat);
    db_bind_double(st, 8, b->lon);
    db_bind_int(st, 9, b->floors);
    db_bind_text(st, 10, "residential");
    bind_meta(st, 11, b->g, l->now);
    rc = db_run(st, err);
    db_done(st);
    bid = db_last_id(c);
    for (i = 0; !rc && i < b->nhouses; i++) {
        const house *h = &b->h[i];

        if (!(st = db_prepare(c, hins, err)))
            return GR_EINTERNAL;
        db_bind_int(st, 1, bid);
        db_bind_text(st, 2, h->unit);
        db_bind_int(st, 3, h->floor);
        db_bind_text(st, 4, h->room);
        db_bind_double(st, 5, h->area);
        db_bind_text(st, 6, "residential");
        db_bind_text(st, 7, h->ownership);
        db_bind_text(st, 8, h->occupancy);
        bind_meta(st, 9, b->g, l->now);
        rc = db_run(st, err);
        db_done(st);
        hid = db_last_id(c);
        for (j = 0; !rc && j < h->npeople; j++) {
            rc = load_person(l, c, &h->p[j], hid, b->g, err);
            if (!rc)
                sample(l->g, &h->p[j], l->n++);
        }
    }
    return rc;
}

/* One write: whole buildings until about BATCH people. */
static int load_batch(db_conn *c, void *arg, gr_err *err)
{
    load *l = arg;
    int64_t until = l->g->people + BATCH;
    int rc = 0;

    while (!rc && l->g->people < until && next_building(l->g, l->b)) {
        rc = load_building(l, c, l->b, err);
        arena_reset(l->a);
    }
    return rc;
}

/* The indexes of bd_people as the migrations made them. */
typedef struct indexes {
    char *name[32], *sql[32];
    size_t n;
} indexes;

/* The blind indexes and the area index take rows in random order: kept
 * during the load, every batch of 50,000 rewrites most of their pages (WAL
 * and checkpoint included), and the load slows down with every million. So
 * the loader drops bd_people's indexes first and builds them again, from
 * their own CREATE statements, once every row is in: one sort each. */
static int drop_indexes(db_conn *c, void *arg, gr_err *err)
{
    indexes *x = arg;
    db_stmt *st = db_prepare(c,
                             "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                             "tbl_name = 'bd_people' AND sql IS NOT NULL ORDER BY name",
                             err);
    char drop[256];
    size_t i;
    int rc = 0, step;

    if (!st)
        return GR_EINTERNAL;
    while ((step = db_step(st, err)) == DB_ROW && x->n < 32) {
        x->name[x->n] = strdup(db_col_text(st, 0));
        x->sql[x->n] = strdup(db_col_text(st, 1));
        if (!x->name[x->n] || !x->sql[x->n])
            break;
        x->n++;
    }
    db_done(st);
    if (step < 0)
        return step;
    /* The sorts of the rebuild run in memory as far as they can. */
    rc = db_exec(c, "PRAGMA cache_size = -2000000", err);
    for (i = 0; !rc && i < x->n; i++) {
        snprintf(drop, sizeof(drop), "DROP INDEX \"%s\"", x->name[i]);
        rc = db_exec(c, drop, err);
    }
    return rc;
}

static int create_index(db_conn *c, void *arg, gr_err *err)
{
    return db_exec(c, arg, err);
}

static int tally_rebuild(db_conn *c, void *arg, gr_err *err)
{
    (void)arg;
    return bd_tally_rebuild(c, err);
}

static int bulk_load(gr_ctx *ctx, gen *g, gr_err *err)
{
    load l = {ctx, g, malloc(sizeof(building)), time_now_ms(), 0, arena_new()};
    int64_t mark = time_mono_ns(), t0 = mark, done = 0;
    indexes x;
    size_t i;
    int rc = 0;

    memset(&x, 0, sizeof(x));
    if (!l.b || !l.a)
        rc = err_set(err, GR_EINTERNAL, "", "out of memory");
    if (!rc)
        rc = db_write(ctx->db, drop_indexes, &x, err);
    while (!rc && g->people < g->want) {
        rc = db_write(ctx->db, load_batch, &l, err);
        if (!rc && g->people / 1000000 > done) {
            int64_t t = time_mono_ns();

            done = g->people / 1000000;
            fprintf(stderr, "bench_basedata: %lld people, this million in %.1f s\n",
                    (long long)g->people, (double)(t - mark) / 1e9);
            mark = t;
        }
    }
    mark = time_mono_ns();
    for (i = 0; i < x.n; i++) {
        /* Built again even after a failed load: the database keeps its schema. */
        int r = db_write(ctx->db, create_index, x.sql[i], err);

        rc = rc ? rc : r;
        free(x.name[i]);
        free(x.sql[i]);
    }
    if (!rc)
        fprintf(stderr, "bench_basedata: the %zu indexes of bd_people built in %.1f s\n", x.n,
                (double)(time_mono_ns() - mark) / 1e9);
    /* The rows went in past the model, so the area tallies are counted anew. */
    mark = time_mono_ns();
    if (!rc)
        rc = db_write(ctx->db, tally_rebuild, NULL, err);
    if (!rc)
        fprintf(stderr, "bench_basedata: the area tallies rebuilt in %.1f s\n",
                (double)(time_mono_ns() - mark) / 1e9);
    if (!rc)
        fprintf(stderr, "bench_basedata: %lld people in %lld houses, %lld buildings in %.1f s\n",
                (long long)g->people, (long long)g->houses, (long long)g->buildings,
                (double)(time_mono_ns() - t0) / 1e9);
    free(l.b);
    if (l.a)
        arena_free(l.a);
    return rc;
}

/* ---- setup and output ---- */

static int read_grids(db_conn *c, gen *g, gr_err *err)
{
    db_stmt *st = db_prepare(c,
                             "SELECT d.parent_id, d.id, s.id, cm.id, gr.id, gr.centroid_lat, "
                             "gr.centroid_lon, s.name FROM org_units gr "
                             "JOIN org_units cm ON cm.id = gr.parent_id "
                             "JOIN org_units s ON s.id = cm.parent_id "
                             "JOIN org_units d ON d.id = s.parent_id "
                             "WHERE gr.kind = 'grid' AND gr.boundary IS NOT NULL ORDER BY gr.id",
                             err);
    grid *v = NULL;
    size_t n = 0, cap = 0;
    int step, k;

    if (!st)
        return GR_EINTERNAL;
    while ((step = db_step(st, err)) == DB_ROW) {
        if (n == cap) {
            grid *w = realloc(v, (cap = cap ? 2 * cap : 256) * sizeof(*v));
            if (!w)
                break;
            v = w;
        }
        for (k = 0; k < 5; k++)
            v[n].chain[k] = db_col_int(st, k);
        v[n].lat = db_col_double(st, 5);
        v[n].lon = db_col_double(st, 6);
        snprintf(v[n].street, sizeof(v[n].street), "%s", db_col_text(st, 7));
        n++;
    }
    db_done(st);
    g->grids = v;
    g->ngrids = n;
    if (step < 0)
        return step;
    if (!n)
        return err_set(err, GR_EINVAL, "", "run `grassroots demo` first: no grids");
    return 0;
}

static int print_facts(gr_ctx *ctx, const gen *g, gr_err *err)
{
    db_conn *c = db_reader(ctx->db);
    char text[AUTH_TOKEN_TEXT];
    arena *a = arena_new();
    auth_user u;
    int64_t v = 0, id;
    int rc = auth_user_find(ctx, a, "data_steward", &u, err);

    if (!rc)
        rc = auth_token_create(ctx, u.id, "bench-basedata", "basedata.read", 1, text, &id, err);
    if (!rc)
        printf("token %s\n", text);
    if (!rc)
        rc =
            db_query_int(c, "SELECT id FROM org_units WHERE code = '110105' AND ?1", 1, 0, &v, err);
    if (!rc)
        printf("district %lld\n", (long long)v);
    /* The first building stands in the first grid: its street is never empty. */
    if (!rc)
        printf("street %lld\n", (long long)g->grids[0].chain[2]);
    arena_free(a);
    return rc;
}

int main(int argc, char **argv)
{
    gr_ctx ctx;
    gr_err err = {0};
    gen g;
    char path[4096];
    int csv = argc == 5 && strcmp(argv[1], "csv") == 0;
    int bulk = argc == 4 && strcmp(argv[1], "load") == 0;
    int rc;

    if (!csv && !bulk) {
        fputs("usage: bench_basedata csv DIR OUT N | bench_basedata load DIR N\n", stderr);
        return 2;
    }
    memset(&g, 0, sizeof(g));
    g.want = strtoll(argv[csv ? 4 : 3], NULL, 10);
    if (g.want < 1)
        g.want = 1;
    g.day0 = days_from_civil(FIRST_YEAR, 1, 1);
    g.ndays = days_from_civil(LAST_YEAR, 12, 31) - g.day0 + 1;
    g.serials = calloc((size_t)g.ndays, sizeof(*g.serials));
    g.sample_every = g.want > NSAMPLE ? g.want / NSAMPLE : 1;
    if (!g.serials || g.want > g.ndays * 998) {
        fputs("bench_basedata: too many people for one region's ID numbers\n", stderr);
        return 1;
    }
    if (app_open(&ctx, argv[2], &err)) {
        fprintf(stderr, "bench_basedata: %s: %s\n", argv[2], err.msg);
        return 1;
    }
    rc = read_grids(db_reader(ctx.db), &g, &err);
    snprintf(path, sizeof(path), "%s/bench-ids.txt", csv ? argv[3] : argv[2]);
    if (!rc && !(g.ids = fopen(path, "w")))
        rc = err_set(&err, GR_EINTERNAL, "", "cannot write %s", path);
    if (!rc)
        rc = csv ? write_csv(&g, argv[3], &err) : bulk_load(&ctx, &g, &err);
    if (g.ids && fclose(g.ids) && !rc)
        rc = err_set(&err, GR_EINTERNAL, "", "cannot write %s", path);
    if (!rc)
        printf("people %lld\nhouses %lld\nbuildings %lld\n", (long long)g.people,
               (long long)g.houses, (long long)g.buildings);
    if (!rc)
        rc = print_facts(&ctx, &g, &err);
    if (rc)
        fprintf(stderr, "bench_basedata: %s%s%s\n", err.field, err.field[0] ? ": " : "", err.msg);
    free(g.serials);
    free(g.grids);
    app_close(&ctx);
    return rc ? 1 : 0;
}
