package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.Capabilities;
import io.chat4all.channel.spi.PollResult;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.channels.ConnectorRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.ext.mongo.UpdateOptions;
import io.vertx.kafka.client.producer.KafkaProducer;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The polling alternative to webhooks for one channel ({@code channels.<channel>.inbound_mode:
 * polling}, e.g. Telegram {@code getUpdates}): one node of the cluster at a time (a cluster-wide
 * lock) long-polls the provider through the active connector, makes the events durable in {@code
 * channel.inbound}, and only then stores the next offset (MongoDB {@code channel_offsets}), so a
 * crash polls the same events again and dedup drops the repeats.
 */
public final class InboundPoller extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InboundPoller.class);
  static final String OFFSETS = "channel_offsets";

  private final String channel;
  private final ConnectorRegistry registry;
  private final MongoClient mongo;
  private final InboundWriter writer;
  private volatile boolean stopping;
  private Lock lock;
  private Promise<Void> stopped;
  private long backoffMs = 500;
  private Promise<Void> connectorBack;

  public InboundPoller(
      String channel,
      ConnectorRegistry registry,
      MongoClient mongo,
      KafkaProducer<String, String> producer,
      String topicPrefix) {
    this.channel = channel;
    this.registry = registry;
    this.mongo = mongo;
    this.writer = new InboundWriter(producer, topicPrefix);
  }

  @Override
  public Future<?> start() {
    stopped = Promise.promise();
    registry.onChange(
        ch -> {
          if (ch.equals(channel)) {
            context.runOnContext(
                v -> {
                  if (connectorBack != null) {
                    connectorBack.tryComplete();
                  }
                });
          }
        });
    vertx.runOnContext(v -> acquire());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopping = true;
    if (connectorBack != null) {
      connectorBack.tryComplete();
    }
    return stopped
        .future()
        .timeout(60, java.util.concurrent.TimeUnit.SECONDS)
        .recover(e -> Future.succeededFuture());
  }

  /** Waits for the cluster-wide right to poll this channel. */
  private void acquire() {
    if (stopping) {
      stopped.tryComplete();
      return;
    }
    vertx
        .sharedData()
        .getLockWithTimeout("chat4all.channels.poll." + channel, 5_000)
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                lock = ar.result();
                LOG.info("channel {}: this node polls the provider", channel);
                poll();
              } else {
                vertx.setTimer(1_000, t -> acquire());
              }
            });
  }

  private void finish() {
    if (lock != null) {
      lock.release();
      lock = null;
    }
    stopped.tryComplete();
  }

  private void poll() {
    if (stopping) {
      finish();
      return;
    }
    Optional<ActiveConnector> active = registry.active(channel);
    if (active.isEmpty()
        || !active
            .get()
            .descriptor()
            .capabilities()
            .inboundModes()
            .contains(Capabilities.InboundMode.POLLING)) {
      connectorBack = Promise.promise();
      vertx.setTimer(5_000, t -> connectorBack.tryComplete());
      connectorBack.future().onComplete(v -> poll());
      return;
    }
    offset()
        .compose(
            offset ->
                active
                    .get()
                    .<PollResult>call(c -> c.poll(offset))
                    .compose(
                        r ->
                            writer
                                .write(channel, r.events())
                                .compose(n -> save(offset, r.nextOffset()))))
        .onComplete(
            ar -> {
              if (ar.succeeded()) {
                backoffMs = 500;
                context.runOnContext(v -> poll());
              } else {
                LOG.warn(
                    "channel {}: polling failed, again in {} ms: {}",
                    channel,
                    backoffMs,
                    ar.cause().getMessage());
                long delay = backoffMs;
                backoffMs = Math.min(30_000, backoffMs * 2);
                vertx.setTimer(delay, t -> poll());
              }
            });
  }

  private Future<String> offset() {
    return mongo
        .findOne(OFFSETS, new JsonObject().put("_id", channel), null)
        .map(doc -> doc == null ? null : doc.getString("offset"));
  }

  /** Stores the next offset, after the events before it are durable. */
  private Future<Void> save(String previous, String next) {
    if (next == null || next.equals(previous)) {
      return Future.succeededFuture();
    }
    return mongo
        .updateCollectionWithOptions(
            OFFSETS,
            new JsonObject().put("_id", channel),
            new JsonObject().put("$set", new JsonObject().put("offset", next)),
            new UpdateOptions().setUpsert(true))
        .mapEmpty();
  }
}
