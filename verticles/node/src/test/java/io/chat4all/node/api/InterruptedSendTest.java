package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.codecs.Wire;
import io.chat4all.messaging.MessageRoutes;
import io.chat4all.messaging.MessageStore;
import io.chat4all.messaging.MessagingConfig;
import io.chat4all.messaging.MessagingVerticle;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.redis.client.RedisAPI;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A send whose first attempt went away mid-way (its node died) is finished by a retry with the same
 * message_id: the idempotency claim it left behind is taken over once its lease lapses, the retry
 * gets the reply the first attempt would have given, and the message is stored once, whether or not
 * the first attempt reached Kafka.
 */
@ExtendWith(BackendsExtension.class)
class InterruptedSendTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final long LEASE_MS = 1500;
  static Api api;
  static TestBackends.Isolation iso;
  static RedisAPI redis;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api =
        Api.start(
            iso,
            new JsonObject()
                .put("messaging", new JsonObject().put("idempotency_lease_ms", LEASE_MS)));
    redis = api.node().clients().redisApi();
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static List<JsonObject> history(Api.User u, String conv) {
    return api
        .get("/v1/conversations/" + conv + "/messages?after_seq=0&limit=100", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .stream()
        .map(o -> (JsonObject) o)
        .toList();
  }

  static String claimKey(String id) {
    return iso.redisKeyPrefix() + "idem:msg:" + id;
  }

  /** The claim an attempt leaves in Redis when its node dies before it recorded a reply. */
  static void leavePendingClaim(Api.User from, JsonObject body, String createdAt) {
    JsonObject req =
        MessageRoutes.validateSend(body, MessagingConfig.from(new JsonObject(), "", "", ""));
    JsonObject claim =
        new JsonObject()
            .put("from_user_id", from.id())
            .put("hash", MessagingVerticle.fingerprint(req))
            .put("state", "pending")
            .put("created_at", createdAt);
    Await.result(redis.set(List.of(claimKey(body.getString("message_id")), claim.encode())));
  }

  /** The record the first attempt wrote to Kafka. */
  static void produceSent(Api.User from, JsonObject body, String createdAt) {
    JsonObject record =
        new JsonObject()
            .put("message_id", body.getString("message_id"))
            .put("conversation_id", body.getString("conversation_id"))
            .put("from_user_id", from.id())
            .put("payload", body.getJsonObject("payload"))
            .putNull("reply_to_message_id")
            .put("channels", new JsonArray())
            .put("created_at", createdAt);
    Await.result(
        api.node()
            .clients()
            .producer()
            .send(
                KafkaProducerRecord.create(
                    Topics.name(iso.topicPrefix(), Topics.MESSAGE_SENT),
                    body.getString("conversation_id"),
                    record.encode())));
  }

  static String earlier() {
    return Wire.timestamp(Instant.now().minus(1, ChronoUnit.MINUTES));
  }

  static long storedCopies(String messageId) {
    return Await.result(
        api.node()
            .clients()
            .mongo()
            .count(MessageStore.MESSAGES, new JsonObject().put("message_id", messageId)));
  }

  @Test
  void aClaimLeftBeforeKafkaIsFinishedByTheRetry() {
    Api.User a = api.newUser("lost");
    Api.User b = api.newUser("lost");
    String conv = api.privateChat(a, b);
    String id = UUID.randomUUID().toString();
    JsonObject body = Api.textMessage(conv, id, "cut off before Kafka");
    String createdAt = earlier();
    leavePendingClaim(a, body, createdAt);

    JsonObject reply = api.post("/v1/messages", a.accessToken(), body).expect(202).json();
    assertThat(reply.getString("message_id")).isEqualTo(id);
    assertThat(reply.getString("created_at")).isEqualTo(createdAt);
    // the reply is recorded: the next retry gets it again at once
    assertThat(api.post("/v1/messages", a.accessToken(), body).expect(202).json()).isEqualTo(reply);
    Await.until("stored", WAIT, () -> history(b, conv).size() == 1);
    assertThat(history(b, conv).get(0).getString("created_at")).isEqualTo(createdAt);
    assertThat(storedCopies(id)).isEqualTo(1L);
  }

  @Test
  void aClaimLeftAfterKafkaIsAnsweredWithTheSameReplyAndStoredOnce() {
    Api.User a = api.newUser("half");
    Api.User b = api.newUser("half");
    String conv = api.privateChat(a, b);

    // reached Kafka and already stored: the retry answers without a second write
    String stored = UUID.randomUUID().toString();
    JsonObject storedBody = Api.textMessage(conv, stored, "stored before the crash");
    String storedAt = earlier();
    produceSent(a, storedBody, storedAt);
    Await.until("stored", WAIT, () -> history(b, conv).size() == 1);
    leavePendingClaim(a, storedBody, storedAt);
    JsonObject reply = api.post("/v1/messages", a.accessToken(), storedBody).expect(202).json();
    assertThat(reply.getString("created_at")).isEqualTo(storedAt);
    assertThat(reply.getJsonObject("payload").getString("text"))
        .isEqualTo("stored before the crash");

    // reached Kafka, not yet stored: the retry writes it again, the pipeline keeps one
    String inKafka = UUID.randomUUID().toString();
    JsonObject inKafkaBody = Api.textMessage(conv, inKafka, "in Kafka when the node died");
    String inKafkaAt = earlier();
    leavePendingClaim(a, inKafkaBody, inKafkaAt);
    produceSent(a, inKafkaBody, inKafkaAt);
    api.post("/v1/messages", a.accessToken(), inKafkaBody).expect(202);
    produceSent(a, inKafkaBody, inKafkaAt); // and a third copy, for good measure
    String after = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, after, "next")).expect(202);
    Await.until("all stored", WAIT, () -> history(b, conv).size() >= 3);
    List<JsonObject> h = history(b, conv);
    assertThat(h)
        .extracting(m -> m.getString("message_id"))
        .containsExactly(stored, inKafka, after);
    assertThat(h).extracting(m -> m.getLong("sequence_number")).containsExactly(1L, 2L, 3L);
    assertThat(h.get(1).getString("created_at")).isEqualTo(inKafkaAt);
    assertThat(storedCopies(inKafka)).isEqualTo(1L);
    assertThat(storedCopies(stored)).isEqualTo(1L);
  }

  @Test
  void aRetryWaitsForTheLeaseOfTheAttemptInFlightThenTakesOver() {
    Api.User a = api.newUser("lease");
    Api.User b = api.newUser("lease");
    String conv = api.privateChat(a, b);
    String id = UUID.randomUUID().toString();
    JsonObject body = Api.textMessage(conv, id, "the owner died holding the lease");
    String createdAt = earlier();
    leavePendingClaim(a, body, createdAt);
    // the dead attempt's lease, still running
    Await.result(
        redis.set(
            List.of(
                iso.redisKeyPrefix() + "idem:lease:" + id,
                "dead-owner",
                "PX",
                Long.toString(LEASE_MS))));
    long t0 = System.nanoTime();
    JsonObject reply = api.post("/v1/messages", a.accessToken(), body).expect(202).json();
    long tookMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(reply.getString("created_at")).isEqualTo(createdAt);
    assertThat(tookMs).as("waited for the lease").isGreaterThanOrEqualTo(LEASE_MS / 2);
    Await.until("stored", WAIT, () -> history(b, conv).size() == 1);
    assertThat(storedCopies(id)).isEqualTo(1L);

    // someone else's body under that id is still a conflict
    api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, id, "another text"))
        .expectError(409, "idempotency_conflict");
  }
}
