package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.webhooks.WebhooksConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code webhooks}, {@code outbox} and {@code admin} settings. */
class WebhooksSettingsTest {
  static WebhooksConfig with(String section, String key, Object value) {
    JsonObject c = ConfigLoader.defaults();
    c.getJsonObject(section).put(key, value);
    return ServiceSettings.webhooksConfig(NodeConfig.from(c));
  }

  @Test
  void defaultsAreSafeAndRetryForAboutADay() {
    WebhooksConfig c = ServiceSettings.webhooksConfig(NodeConfig.from(ConfigLoader.defaults()));
    assertThat(c.allowHttp()).isFalse();
    assertThat(c.allowPrivateAddresses()).isFalse();
    assertThat(c.maxAttempts()).isEqualTo(9);
    long total = c.retryScheduleMs().stream().mapToLong(Long::longValue).sum();
    assertThat(total).isBetween(20L * 3_600_000, 26L * 3_600_000);
    assertThat(c.adminUsernames()).isEmpty();
  }

  @Test
  void theEnvironmentSetsListsAsCommaSeparatedValues() {
    JsonObject c =
        ConfigLoader.load(
            null,
            Map.of(
                "CHAT4ALL_WEBHOOKS_RETRY_SCHEDULE", "200ms,5s,1m",
                "CHAT4ALL_ADMIN_USERNAMES", "Alice,bob",
                "CHAT4ALL_WEBHOOKS_ALLOW_HTTP", "true"),
            new Properties(),
            Map.of());
    WebhooksConfig w = ServiceSettings.webhooksConfig(NodeConfig.from(c));
    assertThat(w.retryScheduleMs()).isEqualTo(List.of(200L, 5_000L, 60_000L));
    assertThat(w.adminUsernames()).containsExactlyInAnyOrder("alice", "bob");
    assertThat(w.allowHttp()).isTrue();
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> with("webhooks", "retry_schedule", new JsonArray().add("soon")))
        .isInstanceOf(ConfigException.class)
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("webhooks.retry_schedule");
    assertThatThrownBy(() -> with("webhooks", "timeout_ms", 10))
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("webhooks.timeout_ms");
    assertThatThrownBy(() -> with("webhooks", "max_concurrency_per_webhook", 0))
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("webhooks.max_concurrency_per_webhook");
    assertThatThrownBy(() -> with("outbox", "interval_ms", 0))
        .extracting(e -> ((ConfigException) e).key())
        .isEqualTo("outbox.interval_ms");
  }
}
