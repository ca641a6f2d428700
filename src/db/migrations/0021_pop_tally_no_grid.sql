-- The population tally keeps no grid rows (src/basedata/bd_tally.h,
-- BD_TALLY_POP_LEVELS): they held about one person a row, 614,000 rows for
-- 1,000,000 people, and were two thirds of the tally rows an import wrote.
-- A grid's population is counted from its people (bd_area.c), through
-- bd_people_grid, a few hundred index entries and rows.
DELETE FROM bd_pop_tally WHERE unit_id IN (SELECT id FROM org_units WHERE kind = 'grid');
