/* SQL that checks the area tallies (tally_check.h). The fresh counts spread
 * each row over its five chain columns with UNION ALL, not with the CASE of
 * the rebuild, so the two are written independently. */
#include "tally_check.h"

#include <stddef.h>

#define LEVELS_OF(sel, from)                                                                       \
    "SELECT p.city_id AS u, " sel " FROM " from " UNION ALL SELECT p.district_id, " sel            \
    " FROM " from " UNION ALL SELECT p.street_id, " sel " FROM " from                              \
    " UNION ALL SELECT p.community_id, " sel " FROM " from " UNION ALL SELECT p.grid_id, " sel     \
    " FROM " from

/* The population stops at the community (bd_tally.h, BD_TALLY_POP_LEVELS). */
#define COMMUNITY_LEVELS_OF(sel, from)                                                             \
    "SELECT p.city_id AS u, " sel " FROM " from " UNION ALL SELECT p.district_id, " sel            \
    " FROM " from " UNION ALL SELECT p.street_id, " sel " FROM " from                              \
    " UNION ALL SELECT p.community_id, " sel " FROM " from

#define POP_FRESH                                                                                  \
    "SELECT u, residency, sex, y, count(*) FROM (" COMMUNITY_LEVELS_OF(                            \
        "p.residency AS residency, p.sex AS sex, CAST(strftime('%Y', p.birth_date) AS INTEGER) "   \
        "AS y",                                                                                    \
        "bd_people p WHERE p.retired_at IS NULL") ") WHERE u IS NOT NULL GROUP BY 1, 2, 3, 4"
#define TAG_FRESH                                                                                  \
    "SELECT u, tag, count(*) FROM (" LEVELS_OF(                                                    \
        "t.tag AS tag", "bd_person_tags t JOIN bd_people p ON p.id = t.person_id WHERE "           \
                        "p.retired_at IS NULL") ") WHERE u IS NOT NULL GROUP BY 1, 2"
#define HOUSE_FRESH                                                                                \
    "SELECT u, occupancy, count(*) FROM (" LEVELS_OF(                                              \
        "p.occupancy AS occupancy",                                                                \
        "bd_houses p WHERE p.retired_at IS NULL") ") WHERE u IS NOT NULL GROUP BY 1, 2"

#define CHECK(table, keys, fresh)                                                                  \
    "SELECT (SELECT count(*) FROM (SELECT unit_id, " keys ", n FROM " table " WHERE n <> 0 "       \
    "EXCEPT " fresh ")) + (SELECT count(*) FROM (" fresh " EXCEPT SELECT unit_id, " keys           \
    ", n FROM " table ")) + (SELECT count(*) FROM " table " WHERE n < 0)"

static const char *const checks[] = {
    CHECK("bd_pop_tally", "residency, sex, birth_year", POP_FRESH),
    CHECK("bd_tag_tally", "tag", TAG_FRESH),
    CHECK("bd_house_tally", "occupancy", HOUSE_FRESH),
};
static const char *const names[] = {"bd_pop_tally", "bd_tag_tally", "bd_house_tally"};

const char *gr_tally_check_sql(int k)
{
    return k >= 0 && (size_t)k < sizeof(checks) / sizeof(checks[0]) ? checks[k] : NULL;
}

const char *gr_tally_name(int k)
{
    return k >= 0 && (size_t)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}
