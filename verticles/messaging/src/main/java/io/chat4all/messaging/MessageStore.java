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
 * Messages in MongoDB (seed 2.2), one document per message. Hot reads are exact-key: a message is
 * stored under {@code _id = <conversation_id>:<sequence_number>}, so history pages are {@code _id
 * $in} queries, and a message id is found through the unique {@code message_id} index (which the
 * embedded server answers from the index too). The unique index is also what keeps a message stored
 * once: a second document with the same {@code message_id} is refused. The seed's other indexes are
 * created for real MongoDB.
 */
public final class MessageStore {
  private static final Logger LOG = LoggerFactory.getLogger(MessageStore.class);
  public static final String MESSAGES = "messages";
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

  private static final JsonObject ENTRY_FIELDS =
      new JsonObject()
          .put("conversation_id", 1)
          .put("sequence_number", 1)
          .put("from_user_id", 1)
          .put("message_id", 1);

  /**
   * Where a message id is stored: {@code {_id: message_id, conversation_id, seq, from_user_id}}, or
   * null when no message has that id.
   */
  public Future<JsonObject> messageIdEntry(String messageId) {
    return mongo
        .findOne(MESSAGES, new JsonObject().put("message_id", messageId), ENTRY_FIELDS)
        .map(d -> d == null ? null : entry(d));
  }

  private static JsonObject entry(JsonObject doc) {
    return new JsonObject()
        .put("_id", doc.getString("message_id"))
        .put("conversation_id", doc.getString("conversation_id"))
        .put("seq", doc.getLong("sequence_number"))
        .put("from_user_id", doc.getString("from_user_id"));
  }

  /** The stored messages with these ids (any conversation), in no particular order. */
  public Future<List<JsonObject>> messagesById(List<String> messageIds) {
    if (messageIds.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    return mongo.find(
        MESSAGES,
        new JsonObject().put("message_id", new JsonObject().put("$in", new JsonArray(messageIds))));
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

  /**
   * Inserts new message documents in one unordered bulk write; the positions (in {@code docs}) of
   * those refused as duplicates (their {@code _id} or {@code message_id} is stored already). Any
   * other failure fails the future.
   */
  public Future<java.util.Set<Integer>> insertNew(List<JsonObject> docs) {
    if (docs.isEmpty()) {
      return Future.succeededFuture(java.util.Set.of());
    }
    List<BulkOperation> ops = new ArrayList<>(docs.size());
    for (JsonObject d : docs) {
      ops.add(BulkOperation.createInsert(d));
    }
    return mongo
        .bulkWriteWithOptions(MESSAGES, ops, new BulkWriteOptions().setOrdered(false))
        .map(r -> java.util.Set.<Integer>of())
        .recover(
            err -> {
              if (err instanceof com.mongodb.MongoBulkWriteException bulk) {
                java.util.Set<Integer> refused = new java.util.HashSet<>();
                for (com.mongodb.bulk.BulkWriteError e : bulk.getWriteErrors()) {
                  if (e.getCode() != 11000) {
                    return Future.failedFuture(err);
                  }
                  refused.add(e.getIndex());
                }
                return Future.succeededFuture(refused);
              }
              return Future.failedFuture(err);
            });
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
