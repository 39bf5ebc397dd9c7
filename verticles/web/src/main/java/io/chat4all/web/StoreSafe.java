package io.chat4all.web;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;

/**
 * The one check that a client's value can be held by every store it may reach (PostgreSQL text and
 * jsonb, MongoDB/BSON documents, Kafka records read back as JSON), so that a value the edge accepts
 * can always be written. Refused values fail {@code validation_failed} with {@code details.field}:
 *
 * <ul>
 *   <li>text (every string field, metadata keys and string values, query parameters) must be valid
 *       Unicode without NUL: U+0000 is refused (PostgreSQL text cannot hold it, BSON keys are
 *       NUL-terminated), and so are lone UTF-16 surrogates (JSON's {@code "\ud800"} escape; no
 *       store can encode them — UTF-8 encoders would silently turn them into {@code ?});
 *   <li>keys of stored JSON objects must not be empty, start with {@code $} or contain {@code .}
 *       (MongoDB's field-name rules: {@code $gt}, {@code a.b} would be read as operators or paths);
 *   <li>numbers must fit a signed 64-bit integer or be a finite double ({@code 2^64}, {@code
 *       -2^63-1} and {@code 1e400} are refused);
 *   <li>objects and arrays may nest at most {@value #MAX_DEPTH} levels (the object itself is level
 *       1).
 * </ul>
 *
 * Used by {@link Bodies} for every string and JSON-object field, so REST, gRPC and WebSocket
 * requests (which all go through the same request validation) are checked alike, and by {@link
 * #queryParameters} for every query parameter of the REST API.
 */
public final class StoreSafe {
  /** Most nesting levels of a stored JSON object (BSON allows 100 for the whole document). */
  public static final int MAX_DEPTH = 32;

  private StoreSafe() {}

  /** {@code s} unchanged when every store can hold it as text; otherwise validation_failed. */
  public static String text(String field, String s) {
    String problem = textProblem(s);
    if (problem != null) {
      throw Bodies.invalid(field, problem);
    }
    return s;
  }

  /** Why {@code s} cannot be stored as text, or null when it can. */
  public static String textProblem(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == 0) {
        return "must not contain the NUL character (U+0000)";
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
          continue;
        }
        return "must be valid Unicode (it contains a lone surrogate " + hex(c) + ")";
      }
      if (Character.isLowSurrogate(c)) {
        return "must be valid Unicode (it contains a lone surrogate " + hex(c) + ")";
      }
    }
    return null;
  }

  /** {@code o} unchanged when it can be stored as a document (keys, values, numbers, depth). */
  public static JsonObject document(String field, JsonObject o) {
    object(field, o.getMap(), 1);
    return o;
  }

  /**
   * Route handler: every query parameter name and value must be storable text (a parameter may end
   * up in a query, e.g. {@code ?username=}); otherwise 400 {@code validation_failed} naming it.
   */
  public static void queryParameters(RoutingContext ctx) {
    io.vertx.core.MultiMap params;
    try {
      params = ctx.queryParams();
    } catch (IllegalArgumentException | io.vertx.ext.web.handler.HttpException badEscape) {
      ctx.fail(
          new io.chat4all.codecs.ServiceException(
              io.chat4all.codecs.ErrorCode.VALIDATION_FAILED,
              "the query string is not valid percent-encoding",
              new JsonObject().put("field", "query")));
      return;
    }
    for (Map.Entry<String, String> p : params) {
      String nameProblem = textProblem(p.getKey());
      if (nameProblem != null) {
        ctx.fail(Bodies.invalid("query parameter " + printable(p.getKey()), nameProblem));
        return;
      }
      String valueProblem = textProblem(p.getValue());
      if (valueProblem != null) {
        ctx.fail(Bodies.invalid(p.getKey(), valueProblem));
        return;
      }
    }
    ctx.next();
  }

  private static void object(String path, Map<String, Object> map, int depth) {
    depth(path, depth);
    for (Map.Entry<String, Object> e : map.entrySet()) {
      String key = e.getKey();
      String problem = keyProblem(key);
      if (problem != null) {
        throw Bodies.invalid(path, "has the key \"" + printable(key) + "\", but keys " + problem);
      }
      value(path + "." + key, e.getValue(), depth);
    }
  }

  private static void array(String path, List<?> list, int depth) {
    depth(path, depth);
    for (int i = 0; i < list.size(); i++) {
      value(path + "[" + i + "]", list.get(i), depth);
    }
  }

  @SuppressWarnings("unchecked")
  private static void value(String path, Object v, int depth) {
    if (v == null || v instanceof Boolean) {
      return;
    }
    if (v instanceof String s) {
      text(path, s);
    } else if (v instanceof Number n) {
      number(path, n);
    } else if (v instanceof JsonObject o) {
      object(path, o.getMap(), depth + 1);
    } else if (v instanceof Map<?, ?> m) {
      object(path, (Map<String, Object>) m, depth + 1);
    } else if (v instanceof JsonArray a) {
      array(path, a.getList(), depth + 1);
    } else if (v instanceof List<?> l) {
      array(path, l, depth + 1);
    } else {
      throw Bodies.invalid(path, "must be a JSON value");
    }
  }

  private static void depth(String path, int depth) {
    if (depth > MAX_DEPTH) {
      throw Bodies.invalid(path, "nests too deeply (at most " + MAX_DEPTH + " levels)");
    }
  }

  private static String keyProblem(String key) {
    if (key.isEmpty()) {
      return "must not be empty";
    }
    if (key.charAt(0) == '$') {
      return "must not start with '$'";
    }
    if (key.indexOf('.') >= 0) {
      return "must not contain '.'";
    }
    return textProblem(key);
  }

  private static void number(String path, Number n) {
    boolean ok;
    if (n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte) {
      ok = true;
    } else if (n instanceof Double || n instanceof Float) {
      ok = Double.isFinite(n.doubleValue());
    } else if (n instanceof BigInteger b) {
      ok = b.bitLength() <= 63;
    } else if (n instanceof BigDecimal d) {
      ok = Double.isFinite(d.doubleValue());
    } else {
      ok = false;
    }
    if (!ok) {
      throw Bodies.invalid(
          path, "must be a number that fits a 64-bit integer or a finite double (" + n + ")");
    }
  }

  private static String hex(char c) {
    return String.format("U+%04X", (int) c);
  }

  /** {@code s} for a message: control characters and surrogates shown as {@code \\uXXXX}. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f || Character.isSurrogate(c)) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
