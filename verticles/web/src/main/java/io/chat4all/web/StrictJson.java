package io.chat4all.web;

import com.fasterxml.jackson.core.JsonParser;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;

/**
 * JSON as RFC 8259 defines it, for everything a client sends: Vert.x's own decoder also accepts
 * comments, lets a repeated key silently replace the earlier one and reads UTF-16/32 or a
 * byte-order mark. Here each of those is {@code malformed_json}. Values come out as Vert.x decodes
 * them ({@link JsonObject}, {@link io.vertx.core.json.JsonArray}, String, Number, Boolean, null).
 */
public final class StrictJson {
  private StrictJson() {}

  /** A UTF-8 JSON text holding one object. */
  public static JsonObject object(Buffer bytes, String what) {
    if (bytes.length() > 0) {
      int first = bytes.getUnsignedByte(0);
      if (first == 0xEF || first == 0xFE || first == 0xFF) {
        throw malformed(what + " must be UTF-8 JSON without a byte-order mark");
      }
      for (int i = 0; i < Math.min(4, bytes.length()); i++) {
        if (bytes.getByte(i) == 0) {
          throw malformed(what + " must be UTF-8 JSON");
        }
      }
    }
    return asObject(parse(JacksonCodec.createParser(bytes), what), what);
  }

  /** A JSON text (already characters, e.g. a WebSocket text frame) holding one object. */
  public static JsonObject object(String text, String what) {
    if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
      throw malformed(what + " must be JSON without a byte-order mark");
    }
    return asObject(parse(JacksonCodec.createParser(text), what), what);
  }

  private static Object parse(JsonParser parser, String what) {
    parser.disable(JsonParser.Feature.ALLOW_COMMENTS);
    parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    try {
      return JacksonCodec.fromParser(parser, Object.class);
    } catch (DecodeException e) {
      String reason = e.getMessage() == null ? "" : e.getMessage();
      int quote = reason.indexOf("Duplicate field '");
      if (quote >= 0) {
        int start = quote + "Duplicate field '".length();
        int end = reason.indexOf('\'', start);
        String key = end > start ? reason.substring(start, end) : "?";
        throw malformed(what + " is not valid JSON: the key \"" + key + "\" appears twice");
      }
      if (reason.contains("comment")) {
        throw malformed(what + " is not valid JSON: comments are not allowed");
      }
      throw malformed(what + " is not valid JSON");
    }
  }

  private static JsonObject asObject(Object parsed, String what) {
    if (!(parsed instanceof JsonObject o)) {
      throw malformed(what + " must be a JSON object");
    }
    return o;
  }

  private static ServiceException malformed(String message) {
    return new ServiceException(ErrorCode.MALFORMED_JSON, message);
  }
}
