package io.chat4all.channels.delivery;

import io.chat4all.channels.ConnectorRegistry;
import io.chat4all.codecs.HttpClientDefaults;
import io.chat4all.codecs.Topics;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.redis.client.RedisAPI;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outbound delivery: one Kafka consumer group over every {@code message.outbound.<channel>} topic
 * (records keyed by recipient, so a recipient's messages share a partition and keep their order).
 * Each record goes into its recipient's {@link Lane}; lanes of a channel take turns at that
 * channel's active connector, at most {@code max_in_flight} at a time, through the channel's
 * circuit breaker. An offset is committed only when its record and every record before it in the
 * partition are done (sent, or failed and dead-lettered), so nothing is lost on a crash or a
 * rebalance and a redelivery is recognised by the {@link DeliveryStore}. A channel without an
 * active connector keeps its records in Kafka: its partitions are paused until the registry reports
 * a connector.
 */
public final class DeliveryVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryVerticle.class);

  private final ConnectorRegistry registry;
  private final MongoClient mongo;
  private final io.vertx.sqlclient.Pool pg;
  private final RedisAPI redis;
  private final KafkaProducer<String, String> producer;
  private final DeliveryConfig config;
  private final DeliveryMetrics metrics = new DeliveryMetrics();
  private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
  private final Map<String, Lane> lanes = new HashMap<>();
  private final Map<String, ChannelState> channels = new HashMap<>();
  private final Set<TopicPartition> paused = new HashSet<>();
  private Context ctx;
  private KafkaConsumer<String, String> consumer;
  private long lagTimer = -1;
  private Sender sender;
  private HttpClient http;
  private volatile boolean stopping;
  private Promise<Void> loopStopped;
  private long commitTimer;
  private int inFlight;

  private io.chat4all.codecs.KafkaMembership membership =
      io.chat4all.codecs.KafkaMembership.DEFAULT;

  /** Session timeout, heartbeat and static member id of the consumer; set before deploying. */
  public DeliveryVerticle membership(io.chat4all.codecs.KafkaMembership membership) {
    this.membership = java.util.Objects.requireNonNull(membership);
    return this;
  }

  private java.util.function.BiPredicate<String, String> outboundAllowed = (channel, user) -> true;

  /**
   * Asks {@code allowed(channel, sender user id)} before each delivery (the runtime feature flag
   * {@code outbound_delivery.<channel>}); a refused message fails with {@code channel_disabled}.
   */
  public DeliveryVerticle withOutboundGate(java.util.function.BiPredicate<String, String> allowed) {
    this.outboundAllowed = java.util.Objects.requireNonNull(allowed, "allowed");
    return this;
  }

  public DeliveryVerticle(
      ConnectorRegistry registry,
      MongoClient mongo,
      io.vertx.sqlclient.Pool pg,
      RedisAPI redis,
      KafkaProducer<String, String> producer,
      DeliveryConfig config) {
    this.registry = registry;
    this.mongo = mongo;
    this.pg = pg;
    this.redis = redis;
    this.producer = producer;
    this.config = config;
  }

  @Override
  public Future<?> start() {
    ctx = context;
    http =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(HttpClientDefaults.KEEP_ALIVE_TIMEOUT_SECONDS)
                .setConnectTimeout(10_000),
            new PoolOptions().setHttp1MaxSize(32));
    DeliveryStore store = new DeliveryStore(mongo, redis, config.redisKeyPrefix());
    sender =
        new Sender(
            config,
            registry,
            store,
            new StatusRecords(producer, config.topicPrefix()),
            new MediaSource(vertx, http, config.mediaLinkTtlSeconds(), config.sendTimeoutMs()),
            new RecipientLinks(pg),
            UUID.randomUUID().toString(),
            metrics,
            outboundAllowed);
    Map<String, String> props = new HashMap<>();
    props.put("bootstrap.servers", config.kafkaBootstrapServers());
    props.put("group.id", config.topicPrefix() + config.consumerGroup());
    props.put("client.id", "chat4all-delivery-" + UUID.randomUUID().toString().substring(0, 8));
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "earliest");
    props.put("max.poll.records", "500");
    props.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    props.put("value.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    membership.applyTo(props);
    // topics of channels added later are picked up within this
    props.put("metadata.max.age.ms", "30000");
    consumer = KafkaConsumer.create(vertx, props);
    lagTimer = io.chat4all.web.obs.ConsumerLag.watch(vertx, "delivery", consumer);
    consumer.partitionsAssignedHandler(tps -> ctx.runOnContext(v -> assigned(tps)));
    consumer.partitionsRevokedHandler(tps -> ctx.runOnContext(v -> revoked(tps)));
    registry.onChange(channel -> ctx.runOnContext(v -> connectorChanged(channel)));
    // message.outbound.<channel>, not the .dlq topics
    Pattern topics =
        Pattern.compile(Pattern.quote(config.topic(Topics.outbound(""))) + "[a-z][a-z0-9_-]*");
    loopStopped = Promise.promise();
    return store
        .ensureIndexes()
        .compose(v -> consumer.subscribe(topics))
        .onSuccess(
            v -> {
              commitTimer = vertx.setPeriodic(config.commitIntervalMs(), t -> commit());
              loop();
            });
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    vertx.cancelTimer(commitTimer);
    vertx.cancelTimer(lagTimer);
    return loopStopped
        .future()
        .compose(v -> drained(System.currentTimeMillis() + 10_000))
        .compose(v -> commit())
        .eventually(() -> consumer.close())
        .eventually(() -> http.close());
  }

  /** Completes when no call is in flight (or at the deadline). */
  private Future<Void> drained(long deadline) {
    if (inFlight == 0 || System.currentTimeMillis() > deadline) {
      return Future.succeededFuture();
    }
    Promise<Void> p = Promise.promise();
    vertx.setTimer(50, t -> drained(deadline).onComplete(p));
    return p.future();
  }

  /** Continues on this verticle's event loop, whatever context completed {@code f}. */
  private <T> Future<T> back(Future<T> f) {
    Promise<T> p = Promise.promise();
    f.onComplete(ar -> ctx.runOnContext(v -> p.handle(ar)));
    return p.future();
  }

  // --- reading ---

  private void loop() {
    if (stopping) {
      loopStopped.tryComplete();
      return;
    }
    back(consumer.poll(Duration.ofMillis(200)))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                add(ar.result());
                loop();
              } else {
                LOG.warn("polling outbound records failed: {}", ar.cause().toString());
                vertx.setTimer(500, t -> loop());
              }
            });
  }

  private void add(KafkaConsumerRecords<String, String> records) {
    Set<String> touched = new HashSet<>();
    for (int i = 0; i < records.size(); i++) {
      KafkaConsumerRecord<String, String> r = records.recordAt(i);
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      PartitionState ps = partitions.computeIfAbsent(tp, k -> new PartitionState());
      if (ps.revoked) {
        continue;
      }
      ps.track(r.offset());
      String channel = config.channelOf(r.topic());
      Item item = Item.from(vertx, r, tp, channel);
      if (item == null) {
        ps.done(r.offset());
        continue;
      }
      item.state = ps;
      ChannelState cs = channel(channel);
      cs.buffered++;
      String laneId = r.topic() + "/" + r.partition() + "/" + r.key();
      Lane lane = lanes.computeIfAbsent(laneId, id -> new Lane(id, channel, tp));
      lane.items.add(item);
      enqueue(lane);
      touched.add(channel);
    }
    for (String channel : touched) {
      kick(channel);
    }
    updatePauses();
  }

  private ChannelState channel(String channel) {
    return channels.computeIfAbsent(
        channel, ch -> ChannelState.open(vertx, ctx, ch, config, metrics, this::kick));
  }

  // --- dispatching ---

  private void enqueue(Lane lane) {
    if (lane.ready() && !lane.queued) {
      lane.queued = true;
      channel(lane.channel).ready.add(lane);
    }
  }

  /** Starts attempts for the channel's ready lanes while its connector, breaker and limit allow. */
  private void kick(String channel) {
    ChannelState cs = channel(channel);
    while (!cs.ready.isEmpty() && cs.inFlight < config.maxInFlight() && !stopping) {
      if (registry.active(channel).isEmpty() && !config.disabled().contains(channel)) {
        if (!cs.waitingForConnector) {
          cs.waitingForConnector = true;
          LOG.info("channel {}: no active connector; its records wait in Kafka", channel);
          updatePauses();
        }
        return;
      }
      CircuitBreakerState state = cs.breaker.state();
      if (state == CircuitBreakerState.OPEN
          || (state == CircuitBreakerState.HALF_OPEN && cs.inFlight > 0)) {
        return; // the breaker's half-open or close handler kicks again
      }
      Lane lane = cs.ready.poll();
      lane.queued = false;
      if (!lane.ready()) {
        continue;
      }
      start(cs, lane);
      if (state == CircuitBreakerState.HALF_OPEN) {
        return; // one probe
      }
    }
  }

  private void start(ChannelState cs, Lane lane) {
    Item item = lane.items.peek();
    lane.busy = true;
    cs.inFlight++;
    inFlight++;
    back(sender.attempt(item, cs.breaker))
        .onComplete(
            ar -> {
              cs.inFlight--;
              inFlight--;
              lane.busy = false;
              Sender.Result r =
                  ar.succeeded() ? ar.result() : Sender.Result.retry(config.backoffBaseMs());
              if (ar.failed()) {
                LOG.warn("delivery attempt failed unexpectedly", ar.cause());
              }
              after(cs, lane, item, r);
              kick(cs.channel);
            });
  }

  private void after(ChannelState cs, Lane lane, Item item, Sender.Result r) {
    if (lane.dropped) {
      return; // its partition moved on: the new owner resumes from the committed offset
    }
    switch (r.next()) {
      case DONE -> {
        lane.items.poll();
        cs.buffered--;
        item.state.done(item.offset);
        if (lane.items.isEmpty()) {
          lanes.remove(lane.id, lane);
        } else {
          enqueue(lane);
        }
        updatePauses();
      }
      case RETRY -> {
        lane.timer =
            vertx.setTimer(
                Math.max(1, r.delayMs()),
                t -> {
                  lane.timer = -1;
                  enqueue(lane);
                  kick(lane.channel);
                });
      }
      case WAIT_CONNECTOR, WAIT_BREAKER, AGAIN -> {
        // back to the front: it stays the next of its channel
        if (lane.ready() && !lane.queued) {
          lane.queued = true;
          cs.ready.addFirst(lane);
        }
      }
    }
  }

  private void connectorChanged(String channel) {
    ChannelState cs = channels.get(channel);
    if (cs == null) {
      return;
    }
    if (registry.active(channel).isPresent() && cs.waitingForConnector) {
      cs.waitingForConnector = false;
      LOG.info("channel {}: connector active again; delivering its records", channel);
    }
    updatePauses();
    kick(channel);
  }

  // --- partitions, pauses and commits ---

  private void assigned(Set<TopicPartition> tps) {
    for (TopicPartition tp : tps) {
      partitions.put(tp, new PartitionState());
      paused.remove(tp);
    }
    updatePauses();
  }

  private void revoked(Set<TopicPartition> tps) {
    Map<TopicPartition, OffsetAndMetadata> last = new HashMap<>();
    for (TopicPartition tp : tps) {
      PartitionState ps = partitions.remove(tp);
      if (ps != null) {
        long c = ps.committable();
        if (c >= 0) {
          last.put(tp, new OffsetAndMetadata(c, ""));
        }
        ps.revoked = true;
      }
      paused.remove(tp);
    }
    lanes
        .values()
        .removeIf(
            lane -> {
              if (!tps.contains(lane.partition)) {
                return false;
              }
              lane.dropped = true;
              if (lane.timer >= 0) {
                vertx.cancelTimer(lane.timer);
                lane.timer = -1;
              }
              ChannelState cs = channels.get(lane.channel);
              if (cs != null) {
                cs.buffered -= lane.items.size();
              }
              return true;
            });
    if (!last.isEmpty()) {
      consumer
          .commit(last)
          .onFailure(e -> LOG.debug("commit at revocation failed: {}", e.toString()));
    }
  }

  /** Pauses partitions whose channel has no connector or that have read far enough ahead. */
  private void updatePauses() {
    Set<TopicPartition> want = new HashSet<>();
    for (Map.Entry<TopicPartition, PartitionState> e : partitions.entrySet()) {
      String channel = config.channelOf(e.getKey().getTopic());
      ChannelState cs = channel == null ? null : channels.get(channel);
      boolean noConnector = cs != null && cs.waitingForConnector;
      if (noConnector || e.getValue().pendingCount() >= config.maxBufferedPerPartition()) {
        want.add(e.getKey());
      }
    }
    Set<TopicPartition> pause = new HashSet<>(want);
    pause.removeAll(paused);
    Set<TopicPartition> resume = new HashSet<>(paused);
    resume.removeAll(want);
    if (!pause.isEmpty()) {
      consumer.pause(pause);
    }
    if (!resume.isEmpty()) {
      consumer.resume(resume);
    }
    paused.clear();
    paused.addAll(want);
  }

  private Future<Void> commit() {
    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
    for (Map.Entry<TopicPartition, PartitionState> e : partitions.entrySet()) {
      long c = e.getValue().committable();
      if (c >= 0) {
        offsets.put(e.getKey(), new OffsetAndMetadata(c, ""));
      }
    }
    if (offsets.isEmpty()) {
      return Future.succeededFuture();
    }
    return back(consumer.commit(offsets))
        .onSuccess(
            v ->
                offsets.forEach(
                    (tp, o) -> {
                      PartitionState ps = partitions.get(tp);
                      if (ps != null) {
                        ps.committed(o.getOffset());
                      }
                    }))
        .<Void>mapEmpty()
        .recover(
            e -> {
              LOG.debug("committing delivery offsets failed: {}", e.toString());
              return Future.succeededFuture();
            });
  }
}
