package io.chat4all.realtime;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Reads the change-feed cursors the messaging service hands out (base64url of a stream id). */
final class Cursors {
  private Cursors() {}

  /** {@code {millis, seq}} of a cursor, or null when it is not one. */
  static long[] parse(String cursor) {
    if (cursor == null || cursor.length() > 64) {
      return null;
    }
    try {
      // "<digits>-<digits>", 1 to 20 digits each (checked by hand: this runs per live envelope)
      byte[] id = Base64.getUrlDecoder().decode(cursor);
      int dash = -1;
      for (int i = 0; i < id.length; i++) {
        byte b = id[i];
        if (b == '-' && dash < 0) {
          dash = i;
        } else if (b < '0' || b > '9') {
          return null;
        }
      }
      int tail = id.length - dash - 1;
      if (dash < 1 || dash > 20 || tail < 1 || tail > 20) {
        return null;
      }
      String text = new String(id, StandardCharsets.ISO_8859_1);
      return new long[] {
        Long.parseUnsignedLong(text, 0, dash, 10),
        Long.parseUnsignedLong(text, dash + 1, id.length, 10)
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
