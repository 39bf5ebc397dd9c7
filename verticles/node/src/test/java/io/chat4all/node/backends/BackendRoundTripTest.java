package io.chat4all.node.backends;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.sync.RequestBody;

/** Each backend round-trips through its client, built by BackendClients from node config. */
@ExtendWith(BackendsExtension.class)
class BackendRoundTripTest {
  static Vertx vertx;
  static BackendClients clients;
  static TestBackends.Isolation iso;

  @BeforeAll
  static void setUp(TestBackends.Isolation isolation) {
    iso = isolation;
    vertx = Vertx.vertx();
    JsonObject config = ConfigLoader.defaults().mergeIn(isolation.nodeConfig(), true);
    clients = BackendClients.create(vertx, NodeConfig.from(config));
    Await.result(clients.prepare(), Duration.ofSeconds(60));
  }

  @AfterAll
  static void tearDown() {
    Await.result(clients.close());
    Await.result(vertx.close());
  }

  @Test
  void postgresInIsolatedSchema() {
    Await.result(
        clients
            .pg()
            .query("CREATE TABLE probe (id UUID PRIMARY KEY, note TEXT NOT NULL)")
            .execute());
    UUID id = UUID.randomUUID();
    Await.result(
        clients
            .pg()
            .preparedQuery("INSERT INTO probe (id, note) VALUES ($1, $2)")
            .execute(Tuple.of(id, "hello")));
    Row row =
        Await.result(
                clients
                    .pg()
                    .preparedQuery("SELECT note, current_schema() AS s FROM probe WHERE id = $1")
                    .execute(Tuple.of(id)))
            .iterator()
            .next();
    assertThat(row.getString("note")).isEqualTo("hello");
    assertThat(row.getString("s")).isEqualTo(iso.postgresSchema());
  }

  @Test
  void mongoDocument() {
    JsonObject doc =
        new JsonObject().put("_id", "c1:1").put("text", "olá").put("sequence_number", 1);
    Await.result(clients.mongo().insert("messages", doc));
    JsonObject found =
        Await.result(
            clients.mongo().findOne("messages", new JsonObject().put("_id", "c1:1"), null));
    assertThat(found.getString("text")).isEqualTo("olá");
    assertThat(found.getInteger("sequence_number")).isEqualTo(1);
  }

  @Test
  void redisKey() {
    String key = iso.redisKeyPrefix() + "probe";
    Await.result(clients.redisApi().setex(key, "60", "v1"));
    assertThat(Await.result(clients.redisApi().get(key)).toString()).isEqualTo("v1");
    assertThat(Await.result(clients.redisApi().ttl(key)).toInteger()).isBetween(1, 60);
  }

  @Test
  void kafkaRecordThroughCreatedTopic() {
    String topic = Topics.name(iso.topicPrefix(), Topics.MESSAGE_SENT);
    assertThat(Await.result(clients.kafkaAdmin().listTopics())).contains(topic);
    Map<String, String> common =
        Map.of("bootstrap.servers", iso.endpoints().kafkaBootstrapServers());
    KafkaProducer<String, String> producer =
        KafkaProducer.create(
            vertx,
            merge(
                common,
                Map.of(
                    "key.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                    "value.serializer", "org.apache.kafka.common.serialization.StringSerializer",
                    "acks", "all",
                    "enable.idempotence", "true")));
    RecordMetadata meta =
        Await.result(producer.send(KafkaProducerRecord.create(topic, "conv-1", "{\"hello\":1}")));
    assertThat(meta.getOffset()).isGreaterThanOrEqualTo(0);

    KafkaConsumer<String, String> consumer =
        KafkaConsumer.create(
            vertx,
            merge(
                common,
                Map.of(
                    "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                    "value.deserializer",
                        "org.apache.kafka.common.serialization.StringDeserializer",
                    "group.id", "probe-" + UUID.randomUUID(),
                    "auto.offset.reset", "earliest")));
    Promise<KafkaConsumerRecord<String, String>> received = Promise.promise();
    consumer.handler(received::tryComplete);
    Await.result(consumer.subscribe(topic));
    KafkaConsumerRecord<String, String> record =
        Await.result(received.future(), Duration.ofSeconds(60));
    assertThat(record.key()).isEqualTo("conv-1");
    assertThat(record.value()).isEqualTo("{\"hello\":1}");
    Await.result(consumer.close());
    Await.result(producer.close());
  }

  @Test
  void s3ObjectInCreatedBucket() {
    byte[] bytes = "file bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    String got =
        Await.result(
            vertx.executeBlocking(
                () -> {
                  clients
                      .s3()
                      .putObject(
                          b -> b.bucket(iso.bucket()).key("a/b.txt"), RequestBody.fromBytes(bytes));
                  return clients
                      .s3()
                      .getObjectAsBytes(b -> b.bucket(iso.bucket()).key("a/b.txt"))
                      .asUtf8String();
                }));
    assertThat(got).isEqualTo("file bytes");
  }

  @Test
  void prepareIsIdempotent() {
    Await.result(clients.prepare(), Duration.ofSeconds(60));
    List<String> topics = List.copyOf(Await.result(clients.kafkaAdmin().listTopics()));
    assertThat(topics.stream().filter(t -> t.startsWith(iso.topicPrefix())))
        .hasSize(Topics.ALL.size());
  }

  private static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
    java.util.HashMap<String, String> m = new java.util.HashMap<>(a);
    m.putAll(b);
    return m;
  }
}
