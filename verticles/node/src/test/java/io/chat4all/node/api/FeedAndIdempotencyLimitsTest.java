package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The edges of the guarantees: a capped feed asks for a resync; idempotency outlives its Redis key.
 */
@ExtendWith(BackendsExtension.class)
class FeedAndIdempotencyLimitsTest {
  static Api api;
  static TestBackends.Isolation iso;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api =
        Api.start(
            iso, new JsonObject().put("messaging", new JsonObject().put("feed_max_entries", 3)));
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static String chat(Api.User a, Api.User b) {
    return api.privateChat(a, b);
  }

  static JsonObject text(String conv, String id, String text) {
    return Api.textMessage(conv, id, text);
  }

  static int stored(Api.User u, String conv) {
    return api.get("/v1/conversations/" + conv + "/messages?after_seq=0", u.accessToken())
        .json()
        .getJsonArray("items")
        .size();
  }

  @Test
  void aCursorOlderThanTheCappedFeedAsksForAResync() {
    Api.User a = api.newUser("cap");
    Api.User b = api.newUser("cap");
    String conv = chat(a, b);
    api.post("/v1/messages", a.accessToken(), text(conv, UUID.randomUUID().toString(), "first"))
        .expect(202);
    Await.until("first stored", Duration.ofSeconds(30), () -> stored(b, conv) == 1);
    JsonObject page =
        api.get(
                "/v1/sync?cursor="
                    + api.get("/v1/sync", b.accessToken()).json().getString("next_cursor"),
                b.accessToken())
            .json();
    String old = api.get("/v1/sync", b.accessToken()).json().getString("next_cursor");
    assertThat(page.getBoolean("resync_required")).isFalse();
    for (int i = 0; i < 6; i++) {
      api.post("/v1/messages", a.accessToken(), text(conv, UUID.randomUUID().toString(), "m" + i))
          .expect(202);
    }
    Await.until("all stored", Duration.ofSeconds(30), () -> stored(b, conv) == 7);
    JsonObject stale = api.get("/v1/sync?cursor=" + old, b.accessToken()).expect(200).json();
    assertThat(stale.getBoolean("resync_required")).isTrue();
    assertThat(stale.getJsonArray("items")).isEmpty();
    // the returned position is current: syncing from it works again
    JsonObject fresh =
        api.get("/v1/sync?cursor=" + stale.getString("next_cursor"), b.accessToken())
            .expect(200)
            .json();
    assertThat(fresh.getBoolean("resync_required")).isFalse();
  }

  @Test
  void aMessageIdStaysTakenAfterItsRedisClaimExpires() {
    Api.User a = api.newUser("idem");
    Api.User b = api.newUser("idem");
    String conv = chat(a, b);
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), text(conv, id, "once")).expect(202);
    Await.until("stored", Duration.ofSeconds(30), () -> stored(b, conv) == 1);
    // the claim's TTL ran out
    io.chat4all.testkit.Await.result(
        api.node().clients().redisApi().del(List.of(iso.redisKeyPrefix() + "idem:msg:" + id)));
    api.post("/v1/messages", a.accessToken(), text(conv, id, "once"))
        .expectError(409, "idempotency_conflict");
    String other = chat(a, api.newUser("idem"));
    api.post("/v1/messages", a.accessToken(), text(other, id, "elsewhere"))
        .expectError(409, "idempotency_conflict");
    assertThat(stored(b, conv)).isEqualTo(1);
  }

  @Test
  void retentionDeletesExpiredMessagesUnderTheClusterLock() {
    io.chat4all.messaging.MessageStore store =
        new io.chat4all.messaging.MessageStore(api.node().clients().mongo());
    io.vertx.ext.mongo.MongoClient mongo = api.node().clients().mongo();
    String conv = UUID.randomUUID().toString();
    Await.result(
        mongo.insert(
            io.chat4all.messaging.MessageStore.MESSAGES,
            new JsonObject()
                .put("_id", conv + ":1")
                .put("message_id", UUID.randomUUID().toString())
                .put("conversation_id", conv)
                .put("sequence_number", 1)
                .put("ttl_expire_at", new JsonObject().put("$date", "2001-01-01T00:00:00.000Z"))));
    Await.result(
        mongo.insert(
            io.chat4all.messaging.MessageStore.MESSAGES,
            new JsonObject()
                .put("_id", conv + ":2")
                .put("message_id", UUID.randomUUID().toString())
                .put("conversation_id", conv)
                .put("sequence_number", 2)
                .put("ttl_expire_at", new JsonObject().put("$date", "2999-01-01T00:00:00.000Z"))));
    io.chat4all.messaging.RetentionJob job =
        new io.chat4all.messaging.RetentionJob(store, 3_600_000L);
    Await.result(api.node().vertx().deployVerticle(job));
    assertThat(Await.result(job.runOnce())).isGreaterThanOrEqualTo(1L);
    assertThat(Await.result(store.message(conv, 1))).isNull();
    assertThat(Await.result(store.message(conv, 2))).isNotNull();
    // while another node holds the lock, this one skips the pass
    io.vertx.core.shareddata.Lock held =
        Await.result(
            api.node().vertx().sharedData().getLock(io.chat4all.messaging.RetentionJob.LOCK));
    try {
      assertThat(Await.result(job.runOnce())).isZero();
    } finally {
      held.release();
    }
  }
}
