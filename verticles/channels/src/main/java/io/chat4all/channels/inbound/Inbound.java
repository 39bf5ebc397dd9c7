package io.chat4all.channels.inbound;

import io.chat4all.channels.ConnectorRegistry;
import io.chat4all.channels.delivery.DeliveryStore;
import io.chat4all.channels.delivery.StatusRecords;
import io.chat4all.files.ChunkIngest;
import io.chat4all.web.RouteModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.redis.client.RedisAPI;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;

/**
 * The inbound half of the channels: the webhook routes for the HTTP edge, the consumer that
 * processes {@code channel.inbound}, and a poller per channel configured for polling.
 */
public final class Inbound {
  private final WebhookRoutes routes;

  private Inbound(WebhookRoutes routes) {
    this.routes = routes;
  }

  /** Deploys the consumer and the pollers; the routes are mounted by the edge. */
  public static Future<Inbound> deploy(
      Vertx vertx,
      InboundConfig config,
      ConnectorRegistry registry,
      Pool pg,
      MongoClient mongo,
      RedisAPI redis,
      KafkaProducer<String, String> producer,
      ChunkIngest ingest) {
    return deploy(
        vertx,
        config,
        registry,
        pg,
        mongo,
        redis,
        producer,
        ingest,
        io.chat4all.codecs.KafkaMembership.DEFAULT);
  }

  /** The same, its consumer with {@code membership}. */
  public static Future<Inbound> deploy(
      Vertx vertx,
      InboundConfig config,
      ConnectorRegistry registry,
      Pool pg,
      MongoClient mongo,
      RedisAPI redis,
      KafkaProducer<String, String> producer,
      ChunkIngest ingest,
      io.chat4all.codecs.KafkaMembership membership) {
    DeliveryStore store = new DeliveryStore(mongo, redis, config.redisKeyPrefix());
    InboundProcessor processor =
        new InboundProcessor(
            vertx,
            new Contacts(vertx, pg, config),
            store,
            new StatusRecords(producer, config.topicPrefix()),
            new AttachmentStore(
                vertx, registry, ingest, config.maxMediaBytes(), config.mediaStallTimeoutMs()),
            config);
    List<Future<?>> deployed = new ArrayList<>();
    deployed.add(
        vertx.deployVerticle(new InboundVerticle(redis, processor, config).membership(membership)));
    for (String channel : config.channels().fieldNames()) {
      if (config.polling(channel)) {
        deployed.add(
            vertx.deployVerticle(
                new InboundPoller(channel, registry, mongo, producer, config.topicPrefix())));
      }
    }
    return Future.all(deployed)
        .map(x -> new Inbound(new WebhookRoutes(registry, producer, config)));
  }

  public RouteModule routes() {
    return routes;
  }
}
