package io.chat4all.realtime;

import io.chat4all.codecs.Envelopes;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * What one connection already pushed: a bounded set of envelope keys (a message by its conversation
 * and sequence number, anything else from the feed by its cursor), and the feed position the replay
 * reached (everything at or before it was replayed).
 */
final class Dedup {
  private final int max;
  private final Set<String> seen = new LinkedHashSet<>();
  private long[] replayedUpTo;

  Dedup(int max) {
    this.max = Math.max(16, max);
  }

  /** True when {@code envelope} is new on this connection (and remembers it). */
  boolean firstTime(JsonObject envelope) {
    String type = envelope.getString(Envelopes.TYPE);
    String cursor = envelope.getString(Envelopes.CURSOR);
    long[] pos = Cursors.parse(cursor);
    if (pos != null && replayedUpTo != null && Cursors.compare(pos, replayedUpTo) <= 0) {
      return false;
    }
    String key = key(type, envelope, cursor);
    if (key == null) {
      return true;
    }
    if (!seen.add(key)) {
      return false;
    }
    if (seen.size() > max) {
      var it = seen.iterator();
      it.next();
      it.remove();
    }
    return true;
  }

  /** Whether the message {@code conversation}:{@code sequence} was pushed (a feed repeat). */
  boolean seenMessage(Object conversation, Object sequence) {
    return conversation != null
        && sequence != null
        && seen.contains("m:" + conversation + ":" + sequence);
  }

  /**
   * Records that the replay delivered everything up to {@code pos} (a cursor as {@link
   * Cursors#parse} reads it; null: nothing).
   */
  void replayed(long[] pos) {
    if (pos != null && (replayedUpTo == null || Cursors.compare(pos, replayedUpTo) > 0)) {
      replayedUpTo = pos;
    }
  }

  private static String key(String type, JsonObject envelope, String cursor) {
    if (Envelopes.MESSAGE.equals(type)) {
      JsonObject m = envelope.getJsonObject("message");
      if (m != null
          && m.getValue("conversation_id") != null
          && m.getValue("sequence_number") != null) {
        return "m:" + m.getValue("conversation_id") + ":" + m.getValue("sequence_number");
      }
    }
    return cursor == null ? null : "c:" + cursor;
  }
}
