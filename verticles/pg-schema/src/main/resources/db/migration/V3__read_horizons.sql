-- Delivered and read horizons. A member's mark on message N means every message of the conversation
-- up to N is delivered (read) for them: the horizon moves, no earlier message document is rewritten.

ALTER TABLE conversation_members
    ADD COLUMN last_delivered_seq BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN last_delivered_at  TIMESTAMPTZ,
    ADD CONSTRAINT conversation_members_delivered_non_negative CHECK (last_delivered_seq >= 0);

-- what was read was delivered
UPDATE conversation_members
   SET last_delivered_seq = last_read_seq, last_delivered_at = last_read_at
 WHERE last_delivered_seq < last_read_seq;

-- Every move of a horizon: the messages in (previous upto_seq, upto_seq] became delivered (read) for
-- user_id at `at`. The newest step of a (member, status) is the horizon itself; the earlier ones say
-- when each older message was reached, so recipient_status is derived with its time.
CREATE TABLE horizon_steps (
    conversation_id UUID NOT NULL REFERENCES conversations (conversation_id) ON DELETE CASCADE,
    user_id         UUID NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    status          VARCHAR(10) NOT NULL CHECK (status IN ('delivered', 'read')),
    upto_seq        BIGINT NOT NULL CHECK (upto_seq > 0),
    at              TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, user_id, status, upto_seq)
);
CREATE INDEX idx_horizon_steps_at ON horizon_steps (at);

-- the horizons read so far become one step each
INSERT INTO horizon_steps (conversation_id, user_id, status, upto_seq, at)
SELECT conversation_id, user_id, s.status, last_read_seq, COALESCE(last_read_at, now())
  FROM conversation_members CROSS JOIN (VALUES ('delivered'), ('read')) AS s (status)
 WHERE last_read_seq > joined_seq;
