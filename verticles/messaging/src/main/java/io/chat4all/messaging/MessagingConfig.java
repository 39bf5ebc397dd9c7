package io.chat4all.messaging;

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

  public static MessagingConfig from(
      JsonObject section, String topicPrefix, String bootstrap, String redisKeyPrefix) {
    return new MessagingConfig(
        section.getInteger("max_text_length", 4000),
        section.getInteger("max_metadata_bytes", 4096),
        section.getInteger("idempotency_ttl_seconds", 86400),
        section.getInteger("idempotency_lease_ms", 3000),
        section.getInteger("retention_days", 365),
        section.getString("consumer_group", "chat4all-pipeline"),
        section.getInteger("max_poll_records", 500),
        Math.max(1, section.getInteger("commit_interval_ms", 100)),
        section.getInteger("feed_max_entries", 10000),
        Math.max(1, section.getInteger("pipeline_max_attempts", 5)),
        Math.max(1L, section.getLong("pipeline_retry_backoff_ms", 100L)),
        Math.max(1L, section.getLong("pipeline_max_backoff_ms", 5000L)),
        topicPrefix == null ? "" : topicPrefix,
        bootstrap,
        redisKeyPrefix == null ? "" : redisKeyPrefix,
        section.getLong("idempotency_filter_bits", DEFAULT_FILTER_BITS));
  }

  public String topic(String name) {
    return io.chat4all.codecs.Topics.name(topicPrefix, name);
  }
}
