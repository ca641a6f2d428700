-- Data-sharing applications (数据共享申请, src/basedata/bd_share.c,
-- docs/basedata.md "Data-sharing applications"): an outside organisation asks
-- for one entity's fields within one area for a period; a data steward
-- approves (a share token is issued) or refuses; the token can be revoked.
-- Times are UTC epoch ms; the period's dates are days in Asia/Shanghai.

CREATE TABLE bd_share_apps (
    id INTEGER PRIMARY KEY,
    -- The applicant: an outside organisation, filed by a steward on its
    -- behalf (the counter principle: no account of the outside party).
    org_name TEXT NOT NULL CHECK (length(org_name) BETWEEN 1 AND 200),
    org_uscc TEXT NOT NULL CHECK (length(org_uscc) IN (15, 18)),
    entity TEXT NOT NULL CHECK (entity IN ('people', 'houses', 'buildings', 'orgs', 'facilities',
                                           'spaces')),
    -- Comma-separated field names from the entity's allow-list, in its order.
    fields TEXT NOT NULL CHECK (length(fields) BETWEEN 1 AND 400),
    -- Personal fields: 'masked' always; 'full' only with a legal basis.
    personal TEXT NOT NULL CHECK (personal IN ('masked', 'full')),
    legal_basis TEXT CHECK (legal_basis IS NULL OR length(legal_basis) BETWEEN 1 AND 500),
    area_id INTEGER NOT NULL REFERENCES org_units (id),
    purpose TEXT NOT NULL CHECK (length(purpose) BETWEEN 1 AND 500),
    period_from TEXT NOT NULL, -- YYYY-MM-DD
    period_to TEXT NOT NULL,
    valid_from INTEGER NOT NULL,  -- the first instant of period_from
    valid_until INTEGER NOT NULL, -- the first instant after period_to
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'refused',
                                                          'revoked')),
    -- What the approval granted for personal fields (NULL until approved).
    granted_personal TEXT CHECK (granted_personal IS NULL OR granted_personal IN ('masked', 'full')),
    -- crypto_hash_token(index_key, raw token): the token itself is never stored.
    token_hash BLOB UNIQUE,
    filed_by INTEGER NOT NULL REFERENCES users (id),
    decided_by INTEGER REFERENCES users (id),
    decided_at INTEGER,
    revoked_by INTEGER REFERENCES users (id),
    revoked_at INTEGER,
    reason TEXT CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 500),
    reads INTEGER NOT NULL DEFAULT 0,
    last_read_at INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (personal = 'masked' OR legal_basis IS NOT NULL),
    CHECK (granted_personal IS NULL OR granted_personal = 'masked' OR personal = 'full'),
    CHECK (period_from <= period_to AND valid_from < valid_until),
    CHECK ((state = 'approved' OR state = 'revoked') = (token_hash IS NOT NULL))
) STRICT;
CREATE INDEX bd_share_apps_area ON bd_share_apps (area_id, id);
CREATE INDEX bd_share_apps_state ON bd_share_apps (state, id);

-- Every state change of an application: who, when, why. Append-only.
CREATE TABLE bd_share_history (
    id INTEGER PRIMARY KEY,
    app_id INTEGER NOT NULL REFERENCES bd_share_apps (id),
    at INTEGER NOT NULL,
    actor_user_id INTEGER NOT NULL REFERENCES users (id),
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('apply', 'approve', 'refuse', 'revoke')),
    state TEXT NOT NULL, -- the state after the change
    reason TEXT
) STRICT;
CREATE INDEX bd_share_history_app ON bd_share_history (app_id, id);

CREATE TRIGGER bd_share_history_no_update BEFORE UPDATE ON bd_share_history
BEGIN
    SELECT RAISE(ABORT, 'bd_share_history is append-only');
END;
CREATE TRIGGER bd_share_history_no_delete BEFORE DELETE ON bd_share_history
BEGIN
    SELECT RAISE(ABORT, 'bd_share_history is append-only');
END;
