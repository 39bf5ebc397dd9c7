package io.chat4all.messaging;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.MongoClientBulkWriteResult;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Messages in MongoDB (seed 2.2). Hot reads are exact-key: a message is stored under {@code _id =
 * <conversation_id>:<sequence_number>} and {@code message_ids} maps a message id to its
 * conversation and sequence number, so history pages and lookups are {@code _id $in} queries that
 * stay fast on the embedded server too. The seed's indexes are created for real MongoDB.
 */
public final class MessageStore {
  private static final Logger LOG = LoggerFactory.getLogger(MessageStore.class);
  public static final String MESSAGES = "messages";
  public static final String MESSAGE_IDS = "message_ids";
  public static final String HISTORY = "conversation_history";

  private final MongoClient mongo;

  public MessageStore(MongoClient mongo) {
    this.mongo = mongo;
  }

  public static String key(String conversationId, long seq) {
    return conversationId + ":" + seq;
  }

  /** The seed's indexes (unique ones guard the invariants; TTL works on real MongoDB). */
  public Future<Void> ensureIndexes() {
    List<Future<?>> all = new ArrayList<>();
    all.add(
        index(MESSAGES, new JsonObject().put("message_id", 1), new IndexOptions().unique(true)));
    all.add(
        index(
            MESSAGES,
            new JsonObject().put("conversation_id", 1).put("sequence_number", 1),
            new IndexOptions().unique(true)));
    all.add(
        index(
            MESSAGES,
            new JsonObject().put("conversation_id", 1).put("created_at", -1),
            new IndexOptions()));
    all.add(
        index(
            MESSAGES,
            new JsonObject().put("from_user_id", 1).put("created_at", -1),
            new IndexOptions()));
    all.add(
        index(
            MESSAGES,
            new JsonObject().put("ttl_expire_at", 1),
            new IndexOptions().expireAfter(0L, java.util.concurrent.TimeUnit.SECONDS)));
    all.add(
        index(
            HISTORY,
            new JsonObject().put("conversation_id", 1).put("sequence_number", 1),
            new IndexOptions()));
    return Future.join(all).mapEmpty();
  }

  private Future<Void> index(String collection, JsonObject keys, IndexOptions options) {
    return mongo
        .createIndexWithOptions(collection, keys, options)
        .recover(
            err -> {
              // the embedded server ignores some options; an index it refuses must not stop the
              // node
              LOG.warn("index {} {} not created: {}", collection, keys, err.getMessage());
              return Future.succeededFuture();
            });
  }

  public Future<JsonObject> messageIdEntry(String messageId) {
    return mongo.findOne(MESSAGE_IDS, new JsonObject().put("_id", messageId), null);
  }

  public Future<List<JsonObject>> messageIdEntries(List<String> messageIds) {
    if (messageIds.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return mongo.find(
        MESSAGE_IDS,
        new JsonObject().put("_id", new JsonObject().put("$in", new JsonArray(messageIds))));
  }

  public Future<JsonObject> message(String conversationId, long seq) {
    return mongo.findOne(MESSAGES, new JsonObject().put("_id", key(conversationId, seq)), null);
  }

  /** Messages of a conversation by sequence numbers (exact keys), in ascending order. */
  public Future<List<JsonObject>> messages(String conversationId, List<Long> seqs) {
    if (seqs.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    JsonArray keys = new JsonArray();
    for (long s : seqs) {
      keys.add(key(conversationId, s));
    }
    return mongo
        .find(MESSAGES, new JsonObject().put("_id", new JsonObject().put("$in", keys)))
        .map(
            docs -> {
              List<JsonObject> sorted = new ArrayList<>(docs);
              sorted.sort(java.util.Comparator.comparingLong(d -> d.getLong("sequence_number")));
              return sorted;
            });
  }

  /** Inserts documents in order; duplicates (already stored) are skipped, not errors. */
  public Future<Void> insertAll(String collection, List<JsonObject> docs) {
    if (docs.isEmpty()) {
      return Future.succeededFuture();
    }
    List<BulkOperation> ops = new ArrayList<>(docs.size());
    for (JsonObject d : docs) {
      ops.add(BulkOperation.createInsert(d));
    }
    return mongo
        .bulkWriteWithOptions(collection, ops, new BulkWriteOptions().setOrdered(false))
        .map((MongoClientBulkWriteResult r) -> (Void) null)
        .recover(
            err ->
                isDuplicateKey(err) ? insertOneByOne(collection, docs) : Future.failedFuture(err));
  }

  private Future<Void> insertOneByOne(String collection, List<JsonObject> docs) {
    Future<Void> chain = Future.succeededFuture();
    for (JsonObject d : docs) {
      chain =
          chain.compose(
              v ->
                  mongo
                      .insert(collection, d)
                      .<Void>map(id -> null)
                      .recover(
                          e ->
                              isDuplicateKey(e)
                                  ? Future.succeededFuture()
                                  : Future.failedFuture(e)));
    }
    return chain;
  }

  public Future<Void> removeMessageId(String messageId) {
    return mongo.removeDocument(MESSAGE_IDS, new JsonObject().put("_id", messageId)).mapEmpty();
  }

  public Future<Void> insert(String collection, JsonObject doc) {
    return mongo.insert(collection, doc).mapEmpty();
  }

  public Future<Void> save(JsonObject doc) {
    return mongo.save(MESSAGES, doc).mapEmpty();
  }

  public static boolean isDuplicateKey(Throwable err) {
    String m = String.valueOf(err.getMessage());
    return m.contains("E11000") || m.contains("duplicate key");
  }

  /** Deletes messages whose ttl_expire_at passed (the embedded server ignores TTL indexes). */
  public Future<Long> deleteExpired(String nowIso) {
    return mongo
        .removeDocuments(
            MESSAGES,
            new JsonObject()
                .put(
                    "ttl_expire_at",
                    new JsonObject().put("$lt", new JsonObject().put("$date", nowIso))))
        .map(r -> r == null ? 0L : r.getRemovedCount());
  }

  /** The API view of a stored message: the seed's field names, no storage internals. */
  public static JsonObject toApi(JsonObject doc) {
    JsonObject m = doc.copy();
    m.remove("_id");
    m.remove("ttl_expire_at");
    JsonObject payload = m.getJsonObject("payload");
    if (payload != null && payload.getJsonObject("file_reference") != null) {
      payload.getJsonObject("file_reference").remove("storage_url");
    }
    return m;
  }
}
