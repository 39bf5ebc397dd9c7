package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.messaging.MessagingConfig;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The {@code messaging} section is checked at start: {@code idempotency_filter_bits} is 0 or 8192
 * to 2^32, every other whole number within its range, and what is not gets a named error.
 */
class MessagingSettingsTest {
  static MessagingConfig with(Map<String, String> cli) {
    return ServiceSettings.messagingConfig(
        NodeConfig.from(ConfigLoader.load(null, Map.of(), new Properties(), cli)));
  }

  /** Merged over the defaults as JSON, as a node built in code gets it (no loader conversion). */
  static MessagingConfig withJson(Object value) {
    JsonObject c = ConfigLoader.defaults();
    c.getJsonObject("messaging").put("idempotency_filter_bits", value);
    return ServiceSettings.messagingConfig(NodeConfig.from(c));
  }

  @Test
  void theFilterIsOffOrFromOneKibibyteToTheLargestRedisString() {
    assertThat(with(Map.of()).idempotencyFilterBits())
        .isEqualTo(MessagingConfig.DEFAULT_FILTER_BITS);
    assertThat(with(Map.of("messaging.idempotency_filter_bits", "0")).idempotencyFilterBits())
        .isZero();
    assertThat(with(Map.of("messaging.idempotency_filter_bits", "8192")).idempotencyFilterBits())
        .isEqualTo(8192);
    assertThat(withJson("4294967296").idempotencyFilterBits()).isEqualTo(1L << 32);
    // the rest of the section is read as before
    assertThat(with(Map.of()).maxTextLength()).isEqualTo(4000);
    for (String bad : new String[] {"-1", "8191", "4294967297"}) {
      assertThatThrownBy(() -> with(Map.of("messaging.idempotency_filter_bits", bad)))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("messaging.idempotency_filter_bits");
    }
    for (Object bad : new Object[] {"16M", 1.5e6 + 0.5, false, -16777216}) {
      assertThatThrownBy(() -> withJson(bad))
          .as(String.valueOf(bad))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("messaging.idempotency_filter_bits")
          .hasMessageContaining("from 8192 to 4294967296");
    }
  }

  static MessagingConfig withJson(String key, Object value) {
    JsonObject c = ConfigLoader.defaults();
    c.getJsonObject("messaging").put(key, value);
    return ServiceSettings.messagingConfig(NodeConfig.from(c));
  }

  @Test
  void everyNumberOfTheSectionIsCheckedByName() {
    // in range, from text (environment, command line) or JSON text: read as numbers
    assertThat(with(Map.of("messaging.commit_interval_ms", "250")).commitIntervalMs())
        .isEqualTo(250);
    assertThat(withJson("max_poll_records", "50").maxPollRecords()).isEqualTo(50);
    assertThat(withJson("retention_days", 0).retentionDays()).isZero();
    Object[][] bad = {
      {"commit_interval_ms", 0},
      {"commit_interval_ms", "soon"},
      {"commit_interval_ms", 1.5},
      {"max_poll_records", 0},
      {"max_poll_records", 10_001},
      {"max_text_length", -1},
      {"idempotency_ttl_seconds", 59},
      {"idempotency_lease_ms", 6000},
      {"retention_days", -1},
      {"feed_max_entries", 0},
      {"pipeline_max_attempts", 0},
      {"pipeline_retry_backoff_ms", false},
      {"max_metadata_bytes", 1L << 40},
    };
    for (Object[] b : bad) {
      assertThatThrownBy(() -> withJson((String) b[0], b[1]))
          .as(b[0] + " = " + b[1])
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("messaging." + b[0])
          .hasMessageContaining("must be a whole number from");
    }
    assertThatThrownBy(() -> withJson("consumer_group", " "))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("messaging.consumer_group");
    assertThatThrownBy(() -> withJson("consumer_group", 7))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("messaging.consumer_group");
    assertThatThrownBy(() -> withJson("consumer_group", "pipe\nline"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("messaging.consumer_group");
    assertThatThrownBy(() -> withJson("consumer_group", "g".repeat(256)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("messaging.consumer_group");
    assertThatThrownBy(
            () ->
                with(
                    Map.of(
                        "messaging.pipeline_retry_backoff_ms", "3000",
                        "messaging.pipeline_max_backoff_ms", "2000")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("messaging.pipeline_max_backoff_ms");
  }
}
