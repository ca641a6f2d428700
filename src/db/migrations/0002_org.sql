-- The org tree (一网): city → district → street → community → grid, and the
-- departments (职能部门) that serve its units. See docs/org.md.

CREATE TABLE org_units (
    id INTEGER PRIMARY KEY,
    -- GB/T 2260 (6) + GB/T 10114 township (3) + community (3) + grid sequence (3).
    code TEXT NOT NULL UNIQUE CHECK (length(code) IN (6, 9, 12, 15) AND code NOT GLOB '*[^0-9]*'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    kind TEXT NOT NULL CHECK (kind IN ('city', 'district', 'street', 'community', 'grid')),
    parent_id INTEGER REFERENCES org_units (id),
    -- Materialized path of ids, '/1/5/77/': the subtree of u is every row whose
    -- path starts with u's path (a range scan on the index below).
    path TEXT NOT NULL,
    -- GeoJSON Polygon or MultiPolygon in WGS-84, validated on entry.
    boundary TEXT,
    centroid_lat REAL,
    centroid_lon REAL,
    source TEXT NOT NULL CHECK (source IN ('import', 'manual', 'demo')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    CHECK ((boundary IS NULL) = (centroid_lat IS NULL)),
    CHECK ((centroid_lat IS NULL) = (centroid_lon IS NULL)),
    -- Only a city or a district may be a root (a district of a prefecture without
    -- districts, such as 东莞市 441900, has no city above it).
    CHECK (parent_id IS NOT NULL OR kind IN ('city', 'district'))
) STRICT;

CREATE INDEX org_units_parent ON org_units (parent_id);
CREATE INDEX org_units_path ON org_units (path);
CREATE INDEX org_units_kind ON org_units (kind) WHERE boundary IS NOT NULL;

CREATE TABLE departments (
    id INTEGER PRIMARY KEY,
    -- The org unit the department serves.
    org_id INTEGER NOT NULL REFERENCES org_units (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    full_name TEXT CHECK (full_name IS NULL OR length(full_name) BETWEEN 1 AND 200),
    -- The level it sits at: the kind of its org unit or one above it.
    level TEXT NOT NULL CHECK (level IN ('city', 'district', 'street', 'community', 'grid')),
    code TEXT CHECK (code IS NULL OR length(code) BETWEEN 1 AND 32),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (org_id, name),
    UNIQUE (org_id, code)
) STRICT;
