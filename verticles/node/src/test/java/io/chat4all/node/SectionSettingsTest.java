package io.chat4all.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The other services' sections (auth, conversations, files, realtime, webhooks, outbox) in JSON
 * built in code, which reaches them unconverted: a value of the wrong kind stops start-up naming
 * its key, never a {@code ClassCastException}, a wrapped number or a truncated fraction.
 */
class SectionSettingsTest {
  static final String SECRET = "0123456789abcdef0123456789abcdef0123456789abcdef";

  static NodeConfig with(String section, String key, Object value) {
    JsonObject c = ConfigLoader.defaults();
    c.getJsonObject(section).put(key, value);
    return NodeConfig.from(c);
  }

  static void refused(String section, String key, Object value, Consumer<NodeConfig> read) {
    NodeConfig c = with(section, key, value);
    assertThatThrownBy(() -> read.accept(c))
        .as(section + "." + key + " = " + value)
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith(section + "." + key + ": must be");
  }

  @Test
  void aValueOfTheWrongKindIsNamed() {
    Consumer<NodeConfig> auth = c -> ServiceSettings.authConfig(c, SECRET);
    Consumer<NodeConfig> conversations = ServiceSettings::conversationsConfig;
    Consumer<NodeConfig> files = ServiceSettings::filesConfig;
    Consumer<NodeConfig> realtime = ServiceSettings::realtimeConfig;
    Consumer<NodeConfig> webhooks = ServiceSettings::webhooksConfig;
    for (Object bad : new Object[] {"soon", 1.5, 1e300, new JsonObject(), 4_294_967_296L}) {
      refused("auth", "access_token_ttl_seconds", bad, auth);
      refused("conversations", "max_group_members", bad, conversations);
      refused("files", "upload_ttl_seconds", bad, files);
      refused("realtime", "max_frames_per_second", bad, realtime);
      refused("webhooks", "max_in_flight", bad, webhooks);
      refused("outbox", "batch_size", bad, webhooks);
    }
    for (Object bad : new Object[] {"soon", 1.5, new JsonObject()}) {
      refused("files", "max_size_bytes", bad, files);
      refused("realtime", "ping_interval_ms", bad, realtime);
      refused("webhooks", "timeout_ms", bad, webhooks);
    }
    refused("webhooks", "allow_http", "maybe", webhooks);
    refused("webhooks", "allow_http", 1, webhooks);
    refused("webhooks", "consumer_group", "a\nb", webhooks);
    JsonObject c = ConfigLoader.defaults().put("realtime", "fast");
    assertThatThrownBy(() -> ServiceSettings.realtimeConfig(NodeConfig.from(c)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("realtime");
  }

  @Test
  void aListOfTheWrongKindIsNamed() {
    Consumer<NodeConfig> files = ServiceSettings::filesConfig;
    Consumer<NodeConfig> webhooks = ServiceSettings::webhooksConfig;
    for (Object bad :
        new Object[] {
          3,
          true,
          new JsonObject(),
          new JsonArray().add(new JsonObject()),
          new JsonArray().add(true),
          new JsonArray().addNull()
        }) {
      refused("files", "allowed_mime_types", bad, files);
      refused("webhooks", "retry_schedule", bad, webhooks);
      refused("admin", "usernames", bad, webhooks);
      JsonObject c = ConfigLoader.defaults();
      c.getJsonObject("cluster").put("members", bad);
      assertThatThrownBy(() -> NodeConfig.from(c))
          .as("cluster.members = " + bad)
          .isInstanceOf(ConfigException.class)
          .hasMessageStartingWith("cluster.members: must be");
    }
    assertThat(
            ServiceSettings.filesConfig(
                    with("files", "allowed_mime_types", new JsonArray().add(" Image/PNG ")))
                .allowedMimeTypes())
        .containsExactly("image/png");
    // text is a comma-separated list, as the loader reads one from the environment
    assertThat(
            ServiceSettings.webhooksConfig(with("admin", "usernames", " Alice, bob ,"))
                .adminUsernames())
        .containsExactlyInAnyOrder("alice", "bob");
    JsonObject text = ConfigLoader.defaults();
    text.getJsonObject("cluster").put("members", "127.0.0.1:5701, 127.0.0.1:5702");
    assertThat(NodeConfig.from(text).cluster().members())
        .containsExactly("127.0.0.1:5701", "127.0.0.1:5702");
    assertThat(
            ServiceSettings.webhooksConfig(
                    with("webhooks", "retry_schedule", new JsonArray().add("1s").add(30)))
                .retryScheduleMs())
        .containsExactly(1000L, 30_000L);
  }

  @Test
  void aWholeNumberAsTextAndAFlagAsTextAreTaken() {
    assertThat(
            ServiceSettings.authConfig(with("auth", "access_token_ttl_seconds", "600"), SECRET)
                .accessTokenTtlSeconds())
        .isEqualTo(600);
    assertThat(
            ServiceSettings.conversationsConfig(with("conversations", "max_group_members", 50.0))
                .maxGroupMembers())
        .isEqualTo(50);
    assertThat(ServiceSettings.webhooksConfig(with("webhooks", "allow_http", "true")).allowHttp())
        .isTrue();
  }
}
