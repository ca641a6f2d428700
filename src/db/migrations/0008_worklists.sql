-- Work lists (src/cases/case_lists.c, docs/cases.md "Work lists"): the staff
-- list filters on one column of the unit chain (the one of the scope unit's
-- kind) with the state, so each level gets its (unit, state) index; the
-- street's is cases_street (0007). Ids follow as the rowid, so a single state
-- in a subtree is read in id order without sorting.
CREATE INDEX cases_city ON cases (city_id, state);
CREATE INDEX cases_district ON cases (district_id, state);
CREATE INDEX cases_community ON cases (community_id, state);
CREATE INDEX cases_grid ON cases (grid_id, state);
-- Overdue: running steps (step set) by due time; sort=due reads it in order.
CREATE INDEX cases_due ON cases (step_due_at) WHERE step IS NOT NULL;
-- sort=updated, newest first.
CREATE INDEX cases_updated ON cases (updated_at);
