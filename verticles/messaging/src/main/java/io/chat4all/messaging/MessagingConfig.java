package io.chat4all.messaging;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonObject;

/** The {@code messaging} section of the node configuration plus the Kafka facts it needs. */
public record MessagingConfig(
    int maxTextLength,
    int maxMetadataBytes,
    int idempotencyTtlSeconds,
    int idempotencyLeaseMs,
    int retentionDays,
    String consumerGroup,
    int maxPollRecords,
    int commitIntervalMs,
    int feedMaxEntries,
    int pipelineMaxAttempts,
    long pipelineRetryBackoffMs,
    long pipelineMaxBackoffMs,
    String topicPrefix,
    String kafkaBootstrapServers,
    String redisKeyPrefix,
    long idempotencyFilterBits) {

  /** Bits per bucket of the seen filter of message ids ({@link SeenFilter}): 2 MiB. */
  public static final long DEFAULT_FILTER_BITS = 1L << 24;

  /**
   * From the {@code messaging} section: each whole number within its range, {@code consumer_group}
   * a name (at most 255 characters, no control characters), {@code idempotency_filter_bits} 0 (no
   * filter) or 8192 (1 KiB per bucket) to 2^32 (512 MiB, the most a Redis string holds); otherwise
   * an {@link IllegalArgumentException} whose message starts with the dotted key.
   */
  public static MessagingConfig from(
      JsonObject section, String topicPrefix, String bootstrap, String redisKeyPrefix) {
    String p = "messaging";
    long backoff = Settings.within(section, p, "pipeline_retry_backoff_ms", 100, 1, 3_600_000);
    long maxBackoff = Settings.within(section, p, "pipeline_max_backoff_ms", 5_000, 1, 3_600_000);
    if (maxBackoff < backoff) {
      throw new IllegalArgumentException(
          "messaging.pipeline_max_backoff_ms must be at least messaging.pipeline_retry_backoff_ms ("
              + backoff
              + ")");
    }
    return new MessagingConfig(
        Settings.intWithin(section, p, "max_text_length", 4000, 1, 1_000_000),
        Settings.intWithin(section, p, "max_metadata_bytes", 4096, 2, 1_048_576),
        Settings.intWithin(section, p, "idempotency_ttl_seconds", 86_400, 60, 30 * 86_400),
        Settings.intWithin(section, p, "idempotency_lease_ms", 3000, 100, 5_000),
        Settings.intWithin(section, p, "retention_days", 365, 0, 36_500),
        Settings.name(section, p, "consumer_group", "chat4all-pipeline"),
        Settings.intWithin(section, p, "max_poll_records", 500, 1, 10_000),
        Settings.intWithin(section, p, "commit_interval_ms", 100, 1, 60_000),
        Settings.intWithin(section, p, "feed_max_entries", 10_000, 1, 10_000_000),
        Settings.intWithin(section, p, "pipeline_max_attempts", 5, 1, 1_000),
        backoff,
        maxBackoff,
        topicPrefix == null ? "" : topicPrefix,
        bootstrap,
        redisKeyPrefix == null ? "" : redisKeyPrefix,
        Settings.offOrWithin(
            section, p, "idempotency_filter_bits", DEFAULT_FILTER_BITS, 8192, 1L << 32));
  }

  public String topic(String name) {
    return io.chat4all.codecs.Topics.name(topicPrefix, name);
  }
}
