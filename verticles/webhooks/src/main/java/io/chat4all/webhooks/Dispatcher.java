package io.chat4all.webhooks;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook dispatcher: a Kafka consumer group ({@code webhooks.consumer_group}) over the event
 * topics that turns each event into one delivery row per webhook allowed to see it (idempotent: a
 * replayed record adds nothing), wakes this node's {@link DeliveryScheduler} for those webhooks,
 * and commits the offsets after the rows are written. Records of one key are handled in order;
 * different keys in parallel.
 */
public class Dispatcher extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

  private final DeliveryStore store;
  private final WebhooksConfig config;
  private final Map<String, String> logicalTopics = new HashMap<>();
  private KafkaConsumer<String, String> consumer;
  private volatile boolean stopping;
  private Promise<Void> loopStopped;
  private long backoffMs = 100;

  private io.chat4all.codecs.KafkaMembership membership =
      io.chat4all.codecs.KafkaMembership.DEFAULT;

  /** Session timeout, heartbeat and static member id of the consumer; set before deploying. */
  public Dispatcher membership(io.chat4all.codecs.KafkaMembership membership) {
    this.membership = java.util.Objects.requireNonNull(membership);
    return this;
  }

  public Dispatcher(DeliveryStore store, WebhooksConfig config) {
    this.store = Objects.requireNonNull(store);
    this.config = Objects.requireNonNull(config);
    for (String t : WebhookEvent.TOPICS) {
      logicalTopics.put(config.topic(t), t);
    }
  }

  @Override
  public Future<?> start() {
    Map<String, String> props = new HashMap<>();
    props.put("bootstrap.servers", config.kafkaBootstrapServers());
    props.put("group.id", config.topicPrefix() + config.consumerGroup());
    props.put("client.id", "chat4all-webhooks-" + UUID.randomUUID().toString().substring(0, 8));
    props.put("enable.auto.commit", "false");
    // a new group reads what the topics hold: webhooks only get events from their creation on
    props.put("auto.offset.reset", "earliest");
    props.put("max.poll.records", Integer.toString(config.maxPollRecords()));
    props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    membership.applyTo(props);
    consumer = KafkaConsumer.create(vertx, props);
    loopStopped = Promise.promise();
    return consumer.subscribe(logicalTopics.keySet()).onSuccess(v -> loop());
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    return loopStopped.future().compose(v -> consumer.close());
  }

  private void loop() {
    if (stopping) {
      loopStopped.tryComplete();
      return;
    }
    consumer
        .poll(Duration.ofMillis(250))
        .compose(records -> records.isEmpty() ? Future.succeededFuture() : handle(records))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn(
                    "webhook dispatch batch failed, retrying in {} ms: {}",
                    backoffMs,
                    ar.cause().toString());
                long delay = backoffMs;
                backoffMs = Math.min(5000, backoffMs * 2);
                vertx.setTimer(delay, t -> loop());
              } else {
                backoffMs = 100;
                loop();
              }
            });
  }

  private Future<Void> handle(KafkaConsumerRecords<String, String> records) {
    Map<TopicPartition, Long> firstOffsets = new HashMap<>();
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> r = records.recordAt(i);
      firstOffsets.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
    }
    return store
        .earliestActive()
        .compose(
            earliest -> earliest == null ? Future.succeededFuture() : fanOut(records, earliest))
        .compose(v -> consumer.commit())
        .recover(
            err -> {
              // nothing committed: read the batch again (its rows are made once)
              for (Map.Entry<TopicPartition, Long> e : firstOffsets.entrySet()) {
                try {
                  consumer.seek(e.getKey(), e.getValue());
                } catch (RuntimeException notOwned) {
                  // the partition moved; its new owner resumes from the committed offset
                }
              }
              return Future.failedFuture(err);
            });
  }

  /** Deliveries for the batch's events not older than the oldest active webhook (with slack). */
  private Future<Void> fanOut(KafkaConsumerRecords<String, String> records, Instant earliest) {
    Instant cutoff = earliest.minusSeconds(60);
    Map<String, List<WebhookEvent>> byKey = new LinkedHashMap<>();
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> r = records.recordAt(i);
      WebhookEvent event = event(r);
      if (event != null && !event.createdAt().isBefore(cutoff)) {
        String key = r.key() == null ? r.topic() + "-" + r.partition() : r.key();
        byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(event);
      }
    }
    List<Future<?>> work = new ArrayList<>();
    for (List<WebhookEvent> events : byKey.values()) {
      work.add(inOrder(events, 0));
    }
    return Future.all(work).mapEmpty();
  }

  private Future<Void> inOrder(List<WebhookEvent> events, int i) {
    if (i == events.size()) {
      return Future.succeededFuture();
    }
    return store
        .fanOut(events.get(i))
        .compose(
            webhooks -> {
              Set<String> woken = new LinkedHashSet<>(webhooks);
              woken.forEach(w -> DeliveryScheduler.wake(vertx, w));
              return inOrder(events, i + 1);
            });
  }

  private WebhookEvent event(KafkaConsumerRecord<String, String> r) {
    String topic = logicalTopics.get(r.topic());
    if (topic == null || r.value() == null) {
      return null;
    }
    try {
      return WebhookEvent.from(
          topic,
          r.key(),
          new JsonObject(r.value()),
          r.timestamp(),
          r.topic() + "-" + r.partition() + "@" + r.offset());
    } catch (RuntimeException bad) {
      LOG.warn("skipping a malformed record at {}-{}@{}", r.topic(), r.partition(), r.offset());
      return null;
    }
  }
}
