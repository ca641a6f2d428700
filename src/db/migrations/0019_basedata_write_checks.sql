-- Two checks that every imported person paid for in the one writer thread,
-- and that guarded nothing another rule does not (docs/basedata.md "Import",
-- docs/benchmarks.md). The stored rows stay as they are, so the table
-- definitions are edited in place, the procedure
-- https://sqlite.org/lang_altertable.html#otheralter gives for removing a
-- CHECK or FOREIGN KEY constraint (as 0016 did; db_migrate raises the
-- schema cookie).
--
-- 1. bd_history.changes: CHECK (json_valid(changes)) parsed every history
--    row again, some 11,000 instructions a person. The text is only ever
--    built by bd_changes (src/basedata/bd_history.c), which writes JSON by
--    construction; tests/unit/test_base.c reads every byte its escaper can
--    meet back through a JSON parser, and test_basedata every kind of value.
--
-- 2. The unit chain of houses and people (city_id .. grid_id): five
--    foreign keys, five lookups in org_units a row. The chain is never
--    written from input: it is copied from the building's (whose own
--    columns keep their foreign keys, and which cascades a change of
--    chain to its houses and people), or, for a person without a house,
--    from the steward unit, which keeps its foreign key. So a unit in any
--    chain is still referenced by a building or a steward, or has a child
--    unit, and org_unit_delete still refuses to delete it
--    (tests/unit/test_basedata.c, test_chain_units_not_deletable).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql, 'changes TEXT NOT NULL CHECK (json_valid(changes))',
    'changes TEXT NOT NULL')
    WHERE type = 'table' AND name = 'bd_history';
UPDATE sqlite_schema SET sql = replace(replace(replace(replace(replace(sql,
    'city_id INTEGER REFERENCES org_units (id)', 'city_id INTEGER'),
    'district_id INTEGER REFERENCES org_units (id)', 'district_id INTEGER'),
    'street_id INTEGER REFERENCES org_units (id)', 'street_id INTEGER'),
    'community_id INTEGER REFERENCES org_units (id)', 'community_id INTEGER'),
    'grid_id INTEGER REFERENCES org_units (id)', 'grid_id INTEGER')
    WHERE type = 'table' AND (name = 'bd_houses' OR name = 'bd_people');
