-- Media (src/media, docs/media.md): photos and short videos. The bytes live in
-- files under DATA/media/ab/cd/<sha256> (content-addressed, metadata stripped):
-- the same content is stored once, but every upload has its own row. An upload
-- is private and unlinked until its owner (a case ...) links it; from then on
-- is_public and scope_org_id follow the owner's visibility.
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL CHECK (length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*'),
    type TEXT NOT NULL CHECK (type IN ('image/jpeg', 'image/png', 'image/webp', 'video/mp4')),
    size INTEGER NOT NULL CHECK (size > 0),
    -- NULL: uploaded by nobody signed in (anonymous reporting).
    uploaded_by INTEGER REFERENCES users (id),
    is_public INTEGER NOT NULL DEFAULT 0 CHECK (is_public IN (0, 1)),
    -- Staff whose scope covers this org unit may read a private medium.
    scope_org_id INTEGER REFERENCES org_units (id),
    owner_kind TEXT CHECK (owner_kind IS NULL OR length(owner_kind) BETWEEN 1 AND 32),
    owner_id INTEGER,
    created_at INTEGER NOT NULL,
    CHECK ((owner_kind IS NULL) = (owner_id IS NULL))
) STRICT;
CREATE INDEX media_owner ON media (owner_kind, owner_id) WHERE owner_kind IS NOT NULL;
