package io.chat4all.channel.meta;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.vertx.core.json.JsonObject;
import java.util.Set;

/**
 * Classifies a Graph API error envelope ({@code {"error":{"code":..,"error_subcode":..}}}) by its
 * codes, not by the HTTP status (Graph reports throttling as HTTP 400).
 */
public final class GraphErrors {
  private GraphErrors() {}

  private static final Set<Integer> THROTTLING =
      Set.of(4, 17, 32, 613, 80007, 130429, 131048, 131056);
  private static final Set<Integer> RECIPIENT = Set.of(551, 1545041, 131026);
  private static final Set<Integer> MEDIA = Set.of(131052, 131053);

  /** The classified failure of a call that answered {@code httpStatus} with {@code body}. */
  public static ConnectorException classify(int httpStatus, JsonObject body) {
    JsonObject error = body == null ? null : body.getJsonObject("error");
    if (error == null) {
      ErrorClass c = httpStatus >= 500 ? ErrorClass.RETRYABLE : ErrorClass.PERMANENT;
      return ConnectorException.of(c, null, "Graph API answered HTTP " + httpStatus);
    }
    Integer code = error.getInteger("code");
    Integer subcode = error.getInteger("error_subcode");
    String providerCode = code == null ? null : subcode == null ? "" + code : code + "/" + subcode;
    String message = error.getString("message", "Graph API error");
    return ConnectorException.of(errorClass(httpStatus, code, subcode), providerCode, message);
  }

  static ErrorClass errorClass(int httpStatus, Integer code, Integer subcode) {
    if (code == null) {
      return httpStatus >= 500 ? ErrorClass.RETRYABLE : ErrorClass.PERMANENT;
    }
    if (THROTTLING.contains(code)) {
      return ErrorClass.THROTTLED;
    }
    if ((code == 10 && subcode != null && subcode == 2018278) || code == 131047) {
      return ErrorClass.WINDOW_CLOSED;
    }
    if (code == 190) {
      return ErrorClass.AUTH;
    }
    if (code == 10 || code == 200) {
      return ErrorClass.AUTH;
    }
    if (RECIPIENT.contains(code)) {
      return ErrorClass.RECIPIENT_UNAVAILABLE;
    }
    if (MEDIA.contains(code)) {
      return ErrorClass.MEDIA_REJECTED;
    }
    if (code == 1 || code == 2 || httpStatus >= 500) {
      return ErrorClass.RETRYABLE;
    }
    return ErrorClass.PERMANENT;
  }
}
