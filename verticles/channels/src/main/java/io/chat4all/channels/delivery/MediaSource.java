package io.chat4all.channels.delivery;

import io.chat4all.channel.spi.Capabilities;
import io.chat4all.channel.spi.Capabilities.MediaTransfer;
import io.chat4all.channel.spi.MediaKind;
import io.chat4all.channel.spi.OutboundMedia;
import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.util.Set;

/**
 * The file of a media message as a connector gets it: checked against the channel's limits first
 * (too large for both link and upload: {@code media_too_large}, before any call), then a presigned
 * link from the files service (when the channel can fetch by link) and a way to stream the bytes
 * from S3 through the non-blocking HTTP client (when it can upload); the file is never held whole
 * in memory.
 */
final class MediaSource {
  private static final Set<String> MEDIA_TYPES = Set.of("file", "image", "video", "audio");

  private final Vertx vertx;
  private final HttpClient http;
  private final int linkTtlSeconds;
  private final long readIdleTimeoutMs;

  /**
   * @param readIdleTimeoutMs how long a read from storage may go without a byte before it fails: a
   *     request never waits on an answer without bound (a pooled connection the server closes just
   *     as a request is put on it can leave that request neither answered nor failed in Vert.x
   *     5.0.7's HTTP/1 client; the request's own idle timer still ends it)
   */
  MediaSource(Vertx vertx, HttpClient http, int linkTtlSeconds, long readIdleTimeoutMs) {
    this.vertx = vertx;
    this.http = http;
    this.linkTtlSeconds = linkTtlSeconds;
    this.readIdleTimeoutMs = readIdleTimeoutMs;
  }

  /** The media of {@code message} for {@code recipient}, or null for a text message. */
  Future<OutboundMedia> resolve(JsonObject message, String recipient, Capabilities caps) {
    JsonObject payload = message.getJsonObject("payload", new JsonObject());
    String type = payload.getString("type");
    if (!MEDIA_TYPES.contains(type)) {
      return Future.succeededFuture();
    }
    JsonObject ref = payload.getJsonObject("file_reference", new JsonObject());
    String fileId = ref.getString("file_id");
    long size = ref.getLong("size_bytes", -1L);
    MediaKind kind = MediaKind.ofPayloadType(type);
    boolean upload = caps.allows(kind, size, MediaTransfer.UPLOAD);
    boolean link = caps.allows(kind, size, MediaTransfer.LINK);
    if (fileId == null || size < 0) {
      return Future.failedFuture(
          new DeliveryFailure("media_unavailable", "the message names no stored file"));
    }
    if (!upload && !link) {
      return Future.failedFuture(
          new DeliveryFailure(
              "media_too_large",
              "a " + type + " of " + size + " bytes is above this channel's limits"));
    }
    return ServiceBus.request(
            vertx,
            Addresses.FILES,
            "media_source",
            new JsonObject()
                .put("user_id", recipient)
                .put("file_id", fileId)
                .put("link_ttl_seconds", linkTtlSeconds))
        .recover(
            err -> {
              ErrorCode code = ServiceException.from(err).code();
              return code == ErrorCode.NOT_FOUND || code == ErrorCode.CONFLICT
                  ? Future.failedFuture(
                      new DeliveryFailure(
                          "media_unavailable", "the file is not available to the recipient"))
                  : Future.failedFuture(err);
            })
        .map(
            src -> {
              JsonObject file = src.getJsonObject("file", ref);
              String internal = src.getString("internal_url");
              return new OutboundMedia(
                  kind,
                  fileId,
                  file.getString("filename", ref.getString("filename", "file")),
                  file.getString(
                      "mime_type", ref.getString("mime_type", "application/octet-stream")),
                  size,
                  file.getString("checksum"),
                  link ? src.getString("link") : null,
                  upload ? () -> open(internal) : null);
            });
  }

  /** The object's bytes, paused, straight from S3. */
  Future<ReadStream<Buffer>> open(String url) {
    return http.request(
            new RequestOptions()
                .setMethod(HttpMethod.GET)
                .setAbsoluteURI(url)
                .setIdleTimeout(readIdleTimeoutMs))
        .compose(req -> req.send())
        .compose(
            resp -> {
              resp.pause();
              if (resp.statusCode() != 200) {
                resp.resume();
                return Future.failedFuture(
                    new IllegalStateException("file storage answered " + resp.statusCode()));
              }
              return Future.succeededFuture((ReadStream<Buffer>) resp);
            });
  }
}
