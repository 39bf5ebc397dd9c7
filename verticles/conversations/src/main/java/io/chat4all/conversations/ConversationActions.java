package io.chat4all.conversations;

import java.util.Set;

/**
 * Actions of the conversation service address {@code chat4all.conversations} (header {@code
 * action}). Requests and replies are JSON; {@code user_id} is always the authenticated caller.
 *
 * <ul>
 *   <li>{@link #CREATE} {@code {user_id, type, name?, member_ids}} → {@code {created,
 *       conversation}}
 *   <li>{@link #LIST} {@code {user_id, limit, cursor?}} → {@code {items, next_cursor}}
 *   <li>{@link #GET} {@code {user_id, conversation_id}} → conversation
 *   <li>{@link #ADD_MEMBERS} {@code {user_id, conversation_id, member_ids}} → conversation
 *   <li>{@link #REMOVE_MEMBER} {@code {user_id, conversation_id, member_id}} → {@code {}}
 *   <li>{@link #SET_ROLE} {@code {user_id, conversation_id, member_id, role}} → conversation
 *   <li>{@link #LEAVE} {@code {user_id, conversation_id}} → {@code {}}
 *   <li>{@link #MEMBERSHIP} {@code {conversation_id, user_id}} → {@code {member, role, joined_seq}}
 *       (served from the Redis membership cache; for the message path)
 * </ul>
 */
public final class ConversationActions {
  private ConversationActions() {}

  public static final String CREATE = "create";
  public static final String LIST = "list";
  public static final String GET = "get";
  public static final String ADD_MEMBERS = "add_members";
  public static final String REMOVE_MEMBER = "remove_member";
  public static final String SET_ROLE = "set_role";
  public static final String LEAVE = "leave";
  public static final String MEMBERSHIP = "membership";

  public static final String TYPE_PRIVATE = "private";
  public static final String TYPE_GROUP = "group";
  public static final Set<String> TYPES = Set.of(TYPE_PRIVATE, TYPE_GROUP);

  public static final String ROLE_OWNER = "owner";
  public static final String ROLE_ADMIN = "admin";
  public static final String ROLE_MEMBER = "member";
  public static final Set<String> ROLES = Set.of(ROLE_OWNER, ROLE_ADMIN, ROLE_MEMBER);

  /** Values of {@code event} in {@code conversation.created} / {@code members_changed} records. */
  public static final String EVENT_CREATED = "conversation_created";

  public static final String EVENT_MEMBERS_ADDED = "members_added";
  public static final String EVENT_MEMBER_REMOVED = "member_removed";
  public static final String EVENT_MEMBER_LEFT = "member_left";
  public static final String EVENT_ROLE_CHANGED = "role_changed";
}
