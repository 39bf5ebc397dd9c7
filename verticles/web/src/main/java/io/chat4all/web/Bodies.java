package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Reading request bodies and fields with clear 400s: {@code malformed_json} for a body that is not
 * a JSON object, {@code validation_failed} (with {@code details.field}) for a missing, mistyped or
 * out-of-range field. Every string and JSON-object field is also checked by {@link StoreSafe} (no
 * NUL, no lone surrogate, storable keys, numbers and depth).
 */
public final class Bodies {
  private Bodies() {}

  /** The request body as a JSON object. */
  public static JsonObject object(RoutingContext ctx) {
    Buffer body = ctx.body() == null ? null : ctx.body().buffer();
    if (body == null || body.length() == 0) {
      throw new ServiceException(ErrorCode.MALFORMED_JSON, "a JSON object body is required");
    }
    Object parsed;
    try {
      parsed = io.vertx.core.json.Json.decodeValue(body);
    } catch (DecodeException e) {
      throw new ServiceException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON");
    }
    if (!(parsed instanceof JsonObject o)) {
      throw new ServiceException(
          ErrorCode.MALFORMED_JSON, "the request body must be a JSON object");
    }
    return o;
  }

  public static ServiceException invalid(String field, String message) {
    return new ServiceException(
        ErrorCode.VALIDATION_FAILED, field + " " + message, new JsonObject().put("field", field));
  }

  /** Rejects fields other than {@code allowed} (typos must not be silently ignored). */
  public static void onlyFields(JsonObject body, Set<String> allowed) {
    for (String name : body.fieldNames()) {
      if (!allowed.contains(name)) {
        throw invalid(name, "is not a known field");
      }
    }
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

  /** A UUID path or body value, normalised to lowercase. */
  public static String uuid(String field, Object v) {
    if (!(v instanceof String s)) {
      throw invalid(field, "must be a UUID string");
    }
    try {
      return UUID.fromString(s).toString();
    } catch (IllegalArgumentException e) {
      throw invalid(field, "must be a UUID");
    }
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
