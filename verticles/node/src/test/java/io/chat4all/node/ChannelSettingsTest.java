package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The {@code channels} section's delivery, inbound and verification settings are checked at
 * start-up: a value the command line or a file got wrong (refused by the loader, or out of range)
 * and one in JSON built in code (which reaches the services unconverted) stop the node with the key
 * named.
 */
class ChannelSettingsTest {
  static ServiceSettings.ChannelSettings with(Map<String, String> cli) {
    return ServiceSettings.channelSettings(
        NodeConfig.from(ConfigLoader.load(null, Map.of(), new Properties(), cli)), 4000);
  }

  @Test
  void theDefaultsAndOverridesAreRead() {
    ServiceSettings.ChannelSettings d = with(Map.of());
    assertThat(d.delivery().maxAttempts()).isEqualTo(8);
    assertThat(d.inbound().claimTtlSeconds()).isEqualTo(120);
    assertThat(d.inbound().maxTextLength()).isEqualTo(4000);
    assertThat(d.identity().codeTtlSeconds()).isEqualTo(600);
    ServiceSettings.ChannelSettings o =
        with(
            Map.of(
                "channels.delivery.max_in_flight", "4",
                "channels.inbound.claim_ttl_seconds", "30",
                "channels.verification.max_attempts", "3"));
    assertThat(o.delivery().maxInFlight()).isEqualTo(4);
    assertThat(o.inbound().claimTtlSeconds()).isEqualTo(30);
    assertThat(o.identity().maxAttempts()).isEqualTo(3);
  }

  @Test
  void aBadValueStopsStartUpNamingItsKey() {
    for (String[] bad :
        new String[][] {
          {"channels.inbound.claim_ttl_seconds", "soon"},
          {"channels.inbound.dedup_ttl_seconds", "1.5"},
          {"channels.inbound.max_media_bytes", "0"},
          {"channels.webhook_max_body_bytes", "99999999999999999999"},
          {"channels.delivery.max_attempts", "many"},
          {"channels.delivery.media_link_ttl_seconds", "4294970896"},
          {"channels.verification.code_ttl_seconds", "ten"}
        }) {
      assertThatThrownBy(() -> with(Map.of(bad[0], bad[1])))
          .as(bad[0])
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith(bad[0] + ": ");
    }
  }

  @Test
  void jsonBuiltInCodeIsCheckedTheSameWay() {
    JsonObject c = ConfigLoader.defaults();
    c.getJsonObject("channels").getJsonObject("inbound").put("claim_ttl_seconds", new JsonObject());
    assertThatThrownBy(() -> ServiceSettings.channelSettings(NodeConfig.from(c), 4000))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("channels.inbound.claim_ttl_seconds: must be a whole number");
    JsonObject g = ConfigLoader.defaults();
    g.getJsonObject("channels").getJsonObject("delivery").put("consumer_group", "a\nb");
    assertThatThrownBy(() -> ServiceSettings.channelSettings(NodeConfig.from(g), 4000))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("channels.delivery.consumer_group: must be a non-empty name");
  }
}
