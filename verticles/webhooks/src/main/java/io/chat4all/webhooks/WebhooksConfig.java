package io.chat4all.webhooks;

import io.chat4all.codecs.Settings;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code webhooks} section of the node configuration (every key optional), the {@code
 * admin.usernames} and the Kafka facts the dispatcher needs.
 *
 * @param allowHttp accept {@code http://} URLs (otherwise https only)
 * @param allowPrivateAddresses accept loopback, private and link-local targets (metadata addresses
 *     stay refused)
 * @param retryScheduleMs the waits before retry 1, 2, …; after the last retry the delivery is dead
 */
public record WebhooksConfig(
    boolean allowHttp,
    boolean allowPrivateAddresses,
    int maxPerUser,
    String consumerGroup,
    int maxPollRecords,
    long timeoutMs,
    long connectTimeoutMs,
    List<Long> retryScheduleMs,
    int retryJitterPercent,
    int maxRetryAfterSeconds,
    long disableAfterFailingSeconds,
    int maxConcurrencyPerWebhook,
    int maxInFlight,
    long pollIntervalMs,
    long secretRotationOverlapSeconds,
    int logRetentionDays,
    long outboxIntervalMs,
    int outboxBatchSize,
    Set<String> adminUsernames,
    String topicPrefix,
    String kafkaBootstrapServers) {

  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)?");

  /** Longest overlap a rotation may ask for. */
  public static final long MAX_OVERLAP_SECONDS = 7L * 24 * 3600;

  /** Default schedule: 9 attempts over about 23 hours. */
  public static final List<String> DEFAULT_SCHEDULE =
      List.of("30s", "2m", "10m", "30m", "1h", "3h", "6h", "12h");

  public static WebhooksConfig from(
      JsonObject section,
      JsonObject outbox,
      JsonObject admin,
      String topicPrefix,
      String kafkaBootstrapServers) {
    JsonObject s = section == null ? new JsonObject() : section;
    JsonObject o = outbox == null ? new JsonObject() : outbox;
    JsonObject a = admin == null ? new JsonObject() : admin;
    List<Long> schedule = new ArrayList<>();
    for (String item : Settings.texts(s, "webhooks", "retry_schedule", DEFAULT_SCHEDULE)) {
      schedule.add(durationMs(item));
    }
    Set<String> admins = new LinkedHashSet<>();
    for (String u : Settings.texts(a, "admin", "usernames", List.of())) {
      String name = u.toLowerCase(Locale.ROOT);
      if (!name.isEmpty()) {
        admins.add(name);
      }
    }
    return new WebhooksConfig(
        Settings.flag(s, "webhooks", "allow_http", false),
        Settings.flag(s, "webhooks", "allow_private_addresses", false),
        Settings.intOf(s, "webhooks", "max_per_user", 20),
        Settings.name(s, "webhooks", "consumer_group", "chat4all-webhooks"),
        Settings.intOf(s, "webhooks", "max_poll_records", 500),
        Settings.longOf(s, "webhooks", "timeout_ms", 10_000L),
        Settings.longOf(s, "webhooks", "connect_timeout_ms", 5_000L),
        List.copyOf(schedule),
        Settings.intOf(s, "webhooks", "retry_jitter_percent", 20),
        Settings.intOf(s, "webhooks", "max_retry_after_seconds", 3600),
        Settings.longOf(s, "webhooks", "disable_after_failing_seconds", 259_200L),
        Settings.intOf(s, "webhooks", "max_concurrency_per_webhook", 4),
        Settings.intOf(s, "webhooks", "max_in_flight", 256),
        Settings.longOf(s, "webhooks", "poll_interval_ms", 1000L),
        Settings.longOf(s, "webhooks", "secret_rotation_overlap_seconds", 86_400L),
        Settings.intOf(s, "webhooks", "log_retention_days", 30),
        Settings.longOf(o, "outbox", "interval_ms", 1000L),
        Settings.intOf(o, "outbox", "batch_size", 500),
        Set.copyOf(admins),
        topicPrefix == null ? "" : topicPrefix,
        kafkaBootstrapServers);
  }

  /**
   * A duration such as {@code 200ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d} (a bare
   * number is seconds); -1 when it is not one.
   */
  static long durationMs(String raw) {
    Matcher m = DURATION.matcher(raw.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      return -1;
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1;
    }
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> n;
      case "s" -> n * 1000;
      case "m" -> n * 60_000;
      case "h" -> n * 3_600_000;
      default -> n * 86_400_000;
    };
  }

  /** Attempts a delivery gets in one round: the first plus one per scheduled retry. */
  public int maxAttempts() {
    return retryScheduleMs.size() + 1;
  }

  /** How long a node may hold a delivery it is attempting before another node takes it over. */
  public long leaseMs() {
    return timeoutMs + 10_000;
  }

  public String topic(String name) {
    return topicPrefix.isEmpty() ? name : topicPrefix + name;
  }

  /** The problem with these settings (key and what is wrong), or null. */
  public String[] problem() {
    for (int i = 0; i < retryScheduleMs.size(); i++) {
      long d = retryScheduleMs.get(i);
      if (d < 0) {
        return new String[] {
          "webhooks.retry_schedule",
          "entry " + (i + 1) + " is not a duration like 200ms, 30s, 5m, 2h or 1d"
        };
      }
      if (d > 7L * 86_400_000) {
        return new String[] {"webhooks.retry_schedule", "waits must be at most 7 days"};
      }
    }
    if (retryScheduleMs.size() > 30) {
      return new String[] {"webhooks.retry_schedule", "holds at most 30 retries"};
    }
    if (maxPerUser < 1) {
      return new String[] {"webhooks.max_per_user", "must be positive"};
    }
    if (consumerGroup == null || consumerGroup.isBlank()) {
      return new String[] {"webhooks.consumer_group", "must not be empty"};
    }
    if (maxPollRecords < 1 || maxPollRecords > 10_000) {
      return new String[] {"webhooks.max_poll_records", "must be from 1 to 10000"};
    }
    if (timeoutMs < 100 || timeoutMs > 120_000) {
      return new String[] {"webhooks.timeout_ms", "must be from 100 to 120000"};
    }
    if (connectTimeoutMs < 100 || connectTimeoutMs > timeoutMs) {
      return new String[] {
        "webhooks.connect_timeout_ms", "must be from 100 to webhooks.timeout_ms"
      };
    }
    if (retryJitterPercent < 0 || retryJitterPercent > 100) {
      return new String[] {"webhooks.retry_jitter_percent", "must be from 0 to 100"};
    }
    if (maxRetryAfterSeconds < 0) {
      return new String[] {"webhooks.max_retry_after_seconds", "must not be negative"};
    }
    if (disableAfterFailingSeconds < 1) {
      return new String[] {"webhooks.disable_after_failing_seconds", "must be positive"};
    }
    if (maxConcurrencyPerWebhook < 1 || maxConcurrencyPerWebhook > 1000) {
      return new String[] {"webhooks.max_concurrency_per_webhook", "must be from 1 to 1000"};
    }
    if (maxInFlight < 1 || maxInFlight > 100_000) {
      return new String[] {"webhooks.max_in_flight", "must be from 1 to 100000"};
    }
    if (pollIntervalMs < 10) {
      return new String[] {"webhooks.poll_interval_ms", "must be at least 10"};
    }
    if (secretRotationOverlapSeconds < 0 || secretRotationOverlapSeconds > MAX_OVERLAP_SECONDS) {
      return new String[] {
        "webhooks.secret_rotation_overlap_seconds", "must be from 0 to " + MAX_OVERLAP_SECONDS
      };
    }
    if (logRetentionDays < 1) {
      return new String[] {"webhooks.log_retention_days", "must be positive"};
    }
    if (outboxIntervalMs < 10) {
      return new String[] {"outbox.interval_ms", "must be at least 10"};
    }
    if (outboxBatchSize < 1 || outboxBatchSize > 10_000) {
      return new String[] {"outbox.batch_size", "must be from 1 to 10000"};
    }
    return null;
  }
}
