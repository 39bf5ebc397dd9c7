package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.realtime.RealtimeConfig;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The {@code realtime} settings: defaults, and the values start-up refuses, by name. */
class RealtimeSettingsTest {
  static RealtimeConfig with(Map<String, String> cli) {
    return Services.realtimeConfig(
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
}
