-- Core: settings of the deployment (key → value), e.g. whether the demo is loaded.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
