package io.chat4all.files;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files service on the event bus ({@value Addresses#FILES}): initiates resumable uploads (an S3
 * multipart upload per file), records the chunks the edges stream into S3, completes uploads (S3
 * completion then the whole-file SHA-256 read back and checked — inline for small files, by a
 * background worker for large ones), aborts them, hands out presigned downloads to the uploader and
 * the members of the conversations the file is in, and vouches for files put into messages.
 */
public class FilesVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(FilesVerticle.class);
  static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  static final Pattern MIME =
      Pattern.compile(
          "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}");

  private final FileStore store;
  private final ObjectStorage storage;
  private final FilesConfig config;
  private UploadLimits limits;
  private FileAccess access;
  private UploadCompletion completion;
  private UploadInitiation initiation;
  private FileSharing sharing;

  public FilesVerticle(FileStore store, ObjectStorage storage, FilesConfig config) {
    this.store = Objects.requireNonNull(store, "store");
    this.storage = Objects.requireNonNull(storage, "storage");
    this.config = Objects.requireNonNull(config, "config");
    this.limits = UploadLimits.of(config);
  }

  /** Checks new uploads against {@code limits} instead of the configured ones (before start). */
  public FilesVerticle withLimits(UploadLimits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
    return this;
  }

  @Override
  public final Future<?> start() {
    access = new FileAccess(vertx, store);
    completion = new UploadCompletion(vertx, store, storage, config);
    initiation = new UploadInitiation(vertx, store, storage, config, limits, access);
    sharing = new FileSharing(store, storage, config, access);
    return store
        .ensureIndexes()
        .compose(
            x ->
                ServiceBus.bind(
                        vertx,
                        Addresses.FILES,
                        Map.of(
                            FileActions.INITIATE, initiation::initiate,
                            FileActions.STATUS, this::status,
                            FileActions.CHUNK_BEGIN, this::chunkBegin,
                            FileActions.CHUNK_STORED, this::chunkStored,
                            FileActions.COMPLETE, this::complete,
                            FileActions.ABORT, this::abort,
                            FileActions.DOWNLOAD, sharing::download,
                            FileActions.SHARE, sharing::share,
                            FileActions.MEDIA_SOURCE, sharing::mediaSource))
                    .completion());
  }

  // --- status ---

  private Future<JsonObject> status(JsonObject req) {
    return access.visible(req.getString("file_id"), req.getString("user_id")).map(FileViews::view);
  }

  // --- chunks ---

  private static ServiceException notUploading(JsonObject doc) {
    String status = doc.getString("upload_status");
    return new ServiceException(
        ErrorCode.CONFLICT,
        "the upload is " + status + "; chunks are accepted only while it is uploading",
        new JsonObject().put("upload_status", status));
  }

  private static ServiceException expiredUpload() {
    return new ServiceException(
        ErrorCode.CONFLICT,
        "the upload has expired",
        new JsonObject().put("upload_status", FileStore.EXPIRED));
  }

  private boolean expired(JsonObject doc) {
    String exp = doc.getString("expires_at");
    return exp != null && exp.compareTo(Wire.timestamp(Instant.now())) < 0;
  }

  /** The exact size chunk {@code n} of the file must have. */
  static long chunkLength(JsonObject doc, int n) {
    long chunk = doc.getLong("chunk_size");
    long size = doc.getLong("size_bytes");
    int total = doc.getInteger("total_chunks");
    return n < total ? chunk : size - chunk * (total - 1);
  }

  private Future<JsonObject> chunkBegin(JsonObject req) {
    int n = req.getInteger("chunk_number");
    Long declared = req.getLong("declared_length");
    return access
        .own(req.getString("file_id"), req.getString("user_id"))
        .compose(
            doc -> {
              if (!FileStore.UPLOADING.equals(doc.getString("upload_status"))) {
                return Future.failedFuture(notUploading(doc));
              }
              if (expired(doc)) {
                return Future.failedFuture(expiredUpload());
              }
              int total = doc.getInteger("total_chunks");
              if (n < 1 || n > total) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.VALIDATION_FAILED,
                        "chunk_number must be between 1 and " + total,
                        new JsonObject().put("field", "chunk_number").put("total_chunks", total)));
              }
              long length = chunkLength(doc, n);
              if (declared != null && declared != length) {
                return Future.failedFuture(
                    new ServiceException(
                        declared > length
                            ? ErrorCode.PAYLOAD_TOO_LARGE
                            : ErrorCode.VALIDATION_FAILED,
                        "chunk " + n + " must have exactly " + length + " bytes, not " + declared,
                        new JsonObject().put("expected_bytes", length)));
              }
              JsonObject s = doc.getJsonObject("storage");
              return Future.succeededFuture(
                  new JsonObject()
                      .put("key", s.getString("key"))
                      .put("upload_id", s.getString("upload_id"))
                      .put("length", length));
            });
  }

  private Future<JsonObject> chunkStored(JsonObject req) {
    String fileId = req.getString("file_id");
    int n = req.getInteger("chunk_number");
    String sha = req.getString("sha256");
    JsonObject entry =
        new JsonObject()
            .put("chunk_number", n)
            .put("size_bytes", req.getLong("size_bytes"))
            .put("checksum", "sha256:" + sha)
            .put("etag", req.getString("etag"))
            .put("uploaded_at", Wire.timestamp(Instant.now()));
    return store
        .recordChunk(fileId, n, entry)
        .compose(
            ok ->
                ok
                    ? store.find(fileId)
                    : store
                        .find(fileId)
                        .compose(
                            doc ->
                                Future.failedFuture(
                                    doc == null ? FileAccess.notFound() : notUploading(doc))))
        .map(
            doc -> {
              JsonObject v = FileViews.view(doc);
              return new JsonObject()
                  .put("file_id", fileId)
                  .put("chunk_number", n)
                  .put("size_bytes", req.getLong("size_bytes"))
                  .put("checksum_sha256", sha)
                  .put("upload_status", v.getString("upload_status"))
                  .put("total_chunks", v.getInteger("total_chunks"))
                  .put("received_chunks", v.getJsonArray("received_chunks"));
            });
  }

  // --- complete ---

  private Future<JsonObject> complete(JsonObject req) {
    String fileId = req.getString("file_id");
    String given = req.getString("checksum_sha256");
    if (given != null && !SHA256.matcher(given).matches()) {
      return Future.failedFuture(
          Bodies.invalid("checksum_sha256", "must be 64 lowercase hex digits (SHA-256)"));
    }
    return access
        .own(fileId, req.getString("user_id"))
        .compose(
            doc -> {
              String status = doc.getString("upload_status");
              switch (status) {
                case FileStore.COMPLETED:
                case FileStore.VERIFYING:
                  return Future.succeededFuture(FileViews.view(doc));
                case FileStore.FAILED:
                  return Future.failedFuture(failedUpload(doc));
                case FileStore.UPLOADING:
                  break;
                default:
                  return Future.failedFuture(notUploading(doc));
              }
              if (expired(doc)) {
                return Future.failedFuture(expiredUpload());
              }
              String expected = FileViews.hex(doc.getString("expected_checksum"));
              if (given != null && expected != null && !given.equals(expected)) {
                return Future.failedFuture(
                    Bodies.invalid(
                        "checksum_sha256",
                        "differs from the checksum given when the upload began"));
              }
              List<Integer> missing = new ArrayList<>();
              JsonArray chunks = doc.getJsonArray("chunks");
              for (int i = 0; i < chunks.size(); i++) {
                if (chunks.getValue(i) == null) {
                  missing.add(i + 1);
                }
              }
              if (!missing.isEmpty()) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        missing.size() + " chunk(s) are missing",
                        new JsonObject()
                            .put(
                                "missing_chunks",
                                new JsonArray(missing.subList(0, Math.min(100, missing.size()))))
                            .put("missing_count", missing.size())));
              }
              long size = doc.getLong("size_bytes");
              JsonObject set =
                  new JsonObject()
                      .put("upload_status", FileStore.VERIFYING)
                      .put("verify_until", Wire.timestamp(Instant.now().plusSeconds(lease(size))));
              if (given != null) {
                set.put("expected_checksum", "sha256:" + given);
              }
              return store
                  .transition(fileId, FileStore.UPLOADING, set)
                  .compose(
                      moved -> {
                        if (moved == null) {
                          return store.find(fileId).map(FileViews::view);
                        }
                        Future<JsonObject> done = finish(moved);
                        if (size <= config.syncVerifyMaxBytes()) {
                          return done.compose(
                              d ->
                                  FileStore.FAILED.equals(d.getString("upload_status"))
                                      ? Future.failedFuture(failedUpload(d))
                                      : Future.succeededFuture(FileViews.view(d)));
                        }
                        return Future.succeededFuture(FileViews.view(moved));
                      });
            });
  }

  private static long lease(long size) {
    // generous: S3 completion plus reading the object back at ≥ 10 MB/s
    return 300 + size / 10_000_000L;
  }

  private static ServiceException failedUpload(JsonObject doc) {
    String reason = doc.getString("failure_reason", "the upload failed");
    return new ServiceException(
        reason.contains("SHA-256") ? ErrorCode.CHECKSUM_MISMATCH : ErrorCode.CONFLICT,
        reason,
        new JsonObject().put("upload_status", FileStore.FAILED));
  }

  /**
   * Completes the S3 upload and checks the whole file (see {@link UploadCompletion}); safe to run
   * again for a file left verifying.
   */
  Future<JsonObject> finish(JsonObject doc) {
    return completion.finish(doc);
  }

  // --- abort ---

  private Future<JsonObject> abort(JsonObject req) {
    String fileId = req.getString("file_id");
    return access
        .own(fileId, req.getString("user_id"))
        .compose(
            doc -> {
              String status = doc.getString("upload_status");
              if (FileStore.ABORTED.equals(status)) {
                return Future.succeededFuture(FileViews.view(doc));
              }
              if (!FileStore.UPLOADING.equals(status)) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        "the upload is " + status + "; only an upload in progress can be aborted",
                        new JsonObject().put("upload_status", status)));
              }
              return store
                  .transition(
                      fileId,
                      FileStore.UPLOADING,
                      new JsonObject().put("upload_status", FileStore.ABORTED))
                  .compose(
                      d -> {
                        if (d == null) {
                          return abort(req);
                        }
                        JsonObject s = d.getJsonObject("storage");
                        return storage
                            .abort(s.getString("key"), s.getString("upload_id"))
                            .recover(
                                err -> {
                                  LOG.warn(
                                      "file {}: S3 abort failed: {}", fileId, err.getMessage());
                                  return Future.succeededFuture();
                                })
                            .map(y -> FileViews.view(d));
                      });
            });
  }

  /** Marks an abandoned upload expired and aborts it in S3 (the cleanup job). */
  Future<Boolean> expire(JsonObject doc) {
    String fileId = doc.getString("file_id");
    return store
        .transition(
            fileId, FileStore.UPLOADING, new JsonObject().put("upload_status", FileStore.EXPIRED))
        .compose(
            d -> {
              if (d == null) {
                return Future.succeededFuture(false);
              }
              JsonObject s = d.getJsonObject("storage");
              return storage.abort(s.getString("key"), s.getString("upload_id")).map(true);
            });
  }
}
