package io.chat4all.node.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.embedded.KafkaServerRunner;
import io.chat4all.embedded.Ports;
import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The transactional outbox: with the node's Kafka broker stopped, a conversation is created and an
 * upload completed (both answer at once, nothing is lost); once the broker is back, their {@code
 * conversation.created} and {@code file.uploaded} events are published, and the outbox is empty.
 */
@ExtendWith(BackendsExtension.class)
class OutboxKafkaOutageTest {
  static TestBackends.Isolation iso;
  static KafkaServerRunner kafka;
  static Api api;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start(TestBackends.Isolation isolation) throws Exception {
    iso = isolation;
    Path dir = Files.createTempDirectory(Path.of("target"), "outbox-kafka");
    kafka =
        new KafkaServerRunner(
            "127.0.0.1",
            Ports.free("127.0.0.1"),
            Ports.free("127.0.0.1"),
            4,
            dir.resolve("kafka").toAbsolutePath());
    kafka.start();
    JsonObject config =
        new JsonObject()
            .put("kafka", new JsonObject().put("bootstrap_servers", kafka.bootstrapServers()))
            .put("outbox", new JsonObject().put("interval_ms", 200));
    api = Api.start(iso, config);
  }

  @AfterAll
  static void stop() {
    api.close();
    kafka.stop();
  }

  @Test
  void eventsWrittenWhileKafkaIsDownArePublishedWhenItIsBack() throws Exception {
    Api.User a = api.newUser("oa");
    Api.User b = api.newUser("ob");
    String chat = api.privateChat(a, b);

    kafka.stop();
    String group =
        api.post(
                "/v1/conversations",
                a.accessToken(),
                new JsonObject()
                    .put("type", "group")
                    .put("name", "while kafka is down")
                    .put("member_ids", new JsonArray().add(b.id())))
            .expect(201)
            .json()
            .getString("conversation_id");
    String fileId = uploadSmallFile(a, chat);

    // the events wait in the outbox: a row in PostgreSQL, an entry in the file's document
    assertThat(outboxRows(group)).isEqualTo(1);
    JsonObject doc =
        Await.result(
            api.node()
                .clients()
                .mongo()
                .findOne("file_metadata", new JsonObject().put("_id", fileId), null));
    assertThat(doc.getJsonArray("outbox")).hasSize(1);

    kafka.start();
    List<ConsumerRecord<String, String>> seen = new ArrayList<>();
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("group.id", "outbox-test-" + UUID.randomUUID());
    p.put("auto.offset.reset", "earliest");
    try (KafkaConsumer<String, String> c =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(
          List.of(
              Topics.name(iso.topicPrefix(), Topics.CONVERSATION_CREATED),
              Topics.name(iso.topicPrefix(), Topics.FILE_UPLOADED)));
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (System.nanoTime() < deadline
          && !(has(seen, group, "conversation_created") && has(seen, fileId, null))) {
        c.poll(Duration.ofMillis(500)).forEach(seen::add);
      }
    }
    assertThat(has(seen, group, "conversation_created"))
        .as("conversation.created arrived")
        .isTrue();
    assertThat(has(seen, fileId, null)).as("file.uploaded arrived").isTrue();
    JsonObject created =
        new JsonObject(seen.stream().filter(r -> group.equals(r.key())).findFirst().get().value());
    assertThat(created.getJsonArray("user_ids")).containsExactlyInAnyOrder(a.id(), b.id());
    assertThat(created.getString("event_id")).isNotBlank();
    JsonObject uploaded =
        new JsonObject(seen.stream().filter(r -> fileId.equals(r.key())).findFirst().get().value());
    assertThat(uploaded.getString("uploaded_by")).isEqualTo(a.id());
    assertThat(uploaded.getString("event_id"))
        .isEqualTo(doc.getJsonArray("outbox").getJsonObject(0).getString("id"));

    Await.until("the outbox emptied", Duration.ofSeconds(30), () -> outboxRows(group) == 0);
    Await.until(
        "the file's outbox emptied",
        Duration.ofSeconds(30),
        () ->
            Await.result(
                    api.node()
                        .clients()
                        .mongo()
                        .findOne("file_metadata", new JsonObject().put("_id", fileId), null))
                .getJsonArray("outbox", new JsonArray())
                .isEmpty());
  }

  static boolean has(List<ConsumerRecord<String, String>> seen, String key, String event) {
    return seen.stream()
        .anyMatch(
            r ->
                key.equals(r.key())
                    && (event == null
                        || event.equals(new JsonObject(r.value()).getString("event"))));
  }

  static long outboxRows(String key) {
    return Await.result(
            api.node()
                .clients()
                .pg()
                .preparedQuery("SELECT count(*) FROM outbox WHERE record_key = $1")
                .execute(io.vertx.sqlclient.Tuple.of(key)))
        .iterator()
        .next()
        .getLong(0);
  }

  /** A one-chunk upload, completed (verified synchronously); the file id. */
  static String uploadSmallFile(Api.User u, String conv) throws Exception {
    byte[] bytes = "outbox test file\n".repeat(100).getBytes(StandardCharsets.UTF_8);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    String id =
        api.post(
                "/v1/files",
                u.accessToken(),
                new JsonObject()
                    .put("filename", "notes.txt")
                    .put("size_bytes", bytes.length)
                    .put("mime_type", "text/plain")
                    .put("conversation_id", conv))
            .expect(201)
            .json()
            .getString("file_id");
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(URI.create(api.base() + "/v1/files/" + id + "/chunks/1"))
                .header("Authorization", "Bearer " + u.accessToken())
                .header("X-Checksum-SHA256", sha)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    JsonObject done =
        api.post("/v1/files/" + id + "/complete", u.accessToken(), null).expect(200).json();
    assertThat(done.getString("upload_status")).isEqualTo("completed");
    return id;
  }
}
