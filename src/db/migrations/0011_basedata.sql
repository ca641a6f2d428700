-- The base data (一库, src/basedata, docs/basedata.md): buildings, houses and
-- people, and the history of every base-data record. Organisations,
-- facilities and underground spaces are in 0012. Times are UTC epoch ms.
--
-- Every entity table has the common columns: version (1 at creation, +1 per
-- change), the steward unit and person (专人负责), the source, and the unit
-- chain a scoped query filters on (from the location's grid, or from the
-- building for houses and people, or from the steward unit). Records are
-- retired (注销: retired_at set), never deleted.

-- One row per version of a base-data record: who changed what and when.
-- changes is a JSON object field -> [old, new]; sealed personal fields show
-- "(encrypted)" and their old ciphertext is kept in bd_history_sealed.
CREATE TABLE bd_history (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor_user_id INTEGER,
    actor_role TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'retire')),
    changes TEXT NOT NULL CHECK (json_valid(changes)),
    UNIQUE (entity, entity_id, version)
) STRICT;

CREATE TRIGGER bd_history_no_update BEFORE UPDATE ON bd_history
BEGIN
    SELECT RAISE(ABORT, 'bd_history is append-only');
END;
CREATE TRIGGER bd_history_no_delete BEFORE DELETE ON bd_history
BEGIN
    SELECT RAISE(ABORT, 'bd_history is append-only');
END;

-- The ciphertext a change replaced (the value before version `version`),
-- still sealed with the field key and its column's additional data.
CREATE TABLE bd_history_sealed (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    field TEXT NOT NULL,
    old_enc BLOB,
    UNIQUE (entity, entity_id, version, field)
) STRICT;

CREATE TRIGGER bd_history_sealed_no_update BEFORE UPDATE ON bd_history_sealed
BEGIN
    SELECT RAISE(ABORT, 'bd_history_sealed is append-only');
END;
CREATE TRIGGER bd_history_sealed_no_delete BEFORE DELETE ON bd_history_sealed
BEGIN
    SELECT RAISE(ABORT, 'bd_history_sealed is append-only');
END;

-- 楼栋: the standard address elements (GA/T 2000.32: 13 区县, 23 街道,
-- 41 街路巷 / 42 小区, 门牌, 50 建筑物), the location in WGS-84 and the grid
-- it lies in.
CREATE TABLE bd_buildings (
    id INTEGER PRIMARY KEY,
    district TEXT NOT NULL CHECK (length(district) BETWEEN 1 AND 50),
    street TEXT NOT NULL CHECK (length(street) BETWEEN 1 AND 50),
    road TEXT NOT NULL CHECK (length(road) BETWEEN 1 AND 50),
    house_number TEXT NOT NULL CHECK (length(house_number) BETWEEN 1 AND 20),
    building TEXT NOT NULL DEFAULT '' CHECK (length(building) <= 50),
    -- The natural key: the elements joined by '|', unique among live rows.
    address_key TEXT NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    floors INTEGER CHECK (floors IS NULL OR floors BETWEEN 1 AND 200),
    use TEXT NOT NULL CHECK (use IN ('residential', 'commercial', 'office', 'industrial',
                                     'public', 'mixed', 'other')),
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
CREATE UNIQUE INDEX bd_buildings_address ON bd_buildings (address_key) WHERE retired_at IS NULL;
CREATE INDEX bd_buildings_street ON bd_buildings (street_id, id);
CREATE INDEX bd_buildings_community ON bd_buildings (community_id, id);
CREATE INDEX bd_buildings_grid ON bd_buildings (grid_id, id);
CREATE INDEX bd_buildings_district ON bd_buildings (district_id, id);
CREATE INDEX bd_buildings_latlon ON bd_buildings (lat, lon);

-- 户 / 房屋: the registration unit people are registered to (以房管人). The
-- unit chain is the building's.
CREATE TABLE bd_houses (
    id INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES bd_buildings (id),
    unit TEXT NOT NULL DEFAULT '' CHECK (length(unit) <= 20),
    floor INTEGER CHECK (floor IS NULL OR floor BETWEEN -10 AND 200),
    room TEXT NOT NULL CHECK (length(room) BETWEEN 1 AND 20),
    area_m2 REAL CHECK (area_m2 IS NULL OR area_m2 > 0),
    use TEXT NOT NULL CHECK (use IN ('residential', 'commercial', 'office', 'storage', 'other')),
    ownership TEXT NOT NULL CHECK (ownership IN ('private', 'public_rental', 'collective',
                                                 'enterprise', 'other')),
    occupancy TEXT NOT NULL CHECK (occupancy IN ('occupied', 'vacant')),
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
CREATE UNIQUE INDEX bd_houses_key ON bd_houses (building_id, unit, room) WHERE retired_at IS NULL;
CREATE INDEX bd_houses_street ON bd_houses (street_id, id);
CREATE INDEX bd_houses_community ON bd_houses (community_id, id);
CREATE INDEX bd_houses_grid ON bd_houses (grid_id, id);
CREATE INDEX bd_houses_district ON bd_houses (district_id, id);

-- 实有人口. Name, ID number and phone are sealed with the field key (additional
-- data 'bd_people.<column>'), never stored in clear; *_index are keyed
-- BLAKE2b blind indexes for exact lookup, *_hint the masked forms lists show.
-- Birth date and sex, derived from the ID number, stay in clear for statistics.
CREATE TABLE bd_people (
    id INTEGER PRIMARY KEY,
    name_enc BLOB NOT NULL,
    name_index BLOB NOT NULL,
    name_hint TEXT NOT NULL,
    id_number_enc BLOB NOT NULL,
    id_number_index BLOB NOT NULL,
    id_number_hint TEXT NOT NULL,
    phone_enc BLOB,
    phone_hint TEXT,
    birth_date TEXT NOT NULL, -- YYYY-MM-DD
    sex TEXT NOT NULL CHECK (sex IN ('M', 'F')),
    ethnicity TEXT CHECK (ethnicity IS NULL OR length(ethnicity) BETWEEN 1 AND 20),
    -- 户籍 registered, 常住 permanent, 流动 floating (china_standards §4.5).
    residency TEXT NOT NULL CHECK (residency IN ('registered', 'permanent', 'floating')),
    permit_start TEXT, -- 居住证 dates, YYYY-MM-DD, required for floating residents
    permit_end TEXT,
    house_id INTEGER REFERENCES bd_houses (id),
    relation TEXT CHECK (relation IS NULL OR relation IN ('householder', 'spouse', 'child',
                                                          'parent', 'grandparent', 'grandchild',
                                                          'sibling', 'tenant', 'other')),
    employment TEXT CHECK (employment IS NULL OR employment IN ('employed', 'self_employed',
                                                                'unemployed', 'retired',
                                                                'student', 'other')),
    social_security TEXT CHECK (social_security IS NULL OR social_security IN ('insured',
                                                                               'uninsured')),
    -- The care tags, sorted and comma-separated (the rows of bd_person_tags
    -- are what filters use).
    care_tags TEXT NOT NULL DEFAULT '',
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
    CHECK ((phone_enc IS NULL) = (phone_hint IS NULL)),
    CHECK (residency <> 'floating' OR (permit_start IS NOT NULL AND permit_end IS NOT NULL)),
    CHECK (permit_start IS NULL OR permit_end IS NULL OR permit_start <= permit_end)
) STRICT;
-- One live person per ID number.
CREATE UNIQUE INDEX bd_people_id_number ON bd_people (id_number_index) WHERE retired_at IS NULL;
CREATE INDEX bd_people_name ON bd_people (name_index);
CREATE INDEX bd_people_house ON bd_people (house_id) WHERE house_id IS NOT NULL;
CREATE INDEX bd_people_street ON bd_people (street_id, id);
CREATE INDEX bd_people_community ON bd_people (community_id, id);
CREATE INDEX bd_people_grid ON bd_people (grid_id, id);
CREATE INDEX bd_people_district ON bd_people (district_id, id);

-- The care tags of a person (独居老人, 残疾人, 低保, 优抚对象 ...; the fixed list
-- is in src/basedata/bd_common.c), one row each, for "the vulnerable people
-- of an area".
CREATE TABLE bd_person_tags (
    tag TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES bd_people (id),
    PRIMARY KEY (tag, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX bd_person_tags_person ON bd_person_tags (person_id);
