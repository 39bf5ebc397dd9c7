package io.chat4all.codecs;

/** Event-bus addresses. Services are request/reply addresses with an {@code action} header. */
public final class Addresses {
  private Addresses() {}

  /** Header naming the operation of a service address. */
  public static final String ACTION_HEADER = "action";

  /** Node-level ping: any node answers with its node id (cluster smoke check). */
  public static final String NODE_PING = "chat4all.node.ping";

  public static final String AUTH = "chat4all.auth";
  public static final String CONVERSATIONS = "chat4all.conversations";
  public static final String MESSAGES = "chat4all.messages";
  public static final String FILES = "chat4all.files";
  public static final String PRESENCE = "chat4all.presence";
  public static final String WEBHOOKS = "chat4all.webhooks";

  /**
   * Local nudge to the outbox relay after a commit that wrote an outbox event (body: {@code
   * {"store":"postgres"|"mongo"}}); the relay publishes at once instead of at its next round.
   */
  public static final String OUTBOX_NUDGE = "chat4all.outbox.nudge";

  /**
   * Published cluster-wide with {@code {conversation_id}} after the members of a conversation
   * changed (committed, Redis cache dropped): every node drops its own copy of them.
   */
  public static final String MEMBERS_CHANGED = "chat4all.conversations.members.changed";

  /**
   * Published cluster-wide with {@code {jti?, family_id?, until}} after an access token or a whole
   * login was revoked in Redis: every node adds it to its own copy of the revocations.
   */
  public static final String TOKENS_REVOKED = "chat4all.auth.tokens.revoked";

  /** Per-user address prefix; a user's live events are published on {@code chat4all.user.<id>}. */
  public static final String USER_PREFIX = "chat4all.user.";

  public static String user(String userId) {
    return USER_PREFIX + userId;
  }
}
