package io.chat4all.channels.delivery;

import io.chat4all.codecs.Topics;
import io.vertx.core.json.JsonObject;
import java.util.HashSet;
import java.util.Set;

/**
 * The {@code channels.delivery} settings plus the facts delivery needs from the rest of the node.
 *
 * @param consumerGroup Kafka consumer group over {@code message.outbound.<channel>}
 * @param maxAttempts provider calls per message and recipient before it is dead-lettered
 * @param backoffBaseMs first retry delay (doubled per attempt, with jitter)
 * @param backoffMaxMs longest retry delay
 * @param sendTimeoutMs how long one provider call may take before it counts as failed
 * @param maxInFlight concurrent provider calls per channel on this node
 * @param maxBufferedPerPartition records read ahead per partition before it is paused
 * @param commitIntervalMs how often finished offsets are committed
 * @param leaseMs how long a send claims a (message, recipient, channel) against other nodes
 * @param mediaLinkTtlSeconds lifetime of a presigned link handed to a provider
 * @param breakerMaxFailures consecutive provider failures that open a channel's breaker
 * @param breakerResetMs how long an open breaker waits before letting one probe through
 * @param disabled channels whose {@code channels.<channel>.enabled} is false: their records fail
 *     with {@code channel_not_configured}
 */
public record DeliveryConfig(
    String consumerGroup,
    int maxAttempts,
    long backoffBaseMs,
    long backoffMaxMs,
    long sendTimeoutMs,
    int maxInFlight,
    int maxBufferedPerPartition,
    long commitIntervalMs,
    long leaseMs,
    int mediaLinkTtlSeconds,
    int breakerMaxFailures,
    long breakerResetMs,
    Set<String> disabled,
    String topicPrefix,
    String kafkaBootstrapServers,
    String redisKeyPrefix) {

  public DeliveryConfig {
    disabled = Set.copyOf(disabled);
    topicPrefix = topicPrefix == null ? "" : topicPrefix;
    redisKeyPrefix = redisKeyPrefix == null ? "" : redisKeyPrefix;
  }

  /** From the {@code channels} section of the node configuration. */
  public static DeliveryConfig from(
      JsonObject channels, String topicPrefix, String bootstrap, String redisKeyPrefix) {
    JsonObject d = channels.getJsonObject("delivery", new JsonObject());
    Set<String> disabled = new HashSet<>();
    for (String key : channels.fieldNames()) {
      if (channels.getValue(key) instanceof JsonObject section
          && Boolean.FALSE.equals(section.getValue("enabled"))) {
        disabled.add(key);
      }
    }
    DeliveryConfig c =
        new DeliveryConfig(
            d.getString("consumer_group", "chat4all-delivery"),
            d.getInteger("max_attempts", 8),
            d.getLong("backoff_base_ms", 500L),
            d.getLong("backoff_max_ms", 60_000L),
            d.getLong("send_timeout_ms", 60_000L),
            d.getInteger("max_in_flight", 32),
            d.getInteger("max_buffered_per_partition", 500),
            d.getLong("commit_interval_ms", 200L),
            d.getLong("lease_ms", 120_000L),
            d.getInteger("media_link_ttl_seconds", 3600),
            d.getInteger("breaker_max_failures", 5),
            d.getLong("breaker_reset_timeout_ms", 10_000L),
            disabled,
            topicPrefix,
            bootstrap,
            redisKeyPrefix);
    c.check();
    return c;
  }

  /** Fails with the key and the reason when a value cannot work. */
  private void check() {
    positive("channels.delivery.max_attempts", maxAttempts);
    positive("channels.delivery.backoff_base_ms", backoffBaseMs);
    positive("channels.delivery.send_timeout_ms", sendTimeoutMs);
    positive("channels.delivery.max_in_flight", maxInFlight);
    positive("channels.delivery.max_buffered_per_partition", maxBufferedPerPartition);
    positive("channels.delivery.commit_interval_ms", commitIntervalMs);
    positive("channels.delivery.breaker_max_failures", breakerMaxFailures);
    positive("channels.delivery.breaker_reset_timeout_ms", breakerResetMs);
    if (backoffMaxMs < backoffBaseMs) {
      throw new IllegalArgumentException(
          "channels.delivery.backoff_max_ms must not be below channels.delivery.backoff_base_ms");
    }
    if (leaseMs <= sendTimeoutMs) {
      throw new IllegalArgumentException(
          "channels.delivery.lease_ms must be longer than channels.delivery.send_timeout_ms");
    }
    if (mediaLinkTtlSeconds < 60) {
      throw new IllegalArgumentException(
          "channels.delivery.media_link_ttl_seconds must be at least 60");
    }
  }

  private static void positive(String key, long v) {
    if (v <= 0) {
      throw new IllegalArgumentException(key + " must be positive");
    }
  }

  public String topic(String name) {
    return Topics.name(topicPrefix, name);
  }

  /** The channel of a physical outbound topic name, or null when it is not one. */
  public String channelOf(String topic) {
    String head = topic(Topics.outbound(""));
    if (!topic.startsWith(head) || topic.endsWith(".dlq")) {
      return null;
    }
    return topic.substring(head.length());
  }
}
