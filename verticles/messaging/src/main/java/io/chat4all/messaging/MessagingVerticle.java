package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The messaging service on the event bus ({@value Addresses#MESSAGES}): accepts sends (membership,
 * idempotency, the durable Kafka write that makes a message "sent"), status marks, edits and
 * deletes (each a Kafka record the pipeline applies), and serves history, single messages and the
 * sync feed.
 */
public class MessagingVerticle extends VerticleBase {
  private final Pool pg;
  private final RedisAPI redis;
  private final KafkaProducer<String, String> producer;
  private final MessageStore store;
  private final FeedStore feed;
  private final MessagingConfig config;

  public MessagingVerticle(
      Pool pg,
      RedisAPI redis,
      KafkaProducer<String, String> producer,
      MessageStore store,
      FeedStore feed,
      MessagingConfig config) {
    this.pg = Objects.requireNonNull(pg);
    this.redis = Objects.requireNonNull(redis);
    this.producer = Objects.requireNonNull(producer);
    this.store = Objects.requireNonNull(store);
    this.feed = Objects.requireNonNull(feed);
    this.config = Objects.requireNonNull(config);
  }

  @Override
  public final Future<?> start() {
    return ServiceBus.bind(
            vertx,
            Addresses.MESSAGES,
            Map.of(
                MessageActions.SEND, this::send,
                MessageActions.GET, this::get,
                MessageActions.HISTORY, this::history,
                MessageActions.MARK, this::mark,
                MessageActions.EDIT, this::edit,
                MessageActions.DELETE, this::delete,
                MessageActions.SYNC, this::sync))
        .completion();
  }

  // --- membership ---

  /** {member, role, joined_seq}; fails not_found for non-members (existence is not leaked). */
  private Future<JsonObject> requireMember(String conversationId, String userId) {
    return ServiceBus.request(
            vertx,
            Addresses.CONVERSATIONS,
            "membership",
            new JsonObject().put("conversation_id", conversationId).put("user_id", userId))
        .compose(
            m ->
                m.getBoolean("member", false)
                    ? Future.succeededFuture(m)
                    : Future.failedFuture(
                        new ServiceException(ErrorCode.NOT_FOUND, "conversation not found")));
  }

  // --- send ---

  private String idemKey(String messageId) {
    return config.redisKeyPrefix() + "idem:msg:" + messageId;
  }

  static String fingerprint(JsonObject req) {
    JsonObject canonical =
        new JsonObject()
            .put("conversation_id", req.getString("conversation_id"))
            .put("payload", req.getJsonObject("payload"))
            .put("reply_to_message_id", req.getString("reply_to_message_id"))
            .put("channels", req.getJsonArray("channels", new JsonArray()));
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(canonical.encode().getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Idempotent per (from_user_id, message_id): the first request claims the key in Redis (SET NX),
   * writes to Kafka and records the reply; a retry with the same body gets the same reply (waiting
   * while the first is in flight); the same key with another body, or another user's key, is 409.
   */
  private Future<JsonObject> send(JsonObject req) {
    String userId = req.getString("user_id");
    String conversationId = req.getString("conversation_id");
    return requireMember(conversationId, userId)
        .compose(m -> withFile(req))
        .compose(r -> claim(r, 0));
  }

  /**
   * A media message names a completed file the sender may share (uploaded by them, or visible to
   * them and now forwarded): the files service vouches for it and its file_reference goes with the
   * message.
   */
  private Future<JsonObject> withFile(JsonObject req) {
    JsonObject payload = req.getJsonObject("payload");
    String fileId = payload == null ? null : payload.getString("file_id");
    if (fileId == null) {
      return Future.succeededFuture(req);
    }
    return ServiceBus.request(
            vertx,
            Addresses.FILES,
            "share",
            new JsonObject()
                .put("user_id", req.getString("user_id"))
                .put("file_id", fileId)
                .put("conversation_id", req.getString("conversation_id")))
        .map(
            ref -> {
              JsonObject copy = req.copy();
              copy.getJsonObject("payload").put("file_reference", ref);
              return copy;
            });
  }

  private Future<JsonObject> claim(JsonObject req, int attempt) {
    String messageId = req.getString("message_id");
    String hash = fingerprint(req);
    String createdAt = Wire.timestamp(Instant.now());
    JsonObject claimValue =
        new JsonObject()
            .put("from_user_id", req.getString("user_id"))
            .put("hash", hash)
            .put("state", "pending")
            .put("created_at", createdAt);
    String ttl = Integer.toString(config.idempotencyTtlSeconds());
    return redis
        .set(List.of(idemKey(messageId), claimValue.encode(), "NX", "EX", ttl))
        .compose(
            r -> {
              if (r != null && "OK".equals(r.toString())) {
                // the Redis claim expires; the stored message_ids map (unique key) does not
                return store
                    .messageIdEntry(messageId)
                    .compose(
                        stored ->
                            stored == null
                                ? Future.succeededFuture()
                                : redis
                                    .del(List.of(idemKey(messageId)))
                                    .transform(
                                        x ->
                                            Future.failedFuture(
                                                new ServiceException(
                                                    ErrorCode.IDEMPOTENCY_CONFLICT,
                                                    "message_id " + messageId + " was already used",
                                                    new JsonObject().put("field", "message_id")))))
                    .compose(x -> produce(req, createdAt))
                    .compose(
                        reply ->
                            redis
                                .set(
                                    List.of(
                                        idemKey(messageId),
                                        claimValue
                                            .copy()
                                            .put("state", "done")
                                            .put("reply", reply)
                                            .encode(),
                                        "XX",
                                        "EX",
                                        ttl))
                                .map(x -> reply))
                    .recover(
                        err ->
                            err instanceof ServiceException se
                                    && se.code() == ErrorCode.IDEMPOTENCY_CONFLICT
                                ? Future.failedFuture(err)
                                : redis
                                    .del(List.of(idemKey(messageId)))
                                    .transform(
                                        x ->
                                            Future.failedFuture(
                                                new ServiceException(
                                                    ErrorCode.UNAVAILABLE,
                                                    "the message could not be stored durably; retry with the same message_id"))));
              }
              return awaitExisting(req, hash, attempt, 0);
            });
  }

  private Future<JsonObject> awaitExisting(JsonObject req, String hash, int attempt, int polls) {
    String messageId = req.getString("message_id");
    return redis
        .get(idemKey(messageId))
        .compose(
            r -> {
              if (r == null) {
                // the first attempt failed and released the key: try to claim it again
                return attempt < 3
                    ? claim(req, attempt + 1)
                    : Future.failedFuture(new ServiceException(ErrorCode.UNAVAILABLE));
              }
              JsonObject existing = new JsonObject(r.toString());
              if (!req.getString("user_id").equals(existing.getString("from_user_id"))
                  || !hash.equals(existing.getString("hash"))) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.IDEMPOTENCY_CONFLICT,
                        "message_id " + messageId + " was already used for a different message",
                        new JsonObject().put("field", "message_id")));
              }
              if ("done".equals(existing.getString("state"))) {
                return Future.succeededFuture(existing.getJsonObject("reply"));
              }
              if (polls > 400) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.TIMEOUT, "the first send of this message_id is still in flight"));
              }
              Promise<Void> later = Promise.promise();
              vertx.setTimer(25, t -> later.complete());
              return later.future().compose(x -> awaitExisting(req, hash, attempt, polls + 1));
            });
  }

  private Future<JsonObject> produce(JsonObject req, String createdAt) {
    String conversationId = req.getString("conversation_id");
    JsonObject record =
        new JsonObject()
            .put("message_id", req.getString("message_id"))
            .put("conversation_id", conversationId)
            .put("from_user_id", req.getString("user_id"))
            .put("payload", req.getJsonObject("payload"))
            .put("reply_to_message_id", req.getString("reply_to_message_id"))
            .put("channels", req.getJsonArray("channels", new JsonArray()))
            .put("created_at", createdAt);
    if (req.getString("source_channel") != null) {
      // an inbound channel message (set by the channels inbound path only, never by an edge)
      record
          .put("source_channel", req.getString("source_channel"))
          .put("source_message_id", req.getString("source_message_id"));
    }
    return producer
        .send(
            KafkaProducerRecord.create(
                config.topic(Topics.MESSAGE_SENT), conversationId, record.encode()))
        .map(
            meta ->
                new JsonObject()
                    .put("message_id", record.getString("message_id"))
                    .put("conversation_id", conversationId)
                    .put("from_user_id", record.getString("from_user_id"))
                    .put("sequence_number", (Object) null)
                    .put("payload", storedPayload(record.getJsonObject("payload")))
                    .put("reply_to_message_id", record.getString("reply_to_message_id"))
                    .put("target_channels", record.getJsonArray("channels"))
                    .put("status", MessageActions.SENT)
                    .put(
                        "status_history",
                        new JsonArray()
                            .add(
                                new JsonObject()
                                    .put("status", MessageActions.SENT)
                                    .put("timestamp", createdAt)))
                    .put("recipient_status", new JsonObject())
                    .put("is_edited", false)
                    .put("is_deleted", false)
                    .put("created_at", createdAt)
                    .put("updated_at", createdAt));
  }

  /** The payload as stored and returned later: file_id becomes file_reference.file_id. */
  static JsonObject storedPayload(JsonObject payload) {
    JsonObject p = payload.copy();
    Object fileId = p.remove("file_id");
    if (fileId != null) {
      p.put(
          "file_reference",
          p.getJsonObject("file_reference", new JsonObject()).copy().put("file_id", fileId));
    }
    return p;
  }

  // --- reads ---

  /** The stored message a caller may see: member of its conversation and joined before it. */
  private Future<JsonObject> visible(String messageId, String userId) {
    return store
        .messageIdEntry(messageId)
        .compose(
            entry -> {
              if (entry == null) {
                return Future.failedFuture(
                    new ServiceException(ErrorCode.NOT_FOUND, "message not found"));
              }
              String conv = entry.getString("conversation_id");
              long seq = entry.getLong("seq");
              return requireMember(conv, userId)
                  .recover(
                      e ->
                          Future.failedFuture(
                              new ServiceException(ErrorCode.NOT_FOUND, "message not found")))
                  .compose(
                      m -> {
                        if (seq <= m.getLong("joined_seq", 0L)) {
                          return Future.failedFuture(
                              new ServiceException(ErrorCode.NOT_FOUND, "message not found"));
                        }
                        return store.message(conv, seq);
                      })
                  .compose(
                      doc ->
                          doc == null
                              ? Future.failedFuture(
                                  new ServiceException(ErrorCode.NOT_FOUND, "message not found"))
                              : Future.succeededFuture(doc));
            });
  }

  private Future<JsonObject> get(JsonObject req) {
    return visible(req.getString("message_id"), req.getString("user_id")).map(MessageStore::toApi);
  }

  /**
   * A page of a conversation's history in sequence order: before_seq (older, the default from the
   * newest) or after_seq (newer). Only messages after the caller joined are visible.
   */
  private Future<JsonObject> history(JsonObject req) {
    String conv = req.getString("conversation_id");
    int limit = req.getInteger("limit");
    Long before = req.getLong("before_seq");
    Long after = req.getLong("after_seq");
    return requireMember(conv, req.getString("user_id"))
        .compose(
            m ->
                pg.preparedQuery("SELECT last_seq FROM conversations WHERE conversation_id = $1")
                    .execute(Tuple.of(UUID.fromString(conv)))
                    .map(
                        rows ->
                            new long[] {
                              m.getLong("joined_seq", 0L),
                              rows.iterator().next().getLong("last_seq")
                            }))
        .compose(
            range -> {
              long floor = range[0]; // exclusive
              long last = range[1];
              long from;
              long to;
              boolean forward = after != null;
              if (forward) {
                from = Math.max(after + 1, floor + 1);
                to = Math.min(last, from + limit - 1);
              } else {
                long top = before == null ? last : Math.min(before - 1, last);
                to = top;
                from = Math.max(floor + 1, top - limit + 1);
              }
              List<Long> seqs = new ArrayList<>();
              for (long s = from; s <= to; s++) {
                seqs.add(s);
              }
              final long lo = from;
              final long hi = to;
              return store
                  .messages(conv, seqs)
                  .map(
                      docs -> {
                        List<Object> items = new ArrayList<>();
                        for (JsonObject d : docs) {
                          items.add(MessageStore.toApi(d));
                        }
                        String next = null;
                        if (forward && hi < last && hi >= lo) {
                          next = HistoryCursor.encode(true, hi);
                        } else if (!forward && lo > floor + 1 && hi >= lo) {
                          next = HistoryCursor.encode(false, lo);
                        }
                        return Wire.page(items, next).put("last_seq", last);
                      });
            });
  }

  // --- status, edit, delete: Kafka records the pipeline applies ---

  private Future<JsonObject> mark(JsonObject req) {
    String userId = req.getString("user_id");
    String status = req.getString("status");
    return visible(req.getString("message_id"), userId)
        .compose(
            doc -> {
              if (userId.equals(doc.getString("from_user_id"))) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT,
                        "the author does not mark their own message " + status));
              }
              String conv = doc.getString("conversation_id");
              JsonObject record =
                  new JsonObject()
                      .put("message_id", doc.getString("message_id"))
                      .put("conversation_id", conv)
                      .put("sequence_number", doc.getLong("sequence_number"))
                      .put("user_id", userId)
                      .put("status", status)
                      .put("at", Wire.timestamp(Instant.now()));
              String topic =
                  MessageActions.READ.equals(status)
                      ? Topics.MESSAGE_READ
                      : Topics.MESSAGE_DELIVERED;
              return producer
                  .send(KafkaProducerRecord.create(config.topic(topic), conv, record.encode()))
                  .map(x -> record);
            });
  }

  private Future<JsonObject> edit(JsonObject req) {
    return update(req, "edit");
  }

  private Future<JsonObject> delete(JsonObject req) {
    return update(req, "delete");
  }

  private Future<JsonObject> update(JsonObject req, String op) {
    String userId = req.getString("user_id");
    return visible(req.getString("message_id"), userId)
        .compose(
            doc -> {
              if (!userId.equals(doc.getString("from_user_id"))) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.FORBIDDEN, "only the author may " + op + " a message"));
              }
              if (doc.getBoolean("is_deleted", false)) {
                return Future.failedFuture(
                    new ServiceException(ErrorCode.CONFLICT, "the message was deleted"));
              }
              if ("edit".equals(op)
                  && !"text".equals(doc.getJsonObject("payload").getString("type"))) {
                return Future.failedFuture(
                    new ServiceException(ErrorCode.CONFLICT, "only text messages can be edited"));
              }
              String conv = doc.getString("conversation_id");
              JsonObject record =
                  new JsonObject()
                      .put("op", op)
                      .put("message_id", doc.getString("message_id"))
                      .put("conversation_id", conv)
                      .put("sequence_number", doc.getLong("sequence_number"))
                      .put("user_id", userId)
                      .put("text", req.getString("text"))
                      .put("at", Wire.timestamp(Instant.now()));
              return producer
                  .send(
                      KafkaProducerRecord.create(
                          config.topic(Topics.MESSAGE_UPDATED), conv, record.encode()))
                  .map(x -> Pipeline.applyUpdate(doc.copy(), record))
                  .map(MessageStore::toApi);
            });
  }

  private Future<JsonObject> sync(JsonObject req) {
    return feed.since(req.getString("user_id"), req.getString("cursor"), req.getInteger("limit"));
  }
}
