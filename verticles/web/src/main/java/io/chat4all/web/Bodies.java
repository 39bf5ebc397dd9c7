package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/**
 * Reading request bodies and fields with clear 400s: {@code malformed_json} for a body that is not
 * a JSON object ({@link StrictJson}: no comments, byte-order mark or repeated key), {@code
 * validation_failed} (with {@code details.field}) for a missing, mistyped, null or out-of-range
 * field, and 415 {@code unsupported_media_type} for a body that is not declared as JSON. Every
 * string and JSON-object field is also checked by {@link StoreSafe} (no NUL, no lone surrogate,
 * storable keys, numbers and depth).
 */
public final class Bodies {
  static final String NIL_UUID = "00000000-0000-0000-0000-000000000000";

  private Bodies() {}

  /**
   * The request body as a JSON object. A declared {@code Content-Type} must be {@code
   * application/json} (or another {@code +json} type), UTF-8 if it names a charset; no field of it
   * may be null.
   */
  public static JsonObject object(RoutingContext ctx) {
    requireJson(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE));
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw new ServiceException(ErrorCode.MALFORMED_JSON, "a JSON object body is required");
    }
    JsonObject o = StrictJson.object(body, "the request body");
    noNulls(o, "");
    return o;
  }

  /** Refuses (415) a body declared as something else than JSON in UTF-8. */
  static void requireJson(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return; // not declared: read as JSON (what is declared must be JSON)
    }
    String[] parts = contentType.split(";");
    String type = parts[0].trim().toLowerCase(Locale.ROOT);
    boolean json =
        type.equals("application/json")
            || (type.startsWith("application/") && type.endsWith("+json"));
    String charset = null;
    for (int i = 1; i < parts.length; i++) {
      String param = parts[i].trim();
      int eq = param.indexOf('=');
      if (eq > 0 && param.substring(0, eq).trim().equalsIgnoreCase("charset")) {
        charset = param.substring(eq + 1).trim().replace("\"", "");
      }
    }
    if (!json) {
      throw new ServiceException(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          "Content-Type " + type + " is not accepted here: send application/json",
          new JsonObject().put("supported", "application/json"));
    }
    if (charset != null && !charset.equalsIgnoreCase("utf-8")) {
      throw new ServiceException(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          "charset " + charset + " is not accepted here: JSON is UTF-8",
          new JsonObject().put("supported", "application/json"));
    }
  }

  /**
   * Refuses a field given as {@code null}: a request leaves out what it does not set (an explicit
   * null was read as "left out" before, so {@code member_ids: null} passed as "no members").
   */
  private static void noNulls(JsonObject body, String prefix) {
    for (String name : body.fieldNames()) {
      if (body.getValue(name) == null) {
        throw invalid(prefix + name, "must not be null (leave the field out instead)");
      }
    }
  }

  public static ServiceException invalid(String field, String message) {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED, field + " " + message, new JsonObject().put("field", field));
  }

  /**
   * Rejects fields other than {@code allowed} (typos must not be silently ignored) and fields given
   * as {@code null}.
   */
  public static void onlyFields(JsonObject body, Set<String> allowed) {
    for (String name : body.fieldNames()) {
      if (!allowed.contains(name)) {
        throw invalid(name, "is not a known field");
      }
    }
    noNulls(body, "");
  }

  public static String string(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    if (v == null) {
      throw invalid(field, "is required");
    }
    return checkString(field, v, min, max);
  }

  public static String optionalString(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    return v == null ? null : checkString(field, v, min, max);
  }

  private static String checkString(String field, Object v, int min, int max) {
    if (!(v instanceof String s)) {
      throw invalid(field, "must be a string");
    }
    StoreSafe.text(field, s);
    int length = s.codePointCount(0, s.length());
    if (length < min || length > max) {
      throw invalid(field, "must be " + min + " to " + max + " characters long");
    }
    return s;
  }

  public static String uuid(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v == null) {
      throw invalid(field, "is required");
    }
    return uuid(field, v);
  }

  /**
   * A UUID body or query value in its canonical 8-4-4-4-12 hex form (either case), normalised to
   * lowercase. The nil UUID is refused: no id of the platform is ever nil, and one made up by a
   * client (a {@code message_id}) must be unique.
   */
  public static String uuid(String field, Object v) {
    if (!(v instanceof String s)) {
      throw invalid(field, "must be a UUID string");
    }
    String id = canonicalUuid(s);
    if (id == null) {
      throw invalid(field, "must be a UUID (8-4-4-4-12 hex digits)");
    }
    if (id.equals(NIL_UUID)) {
      throw invalid(field, "must not be the nil UUID");
    }
    return id;
  }

  /** A path parameter that must be a UUID; a malformed id is simply not found. */
  public static String pathId(RoutingContext ctx, String name) {
    return idOrNotFound(name, ctx.pathParam(name));
  }

  /**
   * An id where REST has it in the path (a path parameter, a gRPC id field): not a canonical UUID
   * means there is no such thing (not_found), not a validation error.
   */
  public static String idOrNotFound(String name, String raw) {
    String id = canonicalUuid(raw);
    if (id == null) {
      throw new ServiceException(ErrorCode.NOT_FOUND, name + " " + raw + " not found");
    }
    return id;
  }

  /** The UUID in its lowercase canonical form, or null when {@code raw} is not one. */
  public static String canonicalUuid(String raw) {
    if (raw == null || raw.length() != 36) {
      return null;
    }
    try {
      UUID parsed = UUID.fromString(raw);
      return parsed.toString().equalsIgnoreCase(raw) ? parsed.toString() : null;
    } catch (IllegalArgumentException | NullPointerException e) {
      return null;
    }
  }

  public static List<String> uuidList(JsonObject body, String field, int min, int max) {
    Object v = body.getValue(field);
    if (v == null) {
      if (min == 0) {
        return List.of();
      }
      throw invalid(field, "is required");
    }
    if (!(v instanceof JsonArray array)) {
      throw invalid(field, "must be an array of UUIDs");
    }
    if (array.size() < min || array.size() > max) {
      throw invalid(field, "must hold " + min + " to " + max + " ids");
    }
    List<String> ids = new ArrayList<>();
    for (Object item : array) {
      String id = uuid(field, item);
      if (!ids.contains(id)) {
        ids.add(id);
      }
    }
    return ids;
  }

  public static JsonObject optionalObject(JsonObject body, String field, int maxEncodedBytes) {
    Object v = body.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof JsonObject o)) {
      throw invalid(field, "must be a JSON object");
    }
    StoreSafe.document(field, o);
    if (o.encode().length() > maxEncodedBytes) {
      throw invalid(field, "must be at most " + maxEncodedBytes + " bytes of JSON");
    }
    return o;
  }
}
