package io.chat4all.files;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;

/**
 * Streams one chunk from an edge (an HTTP request body, a gRPC stream) into its S3 part: the files
 * service says where it goes and how long it must be, the bytes flow through a {@link PartWriter}
 * with back-pressure on the source, and the stored part is recorded. Memory per chunk stays at a
 * few socket buffers whatever the chunk size.
 */
public final class ChunkIngest {
  private final Vertx vertx;
  private final ObjectStorage storage;

  public ChunkIngest(Vertx vertx, ObjectStorage storage) {
    this.vertx = vertx;
    this.storage = storage;
  }

  /** An open chunk: write its bytes to {@link #writer}, then {@link #finish} it. */
  public record Slot(String userId, String fileId, int chunkNumber, PartWriter writer) {}

  /**
   * Checks the chunk may be stored now (uploader, uploading, number in range, declared length
   * right) and opens its part.
   */
  public Future<Slot> open(String userId, String fileId, int chunkNumber, Long declaredLength) {
    return ServiceBus.request(
            vertx,
            Addresses.FILES,
            FileActions.CHUNK_BEGIN,
            new JsonObject()
                .put("user_id", userId)
                .put("file_id", fileId)
                .put("chunk_number", chunkNumber)
                .put("declared_length", declaredLength))
        .compose(
            t ->
                storage.openPart(
                    t.getString("key"), t.getString("upload_id"), chunkNumber, t.getLong("length")))
        .map(w -> new Slot(userId, fileId, chunkNumber, w));
  }

  /** Ends the part (checking length and, when given, checksum) and records it. */
  public Future<JsonObject> finish(Slot slot, String expectedSha256) {
    return slot.writer()
        .end(expectedSha256)
        .recover(err -> explain(slot, err))
        .onSuccess(part -> io.chat4all.web.obs.Meters.uploaded(part.size()))
        .compose(
            part ->
                ServiceBus.request(
                    vertx,
                    Addresses.FILES,
                    FileActions.CHUNK_STORED,
                    new JsonObject()
                        .put("user_id", slot.userId())
                        .put("file_id", slot.fileId())
                        .put("chunk_number", slot.chunkNumber())
                        .put("size_bytes", part.size())
                        .put("sha256", part.sha256())
                        .put("etag", part.etag())));
  }

  /**
   * Why a chunk could not be stored. Storage failing mid-part is often the upload itself ending
   * (aborted, expired or completed by another request: S3 drops the multipart upload and may break
   * the connection rather than answer NoSuchUpload); the upload's state is looked up again and a
   * chunk of an upload that is no longer in progress is refused as a conflict, not as storage being
   * unavailable.
   */
  public <T> Future<T> explain(Slot slot, Throwable err) {
    ServiceException e = ServiceException.from(err);
    if (e.code() != ErrorCode.UNAVAILABLE) {
      return Future.failedFuture(e);
    }
    return ServiceBus.request(
            vertx,
            Addresses.FILES,
            FileActions.CHUNK_BEGIN,
            new JsonObject()
                .put("user_id", slot.userId())
                .put("file_id", slot.fileId())
                .put("chunk_number", slot.chunkNumber()))
        .transform(
            still -> {
              if (still.failed()
                  && ServiceException.from(still.cause()).code() == ErrorCode.CONFLICT) {
                return Future.failedFuture(still.cause());
              }
              return Future.failedFuture(e);
            });
  }

  /**
   * Pumps {@code source} (already paused) into the slot until it ends; fails early when it sends
   * more than the chunk's length, breaks, or S3 gives up.
   */
  public static Future<Void> pump(ReadStream<Buffer> source, PartWriter writer) {
    Promise<Void> done = Promise.promise();
    source.handler(
        buf -> {
          if (done.future().isComplete()) {
            return;
          }
          if (!writer.write(buf)) {
            ServiceException e =
                new ServiceException(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    "the chunk has more than the " + writer.length() + " bytes it must have",
                    new JsonObject().put("expected_bytes", writer.length()));
            writer.reset(e);
            done.tryFail(e);
            return;
          }
          if (writer.failure() != null) {
            Throwable f = writer.failure();
            writer.reset(f);
            done.tryFail(ServiceException.from(f));
            return;
          }
          if (writer.writeQueueFull()) {
            source.pause();
            writer.drainHandler(v -> source.resume());
          }
        });
    writer.failureHandler(
        f -> {
          writer.reset(f);
          done.tryFail(ServiceException.from(f));
        });
    source.exceptionHandler(
        e -> {
          writer.reset(e);
          done.tryFail(
              new ServiceException(
                  ErrorCode.BAD_REQUEST, "the chunk upload broke off: " + e.getMessage()));
        });
    source.endHandler(v -> done.tryComplete());
    source.resume();
    return done.future();
  }
}
