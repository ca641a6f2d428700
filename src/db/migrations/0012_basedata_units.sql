-- Base data (一库), part 2: organisations (单位), facilities (部件) and
-- underground spaces (地下空间). See docs/basedata.md. Every table has the
-- common columns of the base data: version (optimistic concurrency and
-- history, bd_history), steward unit and person (专人负责), source, times, and
-- the unit chain that scoped queries filter on. Records are retired (注销),
-- never deleted.

CREATE TABLE bd_orgs (
    id INTEGER PRIMARY KEY,
    -- GB 32100 统一社会信用代码 (18 characters, upper case), or a legacy
    -- 15-digit 注册号 (uscc_legacy = 1).
    uscc TEXT NOT NULL UNIQUE CHECK (length(uscc) IN (15, 18)),
    uscc_legacy INTEGER NOT NULL DEFAULT 0 CHECK (uscc_legacy IN (0, 1)),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type TEXT NOT NULL CHECK (type IN ('enterprise', 'social', 'individual', 'public')),
    -- The legal representative is a person: the name sealed with the field key
    -- (additional data 'bd_orgs.legal_rep') and its masked form.
    legal_rep_enc BLOB,
    legal_rep_hint TEXT,
    building_id INTEGER REFERENCES bd_buildings (id),
    house_id INTEGER REFERENCES bd_houses (id),
    address TEXT CHECK (address IS NULL OR length(address) BETWEEN 1 AND 200),
    industry TEXT CHECK (industry IS NULL OR length(industry) BETWEEN 1 AND 100),
    employees INTEGER CHECK (employees IS NULL OR employees >= 0),
    lat REAL,
    lon REAL,
    version INTEGER NOT NULL DEFAULT 1,
    steward_org_id INTEGER NOT NULL REFERENCES org_units (id),
    steward_user_id INTEGER REFERENCES users (id),
    source TEXT NOT NULL CHECK (source IN ('collected', 'imported', 'shared')),
    city_id INTEGER REFERENCES org_units (id),
    district_id INTEGER REFERENCES org_units (id),
    street_id INTEGER REFERENCES org_units (id),
    community_id INTEGER REFERENCES org_units (id),
    grid_id INTEGER REFERENCES org_units (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    retired_at INTEGER,
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK ((legal_rep_enc IS NULL) = (legal_rep_hint IS NULL))
) STRICT;

CREATE INDEX bd_orgs_city ON bd_orgs (city_id, id);
CREATE INDEX bd_orgs_district ON bd_orgs (district_id, id);
CREATE INDEX bd_orgs_street ON bd_orgs (street_id, id);
CREATE INDEX bd_orgs_community ON bd_orgs (community_id, id);
CREATE INDEX bd_orgs_grid ON bd_orgs (grid_id, id);
CREATE INDEX bd_orgs_type ON bd_orgs (type, id);
CREATE INDEX bd_orgs_industry ON bd_orgs (industry, id) WHERE industry IS NOT NULL;
CREATE INDEX bd_orgs_building ON bd_orgs (building_id) WHERE building_id IS NOT NULL;

CREATE TABLE bd_facilities (
    id INTEGER PRIMARY KEY,
    -- The 16-digit 部件 code and its parts: county (6), major (2), minor (2), serial (6).
    code TEXT NOT NULL UNIQUE CHECK (length(code) = 16 AND code NOT GLOB '*[^0-9]*'),
    county TEXT NOT NULL CHECK (length(county) = 6),
    major INTEGER NOT NULL CHECK (major BETWEEN 1 AND 99),
    minor INTEGER NOT NULL CHECK (minor BETWEEN 1 AND 99),
    name TEXT CHECK (name IS NULL OR length(name) BETWEEN 1 AND 200),
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('normal', 'damaged', 'lost', 'removed')),
    owner_dept_id INTEGER REFERENCES departments (id),
    maintainer_dept_id INTEGER REFERENCES departments (id),
    version INTEGER NOT NULL DEFAULT 1,
    steward_org_id INTEGER NOT NULL REFERENCES org_units (id),
    steward_user_id INTEGER REFERENCES users (id),
    source TEXT NOT NULL CHECK (source IN ('collected', 'imported', 'shared')),
    city_id INTEGER REFERENCES org_units (id),
    district_id INTEGER REFERENCES org_units (id),
    street_id INTEGER REFERENCES org_units (id),
    community_id INTEGER REFERENCES org_units (id),
    grid_id INTEGER REFERENCES org_units (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    retired_at INTEGER
) STRICT;

CREATE INDEX bd_facilities_city ON bd_facilities (city_id, id);
CREATE INDEX bd_facilities_district ON bd_facilities (district_id, id);
CREATE INDEX bd_facilities_street ON bd_facilities (street_id, id);
CREATE INDEX bd_facilities_community ON bd_facilities (community_id, id);
CREATE INDEX bd_facilities_grid ON bd_facilities (grid_id, id);
CREATE INDEX bd_facilities_class ON bd_facilities (major, minor, state);

CREATE TABLE bd_spaces (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('civil_defense', 'garage', 'commercial', 'other')),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 200),
    lat REAL,
    lon REAL,
    area_m2 REAL CHECK (area_m2 IS NULL OR area_m2 > 0),
    capacity INTEGER CHECK (capacity IS NULL OR capacity >= 0),
    use TEXT CHECK (use IS NULL OR length(use) BETWEEN 1 AND 200),
    manager_org_id INTEGER REFERENCES bd_orgs (id),
    version INTEGER NOT NULL DEFAULT 1,
    steward_org_id INTEGER NOT NULL REFERENCES org_units (id),
    steward_user_id INTEGER REFERENCES users (id),
    source TEXT NOT NULL CHECK (source IN ('collected', 'imported', 'shared')),
    city_id INTEGER REFERENCES org_units (id),
    district_id INTEGER REFERENCES org_units (id),
    street_id INTEGER REFERENCES org_units (id),
    community_id INTEGER REFERENCES org_units (id),
    grid_id INTEGER REFERENCES org_units (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    retired_at INTEGER,
    CHECK ((lat IS NULL) = (lon IS NULL))
) STRICT;

-- The natural key: the same kind, name and address is the same live space.
CREATE UNIQUE INDEX bd_spaces_key ON bd_spaces (kind, name, address) WHERE retired_at IS NULL;
CREATE INDEX bd_spaces_city ON bd_spaces (city_id, id);
CREATE INDEX bd_spaces_district ON bd_spaces (district_id, id);
CREATE INDEX bd_spaces_street ON bd_spaces (street_id, id);
CREATE INDEX bd_spaces_community ON bd_spaces (community_id, id);
CREATE INDEX bd_spaces_grid ON bd_spaces (grid_id, id);
CREATE INDEX bd_spaces_kind ON bd_spaces (kind, id);

-- Where they are, for "inside an area" queries (bbox, radius, the emergency
-- view): one R*Tree of points per table, kept by triggers.
CREATE VIRTUAL TABLE bd_orgs_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);
CREATE VIRTUAL TABLE bd_facilities_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);
CREATE VIRTUAL TABLE bd_spaces_geo USING rtree(id, min_lat, max_lat, min_lon, max_lon);

CREATE TRIGGER bd_orgs_geo_insert AFTER INSERT ON bd_orgs WHEN new.lat IS NOT NULL
BEGIN
    INSERT INTO bd_orgs_geo VALUES (new.id, new.lat, new.lat, new.lon, new.lon);
END;
CREATE TRIGGER bd_orgs_geo_update AFTER UPDATE OF lat, lon ON bd_orgs
BEGIN
    DELETE FROM bd_orgs_geo WHERE id = old.id;
    INSERT INTO bd_orgs_geo SELECT new.id, new.lat, new.lat, new.lon, new.lon
        WHERE new.lat IS NOT NULL;
END;
CREATE TRIGGER bd_facilities_geo_insert AFTER INSERT ON bd_facilities
BEGIN
    INSERT INTO bd_facilities_geo VALUES (new.id, new.lat, new.lat, new.lon, new.lon);
END;
CREATE TRIGGER bd_facilities_geo_update AFTER UPDATE OF lat, lon ON bd_facilities
BEGIN
    UPDATE bd_facilities_geo SET min_lat = new.lat, max_lat = new.lat, min_lon = new.lon,
        max_lon = new.lon WHERE id = new.id;
END;
CREATE TRIGGER bd_spaces_geo_insert AFTER INSERT ON bd_spaces WHEN new.lat IS NOT NULL
BEGIN
    INSERT INTO bd_spaces_geo VALUES (new.id, new.lat, new.lat, new.lon, new.lon);
END;
CREATE TRIGGER bd_spaces_geo_update AFTER UPDATE OF lat, lon ON bd_spaces
BEGIN
    DELETE FROM bd_spaces_geo WHERE id = old.id;
    INSERT INTO bd_spaces_geo SELECT new.id, new.lat, new.lat, new.lon, new.lon
        WHERE new.lat IS NOT NULL;
END;

CREATE TRIGGER bd_orgs_no_delete BEFORE DELETE ON bd_orgs
BEGIN
    SELECT RAISE(ABORT, 'organisations are retired, never deleted');
END;
CREATE TRIGGER bd_facilities_no_delete BEFORE DELETE ON bd_facilities
BEGIN
    SELECT RAISE(ABORT, 'facilities are retired, never deleted');
END;
CREATE TRIGGER bd_spaces_no_delete BEFORE DELETE ON bd_spaces
BEGIN
    SELECT RAISE(ABORT, 'underground spaces are retired, never deleted');
END;
