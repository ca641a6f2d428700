-- Area queries, the emergency view and statistics of the base data
-- (src/basedata/bd_area.c, docs/basedata.md "Area queries, the emergency
-- view and statistics"). Indexes only.

-- An aggregate over the people of a unit reads this index and no table row:
-- the chain down to the unit is a prefix (a unit's chain is fixed, so city ..
-- unit are all equalities); under each full chain, residency, sex and birth
-- date make every (residency, sex, age band) count one range, so the
-- population is counted without sorting anyone (bd_area.c, pop_read).
-- retired_at is a column too (always NULL here) only so that SQLite sees the
-- index as covering.
CREATE INDEX bd_people_area ON bd_people (city_id, district_id, street_id, community_id, grid_id,
                                          residency, sex, birth_date, retired_at)
    WHERE retired_at IS NULL;

-- A drawn area finds its buildings, then their houses, then the people of
-- those houses: each step an index range, the last one covering.
CREATE INDEX bd_houses_building_occupancy ON bd_houses (building_id, occupancy, retired_at)
    WHERE retired_at IS NULL;
CREATE INDEX bd_people_house_area ON bd_people (house_id, residency, birth_date, sex, retired_at)
    WHERE retired_at IS NULL;

-- Lists of the people of a city-level area, in id order (0011 indexes the
-- other levels); organisations, facilities and spaces use 0012's.
CREATE INDEX bd_people_city ON bd_people (city_id, id);
