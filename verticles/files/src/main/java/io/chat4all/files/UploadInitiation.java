package io.chat4all.files;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import java.util.UUID;

/**
 * Upload initiation ({@code initiate}): checks the request (name, size, MIME type, checksum,
 * membership, rate limit and the user's quota under a cluster-wide lock), creates the S3 multipart
 * upload and records the file with one empty slot per chunk; the S3 upload is aborted when the
 * record cannot be written.
 */
final class UploadInitiation {
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy/MM/dd").withZone(ZoneOffset.UTC);

  private final Vertx vertx;
  private final FileStore store;
  private final ObjectStorage storage;
  private final FilesConfig config;
  private final UploadLimits limits;
  private final FileAccess access;

  UploadInitiation(
      Vertx vertx,
      FileStore store,
      ObjectStorage storage,
      FilesConfig config,
      UploadLimits limits,
      FileAccess access) {
    this.vertx = vertx;
    this.store = store;
    this.storage = storage;
    this.config = config;
    this.limits = limits;
    this.access = access;
  }

  Future<JsonObject> initiate(JsonObject req) {
    String userId = req.getString("user_id");
    JsonObject body = req.copy();
    body.remove("user_id");
    Bodies.onlyFields(
        body, Set.of("filename", "size_bytes", "mime_type", "checksum_sha256", "conversation_id"));
    String filename = Bodies.string(body, "filename", 1, 255);
    for (int i = 0; i < filename.length(); i++) {
      char c = filename.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        throw Bodies.invalid("filename", "must not contain control characters");
      }
    }
    if (filename.isBlank()) {
      throw Bodies.invalid("filename", "must not be blank");
    }
    Object rawSize = body.getValue("size_bytes");
    if (!(rawSize instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
      throw Bodies.invalid("size_bytes", rawSize == null ? "is required" : "must be an integer");
    }
    long size = n.longValue();
    if (size < 1) {
      throw Bodies.invalid("size_bytes", "must be at least 1");
    }
    long maxSize = limits.maxSizeBytes();
    if (size > maxSize) {
      throw new ServiceException(
          ErrorCode.PAYLOAD_TOO_LARGE,
          "files may have at most " + maxSize + " bytes",
          new JsonObject().put("field", "size_bytes").put("max_size_bytes", maxSize));
    }
    String mime = Bodies.string(body, "mime_type", 3, 255);
    if (!FilesVerticle.MIME.matcher(mime).matches()) {
      throw Bodies.invalid("mime_type", "must be a MIME type such as application/pdf");
    }
    if (!config.mimeAllowed(mime)) {
      throw new ServiceException(
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          "files of type " + mime + " are not accepted",
          new JsonObject()
              .put("field", "mime_type")
              .put("allowed", new JsonArray(config.allowedMimeTypes())));
    }
    String checksum = Bodies.optionalString(body, "checksum_sha256", 64, 64);
    if (checksum != null && !FilesVerticle.SHA256.matcher(checksum).matches()) {
      throw Bodies.invalid("checksum_sha256", "must be 64 lowercase hex digits (SHA-256)");
    }
    String conversationId = Bodies.uuid(body, "conversation_id");

    String fileId = UUID.randomUUID().toString();
    String key = "files/" + DAY.format(Instant.now()) + "/" + fileId;
    return limits
        .admit(userId)
        .compose(x -> access.isMember(conversationId, userId))
        .compose(
            member ->
                member
                    ? Future.<Void>succeededFuture()
                    : Future.failedFuture(
                        new ServiceException(ErrorCode.NOT_FOUND, "conversation not found")))
        .compose(
            x ->
                withQuota(
                    userId,
                    size,
                    () ->
                        start(
                            fileId, key, filename, size, mime, conversationId, userId, checksum)));
  }

  /**
   * Runs {@code insert} while holding the user's cluster-wide quota lock, after checking that the
   * new upload fits: two initiations of one user, on any nodes, cannot both take the last bytes.
   */
  private Future<JsonObject> withQuota(
      String userId, long size, java.util.function.Supplier<Future<JsonObject>> insert) {
    if (limits.userQuotaBytes() == 0) {
      return insert.get();
    }
    return vertx
        .sharedData()
        .getLockWithTimeout("chat4all.files.quota." + userId, 10_000)
        .recover(
            err ->
                Future.failedFuture(
                    new ServiceException(
                        ErrorCode.UNAVAILABLE, "another upload of yours is being set up; retry")))
        .compose(
            lock -> quota(userId, size).compose(x -> insert.get()).onComplete(x -> lock.release()));
  }

  private Future<JsonObject> start(
      String fileId,
      String key,
      String filename,
      long size,
      String mime,
      String conversationId,
      String userId,
      String checksum) {
    long chunkSize = config.chunkSizeFor(size);
    int total = (int) ((size + chunkSize - 1) / chunkSize);
    Instant now = Instant.now();
    return storage
        .createUpload(key, mime)
        .compose(
            created -> {
              String uploadId = created.uploadId();
              JsonArray slots = new JsonArray();
              for (int i = 0; i < total; i++) {
                slots.addNull();
              }
              JsonObject doc =
                  new JsonObject()
                      .put("_id", fileId)
                      .put("file_id", fileId)
                      .put("original_filename", filename)
                      .put("size_bytes", size)
                      .put("mime_type", mime)
                      .put("conversation_id", conversationId)
                      .put("shared_in", new JsonArray())
                      .put(
                          "storage",
                          new JsonObject()
                              .put("provider", "s3")
                              .put("bucket", storage.bucket())
                              .put("key", key)
                              .put("upload_id", uploadId))
                      .put("chunk_size", chunkSize)
                      .put("chunks", slots)
                      .put("total_chunks", total)
                      .put("upload_status", FileStore.UPLOADING)
                      .put("upload_initiated_by", userId)
                      .put("upload_initiated_at", Wire.timestamp(now))
                      .put("expected_checksum", checksum == null ? null : "sha256:" + checksum)
                      .put("encryption", created.encryption())
                      .put("created_at", Wire.timestamp(now))
                      .put(
                          "expires_at", Wire.timestamp(now.plusSeconds(config.uploadTtlSeconds())));
              return store
                  .insert(doc)
                  .recover(
                      err -> storage.abort(key, uploadId).transform(y -> Future.failedFuture(err)))
                  .map(y -> FileViews.view(doc));
            });
  }

  private Future<Void> quota(String userId, long size) {
    long quota = limits.userQuotaBytes();
    if (quota == 0) {
      return Future.succeededFuture();
    }
    return store
        .usedBytes(userId)
        .compose(
            used ->
                used + size <= quota
                    ? Future.succeededFuture()
                    : Future.failedFuture(
                        new ServiceException(
                            ErrorCode.QUOTA_EXCEEDED,
                            "this upload would exceed your storage quota of "
                                + quota
                                + " bytes ("
                                + used
                                + " in use)",
                            new JsonObject().put("quota_bytes", quota).put("used_bytes", used))));
  }
}
