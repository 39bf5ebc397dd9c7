package io.chat4all.webhooks;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Edge validation of webhook requests: shapes, types, event names and URL shape. The address check
 * of the URL (DNS, SSRF guard) and the per-user limit are the service's.
 */
final class WebhookRequests {
  static final int DESCRIPTION_MAX = 500;
  static final int EVENTS_MAX = 20;
  static final Set<String> STATUSES =
      Set.of(DeliveryStore.PENDING, DeliveryStore.DELIVERED, DeliveryStore.DEAD);

  private WebhookRequests() {}

  /** {@code {url, events, description?, global?}} → the service request (without the caller). */
  static JsonObject create(JsonObject body, boolean allowHttp) {
    Bodies.onlyFields(body, Set.of("url", "events", "description", "global"));
    JsonObject req =
        new JsonObject()
            .put("url", url(body, allowHttp))
            .put("events", new JsonArray(events(body)))
            .put("description", description(body));
    Object global = body.getValue("global");
    if (global != null && !(global instanceof Boolean)) {
      throw Bodies.invalid("global", "must be true or false");
    }
    return req.put("global", Boolean.TRUE.equals(global));
  }

  /** {@code {url?, events?, description?, active?}} with at least one of them. */
  static JsonObject update(JsonObject body, boolean allowHttp) {
    Bodies.onlyFields(body, Set.of("url", "events", "description", "active"));
    if (body.isEmpty()) {
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED, "give at least one of url, events, description, active");
    }
    JsonObject req = new JsonObject();
    if (body.getValue("url") != null) {
      req.put("url", url(body, allowHttp));
    }
    if (body.containsKey("events")) {
      req.put("events", new JsonArray(events(body)));
    }
    if (body.containsKey("description")) {
      req.put("description_given", true).put("description", description(body));
    }
    if (body.containsKey("active")) {
      Object active = body.getValue("active");
      if (!(active instanceof Boolean)) {
        throw Bodies.invalid("active", "must be true or false");
      }
      req.put("active", active);
    }
    return req;
  }

  /** An optional {@code {overlap_seconds}} (absent: the configured default). */
  static JsonObject rotate(JsonObject body) {
    Bodies.onlyFields(body, Set.of("overlap_seconds"));
    Object v = body.getValue("overlap_seconds");
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof Integer || v instanceof Long)
        || ((Number) v).longValue() < 0
        || ((Number) v).longValue() > WebhooksConfig.MAX_OVERLAP_SECONDS) {
      throw Bodies.invalid(
          "overlap_seconds", "must be an integer from 0 to " + WebhooksConfig.MAX_OVERLAP_SECONDS);
    }
    return new JsonObject().put("overlap_seconds", ((Number) v).longValue());
  }

  /** {@code {since}}: redeliver every dead delivery created since then. */
  static JsonObject redeliverFailed(JsonObject body) {
    Bodies.onlyFields(body, Set.of("since"));
    String since = Bodies.string(body, "since", 1, 64);
    return new JsonObject().put("since", Wire.timestamp(Wire.parseTimestamp("since", since)));
  }

  /** The query of a delivery-log page: status filter, limit, cursor. */
  static JsonObject page(String status, String limit, String cursor) {
    JsonObject req = new JsonObject().put("limit", Wire.limit(limit));
    if (status != null && !status.isEmpty()) {
      if (!STATUSES.contains(status)) {
        throw Bodies.invalid("status", "must be one of " + new TreeSet<>(STATUSES));
      }
      req.put("status", status);
    }
    if (cursor != null && !cursor.isEmpty()) {
      try {
        long seq = Long.parseLong(cursor);
        if (seq < 1) {
          throw new NumberFormatException();
        }
        req.put("cursor", seq);
      } catch (NumberFormatException e) {
        throw Bodies.invalid("cursor", "is not a cursor of this list");
      }
    }
    return req;
  }

  private static String url(JsonObject body, boolean allowHttp) {
    String raw = Bodies.string(body, "url", 1, WebhookUrls.MAX_LENGTH);
    return WebhookUrls.parse("url", raw, allowHttp).toString();
  }

  private static List<String> events(JsonObject body) {
    Object v = body.getValue("events");
    if (v == null) {
      throw Bodies.invalid("events", "is required");
    }
    if (!(v instanceof JsonArray array) || array.isEmpty() || array.size() > EVENTS_MAX) {
      throw Bodies.invalid("events", "must be an array of 1 to " + EVENTS_MAX + " event types");
    }
    Set<String> events = new LinkedHashSet<>();
    List<String> unknown = new ArrayList<>();
    for (Object item : array) {
      if (!(item instanceof String s)) {
        throw Bodies.invalid("events", "must hold event type names (strings)");
      }
      if (WebhookEvent.TYPES.contains(s) || WebhookEvent.ALL.equals(s)) {
        events.add(s);
      } else {
        unknown.add(s);
      }
    }
    if (!unknown.isEmpty()) {
      throw new ServiceException(
          ErrorCode.VALIDATION_FAILED,
          "events holds unknown event types "
              + unknown
              + "; known: "
              + new TreeSet<>(WebhookEvent.TYPES)
              + " or \"*\"",
          new JsonObject().put("field", "events").put("unknown", new JsonArray(unknown)));
    }
    return List.copyOf(events);
  }

  private static String description(JsonObject body) {
    String d = Bodies.optionalString(body, "description", 0, DESCRIPTION_MAX);
    if (d == null) {
      return null;
    }
    for (int i = 0; i < d.length(); i++) {
      char ch = d.charAt(i);
      if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f) {
        throw Bodies.invalid("description", "must not contain control characters");
      }
    }
    return d.isEmpty() ? null : d; // "" clears it (null is refused like everywhere)
  }
}
