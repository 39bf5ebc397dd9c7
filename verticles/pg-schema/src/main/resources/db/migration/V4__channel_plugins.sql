-- Channel connector plugins: the cluster's desired state, written by the admin API
-- (/v1/admin/plugins) and followed by the plugin host of every node.

-- One row per uploaded connector jar (the bytes are in S3 under s3_key, named by their SHA-256).
CREATE TABLE channel_plugin_versions (
    sha256       TEXT PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    channel      TEXT NOT NULL,
    version      TEXT NOT NULL,
    name         TEXT NOT NULL,
    spi_version  TEXT NOT NULL,
    main_class   TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL CHECK (size_bytes > 0),
    s3_key       TEXT NOT NULL,
    uploaded_by  TEXT NOT NULL,
    uploaded_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (channel, version)
);

-- One row per channel the cluster has a wish for: the jar every node should run (NULL: none named,
-- a node may run a jar from its own plugins folder), the one before it (for roll back), and whether
-- the channel is enabled.
CREATE TABLE channel_plugins (
    channel          TEXT PRIMARY KEY,
    active_sha256    TEXT REFERENCES channel_plugin_versions (sha256),
    previous_sha256  TEXT REFERENCES channel_plugin_versions (sha256),
    enabled          BOOLEAN NOT NULL DEFAULT TRUE,
    revision         BIGINT NOT NULL DEFAULT 1,
    updated_by       TEXT NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
