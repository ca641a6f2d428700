-- Cases (诉求/案件) and their closed loop (src/cases, docs/cases.md). Times are UTC
-- epoch milliseconds. Categories come from the catalog module (src/catalog) and
-- are checked through its header, so category_id carries no foreign key here.

-- One row per case: the current state is derived from case_events and cached
-- here in the same transaction; version is bumped by every transition (the
-- optimistic-concurrency check of the API).
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    -- 'GR' + local date YYMMDD + a 6-digit sequence of that day: GR261127000001.
    public_code TEXT NOT NULL UNIQUE,
    channel TEXT NOT NULL
        CHECK (channel IN ('web', 'inspector', 'hotline', 'counter', 'open311', 'sensor')),
    category_id INTEGER,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    description TEXT NOT NULL CHECK (length(description) BETWEEN 1 AND 4000),
    -- WGS-84; NULL while a hotline/counter case has only an address.
    lat REAL,
    lon REAL,
    address TEXT CHECK (address IS NULL OR length(address) BETWEEN 1 AND 200),
    -- The unit chain of the place (or, without a place, of the first unit).
    city_id INTEGER REFERENCES org_units (id),
    district_id INTEGER REFERENCES org_units (id),
    street_id INTEGER REFERENCES org_units (id),
    community_id INTEGER REFERENCES org_units (id),
    grid_id INTEGER REFERENCES org_units (id),
    -- 首接负责: the unit that first received the case.
    first_unit_id INTEGER REFERENCES org_units (id),
    -- Routed (proposed) or dispatched department; NULL with handler_org_id set:
    -- the territorial street handles it (属地兜底).
    department_id INTEGER REFERENCES departments (id),
    handler_org_id INTEGER REFERENCES org_units (id),
    state TEXT NOT NULL CHECK (state IN ('reported', 'accepted', 'rejected', 'filed', 'dispatched',
                                         'signed', 'rework', 'handled', 'returned', 'disputed',
                                         'backlog', 'verified', 'closed', 'review', 'cancelled',
                                         'merged')),
    version INTEGER NOT NULL DEFAULT 1,
    reporter_user_id INTEGER REFERENCES users (id),
    -- The staff member who entered it (inspector, hotline or counter acceptor).
    entered_by INTEGER REFERENCES users (id),
    -- The reporter's phone sealed with the field key (additional data
    -- 'cases.contact'), and its masked form 138****5678.
    contact_enc BLOB,
    contact_hint TEXT,
    anonymous INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
    is_public INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    urgent INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    area_class TEXT NOT NULL DEFAULT 'B' CHECK (area_class IN ('A', 'B', 'C')),
    merged_into INTEGER REFERENCES cases (id),
    -- The step running now (accept, file, dispatch, handle, verify, close,
    -- decide, review, backlog) and its due time; NULL when the loop is over.
    step TEXT,
    step_due_at INTEGER,
    returns INTEGER NOT NULL DEFAULT 0,
    reworks INTEGER NOT NULL DEFAULT 0,
    -- The 不满意 reopen is allowed once.
    reviewed INTEGER NOT NULL DEFAULT 0 CHECK (reviewed IN (0, 1)),
    rating TEXT CHECK (rating IS NULL OR rating IN ('satisfied', 'basically_satisfied',
                                                    'unsatisfied')),
    rating_comment TEXT CHECK (rating_comment IS NULL OR length(rating_comment) <= 500),
    -- A pending extension request: the new due time asked for.
    ext_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    closed_at INTEGER,
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK (lat IS NOT NULL OR address IS NOT NULL),
    CHECK ((contact_enc IS NULL) = (contact_hint IS NULL)),
    CHECK ((state = 'merged') = (merged_into IS NOT NULL))
) STRICT;

CREATE INDEX cases_state ON cases (state, id);
CREATE INDEX cases_department ON cases (department_id, state) WHERE department_id IS NOT NULL;
CREATE INDEX cases_street ON cases (street_id, state);
CREATE INDEX cases_reporter ON cases (reporter_user_id) WHERE reporter_user_id IS NOT NULL;
CREATE INDEX cases_merged ON cases (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX cases_created ON cases (created_at);

-- The timeline: one row per transition, never changed or removed.
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    at INTEGER NOT NULL,
    -- NULL: the system (intake of trusted channels, the deadline scheduler).
    actor_user_id INTEGER REFERENCES users (id),
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    note TEXT CHECK (note IS NULL OR length(note) <= 4000),
    -- JSON object (department, reason codes, rating ...); never personal data.
    data TEXT CHECK (data IS NULL OR json_valid(data)),
    -- JSON array of media ids.
    media TEXT CHECK (media IS NULL OR json_valid(media))
) STRICT;
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only');
END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN
    SELECT RAISE(ABORT, 'case_events is append-only');
END;

-- The time spent in each step, for evaluation: working_ms on the working-day
-- calendar, overdue when it ended after due_at or the scheduler flagged it.
CREATE TABLE case_steps (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    step TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    due_at INTEGER,
    ended_at INTEGER,
    working_ms INTEGER,
    overdue INTEGER NOT NULL DEFAULT 0 CHECK (overdue IN (0, 1))
) STRICT;
CREATE INDEX case_steps_case ON case_steps (case_id, id);
-- What the scheduler looks at: running steps not yet flagged, by due time.
CREATE INDEX case_steps_due ON case_steps (due_at) WHERE ended_at IS NULL AND overdue = 0;

-- Everyone who reported a case, including the reporters of cases merged into
-- it, so that all of them hear of its progress.
CREATE TABLE case_reporters (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id),
    -- The case this reporter originally filed (itself, or one merged into case_id).
    source_case_id INTEGER NOT NULL REFERENCES cases (id),
    user_id INTEGER REFERENCES users (id),
    contact_enc BLOB,
    contact_hint TEXT,
    added_at INTEGER NOT NULL,
    UNIQUE (case_id, source_case_id),
    CHECK ((contact_enc IS NULL) = (contact_hint IS NULL))
) STRICT;
CREATE INDEX case_reporters_user ON case_reporters (user_id) WHERE user_id IS NOT NULL;

-- Routing: category × org subtree → department, inherited down the tree. The
-- most specific rule wins (docs/cases.md).
CREATE TABLE routing_rules (
    id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL REFERENCES org_units (id),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    created_at INTEGER NOT NULL,
    UNIQUE (category_id, org_id)
) STRICT;

-- Full text over title and description (trigram: Chinese needs no word
-- breaking; queries of 3 characters or more). External content, kept in step
-- by the triggers, inside the same transaction as the change.
CREATE VIRTUAL TABLE cases_fts USING fts5(title, description, content = 'cases',
                                          content_rowid = 'id', tokenize = 'trigram');
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO cases_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF title, description ON cases
BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, title, description)
        VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO cases_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
END;

-- Where cases are, for the duplicate check (open cases within 250 m): an
-- R*Tree of points, maintained with the case's location in the same write.
CREATE VIRTUAL TABLE cases_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);

-- A case is cancelled (作废) with a reason, never deleted.
CREATE TRIGGER cases_no_delete BEFORE DELETE ON cases
BEGIN
    SELECT RAISE(ABORT, 'cases are cancelled, never deleted');
END;
