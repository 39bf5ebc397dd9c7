package io.chat4all.codecs;

import java.util.List;

/** Kafka topic names (from the seed) and the configurable prefix applied to them. */
public final class Topics {
  private Topics() {}

  public static final String MESSAGE_SENT = "message.sent";
  public static final String MESSAGE_DELIVERED = "message.delivered";
  public static final String MESSAGE_READ = "message.read";
  public static final String MESSAGE_UPDATED = "message.updated";
  public static final String FILE_UPLOADED = "file.uploaded";
  public static final String USER_PRESENCE = "user.presence";
  public static final String CONVERSATION_CREATED = "conversation.created";
  public static final String CONVERSATION_MEMBERS_CHANGED = "conversation.members_changed";

  /**
   * What the pipeline applied, keyed by conversation: {@code {type:"message"|"message_updated",
   * message}} or {@code {type:"status", …}} (the live envelope without its cursor). Consumed by the
   * webhooks dispatcher.
   */
  public static final String MESSAGE_STORED = "message.stored";

  /**
   * Pipeline records that could not be applied after {@code messaging.pipeline_max_attempts} tries
   * (the raw record with the reason); a send among them is stored as a {@code failed} message.
   */
  public static final String PIPELINE_DEAD_LETTER = "message.deadletter.pipeline";

  /** Channels a message can be delivered to outside the platform (one outbound topic each). */
  public static final List<String> CHANNELS =
      List.of("whatsapp", "instagram", "telegram", "messenger");

  /** Outbound records for a channel's connector: {@code message.outbound.<channel>}. */
  public static String outbound(String channel) {
    return "message.outbound." + channel;
  }

  /**
   * Records delivery gave up on (a permanent provider error, or the last retry): {@code
   * message.outbound.<channel>.dlq}.
   */
  public static String deadLetter(String channel) {
    return outbound(channel) + ".dlq";
  }

  /**
   * Inbound channel events made durable by the webhook edge or a poller before they are processed
   * (key: channel and the provider's user, so one contact's events keep their order).
   */
  public static final String CHANNEL_INBOUND = "channel.inbound";

  /** Every topic the platform creates at start. */
  public static final List<String> ALL =
      List.of(
          MESSAGE_SENT,
          MESSAGE_DELIVERED,
          MESSAGE_READ,
          MESSAGE_UPDATED,
          FILE_UPLOADED,
          USER_PRESENCE,
          CONVERSATION_CREATED,
          CONVERSATION_MEMBERS_CHANGED,
          CHANNEL_INBOUND,
          MESSAGE_STORED,
          PIPELINE_DEAD_LETTER,
          outbound("whatsapp"),
          outbound("instagram"),
          outbound("telegram"),
          outbound("messenger"),
          deadLetter("whatsapp"),
          deadLetter("instagram"),
          deadLetter("telegram"),
          deadLetter("messenger"));

  /** The physical name of {@code topic} under {@code prefix} (empty prefix: the name itself). */
  public static String name(String prefix, String topic) {
    return prefix == null || prefix.isEmpty() ? topic : prefix + topic;
  }
}
