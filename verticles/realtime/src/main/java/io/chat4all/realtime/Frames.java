package io.chat4all.realtime;

import io.chat4all.codecs.EncodedOnce;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Encodes the feed's envelopes into text frames, writing each envelope's own fields around its
 * message's encoding: the pipeline publishes one envelope per recipient, all holding one message
 * whose encoding is kept once made ({@link EncodedOnce}, passed as is by {@code SharedJsonCodec}),
 * so a group message reaching 50 sockets on a node is encoded once, not 50 times.
 */
final class Frames {
  static final String MESSAGE = "message";
  private static final String HEX = "0123456789ABCDEF";

  private Frames() {}

  /**
   * The text of an envelope the feed hands over (its fields in order, as {@link JsonObject#encode}
   * writes them). The envelope and its message must not change once handed over.
   */
  static String envelope(JsonObject envelope) {
    Map<String, Object> fields = envelope.getMap();
    if (!(fields.get(MESSAGE) instanceof JsonObject message)) {
      return envelope.encode();
    }
    String encodedMessage = EncodedOnce.encode(message);
    StringBuilder out = new StringBuilder(encodedMessage.length() + 128).append('{');
    boolean first = true;
    for (Map.Entry<String, Object> e : fields.entrySet()) {
      if (!first) {
        out.append(',');
      }
      first = false;
      string(out, e.getKey());
      out.append(':');
      Object value = e.getValue();
      if (value == message) {
        out.append(encodedMessage);
      } else if (value instanceof String s) {
        string(out, s);
      } else if (value == null) {
        out.append("null");
      } else {
        out.append(Json.encode(value));
      }
    }
    return out.append('}').toString();
  }

  /** A JSON string, escaped as Jackson escapes it (quote, backslash, control characters). */
  static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(HEX.charAt(c >> 4)).append(HEX.charAt(c & 0xF));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
