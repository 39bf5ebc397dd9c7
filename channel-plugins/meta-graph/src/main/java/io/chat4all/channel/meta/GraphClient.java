package io.chat4all.channel.meta;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ConnectorMetrics;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.MediaDownload;
import io.chat4all.channel.spi.support.LimitedStream;
import io.chat4all.channel.spi.support.MultipartUpload;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * Calls of the Graph API ({@code {base}/{version}/{path}}) with the access token as a Bearer header
 * (never in the URL, never in a message): JSON POST and GET, a {@code multipart/form-data} upload
 * streamed from a {@link ReadStream}, and a streamed GET of media bytes with a byte limit.
 *
 * <p>Every failure is a {@link ConnectorException}: an answer with the Graph error envelope {@code
 * {"error":{"message","type","code","error_subcode","error_data":{"details"},"fbtrace_id"}}} is
 * classified by {@link GraphErrors} from its code (never from the HTTP status: throttling arrives
 * as 400 as well as 429); network errors and timeouts are {@link ErrorClass#RETRYABLE}. A {@code
 * Retry-After} header of a throttled answer is kept as the retry-after.
 */
public final class GraphClient {
  private final HttpClient http;
  private final String base;
  private final String version;
  private final String token;
  private final long timeoutMs;
  private final ConnectorMetrics metrics;

  /**
   * @param http the connector's HTTP client ({@code ConnectorContext.httpClient()})
   * @param baseUrl e.g. {@code https://graph.facebook.com} (a simulator in tests)
   * @param apiVersion e.g. {@code v21.0}
   * @param accessToken the access token (system-user or page token)
   * @param timeoutMs idle timeout of one call
   * @param metrics where call timings go ({@code provider.calls{method,outcome}}); may be null
   */
  public GraphClient(
      HttpClient http,
      String baseUrl,
      String apiVersion,
      String accessToken,
      long timeoutMs,
      ConnectorMetrics metrics) {
    this.http = http;
    this.base = trimSlash(baseUrl);
    this.version = apiVersion == null ? "" : trimSlash(apiVersion.replaceFirst("^/+", ""));
    this.token = accessToken;
    this.timeoutMs = timeoutMs;
    this.metrics = metrics;
  }

  private static String trimSlash(String s) {
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  /** {@code {base}/{version}/{path}}; a {@code path} that is already absolute is kept. */
  public String url(String path) {
    if (path.startsWith("http://") || path.startsWith("https://")) {
      return path;
    }
    String p = path.startsWith("/") ? path.substring(1) : path;
    return version.isEmpty() ? base + "/" + p : base + "/" + version + "/" + p;
  }

  /** {@code POST {base}/{version}/{path}} with a JSON body; the JSON answer. */
  public Future<JsonObject> post(String path, JsonObject body) {
    return json(HttpMethod.POST, path, body, timeoutMs);
  }

  /** {@code GET {base}/{version}/{path}}; the JSON answer. */
  public Future<JsonObject> get(String path) {
    return json(HttpMethod.GET, path, null, timeoutMs);
  }

  /** {@code GET {base}/{version}/{path}?{query}}; the JSON answer. */
  public Future<JsonObject> get(String path, Map<String, String> query) {
    StringBuilder p = new StringBuilder(path);
    char sep = path.contains("?") ? '&' : '?';
    for (Map.Entry<String, String> e : query.entrySet()) {
      p.append(sep)
          .append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8))
          .append('=')
          .append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
      sep = '&';
    }
    return json(HttpMethod.GET, p.toString(), null, timeoutMs);
  }

  /**
   * {@code DELETE {base}/{version}/{path}}; the JSON answer (e.g. unsubscribing a webhook field).
   */
  public Future<JsonObject> delete(String path) {
    return json(HttpMethod.DELETE, path, null, timeoutMs);
  }

  private Future<JsonObject> json(HttpMethod method, String path, JsonObject body, long timeout) {
    long started = System.nanoTime();
    String name = callName(method, path);
    return http.request(options(method, path, timeout))
        .compose(
            req -> {
              Future<HttpClientResponse> sent;
              if (body != null) {
                req.putHeader("Content-Type", "application/json");
                sent = req.send(body.toBuffer());
              } else {
                sent = req.send();
              }
              return sent.compose(resp -> resp.body().map(b -> answer(resp, b)));
            })
        .transform(ar -> finish(name, started, ar.failed() ? ar.cause() : null, ar.result()));
  }

  /**
   * Uploads a file as {@code multipart/form-data} to {@code {base}/{version}/{path}}: the text
   * {@code fields} in order, then the file part named {@code fileField} streamed from {@code bytes}
   * with back-pressure and an exact {@code Content-Length} ({@code size} must be the stream's
   * length). The JSON answer (WhatsApp: {@code {"id": <media id>}}).
   */
  public Future<JsonObject> upload(
      String path,
      Map<String, String> fields,
      String fileField,
      String filename,
      String mimeType,
      long size,
      ReadStream<Buffer> bytes,
      long uploadTimeoutMs) {
    long started = System.nanoTime();
    String name = callName(HttpMethod.POST, path);
    return MultipartUpload.send(
            http,
            options(HttpMethod.POST, path, uploadTimeoutMs),
            fields,
            fileField,
            filename,
            mimeType,
            size,
            bytes)
        .map(b -> answer(b.status(), b.body(), b.retryAfter()))
        .transform(ar -> finish(name, started, ar.failed() ? ar.cause() : null, ar.result()));
  }

  /** How a media URL is fetched: with the access token, or as the public link it is. */
  public enum MediaAuth {
    /**
     * The Bearer token goes along (WhatsApp's media URLs require it), but only to the Graph base
     * itself or over https: never in clear text to another host.
     */
    BEARER,
    /** No token: a CDN link signed by the provider (Messenger and Instagram attachments). */
    NONE
  }

  /**
   * A streamed {@code GET} of media bytes at {@code url} (absolute, e.g. the {@code url} WhatsApp's
   * {@code GET /{media_id}} answers, or a path under the Graph base) with the same Bearer token
   * ({@link MediaAuth#BEARER}). Fails with {@link ErrorClass#MEDIA_REJECTED} when the announced
   * {@code Content-Length} is above {@code maxBytes}; the stream (paused) ends with a {@code
   * MEDIA_REJECTED} error and the connection is reset once more than {@code maxBytes} arrive.
   *
   * @param mimeType the MIME type to report when the answer has no {@code Content-Type}
   * @param filename the name to report
   */
  public Future<MediaDownload> download(
      String url, long maxBytes, String mimeType, String filename, long downloadTimeoutMs) {
    return download(url, maxBytes, mimeType, filename, downloadTimeoutMs, MediaAuth.BEARER);
  }

  /**
   * As {@link #download(String, long, String, String, long)}, with the token sent as {@code auth}
   * says.
   */
  public Future<MediaDownload> download(
      String url,
      long maxBytes,
      String mimeType,
      String filename,
      long downloadTimeoutMs,
      MediaAuth auth) {
    long started = System.nanoTime();
    RequestOptions options = options(HttpMethod.GET, url, downloadTimeoutMs);
    if (auth == MediaAuth.NONE || !mayCarryToken(url(url))) {
      options.removeHeader("Authorization");
    }
    return http.request(options)
        .compose(req -> req.send())
        .compose(
            resp -> {
              if (resp.statusCode() != 200) {
                return resp.body()
                    .compose(
                        b ->
                            Future.failedFuture(
                                failure(
                                    resp.statusCode(),
                                    jsonOrNull(b),
                                    resp.getHeader("Retry-After"))));
              }
              resp.pause();
              long length = contentLength(resp.getHeader("Content-Length"));
              if (length > maxBytes) {
                resp.request().reset();
                return Future.failedFuture(
                    ConnectorException.of(
                        ErrorClass.MEDIA_REJECTED,
                        null,
                        "the file has "
                            + length
                            + " bytes, more than the "
                            + maxBytes
                            + " that may be downloaded"));
              }
              String type = resp.getHeader("Content-Type");
              return Future.succeededFuture(
                  new MediaDownload(
                      new LimitedStream(resp, maxBytes, () -> resp.request().reset()),
                      mimeType != null ? mimeType : type,
                      length,
                      filename));
            })
        .transform(
            ar ->
                finish("download", started, ar.failed() ? ar.cause() : null, (Object) ar.result()))
        .map(o -> (MediaDownload) o);
  }

  /** The token goes to the Graph base, or over https; never in clear text to another host. */
  boolean mayCarryToken(String absoluteUrl) {
    return absoluteUrl.startsWith("https://") || sameOrigin(absoluteUrl, base);
  }

  private static boolean sameOrigin(String url, String base) {
    try {
      java.net.URI a = java.net.URI.create(url);
      java.net.URI b = java.net.URI.create(base);
      return java.util.Objects.equals(a.getScheme(), b.getScheme())
          && java.util.Objects.equals(a.getHost(), b.getHost())
          && a.getPort() == b.getPort();
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static long contentLength(String header) {
    try {
      return header == null ? -1 : Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private RequestOptions options(HttpMethod method, String path, long timeout) {
    return new RequestOptions()
        .setMethod(method)
        .setAbsoluteURI(url(path))
        .putHeader("Authorization", "Bearer " + token)
        .setIdleTimeout(timeout)
        .setConnectTimeout(Math.min(timeout, 10_000));
  }

  private static JsonObject answer(HttpClientResponse resp, Buffer body) {
    return answer(resp.statusCode(), body, resp.getHeader("Retry-After"));
  }

  private static JsonObject answer(int status, Buffer body, String retryAfter) {
    return answer(status, body, retryAfter, "call");
  }

  private static JsonObject jsonOrNull(Buffer body) {
    try {
      return body == null || body.length() == 0 ? null : new JsonObject(body);
    } catch (DecodeException | ClassCastException e) {
      return null; // not JSON: classified by the HTTP status
    }
  }

  private static JsonObject answer(int status, Buffer body, String retryAfter, String what) {
    JsonObject json = jsonOrNull(body);
    if (status >= 200 && status < 300 && json != null && json.getValue("error") == null) {
      return json;
    }
    if (status >= 200 && status < 300) {
      throw ConnectorException.of(
          ErrorClass.RETRYABLE, null, "Graph API " + what + " answered without a JSON object");
    }
    throw failure(status, json, retryAfter);
  }

  /**
   * The classified failure of an answer with HTTP {@code status}, body {@code json} (the error
   * envelope, or null) and the {@code Retry-After} header (or null).
   */
  public static ConnectorException failure(int status, JsonObject json, String retryAfter) {
    ConnectorException ce = GraphErrors.classify(status, json);
    Duration after = retryAfter(retryAfter);
    if (ce.errorClass() == ErrorClass.THROTTLED && after != null && ce.retryAfter() == null) {
      return ConnectorException.throttled(ce.providerCode(), after, ce.getMessage());
    }
    return ce;
  }

  private static Duration retryAfter(String header) {
    if (header == null) {
      return null;
    }
    try {
      return Duration.ofSeconds(Math.max(0, Long.parseLong(header.trim())));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static String callName(HttpMethod method, String path) {
    String p = path.replaceFirst("\\?.*$", "");
    String last = p.substring(p.lastIndexOf('/') + 1);
    // ids (digits) are not method names: "POST messages", "POST media", "GET object"
    return method.name()
        + " "
        + (last.isEmpty() || Character.isDigit(last.charAt(0)) ? "object" : last);
  }

  private <T> Future<T> finish(String method, long started, Throwable failure, T result) {
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    if (failure == null) {
      record(method, took, "ok");
      return Future.succeededFuture(result);
    }
    ConnectorException ce =
        failure instanceof ConnectorException c
            ? c
            : ConnectorException.of(
                ErrorClass.RETRYABLE, null, "Graph API unreachable: " + describe(failure));
    record(method, took, ce.errorClass().name().toLowerCase(Locale.ROOT));
    return Future.failedFuture(ce);
  }

  private void record(String method, Duration took, String outcome) {
    if (metrics != null) {
      metrics.record("provider.calls", took, "method", method, "outcome", outcome);
    }
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }
}
