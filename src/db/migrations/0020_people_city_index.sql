-- bd_people_city (city_id, id) goes: every imported person wrote an entry
-- to it (some 4% of an import's writer work, docs/benchmarks.md), and it
-- served little. A deployment is one city (DESIGN.md: one network), so a
-- city's list of people is nearly every row, and the table itself reads
-- them in id order, as it does for houses and buildings, which never had a
-- city index. What did need it is the handful of people without a city,
-- added to the counts of everything (bd_area.c): they get a partial index
-- of their own, which a person with a city never writes to.
DROP INDEX bd_people_city;
CREATE INDEX bd_people_no_city ON bd_people (id) WHERE city_id IS NULL;
