package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.ErrorCode;
import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.ServiceException;
import io.chat4all.codecs.Topics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.IntSupplier;

/**
 * The send path of the messaging service: membership, reply target and file checks, the idempotency
 * claim and the durable Kafka write that makes a message "sent", and the reply.
 */
final class SendPath {
  private final Vertx vertx;
  private final KafkaProducer<String, String> producer;
  private final MessageStore store;
  private final MessagingConfig config;
  private final SendClaims claims;
  private final IntSupplier messagesPerMinute;
  private final BiFunction<String, String, Future<JsonObject>> requireMember;

  /**
   * @param requireMember {@code {member, role, joined_seq}} of (conversation, user), failing
   *     not_found for a non-member
   */
  SendPath(
      Vertx vertx,
      KafkaProducer<String, String> producer,
      MessageStore store,
      MessagingConfig config,
      SendClaims claims,
      IntSupplier messagesPerMinute,
      BiFunction<String, String, Future<JsonObject>> requireMember) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.producer = Objects.requireNonNull(producer, "producer");
    this.store = Objects.requireNonNull(store, "store");
    this.config = Objects.requireNonNull(config, "config");
    this.claims = Objects.requireNonNull(claims, "claims");
    this.messagesPerMinute = Objects.requireNonNull(messagesPerMinute, "messagesPerMinute");
    this.requireMember = Objects.requireNonNull(requireMember, "requireMember");
  }

  /** The idempotency fingerprint of a validated send request (what makes two sends the same). */
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
   * Idempotent per (from_user_id, message_id) through {@link SendClaims}: the attempt holding the
   * claim writes to Kafka and records the reply; a retry with the same body gets the same reply
   * (waiting while the first is in flight, finishing it when the first went away); the same key
   * with another body, or another user's key, is 409.
   */
  Future<JsonObject> send(JsonObject req) {
    String userId = req.getString("user_id");
    String conversationId = req.getString("conversation_id");
    int limit = messagesPerMinute.getAsInt();
    SendClaims.Rate rate =
        limit > 0 ? new SendClaims.Rate("msg:" + userId, limit, 60) : SendClaims.Rate.NONE;
    return requireMember
        .apply(conversationId, userId)
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
        .put("status_history", SendWriter.sentHistory(createdAt))
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
}
