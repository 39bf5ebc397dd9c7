-- The conversation list orders a user's conversations by activity (the last message's time, or the
-- creation time before any message). That time lives on the conversation row, so listing had to read
-- and sort every membership of the user for each page. A copy of it next to each member lets the list
-- read the user's memberships in order from an index and stop after one page. The pipeline moves it
-- for every member in the statement that moves conversations.last_message_at; a new member gets the
-- conversation's current activity.

ALTER TABLE conversation_members ADD COLUMN activity_at TIMESTAMPTZ;

UPDATE conversation_members m
   SET activity_at = COALESCE(c.last_message_at, c.created_at)
  FROM conversations c
 WHERE c.conversation_id = m.conversation_id;

-- a row written without it (the services always name it) counts as active now
ALTER TABLE conversation_members
    ALTER COLUMN activity_at SET DEFAULT NOW(),
    ALTER COLUMN activity_at SET NOT NULL;

-- the list's order: newest activity first, the conversation id breaking ties (the cursor's order)
CREATE INDEX idx_conversation_members_activity
    ON conversation_members (user_id, activity_at DESC, conversation_id);

-- every lookup by user_id alone is served by the index above (its first column)
DROP INDEX idx_conversation_members_user;
