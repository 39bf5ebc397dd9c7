package io.chat4all.codecs;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * Wire conventions shared by every API: JSON field names in snake_case, timestamps as RFC 3339 in
 * UTC with millisecond precision, lists as {@code {items:[…], next_cursor}} where {@code
 * next_cursor} is null on the last page, {@code limit} defaulting to 50 and capped at 200.
 */
public final class Wire {
  private Wire() {}

  public static final int DEFAULT_LIMIT = 50;
  public static final int MAX_LIMIT = 200;

  /** RFC 3339 UTC timestamp, millisecond precision, e.g. {@code 2025-01-15T10:00:00.000Z}. */
  public static String timestamp(Instant instant) {
    Instant millis = instant.truncatedTo(ChronoUnit.MILLIS);
    String s = millis.toString();
    // Instant.toString drops zero fractions; keep a fixed shape for clients.
    if (millis.getNano() == 0) {
      s = s.substring(0, s.length() - 1) + ".000Z";
    }
    return s;
  }

  public static Instant parseTimestamp(String field, String value) {
    try {
      return Instant.parse(value);
    } catch (DateTimeParseException | NullPointerException e) {
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED,
          field + " must be an RFC 3339 timestamp",
          new JsonObject().put("field", field));
    }
  }

  /**
   * Parses a {@code limit} query parameter: absent means {@link #DEFAULT_LIMIT}; it must be an
   * integer from 1 to {@link #MAX_LIMIT}.
   */
  public static int limit(String raw) {
    if (raw == null || raw.isEmpty()) {
      return DEFAULT_LIMIT;
    }
    int value;
    try {
      value = Integer.parseInt(raw.trim());
    } catch (NumberFormatException e) {
      throw invalidLimit();
    }
    if (value < 1 || value > MAX_LIMIT) {
      throw invalidLimit();
    }
    return value;
  }

  private static ServiceException invalidLimit() {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "limit must be an integer from 1 to " + MAX_LIMIT,
        new JsonObject().put("field", "limit"));
  }

  /** A page of a list: {@code {items:[…], next_cursor}}, next_cursor null on the last page. */
  public static JsonObject page(List<?> items, String nextCursor) {
    return new JsonObject()
        .put("items", new JsonArray(List.copyOf(items)))
        .put("next_cursor", nextCursor);
  }
}
