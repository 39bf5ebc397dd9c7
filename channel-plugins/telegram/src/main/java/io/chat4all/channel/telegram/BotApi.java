package io.chat4all.channel.telegram;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ConnectorMetrics;
import io.chat4all.channel.spi.ErrorClass;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.Locale;

/**
 * Calls of the Bot API: {@code POST {base}/bot<token>/<method>} with a JSON body, answered by
 * {@code {"ok":true,"result":…}} or {@code {"ok":false,"error_code":…,"description":…,
 * "parameters":{"retry_after":…}}}. Every failure becomes a {@link ConnectorException} classified
 * from the error code and description. The token is part of the URL only: it is never put into a
 * message, so no failure or log line carries it.
 */
final class BotApi {
  private final HttpClient http;
  private final String base;
  private final String token;
  private final long timeoutMs;
  private final ConnectorMetrics metrics;

  BotApi(HttpClient http, String base, String token, long timeoutMs, ConnectorMetrics metrics) {
    this.http = http;
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    this.token = token;
    this.timeoutMs = timeoutMs;
    this.metrics = metrics;
  }

  /** The options of a request to {@code method}. */
  RequestOptions options(String method, long timeout) {
    return new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setAbsoluteURI(base + "/bot" + token + "/" + method)
        .setIdleTimeout(timeout)
        .setConnectTimeout(Math.min(timeout, 10_000));
  }

  /** The URL a file from getFile is downloaded from: {@code {base}/file/bot<token>/<path>}. */
  String fileUrl(String filePath) {
    return base + "/file/bot" + token + "/" + filePath;
  }

  /** Calls {@code method} with a JSON body; the {@code result} value. */
  Future<Object> call(String method, JsonObject params) {
    return call(method, params, timeoutMs);
  }

  Future<Object> call(String method, JsonObject params, long timeout) {
    long started = System.nanoTime();
    return http.request(options(method, timeout))
        .compose(
            req ->
                req.putHeader("Content-Type", "application/json")
                    .send(params.toBuffer())
                    .compose(resp -> resp.body().map(body -> result(resp, body))))
        .transform(ar -> finish(method, started, ar.succeeded() ? null : ar.cause(), ar.result()));
  }

  /** Completes a call: records it and classifies a failure that is not classified yet. */
  <T> Future<T> finish(String method, long started, Throwable failure, T result) {
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    if (failure == null) {
      metrics.record("provider.calls", took, "method", method, "outcome", "ok");
      return Future.succeededFuture(result);
    }
    ConnectorException ce =
        failure instanceof ConnectorException c
            ? c
            : ConnectorException.of(
                ErrorClass.RETRYABLE, null, "Bot API unreachable: " + describe(failure));
    metrics.record(
        "provider.calls",
        took,
        "method",
        method,
        "outcome",
        ce.errorClass().name().toLowerCase(Locale.ROOT));
    return Future.failedFuture(ce);
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** The {@code result} of a reply, or the classified failure it reports. */
  static Object result(HttpClientResponse resp, Buffer body) {
    JsonObject reply;
    try {
      reply = new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      int status = resp.statusCode();
      throw ConnectorException.of(
          status >= 500 || status < 300 || status == 429
              ? ErrorClass.RETRYABLE
              : status == 401 || status == 404 ? ErrorClass.AUTH : ErrorClass.PERMANENT,
          Integer.toString(status),
          "Bot API answered HTTP " + status + " without a JSON reply");
    }
    if (Boolean.TRUE.equals(reply.getValue("ok"))) {
      return reply.getValue("result");
    }
    throw classify(reply, resp.statusCode());
  }

  /** Classifies an {@code ok:false} reply (the provider's error_code is kept as the code). */
  static ConnectorException classify(JsonObject reply, int httpStatus) {
    int code =
        reply.getValue("error_code") instanceof Number n ? n.intValue() : Math.max(httpStatus, 0);
    String description = String.valueOf(reply.getValue("description", "no description"));
    String lower = description.toLowerCase(Locale.ROOT);
    String providerCode = Integer.toString(code);
    JsonObject parameters =
        reply.getValue("parameters") instanceof JsonObject p ? p : new JsonObject();
    if (code == 429) {
      Duration after =
          parameters.getValue("retry_after") instanceof Number n
              ? Duration.ofSeconds(Math.max(0, n.longValue()))
              : null;
      return ConnectorException.throttled(providerCode, after, description);
    }
    ErrorClass c;
    if (code == 401 || code == 404) {
      c = ErrorClass.AUTH; // 401 Unauthorized; 404 Not Found is the answer to a malformed token
    } else if (code == 403) {
      // bot was blocked by the user, user is deactivated, bot was kicked, bot can't initiate
      c = ErrorClass.RECIPIENT_UNAVAILABLE;
    } else if (code == 400 && lower.contains("chat not found")) {
      c = ErrorClass.PERMANENT;
    } else if (code == 400 && isMediaProblem(lower)) {
      c = ErrorClass.MEDIA_REJECTED;
    } else if (code == 413) {
      c = ErrorClass.MEDIA_REJECTED;
    } else if (code >= 500) {
      c = ErrorClass.RETRYABLE;
    } else {
      c = ErrorClass.PERMANENT;
    }
    return ConnectorException.of(c, providerCode, description);
  }

  private static boolean isMediaProblem(String d) {
    return d.contains("file")
        || d.contains("photo")
        || d.contains("http url")
        || d.contains("web page content")
        || d.contains("too big")
        || d.contains("image_process_failed")
        || d.contains("media");
  }
}
