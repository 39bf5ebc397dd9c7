package io.chat4all.files;

import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.function.Function;

/**
 * The read side of completed files: presigned downloads ({@code download}), a connector's media
 * source ({@code media_source}: a link and the storage-internal URL) and the vouching for a file
 * put into a message ({@code share}, which records the conversation it is shared in). All of them
 * only for users who can see the file ({@link FileAccess}) and only for completed files.
 */
final class FileSharing {
  private final FileStore store;
  private final ObjectStorage storage;
  private final FilesConfig config;
  private final FileAccess access;

  FileSharing(FileStore store, ObjectStorage storage, FilesConfig config, FileAccess access) {
    this.store = store;
    this.storage = storage;
    this.config = config;
    this.access = access;
  }

  Future<JsonObject> download(JsonObject req) {
    return completed(
            req,
            status ->
                new ServiceException(
                    ErrorCode.CONFLICT,
                    "the file is " + status + ", not completed",
                    new JsonObject().put("upload_status", status)))
        .map(
            doc -> {
              ObjectStorage.Download d =
                  storage.downloadUrl(
                      doc.getJsonObject("storage").getString("key"),
                      doc.getString("original_filename"),
                      doc.getString("mime_type"),
                      config.downloadUrlTtlSeconds());
              return new JsonObject()
                  .put("url", d.url())
                  .put("expires_at", Wire.timestamp(d.expiresAt()))
                  .put("file", FileViews.reference(doc));
            });
  }

  Future<JsonObject> mediaSource(JsonObject req) {
    Object asked = req.getValue("link_ttl_seconds", 3600);
    if (!(asked instanceof Number n)) {
      return Future.failedFuture(
          new ServiceException(
              ErrorCode.VALIDATION_FAILED, "link_ttl_seconds must be a number of seconds"));
    }
    int ttl = (int) Math.max(60, Math.min(7 * 24 * 3600, n.longValue()));
    return completed(
            req, status -> new ServiceException(ErrorCode.CONFLICT, "the file is " + status))
        .map(
            doc -> {
              String key = doc.getJsonObject("storage").getString("key");
              ObjectStorage.Download link =
                  storage.downloadUrl(
                      key, doc.getString("original_filename"), doc.getString("mime_type"), ttl);
              return new JsonObject()
                  .put("file", FileViews.reference(doc))
                  .put("link", link.url())
                  .put("internal_url", storage.internalUrl(key, ttl).url())
                  .put("expires_at", Wire.timestamp(link.expiresAt()));
            });
  }

  Future<JsonObject> share(JsonObject req) {
    String fileId = req.getString("file_id");
    String conversationId = req.getString("conversation_id");
    return completed(
            req,
            status ->
                new ServiceException(
                    ErrorCode.CONFLICT,
                    "file " + fileId + " is " + status + "; only completed files can be sent",
                    new JsonObject().put("field", "payload.file_id").put("upload_status", status)))
        .compose(
            doc -> {
              boolean known =
                  conversationId.equals(doc.getString("conversation_id"))
                      || doc.getJsonArray("shared_in", new JsonArray()).contains(conversationId);
              return (known
                      ? Future.<Void>succeededFuture()
                      : store.addShare(fileId, conversationId))
                  .map(x -> FileViews.reference(doc));
            });
  }

  /**
   * The request's file when its user can see it and it is completed; otherwise the error {@code
   * notCompleted} makes of its upload status (each action words it for its caller).
   */
  private Future<JsonObject> completed(
      JsonObject req, Function<String, ServiceException> notCompleted) {
    return access
        .visible(req.getString("file_id"), req.getString("user_id"))
        .compose(
            doc -> {
              String status = doc.getString("upload_status");
              return FileStore.COMPLETED.equals(status)
                  ? Future.succeededFuture(doc)
                  : Future.failedFuture(notCompleted.apply(status));
            });
  }
}
