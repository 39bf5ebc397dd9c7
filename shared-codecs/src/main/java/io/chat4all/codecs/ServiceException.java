package io.chat4all.codecs;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.Objects;

/**
 * A typed failure carrying an {@link ErrorCode}. It is a {@link ReplyException}, so it can fail a
 * {@code Future} that an event-bus consumer replies with; {@link #fail(Message)} sends it across
 * the (clustered) event bus and {@link #from(Throwable)} reads it back on the other side, details
 * included.
 */
public class ServiceException extends ReplyException {

  private final ErrorCode code;
  private final JsonObject details;
  private Throwable internalCause;

  public ServiceException(ErrorCode code) {
    this(code, code.defaultMessage(), null);
  }

  public ServiceException(ErrorCode code, String message) {
    this(code, message, null);
  }

  public ServiceException(ErrorCode code, String message, JsonObject details) {
    super(ReplyFailure.RECIPIENT_FAILURE, code.failureCode(), message);
    this.code = Objects.requireNonNull(code, "code");
    this.details = details == null ? new JsonObject() : details;
  }

  /** For {@code internal} errors made from an unexpected failure: that failure (for logs). */
  @Override
  public synchronized Throwable getCause() {
    return internalCause != null ? internalCause : super.getCause();
  }

  public ErrorCode code() {
    return code;
  }

  public JsonObject details() {
    return details;
  }

  /** The JSON error body {@code {"error":{"code","message","details"}}}. */
  public JsonObject toJson() {
    return new JsonObject()
        .put(
            "error",
            new JsonObject()
                .put("code", code.wireName())
                .put("message", getMessage())
                .put("details", details.copy()));
  }

  /**
   * Fails an event-bus message so that the sender can rebuild this exception with {@link #from}.
   */
  public void fail(Message<?> message) {
    message.fail(code.failureCode(), toJson().encode());
  }

  /**
   * Maps any failure onto a {@link ServiceException}: typed ones pass through, event-bus reply
   * failures are decoded (timeouts and missing handlers become {@code timeout} / {@code
   * unavailable}), failures an installed {@link FailureTranslator} knows become its error (a store
   * refusing a request value: {@code validation_failed}), everything else is {@code internal} with
   * a generic message (the cause is kept for logs, never shown to clients).
   */
  public static ServiceException from(Throwable failure) {
    if (failure instanceof ServiceException se) {
      return se;
    }
    if (failure instanceof ReplyException re) {
      switch (re.failureType()) {
        case TIMEOUT:
          return new ServiceException(ErrorCode.TIMEOUT);
        case NO_HANDLERS:
          return new ServiceException(ErrorCode.UNAVAILABLE, "no service is listening");
        default:
          break;
      }
      ErrorCode code = ErrorCode.fromFailureCode(re.failureCode());
      if (code != null) {
        String message = re.getMessage();
        JsonObject details = null;
        if (message != null && message.startsWith("{")) {
          try {
            JsonObject error = new JsonObject(message).getJsonObject("error");
            if (error != null) {
              message = error.getString("message", code.defaultMessage());
              details = error.getJsonObject("details");
            }
          } catch (DecodeException | ClassCastException e) {
            // not one of ours: keep the raw message
          }
        }
        return new ServiceException(
            code, message == null ? code.defaultMessage() : message, details);
      }
    }
    for (FailureTranslator translator : FailureTranslator.installed()) {
      ServiceException translated = translator.translate(failure);
      if (translated != null) {
        return translated;
      }
    }
    ServiceException internal = new ServiceException(ErrorCode.INTERNAL);
    internal.internalCause = failure;
    return internal;
  }
}
