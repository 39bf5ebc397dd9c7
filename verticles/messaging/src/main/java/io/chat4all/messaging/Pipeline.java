package io.chat4all.messaging;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Envelopes;
import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.web.obs.ConsumerLag;
import io.chat4all.web.obs.Meters;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
 * so the node owning a partition owns its conversations' order. Per batch and conversation it
 * assigns gapless sequence numbers, stores the messages (idempotent on message_id), moves the
 * conversation's counters in PostgreSQL, applies status changes and edits, appends every
 * recipient's change feed and publishes the envelope on each recipient's address; outbound channels
 * get a record on {@code message.outbound.<channel>}, and each applied change one on {@code
 * message.stored} (for the webhooks). Offsets are committed after the effects, so a crash
 * redelivers and the redelivery changes nothing. Each conversation of a batch is applied on its
 * own: a record that cannot be applied is retried a bounded number of times, then dead-lettered (a
 * send becomes a {@code failed} message) without holding up its conversation or the others; see
 * {@link PipelineFailures}.
 */
public class Pipeline extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  private final Pool pg;
  private final MessageStore store;
  private final FeedStore feed;
  private final KafkaProducer<String, String> producer;
  private final MessagingConfig config;
  private final ReadHorizons horizons;
  private final Receipts receipts;
  private final Map<String, Long> counters = new HashMap<>();
  private KafkaConsumer<String, String> consumer;
  private long lagTimer = -1;
  private volatile boolean stopping;
  private Promise<Void> loopStopped;
  private long backoffMs = 100;
  private PipelineFailures failures;
  private final ChannelStatuses channelStatuses;

  /** Bumped whenever partitions move: retries of records this consumer no longer owns stop. */
  private volatile int generation;

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
    this.horizons = new ReadHorizons(pg);
    java.util.function.Function<List<Map.Entry<String, JsonObject>>, Future<Void>> announce =
        events -> deliver(events).compose(v -> storedStatuses(events));
    this.receipts = new Receipts(store, horizons, announce);
    this.channelStatuses = new ChannelStatuses(store, receipts, announce);
  }

  @Override
  public final Future<?> start() {
    Map<String, String> props = new HashMap<>();
    props.put("bootstrap.servers", config.kafkaBootstrapServers());
    props.put("group.id", config.topicPrefix() + config.consumerGroup());
    props.put("client.id", "chat4all-pipeline-" + UUID.randomUUID().toString().substring(0, 8));
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "earliest");
    props.put("max.poll.records", Integer.toString(config.maxPollRecords()));
    props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    props.put("session.timeout.ms", "10000");
    props.put("heartbeat.interval.ms", "1000");
    consumer = KafkaConsumer.create(vertx, props);
    failures = new PipelineFailures(vertx, producer, config);
    // a new owner must not trust counters of partitions it did not own the whole time
    consumer.partitionsRevokedHandler(
        p -> {
          counters.clear();
          generation++;
        });
    consumer.partitionsAssignedHandler(
        p -> {
          counters.clear();
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
        .compose(
            records -> records.isEmpty() ? Future.succeededFuture() : processAndCommit(records))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn(
                    "pipeline batch failed, retrying in {} ms: {}",
                    backoffMs,
                    ar.cause().toString());
                failures.stall(this, null, ar.cause());
                counters.clear();
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

  private Future<Void> processAndCommit(KafkaConsumerRecords<String, String> records) {
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
    for (Map.Entry<String, List<KafkaConsumerRecord<String, String>>> e :
        byConversation.entrySet()) {
      String conv = e.getKey();
      // each conversation on its own: a record that fails holds up neither it nor the others
      work.add(
          failures.isolated(
              conv,
              e.getValue(),
              (c, rs) -> PipelineTracing.process(vertx, c, rs, this::processConversation),
              this::gaveUp,
              () -> counters.remove(conv),
              aborted));
    }
    return Future.all(work)
        .compose(v -> consumer.commit())
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
    counters.remove(conv);
    return store
        .messageIdEntry(mid)
        .compose(
            entry ->
                entry == null || !conv.equals(entry.getString("conversation_id"))
                    ? Future.<JsonObject>succeededFuture()
                    : store.message(conv, entry.getLong("seq")))
        .compose(
            stored ->
                loadMembers(UUID.fromString(conv))
                    .compose(
                        members -> {
                          if (stored == null || !mid.equals(stored.getString("message_id"))) {
                            return applySends(conv, members, List.of(placeholder));
                          }
                          List<JsonObject> doc =
                              List.of(
                                  document(
                                      conv,
                                      stored.getLong("sequence_number"),
                                      placeholder,
                                      members));
                          return store
                              .save(doc.get(0))
                              .compose(v -> afterSends(conv, doc))
                              .compose(v -> route(conv, members, doc));
                        }));
  }

  /** Records of one conversation, in log order: runs of sends in bulk, others one by one. */
  private Future<Void> processConversation(
      String conv, List<KafkaConsumerRecord<String, String>> records) {
    UUID convId;
    try {
      convId = UUID.fromString(conv);
    } catch (IllegalArgumentException e) {
      LOG.warn("dropping records with a malformed conversation key {}", conv);
      return Future.succeededFuture();
    }
    return loadMembers(convId)
        .compose(
            members -> {
              Future<Void> chain = Future.succeededFuture();
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
                if (r.topic().equals(config.topic(Topics.MESSAGE_SENT))) {
                  sends.add(value);
                  continue;
                }
                List<JsonObject> run = List.copyOf(sends);
                sends.clear();
                chain =
                    chain
                        .compose(v -> applySends(conv, members, run))
                        .compose(v -> applyOther(conv, members, r.topic(), value));
              }
              List<JsonObject> tail = List.copyOf(sends);
              return chain.compose(v -> applySends(conv, members, tail));
            });
  }

  /**
   * Members of a conversation: user id → joined_seq, their <b>verified</b> channel identities (a
   * link its user has not verified receives nothing), and for contacts (users created from a
   * channel identity: verified, {@code channel_metadata.contact}) the channel they are reached on
   * unasked: the one they wrote on last (a contact an operator merged has several).
   */
  private record Members(
      Map<String, Long> joinedSeq,
      Map<String, Map<String, String>> channels,
      Map<String, Set<String>> contactChannels) {}

  private Future<Members> loadMembers(UUID conv) {
    return pg.preparedQuery(
            "SELECT m.user_id, m.joined_seq, c.channel_type, c.channel_user_id,"
                + " COALESCE(c.channel_metadata->>'contact', 'false') = 'true' AS contact,"
                + " c.last_inbound_at"
                + " FROM conversation_members m"
                + " LEFT JOIN user_channels c ON c.user_id = m.user_id AND c.channel_type <> 'internal'"
                + "  AND c.verified"
                + " WHERE m.conversation_id = $1"
                + " ORDER BY m.user_id, c.last_inbound_at DESC NULLS LAST, c.channel_type")
        .execute(Tuple.of(conv))
        .map(
            rows -> {
              Map<String, Long> joined = new LinkedHashMap<>();
              Map<String, Map<String, String>> channels = new HashMap<>();
              Map<String, Set<String>> contacts = new HashMap<>();
              for (Row row : rows) {
                String uid = row.getUUID("user_id").toString();
                joined.put(uid, row.getLong("joined_seq"));
                if (row.getString("channel_type") != null) {
                  channels
                      .computeIfAbsent(uid, k -> new HashMap<>())
                      .put(row.getString("channel_type"), row.getString("channel_user_id"));
                  // rows come newest inbound first: the first contact channel is the one
                  if (Boolean.TRUE.equals(row.getBoolean("contact"))
                      && !contacts.containsKey(uid)) {
                    contacts.put(uid, Set.of(row.getString("channel_type")));
                  }
                }
              }
              return new Members(joined, channels, contacts);
            });
  }

  // --- sends ---

  /** The conversation's last assigned sequence number: PostgreSQL's, advanced past any stored. */
  private Future<Long> counter(String conv) {
    Long cached = counters.get(conv);
    if (cached != null) {
      return Future.succeededFuture(cached);
    }
    return pg.preparedQuery("SELECT last_seq FROM conversations WHERE conversation_id = $1")
        .execute(Tuple.of(UUID.fromString(conv)))
        .compose(
            rows -> probe(conv, rows.size() == 0 ? 0L : rows.iterator().next().getLong("last_seq")))
        .onSuccess(v -> counters.put(conv, v));
  }

  /**
   * Messages are written in sequence order, so the first missing key after {@code from} ends them.
   */
  private Future<Long> probe(String conv, long from) {
    return store
        .message(conv, from + 1)
        .compose(doc -> doc == null ? Future.succeededFuture(from) : probe(conv, from + 1));
  }

  private Future<Void> applySends(String conv, Members members, List<JsonObject> sends) {
    if (sends.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> ids = new ArrayList<>();
    for (JsonObject s : sends) {
      ids.add(s.getString("message_id"));
    }
    return Future.all(counter(conv), store.messageIdEntries(ids))
        .compose(
            cf -> {
              long counter = cf.resultAt(0);
              List<JsonObject> entries = cf.resultAt(1);
              Map<String, Long> known = new HashMap<>();
              Set<String> foreign = new HashSet<>();
              for (JsonObject e : entries) {
                if (conv.equals(e.getString("conversation_id"))) {
                  known.put(e.getString("_id"), e.getLong("seq"));
                } else {
                  // the send path refuses ids already stored; one that slipped through is dropped
                  LOG.warn(
                      "dropping message {}: its id is already used in another conversation",
                      e.getString("_id"));
                  foreign.add(e.getString("_id"));
                }
              }
              Map<Long, JsonObject> stored = new HashMap<>();
              return verifyKnown(conv, known, stored)
                  .compose(
                      verified -> {
                        long next = counter;
                        List<JsonObject> newEntries = new ArrayList<>();
                        List<JsonObject> docs = new ArrayList<>();
                        Set<String> seen = new HashSet<>();
                        for (JsonObject s : sends) {
                          String mid = s.getString("message_id");
                          if (foreign.contains(mid) || !seen.add(mid)) {
                            continue;
                          }
                          Long seq = verified.get(mid);
                          if (seq == null) {
                            seq = ++next;
                            newEntries.add(
                                new JsonObject()
                                    .put("_id", mid)
                                    .put("conversation_id", conv)
                                    .put("seq", seq)
                                    .put("from_user_id", s.getString("from_user_id")));
                          } else {
                            next = Math.max(next, seq);
                          }
                          // a message stored before is routed as it is now (edited, deleted)
                          JsonObject before = stored.get(seq);
                          docs.add(before != null ? before : document(conv, seq, s, members));
                        }
                        final long last = next;
                        if (docs.isEmpty()) {
                          return Future.succeededFuture();
                        }
                        return PipelineTracing.write(
                                vertx,
                                MessageStore.MESSAGE_IDS,
                                () -> store.insertAll(MessageStore.MESSAGE_IDS, newEntries))
                            .compose(v -> confirmEntries(newEntries))
                            .compose(
                                v ->
                                    PipelineTracing.write(
                                        vertx,
                                        MessageStore.MESSAGES,
                                        () -> store.insertAll(MessageStore.MESSAGES, docs)))
                            .onSuccess(v -> PipelineTracing.stored(newEntries, docs))
                            .compose(
                                v ->
                                    PipelineTracing.write(
                                        vertx,
                                        MessageStore.HISTORY,
                                        () ->
                                            store.insertAll(
                                                MessageStore.HISTORY, historyEntries(docs))))
                            .compose(v -> afterSends(conv, docs))
                            .onSuccess(v -> counters.put(conv, last))
                            .compose(
                                moved ->
                                    route(conv, members, docs)
                                        .compose(v -> receipts.afterSends(conv, moved)));
                      });
            });
  }

  /**
   * A message id already mapped to a sequence number is trusted only if the stored message under
   * that number is this message (or missing, when a crash came between the two writes); the stored
   * ones are put into {@code stored}.
   */
  private Future<Map<String, Long>> verifyKnown(
      String conv, Map<String, Long> known, Map<Long, JsonObject> stored) {
    if (known.isEmpty()) {
      return Future.succeededFuture(known);
    }
    return store
        .messages(conv, new ArrayList<>(known.values()))
        .compose(
            docs -> {
              Map<Long, String> bySeq = new HashMap<>();
              for (JsonObject d : docs) {
                bySeq.put(d.getLong("sequence_number"), d.getString("message_id"));
              }
              for (JsonObject d : docs) {
                if (known.containsKey(d.getString("message_id"))) {
                  stored.put(d.getLong("sequence_number"), d);
                }
              }
              Map<String, Long> ok = new HashMap<>();
              List<Future<?>> cleanup = new ArrayList<>();
              for (Map.Entry<String, Long> e : known.entrySet()) {
                String holder = bySeq.get(e.getValue());
                if (holder == null || holder.equals(e.getKey())) {
                  ok.put(e.getKey(), e.getValue());
                } else {
                  // a stale claim (another consumer used that number first): assign anew
                  cleanup.add(store.removeMessageId(e.getKey()));
                }
              }
              return Future.all(cleanup).map(ok);
            });
  }

  /** After a bulk insert that met duplicates, make sure every entry holds the number we chose. */
  private Future<Void> confirmEntries(List<JsonObject> entries) {
    if (entries.isEmpty()) {
      return Future.succeededFuture();
    }
    List<String> ids = new ArrayList<>();
    for (JsonObject e : entries) {
      ids.add(e.getString("_id"));
    }
    return store
        .messageIdEntries(ids)
        .compose(
            stored -> {
              Map<String, Long> bySeq = new HashMap<>();
              for (JsonObject s : stored) {
                bySeq.put(s.getString("_id"), s.getLong("seq"));
              }
              for (JsonObject e : entries) {
                if (!e.getLong("seq").equals(bySeq.get(e.getString("_id")))) {
                  return Future.failedFuture(
                      new IllegalStateException(
                          "message "
                              + e.getString("_id")
                              + " was numbered concurrently; retrying"));
                }
              }
              return Future.succeededFuture();
            });
  }

  private JsonObject document(String conv, long seq, JsonObject s, Members members) {
    String from = s.getString("from_user_id");
    JsonArray to = new JsonArray();
    for (Map.Entry<String, Long> m : members.joinedSeq().entrySet()) {
      if (!m.getKey().equals(from) && m.getValue() < seq) {
        to.add(m.getKey());
      }
    }
    String created = s.getString("created_at");
    JsonObject payload = s.getJsonObject("payload").copy();
    String fileId = (String) payload.remove("file_id");
    if (fileId != null) {
      JsonObject ref =
          payload.getJsonObject("file_reference", new JsonObject()).put("file_id", fileId);
      payload.put("file_reference", ref);
    }
    JsonObject doc =
        new JsonObject()
            .put("_id", MessageStore.key(conv, seq))
            .put("message_id", s.getString("message_id"))
            .put("conversation_id", conv)
            .put("from_user_id", from)
            .put("to_user_ids", to)
            .put("payload", payload)
            .put("target_channels", s.getJsonArray("channels", new JsonArray()))
            .put("status", MessageActions.SENT)
            .put(
                "status_history",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("status", MessageActions.SENT)
                            .put("timestamp", created)))
            .put("recipient_status", new JsonObject())
            .put("channel_delivery", new JsonObject())
            .put("sequence_number", seq)
            .put("reply_to_message_id", s.getString("reply_to_message_id"))
            .put("is_edited", false)
            .put("is_deleted", false)
            .put("created_at", created)
            .put("updated_at", created);
    if (s.getString("source_channel") != null) {
      // came in from a channel: which one, and the provider's id of it
      doc.put("source_channel", s.getString("source_channel"))
          .put("source_message_id", s.getString("source_message_id"));
    }
    if (config.retentionDays() > 0) {
      Instant expires = Instant.parse(created).plus(config.retentionDays(), ChronoUnit.DAYS);
      doc.put("ttl_expire_at", new JsonObject().put("$date", Wire.timestamp(expires)));
    }
    return PipelineFailures.markIfFailed(doc, s);
  }

  private static List<JsonObject> historyEntries(List<JsonObject> docs) {
    List<JsonObject> out = new ArrayList<>();
    for (JsonObject d : docs) {
      out.add(
          new JsonObject()
              .put("_id", d.getString("_id"))
              .put("conversation_id", d.getString("conversation_id"))
              .put("sequence_number", d.getLong("sequence_number"))
              .put("message_id", d.getString("message_id"))
              .put("from_user_id", d.getString("from_user_id"))
              .put("event", PipelineFailures.isFailed(d) ? MessageActions.FAILED : "message")
              .put("at", d.getString("created_at")));
    }
    return out;
  }

  /**
   * After a run of sends was stored: the conversation's last message and the senders' horizons
   * ({@link ReadHorizons#afterSends}); a failed placeholder (which runs alone) only moves {@code
   * last_seq}, it is neither the last message nor anyone's horizon.
   */
  private Future<List<ReadHorizons.Moved>> afterSends(String conv, List<JsonObject> docs) {
    if (docs.size() == 1 && PipelineFailures.isFailed(docs.get(0))) {
      return pg.preparedQuery(
              "UPDATE conversations SET last_seq = $2 WHERE conversation_id = $1 AND last_seq < $2")
          .execute(Tuple.of(UUID.fromString(conv), docs.get(0).getLong("sequence_number")))
          .map(rows -> List.<ReadHorizons.Moved>of());
    }
    return horizons.afterSends(conv, docs);
  }

  private Future<Void> route(String conv, Members members, List<JsonObject> docs) {
    List<Map.Entry<String, JsonObject>> deliveries = new ArrayList<>();
    List<Future<?>> outbound = new ArrayList<>();
    for (JsonObject d : docs) {
      long seq = d.getLong("sequence_number");
      JsonObject message = MessageStore.toApi(d);
      if (PipelineFailures.isFailed(d)) {
        // only its sender hears of a failed message: the placeholder, then why it failed
        String from = d.getString("from_user_id");
        deliveries.add(
            new AbstractMap.SimpleEntry<>(
                from,
                new JsonObject().put(Envelopes.TYPE, Envelopes.MESSAGE).put("message", message)));
        deliveries.add(new AbstractMap.SimpleEntry<>(from, PipelineFailures.failedEnvelope(d)));
        outbound.add(stored(conv, PipelineFailures.failedEnvelope(d)));
        continue;
      }
      for (Map.Entry<String, Long> m : members.joinedSeq().entrySet()) {
        if (m.getValue() < seq) {
          deliveries.add(
              new AbstractMap.SimpleEntry<>(
                  m.getKey(),
                  new JsonObject().put(Envelopes.TYPE, Envelopes.MESSAGE).put("message", message)));
        }
      }
      outbound.addAll(outbound(d, message, members));
      outbound.add(
          stored(
              conv,
              new JsonObject().put(Envelopes.TYPE, Envelopes.MESSAGE).put("message", message)));
    }
    return deliver(deliveries).compose(v -> Future.all(outbound)).mapEmpty();
  }

  /**
   * Records for the channel connectors, one per recipient and channel: a contact is reached on the
   * channel they came from without the sender naming it; {@code channels} on the send adds other
   * linked channels of the recipients. Keyed by recipient, so one recipient's records keep their
   * order.
   */
  private List<Future<?>> outbound(JsonObject doc, JsonObject message, Members members) {
    JsonArray requested = doc.getJsonArray("target_channels", new JsonArray());
    boolean all = requested.contains("all");
    List<Future<?>> sends = new ArrayList<>();
    for (Object uid : doc.getJsonArray("to_user_ids")) {
      Map<String, String> linked = members.channels().getOrDefault((String) uid, Map.of());
      Set<String> reachedOn = members.contactChannels().getOrDefault((String) uid, Set.of());
      for (Map.Entry<String, String> ch : linked.entrySet()) {
        if (all || requested.contains(ch.getKey()) || reachedOn.contains(ch.getKey())) {
          JsonObject record =
              new JsonObject()
                  .put("message", message)
                  .put("recipient_user_id", uid)
                  .put("channel", ch.getKey())
                  .put("channel_user_id", ch.getValue())
                  // for the stored→delivered latency
                  .put("stored_at", Wire.timestamp(Instant.now()));
          sends.add(
              producer.send(
                  KafkaProducerRecord.create(
                      config.topic(Topics.outbound(ch.getKey())), (String) uid, record.encode())));
        }
      }
    }
    return sends;
  }

  /** What was applied, on {@code message.stored} (for consumers of stored facts: webhooks). */
  private Future<Void> stored(String conv, JsonObject envelope) {
    return producer
        .send(
            KafkaProducerRecord.create(
                config.topic(Topics.MESSAGE_STORED), conv, envelope.encode()))
        .mapEmpty();
  }

  /** Each status event of a receipt once (the author's and the reader's copy are one event). */
  private Future<Void> storedStatuses(List<Map.Entry<String, JsonObject>> events) {
    Set<JsonObject> once = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    List<Future<?>> sends = new ArrayList<>();
    for (Map.Entry<String, JsonObject> e : events) {
      if (once.add(e.getValue())) {
        sends.add(stored(e.getValue().getString("conversation_id"), e.getValue()));
      }
    }
    return Future.all(sends).mapEmpty();
  }

  /** Appends each envelope to its user's feed, then publishes it (with the cursor) live. */
  private Future<Void> deliver(List<Map.Entry<String, JsonObject>> deliveries) {
    return feed.append(deliveries)
        .map(
            cursors -> {
              for (int i = 0; i < deliveries.size(); i++) {
                JsonObject envelope =
                    deliveries.get(i).getValue().copy().put(Envelopes.CURSOR, cursors.get(i));
                vertx.eventBus().publish(Addresses.user(deliveries.get(i).getKey()), envelope);
              }
              return null;
            });
  }

  // --- status, edits, deletes ---

  private Future<Void> applyOther(String conv, Members members, String topic, JsonObject record) {
    long seq = record.getLong("sequence_number", 0L);
    return store
        .message(conv, seq)
        .compose(
            doc -> {
              if (doc == null
                  || !record.getString("message_id", "").equals(doc.getString("message_id"))
                  || PipelineFailures.isFailed(doc)) {
                return Future.succeededFuture(); // a failed message takes no statuses or edits
              }
              if (topic.equals(config.topic(Topics.MESSAGE_UPDATED))) {
                return applyUpdateRecord(conv, members, doc, record);
              }
              if (record.getString("channel") != null) {
                return channelStatuses.apply(conv, doc, record);
              }
              return receipts.mark(conv, doc, record);
            });
  }

  /** Applies an edit or delete record to a stored message (pure; used for replies too). */
  static JsonObject applyUpdate(JsonObject doc, JsonObject record) {
    JsonObject payload = doc.getJsonObject("payload");
    if ("delete".equals(record.getString("op"))) {
      doc.put("is_deleted", true);
      payload.remove("text");
      payload.remove("file_reference");
      payload.remove("metadata");
    } else {
      payload.put("text", record.getString("text"));
      doc.put("is_edited", true);
    }
    doc.put("updated_at", record.getString("at"));
    return doc;
  }

  private Future<Void> applyUpdateRecord(
      String conv, Members members, JsonObject doc, JsonObject record) {
    if (doc.getBoolean("is_deleted", false)) {
      return Future.succeededFuture();
    }
    JsonObject updated = applyUpdate(doc.copy(), record);
    long seq = doc.getLong("sequence_number");
    return store
        .save(updated)
        .compose(
            v ->
                store.insertAll(
                    MessageStore.HISTORY,
                    List.of(
                        new JsonObject()
                            .put(
                                "_id",
                                doc.getString("_id")
                                    + ":"
                                    + record.getString("op")
                                    + ":"
                                    + record.getString("at"))
                            .put("conversation_id", conv)
                            .put("sequence_number", seq)
                            .put("message_id", doc.getString("message_id"))
                            .put("event", record.getString("op"))
                            .put("at", record.getString("at")))))
        .compose(v -> horizons.updateSnippet(conv, updated))
        .compose(v -> horizons.covering(conv, List.of(updated)))
        .compose(
            covering -> {
              JsonObject message = MessageStore.toApi(ReadHorizons.apply(updated, covering));
              List<Map.Entry<String, JsonObject>> deliveries = new ArrayList<>();
              for (Map.Entry<String, Long> m : members.joinedSeq().entrySet()) {
                if (m.getValue() < seq) {
                  deliveries.add(
                      new AbstractMap.SimpleEntry<>(
                          m.getKey(),
                          new JsonObject()
                              .put(Envelopes.TYPE, Envelopes.MESSAGE_UPDATED)
                              .put("message", message)));
                }
              }
              return deliver(deliveries)
                  .compose(
                      v ->
                          stored(
                              conv,
                              new JsonObject()
                                  .put(Envelopes.TYPE, Envelopes.MESSAGE_UPDATED)
                                  .put("message", message)));
            });
  }
}
