package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.codecs.Topics;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.redis.client.RedisAPI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Processes the durable inbound events of {@code channel.inbound} (a Kafka consumer group): per
 * batch, the events of each contact in order, contacts in parallel. Each event is claimed on its
 * provider key in Redis first ({@code SET NX} with a TTL): a key already done is a duplicate (a
 * provider retry, a replay, two concurrent deliveries) and is skipped; a failure after the claim
 * releases it so the retried batch processes the event again. Offsets are committed after the
 * batch; a failed batch is read again after a backoff.
 */
public final class InboundVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InboundVerticle.class);
  private static final String DONE = "done";

  private final RedisAPI redis;
  private final InboundProcessor processor;
  private final InboundConfig config;
  private final String owner = UUID.randomUUID().toString();
  private KafkaConsumer<String, String> consumer;
  private volatile boolean stopping;
  private Promise<Void> loopStopped;
  private long backoffMs = 200;
  private long sweepTimer = -1;

  /** How often receipts that came before their sends are tried again. */
  static final long PARKED_SWEEP_MS = 30_000;

  private io.chat4all.codecs.KafkaMembership membership =
      io.chat4all.codecs.KafkaMembership.DEFAULT;

  /** Session timeout, heartbeat and static member id of the consumer; set before deploying. */
  public InboundVerticle membership(io.chat4all.codecs.KafkaMembership membership) {
    this.membership = java.util.Objects.requireNonNull(membership);
    return this;
  }

  InboundVerticle(RedisAPI redis, InboundProcessor processor, InboundConfig config) {
    this.redis = redis;
    this.processor = processor;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    Map<String, String> props = new HashMap<>();
    props.put("bootstrap.servers", config.kafkaBootstrapServers());
    props.put("group.id", config.topicPrefix() + config.consumerGroup());
    props.put("client.id", "chat4all-inbound-" + owner.substring(0, 8));
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "earliest");
    props.put("max.poll.records", "200");
    props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    membership.applyTo(props);
    consumer = KafkaConsumer.create(vertx, props);
    loopStopped = Promise.promise();
    sweepTimer =
        vertx.setPeriodic(
            PARKED_SWEEP_MS,
            t ->
                processor
                    .sweepParkedReceipts()
                    .onFailure(
                        e -> LOG.debug("sweeping parked receipts failed: {}", e.getMessage())));
    return consumer.subscribe(config.topic(Topics.CHANNEL_INBOUND)).onSuccess(v -> loop());
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(sweepTimer);
    return loopStopped.future().compose(v -> consumer.close());
  }

  private void loop() {
    if (stopping) {
      loopStopped.tryComplete();
      return;
    }
    consumer
        .poll(Duration.ofMillis(250))
        .compose(records -> records.isEmpty() ? Future.succeededFuture() : batch(records))
        .onComplete(
            ar -> {
              if (ar.failed()) {
                LOG.warn(
                    "inbound batch failed, retrying in {} ms: {}",
                    backoffMs,
                    ar.cause().toString());
                long delay = backoffMs;
                backoffMs = Math.min(30_000, backoffMs * 2);
                vertx.setTimer(delay, t -> loop());
              } else {
                backoffMs = 200;
                loop();
              }
            });
  }

  private Future<Void> batch(KafkaConsumerRecords<String, String> records) {
    Map<TopicPartition, Long> first = new HashMap<>();
    Map<String, List<KafkaConsumerRecord<String, String>>> byKey = new LinkedHashMap<>();
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> r = records.recordAt(i);
      first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
      byKey.computeIfAbsent(String.valueOf(r.key()), k -> new ArrayList<>()).add(r);
    }
    List<Future<?>> work = new ArrayList<>();
    for (List<KafkaConsumerRecord<String, String>> one : byKey.values()) {
      Future<Void> chain = Future.succeededFuture();
      for (KafkaConsumerRecord<String, String> r : one) {
        chain = chain.compose(v -> record(r));
      }
      work.add(chain);
    }
    return Future.all(work)
        .compose(v -> consumer.commit())
        .recover(
            err -> {
              for (Map.Entry<TopicPartition, Long> e : first.entrySet()) {
                try {
                  consumer.seek(e.getKey(), e.getValue());
                } catch (RuntimeException notOwned) {
                  // moved to another consumer, which resumes from the committed offset
                }
              }
              return Future.failedFuture(err);
            });
  }

  private Future<Void> record(KafkaConsumerRecord<String, String> r) {
    JsonObject value;
    InboundEvent event;
    try {
      value = new JsonObject(r.value());
      event = InboundCodec.decode(value);
    } catch (RuntimeException bad) {
      LOG.warn(
          "dropping a malformed inbound record at {}-{}@{}", r.topic(), r.partition(), r.offset());
      return Future.succeededFuture();
    }
    String channel = value.getString("channel");
    String key = config.redisKeyPrefix() + "channels:dedup:" + channel + ":" + event.dedupKey();
    String claimTtl = Integer.toString(config.claimTtlSeconds());
    return redis
        .set(List.of(key, owner, "NX", "EX", claimTtl))
        .compose(
            claimed -> {
              if (claimed != null && "OK".equals(claimed.toString())) {
                return processor
                    .handle(channel, event)
                    .compose(
                        v ->
                            redis
                                .set(
                                    List.of(
                                        key,
                                        DONE,
                                        "EX",
                                        Integer.toString(config.dedupTtlSeconds())))
                                .<Void>mapEmpty())
                    .recover(
                        err ->
                            redis.del(List.of(key)).transform(x -> Future.<Void>failedFuture(err)));
              }
              return redis
                  .get(key)
                  .compose(
                      held -> {
                        if (held != null && DONE.equals(held.toString())) {
                          LOG.debug(
                              "channel {}: event {} already processed", channel, event.dedupKey());
                          return Future.<Void>succeededFuture();
                        }
                        if (held == null || owner.equals(held.toString())) {
                          // released meanwhile, or our own claim whose release failed: again
                          return redis.del(List.of(key)).compose(x -> record(r));
                        }
                        // claimed by a consumer that is still at it (or died: the claim expires)
                        return Future.<Void>failedFuture(
                            new IllegalStateException(
                                "event "
                                    + event.dedupKey()
                                    + " of "
                                    + channel
                                    + " is in progress elsewhere"));
                      });
            });
  }
}
