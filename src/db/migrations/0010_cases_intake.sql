-- What a case's intake writes and reads, made cheaper (docs/cases.md, "Intake").
--
-- The duplicate check asks for open cases of the same category within 250 m
-- and 7 days. Through the R*Tree of places a busy corner answered with its
-- whole history (some 1,800 rows per intake over 2,000,000 cases, each read
-- from the table to look at its age and category). A cell of 0.0025 degrees
-- (about 280 m north-south) computed from the point, and an index on
-- (cell, category, created_at), answer the same question with a dozen
-- seeks that return only the cases of that category and week: the cells
-- that cover the circle's box are listed by case_find_nearby (the same
-- arithmetic in C, src/cases/case_model.c), the distance decides. The index
-- also holds the state and the point, so the candidates are judged without
-- reading their rows; only the nearest few are read. A generated column:
-- every write path keeps it without knowing of it.
ALTER TABLE cases ADD COLUMN near_cell INTEGER GENERATED ALWAYS AS (
    CASE WHEN lat IS NOT NULL AND lon IS NOT NULL
         THEN CAST((lat + 90) / 0.0025 AS INTEGER) * 1000000 + CAST((lon + 180) / 0.0025 AS INTEGER)
    END) VIRTUAL;
CREATE INDEX cases_near ON cases (near_cell, category_id, created_at, state, lat, lon);

-- Open311 and the public pages list public cases newest first. Reports are
-- private unless their reporter says otherwise, so walking all ids read many
-- private rows for each public one; this index holds the public ones alone.
CREATE INDEX cases_public ON cases (id) WHERE is_public = 1;

-- The full-text index once a commit, not once a case. FTS5 flushes its
-- pending terms to a new segment at every SAVEPOINT, and the group-commit
-- writer opens one per write: a segment per case, merged again and again.
-- New cases are queued here by the trigger and indexed together by the
-- writer's commit hook (fts_drain in src/cases/case_sched.c), in the same
-- transaction: a reader never sees a case its search cannot find.
CREATE TABLE cases_fts_queue (id INTEGER PRIMARY KEY);
DROP TRIGGER cases_fts_insert;
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO cases_fts_queue (id) VALUES (new.id);
END;
-- A case still queued is not in the index yet: the drain indexes its new text.
DROP TRIGGER cases_fts_update;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF title, description ON cases
WHEN NOT EXISTS (SELECT 1 FROM cases_fts_queue WHERE id = old.id)
BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO cases_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
