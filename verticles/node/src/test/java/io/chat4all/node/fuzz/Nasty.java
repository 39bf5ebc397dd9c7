package io.chat4all.node.fuzz;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Random;
import java.util.UUID;

/** Hostile values for the fuzzer, drawn from a seeded {@link Random}. */
final class Nasty {
  /** Path segments (already URL-encoded where needed). */
  static final List<String> SEGMENTS =
      List.of(
          "",
          "%00",
          "a%00b",
          "%C3%28",
          "%FF%FE",
          "..%2F..%2Fetc%2Fpasswd",
          "%2e%2e",
          "-1",
          "0",
          "99999999999999999999",
          "9223372036854775808",
          "00000000-0000-0000-0000-000000000000",
          "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
          "%F0%9F%98%80",
          "null",
          "undefined",
          "%27%20OR%201%3D1--",
          "%24%7Bjndi%3Aldap%3A%2F%2Fx%7D",
          "%3Cscript%3E",
          "%24where",
          "a.b",
          "%20",
          "x".repeat(300),
          "y".repeat(5000));

  /** Query values (URL-encoded). */
  static final List<String> QUERY =
      List.of(
          "",
          "-1",
          "0",
          "1",
          "1e9",
          "abc",
          "99999999999999999999",
          "-9223372036854775809",
          "NaN",
          "%00",
          "%C3%28",
          "eyJzZXEiOjF9",
          "AAAA%3D%3D",
          "%E2%80%AE",
          "true",
          "%5B%5D",
          "%7B%7D",
          "z".repeat(4000));

  /** Raw JSON-ish bodies: malformed, hostile or of the wrong shape. */
  static final List<String> RAW_BODIES =
      List.of(
          "",
          " ",
          "{",
          "}",
          "[]",
          "null",
          "true",
          "42",
          "\"text\"",
          "{\"a\":}",
          "{\"a\":1,}",
          "{'a':1}",
          "{\"a\":1}{\"b\":2}",
          "{\"a\":1e400}",
          "{\"a\":-1e400}",
          "{\"a\":123456789012345678901234567890}",
          "{\"a\":\"\\ud800\"}",
          "{\"a\":\"\\u0000\"}",
          "{\"a\":\"\\x41\"}",
          "{\"a\":\"\\uZZZZ\"}",
          "{\"a\":NaN}",
          "{\"a\":Infinity}",
          "/* c */ {}",
          "\uFEFF{}",
          "{\"__proto__\":{\"x\":1}}",
          "{\"$where\":\"1\"}",
          "{\"a.b\":1}",
          "{\"\":1}",
          "{\"a\":1,\"a\":2}");

  static final List<String> STRINGS =
      List.of(
          "",
          " ",
          "\u0000",
          "a\u0000b",
          "\ud800",
          "\udfff x",
          "\u202e evil",
          "💥".repeat(50),
          "$where",
          "a.b",
          "${jndi:ldap://x}",
          "<script>alert(1)</script>",
          "' OR 1=1 --",
          "\\",
          "%00",
          "\r\n\r\nX: y",
          "x".repeat(10_000),
          "00000000-0000-0000-0000-000000000000",
          UUID.randomUUID().toString().toUpperCase());

  static final List<Object> NUMBERS =
      List.of(
          0,
          -1,
          1,
          Integer.MAX_VALUE,
          Integer.MIN_VALUE,
          Long.MAX_VALUE,
          Long.MIN_VALUE,
          0.5,
          -0.0,
          1e300,
          Double.MIN_VALUE);

  private Nasty() {}

  static <T> T pick(Random r, List<T> from) {
    return from.get(r.nextInt(from.size()));
  }

  /** Any JSON value, of any type, sometimes hostile. */
  static Object anyValue(Random r, int depth) {
    switch (r.nextInt(depth > 3 ? 5 : 8)) {
      case 0:
        return null;
      case 1:
        return r.nextBoolean();
      case 2:
        return pick(r, NUMBERS);
      case 3:
      case 4:
        return pick(r, STRINGS);
      case 5:
        return new JsonArray().add(anyValue(r, depth + 1)).add(anyValue(r, depth + 1));
      default:
        return new JsonObject()
            .put(pick(r, List.of("a", "type", "text", "$x", "id", "")), anyValue(r, depth + 1));
    }
  }

  /** An object or array nested {@code depth} levels. */
  static String deep(int depth, boolean arrays) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < depth; i++) {
      b.append(arrays ? "[" : "{\"a\":");
    }
    b.append("1");
    for (int i = 0; i < depth; i++) {
      b.append(arrays ? "]" : "}");
    }
    return b.toString();
  }
}
