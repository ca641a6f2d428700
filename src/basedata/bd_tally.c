/*
 * The area tallies (bd_tally.h).
 *
 * A row's counts go in as single-row upserts, one a unit of its chain: a
 * statement that writes one row needs no statement journal, where an
 * INSERT ... SELECT over the five units (or a trigger) copies every page it
 * touches into one first, and an import paid for that more than for the
 * row itself (docs/basedata.md, "Area queries").
 */
#include "basedata/bd_tally.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { POP, TAG, HOUSE };

static const char *const upserts[] = {
    "INSERT INTO bd_pop_tally (unit_id, residency, sex, birth_year, n) VALUES (?1, ?2, ?3, ?4, "
    "?5) ON CONFLICT DO UPDATE SET n = n + excluded.n",
    "INSERT INTO bd_tag_tally (unit_id, tag, n) VALUES (?1, ?2, ?5) "
    "ON CONFLICT DO UPDATE SET n = n + excluded.n",
    "INSERT INTO bd_house_tally (unit_id, occupancy, n) VALUES (?1, ?2, ?5) "
    "ON CONFLICT DO UPDATE SET n = n + excluded.n",
};

/* One count of one unit: the tally, its key (residency, tag or occupancy;
 * sex and birth year for the population), the delta. */
typedef struct entry {
    int table;
    int64_t unit;
    char key[24];
    char sex;
    int year;
    int64_t delta;
} entry;

/* The counts of a deferring writer thread (bd_tally_defer). */
static _Thread_local struct {
    entry *v;
    size_t n, cap;
    int on;
} deferred;

static int upsert(db_conn *c, const entry *e, gr_err *err)
{
    db_stmt *st = db_prepare(c, upserts[e->table], err);
    char sex[2] = {e->sex, 0};
    int rc;

    if (!st)
        return GR_EINTERNAL;
    db_bind_int(st, 1, e->unit);
    db_bind_text_ref(st, 2, e->key);
    if (e->table == POP) {
        db_bind_text_ref(st, 3, sex);
        db_bind_int(st, 4, e->year);
    }
    db_bind_int(st, 5, e->delta);
    rc = db_run(st, err);
    db_done(st);
    return rc;
}

/* Counts e now, or keeps it for the batch's flush. */
static int count(db_conn *c, const entry *e, gr_err *err)
{
    entry *v;

    if (!deferred.on)
        return upsert(c, e, err);
    if (deferred.n == deferred.cap) {
        size_t cap = deferred.cap ? 2 * deferred.cap : 4096;

        v = realloc(deferred.v, cap * sizeof(*v));
        if (!v)
            return upsert(c, e, err);
        deferred.v = v;
        deferred.cap = cap;
    }
    deferred.v[deferred.n++] = *e;
    return 0;
}

/* The chain levels a tally keeps: the population's stops above the grid
 * (BD_TALLY_POP_LEVELS, bd_tally.h). */
static int levels_of(const entry *e)
{
    return e->table == POP ? BD_TALLY_POP_LEVELS : 5;
}

/* e counted under every unit of chain its tally keeps. */
static int count_units(db_conn *c, const int64_t chain[5], entry *e, const char *key,
                       size_t key_len, gr_err *err)
{
    int k, rc = 0;

    /* Keys are the code lists' (a residency, care tag or occupancy). */
    if (key_len >= sizeof(e->key))
        return err_set(err, GR_EINVAL, "", "a tally key of %zu bytes", key_len);
    /* Zeros after the key, so that equal keys are equal bytes (entry_same). */
    memset(e->key, 0, sizeof(e->key));
    memcpy(e->key, key, key_len);
    for (k = 0; k < levels_of(e) && !rc; k++) {
        if (!chain[k])
            continue;
        e->unit = chain[k];
        rc = count(c, e, err);
    }
    return rc;
}

static int entry_cmp(const void *pa, const void *pb)
{
    const entry *a = pa, *b = pb;
    int d;

    if (a->table != b->table)
        return a->table < b->table ? -1 : 1;
    if (a->unit != b->unit)
        return a->unit < b->unit ? -1 : 1;
    if ((d = strcmp(a->key, b->key)) != 0)
        return d;
    if (a->sex != b->sex)
        return a->sex < b->sex ? -1 : 1;
    return a->year < b->year ? -1 : a->year > b->year;
}

static int entry_same(const entry *a, const entry *b)
{
    return a->table == b->table && a->unit == b->unit && a->sex == b->sex && a->year == b->year &&
           memcmp(a->key, b->key, sizeof(a->key)) == 0;
}

static uint64_t entry_hash(const entry *e)
{
    /* FNV-1a over the key fields. */
    uint64_t h = 14695981039346656037u;
    const unsigned char *k = (const unsigned char *)e->key;
    size_t i;

    h = (h ^ (uint64_t)e->table) * 1099511628211u;
    h = (h ^ (uint64_t)e->unit) * 1099511628211u;
    h = (h ^ (uint64_t)(unsigned char)e->sex) * 1099511628211u;
    h = (h ^ (uint64_t)(unsigned)e->year) * 1099511628211u;
    for (i = 0; i < sizeof(e->key) && k[i]; i++)
        h = (h ^ k[i]) * 1099511628211u;
    return h ^ (h >> 29);
}

/* Sums the deferred entries of equal keys in place, in v[0 .. return):
 * a batch of 100,000 people leaves some 500,000 entries on about 60,000
 * keys, and sorting every entry was half of the flush. */
static size_t entries_sum(entry *v, size_t n)
{
    size_t cap = 16, m = 0, i, j;
    uint32_t *slot;

    while (cap < 2 * n)
        cap *= 2;
    slot = calloc(cap, sizeof(*slot)); /* 0 empty, else 1 + the sum's index */
    if (!slot)
        return n; /* then the sort below meets equal keys, which it sums too */
    for (i = 0; i < n; i++) {
        for (j = entry_hash(&v[i]) & (cap - 1); slot[j]; j = (j + 1) & (cap - 1))
            if (entry_same(&v[slot[j] - 1], &v[i]))
                break;
        if (slot[j]) {
            v[slot[j] - 1].delta += v[i].delta;
        } else {
            v[m] = v[i];
            slot[j] = (uint32_t)++m;
        }
    }
    free(slot);
    return m;
}

void bd_tally_defer(int on)
{
    deferred.n = 0;
    deferred.on = on;
    if (!on) {
        free(deferred.v);
        deferred.v = NULL;
        deferred.cap = 0;
    }
}

size_t bd_tally_mark(void)
{
    return deferred.n;
}

void bd_tally_undo(size_t mark)
{
    if (mark < deferred.n)
        deferred.n = mark;
}

int bd_tally_flush(db_conn *c, gr_err *err)
{
    size_t n = entries_sum(deferred.v, deferred.n), i, j;
    int rc = 0;

    /* In key order, so that the upserts walk the tallies' pages in order. */
    if (n)
        qsort(deferred.v, n, sizeof(entry), entry_cmp);
    for (i = 0; i < n && !rc; i = j) {
        entry sum = deferred.v[i];

        for (j = i + 1; j < n && entry_cmp(&deferred.v[j], &sum) == 0; j++)
            sum.delta += deferred.v[j].delta;
        if (sum.delta)
            rc = upsert(c, &sum, err);
    }
    bd_tally_defer(0);
    return rc;
}

static int birth_year(const char *date)
{
    return date ? atoi(date) : 0;
}

int bd_tally_person(db_conn *c, const bd_person *p, int delta, gr_err *err)
{
    entry e = {POP, 0, "", p->sex[0], birth_year(p->birth_date), delta};
    const char *s = p->care_tags, *end;
    int rc;

    if (p->m.retired_at)
        return 0;
    rc = count_units(c, p->m.chain, &e, p->residency, strlen(p->residency), err);
    e.table = TAG;
    e.sex = 0;
    e.year = 0;
    while (!rc && s && *s) {
        end = strchr(s, ',');
        rc = count_units(c, p->m.chain, &e, s, end ? (size_t)(end - s) : strlen(s), err);
        s = end ? end + 1 : NULL;
    }
    return rc;
}

static int text_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

int bd_tally_person_same(const bd_person *a, const bd_person *b)
{
    return memcmp(a->m.chain, b->m.chain, sizeof(a->m.chain)) == 0 &&
           !a->m.retired_at == !b->m.retired_at && text_same(a->residency, b->residency) &&
           strcmp(a->sex, b->sex) == 0 && birth_year(a->birth_date) == birth_year(b->birth_date) &&
           text_same(a->care_tags, b->care_tags);
}

int bd_tally_house(db_conn *c, const bd_house *h, int delta, gr_err *err)
{
    entry e = {HOUSE, 0, "", 0, 0, delta};

    if (h->m.retired_at)
        return 0;
    return count_units(c, h->m.chain, &e, h->occupancy, strlen(h->occupancy), err);
}

#define LEVEL                                                                                      \
    "CASE k.column1 WHEN 0 THEN g.city_id WHEN 1 THEN g.district_id WHEN 2 THEN g.street_id "      \
    "WHEN 3 THEN g.community_id ELSE g.grid_id END"
#define LEVELS "(VALUES (0), (1), (2), (3), (4)) k"
/* The population's: city to community (BD_TALLY_POP_LEVELS). */
#define POP_LEVELS "(VALUES (0), (1), (2), (3)) k"

/* The counts of the live rows of a place (?1), grouped, times ?2: each
 * row's chain spread over its levels as in the rebuild. Each statement is
 * its head, the place's condition, its tail. */
static const char *const place_sql[][2] = {
    {"INSERT INTO bd_pop_tally (unit_id, residency, sex, birth_year, n) SELECT u, residency, "
     "sex, y, ?2 * count(*) FROM (SELECT " LEVEL " AS u, g.residency, g.sex, "
     "CAST(substr(g.birth_date, 1, 4) AS INTEGER) AS y FROM bd_people g, " POP_LEVELS
     " WHERE g.retired_at IS NULL AND ",
     ") WHERE u IS NOT NULL GROUP BY 1, 2, 3, 4 ON CONFLICT DO UPDATE SET n = n + excluded.n"},
    {"INSERT INTO bd_tag_tally (unit_id, tag, n) SELECT u, tag, ?2 * count(*) FROM (SELECT " LEVEL
     " AS u, t.tag FROM bd_people g JOIN bd_person_tags t ON t.person_id = g.id, " LEVELS
     " WHERE g.retired_at IS NULL AND ",
     ") WHERE u IS NOT NULL GROUP BY 1, 2 ON CONFLICT DO UPDATE SET n = n + excluded.n"},
    {"INSERT INTO bd_house_tally (unit_id, occupancy, n) SELECT u, occupancy, ?2 * count(*) "
     "FROM (SELECT " LEVEL " AS u, g.occupancy FROM bd_houses g, " LEVELS
     " WHERE g.retired_at IS NULL AND ",
     ") WHERE u IS NOT NULL GROUP BY 1, 2 ON CONFLICT DO UPDATE SET n = n + excluded.n"},
};

int bd_tally_place(db_conn *c, const char *entity, int64_t id, int delta, gr_err *err)
{
    int building = strcmp(entity, "building") == 0;
    const char *people = building ? "g.house_id IN (SELECT id FROM bd_houses WHERE building_id "
                                    "= ?1)"
                                  : "g.house_id = ?1";
    char sql[1024];
    size_t k;
    int rc = 0;

    for (k = 0; k < (building ? 3u : 2u) && !rc; k++) {
        db_stmt *st;

        snprintf(sql, sizeof(sql), "%s%s%s", place_sql[k][0],
                 k == 2 ? "g.building_id = ?1" : people, place_sql[k][1]);
        st = db_prepare(c, sql, err);
        if (!st)
            return GR_EINTERNAL;
        db_bind_int(st, 1, id);
        db_bind_int(st, 2, delta);
        rc = db_run(st, err);
        db_done(st);
    }
    return rc;
}

static const char rebuild_sql[] =
    "DELETE FROM bd_pop_tally; DELETE FROM bd_tag_tally; DELETE FROM bd_house_tally;"

    "INSERT INTO bd_pop_tally (unit_id, residency, sex, birth_year, n) "
    "SELECT u, residency, sex, y, sum(n) FROM (SELECT " LEVEL " AS u, g.residency, g.sex, g.y, "
    "g.n FROM (SELECT city_id, district_id, street_id, community_id, grid_id, residency, sex, "
    "CAST(substr(birth_date, 1, 4) AS INTEGER) AS y, count(*) AS n FROM bd_people "
    "WHERE retired_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) g, " POP_LEVELS ") "
    "WHERE u IS NOT NULL GROUP BY 1, 2, 3, 4;"

    "INSERT INTO bd_tag_tally (unit_id, tag, n) "
    "SELECT u, tag, sum(n) FROM (SELECT " LEVEL " AS u, g.tag, g.n FROM (SELECT p.city_id, "
    "p.district_id, p.street_id, p.community_id, p.grid_id, t.tag, count(*) AS n "
    "FROM bd_person_tags t JOIN bd_people p ON p.id = t.person_id WHERE p.retired_at IS NULL "
    "GROUP BY 1, 2, 3, 4, 5, 6) g, " LEVELS ") WHERE u IS NOT NULL GROUP BY 1, 2;"

    "INSERT INTO bd_house_tally (unit_id, occupancy, n) "
    "SELECT u, occupancy, sum(n) FROM (SELECT " LEVEL " AS u, g.occupancy, g.n FROM (SELECT "
    "city_id, district_id, street_id, community_id, grid_id, occupancy, count(*) AS n "
    "FROM bd_houses WHERE retired_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6) g, " LEVELS ") "
    "WHERE u IS NOT NULL GROUP BY 1, 2;";

int bd_tally_rebuild(db_conn *c, gr_err *err)
{
    return db_exec(c, rebuild_sql, err);
}
