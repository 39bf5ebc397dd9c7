package io.chat4all.channel.spi;

import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What {@code META-INF/chat4all-plugin.json} of a connector jar says, read by the host before any
 * class of the jar is loaded:
 *
 * <pre>{@code
 * {"channel": "telegram", "version": "1.2.0", "spi_version": "1.0",
 *  "main_class": "io.chat4all.channel.telegram.TelegramConnector", "name": "Telegram Bot API"}
 * }</pre>
 *
 * @param channel channel id ({@code [a-z][a-z0-9_-]{1,31}}), e.g. {@code telegram}
 * @param version connector version (any non-blank text up to 64 characters, semantic versions
 *     advised)
 * @param spiVersion the SPI version the plugin was built against ({@link Spi#compatible})
 * @param mainClass fully qualified name of the {@link ChannelConnector} implementation (public,
 *     with a public no-argument constructor)
 * @param name human-readable name
 */
public record PluginDescriptor(
    String channel, String version, String spiVersion, String mainClass, String name) {

  private static final Pattern CHANNEL = Pattern.compile("[a-z][a-z0-9_-]{1,31}");
  private static final Pattern CLASS_NAME =
      Pattern.compile("[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*");

  public PluginDescriptor {
    Objects.requireNonNull(channel, "channel");
    Objects.requireNonNull(version, "version");
    Objects.requireNonNull(spiVersion, "spi_version");
    Objects.requireNonNull(mainClass, "main_class");
    name = name == null ? channel : name;
  }

  /**
   * Parses and validates a descriptor document.
   *
   * @throws IllegalArgumentException with a reason naming the field when it is missing or invalid
   */
  public static PluginDescriptor parse(String json) {
    JsonObject o;
    try {
      o = new JsonObject(json);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("descriptor is not a JSON object");
    }
    String channel = text(o, "channel");
    String version = text(o, "version");
    String spi = text(o, "spi_version");
    String main = text(o, "main_class");
    if (!CHANNEL.matcher(channel).matches()) {
      throw new IllegalArgumentException(
          "descriptor field 'channel' must match [a-z][a-z0-9_-]{1,31}");
    }
    if (version.length() > 64) {
      throw new IllegalArgumentException("descriptor field 'version' is longer than 64 characters");
    }
    if (!CLASS_NAME.matcher(main).matches()) {
      throw new IllegalArgumentException("descriptor field 'main_class' is not a class name");
    }
    Object name = o.getValue("name");
    return new PluginDescriptor(
        channel, version, spi, main, name instanceof String s && !s.isBlank() ? s : channel);
  }

  private static String text(JsonObject o, String field) {
    Object v = o.getValue(field);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new IllegalArgumentException("descriptor field '" + field + "' is missing or not text");
    }
    return s.trim();
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("channel", channel)
        .put("version", version)
        .put("spi_version", spiVersion)
        .put("main_class", mainClass)
        .put("name", name);
  }
}
