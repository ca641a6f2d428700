-- Accounts and access (src/auth, docs/auth.md). Times are UTC epoch milliseconds.

-- People who sign in. The phone is sealed with the field key (XChaCha20-Poly1305,
-- nonce in front, additional data 'users.phone'); phone_hint is the masked form
-- (138****5678) shown by default. Staff have a scope: the root of the org subtree
-- they work in; residents have none.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    phone_enc BLOB,
    phone_hint TEXT,
    role TEXT NOT NULL CHECK (role IN ('resident', 'grid_inspector', 'acceptor', 'dispatcher',
                                       'shift_leader', 'department_staff', 'community_worker',
                                       'data_steward', 'leader', 'auditor', 'admin')),
    scope_org_id INTEGER REFERENCES org_units(id),
    department_id INTEGER REFERENCES departments(id),
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    CHECK (role = 'resident' OR scope_org_id IS NOT NULL),
    CHECK ((phone_enc IS NULL) = (phone_hint IS NULL))
) STRICT;
CREATE INDEX users_scope ON users(scope_org_id);
CREATE INDEX users_department ON users(department_id);

-- Browser sessions. The cookie carries a random 32-byte token; only its BLAKE2b
-- hash keyed with the index key is stored, so a copy of the database does not
-- give working cookies. A session ends at expires_at (absolute), after 12 h
-- without use (last_seen_at), or when revoked.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;
CREATE INDEX sessions_user ON sessions(user_id);

-- API tokens for machines (Authorization: Bearer). A token acts with its owner's
-- role and scope, but only for the actions listed in scopes (space-separated).
-- Stored as a keyed hash, like sessions; the text is shown once at creation.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
) STRICT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- Login throttling. key is 'user:' or 'addr:' followed by the hex BLAKE2b (keyed
-- with the index key) of the lower-cased username or of the client address: no
-- raw address or unknown username is stored. Shared by every node on one database.
CREATE TABLE login_attempts (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    next_allowed_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX login_attempts_updated ON login_attempts(updated_at);
