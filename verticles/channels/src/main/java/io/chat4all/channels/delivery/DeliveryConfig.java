package io.chat4all.channels.delivery;

import io.chat4all.codecs.Settings;
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
    JsonObject d = Settings.section(channels, "channels", "delivery");
    String p = "channels.delivery";
    Set<String> disabled = new HashSet<>();
    for (String key : channels.fieldNames()) {
      if (channels.getValue(key) instanceof JsonObject section
          && Boolean.FALSE.equals(section.getValue("enabled"))) {
        disabled.add(key);
      }
    }
    long hour = 3_600_000L;
    DeliveryConfig c =
        new DeliveryConfig(
            Settings.name(d, p, "consumer_group", "chat4all-delivery"),
            Settings.intWithin(d, p, "max_attempts", 8, 1, 1_000),
            Settings.within(d, p, "backoff_base_ms", 500, 1, hour),
            Settings.within(d, p, "backoff_max_ms", 60_000, 1, 24 * hour),
            Settings.within(d, p, "send_timeout_ms", 60_000, 1, hour),
            Settings.intWithin(d, p, "max_in_flight", 32, 1, 10_000),
            Settings.intWithin(d, p, "max_buffered_per_partition", 500, 1, 1_000_000),
            Settings.within(d, p, "commit_interval_ms", 200, 1, 60_000),
            Settings.within(d, p, "lease_ms", 120_000, 1, 24 * hour),
            // a presigned S3 link lives at most seven days
            Settings.intWithin(d, p, "media_link_ttl_seconds", 3600, 60, 7 * 86_400),
            Settings.intWithin(d, p, "breaker_max_failures", 5, 1, 1_000_000),
            Settings.within(d, p, "breaker_reset_timeout_ms", 10_000, 1, 24 * hour),
            disabled,
            topicPrefix,
            bootstrap,
            redisKeyPrefix);
    if (c.backoffMaxMs < c.backoffBaseMs) {
      throw new IllegalArgumentException(
          "channels.delivery.backoff_max_ms must not be below channels.delivery.backoff_base_ms");
    }
    if (c.leaseMs <= c.sendTimeoutMs) {
      throw new IllegalArgumentException(
          "channels.delivery.lease_ms must be longer than channels.delivery.send_timeout_ms");
    }
    return c;
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
