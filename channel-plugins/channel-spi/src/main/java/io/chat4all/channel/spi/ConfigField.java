package io.chat4all.channel.spi;

import io.vertx.core.json.JsonObject;

/**
 * One setting a connector reads from its configuration ({@code channels.<channel>.*}).
 *
 * @param name key, e.g. {@code base_url}, {@code bot_token}
 * @param type value type
 * @param required whether start fails without it
 * @param secret a credential: never returned by the API, never logged; read with {@link
 *     ConnectorContext#secret}
 * @param defaultValue the value when not configured (null: none)
 * @param description what it is
 */
public record ConfigField(
    String name,
    Type type,
    boolean required,
    boolean secret,
    Object defaultValue,
    String description) {

  /** Value types of connector settings. */
  public enum Type {
    STRING,
    URL,
    INTEGER,
    BOOLEAN,
    DURATION_MS
  }

  public static ConfigField url(String name, String defaultValue, String description) {
    return new ConfigField(name, Type.URL, true, false, defaultValue, description);
  }

  public static ConfigField secret(String name, boolean required, String description) {
    return new ConfigField(name, Type.STRING, required, true, null, description);
  }

  public static ConfigField string(
      String name, boolean required, String defaultValue, String description) {
    return new ConfigField(name, Type.STRING, required, false, defaultValue, description);
  }

  public static ConfigField integer(String name, long defaultValue, String description) {
    return new ConfigField(name, Type.INTEGER, false, false, defaultValue, description);
  }

  public static ConfigField bool(String name, boolean defaultValue, String description) {
    return new ConfigField(name, Type.BOOLEAN, false, false, defaultValue, description);
  }

  public JsonObject toJson() {
    JsonObject o =
        new JsonObject()
            .put("name", name)
            .put("type", type.name().toLowerCase())
            .put("required", required)
            .put("secret", secret)
            .put("description", description);
    if (defaultValue != null && !secret) {
      o.put("default", defaultValue);
    }
    return o;
  }
}
