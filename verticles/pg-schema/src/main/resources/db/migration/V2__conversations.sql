-- Conversation invariants guarded by the database as well as by the conversation service.

-- at most one owner per conversation (the service keeps "at least one" while anyone is left)
CREATE UNIQUE INDEX idx_conversation_members_one_owner
    ON conversation_members (conversation_id) WHERE role = 'owner';

ALTER TABLE conversation_members
    ADD CONSTRAINT conversation_members_seq_non_negative
    CHECK (joined_seq >= 0 AND last_read_seq >= 0);
