-- Customer webhooks (the seed's table, completed), their delivery log, and the transactional outbox.

ALTER TABLE webhooks
    ADD COLUMN description                VARCHAR(500),
    -- a global webhook (admins only) sees the events of every conversation
    ADD COLUMN is_global                  BOOLEAN NOT NULL DEFAULT false,
    -- after a rotation the previous secret still signs deliveries until it expires
    ADD COLUMN previous_secret            VARCHAR(255),
    ADD COLUMN previous_secret_expires_at TIMESTAMPTZ,
    ADD COLUMN updated_at                 TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    -- first failed attempt since the last success (null while healthy)
    ADD COLUMN failing_since              TIMESTAMPTZ,
    -- set when the platform disabled the webhook (is_active = false), with the reason
    ADD COLUMN disabled_at                TIMESTAMPTZ,
    ADD COLUMN disabled_reason            VARCHAR(500);

-- one row per (webhook, event): the same delivery id across every attempt
CREATE TABLE webhook_deliveries (
    delivery_id      UUID PRIMARY KEY,
    -- insertion order; deliveries of one ordering key are attempted in this order
    seq              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    webhook_id       UUID NOT NULL REFERENCES webhooks (webhook_id) ON DELETE CASCADE,
    event_id         VARCHAR(200) NOT NULL,
    event_type       VARCHAR(64) NOT NULL,
    -- conversation (or user, file, …) whose events keep their order per webhook
    ordering_key     VARCHAR(100) NOT NULL,
    -- the exact JSON body sent at every attempt
    body             TEXT NOT NULL,
    event_at         TIMESTAMPTZ NOT NULL,
    status           VARCHAR(16) NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INT NOT NULL DEFAULT 0,
    -- attempts made before the current round of retries (a redelivery starts a new round)
    round_start      INT NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    -- the node attempting it, until when (another node takes over after that)
    lease_until      TIMESTAMPTZ,
    leased_by        VARCHAR(100),
    last_status_code INT,
    last_error       VARCHAR(500),
    last_duration_ms INT,
    last_attempt_at  TIMESTAMPTZ,
    delivered_at     TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX idx_webhook_deliveries_heads ON webhook_deliveries (webhook_id, ordering_key, seq)
    WHERE status = 'pending';
-- attempts in flight (or left by a dead node) per webhook, for its concurrency limit
CREATE INDEX idx_webhook_deliveries_leased ON webhook_deliveries (webhook_id)
    WHERE status = 'pending' AND lease_until IS NOT NULL;
CREATE INDEX idx_webhook_deliveries_log ON webhook_deliveries (webhook_id, seq DESC);
CREATE INDEX idx_webhook_deliveries_done ON webhook_deliveries (created_at)
    WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
    delivery_id UUID NOT NULL REFERENCES webhook_deliveries (delivery_id) ON DELETE CASCADE,
    attempt     INT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    duration_ms INT NOT NULL,
    status_code INT,
    error       VARCHAR(500),
    PRIMARY KEY (delivery_id, attempt)
);

-- events written in the transaction of their change; the relay publishes them to Kafka and
-- deletes them (a crash in between publishes one twice, never loses one)
CREATE TABLE outbox (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic      VARCHAR(255) NOT NULL,
    record_key VARCHAR(255),
    payload    TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
