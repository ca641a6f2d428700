-- bd_people_district and bd_houses_district (district_id, id) go: every
-- imported person and house wrote an entry to them (about 5% of the
-- import's writer work each, docs/benchmarks.md), for lists that the table
-- reads as well in id order. A city has some ten to twenty districts, so a
-- district's page of 50 people is found among the next few hundred or
-- thousand rows of the table, as a city's (0020) is among the next 50; the
-- counts of a district come from the tallies (0014), never from these.
-- Streets, communities and grids, a hundredth of a city and less, keep
-- theirs.
DROP INDEX bd_people_district;
DROP INDEX bd_houses_district;
