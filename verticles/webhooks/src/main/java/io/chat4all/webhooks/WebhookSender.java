package io.chat4all.webhooks;

import io.chat4all.codecs.HttpClientDefaults;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.SocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeoutException;

/**
 * One delivery attempt: resolves and checks the target ({@link AddressGuard}), then POSTs the
 * stored body to the checked address with the signature headers. Redirects are not followed; the
 * attempt has {@code webhooks.timeout_ms} in all (connect, answer, body); a 2xx answer is a
 * delivery. Response bodies are read and dropped (at most 64 KiB, then the connection is cut).
 */
public final class WebhookSender {
  public static final String HEADER_WEBHOOK_ID = "Chat4All-Webhook-Id";
  public static final String HEADER_DELIVERY_ID = "Chat4All-Delivery-Id";
  public static final String HEADER_TIMESTAMP = "Chat4All-Timestamp";
  public static final String HEADER_SIGNATURE = "Chat4All-Signature";
  public static final String HEADER_EVENT_TYPE = "Chat4All-Event-Type";
  public static final String HEADER_ATTEMPT = "Chat4All-Attempt";
  private static final int MAX_RESPONSE_BYTES = 64 * 1024;

  /** What an attempt came to; {@code statusCode} 0 when no HTTP answer came. */
  public record Outcome(
      Instant startedAt, long durationMs, int statusCode, String error, Long retryAfterMs) {
    public boolean delivered() {
      return statusCode >= 200 && statusCode < 300;
    }
  }

  private final Vertx vertx;
  private final WebhooksConfig config;
  private final AddressGuard guard;
  private final HttpClientAgent client;

  public WebhookSender(Vertx vertx, WebhooksConfig config) {
    this.vertx = vertx;
    this.config = config;
    this.guard = new AddressGuard(vertx, config.allowPrivateAddresses());
    this.client =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(HttpClientDefaults.KEEP_ALIVE_TIMEOUT_SECONDS)
                .setTcpNoDelay(true)
                .setConnectTimeout((int) config.connectTimeoutMs())
                .setVerifyHost(true)
                .setForceSni(true)
                .setMaxRedirects(0),
            new PoolOptions().setHttp1MaxSize(config.maxInFlight()).setMaxWaitQueueSize(-1));
  }

  public Future<Void> close() {
    return client.close();
  }

  /** Attempt {@code attempt} of a claimed delivery; never fails (failures are outcomes). */
  public Future<Outcome> send(DeliveryStore.Claimed c, int attempt) {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    URI uri;
    try {
      uri = URI.create(c.url());
    } catch (IllegalArgumentException e) {
      return Future.succeededFuture(failed(started, t0, "the URL is not valid"));
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase();
    boolean ssl = scheme.equals("https");
    if (!ssl && !(scheme.equals("http") && config.allowHttp())) {
      return Future.succeededFuture(
          failed(started, t0, "refused: the URL must use https (webhooks.allow_http is off)"));
    }
    String host = WebhookUrls.hostOf(uri);
    int port = uri.getPort() == -1 ? (ssl ? 443 : 80) : uri.getPort();
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    if (uri.getRawQuery() != null) {
      path += "?" + uri.getRawQuery();
    }
    String target = path;
    return guard
        .resolve(host)
        .compose(address -> post(c, attempt, host, port, ssl, target, address.getHostAddress(), t0))
        .map(o -> new Outcome(started, elapsed(t0), o.statusCode(), o.error(), o.retryAfterMs()))
        .recover(
            err ->
                Future.succeededFuture(
                    failed(
                        started,
                        t0,
                        err instanceof AddressGuard.Refused
                            ? "refused: " + err.getMessage()
                            : describe(err))));
  }

  private Future<Outcome> post(
      DeliveryStore.Claimed c,
      int attempt,
      String host,
      int port,
      boolean ssl,
      String path,
      String ip,
      long t0) {
    byte[] body = c.body().getBytes(StandardCharsets.UTF_8);
    long timestamp = Instant.now().getEpochSecond();
    RequestOptions options =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setHost(host)
            .setPort(port)
            .setSsl(ssl)
            .setURI(path)
            .setServer(SocketAddress.inetSocketAddress(port, ip))
            .setFollowRedirects(false)
            .setConnectTimeout(config.connectTimeoutMs())
            .putHeader("Content-Type", "application/json")
            .putHeader("User-Agent", "Chat4All-Webhooks/1")
            .putHeader(HEADER_WEBHOOK_ID, c.webhookId().toString())
            .putHeader(HEADER_DELIVERY_ID, c.deliveryId().toString())
            .putHeader(HEADER_EVENT_TYPE, c.eventType())
            .putHeader(HEADER_ATTEMPT, Integer.toString(attempt))
            .putHeader(HEADER_TIMESTAMP, Long.toString(timestamp))
            .putHeader(
                HEADER_SIGNATURE,
                Signatures.header(c.secret(), c.previousSecret(), timestamp, body));
    Promise<Outcome> result = Promise.promise();
    long timer =
        vertx.setTimer(
            config.timeoutMs(),
            t ->
                result.tryFail(
                    new TimeoutException("no answer within " + config.timeoutMs() + " ms")));
    client
        .request(options)
        .onFailure(result::tryFail)
        .onSuccess(
            req -> {
              result.future().onFailure(err -> req.reset(0, err));
              req.send(Buffer.buffer(body))
                  .onFailure(result::tryFail)
                  .onSuccess(resp -> drain(req, resp, result));
            });
    return result.future().onComplete(x -> vertx.cancelTimer(timer));
  }

  /** Reads and drops the answer's body (cut after 64 KiB), then completes with the outcome. */
  private static void drain(HttpClientRequest req, HttpClientResponse resp, Promise<Outcome> out) {
    int status = resp.statusCode();
    String error = null;
    if (status >= 300 && status < 400) {
      String location = resp.getHeader("Location");
      error =
          "HTTP "
              + status
              + ": redirects are not followed"
              + (location == null ? "" : " (Location: " + location + ")");
    } else if (status < 200 || status >= 300) {
      error = "HTTP " + status;
    }
    Outcome outcome =
        new Outcome(null, 0, status, error, retryAfterMs(resp.getHeader("Retry-After")));
    long[] received = {0};
    resp.handler(
        b -> {
          received[0] += b.length();
          if (received[0] > MAX_RESPONSE_BYTES) {
            out.tryComplete(outcome);
            req.reset();
          }
        });
    resp.exceptionHandler(err -> out.tryComplete(outcome));
    resp.endHandler(v -> out.tryComplete(outcome));
  }

  /** A {@code Retry-After} value (seconds or an HTTP date) in ms, or null. */
  static Long retryAfterMs(String value) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String v = value.trim();
    try {
      long seconds = Long.parseLong(v);
      return seconds < 0 ? null : seconds * 1000;
    } catch (NumberFormatException notSeconds) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
        return Math.max(0, Duration.between(Instant.now(), at.toInstant()).toMillis());
      } catch (RuntimeException notADate) {
        return null;
      }
    }
  }

  private static Outcome failed(Instant started, long t0, String error) {
    return new Outcome(started, elapsed(t0), 0, error, null);
  }

  private static long elapsed(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static String describe(Throwable err) {
    if (err instanceof TimeoutException) {
      return "timeout: " + err.getMessage();
    }
    String m = err.getMessage();
    return m == null || m.isBlank() ? err.getClass().getSimpleName() : m;
  }
}
