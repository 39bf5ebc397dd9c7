package io.chat4all.node.edge;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.web.HttpErrors;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answer to a request the HTTP codec could not parse (the server's invalid-request handler):
 * the JSON error body with {@code X-Request-Id} like every other answer, then the connection is
 * closed (the rest of its bytes cannot be trusted). A request line over the limit is 414 {@code
 * uri_too_long}, headers over the limit 431 {@code headers_too_large}, anything else (a non-numeric
 * {@code Content-Length}, a broken request line) 400 {@code bad_request}.
 */
final class InvalidRequests {
  private static final Logger LOG = LoggerFactory.getLogger(InvalidRequests.class);

  private final int maxInitialLineLength;
  private final int maxHeaderSize;

  InvalidRequests(int maxInitialLineLength, int maxHeaderSize) {
    this.maxInitialLineLength = maxInitialLineLength;
    this.maxHeaderSize = maxHeaderSize;
  }

  void handle(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    ServiceException error;
    if (cause instanceof TooLongHttpLineException) {
      error =
          new ServiceException(
              ErrorCode.URI_TOO_LONG,
              "the request line is longer than " + maxInitialLineLength + " bytes");
    } else if (cause instanceof TooLongHttpHeaderException) {
      error =
          new ServiceException(
              ErrorCode.HEADERS_TOO_LARGE,
              "the request headers are larger than " + maxHeaderSize + " bytes");
    } else {
      error =
          new ServiceException(ErrorCode.BAD_REQUEST, "not a valid HTTP/1.1 request" + why(cause));
    }
    LOG.debug("invalid HTTP request from {}: {}", request.remoteAddress(), String.valueOf(cause));
    request
        .response()
        .putHeader(HttpEdgeVerticle.REQUEST_ID, UUID.randomUUID().toString())
        .putHeader(HttpHeaders.CONNECTION, "close");
    HttpErrors.send(request.response(), error).onComplete(v -> request.connection().close());
  }

  /** The codec's reason, short and printable (it may quote the client's bytes). */
  private static String why(Throwable cause) {
    String message = cause == null ? null : cause.getMessage();
    if (message == null || message.isBlank()) {
      return "";
    }
    String clean = message.replaceAll("[^\\x20-\\x7e]", "?");
    return ": " + (clean.length() > 200 ? clean.substring(0, 200) + "…" : clean);
  }
}
