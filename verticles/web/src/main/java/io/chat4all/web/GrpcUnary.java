package io.chat4all.web;

import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.util.function.BiFunction;

/**
 * Unary gRPC handlers with access to request metadata (the generated service classes hide it).
 * Failures become the model's gRPC status with message "code: message" and the trailers {@code
 * chat4all-error-code} and {@code chat4all-error-details} (JSON).
 */
public final class GrpcUnary {
  public static final String ERROR_CODE_TRAILER = "chat4all-error-code";
  public static final String ERROR_DETAILS_TRAILER = "chat4all-error-details";

  private GrpcUnary() {}

  /** What a handler knows about the call besides its message. */
  public record Call(MultiMap headers, String remoteHost) {}

  public static <Req, Resp> Handler<GrpcServerRequest<Req, Resp>> handler(
      BiFunction<Req, Call, Future<Resp>> call) {
    return request ->
        request.handler(
            message -> {
              Future<Resp> result;
              try {
                String remote =
                    request.connection() == null || request.connection().remoteAddress() == null
                        ? "unknown"
                        : request.connection().remoteAddress().hostAddress();
                result = call.apply(message, new Call(request.headers(), remote));
              } catch (RuntimeException e) {
                result = Future.failedFuture(e);
              }
              result.onComplete(
                  r -> {
                    if (r.succeeded()) {
                      request.response().end(r.result());
                    } else {
                      fail(request.response(), r.cause());
                    }
                  });
            });
  }

  /** The longest status message a call ends with (the trailers must stay far below 8 KiB). */
  public static final int MAX_STATUS_MESSAGE_CHARS = 256;

  /** The longest {@link #ERROR_DETAILS_TRAILER} value; longer details are left out. */
  public static final int MAX_DETAILS_CHARS = 1024;

  /**
   * Ends a call with the error model's status for {@code failure}: status message "code: message"
   * and the trailers {@link #ERROR_CODE_TRAILER} and {@link #ERROR_DETAILS_TRAILER}. Both are
   * bounded ({@link #MAX_STATUS_MESSAGE_CHARS}, {@link #MAX_DETAILS_CHARS}) and the details are
   * ASCII, so a message that repeats a client's value cannot push the trailers past the client's
   * header-list limit (which would reset the call instead of answering it).
   */
  public static void fail(GrpcServerResponse<?, ?> response, Throwable failure) {
    ServiceException error = ServiceException.from(failure);
    response
        .status(GrpcStatus.valueOf(error.code().grpcCode().code()))
        .statusMessage(statusMessage(error));
    response.trailers().set(ERROR_CODE_TRAILER, error.code().wireName());
    response.trailers().set(ERROR_DETAILS_TRAILER, details(error));
    response.end();
  }

  /** "code: message", cut to {@link #MAX_STATUS_MESSAGE_CHARS}. */
  public static String statusMessage(ServiceException error) {
    String text = error.code().wireName() + ": " + error.getMessage();
    if (text.length() <= MAX_STATUS_MESSAGE_CHARS) {
      return text;
    }
    int end = MAX_STATUS_MESSAGE_CHARS - 1;
    if (Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end) + "\u2026";
  }

  /** The details as ASCII JSON ({@code \\uXXXX} escapes), {@code {}} when too long. */
  static String details(ServiceException error) {
    String json = error.details().encode();
    StringBuilder ascii = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c >= 0x20 && c < 0x7f) {
        ascii.append(c);
      } else {
        ascii.append(String.format("\\u%04x", (int) c));
      }
      if (ascii.length() > MAX_DETAILS_CHARS) {
        return "{}";
      }
    }
    return ascii.toString();
  }

  /**
   * Authenticates the call (before any validation, as REST does), then calls {@code action} on the
   * service {@code address} with the request built from {@code {user_id}}; validation failures
   * thrown while building it fail the call.
   */
  public static Future<io.vertx.core.json.JsonObject> authed(
      io.vertx.core.Vertx vertx,
      TokenVerifier verifier,
      Call call,
      String address,
      String action,
      java.util.function.Function<io.vertx.core.json.JsonObject, io.vertx.core.json.JsonObject>
          request) {
    return principal(verifier, call)
        .compose(
            p ->
                io.chat4all.codecs.ServiceBus.request(
                    vertx,
                    address,
                    action,
                    request.apply(new io.vertx.core.json.JsonObject().put("user_id", p.userId()))));
  }

  /** The authenticated caller of a gRPC call (metadata {@code authorization: Bearer …}). */
  public static Future<Principal> principal(TokenVerifier verifier, Call call) {
    return Authn.verify(verifier, call.headers().get("authorization"));
  }
}
