package io.chat4all.files;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.Outbox;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.model.CompletedPart;

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
  private static final DateTimeFormatter DAY =
      DateTimeFormatter.ofPattern("yyyy/MM/dd").withZone(ZoneOffset.UTC);

  private final FileStore store;
  private final ObjectStorage storage;
  private final FilesConfig config;
  private UploadLimits limits;

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
    return store
        .ensureIndexes()
        .compose(
            x ->
                ServiceBus.bind(
                        vertx,
                        Addresses.FILES,
                        Map.of(
                            FileActions.INITIATE, this::initiate,
                            FileActions.STATUS, this::status,
                            FileActions.CHUNK_BEGIN, this::chunkBegin,
                            FileActions.CHUNK_STORED, this::chunkStored,
                            FileActions.COMPLETE, this::complete,
                            FileActions.ABORT, this::abort,
                            FileActions.DOWNLOAD, this::download,
                            FileActions.SHARE, this::share,
                            FileActions.MEDIA_SOURCE, this::mediaSource))
                    .completion());
  }

  // --- helpers ---

  private static ServiceException notFound() {
    return new ServiceException(ErrorCode.NOT_FOUND, "file not found");
  }

  private Future<Boolean> isMember(String conversationId, String userId) {
    return ServiceBus.request(
            vertx,
            Addresses.CONVERSATIONS,
            "membership",
            new JsonObject().put("conversation_id", conversationId).put("user_id", userId))
        .map(m -> m.getBoolean("member", false))
        .recover(
            e ->
                ServiceException.from(e).code() == ErrorCode.NOT_FOUND
                    ? Future.succeededFuture(false)
                    : Future.failedFuture(e));
  }

  /** The file if {@code userId} uploaded it; not_found otherwise (existence is not leaked). */
  private Future<JsonObject> own(String fileId, String userId) {
    return store
        .find(fileId)
        .compose(
            doc ->
                doc != null && userId.equals(doc.getString("upload_initiated_by"))
                    ? Future.succeededFuture(doc)
                    : Future.failedFuture(notFound()));
  }

  /**
   * The file if {@code userId} may see it: the uploader, or a member of its conversation or of a
   * conversation it was shared into (members see it once it is completed).
   */
  private Future<JsonObject> visible(String fileId, String userId) {
    return store
        .find(fileId)
        .compose(
            doc -> {
              if (doc == null) {
                return Future.failedFuture(notFound());
              }
              if (userId.equals(doc.getString("upload_initiated_by"))) {
                return Future.succeededFuture(doc);
              }
              if (!FileStore.COMPLETED.equals(doc.getString("upload_status"))) {
                return Future.failedFuture(notFound());
              }
              List<String> conversations = new ArrayList<>();
              conversations.add(doc.getString("conversation_id"));
              for (Object c : doc.getJsonArray("shared_in", new JsonArray())) {
                if (!conversations.contains(c)) {
                  conversations.add((String) c);
                }
              }
              return anyMember(conversations, 0, userId)
                  .compose(
                      ok -> ok ? Future.succeededFuture(doc) : Future.failedFuture(notFound()));
            });
  }

  private Future<Boolean> anyMember(List<String> conversations, int i, String userId) {
    if (i >= conversations.size()) {
      return Future.succeededFuture(false);
    }
    return isMember(conversations.get(i), userId)
        .compose(ok -> ok ? Future.succeededFuture(true) : anyMember(conversations, i + 1, userId));
  }

  static String hex(String v) {
    return v == null ? null : v.startsWith("sha256:") ? v.substring(7) : v;
  }

  /** The status as clients see it. */
  static JsonObject view(JsonObject doc) {
    JsonArray received = new JsonArray();
    JsonArray chunks = doc.getJsonArray("chunks", new JsonArray());
    for (int i = 0; i < chunks.size(); i++) {
      if (chunks.getValue(i) != null) {
        received.add(i + 1);
      }
    }
    JsonObject v =
        new JsonObject()
            .put("file_id", doc.getString("file_id"))
            .put("upload_status", doc.getString("upload_status"))
            .put("filename", doc.getString("original_filename"))
            .put("size_bytes", doc.getLong("size_bytes"))
            .put("mime_type", doc.getString("mime_type"))
            .put("conversation_id", doc.getString("conversation_id"))
            .put("chunk_size", doc.getLong("chunk_size"))
            .put("total_chunks", doc.getInteger("total_chunks"))
            .put("received_chunks", received)
            .put("uploaded_by", doc.getString("upload_initiated_by"))
            .put("created_at", doc.getString("created_at"))
            .put("expires_at", doc.getString("expires_at"));
    String checksum = hex(doc.getString("checksum"));
    if (checksum != null) {
      v.put("checksum_sha256", checksum);
    }
    if (doc.getString("upload_completed_at") != null) {
      v.put("completed_at", doc.getString("upload_completed_at"));
    }
    if (doc.getString("failure_reason") != null) {
      v.put("failure_reason", doc.getString("failure_reason"));
    }
    if (doc.getJsonObject("encryption") != null) {
      v.put("encryption", doc.getJsonObject("encryption"));
    }
    return v;
  }

  /** The seed's {@code file_reference} of a message. */
  static JsonObject reference(JsonObject doc) {
    return new JsonObject()
        .put("file_id", doc.getString("file_id"))
        .put("filename", doc.getString("original_filename"))
        .put("size_bytes", doc.getLong("size_bytes"))
        .put("mime_type", doc.getString("mime_type"))
        .put("checksum", hex(doc.getString("checksum")));
  }

  // --- initiate ---

  private Future<JsonObject> initiate(JsonObject req) {
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
    if (!MIME.matcher(mime).matches()) {
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
    if (checksum != null && !SHA256.matcher(checksum).matches()) {
      throw Bodies.invalid("checksum_sha256", "must be 64 lowercase hex digits (SHA-256)");
    }
    String conversationId = Bodies.uuid(body, "conversation_id");

    String fileId = UUID.randomUUID().toString();
    String key = "files/" + DAY.format(Instant.now()) + "/" + fileId;
    return limits
        .admit(userId)
        .compose(x -> isMember(conversationId, userId))
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
                  .map(y -> view(doc));
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

  // --- status ---

  private Future<JsonObject> status(JsonObject req) {
    return visible(req.getString("file_id"), req.getString("user_id")).map(FilesVerticle::view);
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
    return own(req.getString("file_id"), req.getString("user_id"))
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
                                Future.failedFuture(doc == null ? notFound() : notUploading(doc))))
        .map(
            doc -> {
              JsonObject v = view(doc);
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
    return own(fileId, req.getString("user_id"))
        .compose(
            doc -> {
              String status = doc.getString("upload_status");
              switch (status) {
                case FileStore.COMPLETED:
                case FileStore.VERIFYING:
                  return Future.succeededFuture(view(doc));
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
              String expected = hex(doc.getString("expected_checksum"));
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
                          return store.find(fileId).map(FilesVerticle::view);
                        }
                        Future<JsonObject> done = finish(moved);
                        if (size <= config.syncVerifyMaxBytes()) {
                          return done.compose(
                              d ->
                                  FileStore.FAILED.equals(d.getString("upload_status"))
                                      ? Future.failedFuture(failedUpload(d))
                                      : Future.succeededFuture(view(d)));
                        }
                        return Future.succeededFuture(view(moved));
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
              String expected = hex(doc.getString("expected_checksum"));
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
              JsonObject uploaded = uploadedEvent(doc, hashed.sha256(), now);
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

  /** The {@code file.uploaded} event of a file completing now (Kafka key: the file id). */
  private static JsonObject uploadedEvent(JsonObject doc, String sha256, String completedAt) {
    return new JsonObject()
        .put(Outbox.EVENT_ID, UUID.randomUUID().toString())
        .put("file_id", doc.getString("file_id"))
        .put("uploaded_by", doc.getString("upload_initiated_by"))
        .put("conversation_id", doc.getString("conversation_id"))
        .put("filename", doc.getString("original_filename"))
        .put("size_bytes", doc.getLong("size_bytes"))
        .put("mime_type", doc.getString("mime_type"))
        .put("checksum_sha256", sha256)
        .put("storage", doc.getJsonObject("storage").copy().put("upload_id", (String) null))
        .put("completed_at", completedAt);
  }

  // --- abort ---

  private Future<JsonObject> abort(JsonObject req) {
    String fileId = req.getString("file_id");
    return own(fileId, req.getString("user_id"))
        .compose(
            doc -> {
              String status = doc.getString("upload_status");
              if (FileStore.ABORTED.equals(status)) {
                return Future.succeededFuture(view(doc));
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
                            .map(y -> view(d));
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

  // --- download and sharing ---

  private Future<JsonObject> download(JsonObject req) {
    return visible(req.getString("file_id"), req.getString("user_id"))
        .compose(
            doc -> {
              if (!FileStore.COMPLETED.equals(doc.getString("upload_status"))) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        "the file is " + doc.getString("upload_status") + ", not completed",
                        new JsonObject().put("upload_status", doc.getString("upload_status"))));
              }
              ObjectStorage.Download d =
                  storage.downloadUrl(
                      doc.getJsonObject("storage").getString("key"),
                      doc.getString("original_filename"),
                      doc.getString("mime_type"),
                      config.downloadUrlTtlSeconds());
              return Future.succeededFuture(
                  new JsonObject()
                      .put("url", d.url())
                      .put("expires_at", Wire.timestamp(d.expiresAt()))
                      .put("file", reference(doc)));
            });
  }

  private Future<JsonObject> mediaSource(JsonObject req) {
    int ttl = Math.max(60, Math.min(7 * 24 * 3600, req.getInteger("link_ttl_seconds", 3600)));
    return visible(req.getString("file_id"), req.getString("user_id"))
        .compose(
            doc -> {
              if (!FileStore.COMPLETED.equals(doc.getString("upload_status"))) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT, "the file is " + doc.getString("upload_status")));
              }
              String key = doc.getJsonObject("storage").getString("key");
              ObjectStorage.Download link =
                  storage.downloadUrl(
                      key, doc.getString("original_filename"), doc.getString("mime_type"), ttl);
              return Future.succeededFuture(
                  new JsonObject()
                      .put("file", reference(doc))
                      .put("link", link.url())
                      .put("internal_url", storage.internalUrl(key, ttl).url())
                      .put("expires_at", Wire.timestamp(link.expiresAt())));
            });
  }

  private Future<JsonObject> share(JsonObject req) {
    String fileId = req.getString("file_id");
    String conversationId = req.getString("conversation_id");
    return visible(fileId, req.getString("user_id"))
        .compose(
            doc -> {
              if (!FileStore.COMPLETED.equals(doc.getString("upload_status"))) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        "file "
                            + fileId
                            + " is "
                            + doc.getString("upload_status")
                            + "; only completed files can be sent",
                        new JsonObject()
                            .put("field", "payload.file_id")
                            .put("upload_status", doc.getString("upload_status"))));
              }
              boolean known =
                  conversationId.equals(doc.getString("conversation_id"))
                      || doc.getJsonArray("shared_in", new JsonArray()).contains(conversationId);
              return (known
                      ? Future.<Void>succeededFuture()
                      : store.addShare(fileId, conversationId))
                  .map(x -> reference(doc));
            });
  }
}
