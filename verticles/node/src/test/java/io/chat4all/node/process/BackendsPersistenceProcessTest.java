package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.backends.BackendClients;
import io.chat4all.node.config.ConfigLoader;
import io.chat4all.node.config.NodeConfig;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.sqlclient.Tuple;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;

/**
 * What was written to each embedded server before a stop is there after the next start on the same
 * data directory: a PostgreSQL row, a MongoDB document, a Redis key, a Kafka record and an S3
 * object. The data directory and the files holding the signing key are owner-only, and are made so
 * again at a start when they were not.
 */
@Tag("process")
class BackendsPersistenceProcessTest {

  static BackendClients clients(Vertx vertx, Path overlay) throws Exception {
    JsonObject config =
        ConfigLoader.defaults().mergeIn(new JsonObject(Files.readString(overlay)), true);
    config.getJsonObject("kafka").put("topic_prefix", "persist.");
    config.getJsonObject("s3").put("bucket", "persist-bucket");
    BackendClients c = BackendClients.create(vertx, NodeConfig.from(config));
    Await.result(c.prepare(), Duration.ofSeconds(60));
    return c;
  }

  /** The data directory is mode 700; backends.json and jwt-secret (both hold the key) are 600. */
  static void assertOwnerOnly(Path data, Path overlay) throws Exception {
    assertThat(overlay.getParent()).isEqualTo(data.toAbsolutePath().normalize());
    assertThat(
            new JsonObject(Files.readString(overlay)).getJsonObject("auth").getString("jwt_secret"))
        .isNotBlank();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data)))
        .isEqualTo("rwx------");
    for (Path secret : List.of(overlay, data.resolve("jwt-secret"))) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)))
          .as(secret.toString())
          .isEqualTo("rw-------");
    }
  }

  @Test
  void dataSurvivesARestart(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    String id = UUID.randomUUID().toString();
    String topic = "persist.message.sent";
    Vertx vertx = Vertx.vertx();
    try {
      try (NodeProcess backends = NodeJvm.start("backends", "--data-dir", data.toString())) {
        Path overlay =
            Path.of(
                backends
                    .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120))
                    .group(1));
        // the data and the shared signing key are for the owner only
        assertOwnerOnly(data, overlay);
        BackendClients c = clients(vertx, overlay);
        Await.result(
            c.pg().query("CREATE TABLE IF NOT EXISTS persist (id TEXT PRIMARY KEY)").execute());
        Await.result(
            c.pg().preparedQuery("INSERT INTO persist (id) VALUES ($1)").execute(Tuple.of(id)));
        Await.result(c.mongo().insert("persist", new JsonObject().put("_id", id).put("v", 1)));
        Await.result(c.redisApi().set(List.of("persist:" + id, "kept")));
        Await.result(c.producer().send(KafkaProducerRecord.create(topic, id, "record-" + id)));
        Await.result(
            vertx.executeBlocking(
                () ->
                    c.s3()
                        .putObject(
                            b -> b.bucket("persist-bucket").key(id),
                            RequestBody.fromString("object-" + id))));
        Await.result(c.close());
        backends.terminate();
        assertThat(backends.awaitExit(Duration.ofSeconds(60))).isIn(0, 143);
        // as an older version left them: readable by everyone
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(overlay, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(
            data.resolve("jwt-secret"), PosixFilePermissions.fromString("rw-r--r--"));
      }

      try (NodeProcess again = NodeJvm.start("backends", "--data-dir", data.toString())) {
        Path overlay =
            Path.of(
                again
                    .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120))
                    .group(1));
        assertOwnerOnly(data, overlay);
        BackendClients c = clients(vertx, overlay);
        assertThat(
                Await.result(
                        c.pg()
                            .preparedQuery("SELECT id FROM persist WHERE id = $1")
                            .execute(Tuple.of(id)))
                    .size())
            .isEqualTo(1);
        assertThat(
                Await.result(c.mongo().findOne("persist", new JsonObject().put("_id", id), null))
                    .getInteger("v"))
            .isEqualTo(1);
        assertThat(Await.result(c.redisApi().get("persist:" + id)).toString()).isEqualTo("kept");
        String object =
            Await.result(
                vertx.executeBlocking(
                    () ->
                        c.s3()
                            .getObjectAsBytes(b -> b.bucket("persist-bucket").key(id))
                            .asUtf8String()));
        assertThat(object).isEqualTo("object-" + id);

        KafkaConsumer<String, String> consumer =
            KafkaConsumer.create(
                vertx,
                Map.of(
                    "bootstrap.servers", c.config().kafka().bootstrapServers(),
                    "group.id", "persist-" + UUID.randomUUID(),
                    "auto.offset.reset", "earliest",
                    "key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer",
                    "value.deserializer",
                        "org.apache.kafka.common.serialization.StringDeserializer"));
        Promise<KafkaConsumerRecord<String, String>> found = Promise.promise();
        consumer.handler(
            r -> {
              if (id.equals(r.key())) {
                found.tryComplete(r);
              }
            });
        Await.result(consumer.subscribe(topic));
        assertThat(Await.result(found.future(), Duration.ofSeconds(60)).value())
            .isEqualTo("record-" + id);
        Await.result(consumer.close());
        Await.result(c.close());
      }
    } finally {
      Await.result(vertx.close());
    }
  }
}
