package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The messaging service on the event bus ({@value Addresses#MESSAGES}): accepts sends ({@link
 * SendPath}: membership, idempotency, the durable Kafka write that makes a message "sent"), status
 * marks, edits and deletes (each a Kafka record the pipeline applies), and serves history, single
 * messages and the sync feed.
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
  private SendPath sends;
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
    sends =
        new SendPath(
            vertx,
            producer,
            store,
            config,
            claims,
            () -> messagesPerMinute.getAsInt(),
            this::requireMember);
    return ServiceBus.bind(
            vertx,
            Addresses.MESSAGES,
            Map.of(
                MessageActions.SEND, sends::send,
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

  /** The idempotency fingerprint of a validated send request ({@link SendPath#fingerprint}). */
  public static String fingerprint(JsonObject req) {
    return SendPath.fingerprint(req);
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
