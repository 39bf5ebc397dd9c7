package io.chat4all.conversations;

/**
 * The conversation list's queries. A user's memberships are read from {@code
 * idx_conversation_members_activity} {@code (user_id, activity_at DESC, conversation_id)} in the
 * list's order and joined to their conversations by primary key, so a page costs its own rows
 * whatever the number of the user's conversations: no sort, the scan stops at the {@code LIMIT}.
 * The next page starts after the cursor {@code (activity_at, conversation_id)} of the last item;
 * the redundant {@code m.activity_at <= $2} makes that an index condition.
 */
public final class ConversationList {
  private ConversationList() {}

  static final String COLUMNS =
      "c.conversation_id, c.type, c.name, c.created_by, c.created_at, c.updated_at,"
          + " c.last_message_id, c.last_message_at, c.last_message_snippet, c.last_seq,"
          + " GREATEST(c.last_seq - GREATEST(m.last_read_seq, m.joined_seq), 0) AS unread_count,"
          + " m.activity_at";

  private static final String FROM =
      " FROM conversation_members m"
          + " JOIN conversations c ON c.conversation_id = m.conversation_id"
          + " WHERE m.user_id = $1 AND c.is_active";

  private static final String ORDER = " ORDER BY m.activity_at DESC, m.conversation_id";

  /** The first page: $1 user, $2 limit. */
  public static final String FIRST_PAGE = "SELECT " + COLUMNS + FROM + ORDER + " LIMIT $2";

  /** A later page: $1 user, $2 and $3 the cursor's activity time and conversation, $4 limit. */
  public static final String NEXT_PAGE =
      "SELECT "
          + COLUMNS
          + FROM
          + " AND m.activity_at <= $2"
          + " AND (m.activity_at < $2 OR m.conversation_id > $3)"
          + ORDER
          + " LIMIT $4";
}
