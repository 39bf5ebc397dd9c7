package io.chat4all.web;

import io.vertx.core.json.JsonObject;

/**
 * Between the services' JSON and proto3 messages, where absent means empty: the gRPC edges map
 * requests to the REST JSON bodies and replies back with these.
 */
public final class ProtoJson {
  private ProtoJson() {}

  /** Puts {@code value} unless it is proto3's empty (absent) string. */
  public static void putIfSet(JsonObject o, String field, String value) {
    if (!value.isEmpty()) {
      o.put(field, value);
    }
  }

  /** The field as a string for a proto3 field: "" when absent; a Mongo {@code $date} unwrapped. */
  public static String str(JsonObject j, String field) {
    Object v = j.getValue(field);
    if (v == null) {
      return "";
    }
    if (v instanceof JsonObject o && o.getValue("$date") != null) {
      return String.valueOf(o.getValue("$date"));
    }
    return v.toString();
  }

  /** The field as a number for a proto3 field: 0 when absent or not a number. */
  public static long num(JsonObject j, String field) {
    Object v = j.getValue(field);
    return v instanceof Number n ? n.longValue() : 0L;
  }
}
