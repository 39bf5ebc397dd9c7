package io.chat4all.messaging;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Opaque history cursors: "a:<seq>" (newer than seq) or "b:<seq>" (older than seq). */
public final class HistoryCursor {
  private HistoryCursor() {}

  public static String encode(boolean after, long seq) {
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(((after ? "a:" : "b:") + seq).getBytes(StandardCharsets.UTF_8));
  }

  /** {after: bool, seq: long}; a cursor this API did not hand out is a 400. */
  public static JsonObject decode(String cursor) {
    try {
      String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (s.length() > 2 && (s.startsWith("a:") || s.startsWith("b:"))) {
        long seq = Long.parseLong(s.substring(2));
        if (seq >= 0) {
          return new JsonObject().put("after", s.startsWith("a:")).put("seq", seq);
        }
      }
    } catch (IllegalArgumentException ignored) {
      // fall through
    }
    throw new ServiceException(
        ErrorCode.VALIDATION_FAILED,
        "cursor is not a cursor this API handed out",
        new JsonObject().put("field", "cursor"));
  }
}
