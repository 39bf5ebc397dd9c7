package io.chat4all.channels.delivery;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;

/**
 * What a send needs to know of its recipient's link at the time of the call (not when the message
 * was written: a record may wait in Kafka): whether the link is still there, verified and for the
 * same channel id, when the identity last wrote to us on the channel, and the sender's display
 * name.
 */
final class RecipientLinks {
  private final Pool pg;

  RecipientLinks(Pool pg) {
    this.pg = pg;
  }

  /**
   * The recipient's link on a channel at send time.
   *
   * @param verified whether a verified link of the recipient names the record's channel id
   * @param lastInboundAt when that identity last wrote to us on the channel, or null
   * @param senderName the sender's display name (a contact's provider name, else the username)
   */
  record Link(boolean verified, Instant lastInboundAt, String senderName) {}

  Future<Link> lookup(String channel, String recipient, String channelUserId, String sender) {
    UUID recipientId;
    UUID senderId;
    try {
      recipientId = UUID.fromString(recipient);
      senderId = sender == null ? null : UUID.fromString(sender);
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(new Link(false, null, null));
    }
    return pg.preparedQuery(
            "SELECT (SELECT COALESCE(NULLIF(u.metadata->>'display_name', ''), u.username)"
                + "   FROM users u WHERE u.user_id = $4) AS sender_name,"
                + " c.verified, c.last_inbound_at"
                + " FROM (SELECT 1) one"
                + " LEFT JOIN user_channels c ON c.user_id = $1 AND c.channel_type = $2"
                + "  AND c.channel_user_id = $3")
        .execute(Tuple.of(recipientId, channel, channelUserId, senderId))
        .map(
            rows -> {
              Row row = rows.iterator().next();
              OffsetDateTime last = row.getOffsetDateTime("last_inbound_at");
              return new Link(
                  Boolean.TRUE.equals(row.getBoolean("verified")),
                  last == null ? null : last.toInstant(),
                  row.getString("sender_name"));
            });
  }
}
