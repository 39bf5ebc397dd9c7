package io.chat4all.codecs;

import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;

/**
 * Settings read by name, each refused with an {@link IllegalArgumentException} naming its dotted
 * key rather than a {@code ClassCastException} from a {@code getInteger} or a value that silently
 * means something else. Whole numbers are read exactly: a JSON number without a fraction, or its
 * text; a fraction, a number past int64, text that is not a number and a section are not whole
 * numbers, and nothing is truncated, wrapped or clamped. (Environment and command-line values
 * arrive as numbers, but a configuration file or JSON built in code can hold anything.)
 */
public final class Settings {
  private Settings() {}

  /** {@code v} as an exact whole number, or null when it is not one. */
  public static Long whole(Object v) {
    try {
      if (v instanceof Number n) {
        // exactly: BigInteger past int64 and 1e30 are refused, never wrapped
        return new BigDecimal(n.toString()).longValueExact();
      }
      if (v instanceof String s) {
        return Long.parseLong(s.strip());
      }
    } catch (NumberFormatException | ArithmeticException e) {
      return null;
    }
    return null;
  }

  /**
   * The whole number at {@code key} of {@code section}: {@code def} when absent, else a value from
   * {@code min} to {@code max}; otherwise an {@link IllegalArgumentException} naming {@code
   * prefix.key}, its range and the value found.
   */
  public static long within(
      JsonObject section, String prefix, String key, long def, long min, long max) {
    return ranged(section, prefix, key, def, min, max, false);
  }

  /**
   * As {@link #within}, where 0 also stands (for "off"): {@code def} when absent, else 0 or a value
   * from {@code min} to {@code max}.
   */
  public static long offOrWithin(
      JsonObject section, String prefix, String key, long def, long min, long max) {
    return ranged(section, prefix, key, def, min, max, true);
  }

  private static long ranged(
      JsonObject section, String prefix, String key, long def, long min, long max, boolean off) {
    Object v = section == null ? null : section.getValue(key);
    if (v == null) {
      return def;
    }
    Long n = whole(v);
    if (n == null || ((n < min || n > max) && !(off && n == 0))) {
      throw new IllegalArgumentException(
          dotted(prefix, key)
              + (off ? " must be 0 (off) or a whole number from " : " must be a whole number from ")
              + min
              + " to "
              + max
              + ", got "
              + v);
    }
    return n;
  }

  private static String dotted(String prefix, String key) {
    return prefix == null || prefix.isEmpty() ? key : prefix + "." + key;
  }

  /** {@link #within} for a setting that fits an {@code int} ({@code max} at most 2^31 − 1). */
  public static int intWithin(
      JsonObject section, String prefix, String key, int def, int min, int max) {
    return (int) within(section, prefix, key, def, min, max);
  }

  /**
   * The name at {@code key} of {@code section} (a consumer group, say): {@code def} when absent,
   * else non-blank text of at most 255 characters without control characters.
   */
  public static String name(JsonObject section, String prefix, String key, String def) {
    Object v = section == null ? null : section.getValue(key);
    if (v == null) {
      return def;
    }
    if (!(v instanceof String s)
        || s.isBlank()
        || s.length() > 255
        || s.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw new IllegalArgumentException(
          dotted(prefix, key)
              + " must be a non-empty name of at most 255 characters, without control characters");
    }
    return s;
  }

  /**
   * The section at {@code key} of {@code parent}: empty when absent, refused when not a section.
   */
  public static JsonObject section(JsonObject parent, String prefix, String key) {
    Object v = parent.getValue(key);
    if (v == null) {
      return new JsonObject();
    }
    if (!(v instanceof JsonObject o)) {
      throw new IllegalArgumentException(dotted(prefix, key) + " must be a section");
    }
    return o;
  }

  /**
   * The whole number at {@code key} of {@code section}, {@code def} when absent (its range is the
   * reader's to check); not a whole number: an {@link IllegalArgumentException} naming the key.
   */
  public static long longOf(JsonObject section, String prefix, String key, long def) {
    Object v = section == null ? null : section.getValue(key);
    if (v == null) {
      return def;
    }
    Long n = whole(v);
    if (n == null) {
      throw new IllegalArgumentException(dotted(prefix, key) + " must be a whole number, got " + v);
    }
    return n;
  }

  /**
   * {@link #longOf} for a setting held in an {@code int}: past its range is refused, not wrapped.
   */
  public static int intOf(JsonObject section, String prefix, String key, int def) {
    return intWithin(section, prefix, key, def, Integer.MIN_VALUE, Integer.MAX_VALUE);
  }

  /** The flag at {@code key}: {@code def} when absent, else true or false (or their text). */
  public static boolean flag(JsonObject section, String prefix, String key, boolean def) {
    Object v = section == null ? null : section.getValue(key);
    if (v == null) {
      return def;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof String t
        && (t.strip().equalsIgnoreCase("true") || t.strip().equalsIgnoreCase("false"))) {
      return t.strip().equalsIgnoreCase("true");
    }
    throw new IllegalArgumentException(dotted(prefix, key) + " must be true or false, got " + v);
  }

  /**
   * The list at {@code key} of {@code section} as text, each item trimmed: {@code def} when absent;
   * a text is a comma-separated list, blank parts dropped (as the config loader reads one from the
   * environment); anything else but a list of text or numbers (a number, a flag, a section, a list
   * holding a section, a flag or null) is refused naming the key, never a {@code
   * ClassCastException}.
   */
  public static java.util.List<String> texts(
      JsonObject section, String prefix, String key, java.util.List<String> def) {
    Object v = section == null ? null : section.getValue(key);
    if (v == null) {
      return def;
    }
    if (v instanceof String t) {
      java.util.List<String> parts = new java.util.ArrayList<>();
      for (String part : t.split(",")) {
        if (!part.isBlank()) {
          parts.add(part.trim());
        }
      }
      return java.util.List.copyOf(parts);
    }
    if (!(v instanceof io.vertx.core.json.JsonArray a)) {
      throw new IllegalArgumentException(dotted(prefix, key) + " must be a list, got " + v);
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    for (Object item : a) {
      if (!(item instanceof String) && !(item instanceof Number)) {
        throw new IllegalArgumentException(
            dotted(prefix, key) + " must be a list of text values, got " + item + " in it");
      }
      out.add(String.valueOf(item).trim());
    }
    return java.util.List.copyOf(out);
  }
}
