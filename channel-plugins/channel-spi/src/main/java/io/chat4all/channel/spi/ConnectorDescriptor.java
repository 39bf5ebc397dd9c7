package io.chat4all.channel.spi;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * What a running connector says of itself. {@code channel} and {@code version} must equal those of
 * the jar's {@link PluginDescriptor}; the host refuses the plugin otherwise.
 *
 * @param channel channel id
 * @param version connector version
 * @param spiVersion SPI version built against (normally {@link Spi#VERSION} at build time)
 * @param config the settings it reads (the config schema: base URL, credentials, secrets)
 * @param capabilities what the channel can do
 */
public record ConnectorDescriptor(
    String channel,
    String version,
    String spiVersion,
    List<ConfigField> config,
    Capabilities capabilities) {

  public ConnectorDescriptor {
    config = List.copyOf(config);
  }

  public JsonObject toJson() {
    JsonArray fields = new JsonArray();
    config.forEach(f -> fields.add(f.toJson()));
    return new JsonObject()
        .put("channel", channel)
        .put("version", version)
        .put("spi_version", spiVersion)
        .put("config_schema", fields)
        .put("capabilities", capabilities.toJson());
  }
}
