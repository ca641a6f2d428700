-- The category catalogue and the working-day calendar (src/catalog, docs/catalog.md).
-- Times are UTC epoch milliseconds; *_by columns are user ids (NULL: a command or the demo).

-- Categories are a two-level tree: a major class (C01, E01: never filed under) with
-- its minor classes (C0101, E0110), and the 12345 demand types (D01..D05) as leaves
-- at the root. The code fixes kind, level and parent; cases refer to the id, so a
-- category in use is retired (active = 0), never deleted.
CREATE TABLE categories (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (code GLOB '[CE][0-9][0-9]' OR code GLOB '[CE][0-9][0-9][0-9][0-9]'
                                     OR code GLOB 'D[0-9][0-9]'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind TEXT NOT NULL CHECK (kind IN ('component', 'event', 'demand')),
    parent_id INTEGER REFERENCES categories (id),
    is_leaf INTEGER NOT NULL CHECK (is_leaf IN (0, 1)),
    standard_ref TEXT NOT NULL CHECK (standard_ref IN ('GB/T 30428.2-2013', 'CJ/T 214-2007',
                                                       'local', '12345')),
    default_department_id INTEGER REFERENCES departments (id),
    filing_condition TEXT CHECK (filing_condition IS NULL OR length(filing_condition) <= 500),
    closing_condition TEXT CHECK (closing_condition IS NULL OR length(closing_condition) <= 500),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users (id),
    version INTEGER NOT NULL DEFAULT 1,
    CHECK (kind = CASE substr(code, 1, 1) WHEN 'C' THEN 'component' WHEN 'E' THEN 'event'
                                          ELSE 'demand' END),
    CHECK (is_leaf = (length(code) = 5 OR kind = 'demand')),
    CHECK ((parent_id IS NULL) = (length(code) = 3))
) STRICT;
CREATE INDEX categories_parent ON categories (parent_id);

-- Every change of a category (its fields or its limits) first copies the definition
-- as it was, limits included, as JSON: a case filed under version 3 can be explained
-- after the category reached version 7.
CREATE TABLE category_history (
    id INTEGER PRIMARY KEY,
    category_id INTEGER NOT NULL REFERENCES categories (id),
    version INTEGER NOT NULL,
    changed_by INTEGER REFERENCES users (id),
    changed_at INTEGER NOT NULL,
    old TEXT NOT NULL CHECK (json_valid(old)),
    UNIQUE (category_id, version)
) STRICT;

-- The time limit of a step, per area class (A 核心区, B 一般区, C; '*' any) and
-- urgency ('*' any). The most specific row wins, then the major class's rows.
CREATE TABLE category_limits (
    category_id INTEGER NOT NULL REFERENCES categories (id),
    step TEXT NOT NULL CHECK (step IN ('accept', 'file', 'dispatch', 'handle', 'verify')),
    area_class TEXT NOT NULL CHECK (area_class IN ('A', 'B', 'C', '*')),
    urgency TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', '*')),
    amount INTEGER NOT NULL CHECK (amount > 0),
    unit TEXT NOT NULL CHECK (unit IN ('natural_minutes', 'working_minutes', 'working_days')),
    PRIMARY KEY (category_id, step, area_class, urgency)
) STRICT, WITHOUT ROWID;

-- The exceptions to "Monday to Friday are working days": holidays (also on
-- weekdays) and adjusted workdays (调休, on weekends). Local dates, Asia/Shanghai.
CREATE TABLE calendar_days (
    date TEXT PRIMARY KEY CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    updated_at INTEGER NOT NULL,
    updated_by INTEGER REFERENCES users (id)
) STRICT, WITHOUT ROWID;

-- Bumped by every change of calendar_days, whoever makes it (the API, the import
-- command, another node): a server compares it with the calendar it has loaded
-- and reloads when they differ.
CREATE TABLE calendar_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation INTEGER NOT NULL
) STRICT;
INSERT INTO calendar_generation (id, generation) VALUES (1, 0);

CREATE TRIGGER calendar_days_insert AFTER INSERT ON calendar_days
BEGIN
    UPDATE calendar_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER calendar_days_update AFTER UPDATE ON calendar_days
BEGIN
    UPDATE calendar_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER calendar_days_delete AFTER DELETE ON calendar_days
BEGIN
    UPDATE calendar_generation SET generation = generation + 1 WHERE id = 1;
END;
