package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.realtime.RealtimeConfig;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code realtime} settings: defaults, and the values start-up refuses, by name. */
class RealtimeSettingsTest {
  static RealtimeConfig with(Map<String, String> cli) {
    return ServiceSettings.realtimeConfig(
        NodeConfig.from(ConfigLoader.load(null, Map.of(), new Properties(), cli)));
  }

  @Test
  void defaultsAndSmallTimeouts() {
    RealtimeConfig c = with(Map.of());
    assertThat(c.idleTimeoutMs()).isEqualTo(120_000);
    assertThat(c.pingIntervalMs()).isEqualTo(25_000);
    RealtimeConfig small =
        with(Map.of("realtime.idle_timeout_ms", "1500", "realtime.ping_interval_ms", "300"));
    assertThat(small.idleTimeoutMs()).isEqualTo(1500);
  }

  @Test
  void anIdleTimeoutUnderTwoPingIntervalsIsRefused() {
    // a client that only answers the server's pings would be cut between two of them
    assertThatThrownBy(
            () ->
                with(
                    Map.of("realtime.idle_timeout_ms", "1000", "realtime.ping_interval_ms", "600")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("realtime.idle_timeout_ms")
        .hasMessageContaining("ping_interval_ms");
  }

  /** Merged over the defaults as JSON, as a node built in code gets it (no loader conversion). */
  static RealtimeConfig withJson(String key, Object value) {
    JsonObject c = ConfigLoader.defaults();
    c.getJsonObject("realtime").put(key, value);
    return ServiceSettings.realtimeConfig(NodeConfig.from(c));
  }

  @Test
  void feedCheckIsOffOrBetweenATenthOfASecondAndTenMinutes() {
    assertThat(with(Map.of()).feedCheckMs()).isEqualTo(5_000);
    assertThat(with(Map.of("realtime.feed_check_ms", "0")).feedCheckMs()).isZero();
    assertThat(with(Map.of("realtime.feed_check_ms", "100")).feedCheckMs()).isEqualTo(100);
    assertThat(withJson("feed_check_ms", "600000").feedCheckMs()).isEqualTo(600_000);
    for (String bad : new String[] {"-1", "99", "600001", "99999999999"}) {
      assertThatThrownBy(() -> with(Map.of("realtime.feed_check_ms", bad)))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("realtime.feed_check_ms");
    }
    // beyond int64 (2^64 + 5000 and 1e30) is refused, not wrapped or clamped into the range
    for (Object bad :
        new Object[] {
          "5s",
          2.5,
          true,
          new JsonObject(),
          -5,
          new java.math.BigInteger("18446744073709556616"),
          "18446744073709556616",
          1e30,
          Double.NaN,
          Double.POSITIVE_INFINITY
        }) {
      assertThatThrownBy(() -> withJson("feed_check_ms", bad))
          .as(String.valueOf(bad))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("realtime.feed_check_ms")
          .hasMessageContaining("0 (off) or a whole number from 100 to 600000");
    }
  }

  @Test
  void theGapGraceIsZeroToAMinute() {
    assertThat(with(Map.of()).gapGraceMs()).isEqualTo(100);
    assertThat(with(Map.of("realtime.gap_grace_ms", "0")).gapGraceMs()).isZero();
    assertThat(withJson("gap_grace_ms", "60000").gapGraceMs()).isEqualTo(60_000);
    for (Object bad : new Object[] {-1, 60_001, "soon", 0.5}) {
      assertThatThrownBy(() -> withJson("gap_grace_ms", bad))
          .as(String.valueOf(bad))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("realtime.gap_grace_ms");
    }
  }
}
