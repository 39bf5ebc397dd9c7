package io.chat4all.realtime;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Pattern;

/** Reads the change-feed cursors the messaging service hands out (base64url of a stream id). */
final class Cursors {
  private static final Pattern STREAM_ID = Pattern.compile("\\d{1,20}-\\d{1,20}");

  private Cursors() {}

  /** {@code {millis, seq}} of a cursor, or null when it is not one. */
  static long[] parse(String cursor) {
    if (cursor == null || cursor.length() > 64) {
      return null;
    }
    try {
      String id = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (!STREAM_ID.matcher(id).matches()) {
        return null;
      }
      int dash = id.indexOf('-');
      return new long[] {
        Long.parseUnsignedLong(id.substring(0, dash)),
        Long.parseUnsignedLong(id.substring(dash + 1))
      };
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static boolean valid(String cursor) {
    return parse(cursor) != null;
  }

  /** Compares two valid cursors by feed position. */
  static int compare(long[] a, long[] b) {
    int c = Long.compareUnsigned(a[0], b[0]);
    return c != 0 ? c : Long.compareUnsigned(a[1], b[1]);
  }
}
