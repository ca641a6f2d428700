-- The counts of a unit area, kept as tallies (src/basedata/bd_tally.c,
-- docs/basedata.md "Area queries, the emergency view and statistics"). A
-- district of 1,000,000 people is summed from a few hundred tally rows
-- instead of counting its people on every request (the target: 200 ms).
--
-- A live row (retired_at IS NULL) counts once under each non-NULL unit of
-- its chain (city .. grid), so a unit's tally is read with its id alone.
-- People count by birth year, not date: ages are taken at 31 December of
-- the current year (年末 statistics), so every age band is a range of birth
-- years. A person's care tags count while the person is live, under the
-- person's chain. Rows that fall to 0 stay (readers skip them).
--
-- The writers of people and houses (bd_people.c, bd_places.c, bd_common.c)
-- keep the tallies with single-row upserts. Not triggers: a table with a
-- trigger gives every INSERT a statement journal, a copy of each page the
-- statement touches, which made an import three times slower.

CREATE TABLE bd_pop_tally (
    unit_id INTEGER NOT NULL,
    residency TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (unit_id, residency, sex, birth_year)
) STRICT, WITHOUT ROWID;

CREATE TABLE bd_tag_tally (
    unit_id INTEGER NOT NULL,
    tag TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (unit_id, tag)
) STRICT, WITHOUT ROWID;

CREATE TABLE bd_house_tally (
    unit_id INTEGER NOT NULL,
    occupancy TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (unit_id, occupancy)
) STRICT, WITHOUT ROWID;

-- ---- the rows already there (bd_tally_rebuild runs the same) ----

INSERT INTO bd_pop_tally (unit_id, residency, sex, birth_year, n)
SELECT u, residency, sex, y, sum(n) FROM (
    SELECT CASE k.column1 WHEN 0 THEN g.city_id WHEN 1 THEN g.district_id WHEN 2 THEN g.street_id
           WHEN 3 THEN g.community_id ELSE g.grid_id END AS u, g.residency, g.sex, g.y, g.n
    FROM (SELECT city_id, district_id, street_id, community_id, grid_id, residency, sex,
                 CAST(substr(birth_date, 1, 4) AS INTEGER) AS y, count(*) AS n
          FROM bd_people WHERE retired_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) g,
         (VALUES (0), (1), (2), (3), (4)) k)
WHERE u IS NOT NULL GROUP BY 1, 2, 3, 4;

INSERT INTO bd_tag_tally (unit_id, tag, n)
SELECT u, tag, sum(n) FROM (
    SELECT CASE k.column1 WHEN 0 THEN g.city_id WHEN 1 THEN g.district_id WHEN 2 THEN g.street_id
           WHEN 3 THEN g.community_id ELSE g.grid_id END AS u, g.tag, g.n
    FROM (SELECT p.city_id, p.district_id, p.street_id, p.community_id, p.grid_id, t.tag,
                 count(*) AS n
          FROM bd_person_tags t JOIN bd_people p ON p.id = t.person_id
          WHERE p.retired_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6) g,
         (VALUES (0), (1), (2), (3), (4)) k)
WHERE u IS NOT NULL GROUP BY 1, 2;

INSERT INTO bd_house_tally (unit_id, occupancy, n)
SELECT u, occupancy, sum(n) FROM (
    SELECT CASE k.column1 WHEN 0 THEN g.city_id WHEN 1 THEN g.district_id WHEN 2 THEN g.street_id
           WHEN 3 THEN g.community_id ELSE g.grid_id END AS u, g.occupancy, g.n
    FROM (SELECT city_id, district_id, street_id, community_id, grid_id, occupancy, count(*) AS n
          FROM bd_houses WHERE retired_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6) g,
         (VALUES (0), (1), (2), (3), (4)) k)
WHERE u IS NOT NULL GROUP BY 1, 2;

-- Only the per-chain range counts of the old area summary read this index
-- (0013); every write to bd_people paid for it.
DROP INDEX bd_people_area;
