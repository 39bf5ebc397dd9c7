package io.chat4all.channel.spi;

import java.time.Instant;
import java.util.List;

/**
 * One thing a provider told us. Each carries a {@code dedupKey}: the same provider event (a retry,
 * a replay, a concurrent duplicate delivery) always has the same key, different events different
 * keys (e.g. Telegram {@code update_id}, a WhatsApp {@code wamid} + status).
 */
public sealed interface InboundEvent {

  String dedupKey();

  /**
   * A message a contact wrote.
   *
   * @param providerMessageId the provider's message id
   * @param providerUserId the contact's id on the channel (where replies go)
   * @param providerChatId the chat it was written in (same as the user for private chats)
   * @param displayName the contact's name as the provider shows it (may be null)
   * @param username the contact's handle (may be null)
   * @param text the text or caption (may be null)
   * @param media attachments (empty for text)
   * @param replyToProviderMessageId the provider id of the message it quotes, or null
   * @param sentAt when the contact sent it
   * @param notice a human-readable notice the host shows instead of content it could not take (e.g.
   *     an attachment above the channel's download limit); null normally
   */
  record Message(
      String dedupKey,
      String providerMessageId,
      String providerUserId,
      String providerChatId,
      String displayName,
      String username,
      String text,
      List<InboundMedia> media,
      String replyToProviderMessageId,
      Instant sentAt,
      String notice)
      implements InboundEvent {
    public Message {
      media = media == null ? List.of() : List.copyOf(media);
    }
  }

  /**
   * A receipt for one message we sent.
   *
   * @param providerMessageId the provider id a send returned
   * @param status what happened
   * @param providerUserId the recipient on the channel (may be null)
   * @param errorClass for {@link Status#FAILED}: the classification; else null
   * @param providerCode for {@link Status#FAILED}: the provider's code; else null
   * @param at when
   */
  record Receipt(
      String dedupKey,
      String providerMessageId,
      Status status,
      String providerUserId,
      ErrorClass errorClass,
      String providerCode,
      Instant at)
      implements InboundEvent {}

  /**
   * "Everything sent to this contact up to {@code watermark} was delivered/read" (Messenger style).
   */
  record Watermark(String dedupKey, String providerUserId, Status status, Instant watermark)
      implements InboundEvent {}

  /**
   * The contact deleted (unsent) a message it had written (Instagram {@code is_deleted}): the host
   * turns the stored inbound message into a tombstone.
   *
   * @param providerMessageId the provider id of the deleted inbound message
   * @param providerUserId the contact who deleted it
   */
  record Deleted(String dedupKey, String providerMessageId, String providerUserId, Instant at)
      implements InboundEvent {}

  /** Our own send coming back (echo): the host ignores it. */
  record Echo(String dedupKey, String providerMessageId) implements InboundEvent {}

  /** An event the connector understood and deliberately skips (edits, joins, unsupported kinds). */
  record Ignored(String dedupKey, String reason) implements InboundEvent {}

  /** Receipt states. */
  enum Status {
    SENT,
    DELIVERED,
    READ,
    FAILED
  }
}
