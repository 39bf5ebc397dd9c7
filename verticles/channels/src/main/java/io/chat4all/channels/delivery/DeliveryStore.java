package io.chat4all.channels.delivery;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.mongo.BulkOperation;
import io.vertx.ext.mongo.BulkWriteOptions;
import io.vertx.ext.mongo.FindOptions;
import io.vertx.ext.mongo.IndexOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.redis.client.RedisAPI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What delivery remembers in MongoDB, so that a redelivered record is never sent twice and provider
 * receipts and replies find their message:
 *
 * <ul>
 *   <li>{@code channel_deliveries}, one document per (channel, message, user), {@code _id =
 *       <channel>:<message_id>:<user_id>}: outbound sends ({@code direction out}: state {@code
 *       pending} with the attempts made, then {@code sent} with the provider ids or {@code failed}
 *       with the reason) and inbound messages ({@code direction in}, state {@code received}, the
 *       contact's provider message id);
 *   <li>{@code channel_messages}, {@code _id = <channel>:<provider message id>}: the platform
 *       message a provider id stands for (receipts, replies quoting it);
 *   <li>{@code channel_contacts}, {@code _id = <channel>:<user_id>}: the latest send the provider
 *       accepted for that user (their reply goes to its conversation).
 * </ul>
 *
 * <p>An attempt holds a lease in Redis ({@code <prefix>channels:lease:<_id>}) so two nodes never
 * send the same message to the same recipient at once (e.g. around a partition rebalance).
 */
public final class DeliveryStore {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryStore.class);
  public static final String DELIVERIES = "channel_deliveries";
  public static final String MESSAGES = "channel_messages";
  public static final String CONTACTS = "channel_contacts";

  /** Receipts that named a provider id no send was recorded under yet (see ParkedReceipts). */
  public static final String PARKED_RECEIPTS = "channel_parked_receipts";

  public static final String SENT = "sent";
  public static final String FAILED = "failed";
  public static final String PENDING = "pending";
  public static final String RECEIVED = "received";

  private final MongoClient mongo;
  private final RedisAPI redis;
  private final String redisPrefix;

  public DeliveryStore(MongoClient mongo, RedisAPI redis, String redisPrefix) {
    this.mongo = mongo;
    this.redis = redis;
    this.redisPrefix = redisPrefix == null ? "" : redisPrefix;
  }

  public static String key(String channel, String messageId, String userId) {
    return channel + ":" + messageId + ":" + userId;
  }

  public Future<Void> ensureIndexes() {
    return Future.join(
            index(
                DELIVERIES,
                new JsonObject()
                    .put("recipient_user_id", 1)
                    .put("channel", 1)
                    .put("direction", 1)
                    .put("sent_at_ms", -1)),
            index(DELIVERIES, new JsonObject().put("message_id", 1)),
            index(PARKED_RECEIPTS, new JsonObject().put("parked_at_ms", 1)))
        .mapEmpty();
  }

  private Future<Void> index(String collection, JsonObject keys) {
    return mongo
        .createIndexWithOptions(collection, keys, new IndexOptions())
        .recover(
            err -> {
              LOG.warn("index {} {} not created: {}", collection, keys, err.getMessage());
              return Future.succeededFuture();
            });
  }

  /** The outcome of a claim: owned (attempt now), done (sent or failed before), or busy. */
  public record Claim(Kind kind, JsonObject doc, long retryInMs) {
    public enum Kind {
      OWNED,
      DONE,
      BUSY
    }

    public int attempts() {
      return doc == null ? 0 : doc.getInteger("attempts", 0);
    }
  }

  private String leaseKey(String key) {
    return redisPrefix + "channels:lease:" + key;
  }

  /** Takes the lease (or renews it when we hold it already); whether it is ours now. */
  private Future<Boolean> acquire(String lease, String owner, long leaseMs, boolean again) {
    return redis
        .set(List.of(lease, owner, "NX", "PX", Long.toString(leaseMs)))
        .compose(
            set -> {
              if (set != null && "OK".equals(set.toString())) {
                return Future.succeededFuture(true);
              }
              return redis
                  .get(lease)
                  .compose(
                      holder -> {
                        if (holder == null) {
                          // expired between the two calls: once more
                          return again
                              ? acquire(lease, owner, leaseMs, false)
                              : Future.succeededFuture(false);
                        }
                        if (owner.equals(holder.toString())) {
                          return redis
                              .pexpire(List.of(lease, Long.toString(leaseMs)))
                              .map(x -> true);
                        }
                        return Future.succeededFuture(false);
                      });
            });
  }

  /**
   * Claims one attempt at a send for {@code leaseMs}: a lease in Redis ({@code SET NX PX}; ours
   * again if we hold it) keeps other nodes off it, then the stored state says whether it finished
   * before (sent or failed: done, not sent again). {@code fields} describe the send (stored with
   * it). Every MongoDB access is by {@code _id}: the embedded MongoDB-wire server scans the whole
   * collection for any other filter.
   */
  public Future<Claim> claim(String key, JsonObject fields, String owner, long leaseMs) {
    String lease = leaseKey(key);
    return acquire(lease, owner, leaseMs, true)
        .compose(
            mine -> {
              if (!mine) {
                return redis
                    .pttl(lease)
                    .map(
                        ttl ->
                            new Claim(
                                Claim.Kind.BUSY,
                                null,
                                Math.max(100, ttl == null ? leaseMs : ttl.toLong() + 50)));
              }
              return mongo
                  .findOne(DELIVERIES, new JsonObject().put("_id", key), null)
                  .compose(
                      doc -> {
                        if (doc != null
                            && (SENT.equals(doc.getString("state"))
                                || FAILED.equals(doc.getString("state")))) {
                          return redis
                              .del(List.of(lease))
                              .map(x -> new Claim(Claim.Kind.DONE, doc, 0));
                        }
                        // never tried, or tried and failed before: ours for one attempt
                        return Future.succeededFuture(
                            new Claim(Claim.Kind.OWNED, doc == null ? fields : doc, 0));
                      });
            });
  }

  static boolean isDuplicateKey(Throwable err) {
    String m = String.valueOf(err.getMessage());
    return m.contains("E11000") || m.contains("duplicate key");
  }

  /**
   * A failed attempt: counted (stored with the send's {@code fields}) or not, and the lease
   * released for the next one.
   */
  public Future<Void> release(String key, JsonObject fields, boolean counted, String lastError) {
    Future<Void> count =
        counted
            ? mongo
                .updateCollectionWithOptions(
                    DELIVERIES,
                    new JsonObject().put("_id", key),
                    new JsonObject()
                        .put("$inc", new JsonObject().put("attempts", 1))
                        .put(
                            "$set",
                            fields
                                .copy()
                                .put("state", PENDING)
                                .put("last_error", truncate(lastError))),
                    new UpdateOptions().setUpsert(true))
                .mapEmpty()
            : Future.succeededFuture();
    return count.compose(v -> redis.del(List.of(leaseKey(key)))).mapEmpty();
  }

  /**
   * The provider accepted the send: its ids, the reverse entries for receipts, and the contact's
   * latest conversation on the channel (where their reply goes).
   */
  public Future<Void> markSent(
      String key,
      JsonObject fields,
      String channel,
      JsonObject message,
      List<String> ids,
      Instant at) {
    JsonObject set =
        fields
            .copy()
            .put("state", SENT)
            .put("provider_message_ids", new JsonArray(ids))
            .put("sent_at", at.toString())
            .put("sent_at_ms", at.toEpochMilli());
    JsonObject latest =
        new JsonObject()
            .put("conversation_id", message.getString("conversation_id"))
            .put("message_id", message.getString("message_id"))
            .put("at_ms", at.toEpochMilli());
    return mongo
        .updateCollectionWithOptions(
            DELIVERIES,
            new JsonObject().put("_id", key),
            new JsonObject().put("$set", set),
            new UpdateOptions().setUpsert(true))
        .compose(r -> reverse(channel, ids, message))
        .compose(
            v ->
                mongo.updateCollectionWithOptions(
                    CONTACTS,
                    new JsonObject().put("_id", channel + ":" + message.getString("user_id")),
                    new JsonObject().put("$set", latest),
                    new UpdateOptions().setUpsert(true)))
        .compose(v -> redis.del(List.of(leaseKey(key))))
        .mapEmpty();
  }

  /** The send failed for good. */
  public Future<Void> markFailed(String key, JsonObject fields, JsonObject failure, Instant at) {
    JsonObject set =
        fields.copy().put("state", FAILED).put("failure", failure).put("failed_at", at.toString());
    return mongo
        .updateCollectionWithOptions(
            DELIVERIES,
            new JsonObject().put("_id", key),
            new JsonObject().put("$set", set),
            new UpdateOptions().setUpsert(true))
        .compose(v -> redis.del(List.of(leaseKey(key))))
        .mapEmpty();
  }

  /** Entries {@code <channel>:<provider id>} → the message (duplicates are kept as they are). */
  private Future<Void> reverse(String channel, List<String> ids, JsonObject message) {
    List<BulkOperation> ops = new ArrayList<>();
    for (String id : ids) {
      ops.add(BulkOperation.createInsert(message.copy().put("_id", channel + ":" + id)));
    }
    return mongo
        .bulkWriteWithOptions(MESSAGES, ops, new BulkWriteOptions().setOrdered(false))
        .<Void>mapEmpty()
        .recover(e -> isDuplicateKey(e) ? Future.succeededFuture() : Future.failedFuture(e));
  }

  /** An inbound message of a contact: where its provider id leads, for replies and quotes. */
  public Future<Void> recordInbound(
      String channel, String messageId, String userId, String providerMessageId, JsonObject msg) {
    JsonObject doc =
        new JsonObject()
            .put("_id", key(channel, messageId, userId))
            .put("channel", channel)
            .put("direction", "in")
            .put("state", RECEIVED)
            .put("message_id", messageId)
            .put("recipient_user_id", userId)
            .put("provider_message_ids", new JsonArray().add(providerMessageId));
    return mongo
        .insert(DELIVERIES, doc)
        .<Void>mapEmpty()
        .recover(e -> isDuplicateKey(e) ? Future.succeededFuture() : Future.failedFuture(e))
        .compose(v -> reverse(channel, List.of(providerMessageId), msg));
  }

  /** The provider id under which {@code messageId} crossed {@code channel} with this user. */
  public Future<String> providerId(String channel, String messageId, String userId) {
    return mongo
        .findOne(DELIVERIES, new JsonObject().put("_id", key(channel, messageId, userId)), null)
        .map(
            doc -> {
              if (doc == null) {
                return null;
              }
              String state = doc.getString("state");
              JsonArray ids = doc.getJsonArray("provider_message_ids");
              return (SENT.equals(state) || RECEIVED.equals(state)) && ids != null && !ids.isEmpty()
                  ? ids.getString(0)
                  : null;
            });
  }

  /**
   * Keeps a receipt for later (one document per channel, provider id and status: a repeated receipt
   * is the same document).
   */
  public Future<Void> parkReceipt(String channel, JsonObject receipt) {
    String id =
        channel
            + ":"
            + receipt.getString("provider_message_id")
            + ":"
            + receipt.getString("status");
    return mongo
        .replaceDocumentsWithOptions(
            PARKED_RECEIPTS,
            new JsonObject().put("_id", id),
            receipt.copy().put("_id", id).put("channel", channel),
            new io.vertx.ext.mongo.UpdateOptions().setUpsert(true))
        .mapEmpty();
  }

  /** The oldest parked receipts, at most {@code limit}. */
  public Future<List<JsonObject>> parkedReceipts(int limit) {
    return mongo.findWithOptions(
        PARKED_RECEIPTS,
        new JsonObject(),
        new FindOptions().setSort(new JsonObject().put("parked_at_ms", 1)).setLimit(limit));
  }

  public Future<Void> unparkReceipt(String id) {
    return mongo.removeDocument(PARKED_RECEIPTS, new JsonObject().put("_id", id)).mapEmpty();
  }

  /** The platform message a provider id stands for ({@code message_id}, …), or null. */
  public Future<JsonObject> byProviderId(String channel, String providerMessageId) {
    return mongo.findOne(
        MESSAGES, new JsonObject().put("_id", channel + ":" + providerMessageId), null);
  }

  /**
   * The newest send to {@code userId} on {@code channel} the provider accepted ({@code
   * conversation_id}, {@code message_id}, {@code at_ms}), or null.
   */
  public Future<JsonObject> latestSent(String channel, String userId) {
    return mongo.findOne(CONTACTS, new JsonObject().put("_id", channel + ":" + userId), null);
  }

  /** Sends to {@code userId} on {@code channel} accepted at or before {@code at} (watermarks). */
  public Future<List<JsonObject>> sentUpTo(String channel, String userId, Instant at, int limit) {
    return mongo.findWithOptions(
        DELIVERIES,
        new JsonObject()
            .put("recipient_user_id", userId)
            .put("channel", channel)
            .put("direction", "out")
            .put("state", SENT)
            .put("sent_at_ms", new JsonObject().put("$lte", at.toEpochMilli())),
        new FindOptions().setSort(new JsonObject().put("sent_at_ms", -1)).setLimit(limit));
  }

  private static String truncate(String s) {
    return s == null || s.length() <= 500 ? s : s.substring(0, 500);
  }
}
