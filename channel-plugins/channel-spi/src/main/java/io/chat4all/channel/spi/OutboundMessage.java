package io.chat4all.channel.spi;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * One message for one recipient on one channel.
 *
 * @param messageId the platform's message id (stable across redeliveries: an idempotency key where
 *     the provider takes one)
 * @param conversationId conversation id
 * @param senderUserId who wrote it
 * @param senderName the sender's display name (for channels that show it in text)
 * @param recipientUserId the platform user it goes to
 * @param recipientChannelId the recipient's id on the channel (Telegram chat id, WhatsApp wa_id,
 *     PSID, IGSID)
 * @param text the text, or the caption of a medium (may be null for a medium)
 * @param media the file of a media message, null for text
 * @param replyToProviderMessageId the provider's id of the message this one replies to, null when
 *     not a reply or when the quoted message never crossed this channel
 * @param metadata the payload's metadata (provider pass-through such as {@code template}, {@code
 *     tag})
 * @param lastInboundAt when this contact last wrote to us on this channel (for window policies);
 *     null when never
 * @param attempt 1 for the first try, then 2, 3, ...
 */
public record OutboundMessage(
    String messageId,
    String conversationId,
    String senderUserId,
    String senderName,
    String recipientUserId,
    String recipientChannelId,
    String text,
    OutboundMedia media,
    String replyToProviderMessageId,
    JsonObject metadata,
    Instant lastInboundAt,
    int attempt) {

  public OutboundMessage {
    metadata = metadata == null ? new JsonObject() : metadata;
  }
}
