package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Addresses;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.redis.client.RedisAPI;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * What a conversation shows its members: deleted text is gone from every store, the snippet follows
 * edits, your own messages are never unread, a mark covers every earlier message, replies point
 * into the same conversation.
 */
@ExtendWith(BackendsExtension.class)
class ConversationStateTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static Api api;
  static TestBackends.Isolation iso;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static String group(Api.User owner, Api.User... others) {
    JsonArray ids = new JsonArray();
    for (Api.User u : others) {
      ids.add(u.id());
    }
    return api.post(
            "/v1/conversations",
            owner.accessToken(),
            new JsonObject().put("type", "group").put("name", "g").put("member_ids", ids))
        .expect(201)
        .json()
        .getString("conversation_id");
  }

  static String send(Api.User from, String conv, String text) {
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", from.accessToken(), Api.textMessage(conv, id, text)).expect(202);
    return id;
  }

  static List<JsonObject> history(Api.User u, String conv) {
    List<JsonObject> all = new ArrayList<>();
    api.get("/v1/conversations/" + conv + "/messages?after_seq=0&limit=100", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .forEach(o -> all.add((JsonObject) o));
    return all;
  }

  static List<JsonObject> awaitHistory(Api.User u, String conv, int count) {
    Await.until("history of " + count, WAIT, () -> history(u, conv).size() >= count);
    return history(u, conv);
  }

  static JsonObject conversation(Api.User u, String conv) {
    return api.get("/v1/conversations/" + conv, u.accessToken()).expect(200).json();
  }

  static JsonObject listed(Api.User u, String conv) {
    return api
        .get("/v1/conversations", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .stream()
        .map(o -> (JsonObject) o)
        .filter(c -> c.getString("conversation_id").equals(conv))
        .findFirst()
        .orElseThrow();
  }

  static JsonObject message(Api.User u, String id) {
    return api.get("/v1/messages/" + id, u.accessToken()).expect(200).json();
  }

  static String statusFor(JsonObject message, Api.User u) {
    JsonObject s = message.getJsonObject("recipient_status").getJsonObject(u.id());
    return s == null ? "sent" : s.getString("status");
  }

  // --- deleted and edited text ---

  /** Every value stored under the isolation's Redis prefix, as text. */
  static String everythingInRedis() {
    RedisAPI redis = api.node().clients().redisApi();
    StringBuilder all = new StringBuilder();
    String cursor = "0";
    do {
      Response page =
          Await.result(
              redis.scan(List.of(cursor, "MATCH", iso.redisKeyPrefix() + "*", "COUNT", "1000")));
      cursor = page.get(0).toString();
      for (Response k : page.get(1)) {
        String key = k.toString();
        String type = Await.result(redis.type(key)).toString();
        Response value =
            switch (type) {
              case "string" -> Await.result(redis.get(key));
              case "stream" -> Await.result(redis.xrange(List.of(key, "-", "+")));
              case "hash" -> Await.result(redis.hgetall(key));
              case "set" -> Await.result(redis.smembers(key));
              case "zset" -> Await.result(redis.zrange(List.of(key, "0", "-1")));
              case "list" -> Await.result(redis.lrange(key, "0", "-1"));
              default -> null;
            };
        all.append(key).append(" = ");
        flatten(value, all);
        all.append('\n');
      }
    } while (!"0".equals(cursor));
    return all.toString();
  }

  static void flatten(Response r, StringBuilder out) {
    if (r == null) {
      return;
    }
    if (r.type() == ResponseType.MULTI || r.type() == ResponseType.ATTRIBUTE) {
      for (Response item : r) {
        flatten(item, out);
        out.append(' ');
      }
    } else {
      out.append(r.toString());
    }
  }

  /** Every document of every collection of the isolation's MongoDB database, as text. */
  static String everythingInMongo() {
    var mongo = api.node().clients().mongo();
    StringBuilder all = new StringBuilder();
    for (String collection : Await.result(mongo.getCollections())) {
      for (JsonObject doc : Await.result(mongo.find(collection, new JsonObject()))) {
        all.append(collection).append(": ").append(doc.encode()).append('\n');
      }
    }
    return all.toString();
  }

  @Test
  void aDeletedMessagesTextIsGoneFromEveryStoreAndTheSnippetFollowsEdits() {
    Api.User a = api.newUser("del");
    Api.User b = api.newUser("del");
    String conv = api.privateChat(a, b);
    String feedStart = api.get("/v1/sync", b.accessToken()).json().getString("next_cursor");
    String original = "original-" + UUID.randomUUID();
    String edited = "edited-" + UUID.randomUUID();
    send(a, conv, "an earlier message");
    String id = UUID.randomUUID().toString();
    JsonObject sendBody = Api.textMessage(conv, id, original);
    api.post("/v1/messages", a.accessToken(), sendBody).expect(202);
    awaitHistory(b, conv, 2);
    assertThat(listed(b, conv).getString("last_message_snippet")).isEqualTo(original);

    // an edit of the last message moves the snippet with it, for every member
    api.call("PATCH", "/v1/messages/" + id, a.accessToken(), "{\"text\":\"" + edited + "\"}")
        .expect(202);
    Await.until(
        "snippet edited",
        WAIT,
        () -> edited.equals(listed(b, conv).getString("last_message_snippet")));
    assertThat(conversation(a, conv).getString("last_message_snippet")).isEqualTo(edited);

    JsonObject tomb = api.delete("/v1/messages/" + id, a.accessToken()).expect(202).json();
    assertThat(tomb.getJsonObject("payload").containsKey("text")).isFalse();
    Await.until(
        "snippet of the deleted message",
        WAIT,
        () -> "[deleted]".equals(listed(b, conv).getString("last_message_snippet")));
    assertThat(conversation(a, conv).getString("last_message_snippet")).isEqualTo("[deleted]");
    assertThat(message(b, id).getBoolean("is_deleted")).isTrue();
    assertThat(message(b, id).getJsonObject("payload").containsKey("text")).isFalse();

    // the change feed (entries written before the delete included) shows the tombstone only
    JsonObject feed = api.get("/v1/sync?cursor=" + feedStart, b.accessToken()).expect(200).json();
    List<JsonObject> aboutIt =
        feed.getJsonArray("items").stream()
            .map(o -> (JsonObject) o)
            .filter(e -> e.getJsonObject("message") != null)
            .filter(e -> id.equals(e.getJsonObject("message").getString("message_id")))
            .toList();
    assertThat(aboutIt).extracting(e -> e.getString("type")).contains("message", "message_updated");
    assertThat(aboutIt)
        .allSatisfy(e -> assertThat(e.getJsonObject("message").getBoolean("is_deleted")).isTrue());
    assertThat(feed.encode()).doesNotContain(original).doesNotContain(edited);

    // a retry of the original send still gets its reply, without the text
    JsonObject retried = api.post("/v1/messages", a.accessToken(), sendBody).expect(202).json();
    assertThat(retried.getString("message_id")).isEqualTo(id);
    assertThat(retried.getBoolean("is_deleted")).isTrue();
    assertThat(retried.encode()).doesNotContain(original);

    // nothing stored keeps either text: Redis (feeds, idempotency replies, caches), MongoDB
    // (messages, conversation_history, …), history as every member reads it
    assertThat(everythingInRedis()).doesNotContain(original).doesNotContain(edited);
    assertThat(everythingInMongo()).contains(id).doesNotContain(original).doesNotContain(edited);
    assertThat(history(a, conv).toString()).doesNotContain(original).doesNotContain(edited);
  }

  // --- own messages, horizons ---

  @Test
  void yourOwnMessagesAreNeverUnreadToYou() {
    Api.User a = api.newUser("own");
    Api.User b = api.newUser("own");
    String conv = api.privateChat(a, b);
    for (int i = 0; i < 5; i++) {
      send(a, conv, "mine " + i);
    }
    awaitHistory(b, conv, 5);
    Await.until("A's horizon", WAIT, () -> listed(a, conv).getLong("unread_count") == 0L);
    assertThat(conversation(a, conv).getLong("unread_count")).isZero();
    assertThat(listed(b, conv).getLong("unread_count")).isEqualTo(5L);

    // B answers: B has read what came before, A has one unread message
    send(b, conv, "answer");
    awaitHistory(a, conv, 6);
    Await.until("B's horizon", WAIT, () -> listed(b, conv).getLong("unread_count") == 0L);
    assertThat(listed(a, conv).getLong("unread_count")).isEqualTo(1L);
    // and A's messages count as read by B
    Await.until(
        "A's messages read by B",
        WAIT,
        () -> history(a, conv).stream().limit(5).allMatch(m -> "read".equals(statusFor(m, b))));
    assertThat(history(a, conv).stream().limit(5).map(m -> m.getString("status")))
        .containsOnly("read");
  }

  @Test
  void aMarkCoversEveryEarlierMessageForThatReaderWithItsTime() {
    Api.User a = api.newUser("hz");
    Api.User b = api.newUser("hz");
    Api.User c = api.newUser("hz");
    String conv = group(a, b, c);
    List<JsonObject> live = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> consumer =
        api.node().vertx().eventBus().consumer(Addresses.user(a.id()), m -> live.add(m.body()));
    Await.result(consumer.completion());
    try {
      List<String> ids = new ArrayList<>();
      for (int i = 1; i <= 3; i++) {
        ids.add(send(a, conv, "m" + i));
      }
      awaitHistory(b, conv, 3);

      // B has received up to #2: #1 and #2 are delivered for B, #3 is not
      api.post("/v1/messages/" + ids.get(1) + "/delivered", b.accessToken(), null).expect(202);
      Await.until(
          "delivered up to #2",
          WAIT,
          () -> "delivered".equals(statusFor(message(a, ids.get(0)), b)));
      List<JsonObject> h = history(a, conv);
      assertThat(h)
          .extracting(m -> statusFor(m, b))
          .containsExactly("delivered", "delivered", "sent");
      assertThat(h).extracting(m -> m.getString("status")).containsOnly("sent"); // C has nothing

      // B reads #3: everything is read for B; C received up to #3: the messages are delivered
      api.post("/v1/messages/" + ids.get(2) + "/read", b.accessToken(), null).expect(202);
      api.post("/v1/messages/" + ids.get(2) + "/delivered", c.accessToken(), null).expect(202);
      Await.until(
          "read by B and delivered to C",
          WAIT,
          () ->
              history(a, conv).stream()
                  .allMatch(
                      m -> "read".equals(statusFor(m, b)) && "delivered".equals(statusFor(m, c))));
      h = history(a, conv);
      assertThat(h).extracting(m -> m.getString("status")).containsOnly("delivered");
      assertThat(conversation(b, conv).getLong("unread_count")).isZero();
      String readAt =
          h.get(0).getJsonObject("recipient_status").getJsonObject(b.id()).getString("at");
      assertThat(readAt)
          .isEqualTo(
              h.get(2).getJsonObject("recipient_status").getJsonObject(b.id()).getString("at"));

      // the author saw it live: B's read receipt and C's delivered receipt for each message
      Await.until("live read receipts", WAIT, () -> receipts(live, b, "read").size() == 3);
      Await.until(
          "live delivered receipts", WAIT, () -> receipts(live, c, "delivered").size() == 3);
      assertThat(receipts(live, c, "delivered"))
          .allSatisfy(e -> assertThat(e.getString("message_status")).isEqualTo("delivered"));

      // a mark behind the horizon changes nothing; a later read does not move the earlier times
      int before = live.size();
      api.post("/v1/messages/" + ids.get(0) + "/read", b.accessToken(), null).expect(202);
      String later = send(a, conv, "m4");
      awaitHistory(b, conv, 4);
      api.post("/v1/messages/" + later + "/read", b.accessToken(), null).expect(202);
      Await.until("#4 read", WAIT, () -> "read".equals(statusFor(message(a, later), b)));
      assertThat(
              message(a, ids.get(0))
                  .getJsonObject("recipient_status")
                  .getJsonObject(b.id())
                  .getString("at"))
          .isEqualTo(readAt);
      // the receipt's live event comes after its stored status: wait for it, then nothing else
      Await.until(
          "#4's live read receipt",
          WAIT,
          () ->
              live.subList(before, live.size()).stream()
                  .anyMatch(
                      e ->
                          "status".equals(e.getString("type"))
                              && later.equals(e.getString("message_id"))));
      assertThat(
              live.subList(before, live.size()).stream()
                  .filter(e -> "status".equals(e.getString("type")))
                  .map(e -> e.getString("message_id")))
          .containsOnly(later);
      // A's change feed has the receipts, and the messages it returns carry the derived statuses
      JsonObject page = api.get("/v1/sync?cursor=" + FEED_START, a.accessToken()).json();
      assertThat(receipts(page.getJsonArray("items").getList(), b, "read")).hasSize(4);
      JsonObject first =
          page.getJsonArray("items").stream()
              .map(o -> (JsonObject) o)
              .filter(e -> "message".equals(e.getString("type")))
              .findFirst()
              .orElseThrow()
              .getJsonObject("message");
      assertThat(first.getString("message_id")).isEqualTo(ids.get(0));
      assertThat(statusFor(first, b)).isEqualTo("read");
      assertThat(first.getString("status")).isEqualTo("delivered");
    } finally {
      consumer.unregister();
    }
  }

  /** base64url of stream id "0-0": the change feed from its start. */
  static final String FEED_START = "MC0w";

  /** The status events of {@code reader} with {@code status}, one per message. */
  static List<JsonObject> receipts(List<?> events, Api.User reader, String status) {
    java.util.Map<String, JsonObject> byMessage = new java.util.LinkedHashMap<>();
    for (Object o : events) {
      JsonObject e =
          o instanceof JsonObject j ? j : new JsonObject((java.util.Map<String, Object>) o);
      if ("status".equals(e.getString("type"))
          && status.equals(e.getString("status"))
          && reader.id().equals(e.getString("user_id"))) {
        byMessage.putIfAbsent(e.getString("message_id"), e);
      }
    }
    return new ArrayList<>(byMessage.values());
  }

  @Test
  void retentionPrunesOldHorizonStepsButKeepsEachHorizon() {
    Api.User a = api.newUser("pr");
    Api.User b = api.newUser("pr");
    String conv = api.privateChat(a, b);
    var pg = api.node().clients().pg();
    java.time.OffsetDateTime old = java.time.OffsetDateTime.now().minusDays(400);
    for (long upto = 1; upto <= 3; upto++) {
      Await.result(
          pg.preparedQuery(
                  "INSERT INTO horizon_steps (conversation_id, user_id, status, upto_seq, at)"
                      + " VALUES ($1, $2, 'read', $3, $4)")
              .execute(
                  io.vertx.sqlclient.Tuple.of(
                      UUID.fromString(conv),
                      UUID.fromString(b.id()),
                      upto,
                      upto == 3 ? java.time.OffsetDateTime.now() : old)));
    }
    io.chat4all.messaging.RetentionJob job =
        new io.chat4all.messaging.RetentionJob(
            new io.chat4all.messaging.MessageStore(api.node().clients().mongo()),
            new io.chat4all.messaging.ReadHorizons(pg),
            365,
            3_600_000L);
    Await.result(api.node().vertx().deployVerticle(job));
    Await.result(job.runOnce());
    List<Long> left = new ArrayList<>();
    Await.result(
            pg.preparedQuery(
                    "SELECT upto_seq FROM horizon_steps WHERE conversation_id = $1 ORDER BY upto_seq")
                .execute(io.vertx.sqlclient.Tuple.of(UUID.fromString(conv))))
        .forEach(r -> left.add(r.getLong(0)));
    assertThat(left).containsExactly(3L);
  }

  // --- replies ---

  @Test
  void aReplyMustNameAMessageOfTheSameConversationTheSenderCanSee() {
    Api.User a = api.newUser("rp");
    Api.User b = api.newUser("rp");
    Api.User late = api.newUser("rp");
    String conv = group(a, b);
    String other = api.privateChat(a, api.newUser("rp"));
    String early = send(a, conv, "before the late member joined");
    String elsewhere = send(a, other, "in another conversation");
    awaitHistory(a, conv, 1);
    awaitHistory(a, other, 1);
    api.post(
            "/v1/conversations/" + conv + "/members",
            a.accessToken(),
            new JsonObject().put("member_ids", new JsonArray().add(late.id())))
        .expect(200);

    for (String target : List.of(UUID.randomUUID().toString(), elsewhere)) {
      Api.Res r =
          api.post(
                  "/v1/messages",
                  a.accessToken(),
                  Api.textMessage(conv, UUID.randomUUID().toString(), "re")
                      .put("reply_to_message_id", target))
              .expectError(404, "not_found");
      assertThat(r.json().getJsonObject("error").getJsonObject("details").getString("field"))
          .isEqualTo("reply_to_message_id");
    }
    // the late member cannot see the early message, so cannot reply to it
    api.post(
            "/v1/messages",
            late.accessToken(),
            Api.textMessage(conv, UUID.randomUUID().toString(), "re")
                .put("reply_to_message_id", early))
        .expectError(404, "not_found");

    String reply = UUID.randomUUID().toString();
    api.post(
            "/v1/messages",
            b.accessToken(),
            Api.textMessage(conv, reply, "re: early").put("reply_to_message_id", early))
        .expect(202);
    List<JsonObject> h = awaitHistory(a, conv, 2);
    assertThat(h).hasSize(2);
    assertThat(h.get(1).getString("reply_to_message_id")).isEqualTo(early);
  }
}
