package io.chat4all.channels.inbound;

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
    JsonObject inbound = channels.getJsonObject("inbound", new JsonObject());
    InboundConfig c =
        new InboundConfig(
            channels.getInteger("webhook_max_body_bytes", 1_048_576),
            inbound.getString("consumer_group", "chat4all-inbound"),
            inbound.getInteger("dedup_ttl_seconds", 7 * 24 * 3600),
            inbound.getInteger("claim_ttl_seconds", 120),
            inbound.getLong("max_media_bytes", 20L * 1024 * 1024),
            stallTimeoutMs(inbound.getValue("media_stall_timeout_ms")),
            maxTextLength,
            channels,
            topicPrefix == null ? "" : topicPrefix,
            bootstrap,
            redisKeyPrefix == null ? "" : redisKeyPrefix);
    if (c.maxBodyBytes < 1024) {
      throw new IllegalArgumentException("channels.webhook_max_body_bytes must be at least 1024");
    }
    if (c.dedupTtlSeconds < 60 || c.claimTtlSeconds < 10) {
      throw new IllegalArgumentException(
          "channels.inbound.dedup_ttl_seconds must be at least 60 and claim_ttl_seconds at least 10");
    }
    return c;
  }

  /** {@code channels.inbound.media_stall_timeout_ms}: 100 ms to 1 h (a number or its text). */
  static long stallTimeoutMs(Object v) {
    if (v == null) {
      return 30_000L;
    }
    long ms;
    try {
      ms =
          v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
              ? n.longValue()
              : Long.parseLong(v instanceof String t ? t.trim() : "x");
    } catch (NumberFormatException e) {
      ms = -1;
    }
    if (ms < 100 || ms > 3_600_000) {
      throw new IllegalArgumentException(
          "channels.inbound.media_stall_timeout_ms must be a whole number from 100 to 3600000, got "
              + v);
    }
    return ms;
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
