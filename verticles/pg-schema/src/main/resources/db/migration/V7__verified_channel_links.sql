-- Channel identities: only a verified link routes inbound messages and receives outbound ones.
--
-- A link a user creates (POST /v1/me/channels) is unverified until the user confirms a one-time
-- code the platform sent through the channel to that identity, or an operator verifies it; a
-- contact's link (created by an inbound message) is verified. Several users may claim an identity
-- while unverified; at most one holds it verified.
ALTER TABLE user_channels DROP CONSTRAINT IF EXISTS user_channels_channel_type_channel_user_id_key;
CREATE UNIQUE INDEX ux_user_channels_verified_identity
    ON user_channels (channel_type, channel_user_id) WHERE verified;
CREATE INDEX idx_user_channels_identity ON user_channels (channel_type, channel_user_id);

ALTER TABLE user_channels
    -- when this identity last wrote to us on this channel (24 h windows of WhatsApp, Messenger)
    ADD COLUMN last_inbound_at         TIMESTAMPTZ,
    ADD COLUMN verified_at             TIMESTAMPTZ,
    -- "code", "inbound" (a contact), "admin:<username>", "merge"
    ADD COLUMN verified_by             VARCHAR(300),
    -- the pending one-time code: SHA-256 hex of "<link id>:<code>", never the code itself
    ADD COLUMN verification_code_hash  VARCHAR(64),
    ADD COLUMN verification_sent_at    TIMESTAMPTZ,
    ADD COLUMN verification_expires_at TIMESTAMPTZ,
    ADD COLUMN verification_attempts   INT NOT NULL DEFAULT 0;

UPDATE user_channels SET verified_at = created_at, verified_by = 'inbound' WHERE verified;

-- a contact merged into another by an operator keeps its history under status 'merged'
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_status_check;
ALTER TABLE users ADD CONSTRAINT users_status_check
    CHECK (status IN ('active', 'suspended', 'deleted', 'merged'));
