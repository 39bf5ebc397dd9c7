-- Runtime feature flags and global limits, shared by every node of the cluster and changed through
-- the admin API (/v1/admin/config) without a restart. A name without a row uses the default from
-- the node configuration (config/default.yaml).

-- The value in force per setting, with its version (optimistic concurrency: a write names the
-- version it read; the first override is version 1, a name without a row is at version 0). A NULL
-- value is a setting reset to its default (the row keeps its version counting).
CREATE TABLE runtime_settings (
    kind        TEXT NOT NULL CHECK (kind IN ('flag', 'limit')),
    name        TEXT NOT NULL CHECK (name ~ '^[a-z][a-z0-9_.-]{0,63}$'),
    value       JSONB,
    version     BIGINT NOT NULL CHECK (version > 0),
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (kind, name)
);

-- Every change: who, when, the value before (NULL: the default) and after (NULL: back to the default).
CREATE TABLE runtime_settings_audit (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    old_value    JSONB,
    new_value    JSONB,
    old_version  BIGINT NOT NULL,
    new_version  BIGINT NOT NULL,
    changed_by   TEXT NOT NULL,
    changed_at   TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX runtime_settings_audit_name ON runtime_settings_audit (kind, name, id);

-- Administrators stored in the database (beside the admin.usernames of the configuration): the first
-- one is created with ./chat4all admin create-admin, which talks to PostgreSQL directly.
CREATE TABLE admin_users (
    username    TEXT PRIMARY KEY,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
