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
 *       pending} while claimed by a node for one attempt, then {@code sent} with the provider ids
 *       or {@code failed} with the reason) and inbound messages ({@code direction in}, state
 *       {@code received}, the contact's provider message id);
 *   <li>{@code channel_messages}, {@code _id = <channel>:<provider message id>}: the platform
 *       message a provider id stands for (receipts, replies quoting it).
 * </ul>
 */
public final class DeliveryStore {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryStore.class);
  public static final String DELIVERIES = "channel_deliveries";
  public static final String MESSAGES = "channel_messages";
  public static final String SENT = "sent";
  public static final String FAILED = "failed";
  public static final String PENDING = "pending";
  public static final String RECEIVED = "received";

  private final MongoClient mongo;

  public DeliveryStore(MongoClient mongo) {
    this.mongo = mongo;
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
            index(DELIVERIES, new JsonObject().put("message_id", 1)))
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
  public record Claim(Kind kind, JsonObject doc) {
    public enum Kind {
      OWNED,
      DONE,
      BUSY
    }

    public int attempts() {
      return doc.getInteger("attempts", 0);
    }

    public long leaseUntil() {
      return doc.getLong("lease_until", 0L);
    }
  }

  /**
   * Claims one attempt at a send for {@code leaseMs}: succeeds unless the send already finished or
   * another node holds a live claim. {@code fields} describe the send (stored with it).
   */
  public Future<Claim> claim(String key, JsonObject fields, String owner, long now, long leaseMs) {
    JsonObject filter =
        new JsonObject()
            .put("_id", key)
            .put("state", new JsonObject().put("$nin", new JsonArray().add(SENT).add(FAILED)))
            .put(
                "$or",
                new JsonArray()
                    .add(new JsonObject().put("lease_until", new JsonObject().put("$lt", now)))
                    .add(new JsonObject().put("owner", owner)));
    JsonObject set =
        fields.copy().put("state", PENDING).put("lease_until", now + leaseMs).put("owner", owner);
    JsonObject update =
        new JsonObject()
            .put("$set", set)
            .put("$setOnInsert", new JsonObject().put("attempts", 0).put("created_at_ms", now));
    return mongo
        .findOneAndUpdateWithOptions(
            DELIVERIES,
            filter,
            update,
            new FindOptions(),
            new UpdateOptions().setUpsert(true).setReturningNewDocument(true))
        .map(doc -> new Claim(Claim.Kind.OWNED, doc))
        .recover(
            err -> {
              if (!isDuplicateKey(err)) {
                return Future.failedFuture(err);
              }
              return mongo
                  .findOne(DELIVERIES, new JsonObject().put("_id", key), null)
                  .map(
                      doc -> {
                        if (doc == null) {
                          throw new IllegalStateException("claim of " + key + " raced; retrying");
                        }
                        String state = doc.getString("state");
                        return new Claim(
                            SENT.equals(state) || FAILED.equals(state)
                                ? Claim.Kind.DONE
                                : Claim.Kind.BUSY,
                            doc);
                      });
            });
  }

  static boolean isDuplicateKey(Throwable err) {
    String m = String.valueOf(err.getMessage());
    return m.contains("E11000") || m.contains("duplicate key");
  }

  /** A failed attempt: counted or not, and the claim released for the next one. */
  public Future<Void> release(String key, boolean counted, String lastError) {
    JsonObject update =
        new JsonObject()
            .put(
                "$set",
                new JsonObject().put("lease_until", 0L).put("last_error", truncate(lastError)));
    if (counted) {
      update.put("$inc", new JsonObject().put("attempts", 1));
    }
    return mongo
        .updateCollection(DELIVERIES, new JsonObject().put("_id", key), update)
        .mapEmpty();
  }

  /** The provider accepted the send: its ids, and the reverse entries for receipts. */
  public Future<Void> markSent(
      String key, String channel, JsonObject message, List<String> ids, Instant at) {
    JsonObject set =
        new JsonObject()
            .put("state", SENT)
            .put("provider_message_ids", new JsonArray(ids))
            .put("sent_at", at.toString())
            .put("sent_at_ms", at.toEpochMilli())
            .put("lease_until", 0L);
    return mongo
        .updateCollection(
            DELIVERIES, new JsonObject().put("_id", key), new JsonObject().put("$set", set))
        .compose(r -> reverse(channel, ids, message))
        .mapEmpty();
  }

  /** The send failed for good. */
  public Future<Void> markFailed(String key, JsonObject failure, Instant at) {
    JsonObject set =
        new JsonObject()
            .put("state", FAILED)
            .put("failure", failure)
            .put("failed_at", at.toString())
            .put("lease_until", 0L);
    return mongo
        .updateCollection(
            DELIVERIES, new JsonObject().put("_id", key), new JsonObject().put("$set", set))
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

  /** The platform message a provider id stands for ({@code message_id}, …), or null. */
  public Future<JsonObject> byProviderId(String channel, String providerMessageId) {
    return mongo.findOne(
        MESSAGES, new JsonObject().put("_id", channel + ":" + providerMessageId), null);
  }

  /** The newest send to {@code userId} on {@code channel} the provider accepted, or null. */
  public Future<JsonObject> latestSent(String channel, String userId) {
    return mongo
        .findWithOptions(
            DELIVERIES,
            new JsonObject()
                .put("recipient_user_id", userId)
                .put("channel", channel)
                .put("direction", "out")
                .put("state", SENT),
            new FindOptions().setSort(new JsonObject().put("sent_at_ms", -1)).setLimit(1))
        .map(list -> list.isEmpty() ? null : list.get(0));
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
