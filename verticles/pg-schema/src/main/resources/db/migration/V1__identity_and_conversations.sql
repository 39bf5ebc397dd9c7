-- Seed section 2.1 made valid PostgreSQL: inline INDEX clauses become CREATE INDEX, TIMESTAMP
-- becomes TIMESTAMPTZ, plus what the product needs beyond the seed (refresh tokens, group names,
-- sequence counters, read horizons, the private-pair key).

CREATE TABLE users (
    user_id       UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    username      VARCHAR(255) NOT NULL,
    email         VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    status        VARCHAR(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
    metadata      JSONB NOT NULL DEFAULT '{}'::jsonb
);
-- usernames and emails are unique case-insensitively
CREATE UNIQUE INDEX idx_users_username ON users (lower(username));
CREATE UNIQUE INDEX idx_users_email ON users (lower(email));

CREATE TABLE user_channels (
    id               UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id          UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    channel_type     VARCHAR(50) NOT NULL CHECK (channel_type IN ('whatsapp', 'instagram', 'telegram', 'messenger', 'internal')),
    channel_user_id  VARCHAR(255) NOT NULL,
    channel_metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
    verified         BOOLEAN NOT NULL DEFAULT false,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (user_id, channel_type),
    UNIQUE (channel_type, channel_user_id)
);
CREATE INDEX idx_user_channels_user ON user_channels (user_id);
CREATE INDEX idx_user_channels_type ON user_channels (channel_type);

CREATE TABLE conversations (
    conversation_id      UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    type                 VARCHAR(20) NOT NULL CHECK (type IN ('private', 'group')),
    name                 VARCHAR(255),
    created_by           UUID NOT NULL REFERENCES users (user_id),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    -- denormalised for the conversation list
    last_message_id      UUID,
    last_message_at      TIMESTAMPTZ,
    last_message_snippet TEXT,
    -- the newest sequence number assigned in this conversation (0 = no message yet)
    last_seq             BIGINT NOT NULL DEFAULT 0,
    metadata             JSONB NOT NULL DEFAULT '{}'::jsonb,
    is_active            BOOLEAN NOT NULL DEFAULT true,
    -- "<smaller user id>:<larger user id>" for private conversations: one per pair
    private_key          VARCHAR(80) UNIQUE,
    CHECK ((type = 'private') = (private_key IS NOT NULL)),
    CHECK (type = 'private' OR name IS NOT NULL)
);
CREATE INDEX idx_conversations_created_by ON conversations (created_by);
CREATE INDEX idx_conversations_updated_at ON conversations (updated_at DESC);

CREATE TABLE conversation_members (
    id                   UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    conversation_id      UUID NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    user_id              UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    role                 VARCHAR(20) NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
    joined_at            TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    -- last_seq of the conversation when the member joined: history is visible after it
    joined_seq           BIGINT NOT NULL DEFAULT 0,
    last_read_at         TIMESTAMPTZ,
    last_read_message_id UUID,
    -- read horizon: every message with sequence_number <= last_read_seq is read
    last_read_seq        BIGINT NOT NULL DEFAULT 0,
    UNIQUE (conversation_id, user_id)
);
CREATE INDEX idx_conversation_members_conv ON conversation_members (conversation_id);
CREATE INDEX idx_conversation_members_user ON conversation_members (user_id);

CREATE TABLE webhooks (
    webhook_id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    url        VARCHAR(2048) NOT NULL,
    events     TEXT[] NOT NULL,
    secret     VARCHAR(255) NOT NULL,
    is_active  BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_webhooks_user ON webhooks (user_id);
CREATE INDEX idx_webhooks_active ON webhooks (is_active);

-- issued access tokens (by hash of their jti), so they can be listed and revoked
CREATE TABLE access_tokens (
    token_id     UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    token_hash   VARCHAR(255) NOT NULL UNIQUE,
    expires_at   TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX idx_access_tokens_user ON access_tokens (user_id);
CREATE INDEX idx_access_tokens_expires ON access_tokens (expires_at);

-- refresh tokens rotate on use; a family is every token descended from one login, and reuse of a
-- rotated token revokes the whole family
CREATE TABLE refresh_tokens (
    token_id    UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    family_id   UUID NOT NULL,
    token_hash  VARCHAR(255) NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    used_at     TIMESTAMPTZ,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX idx_refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE channel_configs (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    channel_type VARCHAR(50) NOT NULL UNIQUE,
    config       JSONB NOT NULL,
    is_enabled   BOOLEAN NOT NULL DEFAULT true,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
