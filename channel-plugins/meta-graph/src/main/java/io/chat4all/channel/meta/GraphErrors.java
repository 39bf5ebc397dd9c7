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
      Set.of(4, 17, 32, 613, 80007, 130429, 131048, 131056, 133016);
  private static final Set<Integer> RECIPIENT = Set.of(551, 1545041, 131026);
  private static final Set<Integer> MEDIA = Set.of(131052);

  /**
   * Transient on Meta's side: 1 unknown, 2 service, 131000 something went wrong, 131016 service
   * unavailable, 131053 media upload error (WhatsApp could not fetch or process the medium for
   * now), 133004 server temporarily unavailable.
   */
  private static final Set<Integer> TRANSIENT = Set.of(1, 2, 131000, 131016, 131053, 133004);

  /** The classified failure of a call that answered {@code httpStatus} with {@code body}. */
  public static ConnectorException classify(int httpStatus, JsonObject body) {
    JsonObject error = body != null && body.getValue("error") instanceof JsonObject e ? e : null;
    if (error == null) {
      ErrorClass c =
          httpStatus >= 500
              ? ErrorClass.RETRYABLE
              : httpStatus == 429
                  ? ErrorClass.THROTTLED
                  : httpStatus == 401 ? ErrorClass.AUTH : ErrorClass.PERMANENT;
      return ConnectorException.of(c, null, "Graph API answered HTTP " + httpStatus);
    }
    Integer code = number(error.getValue("code"));
    Integer subcode = number(error.getValue("error_subcode"));
    String providerCode = code == null ? null : subcode == null ? "" + code : code + "/" + subcode;
    return ConnectorException.of(
        errorClass(httpStatus, code, subcode), providerCode, describe(error));
  }

  /**
   * The error's {@code message}, with {@code error_data.details} and {@code fbtrace_id} when given
   * (the trace id is what Meta's support asks for).
   */
  public static String describe(JsonObject error) {
    StringBuilder b =
        new StringBuilder(String.valueOf(error.getValue("message", "Graph API error")));
    if (error.getValue("error_data") instanceof JsonObject data
        && data.getValue("details") instanceof String details
        && !details.isBlank()) {
      b.append(": ").append(details);
    }
    if (error.getValue("fbtrace_id") instanceof String trace) {
      b.append(" (fbtrace_id ").append(trace).append(')');
    }
    return b.toString();
  }

  private static Integer number(Object v) {
    if (v instanceof Number n) {
      return n.intValue();
    }
    if (v instanceof String s) {
      try {
        return Integer.parseInt(s.trim());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  /**
   * The class of a failure reported with {@code code} (and no HTTP answer), e.g. the {@code
   * errors[].code} of a WhatsApp {@code failed} status webhook.
   */
  public static ErrorClass errorClass(Integer code) {
    return errorClass(200, code, null);
  }

  static ErrorClass errorClass(int httpStatus, Integer code, Integer subcode) {
    if (code == null) {
      if (httpStatus == 429) {
        return ErrorClass.THROTTLED;
      }
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
    if (TRANSIENT.contains(code) || httpStatus >= 500) {
      return ErrorClass.RETRYABLE;
    }
    return ErrorClass.PERMANENT;
  }
}
