-- One index of people by house instead of two: bd_people_house (house_id,
-- every row) served the member lists and the house filter, and
-- bd_people_house_area (house_id, residency, birth_date, sex, retired_at,
-- live rows only) the area counts. The second, on every row, serves all of
-- them (a filter on retired_at reads it from the index), and an imported
-- person writes one index entry fewer (docs/benchmarks.md).
DROP INDEX bd_people_house;
DROP INDEX bd_people_house_area;
CREATE INDEX bd_people_house_area ON bd_people (house_id, residency, birth_date, sex, retired_at);
