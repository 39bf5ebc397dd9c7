package io.chat4all.files;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File metadata in MongoDB {@code file_metadata} (seed 2.2), one document per file under {@code _id
 * = file_id}. {@code chunks} has one slot per chunk (null until stored), so storing a chunk is one
 * atomic {@code $set} of its slot, whatever order and node the chunks arrive in. State changes are
 * conditional updates on {@code upload_status}, so two nodes never both move a file on.
 */
public final class FileStore {
  private static final Logger LOG = LoggerFactory.getLogger(FileStore.class);
  public static final String FILES = "file_metadata";

  public static final String UPLOADING = "uploading";
  public static final String VERIFYING = "verifying";
  public static final String COMPLETED = "completed";
  public static final String FAILED = "failed";
  public static final String ABORTED = "aborted";
  public static final String EXPIRED = "expired";

  private final MongoClient mongo;

  public FileStore(MongoClient mongo) {
    this.mongo = mongo;
  }

  public Future<Void> ensureIndexes() {
    List<Future<?>> all = new ArrayList<>();
    all.add(index(new JsonObject().put("file_id", 1), new IndexOptions().unique(true)));
    all.add(index(new JsonObject().put("upload_status", 1), new IndexOptions()));
    all.add(index(new JsonObject().put("upload_initiated_by", 1), new IndexOptions()));
    return Future.join(all).mapEmpty();
  }

  private Future<Void> index(JsonObject keys, IndexOptions options) {
    return mongo
        .createIndexWithOptions(FILES, keys, options)
        .recover(
            err -> {
              LOG.warn("index {} {} not created: {}", FILES, keys, err.getMessage());
              return Future.succeededFuture();
            });
  }

  public Future<Void> insert(JsonObject doc) {
    return mongo.insert(FILES, doc).mapEmpty();
  }

  /** The document, or null. */
  public Future<JsonObject> find(String fileId) {
    return mongo.findOne(FILES, new JsonObject().put("_id", fileId), null);
  }

  /** Stores chunk {@code n}'s entry while the upload is still uploading; false if it is not. */
  public Future<Boolean> recordChunk(String fileId, int n, JsonObject entry) {
    return mongo
        .updateCollection(
            FILES,
            new JsonObject().put("_id", fileId).put("upload_status", UPLOADING),
            new JsonObject().put("$set", new JsonObject().put("chunks." + (n - 1), entry)))
        .map(r -> r != null && r.getDocMatched() > 0);
  }

  /**
   * Moves the file from {@code from} to the values in {@code set} (which include the new status);
   * the updated document, or null if it was not in {@code from}.
   */
  public Future<JsonObject> transition(String fileId, String from, JsonObject set) {
    return mongo.findOneAndUpdateWithOptions(
        FILES,
        new JsonObject().put("_id", fileId).put("upload_status", from),
        new JsonObject().put("$set", set),
        new io.vertx.ext.mongo.FindOptions(),
        new UpdateOptions().setReturningNewDocument(true));
  }

  /** Adds a conversation the file was shared into. */
  public Future<Void> addShare(String fileId, String conversationId) {
    return mongo
        .updateCollection(
            FILES,
            new JsonObject().put("_id", fileId),
            new JsonObject().put("$addToSet", new JsonObject().put("shared_in", conversationId)))
        .mapEmpty();
  }

  /** Bytes the user holds in uploads in progress, being verified, or completed. */
  public Future<Long> usedBytes(String userId) {
    JsonObject query =
        new JsonObject()
            .put("upload_initiated_by", userId)
            .put(
                "upload_status",
                new JsonObject()
                    .put("$in", new JsonArray().add(UPLOADING).add(VERIFYING).add(COMPLETED)));
    return mongo
        .findWithOptions(
            FILES, query, new FindOptions().setFields(new JsonObject().put("size_bytes", 1)))
        .map(
            docs -> {
              long sum = 0;
              for (JsonObject d : docs) {
                sum += d.getLong("size_bytes", 0L);
              }
              return sum;
            });
  }

  /** Files in {@code status} whose {@code field} (a timestamp) is before {@code now}. */
  public Future<List<JsonObject>> due(String status, String field, String now, int limit) {
    return mongo.findWithOptions(
        FILES,
        new JsonObject().put("upload_status", status).put(field, new JsonObject().put("$lt", now)),
        new FindOptions().setLimit(limit));
  }
}
