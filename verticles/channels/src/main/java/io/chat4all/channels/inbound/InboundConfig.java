package io.chat4all.channels.inbound;

import io.chat4all.codecs.Settings;
import io.chat4all.codecs.Topics;
import io.vertx.core.json.JsonObject;

/**
 * The inbound settings: {@code channels.webhook_max_body_bytes}, {@code channels.inbound.*} and,
 * per channel, {@code channels.<channel>.inbox_username} and {@code inbound_mode}.
 *
 * @param maxBodyBytes largest webhook body accepted (413 above)
 * @param consumerGroup Kafka consumer group over {@code channel.inbound}
 * @param dedupTtlSeconds how long a processed provider event key is remembered
 * @param claimTtlSeconds how long a claim on an event being processed holds (a node that dies
 *     mid-way releases it by expiry)
 * @param maxMediaBytes largest inbound attachment stored as a platform file
 * @param mediaStallTimeoutMs how long an attachment being stored may go without a byte moving
 *     before the attempt is given up (and the event retried)
 * @param maxTextLength longest text of one platform message (longer inbound texts are split)
 */
public record InboundConfig(
    int maxBodyBytes,
    String consumerGroup,
    int dedupTtlSeconds,
    int claimTtlSeconds,
    long maxMediaBytes,
    long mediaStallTimeoutMs,
    int maxTextLength,
    JsonObject channels,
    String topicPrefix,
    String kafkaBootstrapServers,
    String redisKeyPrefix) {

  public static InboundConfig from(
      JsonObject channels,
      int maxTextLength,
      String topicPrefix,
      String bootstrap,
      String redisKeyPrefix) {
    JsonObject inbound = Settings.section(channels, "channels", "inbound");
    String in = "channels.inbound";
    return new InboundConfig(
        Settings.intWithin(
            channels, "channels", "webhook_max_body_bytes", 1_048_576, 1024, 64 << 20),
        Settings.name(inbound, in, "consumer_group", "chat4all-inbound"),
        Settings.intWithin(inbound, in, "dedup_ttl_seconds", 7 * 86_400, 60, 365 * 86_400),
        Settings.intWithin(inbound, in, "claim_ttl_seconds", 120, 10, 86_400),
        Settings.within(inbound, in, "max_media_bytes", 20L << 20, 1, 1L << 40),
        Settings.within(inbound, in, "media_stall_timeout_ms", 30_000, 100, 3_600_000),
        maxTextLength,
        channels,
        topicPrefix == null ? "" : topicPrefix,
        bootstrap,
        redisKeyPrefix == null ? "" : redisKeyPrefix);
  }

  public String topic(String name) {
    return Topics.name(topicPrefix, name);
  }

  /** {@code channels.<channel>}, empty when not configured. */
  public JsonObject channel(String channel) {
    return channels.getValue(channel) instanceof JsonObject o ? o : new JsonObject();
  }

  /** The configured inbox user of a channel (may be overridden in {@code channel_configs}). */
  public String inboxUsername(String channel) {
    String u = channel(channel).getString("inbox_username", "");
    return u == null || u.isBlank() ? null : u;
  }

  /** Sections of {@code channels} that are settings, not channels. */
  static final java.util.Set<String> NOT_CHANNELS = java.util.Set.of("delivery", "inbound");

  /** Whether {@code channel} has a block of its own in {@code channels}. */
  public boolean configured(String channel) {
    return !NOT_CHANNELS.contains(channel) && channels.getValue(channel) instanceof JsonObject;
  }

  public boolean polling(String channel) {
    return configured(channel) && "polling".equals(channel(channel).getString("inbound_mode"));
  }
}
