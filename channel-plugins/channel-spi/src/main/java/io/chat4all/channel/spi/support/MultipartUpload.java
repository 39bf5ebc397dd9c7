package io.chat4all.channel.spi.support;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.streams.ReadStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;

/**
 * A {@code multipart/form-data} request whose file part is streamed from a {@link ReadStream}: the
 * text fields and the part header are written first, then the bytes as they arrive (with
 * back-pressure), then the closing boundary. The length is known up front, so the request has a
 * {@code Content-Length} and the file is never held in memory.
 */
public final class MultipartUpload {
  private static final SecureRandom RANDOM = new SecureRandom();

  private MultipartUpload() {}

  /** The answer to an upload: status, body and the Retry-After header (or null). */
  public record Answer(int status, Buffer body, String retryAfter) {}

  /**
   * Sends the upload; the answer.
   *
   * @param fields text fields in order
   * @param fileField name of the file part
   * @param size exact number of bytes {@code bytes} delivers (a different count fails the upload)
   */
  public static Future<Answer> send(
      HttpClient http,
      RequestOptions options,
      Map<String, String> fields,
      String fileField,
      String filename,
      String mimeType,
      long size,
      ReadStream<Buffer> bytes) {
    byte[] random = new byte[12];
    RANDOM.nextBytes(random);
    String boundary = "chat4all-" + HexFormat.of().formatHex(random);
    Buffer head = Buffer.buffer();
    for (Map.Entry<String, String> f : fields.entrySet()) {
      head.appendString("--" + boundary + "\r\n")
          .appendString(
              "Content-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n",
              StandardCharsets.UTF_8.name())
          .appendString(f.getValue(), StandardCharsets.UTF_8.name())
          .appendString("\r\n");
    }
    head.appendString("--" + boundary + "\r\n")
        .appendString(
            "Content-Disposition: form-data; name=\""
                + fileField
                + "\"; filename=\""
                + quoted(filename)
                + "\"\r\n",
            StandardCharsets.UTF_8.name())
        .appendString("Content-Type: " + mimeType + "\r\n\r\n");
    Buffer tail = Buffer.buffer("\r\n--" + boundary + "--\r\n");
    long length = head.length() + size + tail.length();
    return http.request(options)
        .compose(
            req -> {
              req.putHeader("Content-Type", "multipart/form-data; boundary=" + boundary);
              req.putHeader("Content-Length", Long.toString(length));
              Future<Answer> response =
                  req.response()
                      .compose(
                          r ->
                              r.body()
                                  .map(
                                      b ->
                                          new Answer(
                                              r.statusCode(), b, r.getHeader("Retry-After"))));
              req.write(head);
              pump(req, bytes, size, tail);
              return response;
            });
  }

  private static void pump(
      HttpClientRequest req, ReadStream<Buffer> bytes, long size, Buffer tail) {
    long[] seen = {0};
    Promise<Void> done = Promise.promise();
    bytes.exceptionHandler(
        err -> {
          if (done.tryComplete()) {
            req.reset(0, err);
          }
        });
    bytes.handler(
        buf -> {
          seen[0] += buf.length();
          if (seen[0] > size) {
            if (done.tryComplete()) {
              req.reset(
                  0,
                  ConnectorException.of(
                      ErrorClass.MEDIA_REJECTED, null, "the file is longer than announced"));
            }
            return;
          }
          req.write(buf);
          if (req.writeQueueFull()) {
            bytes.pause();
            req.drainHandler(v -> bytes.resume());
          }
        });
    bytes.endHandler(
        v -> {
          if (!done.tryComplete()) {
            return;
          }
          if (seen[0] != size) {
            req.reset(
                0,
                ConnectorException.of(
                    ErrorClass.RETRYABLE,
                    null,
                    "the file stream ended after " + seen[0] + " of " + size + " bytes"));
          } else {
            req.end(tail);
          }
        });
    bytes.resume();
  }

  private static String quoted(String name) {
    StringBuilder b = new StringBuilder();
    for (char c : (name == null || name.isBlank() ? "file" : name).toCharArray()) {
      b.append(c == '"' || c == '\\' || c < 0x20 ? '_' : c);
    }
    return b.toString();
  }
}
