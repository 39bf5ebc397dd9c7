package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
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
  private final MessageViews views;
  private SendClaims claims;
  private java.util.function.IntSupplier messagesPerMinute = () -> 0;
  private Membership membership;

  /** A user's membership of a conversation: {@code {member, role, joined_seq}}. */
  @FunctionalInterface
  public interface Membership {
    Future<JsonObject> of(String conversationId, String userId);
  }

  /**
   * The per-user message rate limit in force (read at every send; 0 = none), counted in Redis in
   * the same round trip as the send's idempotency claim.
   */
  public MessagingVerticle withMessageLimit(java.util.function.IntSupplier perMinute) {
    this.messagesPerMinute = Objects.requireNonNull(perMinute, "perMinute");
    return this;
  }

  /**
   * Answers membership questions with a direct call (the node's membership cache) instead of a
   * request to the conversations service on the event bus.
   */
  public MessagingVerticle withMembership(Membership membership) {
    this.membership = Objects.requireNonNull(membership, "membership");
    return this;
  }

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
    this.views = new MessageViews(store, new ReadHorizons(pg));
    SendClaims.checkLease(config.idempotencyLeaseMs());
  }

  @Override
  public final Future<?> start() {
    claims =
        new SendClaims(
            vertx,
            redis,
            config.redisKeyPrefix(),
            config.idempotencyTtlSeconds(),
            config.idempotencyLeaseMs(),
            SeenFilter.of(config.idempotencyFilterBits(), config.retentionDays()));
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
    Future<JsonObject> answer =
        membership != null
            ? membership.of(conversationId, userId)
            : ServiceBus.request(
                vertx,
                Addresses.CONVERSATIONS,
                "membership",
                new JsonObject().put("conversation_id", conversationId).put("user_id", userId));
    return answer.compose(
        m ->
            m.getBoolean("member", false)
                ? Future.succeededFuture(m)
                : Future.failedFuture(
                    new ServiceException(ErrorCode.NOT_FOUND, "conversation not found")));
  }

  // --- send ---

  /** The idempotency fingerprint of a validated send request (what makes two sends the same). */
  public static String fingerprint(JsonObject req) {
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
   * Idempotent per (from_user_id, message_id) through {@link SendClaims}: the attempt holding the
   * claim writes to Kafka and records the reply; a retry with the same body gets the same reply
   * (waiting while the first is in flight, finishing it when the first went away); the same key
   * with another body, or another user's key, is 409.
   */
  private Future<JsonObject> send(JsonObject req) {
    String userId = req.getString("user_id");
    String conversationId = req.getString("conversation_id");
    int limit = messagesPerMinute.getAsInt();
    SendClaims.Rate rate =
        limit > 0 ? new SendClaims.Rate("msg:" + userId, limit, 60) : SendClaims.Rate.NONE;
    return requireMember(conversationId, userId)
        .compose(m -> replyTarget(req, m))
        .compose(x -> withFile(req))
        .compose(
            r ->
                claims.send(
                    r.getString("message_id"),
                    userId,
                    fingerprint(r),
                    rate,
                    (createdAt, resumed, maybeUsed) -> sendOnce(r, createdAt, resumed, maybeUsed)));
  }

  /**
   * A reply names a message of the same conversation that the sender can see (numbered after they
   * joined, still stored): otherwise 404 on reply_to_message_id.
   */
  private Future<Void> replyTarget(JsonObject req, JsonObject membership) {
    String target = req.getString("reply_to_message_id");
    if (target == null) {
      return Future.succeededFuture();
    }
    String conv = req.getString("conversation_id");
    ServiceException missing =
        new ServiceException(
            ErrorCode.NOT_FOUND,
            "reply_to_message_id names no message of this conversation you can see",
            new JsonObject().put("field", "reply_to_message_id"));
    return store
        .messageIdEntry(target)
        .compose(
            entry -> {
              if (entry == null
                  || !conv.equals(entry.getString("conversation_id"))
                  || entry.getLong("seq") <= membership.getLong("joined_seq", 0L)) {
                return Future.failedFuture(missing);
              }
              return store
                  .message(conv, entry.getLong("seq"))
                  .compose(
                      doc ->
                          doc != null && target.equals(doc.getString("message_id"))
                              ? Future.<Void>succeededFuture()
                              : Future.failedFuture(missing));
            });
  }

  /**
   * The send itself, run by the attempt holding the claim. A stored message with this id means the
   * id is taken, unless this attempt resumes an interrupted one of the same sender and
   * conversation: then the first attempt reached Kafka and its reply is given without a second
   * write. Otherwise the record goes to Kafka (again, for a resumed attempt: the pipeline keeps the
   * first copy).
   */
  private Future<JsonObject> sendOnce(
      JsonObject req, String createdAt, boolean resumed, boolean maybeUsed) {
    String messageId = req.getString("message_id");
    JsonObject record = record(req, createdAt);
    if (!resumed && !maybeUsed) {
      // a first attempt of an id never claimed before: nothing can be stored under it
      return write(record);
    }
    return store
        .messageIdEntry(messageId)
        .compose(
            stored -> {
              if (stored == null) {
                return write(record);
              }
              if (resumed
                  && record.getString("conversation_id").equals(stored.getString("conversation_id"))
                  && record.getString("from_user_id").equals(stored.getString("from_user_id"))) {
                return Future.succeededFuture(accepted(record));
              }
              return Future.failedFuture(
                  new ServiceException(
                      ErrorCode.IDEMPOTENCY_CONFLICT,
                      "message_id " + messageId + " was already used",
                      new JsonObject().put("field", "message_id")));
            });
  }

  /** The durable write: the reply is the message as accepted, once Kafka acknowledged it. */
  private Future<JsonObject> write(JsonObject record) {
    return producer
        .send(
            KafkaProducerRecord.create(
                config.topic(Topics.MESSAGE_SENT),
                record.getString("conversation_id"),
                record.encode()))
        .map(
            meta -> {
              io.chat4all.web.obs.Meters.accepted(record.getString("source_channel"));
              return accepted(record);
            });
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

  /** The message.sent record of a send. */
  private static JsonObject record(JsonObject req, String createdAt) {
    JsonObject record =
        new JsonObject()
            .put("message_id", req.getString("message_id"))
            .put("conversation_id", req.getString("conversation_id"))
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
    return record;
  }

  /** The reply to a send: the message as accepted, before the pipeline numbers it. */
  private static JsonObject accepted(JsonObject record) {
    String createdAt = record.getString("created_at");
    return new JsonObject()
        .put("message_id", record.getString("message_id"))
        .put("conversation_id", record.getString("conversation_id"))
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
        .put("updated_at", createdAt);
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
    return visible(req.getString("message_id"), req.getString("user_id"))
        .compose(doc -> views.of(doc.getString("conversation_id"), List.of(doc)))
        .map(l -> l.get(0));
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
                  .compose(docs -> views.of(conv, docs))
                  .map(
                      views -> {
                        List<Object> items = new ArrayList<>(views);
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
              if (MessageActions.FAILED.equals(doc.getString("status"))) {
                return Future.failedFuture(
                    new ServiceException(
                        ErrorCode.CONFLICT, "the message failed: it cannot be marked " + status));
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
              if ("edit".equals(op) && MessageActions.FAILED.equals(doc.getString("status"))) {
                return Future.failedFuture(
                    new ServiceException(ErrorCode.CONFLICT, "the message failed: send it again"));
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
                  .compose(x -> "delete".equals(op) ? forgetText(record) : Future.succeededFuture())
                  .compose(x -> views.of(conv, List.of(Pipeline.applyUpdate(doc.copy(), record))))
                  .map(l -> l.get(0));
            });
  }

  /** A deleted message's text also leaves the reply its send recorded for retries. */
  private Future<Void> forgetText(JsonObject record) {
    return claims
        .rewriteReply(record.getString("message_id"), reply -> Pipeline.applyUpdate(reply, record))
        .recover(
            err ->
                Future.failedFuture(
                    new ServiceException(
                        ErrorCode.UNAVAILABLE,
                        "the delete is recorded but not yet applied everywhere; retry it")));
  }

  private Future<JsonObject> sync(JsonObject req) {
    return feed.since(req.getString("user_id"), req.getString("cursor"), req.getInteger("limit"))
        .compose(views::hydrate);
  }
}
