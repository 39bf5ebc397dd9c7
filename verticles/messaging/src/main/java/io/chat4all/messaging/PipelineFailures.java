package io.chat4all.messaging;

import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.web.Bodies;
import io.chat4all.web.StoreErrors;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the {@link Pipeline} fails without stalling. Each conversation of a batch is applied on its
 * own, so a failure stays in its conversation. When a conversation's records fail, they are applied
 * again one by one, in log order:
 *
 * <ul>
 *   <li>a failure retrying cannot fix (a store refusing a value, see {@link StoreErrors}; a record
 *       whose fields cannot be read) is tried {@code messaging.pipeline_max_attempts} times; then
 *       the raw record goes to {@value Topics#PIPELINE_DEAD_LETTER} with the reason, a send is
 *       stored as a {@code failed} message under the next number (a content-free placeholder, so
 *       the conversation's numbering has no gap) and its sender is told live, and the conversation
 *       goes on with its next record;
 *   <li>any other failure (a store or broker that is down or slow) is retried without limit, with
 *       backoff up to {@code messaging.pipeline_max_backoff_ms}; meanwhile {@link #stall()} reports
 *       the pipeline as stalled (readiness).
 * </ul>
 */
final class PipelineFailures {
  private static final Logger LOG = LoggerFactory.getLogger(PipelineFailures.class);

  /** A store refused the message (a value it cannot hold). */
  static final String STORE_REJECTED = "store_rejected";

  /** The record could be read but not applied (missing or mistyped fields). */
  static final String UNPROCESSABLE = "unprocessable";

  /** The record is not a JSON object, or has no conversation key. */
  static final String MALFORMED_RECORD = "malformed_record";

  /** Applies records of one conversation (the pipeline's normal path). */
  interface Apply {
    Future<Void> apply(String conv, List<KafkaConsumerRecord<String, String>> records);
  }

  /** What happens to a record given up on, after its dead-letter record is written. */
  interface GiveUp {
    Future<Void> gaveUp(
        String conv, KafkaConsumerRecord<String, String> record, JsonObject failure);
  }

  private final Vertx vertx;
  private final KafkaProducer<String, String> producer;
  private final MessagingConfig config;
  private final Map<Object, JsonObject> stalls = new ConcurrentHashMap<>();

  PipelineFailures(Vertx vertx, KafkaProducer<String, String> producer, MessagingConfig config) {
    this.vertx = vertx;
    this.producer = producer;
    this.config = config;
  }

  /**
   * Applies one conversation's records; whatever fails stays in this conversation. Fails only when
   * {@code aborted} turns true (the node stops, or the partitions moved to another consumer).
   */
  Future<Void> isolated(
      String conv,
      List<KafkaConsumerRecord<String, String>> records,
      Apply apply,
      GiveUp giveUp,
      Runnable beforeRetry,
      BooleanSupplier aborted) {
    return apply
        .apply(conv, records)
        .recover(
            err -> {
              if (aborted.getAsBoolean()) {
                return Future.failedFuture(err);
              }
              LOG.info(
                  "conversation {}: {} record(s) failed ({}); applying them one by one",
                  conv,
                  records.size(),
                  err.toString());
              Future<Void> chain = Future.succeededFuture();
              for (KafkaConsumerRecord<String, String> r : records) {
                chain =
                    chain.compose(
                        v -> {
                          beforeRetry.run();
                          return attempt(conv, r, apply, giveUp, beforeRetry, aborted, 1, 0);
                        });
              }
              return chain;
            });
  }

  /**
   * One try of one record: {@code tries} counts failures retrying cannot fix, {@code waits} every
   * retry (for the backoff).
   */
  private Future<Void> attempt(
      String conv,
      KafkaConsumerRecord<String, String> r,
      Apply apply,
      GiveUp giveUp,
      Runnable beforeRetry,
      BooleanSupplier aborted,
      int tries,
      int waits) {
    Object stallKey = r;
    return apply
        .apply(conv, List.of(r))
        .transform(
            ar -> {
              if (ar.succeeded()) {
                unstall(stallKey);
                return Future.succeededFuture();
              }
              Throwable err = ar.cause();
              if (aborted.getAsBoolean()) {
                unstall(stallKey);
                return Future.failedFuture(err);
              }
              if (!permanent(err)) {
                stall(stallKey, conv, err);
                LOG.warn(
                    "conversation {}: record {}-{}@{} failed, retrying: {}",
                    conv,
                    r.topic(),
                    r.partition(),
                    r.offset(),
                    err.toString());
                return later(waits)
                    .compose(
                        v -> {
                          beforeRetry.run();
                          return attempt(
                              conv, r, apply, giveUp, beforeRetry, aborted, tries, waits + 1);
                        });
              }
              if (tries < config.pipelineMaxAttempts()) {
                return later(waits)
                    .compose(
                        v -> {
                          beforeRetry.run();
                          return attempt(
                              conv, r, apply, giveUp, beforeRetry, aborted, tries + 1, waits + 1);
                        });
              }
              unstall(stallKey);
              return abandon(conv, r, reason(err), err.toString(), tries, giveUp, aborted);
            });
  }

  /**
   * Writes the dead-letter record, then lets {@code giveUp} record the outcome (a failed message);
   * both are retried while they fail for transient reasons.
   */
  Future<Void> abandon(
      String conv,
      KafkaConsumerRecord<String, String> r,
      String reason,
      String error,
      int tries,
      GiveUp giveUp,
      BooleanSupplier aborted) {
    JsonObject failure =
        new JsonObject()
            .put("reason", reason)
            .put("error", error)
            .put("attempts", tries)
            .put("at", Wire.timestamp(Instant.now()));
    LOG.error(
        "conversation {}: giving up on record {}-{}@{} after {} tries ({}): {}",
        conv,
        r.topic(),
        r.partition(),
        r.offset(),
        tries,
        reason,
        error);
    return untilDone(r, conv, () -> deadLetter(r, failure), aborted, 0)
        .compose(v -> untilDone(r, conv, () -> giveUp.gaveUp(conv, r, failure), aborted, 0))
        .recover(
            err -> {
              if (aborted.getAsBoolean()) {
                return Future.failedFuture(err);
              }
              // it cannot even be recorded as failed: it is in the dead-letter topic (or the log)
              LOG.error(
                  "conversation {}: record {}-{}@{} dropped: {}",
                  conv,
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  err.toString());
              return Future.succeededFuture();
            });
  }

  /** Retries {@code step} while it fails for transient reasons; fails on a permanent one. */
  private Future<Void> untilDone(
      KafkaConsumerRecord<String, String> r,
      String conv,
      java.util.function.Supplier<Future<Void>> step,
      BooleanSupplier aborted,
      int waits) {
    Object stallKey = List.of(r, "give-up");
    return step.get()
        .transform(
            ar -> {
              if (ar.succeeded()) {
                unstall(stallKey);
                return Future.succeededFuture();
              }
              if (aborted.getAsBoolean() || permanent(ar.cause())) {
                unstall(stallKey);
                return Future.failedFuture(ar.cause());
              }
              stall(stallKey, conv, ar.cause());
              return later(waits).compose(v -> untilDone(r, conv, step, aborted, waits + 1));
            });
  }

  /** The raw record with the reason on {@value Topics#PIPELINE_DEAD_LETTER}, same key. */
  Future<Void> deadLetter(KafkaConsumerRecord<String, String> r, JsonObject failure) {
    JsonObject value =
        new JsonObject()
            .put("source_topic", r.topic())
            .put("partition", r.partition())
            .put("offset", r.offset())
            .put("key", r.key())
            .put("value", r.value())
            .mergeIn(failure);
    return producer
        .send(
            KafkaProducerRecord.create(
                config.topic(Topics.PIPELINE_DEAD_LETTER), r.key(), value.encode()))
        .mapEmpty();
  }

  /** Why the pipeline cannot even read {@code r} (no conversation key, not JSON), or null. */
  static String unreadable(KafkaConsumerRecord<String, String> r) {
    if (r.key() == null) {
      return "the record has no conversation key";
    }
    try {
      java.util.UUID.fromString(r.key());
      new JsonObject(r.value());
      return null;
    } catch (RuntimeException e) {
      return "the record is not a JSON object keyed by a conversation id: " + e.getMessage();
    }
  }

  /** A record the pipeline cannot even read: straight to the dead-letter topic. */
  Future<Void> malformed(
      KafkaConsumerRecord<String, String> r, String why, BooleanSupplier aborted) {
    LOG.warn(
        "dead-lettering a malformed record at {}-{}@{}: {}",
        r.topic(),
        r.partition(),
        r.offset(),
        why);
    JsonObject failure =
        new JsonObject()
            .put("reason", MALFORMED_RECORD)
            .put("error", why)
            .put("attempts", 1)
            .put("at", Wire.timestamp(Instant.now()));
    return untilDone(r, r.key(), () -> deadLetter(r, failure), aborted, 0)
        .recover(
            err -> {
              if (aborted.getAsBoolean()) {
                return Future.failedFuture(err);
              }
              LOG.error(
                  "malformed record at {}-{}@{} dropped: {}",
                  r.topic(),
                  r.partition(),
                  r.offset(),
                  err.toString());
              return Future.succeededFuture();
            });
  }

  /**
   * True for failures retrying cannot fix: a store refusing a value, a record whose fields cannot
   * be read, a record Kafka refuses (too large). Anything else (connections, timeouts, unknown) is
   * transient.
   */
  static boolean permanent(Throwable err) {
    if (StoreErrors.isDataError(err)) {
      return true;
    }
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof RecordTooLargeException
          || t instanceof SerializationException
          || t instanceof NullPointerException
          || t instanceof ClassCastException
          || t instanceof IllegalArgumentException
          || t instanceof DecodeException
          || t instanceof DateTimeException
          || t instanceof ArithmeticException
          || t instanceof IndexOutOfBoundsException
          || t instanceof UnsupportedOperationException) {
        return true;
      }
    }
    return false;
  }

  static String reason(Throwable err) {
    return StoreErrors.isDataError(err) ? STORE_REJECTED : UNPROCESSABLE;
  }

  private Future<Void> later(int waits) {
    long delay =
        Math.min(
            config.pipelineMaxBackoffMs(), config.pipelineRetryBackoffMs() << Math.min(20, waits));
    Promise<Void> p = Promise.promise();
    vertx.setTimer(delay, t -> p.complete());
    return p.future();
  }

  // --- stalls (readiness) ---

  /**
   * Records that {@code key} (a record, the batch) is being retried because of {@code err}; {@code
   * conversationId} is null for the batch. Entries are replaced, never changed, because the
   * readiness check reads them from another thread.
   */
  void stall(Object key, String conversationId, Throwable err) {
    stalls.compute(
        key,
        (k, old) -> {
          JsonObject entry =
              new JsonObject()
                  .put(
                      "since", old == null ? Wire.timestamp(Instant.now()) : old.getString("since"))
                  .put("error", err.toString());
          if (conversationId != null) {
            entry.put("conversation_id", conversationId);
          }
          return entry;
        });
  }

  void unstall(Object key) {
    stalls.remove(key);
  }

  /** Null while the pipeline moves; otherwise what it is stuck retrying (oldest first). */
  JsonObject stall() {
    if (stalls.isEmpty()) {
      return null;
    }
    JsonObject oldest = null;
    for (JsonObject s : stalls.values()) {
      if (oldest == null || s.getString("since").compareTo(oldest.getString("since")) < 0) {
        oldest = s;
      }
    }
    return oldest == null
        ? null
        : oldest.copy().put("retrying", stalls.size()).put("state", "stalled");
  }

  // --- failed messages ---

  /**
   * The send record to store in place of one given up on: ids, sender, time and type kept (when
   * they are well-formed), content dropped (the raw record is in the dead-letter topic); null when
   * it has no usable message or sender id.
   */
  static JsonObject placeholder(String conv, String rawValue, JsonObject failure) {
    JsonObject value;
    try {
      value = new JsonObject(rawValue);
    } catch (RuntimeException e) {
      return null;
    }
    String messageId =
        Bodies.canonicalUuid(value.getValue("message_id") instanceof String s ? s : null);
    String from =
        Bodies.canonicalUuid(value.getValue("from_user_id") instanceof String s ? s : null);
    if (messageId == null || from == null) {
      return null;
    }
    String type = "text";
    if (value.getValue("payload") instanceof JsonObject p
        && p.getValue("type") instanceof String t
        && MessageActions.PAYLOAD_TYPES.contains(t)) {
      type = t;
    }
    String created = failure.getString("at");
    if (value.getValue("created_at") instanceof String c) {
      try {
        created = Wire.timestamp(Instant.parse(c));
      } catch (DateTimeException ignored) {
        // keep the failure time
      }
    }
    Object reply = value.getValue("reply_to_message_id");
    return new JsonObject()
        .put("message_id", messageId)
        .put("conversation_id", conv)
        .put("from_user_id", from)
        .put("payload", new JsonObject().put("type", type))
        .put("reply_to_message_id", reply instanceof String s ? Bodies.canonicalUuid(s) : null)
        .put("channels", new JsonArray())
        .put("created_at", created)
        .put("failure", failure.copy());
  }

  /** Makes a new message document the failed placeholder its send record asks for. */
  static JsonObject markIfFailed(JsonObject doc, JsonObject send) {
    JsonObject failure = send.getJsonObject("failure");
    if (failure != null) {
      doc.put("status", MessageActions.FAILED);
      doc.getJsonArray("status_history")
          .add(
              new JsonObject()
                  .put("status", MessageActions.FAILED)
                  .put("timestamp", failure.getString("at"))
                  .put("reason", failure.getString("reason")));
      doc.put("updated_at", failure.getString("at"));
    }
    return doc;
  }

  static boolean isFailed(JsonObject doc) {
    return MessageActions.FAILED.equals(doc.getString("status"));
  }

  /** The live/feed envelope telling the sender their message failed (and why). */
  static JsonObject failedEnvelope(JsonObject doc) {
    JsonArray history = doc.getJsonArray("status_history");
    JsonObject last = history.getJsonObject(history.size() - 1);
    return new JsonObject()
        .put(Envelopes.TYPE, Envelopes.STATUS)
        .put("message_id", doc.getString("message_id"))
        .put("conversation_id", doc.getString("conversation_id"))
        .put("sequence_number", doc.getLong("sequence_number"))
        .put("user_id", doc.getString("from_user_id"))
        .put("status", MessageActions.FAILED)
        .put("reason", last.getString("reason"))
        .put("at", last.getString("timestamp"))
        .put("message_status", MessageActions.FAILED);
  }
}
