package io.chat4all.channel.spi;

import io.vertx.core.json.JsonObject;

/**
 * A connector's view of its own health (credentials accepted, provider reachable).
 *
 * @param healthy whether sends can be expected to succeed
 * @param detail a short explanation (never containing credentials)
 */
public record Health(boolean healthy, String detail) {
  public static Health up(String detail) {
    return new Health(true, detail);
  }

  public static Health down(String detail) {
    return new Health(false, detail);
  }

  public JsonObject toJson() {
    return new JsonObject().put("healthy", healthy).put("detail", detail);
  }
}
