-- Notifications (src/notify, docs/notify.md). Times are UTC epoch milliseconds.

-- Webhook subscriptions, configured by admins. The secret signs every delivery
-- (HMAC-SHA256); it is sealed with the field key (XChaCha20-Poly1305, nonce in
-- front, additional data 'webhooks.secret') and never answered after creation.
-- event_types: space-separated names ('case.created'), prefixes ('case.*') or '*'.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    secret_enc BLOB NOT NULL,
    event_types TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
) STRICT;

-- The outbox: one row per event and subscribed webhook, written in the same
-- transaction as the change it reports, so an event exists exactly when its
-- change does. The delivery thread sends due rows (at least once); receivers
-- dedupe on idempotency_key, which stays the same across retries. A row is
-- pending (delivered_at and dead_at NULL), delivered, or dead (given up).
-- payload holds no personal data; last_error is a transport message, never a
-- response body.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subject TEXT,
    subject_id INTEGER,
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at INTEGER,
    dead_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    CHECK (delivered_at IS NULL OR dead_at IS NULL)
) STRICT;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX outbox_webhook ON outbox(webhook_id, id);
CREATE INDEX outbox_delivered ON outbox(delivered_at) WHERE delivered_at IS NOT NULL;

-- In-app notices for one user (staff or resident), newest first in the API.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    subject TEXT,
    subject_id INTEGER,
    read_at INTEGER,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX notices_user ON notices(user_id, id);
CREATE INDEX notices_unread ON notices(user_id, id) WHERE read_at IS NULL;
