package io.chat4all.node.config;

import io.vertx.core.json.JsonObject;

/**
 * Whole-number settings checked by name before a service reads them: a value that is not a whole
 * number, or lies outside its range, fails start-up with a {@link ConfigException} naming the key,
 * not with the {@code ClassCastException} of a {@code getLong} or a service misbehaving later. (The
 * {@link ConfigLoader} turns environment and command-line strings into numbers; a configuration
 * built as JSON in code, or merged over the defaults, reaches the services unconverted.)
 */
public final class ConfigRanges {
  private ConfigRanges() {}

  /**
   * The whole number at the dotted {@code key} (a section and a key, e.g. {@code
   * realtime.feed_check_ms}) of {@code raw}: {@code def} when absent, else 0 (off) or a value from
   * {@code min} to {@code max}.
   */
  public static long offOrWithin(JsonObject raw, String key, long def, long min, long max) {
    int dot = key.indexOf('.');
    Object section = raw.getValue(key.substring(0, dot));
    Object v = section instanceof JsonObject s ? s.getValue(key.substring(dot + 1)) : null;
    if (v == null) {
      return def;
    }
    return checked(key, v, min, max, true);
  }

  /**
   * Checks the whole number at {@code key} of {@code section} (named {@code name} in errors): when
   * present it must be from {@code min} to {@code max}; it is put back as a number (a string from
   * JSON built in code included). An absent key is left to the reader's default.
   */
  public static void within(JsonObject section, String name, String key, long min, long max) {
    Object v = section.getValue(key);
    if (v == null) {
      return;
    }
    section.put(key, checked(name + "." + key, v, min, max, false));
  }

  /** {@code v} as a whole number from {@code min} to {@code max} (or 0, when {@code offToo}). */
  private static long checked(String dotted, Object v, long min, long max, boolean offToo) {
    ConfigException out =
        new ConfigException(
            dotted,
            (offToo ? "must be 0 (off) or a whole number from " : "must be a whole number from ")
                + min
                + " to "
                + max
                + ", got "
                + v);
    long n;
    try {
      n = whole(dotted, v);
    } catch (ConfigException notWhole) {
      throw out;
    }
    if ((n < min || n > max) && !(offToo && n == 0)) {
      throw out;
    }
    return n;
  }

  /**
   * {@code v} as a whole number (a JSON number without fraction, or its text); else named error.
   */
  public static long whole(String dotted, Object v) {
    Long n = io.chat4all.codecs.Settings.whole(v);
    if (n == null) {
      throw new ConfigException(dotted, "must be an integer, got \"" + v + "\"");
    }
    return n;
  }
}
