package io.chat4all.web;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.netty.handler.codec.http.websocketx.WebSocketHandshakeException;
import io.vertx.core.Future;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Turns every failure of a route into the JSON error body with the model's HTTP status. */
public final class HttpErrors {
  private static final Logger LOG = LoggerFactory.getLogger(HttpErrors.class);

  private HttpErrors() {}

  /** Router failure handler. */
  public static void handle(RoutingContext ctx) {
    send(ctx, toServiceException(ctx));
  }

  static ServiceException toServiceException(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (failure instanceof ServiceException se) {
      return se;
    }
    if (failure instanceof HttpException he) {
      return fromStatus(he.getStatusCode(), he.getPayload());
    }
    if (failure == null) {
      return fromStatus(ctx.statusCode(), null);
    }
    if (failure instanceof io.vertx.core.json.DecodeException) {
      return new ServiceException(ErrorCode.MALFORMED_JSON);
    }
    if (failure instanceof WebSocketHandshakeException) {
      // a client's bad upgrade request, not a server fault (Vert.x may have answered it already)
      LOG.debug("refused WebSocket upgrade on {}: {}", ctx.request().path(), failure.getMessage());
      return new ServiceException(ErrorCode.BAD_REQUEST, "not a valid WebSocket upgrade request");
    }
    ServiceException se = ServiceException.from(failure);
    if (se.code() == ErrorCode.INTERNAL) {
      LOG.error(
          "unhandled failure on {} {}", ctx.request().method(), ctx.request().path(), failure);
    }
    return se;
  }

  static ServiceException fromStatus(int status, String payload) {
    return switch (status) {
      case 400 ->
          new ServiceException(ErrorCode.BAD_REQUEST, payload == null ? "bad request" : payload);
      case 401 -> new ServiceException(ErrorCode.UNAUTHENTICATED);
      case 403 -> new ServiceException(ErrorCode.FORBIDDEN);
      case 404 -> new ServiceException(ErrorCode.ROUTE_NOT_FOUND);
      case 405 -> new ServiceException(ErrorCode.METHOD_NOT_ALLOWED);
      case 408 -> new ServiceException(ErrorCode.REQUEST_TIMEOUT);
      case 413 -> new ServiceException(ErrorCode.PAYLOAD_TOO_LARGE);
      case 414 -> new ServiceException(ErrorCode.URI_TOO_LONG);
      case 415 -> new ServiceException(ErrorCode.UNSUPPORTED_MEDIA_TYPE);
      case 426 -> new ServiceException(ErrorCode.UPGRADE_REQUIRED);
      case 429 -> new ServiceException(ErrorCode.RATE_LIMITED);
      case 431 -> new ServiceException(ErrorCode.HEADERS_TOO_LARGE);
      case 503 -> new ServiceException(ErrorCode.UNAVAILABLE);
      default -> new ServiceException(ErrorCode.INTERNAL);
    };
  }

  /**
   * Writes {@code {"error":{...}}} with the error's HTTP status (if the response is still open).
   */
  public static Future<Void> send(RoutingContext ctx, ServiceException error) {
    return send(ctx.response(), error);
  }

  /**
   * Writes {@code {"error":{...}}} with the error's HTTP status on a response outside a router (if
   * it is still open); completes when written.
   */
  public static Future<Void> send(HttpServerResponse response, ServiceException error) {
    if (response.headWritten() || response.closed()) {
      return Future.succeededFuture();
    }
    Object retry = error.details().getValue("retry_after_seconds");
    if (error.code() == ErrorCode.RATE_LIMITED && retry != null) {
      response.putHeader("Retry-After", retry.toString());
    }
    return response
        .setStatusCode(error.code().httpStatus())
        .putHeader("content-type", "application/json; charset=utf-8")
        .end(error.toJson().toBuffer());
  }
}
