package io.chat4all.node.backends;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** kafka.producer_delivery_timeout_ms: below the event-bus timeout, and what the producer gets. */
class ProducerSettingsTest {
  static NodeConfig config(Map<String, String> cli) {
    return NodeConfig.from(ConfigLoader.load(null, Map.of(), new Properties(), cli));
  }

  @Test
  void aRecordIsGivenUpBeforeTheEventBusGivesUpOnTheSend() {
    NodeConfig defaults = config(Map.of());
    int ms = BackendClients.producerDeliveryTimeoutMs(defaults);
    assertThat(ms)
        .isEqualTo(8_000)
        .isLessThan((int) io.chat4all.codecs.ServiceBus.DEFAULT_TIMEOUT_MS);
    Map<String, String> producer =
        BackendClients.producerConfig(
            defaults.kafka(), ms, BackendClients.producerLingerMs(defaults));
    assertThat(producer)
        .containsEntry("delivery.timeout.ms", "8000")
        .containsEntry("request.timeout.ms", "4000")
        .containsEntry("max.block.ms", "8000")
        .containsEntry("acks", "all")
        .containsEntry("enable.idempotence", "true")
        .containsEntry("linger.ms", "2");
    assertThat(
            BackendClients.producerDeliveryTimeoutMs(
                config(Map.of("kafka.producer_delivery_timeout_ms", "4000"))))
        .isEqualTo(4000);
  }

  @Test
  void aTimeoutAtOrPastTheEventBusTimeoutIsRefused() {
    for (String bad : new String[] {"15000", "60000", "999", "-1", "soon"}) {
      assertThatThrownBy(
              () ->
                  BackendClients.producerDeliveryTimeoutMs(
                      config(Map.of("kafka.producer_delivery_timeout_ms", bad))))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("kafka.producer_delivery_timeout_ms");
    }
  }

  @Test
  void theLingerComesFromConfigWithinItsBounds() {
    NodeConfig zero = config(Map.of("kafka.producer_linger_ms", "0"));
    assertThat(
            BackendClients.producerConfig(
                zero.kafka(), 8_000, BackendClients.producerLingerMs(zero)))
        .containsEntry("linger.ms", "0");
    assertThat(BackendClients.producerLingerMs(config(Map.of("kafka.producer_linger_ms", "25"))))
        .isEqualTo(25);
    for (String bad : new String[] {"101", "-1", "soon", "2.5"}) {
      assertThatThrownBy(
              () ->
                  BackendClients.producerLingerMs(config(Map.of("kafka.producer_linger_ms", bad))))
          .as(bad)
          .isInstanceOf(ConfigException.class)
          // a number out of range is the producer's check, anything else the loader's
          .hasMessageContaining("kafka.producer_linger_ms")
          .hasMessageContaining(bad.matches("-?\\d+") ? "from 0 to 100" : "must be an integer");
    }
  }
}
