package io.chat4all.files;

import io.chat4all.codecs.Outbox;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * The end of an upload: S3 completion, the whole file read back and checked (size and SHA-256),
 * then completed (with {@code file.uploaded} in the outbox), failed, or back to uploading.
 */
final class UploadCompletion {
  private static final Logger LOG = LoggerFactory.getLogger(UploadCompletion.class);

  private final Vertx vertx;
  private final FileStore store;
  private final ObjectStorage storage;
  private final FilesConfig config;

  UploadCompletion(Vertx vertx, FileStore store, ObjectStorage storage, FilesConfig config) {
    this.vertx = vertx;
    this.store = store;
    this.storage = storage;
    this.config = config;
  }

  /**
   * Completes the S3 upload and checks the whole file; the final document (completed, failed, or
   * back to uploading when S3 refused the parts). Safe to run again for a file left verifying.
   */
  Future<JsonObject> finish(JsonObject doc) {
    String fileId = doc.getString("file_id");
    JsonObject s = doc.getJsonObject("storage");
    String key = s.getString("key");
    List<CompletedPart> parts = new ArrayList<>();
    JsonArray chunks = doc.getJsonArray("chunks");
    for (int i = 0; i < chunks.size(); i++) {
      parts.add(
          CompletedPart.builder()
              .partNumber(i + 1)
              .eTag(chunks.getJsonObject(i).getString("etag"))
              .build());
    }
    return storage
        .complete(key, s.getString("upload_id"), parts)
        .recover(
            err -> {
              String code =
                  err instanceof ObjectStorage.StorageException se ? se.s3Code() : "unknown";
              if ("NoSuchUpload".equals(code)) {
                // completed by an earlier attempt: the object is there to check
                return Future.succeededFuture();
              }
              return Future.failedFuture(err);
            })
        .compose(x -> storage.sha256(key))
        .compose(
            hashed -> {
              String expected = FileViews.hex(doc.getString("expected_checksum"));
              long size = doc.getLong("size_bytes");
              String reason = null;
              if (hashed.size() != size) {
                reason = "the stored file has " + hashed.size() + " bytes, not " + size;
              } else if (expected != null && !expected.equals(hashed.sha256())) {
                reason =
                    "the file's SHA-256 is "
                        + hashed.sha256()
                        + ", not the "
                        + expected
                        + " it was uploaded with";
              }
              if (reason != null) {
                String why = reason;
                return store
                    .transition(
                        fileId,
                        FileStore.VERIFYING,
                        new JsonObject()
                            .put("upload_status", FileStore.FAILED)
                            .put("failure_reason", why)
                            .put("checksum", "sha256:" + hashed.sha256()))
                    .compose(
                        d ->
                            storage
                                .delete(key)
                                .otherwise((Void) null)
                                .map(y -> d == null ? doc : d));
              }
              String now = Wire.timestamp(Instant.now());
              // file.uploaded rides with the document (the same update): the outbox relay
              // publishes it, so a Kafka failure now cannot lose it
              JsonObject uploaded = FileViews.uploadedEvent(doc, hashed.sha256(), now);
              return store
                  .transition(
                      fileId,
                      FileStore.VERIFYING,
                      new JsonObject()
                          .put("upload_status", FileStore.COMPLETED)
                          .put("checksum", "sha256:" + hashed.sha256())
                          .put("upload_completed_at", now)
                          .put("expires_at", (String) null)
                          .put(
                              Outbox.FIELD,
                              new JsonArray()
                                  .add(
                                      Outbox.entry(
                                          Topics.name(config.topicPrefix(), Topics.FILE_UPLOADED),
                                          fileId,
                                          uploaded))))
                  .compose(
                      d -> {
                        if (d == null) {
                          return store.find(fileId);
                        }
                        Outbox.nudge(vertx, Outbox.MONGO);
                        return Future.succeededFuture(d);
                      });
            })
        .recover(
            err -> {
              String code =
                  err instanceof ObjectStorage.StorageException se ? se.s3Code() : "unknown";
              if ("InvalidPart".equals(code) || "InvalidPartOrder".equals(code)) {
                LOG.warn("file {}: S3 refused the parts ({}); back to uploading", fileId, code);
                return store
                    .transition(
                        fileId,
                        FileStore.VERIFYING,
                        new JsonObject()
                            .put("upload_status", FileStore.UPLOADING)
                            .put(
                                "failure_reason",
                                "a chunk changed while completing; complete again"))
                    .compose(d -> d == null ? store.find(fileId) : Future.succeededFuture(d));
              }
              LOG.warn("file {}: completion failed, retried later: {}", fileId, err.getMessage());
              return Future.failedFuture(err);
            });
  }
}
