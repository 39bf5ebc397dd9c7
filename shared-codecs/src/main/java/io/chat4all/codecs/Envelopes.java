package io.chat4all.codecs;

/**
 * The live-event envelope published on a user's address {@code chat4all.user.<id>} and returned by
 * the sync feed: {@code {type, cursor, …}}. {@code cursor} is the user's change-feed position after
 * this event, so a client that reconnects resumes from the last one it saw.
 */
public final class Envelopes {
  private Envelopes() {}

  public static final String TYPE = "type";
  public static final String CURSOR = "cursor";

  /** A new message: {@code {type:"message", message:{…}}}. */
  public static final String MESSAGE = "message";

  /** An edit or delete: {@code {type:"message_updated", message:{…}}}. */
  public static final String MESSAGE_UPDATED = "message_updated";

  /**
   * A status change of a message: {@code {type:"status", message_id, conversation_id,
   * sequence_number, user_id, status, at, message_status}}.
   */
  public static final String STATUS = "status";

  /** Someone typing: {@code {type:"typing", conversation_id, user_id, at}} (ephemeral). */
  public static final String TYPING = "typing";

  /** Presence: {@code {type:"presence", user_id, status, last_seen}} (ephemeral). */
  public static final String PRESENCE = "presence";
}
