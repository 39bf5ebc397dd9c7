package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 10 (2): the pipeline never blocks on a record it cannot apply. Records are produced
 * straight to Kafka (past the edge's checks) with a document the store rejects; they end in the
 * dead-letter topic, the message is {@code failed} for its sender, the conversation's numbering
 * goes on, and other conversations are not held up. A store that refuses for a while (transient) is
 * retried without limit while readiness reports the stall.
 */
@ExtendWith(BackendsExtension.class)
class PipelineDeadLetterTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static final int MAX_ATTEMPTS = 3;
  static Api api;
  static TestBackends.Isolation iso;
  static KafkaProducer<String, String> producer;
  static KafkaConsumer<String, String> dlqConsumer;
  static final List<JsonObject> deadLetters = new CopyOnWriteArrayList<>();
  static Vertx client;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api =
        Api.start(
            iso,
            new JsonObject()
                // one partition: records produced together are fetched in one batch
                .put("kafka", new JsonObject().put("partitions", 1))
                .put(
                    "messaging",
                    new JsonObject()
                        .put("pipeline_max_attempts", MAX_ATTEMPTS)
                        .put("pipeline_retry_backoff_ms", 1000)
                        .put("pipeline_max_backoff_ms", 2000)));
    Properties p = new Properties();
    p.put("bootstrap.servers", iso.endpoints().kafkaBootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    // records sent together travel in one produce request, so the pipeline fetches them together
    p.put("linger.ms", "500");
    producer = new KafkaProducer<>(p);
    Properties c = new Properties();
    c.put("bootstrap.servers", iso.endpoints().kafkaBootstrapServers());
    c.put("key.deserializer", StringDeserializer.class.getName());
    c.put("value.deserializer", StringDeserializer.class.getName());
    c.put("enable.auto.commit", "false");
    dlqConsumer = new KafkaConsumer<>(c);
    TopicPartition dlq = new TopicPartition(topic(Topics.PIPELINE_DEAD_LETTER), 0);
    dlqConsumer.assign(List.of(dlq));
    dlqConsumer.seekToBeginning(List.of(dlq));
    client = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    producer.close();
    dlqConsumer.close();
    Await.result(client.close());
    api.close();
  }

  static String topic(String name) {
    return Topics.name(iso.topicPrefix(), name);
  }

  /** Dead-letter records read so far (polls for more). */
  static synchronized List<JsonObject> deadLetters() {
    for (ConsumerRecord<String, String> r : dlqConsumer.poll(Duration.ofMillis(200))) {
      deadLetters.add(new JsonObject(r.value()).put("_key", r.key()));
    }
    return deadLetters;
  }

  static JsonObject deadLetterOf(String messageId) {
    return deadLetters().stream()
        .filter(d -> String.valueOf(d.getString("value")).contains(messageId))
        .findFirst()
        .orElse(null);
  }

  /** A send record as the messaging service writes it. */
  static JsonObject sendRecord(String conv, String messageId, String from, JsonObject payload) {
    return new JsonObject()
        .put("message_id", messageId)
        .put("conversation_id", conv)
        .put("from_user_id", from)
        .put("payload", payload)
        .put("reply_to_message_id", null)
        .put("channels", new JsonArray())
        .put("created_at", Wire.timestamp(Instant.now()));
  }

  static List<JsonObject> history(Api.User u, String conv) {
    return api
        .get("/v1/conversations/" + conv + "/messages?after_seq=0&limit=200", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .stream()
        .map(o -> (JsonObject) o)
        .toList();
  }

  static String send(Api.User from, String conv, String text) {
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", from.accessToken(), Api.textMessage(conv, id, text)).expect(202);
    return id;
  }

  /** The pipeline's readiness check as /health/ready reports it. */
  static JsonObject pipelineCheck() {
    Api.Res r = api.get("/health/ready", null);
    if (r.json() == null) {
      return null;
    }
    for (Object o : r.json().getJsonArray("checks", new JsonArray())) {
      JsonObject check = (JsonObject) o;
      if ("pipeline".equals(check.getString("id"))) {
        return check;
      }
    }
    return null;
  }

  static void awaitCount(Api.User u, String conv, int n) {
    Await.until(n + " messages in " + conv, WAIT, () -> history(u, conv).size() >= n);
  }

  @Test
  void aRecordTheStoreRejectsIsDeadLetteredFailedAndHoldsUpNoConversation() {
    Api.User a = api.newUser("dlq");
    Api.User b = api.newUser("dlqpeer");
    Api.User c = api.newUser("dlqother");
    String conv = api.privateChat(a, b);
    String other = api.privateChat(a, c);
    String first = send(a, conv, "first");
    awaitCount(b, conv, 1);

    try (WsTestSocket sender =
        new WsTestSocket(client.createWebSocketClient(), api.node().httpPort(), "/v1/ws", WAIT)) {
      sender.authenticate(a.accessToken(), null);

      // a document BSON cannot encode (a NUL in a key), then a good record of another conversation
      String bad = UUID.randomUUID().toString();
      JsonObject badPayload =
          new JsonObject()
              .put("type", "text")
              .put("text", "x")
              .put("metadata", new JsonObject().put("k\u0000y", 1));
      String good = UUID.randomUUID().toString();
      JsonObject goodPayload = new JsonObject().put("type", "text").put("text", "unrelated");
      producer.send(
          new ProducerRecord<>(
              topic(Topics.MESSAGE_SENT),
              conv,
              sendRecord(conv, bad, a.id(), badPayload).encode()));
      producer.send(
          new ProducerRecord<>(
              topic(Topics.MESSAGE_SENT),
              other,
              sendRecord(other, good, a.id(), goodPayload).encode()));
      producer.flush();

      // the other conversation's message is stored while the bad record is still being retried
      // (MAX_ATTEMPTS tries, at least 1 s + 2 s apart)
      awaitCount(c, other, 1);
      assertThat(history(c, other).get(0).getString("message_id")).isEqualTo(good);
      assertThat(deadLetterOf(bad)).as("dead-lettered before its retries ran out").isNull();

      // then: dead letter with the reason, the raw record and the tries
      Await.until("dead letter of " + bad, WAIT, () -> deadLetterOf(bad) != null);
      JsonObject dl = deadLetterOf(bad);
      assertThat(dl.getString("reason")).isEqualTo("store_rejected");
      assertThat(dl.getInteger("attempts")).isEqualTo(MAX_ATTEMPTS);
      assertThat(dl.getString("source_topic")).isEqualTo(topic(Topics.MESSAGE_SENT));
      assertThat(dl.getString("_key")).isEqualTo(conv);
      assertThat(new JsonObject(dl.getString("value")).getString("message_id")).isEqualTo(bad);
      assertThat(dl.getString("error")).contains("BsonSerializationException");

      // the sender sees it failed, live and by id; it holds number 2, without its content
      JsonObject live =
          sender.await(
              "failed status",
              f ->
                  "status".equals(f.getString("type"))
                      && bad.equals(f.getString("message_id"))
                      && "failed".equals(f.getString("status")));
      assertThat(live.getString("reason")).isEqualTo("store_rejected");
      assertThat(live.getString("message_status")).isEqualTo("failed");
      assertThat(live.getLong("sequence_number")).isEqualTo(2L);
      JsonObject failed = api.get("/v1/messages/" + bad, a.accessToken()).expect(200).json();
      assertThat(failed.getString("status")).isEqualTo("failed");
      assertThat(failed.getLong("sequence_number")).isEqualTo(2L);
      JsonArray statuses = failed.getJsonArray("status_history");
      JsonObject last = statuses.getJsonObject(statuses.size() - 1);
      assertThat(last.getString("status")).isEqualTo("failed");
      assertThat(last.getString("reason")).isEqualTo("store_rejected");
      assertThat(failed.getJsonObject("payload").fieldNames()).containsExactly("type");
      // it cannot be edited or marked
      api.call("PATCH", "/v1/messages/" + bad, a.accessToken(), "{\"text\":\"fixed\"}")
          .expectError(409, "conflict");
      api.post("/v1/messages/" + bad + "/read", b.accessToken(), null).expectError(409, "conflict");

      // the conversation goes on: the next message is number 3, no gap
      String next = send(a, conv, "next");
      awaitCount(b, conv, 3);
      List<JsonObject> h = history(b, conv);
      assertThat(h.stream().map(m -> m.getString("message_id")).toList())
          .containsExactly(first, bad, next);
      assertThat(h.stream().map(m -> m.getLong("sequence_number")).toList())
          .containsExactly(1L, 2L, 3L);
      assertThat(h.get(2).getString("status")).isEqualTo("sent");
      // the failed placeholder is not the conversation's last message text
      JsonObject listed = api.get("/v1/conversations/" + conv, b.accessToken()).expect(200).json();
      assertThat(listed.getString("last_message_id")).isEqualTo(next);
    }
    api.get("/health/ready", null).expect(200);
  }

  @Test
  void anUnreadableRecordIsDeadLetteredAndTheConversationGoesOn() {
    Api.User a = api.newUser("junk");
    Api.User b = api.newUser("junkpeer");
    String conv = api.privateChat(a, b);
    String marker = "not json " + UUID.randomUUID();
    producer.send(new ProducerRecord<>(topic(Topics.MESSAGE_SENT), conv, marker));
    producer.send(new ProducerRecord<>(topic(Topics.MESSAGE_SENT), "not-a-conversation", "{}"));
    producer.flush();
    Await.until("dead letter", WAIT, () -> deadLetterOf(marker) != null);
    assertThat(deadLetterOf(marker).getString("reason")).isEqualTo("malformed_record");
    Await.until(
        "dead letter of the bad key",
        WAIT,
        () ->
            deadLetters().stream().anyMatch(d -> "not-a-conversation".equals(d.getString("_key"))));
    String id = send(a, conv, "hello");
    awaitCount(b, conv, 1);
    assertThat(history(b, conv).get(0).getString("message_id")).isEqualTo(id);
    assertThat(history(b, conv).get(0).getLong("sequence_number")).isEqualTo(1L);
  }

  @Test
  void aStoreRefusingForAWhileIsRetriedWithoutLimitAndReadinessShowsTheStall() {
    Api.User a = api.newUser("stall");
    Api.User b = api.newUser("stallpeer");
    String conv = api.privateChat(a, b);
    var pg = api.node().clients().pg();
    // PostgreSQL refuses the conversation's counter update as a server would while in maintenance
    // (SQLSTATE 57P03, not a data error); every refusal is counted outside the transaction
    Await.result(pg.query("CREATE SEQUENCE refusals").execute());
    Await.result(
        pg.query(
                "CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " PERFORM nextval('refusals'); RAISE EXCEPTION 'in maintenance' USING ERRCODE"
                    + " = '57P03'; END $$")
            .execute());
    Await.result(
        pg.query(
                "CREATE TRIGGER refuse BEFORE UPDATE ON conversations FOR EACH ROW WHEN"
                    + " (OLD.conversation_id = '"
                    + conv
                    + "') EXECUTE FUNCTION refuse_update()")
            .execute());
    String id;
    try {
      id = send(a, conv, "during the outage");
      Await.until(
          "readiness reports the stalled pipeline",
          WAIT,
          () -> {
            JsonObject check = pipelineCheck();
            return check != null && "DOWN".equals(check.getString("status"));
          });
      JsonObject stall = pipelineCheck().getJsonObject("data");
      assertThat(stall.getString("state")).isEqualTo("stalled");
      assertThat(stall.getString("error")).contains("57P03");
      assertThat(stall.getString("since")).isNotBlank();
      // more refusals than a record gets tries for a failure retrying cannot fix
      Await.until(
          "refused more than " + MAX_ATTEMPTS + " times",
          WAIT,
          () ->
              Await.result(pg.query("SELECT last_value FROM refusals").execute())
                      .iterator()
                      .next()
                      .getLong(0)
                  > MAX_ATTEMPTS + 1);
      assertThat(deadLetterOf(id)).isNull();
    } finally {
      Await.result(pg.query("DROP TRIGGER refuse ON conversations").execute());
    }
    awaitCount(b, conv, 1);
    JsonObject stored = history(b, conv).get(0);
    assertThat(stored.getString("message_id")).isEqualTo(id);
    assertThat(stored.getString("status")).isEqualTo("sent");
    Await.until("ready again", WAIT, () -> api.get("/health/ready", null).status() == 200);
    assertThat(pipelineCheck().getString("status")).isEqualTo("UP");
    assertThat(deadLetterOf(id)).isNull();
  }
}
