-- The audit log (src/privacy/audit.c, docs/privacy.md): every full view of a
-- personal value, every export and every key operation, one row each, in
-- one hash chain. hash = keyed BLAKE2b-256 over prev_hash and every column;
-- the key is derived from the deployment keys, so the chain cannot be
-- recomputed by someone who has the database file but not DIR/keys.
-- Personal data never goes in here: ids, role and field names only.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,          -- 1, 2, 3 ... without gaps
    at INTEGER NOT NULL,              -- epoch ms
    actor_user_id INTEGER NOT NULL,   -- 0: the system
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,             -- 'reveal', 'share.read', 'export', 'key.rotate' ...
    entity TEXT NOT NULL,             -- 'person', 'case' ...
    entity_id INTEGER NOT NULL,       -- 0: none
    fields TEXT,                      -- comma-separated field names
    purpose TEXT,                     -- required for reveals
    request_id TEXT,
    detail TEXT,                      -- a short JSON object, no personal data
    prev_hash BLOB NOT NULL,          -- the hash of seq - 1; 32 zero bytes for seq 1
    hash BLOB NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);
CREATE INDEX audit_log_at ON audit_log (at);

-- The application cannot alter the log by accident; what is done outside it
-- (another SQLite connection, a hex editor) the chain finds.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_next_seq BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_log)
BEGIN
    SELECT RAISE(ABORT, 'audit_log.seq must follow the last entry');
END;

-- The head of the chain: the last seq and its hash, updated in the same
-- transaction as each append, with a keyed MAC, so that cutting entries off
-- the tail (which a chain alone cannot show) is found too.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    mac BLOB NOT NULL
);
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head cannot be deleted');
END;
