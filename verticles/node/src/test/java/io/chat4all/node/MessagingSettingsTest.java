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

/** {@code messaging.idempotency_filter_bits}: 0 or 8192 to 2^32, refused by name otherwise. */
class MessagingSettingsTest {
  static MessagingConfig with(Map<String, String> cli) {
    return Services.messagingConfig(
        NodeConfig.from(ConfigLoader.load(null, Map.of(), new Properties(), cli)));
  }

  /** Merged over the defaults as JSON, as a node built in code gets it (no loader conversion). */
  static MessagingConfig withJson(Object value) {
    JsonObject c = ConfigLoader.defaults();
    c.getJsonObject("messaging").put("idempotency_filter_bits", value);
    return Services.messagingConfig(NodeConfig.from(c));
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
}
