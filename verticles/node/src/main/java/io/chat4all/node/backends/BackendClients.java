package io.chat4all.node.backends;

import io.chat4all.codecs.ServiceBus;
import io.chat4all.codecs.Topics;
import io.chat4all.node.config.ConfigException;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.pg.Migrations;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.mongo.MongoClient;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.NewTopic;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.RedisOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.common.errors.TopicExistsException;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;

/**
 * The node's clients of its five backends, built once from configuration and handed to the
 * verticles that need them. {@link #prepare()} creates what the node expects to exist (PostgreSQL
 * schema, Kafka topics, S3 bucket); {@link #registerReadiness} adds one health procedure per
 * backend that really talks to it.
 */
public final class BackendClients {
  private final Vertx vertx;
  private final NodeConfig config;
  private final Pool pg;
  private final MongoClient mongo;
  private final Redis redis;
  private final RedisAPI redisApi;
  private final KafkaAdminClient kafkaAdmin;
  private final KafkaProducer<String, String> producer;
  private final S3Client s3;

  private BackendClients(Vertx vertx, NodeConfig config) {
    this.vertx = vertx;
    this.config = config;
    NodeConfig.Postgres p = config.postgres();
    this.pg =
        PgBuilder.pool()
            .with(new PoolOptions().setMaxSize(p.poolSize()).setShared(true).setName("chat4all-pg"))
            .connectingTo(
                new PgConnectOptions()
                    .setHost(p.host())
                    .setPort(p.port())
                    .setDatabase(p.database())
                    .setUser(p.user())
                    .setPassword(p.password())
                    .setReconnectAttempts(2)
                    .setReconnectInterval(500)
                    .addProperty("search_path", p.schema() + ",public")
                    .addProperty("application_name", "chat4all"))
            .using(vertx)
            .build();
    this.mongo =
        MongoClient.createShared(
            vertx,
            new JsonObject()
                .put("connection_string", config.mongo().connectionString())
                .put("db_name", config.mongo().database())
                .put("serverSelectionTimeoutMS", 5000)
                .put("connectTimeoutMS", 5000),
            "chat4all-mongo");
    this.redis =
        Redis.createClient(
            vertx,
            new RedisOptions()
                .setConnectionString(config.redis().connectionString())
                .setMaxPoolSize(config.redis().poolSize())
                .setMaxPoolWaiting(65536));
    this.redisApi = RedisAPI.api(redis);
    this.kafkaAdmin = KafkaAdminClient.create(vertx, kafkaAdminConfig(config.kafka()));
    this.producer =
        KafkaProducer.createShared(
            vertx,
            "chat4all-events",
            producerConfig(
                config.kafka(), producerDeliveryTimeoutMs(config), producerLingerMs(config)));
    NodeConfig.S3 s = config.s3();
    this.s3 =
        S3Client.builder()
            .endpointOverride(URI.create(s.endpoint()))
            .region(Region.of(s.region()))
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(s.accessKey(), s.secretKey())))
            .serviceConfiguration(
                S3Configuration.builder().pathStyleAccessEnabled(s.pathStyle()).build())
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(Duration.ofSeconds(5))
                    .socketTimeout(Duration.ofSeconds(60))
                    .build())
            .build();
  }

  public static BackendClients create(Vertx vertx, NodeConfig config) {
    return new BackendClients(Objects.requireNonNull(vertx), Objects.requireNonNull(config));
  }

  static Map<String, String> kafkaAdminConfig(NodeConfig.Kafka kafka) {
    Map<String, String> map = new HashMap<>();
    map.put("bootstrap.servers", kafka.bootstrapServers());
    map.put("client.id", "chat4all-admin");
    map.put("request.timeout.ms", "10000");
    map.put("default.api.timeout.ms", "15000");
    return map;
  }

  /**
   * {@code kafka.producer_delivery_timeout_ms}: how long a record may wait for the broker before
   * its send fails. Below the event-bus timeout, so a send in flight when the broker goes away is
   * answered 503 {@code unavailable}, not 504 after the event bus gave up.
   */
  static int producerDeliveryTimeoutMs(NodeConfig config) {
    long max = ServiceBus.DEFAULT_TIMEOUT_MS - 1000;
    return kafkaMillis(
        config, "producer_delivery_timeout_ms", 8_000, 1000, max, " (below the event-bus timeout)");
  }

  /**
   * {@code kafka.producer_linger_ms}: how long the producer waits to fill a batch before sending it
   * (Kafka's {@code linger.ms}). Each durable send waits for its record's acknowledgement, so this
   * is added to an idle send's latency; under load it lets concurrent sends share one request.
   */
  static int producerLingerMs(NodeConfig config) {
    return kafkaMillis(config, "producer_linger_ms", 2, 0, 100, "");
  }

  private static int kafkaMillis(
      NodeConfig config, String key, int dflt, long min, long max, String why) {
    JsonObject kafka = config.raw().getJsonObject("kafka", new JsonObject());
    Object v = kafka.getValue(key, dflt);
    ConfigException out =
        new ConfigException(
            "kafka." + key,
            "must be a number of milliseconds from " + min + " to " + max + why + ", got " + v);
    long ms;
    try {
      ms = io.chat4all.node.config.ConfigRanges.whole("kafka." + key, v);
    } catch (ConfigException notWhole) {
      throw out;
    }
    if (ms < min || ms > max) {
      throw out;
    }
    return (int) ms;
  }

  /**
   * Durable producer: idempotent, acks=all; keys and values are strings (JSON values). A record is
   * given up after {@code deliveryTimeoutMs} (each request to the broker half of it, waiting for
   * metadata at most all of it).
   */
  static Map<String, String> producerConfig(
      NodeConfig.Kafka kafka, int deliveryTimeoutMs, int lingerMs) {
    Map<String, String> map = new HashMap<>();
    map.put("bootstrap.servers", kafka.bootstrapServers());
    map.put("client.id", "chat4all-producer");
    map.put("acks", "all");
    map.put("enable.idempotence", "true");
    map.put("max.in.flight.requests.per.connection", "5");
    map.put("linger.ms", Integer.toString(lingerMs));
    map.put("compression.type", "lz4");
    map.put("delivery.timeout.ms", Integer.toString(deliveryTimeoutMs));
    map.put("request.timeout.ms", Integer.toString(deliveryTimeoutMs / 2));
    map.put("max.block.ms", Integer.toString(deliveryTimeoutMs));
    map.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    map.put("value.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    return map;
  }

  public KafkaProducer<String, String> producer() {
    return producer;
  }

  public Pool pg() {
    return pg;
  }

  public MongoClient mongo() {
    return mongo;
  }

  public Redis redis() {
    return redis;
  }

  public RedisAPI redisApi() {
    return redisApi;
  }

  public KafkaAdminClient kafkaAdmin() {
    return kafkaAdmin;
  }

  /** Blocking S3 client: call it only inside {@code executeBlocking} or from a worker. */
  public S3Client s3() {
    return s3;
  }

  public NodeConfig config() {
    return config;
  }

  /** Creates the PostgreSQL schema, the Kafka topics and the S3 bucket when they are missing. */
  public Future<Void> prepare() {
    NodeConfig.Postgres p = config.postgres();
    Future<Void> schema =
        Migrations.migrate(
                vertx,
                new Migrations.Target(
                    p.host(), p.port(), p.database(), p.user(), p.password(), p.schema()))
            .mapEmpty();
    Future<Void> topics = createTopics();
    Future<Void> bucket = vertx.executeBlocking(() -> ensureBucket(config.s3().bucket()), false);
    return Future.all(schema, topics, bucket).mapEmpty();
  }

  private Future<Void> createTopics() {
    NodeConfig.Kafka k = config.kafka();
    Set<String> wanted =
        Topics.ALL.stream().map(t -> Topics.name(k.topicPrefix(), t)).collect(Collectors.toSet());
    return kafkaAdmin
        .listTopics()
        .compose(
            existing -> {
              List<NewTopic> missing = new ArrayList<>();
              for (String name : wanted) {
                if (!existing.contains(name)) {
                  missing.add(new NewTopic(name, k.partitions(), k.replicationFactor()));
                }
              }
              if (missing.isEmpty()) {
                return Future.succeededFuture();
              }
              return kafkaAdmin
                  .createTopics(missing)
                  .recover(
                      err ->
                          err instanceof TopicExistsException
                                  || err.getCause() instanceof TopicExistsException
                              ? Future.succeededFuture() // another node created it first
                              : Future.failedFuture(err));
            });
  }

  private Void ensureBucket(String bucket) {
    try {
      s3.headBucket(b -> b.bucket(bucket));
    } catch (NoSuchBucketException e) {
      try {
        s3.createBucket(b -> b.bucket(bucket));
      } catch (BucketAlreadyOwnedByYouException raced) {
        // another node created it
      }
    }
    return null;
  }

  /**
   * One readiness procedure per backend; each one really talks to its server and answers within its
   * deadline (a server that is down or hangs is {@code KO}, so {@code /health/ready} is 503 within
   * seconds, and 200 again once every server answers).
   */
  public void registerReadiness(HealthChecks checks) {
    register(checks, "postgres", 1500, () -> pg.query("SELECT 1").execute());
    register(
        checks, "mongo", 1500, () -> mongo.runCommand("ping", new JsonObject().put("ping", 1)));
    register(checks, "redis", 1500, () -> redisApi.ping(List.of()));
    register(checks, "kafka", 2500, () -> kafkaAdmin.describeCluster());
    register(
        checks,
        "s3",
        2500,
        () ->
            vertx.executeBlocking(
                () -> {
                  s3.headBucket(b -> b.bucket(config.s3().bucket()));
                  return null;
                },
                false));
  }

  private void register(
      HealthChecks checks,
      String name,
      long deadlineMs,
      java.util.function.Supplier<Future<?>> call) {
    ReadinessProbe probe = new ReadinessProbe(vertx, deadlineMs, call);
    checks.register(name, probe.registrationTimeoutMs(), probe::check);
  }

  /** Closes every client. */
  public Future<Void> close() {
    List<Future<?>> closing = new ArrayList<>();
    closing.add(pg.close());
    closing.add(mongo.close());
    redis.close();
    closing.add(kafkaAdmin.close(2000));
    closing.add(producer.close(5000));
    closing.add(
        vertx.executeBlocking(
            () -> {
              s3.close();
              return null;
            },
            false));
    return Future.join(closing).mapEmpty();
  }
}
