package io.chat4all.channels.host;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.channel.spi.ConfigField;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The host's settings and what a connector's context exposes of them. */
class HostConfigTest {

  @Test
  void defaultsLiveUnderTheDataDirAndBadValuesNameTheirKey() {
    HostConfig c = HostConfig.from(new JsonObject().put("data_dir", "/srv/c4a"));
    assertThat(c.pluginsDir()).isEqualTo(Path.of("/srv/c4a/plugins"));
    assertThat(c.storeDir()).isEqualTo(Path.of("/srv/c4a/plugin-store"));
    assertThat(c.scanIntervalMs()).isEqualTo(1000);
    assertThat(c.webhookUrl("telegram")).isNull();
    assertThat(c.adminUsernames()).isEmpty();

    HostConfig d =
        HostConfig.from(
            new JsonObject()
                .put("data_dir", "d")
                .put("admin", new JsonObject().put("usernames", new JsonArray().add("root")))
                .put(
                    "channels",
                    new JsonObject()
                        .put("public_base_url", "https://x.test/")
                        .put("telegram", new JsonObject().put("bot_token", "123:secret-token"))));
    assertThat(d.webhookUrl("telegram")).isEqualTo("https://x.test/webhooks/telegram");
    assertThat(d.adminUsernames()).containsExactly("root");
    assertThat(d.toString()).contains("telegram").doesNotContain("secret-token");

    assertThatThrownBy(
            () ->
                HostConfig.from(
                    new JsonObject()
                        .put("channels", new JsonObject().put("scan_interval_ms", "soon"))))
        .isInstanceOf(HostConfig.Invalid.class)
        .hasMessageContaining("integer")
        .extracting(e -> ((HostConfig.Invalid) e).key())
        .isEqualTo("channels.scan_interval_ms");
    assertThatThrownBy(
            () ->
                HostConfig.from(
                    new JsonObject()
                        .put("channels", new JsonObject().put("public_base_url", "ftp://x"))))
        .isInstanceOf(HostConfig.Invalid.class);
  }

  @Test
  void theContextHidesSecretsAndTypesTextValues() {
    ConnectorDescriptor d =
        new ConnectorDescriptor(
            "telegram",
            "1",
            "1.0",
            List.of(
                ConfigField.url("base_url", "https://api.telegram.org", "base"),
                ConfigField.secret("bot_token", true, "token"),
                ConfigField.integer("poll_timeout_seconds", 25, "poll"),
                ConfigField.bool("register_webhook", true, "register")),
            null);
    HostConnectorContext ctx =
        new HostConnectorContext(
            null,
            d,
            new JsonObject()
                .put("bot_token", "123:abc")
                .put("poll_timeout_seconds", "7")
                .put("register_webhook", "false")
                .put("client_secret", "undeclared")
                .put("region", "eu"),
            null,
            Clock.systemUTC(),
            null);
    JsonObject config = ctx.config();
    assertThat(config.getString("base_url")).isEqualTo("https://api.telegram.org");
    assertThat(config.getLong("poll_timeout_seconds")).isEqualTo(7L);
    assertThat(config.getBoolean("register_webhook")).isFalse();
    assertThat(config.getString("region")).isEqualTo("eu");
    assertThat(config.fieldNames()).doesNotContain("bot_token", "client_secret");
    assertThat(ctx.secret("bot_token")).isEqualTo("123:abc");
    assertThat(ctx.secret("client_secret")).isEqualTo("undeclared");
    assertThat(ctx.toString()).doesNotContain("123:abc", "undeclared");
  }
}
