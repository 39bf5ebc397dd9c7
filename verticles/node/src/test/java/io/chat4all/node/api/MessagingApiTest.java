package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Topics;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The message path end to end: send → Kafka → pipeline → MongoDB/PostgreSQL → history, status,
 * sync.
 */
@ExtendWith(BackendsExtension.class)
class MessagingApiTest {
  static Api api;
  static TestBackends.Isolation iso;
  static Admin admin;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api = Api.start(iso);
    Properties p = new Properties();
    p.put("bootstrap.servers", iso.endpoints().kafkaBootstrapServers());
    admin = Admin.create(p);
  }

  @AfterAll
  static void stop() {
    admin.close();
    api.close();
  }

  static String privateChat(Api.User a, Api.User b) {
    return api.privateChat(a, b);
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

  static JsonObject text(String conv, String id, String text) {
    return Api.textMessage(conv, id, text);
  }

  static List<JsonObject> history(Api.User u, String conv) {
    List<JsonObject> all = new ArrayList<>();
    String path = "/v1/conversations/" + conv + "/messages?after_seq=0&limit=200";
    while (path != null) {
      JsonObject page = api.get(path, u.accessToken()).expect(200).json();
      page.getJsonArray("items").forEach(o -> all.add((JsonObject) o));
      String next = page.getString("next_cursor");
      path =
          next == null ? null : "/v1/conversations/" + conv + "/messages?limit=200&cursor=" + next;
    }
    return all;
  }

  static List<JsonObject> awaitHistory(Api.User u, String conv, int count) {
    Await.until(
        "history of " + count, Duration.ofSeconds(60), () -> history(u, conv).size() >= count);
    return history(u, conv);
  }

  static long sentRecords() {
    String topic = Topics.name(iso.topicPrefix(), Topics.MESSAGE_SENT);
    try {
      int partitions =
          admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
      Map<TopicPartition, OffsetSpec> req = new HashMap<>();
      for (int i = 0; i < partitions; i++) {
        req.put(new TopicPartition(topic, i), OffsetSpec.latest());
      }
      return admin.listOffsets(req).all().get().values().stream().mapToLong(r -> r.offset()).sum();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void sendIsAcceptedDurablyThenNumberedStoredAndReadable() {
    Api.User a = api.newUser("send");
    Api.User b = api.newUser("recv");
    String conv = privateChat(a, b);
    String id = UUID.randomUUID().toString();
    JsonObject accepted =
        api.post("/v1/messages", a.accessToken(), text(conv, id, "olá 👋")).expect(202).json();
    assertThat(accepted.getString("status")).isEqualTo("sent");
    assertThat(accepted.getString("message_id")).isEqualTo(id);
    assertThat(accepted.getString("from_user_id")).isEqualTo(a.id());

    JsonObject stored = awaitHistory(b, conv, 1).get(0);
    assertThat(stored.getLong("sequence_number")).isEqualTo(1L);
    assertThat(stored.getJsonObject("payload").getString("text")).isEqualTo("olá 👋");
    assertThat(stored.fieldNames())
        .contains(
            "message_id",
            "conversation_id",
            "from_user_id",
            "sequence_number",
            "payload",
            "status",
            "status_history",
            "recipient_status",
            "created_at",
            "updated_at",
            "is_edited",
            "is_deleted",
            "reply_to_message_id")
        .doesNotContain("_id", "ttl_expire_at");
    assertThat(
            api.get("/v1/messages/" + id, b.accessToken())
                .expect(200)
                .json()
                .getLong("sequence_number"))
        .isEqualTo(1L);

    // the conversation list shows it: last message and B's unread count
    JsonObject listed =
        api
            .get("/v1/conversations", b.accessToken())
            .expect(200)
            .json()
            .getJsonArray("items")
            .stream()
            .map(o -> (JsonObject) o)
            .filter(c -> c.getString("conversation_id").equals(conv))
            .findFirst()
            .orElseThrow();
    assertThat(listed.getString("last_message_snippet")).isEqualTo("olá 👋");
    assertThat(listed.getLong("unread_count")).isEqualTo(1L);
    // the sender's own message is not unread for the sender
    assertThat(
            api.get("/v1/conversations/" + conv, a.accessToken())
                .expect(200)
                .json()
                .getLong("unread_count"))
        .isZero();
  }

  @Test
  void duplicateMessageIdsGiveOneMessage() throws Exception {
    Api.User a = api.newUser("dup");
    Api.User b = api.newUser("dup");
    String conv = privateChat(a, b);
    String id = UUID.randomUUID().toString();
    JsonObject first =
        api.post("/v1/messages", a.accessToken(), text(conv, id, "once")).expect(202).json();
    JsonObject again =
        api.post("/v1/messages", a.accessToken(), text(conv, id, "once")).expect(202).json();
    assertThat(again).isEqualTo(first);

    String concurrentId = UUID.randomUUID().toString();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Api.Res>> results = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        results.add(
            pool.submit(
                () ->
                    api.post("/v1/messages", a.accessToken(), text(conv, concurrentId, "racing"))));
      }
      Set<String> bodies = new HashSet<>();
      for (Future<Api.Res> f : results) {
        bodies.add(f.get().expect(202).json().encode());
      }
      assertThat(bodies).hasSize(1);
    } finally {
      pool.shutdown();
    }
    List<JsonObject> h = awaitHistory(b, conv, 2);
    Thread.onSpinWait();
    assertThat(h.stream().map(m -> m.getString("message_id"))).containsExactly(id, concurrentId);

    // the same key with another body, or another user's key: conflict, nothing produced
    long before = sentRecords();
    api.post("/v1/messages", a.accessToken(), text(conv, id, "changed"))
        .expectError(409, "idempotency_conflict");
    api.post("/v1/messages", b.accessToken(), text(conv, id, "once"))
        .expectError(409, "idempotency_conflict");
    assertThat(sentRecords()).isEqualTo(before);
  }

  @Test
  void concurrentSendersGetOneGaplessOrderEverywhere() throws Exception {
    Api.User[] users = {api.newUser("c1"), api.newUser("c2"), api.newUser("c3"), api.newUser("c4")};
    String conv = group(users[0], users[1], users[2], users[3]);
    int senders = 4;
    int each = 25;
    ExecutorService pool = Executors.newFixedThreadPool(senders);
    try {
      List<Future<?>> running = new ArrayList<>();
      for (int s = 0; s < senders; s++) {
        Api.User u = users[s];
        running.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < each; i++) {
                    api.post(
                            "/v1/messages",
                            u.accessToken(),
                            text(conv, UUID.randomUUID().toString(), u.username() + "#" + i))
                        .expect(202);
                  }
                }));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    int total = senders * each;
    List<String> reference = null;
    for (Api.User u : users) {
      List<JsonObject> h = awaitHistory(u, conv, total);
      assertThat(h).hasSize(total);
      List<Long> seqs =
          h.stream().map(m -> m.getLong("sequence_number")).collect(Collectors.toList());
      List<Long> expected = new ArrayList<>();
      for (long i = 1; i <= total; i++) {
        expected.add(i);
      }
      assertThat(seqs).isEqualTo(expected);
      List<String> order =
          h.stream().map(m -> m.getString("message_id")).collect(Collectors.toList());
      if (reference == null) {
        reference = order;
      } else {
        assertThat(order).isEqualTo(reference);
      }
      // each sender's own messages keep their sending order
      for (Api.User sender : users) {
        List<String> texts =
            h.stream()
                .filter(m -> m.getString("from_user_id").equals(sender.id()))
                .map(m -> m.getJsonObject("payload").getString("text"))
                .collect(Collectors.toList());
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < each; i++) {
          sent.add(sender.username() + "#" + i);
        }
        assertThat(texts).isEqualTo(sent);
      }
    }
  }

  @Test
  void badSendsAreRejectedAndProduceNothing() {
    Api.User a = api.newUser("bad");
    Api.User b = api.newUser("bad");
    Api.User stranger = api.newUser("stranger");
    String conv = privateChat(a, b);
    long before = sentRecords();
    String id = UUID.randomUUID().toString();
    api.call("POST", "/v1/messages", a.accessToken(), "{not json")
        .expectError(400, "malformed_json");
    api.post("/v1/messages", a.accessToken(), new JsonObject().put("conversation_id", conv))
        .expectError(400, "validation_failed");
    api.post("/v1/messages", a.accessToken(), text(conv, "not-a-uuid", "x"))
        .expectError(400, "validation_failed");
    api.post("/v1/messages", a.accessToken(), text(conv, id, ""))
        .expectError(400, "validation_failed");
    api.post("/v1/messages", a.accessToken(), text(conv, id, "x".repeat(4001)))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/messages",
            a.accessToken(),
            text(conv, id, "x").put("payload", new JsonObject().put("type", "sticker")))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/messages",
            a.accessToken(),
            text(conv, id, "x").put("payload", new JsonObject().put("type", "image")))
        .expectError(400, "validation_failed");
    api.post(
            "/v1/messages",
            a.accessToken(),
            text(conv, id, "x").put("channels", new JsonArray().add("fax")))
        .expectError(400, "validation_failed");
    api.post("/v1/messages", a.accessToken(), text(conv, id, "x").put("priority", 1))
        .expectError(400, "validation_failed");
    JsonObject bigMeta = text(conv, id, "x");
    bigMeta.getJsonObject("payload").put("metadata", new JsonObject().put("k", "v".repeat(5000)));
    api.post("/v1/messages", a.accessToken(), bigMeta).expectError(400, "validation_failed");
    api.post("/v1/messages", stranger.accessToken(), text(conv, id, "intruder"))
        .expectError(404, "not_found");
    api.post("/v1/messages", a.accessToken(), text(UUID.randomUUID().toString(), id, "nowhere"))
        .expectError(404, "not_found");
    api.post("/v1/messages", null, text(conv, id, "anon")).expectError(401, "unauthenticated");
    assertThat(sentRecords()).isEqualTo(before);
    // the rejected id is still free and the node still serves
    api.post("/v1/messages", a.accessToken(), text(conv, id, "fine")).expect(202);
  }

  @Test
  void deliveredAndReadMoveForwardAndReachTheSenderLive() {
    Api.User a = api.newUser("st");
    Api.User b = api.newUser("st");
    String conv = privateChat(a, b);
    List<JsonObject> live = new CopyOnWriteArrayList<>();
    MessageConsumer<JsonObject> consumer =
        api.node().vertx().eventBus().consumer(Addresses.user(a.id()), m -> live.add(m.body()));
    Await.result(consumer.completion());
    try {
      String id = UUID.randomUUID().toString();
      api.post("/v1/messages", a.accessToken(), text(conv, id, "status?")).expect(202);
      awaitHistory(b, conv, 1);
      api.post("/v1/messages/" + id + "/delivered", a.accessToken(), null)
          .expectError(409, "conflict");
      api.post("/v1/messages/" + id + "/delivered", b.accessToken(), null).expect(202);
      Await.until(
          "delivered",
          Duration.ofSeconds(30),
          () ->
              "delivered"
                  .equals(
                      api.get("/v1/messages/" + id, a.accessToken()).json().getString("status")));
      api.post("/v1/messages/" + id + "/read", b.accessToken(), null).expect(202);
      Await.until(
          "read",
          Duration.ofSeconds(30),
          () ->
              "read"
                  .equals(
                      api.get("/v1/messages/" + id, a.accessToken()).json().getString("status")));
      // a late "delivered" does not move it back
      api.post("/v1/messages/" + id + "/delivered", b.accessToken(), null).expect(202);
      JsonObject m = api.get("/v1/messages/" + id, a.accessToken()).json();
      Await.until(
          "status events for the sender",
          Duration.ofSeconds(30),
          () -> live.stream().filter(e -> "status".equals(e.getString("type"))).count() >= 2);
      m = api.get("/v1/messages/" + id, a.accessToken()).json();
      assertThat(m.getString("status")).isEqualTo("read");
      assertThat(m.getJsonObject("recipient_status").getJsonObject(b.id()).getString("status"))
          .isEqualTo("read");
      assertThat(
              m.getJsonArray("status_history").stream()
                  .map(o -> ((JsonObject) o).getString("status")))
          .containsSubsequence("sent", "delivered", "read");
      assertThat(live.stream().filter(e -> "message".equals(e.getString("type")))).hasSize(1);
      assertThat(live.get(0).getString("cursor")).isNotBlank();
      // B's read horizon: nothing unread
      JsonObject listed = api.get("/v1/conversations/" + conv, b.accessToken()).expect(200).json();
      assertThat(listed.getLong("unread_count")).isEqualTo(0L);
      api.post("/v1/messages/" + UUID.randomUUID() + "/read", b.accessToken(), null)
          .expectError(404, "not_found");
      api.post("/v1/messages/" + id + "/read", api.newUser("x").accessToken(), null)
          .expectError(404, "not_found");
    } finally {
      consumer.unregister();
    }
  }

  @Test
  void editAndDeleteByTheAuthorOnly() {
    Api.User a = api.newUser("ed");
    Api.User b = api.newUser("ed");
    String conv = privateChat(a, b);
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), text(conv, id, "typo")).expect(202);
    awaitHistory(b, conv, 1);
    api.call("PATCH", "/v1/messages/" + id, b.accessToken(), "{\"text\":\"hijack\"}")
        .expectError(403, "forbidden");
    JsonObject edited =
        api.call("PATCH", "/v1/messages/" + id, a.accessToken(), "{\"text\":\"fixed\"}")
            .expect(202)
            .json();
    assertThat(edited.getBoolean("is_edited")).isTrue();
    Await.until(
        "edit applied",
        Duration.ofSeconds(30),
        () -> "fixed".equals(history(b, conv).get(0).getJsonObject("payload").getString("text")));
    api.delete("/v1/messages/" + id, b.accessToken()).expectError(403, "forbidden");
    api.delete("/v1/messages/" + id, a.accessToken()).expect(202);
    Await.until(
        "delete applied",
        Duration.ofSeconds(30),
        () -> history(b, conv).get(0).getBoolean("is_deleted"));
    JsonObject tomb = history(b, conv).get(0);
    assertThat(tomb.getJsonObject("payload").containsKey("text")).isFalse();
    assertThat(tomb.getLong("sequence_number")).isEqualTo(1L);
    assertThat(tomb.getString("message_id")).isEqualTo(id);
    api.call("PATCH", "/v1/messages/" + id, a.accessToken(), "{\"text\":\"again\"}")
        .expectError(409, "conflict");
  }

  @Test
  void syncFeedReturnsWhatWasMissedInOrder() {
    Api.User a = api.newUser("sy");
    Api.User b = api.newUser("sy");
    String conv = privateChat(a, b);
    JsonObject start = api.get("/v1/sync", b.accessToken()).expect(200).json();
    assertThat(start.getJsonArray("items")).isEmpty();
    String cursor = start.getString("next_cursor");
    for (int i = 0; i < 3; i++) {
      api.post("/v1/messages", a.accessToken(), text(conv, UUID.randomUUID().toString(), "m" + i))
          .expect(202);
    }
    awaitHistory(b, conv, 3);
    JsonObject page = api.get("/v1/sync?cursor=" + cursor, b.accessToken()).expect(200).json();
    assertThat(page.getBoolean("resync_required")).isFalse();
    List<String> texts = new ArrayList<>();
    page.getJsonArray("items")
        .forEach(
            o ->
                texts.add(
                    ((JsonObject) o)
                        .getJsonObject("message")
                        .getJsonObject("payload")
                        .getString("text")));
    assertThat(texts).containsExactly("m0", "m1", "m2");
    JsonObject empty =
        api.get("/v1/sync?cursor=" + page.getString("next_cursor"), b.accessToken())
            .expect(200)
            .json();
    assertThat(empty.getJsonArray("items")).isEmpty();
    api.get("/v1/sync?cursor=garbage!", b.accessToken()).expectError(400, "validation_failed");
    api.get("/v1/conversations/" + conv + "/messages?cursor=zzz", b.accessToken())
        .expectError(400, "validation_failed");
    api.get("/v1/conversations/" + conv + "/messages?limit=500", b.accessToken())
        .expectError(400, "validation_failed");
    api.get("/v1/conversations/" + conv + "/messages?before_seq=-1", b.accessToken())
        .expectError(400, "validation_failed");
  }

  /**
   * A membership change holds on the node that answered it from its answer on, however late the
   * change event reaches that node's own copy of the members (held back here by one second).
   */
  @Test
  void aMembershipChangeHoldsOnItsNodeFromItsAnswerOnThoughTheEventIsLate() {
    io.vertx.core.Vertx vertx = api.node().vertx();
    io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> late =
        dc -> {
          if (Addresses.MEMBERS_CHANGED.equals(dc.message().address())) {
            vertx.setTimer(1000, t -> dc.next());
          } else {
            dc.next();
          }
        };
    vertx.eventBus().addInboundInterceptor(late);
    try {
      Api.User a = api.newUser("lt");
      Api.User b = api.newUser("lt");
      String conv = group(a, b);
      String history = "/v1/conversations/" + conv + "/messages";
      api.get(history, b.accessToken()).expect(200); // the node now holds a copy with b
      api.delete("/v1/conversations/" + conv + "/members/" + b.id(), a.accessToken()).expect(204);
      api.get(history, b.accessToken()).expectError(404, "not_found");
      api.post("/v1/messages", b.accessToken(), text(conv, UUID.randomUUID().toString(), "hi"))
          .expectError(404, "not_found");
      api.post(
              "/v1/conversations/" + conv + "/members",
              a.accessToken(),
              new JsonObject().put("member_ids", new JsonArray().add(b.id())))
          .expect(200);
      api.get(history, b.accessToken()).expect(200);
    } finally {
      vertx.eventBus().removeInboundInterceptor(late);
    }
  }

  @Test
  void newMembersSeeHistoryFromTheirJoinAndRemovedMembersLoseIt() {
    Api.User a = api.newUser("jn");
    Api.User b = api.newUser("jn");
    Api.User c = api.newUser("late");
    String conv = group(a, b);
    String early = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), text(conv, early, "before C")).expect(202);
    awaitHistory(b, conv, 1);
    api.post(
            "/v1/conversations/" + conv + "/members",
            a.accessToken(),
            new JsonObject().put("member_ids", new JsonArray().add(c.id())))
        .expect(200);
    api.post("/v1/messages", a.accessToken(), text(conv, UUID.randomUUID().toString(), "after C"))
        .expect(202);
    awaitHistory(b, conv, 2);
    List<JsonObject> seenByC = awaitHistory(c, conv, 1);
    assertThat(seenByC).hasSize(1);
    assertThat(seenByC.get(0).getJsonObject("payload").getString("text")).isEqualTo("after C");
    assertThat(seenByC.get(0).getLong("sequence_number")).isEqualTo(2L);
    api.get("/v1/messages/" + early, c.accessToken()).expectError(404, "not_found");

    api.delete("/v1/conversations/" + conv + "/members/" + b.id(), a.accessToken()).expect(204);
    api.get("/v1/conversations/" + conv + "/messages", b.accessToken())
        .expectError(404, "not_found");
    // each change holds from its answer on: the node's own copy of the members is not waited for
    for (int i = 0; i < 10; i++) {
      api.post(
              "/v1/conversations/" + conv + "/members",
              a.accessToken(),
              new JsonObject().put("member_ids", new JsonArray().add(b.id())))
          .expect(200);
      api.get("/v1/conversations/" + conv + "/messages", b.accessToken()).expect(200);
      api.delete("/v1/conversations/" + conv + "/members/" + b.id(), a.accessToken()).expect(204);
      api.get("/v1/conversations/" + conv + "/messages", b.accessToken())
          .expectError(404, "not_found");
    }
    api.post(
            "/v1/messages",
            b.accessToken(),
            text(conv, UUID.randomUUID().toString(), "still here?"))
        .expectError(404, "not_found");
  }
}
