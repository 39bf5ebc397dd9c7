package io.chat4all.codecs;

import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fields of a JSON object that is never changed once built, keeping its encoding once made: a
 * message published to many recipients is encoded for the first socket that sends it and reused by
 * the others, for as long as any of their envelopes holds it. The object stays a plain {@link
 * JsonObject} (equal to any other with the same fields); only its map is of this class. As with
 * {@link SharedJsonCodec}, nothing may change such an object (or what it holds) once it is built:
 * its encoding would no longer say what it holds.
 */
public final class EncodedOnce extends LinkedHashMap<String, Object> {
  private static final long serialVersionUID = 1L;

  private transient volatile String text;

  private EncodedOnce(Map<String, Object> fields) {
    super(fields);
  }

  /** A JSON object with the fields of {@code json} that keeps its encoding ({@code json} if so). */
  public static JsonObject of(JsonObject json) {
    return json.getMap() instanceof EncodedOnce
        ? json
        : new JsonObject(new EncodedOnce(json.getMap()));
  }

  /** The encoding of {@code json}: kept after the first call when it is one {@link #of} made. */
  public static String encode(JsonObject json) {
    if (!(json.getMap() instanceof EncodedOnce fields)) {
      return json.encode();
    }
    String kept = fields.text;
    if (kept == null) {
      // two threads may both encode it at first; they make the same text
      kept = json.encode();
      fields.text = kept;
    }
    return kept;
  }
}
