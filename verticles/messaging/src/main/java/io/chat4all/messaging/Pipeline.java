package io.chat4all.messaging;

import io.chat4all.codecs.Topics;
import io.chat4all.web.obs.ConsumerLag;
import io.chat4all.web.obs.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.sqlclient.Pool;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The message pipeline: one Kafka consumer group over {@code message.sent}, {@code
 * message.updated}, {@code message.delivered} and {@code message.read}, all keyed by conversation,
 * so the node owning a partition owns its conversations' order. Per poll it groups the records by
 * conversation; the sends of all conversations are numbered (gapless, per conversation) and stored
 * together in one bulk write ({@link BatchWrite}, {@link SendWriter}), their members read in one
 * query; then each conversation publishes at once — every recipient's change feed and live
 * envelope, outbound channel records and {@code message.stored} ({@link Fanout}) — while it moves
 * its counters in PostgreSQL once, and applies status changes and edits in log order ({@link
 * Updates}). Offsets are committed after the effects (in the background, by the first poll after
 * {@code messaging.commit_interval_ms}; a poll comes only once the batch before it is applied, and
 * a failed batch is sought back first), so a crash redelivers and the redelivery changes nothing (a
 * message is stored once, a feed holds it once). Each conversation of a batch is applied on its
 * own: a record that cannot be applied is retried a bounded number of times, then dead-lettered (a
 * send becomes a {@code failed} message) without holding up its conversation or the others; see
 * {@link PipelineFailures}.
 *
 * <p>Batches follow the load: a poll returns as soon as records are there (one record when idle),
 * and what arrived while a batch was applied comes as the next one, up to {@code
 * messaging.max_poll_records}.
 */
public class Pipeline extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  private final Pool pg;
  private final MessageStore store;
  private final FeedStore feed;
  private final KafkaProducer<String, String> producer;
  private final MessagingConfig config;
  private ReadHorizons horizons;
  private SendWriter writer;
  private Fanout fanout;
  private Receipts receipts;
  private Updates updates;
  private KafkaConsumer<String, String> consumer;
  private long lagTimer = -1;
  private volatile boolean stopping;
  private Promise<Void> loopStopped;
  private long backoffMs = 100;
  private PipelineFailures failures;

  /** Bumped whenever partitions move: retries of records this consumer no longer owns stop. */
  private volatile int generation;

  private io.chat4all.codecs.KafkaMembership membership =
      io.chat4all.codecs.KafkaMembership.DEFAULT;

  /** Session timeout, heartbeat and static member id of the consumer; set before deploying. */
  public Pipeline membership(io.chat4all.codecs.KafkaMembership membership) {
    this.membership = java.util.Objects.requireNonNull(membership);
    return this;
  }

  public Pipeline(
      Pool pg,
      MessageStore store,
      FeedStore feed,
      KafkaProducer<String, String> producer,
      MessagingConfig config) {
    this.pg = Objects.requireNonNull(pg);
    this.store = Objects.requireNonNull(store);
    this.feed = Objects.requireNonNull(feed);
    this.producer = Objects.requireNonNull(producer);
    this.config = Objects.requireNonNull(config);
  }

  /** Applies an edit or delete record to a stored message (pure; used for replies too). */
  static JsonObject applyUpdate(JsonObject doc, JsonObject record) {
    return Updates.applyUpdate(doc, record);
  }

  @Override
  public final Future<?> start() {
    horizons = new ReadHorizons(pg);
    writer = new SendWriter(vertx, pg, store, horizons, config);
    fanout = new Fanout(vertx, feed, producer, config);
    receipts = new Receipts(store, horizons, fanout::announce);
    ChannelStatuses channelStatuses = new ChannelStatuses(store, receipts, fanout::announce);
    updates = new Updates(store, horizons, receipts, channelStatuses, fanout, config);

    Map<String, String> props = new HashMap<>();
    props.put("bootstrap.servers", config.kafkaBootstrapServers());
    props.put("group.id", config.topicPrefix() + config.consumerGroup());
    props.put("client.id", "chat4all-pipeline-" + UUID.randomUUID().toString().substring(0, 8));
    // offsets go in the background from the next poll, which comes only after the batch is applied
    // (a rebalance commits them first); a synchronous commit per batch held up every cycle
    props.put("enable.auto.commit", "true");
    props.put("auto.commit.interval.ms", Integer.toString(config.commitIntervalMs()));
    props.put("auto.offset.reset", "earliest");
    props.put("max.poll.records", Integer.toString(config.maxPollRecords()));
    props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    membership.applyTo(props);
    consumer = KafkaConsumer.create(vertx, props);
    failures = new PipelineFailures(vertx, producer, config);
    // a new owner must not trust counters of partitions it did not own the whole time
    consumer.partitionsRevokedHandler(
        p -> {
          writer.forgetAll();
          generation++;
        });
    consumer.partitionsAssignedHandler(
        p -> {
          writer.forgetAll();
          generation++;
        });
    Set<String> topics =
        Set.of(
            config.topic(Topics.MESSAGE_SENT),
            config.topic(Topics.MESSAGE_UPDATED),
            config.topic(Topics.MESSAGE_DELIVERED),
            config.topic(Topics.MESSAGE_READ));
    loopStopped = Promise.promise();
    lagTimer = ConsumerLag.watch(vertx, "pipeline", consumer);
    return store.ensureIndexes().compose(v -> consumer.subscribe(topics)).onSuccess(v -> loop());
  }

  /**
   * Null while the pipeline moves; otherwise what it has been retrying since when (a store or the
   * broker failing): for readiness.
   */
  public JsonObject stall() {
    return failures == null ? null : failures.stall();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(lagTimer);
    return loopStopped.future().compose(v -> consumer.close());
  }

  private void loop() {
    if (stopping) {
      loopStopped.tryComplete();
      return;
    }
    consumer
        .poll(Duration.ofMillis(250))
        .compose(records -> records.isEmpty() ? Future.succeededFuture() : apply(records))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn(
                    "pipeline batch failed, retrying in {} ms: {}",
                    backoffMs,
                    ar.cause().toString());
                failures.stall(this, null, ar.cause());
                writer.forgetAll();
                long delay = backoffMs;
                backoffMs = Math.min(5000, backoffMs * 2);
                vertx.setTimer(delay, t -> loop());
              } else {
                backoffMs = 100;
                failures.unstall(this);
                loop();
              }
            });
  }

  /**
   * Applies one poll's records; its offsets are committed by a later poll (none comes before this
   * completes), so nothing unapplied is committed ({@code AcceptPathBudgetTest} holds a batch in
   * the store and watches the committed offsets).
   */
  private Future<Void> apply(KafkaConsumerRecords<String, String> records) {
    Map<TopicPartition, Long> firstOffsets = new HashMap<>();
    Map<String, List<KafkaConsumerRecord<String, String>>> byConversation = new LinkedHashMap<>();
    List<Future<?>> work = new ArrayList<>();
    int gen = generation;
    java.util.function.BooleanSupplier aborted = () -> stopping || generation != gen;
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> r = records.recordAt(i);
      firstOffsets.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
      String unreadable = PipelineFailures.unreadable(r);
      if (unreadable != null) {
        work.add(failures.malformed(r, unreadable, aborted));
        continue;
      }
      byConversation.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
    }
    // every conversation holds a slot of the batch's one lookup and one bulk write before any runs
    BatchWrite batch = new BatchWrite(store::messagesById, store::insertNew, horizons::afterSends);
    Map<String, BatchWrite.Slot> slots = new HashMap<>();
    List<UUID> ids = new ArrayList<>();
    for (String conv : byConversation.keySet()) {
      slots.put(conv, batch.slot());
      UUID id = conversationId(conv);
      if (id != null) {
        ids.add(id);
      }
    }
    // and the members of all of them come in one query (a retry loads its conversation's own)
    Map<UUID, Future<Members>> members = ids.isEmpty() ? Map.of() : Members.loadAll(pg, ids);
    for (Map.Entry<String, List<KafkaConsumerRecord<String, String>>> e :
        byConversation.entrySet()) {
      String conv = e.getKey();
      BatchWrite.Slot slot = slots.get(conv);
      // each conversation on its own: a record that fails holds up neither it nor the others
      work.add(
          failures.isolated(
              conv,
              e.getValue(),
              (c, rs) -> {
                BatchWrite.Slot first = slot.take(); // retries write on their own
                Future<Members> known = first == null ? null : members.get(conversationId(c));
                return PipelineTracing.process(
                        vertx, c, rs, (cc, rr) -> processConversation(cc, rr, first, known))
                    .onComplete(ar -> slot.leave());
              },
              this::gaveUp,
              () -> writer.forget(conv),
              aborted));
    }
    return Future.all(work)
        .<Void>mapEmpty()
        .recover(
            err -> {
              // nothing committed: rewind so the batch is read again (its effects are idempotent)
              for (Map.Entry<TopicPartition, Long> e : firstOffsets.entrySet()) {
                try {
                  consumer.seek(e.getKey(), e.getValue());
                } catch (RuntimeException notOwned) {
                  // partition moved to another consumer, which resumes from the committed offset
                }
              }
              return Future.failedFuture(err);
            });
  }

  /**
   * After a record was dead-lettered, a send becomes a {@code failed} placeholder (content dropped)
   * under the conversation's next number, or under its own number when it was stored but a later
   * step failed; its sender is told. Other records (statuses, edits) are just not applied.
   */
  private Future<Void> gaveUp(
      String conv, KafkaConsumerRecord<String, String> r, JsonObject failure) {
    if (!r.topic().equals(config.topic(Topics.MESSAGE_SENT))) {
      return Future.succeededFuture();
    }
    JsonObject placeholder = PipelineFailures.placeholder(conv, r.value(), failure);
    if (placeholder == null) {
      return Future.succeededFuture();
    }
    Meters.failed(PipelineTracing.sourceChannel(r.value()), "pipeline");
    String mid = placeholder.getString("message_id");
    writer.forget(conv);
    return store
        .messageIdEntry(mid)
        .compose(
            entry ->
                entry == null || !conv.equals(entry.getString("conversation_id"))
                    ? Future.<JsonObject>succeededFuture()
                    : store.message(conv, entry.getLong("seq")))
        .compose(
            stored ->
                Members.load(pg, UUID.fromString(conv))
                    .compose(
                        members -> {
                          if (stored == null || !mid.equals(stored.getString("message_id"))) {
                            return applySends(conv, members, List.of(placeholder), null);
                          }
                          long seq = stored.getLong("sequence_number");
                          JsonObject doc = writer.document(conv, seq, placeholder, members);
                          SendWriter.Stored run = new SendWriter.Stored(List.of(doc), seq);
                          return store
                              .save(doc)
                              .compose(v -> writer.afterSends(conv, run))
                              // later numbers may be taken: read the counter again
                              .onSuccess(v -> writer.forget(conv))
                              .compose(v -> fanout.route(conv, members, run.docs()));
                        }));
  }

  /**
   * Records of one conversation, in log order: runs of sends in bulk (the first one through the
   * batch's shared write when {@code slot} is given), others one by one.
   */
  private Future<Void> processConversation(
      String conv,
      List<KafkaConsumerRecord<String, String>> records,
      BatchWrite.Slot slot,
      Future<Members> known) {
    UUID convId = conversationId(conv);
    if (convId == null) {
      LOG.warn("dropping records with a malformed conversation key {}", conv);
      return Future.succeededFuture();
    }
    String sent = config.topic(Topics.MESSAGE_SENT);
    if (slot != null && records.stream().noneMatch(r -> r.topic().equals(sent))) {
      slot.leave(); // nothing to write: the others need not wait for this conversation
    }
    // the poll's one member query was started outside this conversation's span: continue in it
    return (known != null ? io.chat4all.codecs.Tracing.here(known) : Members.load(pg, convId))
        .compose(
            members -> {
              Future<Void> chain = Future.succeededFuture();
              BatchWrite.Slot[] shared = {slot};
              List<JsonObject> sends = new ArrayList<>();
              for (KafkaConsumerRecord<String, String> r : records) {
                JsonObject value;
                try {
                  value = new JsonObject(r.value());
                } catch (RuntimeException bad) {
                  LOG.warn(
                      "dropping a malformed record at {}-{}@{}",
                      r.topic(),
                      r.partition(),
                      r.offset());
                  continue;
                }
                if (r.topic().equals(sent)) {
                  sends.add(value);
                  continue;
                }
                chain = runThenOther(chain, conv, members, sends, shared, r.topic(), value);
                sends = new ArrayList<>();
              }
              List<JsonObject> tail = sends;
              return chain.compose(v -> applySends(conv, members, tail, takeShared(shared)));
            });
  }

  private static UUID conversationId(String key) {
    try {
      return key == null ? null : UUID.fromString(key);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private Future<Void> runThenOther(
      Future<Void> chain,
      String conv,
      Members members,
      List<JsonObject> run,
      BatchWrite.Slot[] shared,
      String topic,
      JsonObject value) {
    BatchWrite.Slot slot = run.isEmpty() ? null : takeShared(shared);
    return chain
        .compose(v -> applySends(conv, members, run, slot))
        .compose(v -> updates.apply(conv, members, topic, value));
  }

  private static BatchWrite.Slot takeShared(BatchWrite.Slot[] shared) {
    BatchWrite.Slot s = shared[0];
    shared[0] = null;
    return s;
  }

  /**
   * A run of sends: numbered and stored, the conversation's counters moved once, then published
   * (feeds, live, channels, {@code message.stored}), then the receipts the senders' horizons imply.
   */
  private Future<Void> applySends(
      String conv, Members members, List<JsonObject> sends, BatchWrite.Slot slot) {
    if (sends.isEmpty()) {
      return Future.succeededFuture();
    }
    return writer
        .store(conv, members, sends, slot)
        .compose(
            run -> {
              // published the moment the messages are durable, while PostgreSQL moves the
              // counters: both are redone, and change nothing, when either fails
              Future<List<ReadHorizons.Moved>> moved = writer.afterSends(conv, run, slot);
              Future<Void> routed = fanout.route(conv, members, run.docs());
              return Future.join(moved, routed)
                  .compose(v -> receipts.afterSends(conv, moved.result()));
            });
  }
}
