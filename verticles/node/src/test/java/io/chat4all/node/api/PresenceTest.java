package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Presence: sockets and heartbeats mark users online, peers see it live and via REST. */
@ExtendWith(BackendsExtension.class)
class PresenceTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static Api api;
  static TestBackends.Isolation iso;
  static Vertx client;
  static WebSocketClient wsClient;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    api = Api.start(iso);
    client = Vertx.vertx();
    wsClient = client.createWebSocketClient();
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  /** An authenticated test socket recording every frame. */
  static final class Sock extends WsTestSocket {
    Sock(Api.User u) {
      super(wsClient, api.node().httpPort(), "/v1/ws", WAIT);
      authenticate(u.accessToken(), null);
    }
  }

  static void privateChat(Api.User a, Api.User b) {
    api.post(
            "/v1/conversations",
            a.accessToken(),
            new JsonObject().put("type", "private").put("member_ids", new JsonArray().add(b.id())))
        .expect(201);
  }

  static JsonObject presence(Api.User caller, String... ids) {
    return api.get("/v1/presence?user_ids=" + String.join(",", ids), caller.accessToken())
        .expect(200)
        .json();
  }

  static JsonObject item(JsonObject answer, String userId) {
    return answer.getJsonArray("items").stream()
        .map(JsonObject.class::cast)
        .filter(i -> userId.equals(i.getString("user_id")))
        .findFirst()
        .orElse(null);
  }

  static Predicate<JsonObject> presenceOf(String userId, String status) {
    return f ->
        "presence".equals(f.getString("type"))
            && userId.equals(f.getString("user_id"))
            && status.equals(f.getString("status"));
  }

  /** Every record of {@code user.presence} from the beginning, decoded. */
  static KafkaConsumer<String, String> presenceRecords(List<JsonObject> into) {
    KafkaConsumer<String, String> consumer =
        KafkaConsumer.create(
            client,
            Map.of(
                "bootstrap.servers",
                iso.endpoints().kafkaBootstrapServers(),
                "group.id",
                "test-" + UUID.randomUUID(),
                "auto.offset.reset",
                "earliest",
                "key.deserializer",
                "org.apache.kafka.common.serialization.StringDeserializer",
                "value.deserializer",
                "org.apache.kafka.common.serialization.StringDeserializer"));
    consumer.handler(r -> into.add(new JsonObject(r.value()).put("_key", r.key())));
    Await.result(consumer.subscribe(Topics.name(iso.topicPrefix(), Topics.USER_PRESENCE)));
    return consumer;
  }

  @Test
  void aSocketMakesItsUserOnlineForPeersLiveAndViaRest() {
    Api.User a = api.newUser("pa");
    Api.User b = api.newUser("pb");
    Api.User stranger = api.newUser("px");
    privateChat(a, b);

    JsonObject before = presence(a, b.id());
    assertThat(item(before, b.id()).getString("status")).isEqualTo("offline");

    Sock sa = new Sock(a);
    Sock sb = new Sock(b);
    JsonObject online = sa.await("B online", presenceOf(b.id(), "online"));
    assertThat(online.getString("last_seen")).isNotBlank();
    // B sees A, who came online first, through REST
    Await.until(
        "A online via REST",
        WAIT,
        () -> "online".equals(item(presence(b, a.id()), a.id()).getString("status")));

    JsonObject answer = presence(a, b.id(), stranger.id());
    assertThat(answer.getJsonArray("items")).hasSize(1);
    assertThat(answer.containsKey("next_cursor")).isTrue();
    assertThat(answer.getValue("next_cursor")).isNull();
    assertThat(item(answer, b.id()).getString("status")).isEqualTo("online");
    assertThat(item(answer, stranger.id())).isNull();

    // a second socket of B: closing one keeps B online
    Sock sb2 = new Sock(b);
    sb2.close();
    assertThat(item(presence(a, b.id()), b.id()).getString("status")).isEqualTo("online");

    sb.close();
    JsonObject offline = sa.await("B offline", presenceOf(b.id(), "offline"));
    assertThat(offline.getString("last_seen")).isNotBlank();
    JsonObject after = item(presence(a, b.id()), b.id());
    assertThat(after.getString("status")).isEqualTo("offline");
    assertThat(after.getString("last_seen")).isNotBlank();
    assertThat(
            sa.frames.stream().filter(presenceOf(b.id(), "offline")).collect(Collectors.toList()))
        .hasSize(1);
    sa.close();

    List<JsonObject> records = new CopyOnWriteArrayList<>();
    KafkaConsumer<String, String> consumer = presenceRecords(records);
    Predicate<JsonObject> bOffline =
        r -> b.id().equals(r.getString("_key")) && "offline".equals(r.getString("status"));
    Await.until("user.presence records of B", WAIT, () -> records.stream().anyMatch(bOffline));
    JsonObject record = records.stream().filter(bOffline).findFirst().orElseThrow();
    assertThat(record.getString("user_id")).isEqualTo(b.id());
    assertThat(record.getString("last_seen")).isNotBlank();
    assertThat(record.getString("at")).isNotBlank();
    assertThat(records)
        .anyMatch(
            r -> b.id().equals(r.getString("_key")) && "online".equals(r.getString("status")));
    Await.result(consumer.close());
  }

  /**
   * A node that stops closes its sockets, and their users are offline once {@code Node.close}
   * returns, not only after the presence sweep. Redis is paused for the stop, so the unmarks of the
   * closed sockets are still running when the node's other services are down: the node must wait
   * for them before it closes its Redis client, or the user stays online until the sweep. The
   * sockets are told at once that the node is going away.
   */
  @Test
  void theUsersOfAStoppingNodesSocketsAreOfflineWhenItHasStopped() {
    Api.User watcher = api.newUser("pw");
    List<Api.User> users = IntStream.range(0, 4).mapToObj(i -> api.newUser("ps" + i)).toList();
    users.forEach(u -> privateChat(watcher, u));
    String[] ids = users.stream().map(Api.User::id).toArray(String[]::new);
    Api other = Api.start(iso);
    List<WsTestSocket> sockets = new ArrayList<>();
    Redis redis = Redis.createClient(client, iso.endpoints().redisConnectionString());
    try {
      for (Api.User u : users) {
        for (int i = 0; i < 10; i++) { // the client opens at most 50 WebSockets to a host
          WsTestSocket s = new WsTestSocket(wsClient, other.node().httpPort(), "/v1/ws", WAIT);
          sockets.add(s);
          s.authenticate(u.accessToken(), null);
        }
      }
      Await.until(
          "every user online",
          WAIT,
          () ->
              presence(watcher, ids).getJsonArray("items").stream()
                  .map(JsonObject.class::cast)
                  .allMatch(i -> "online".equals(i.getString("status"))));

      Await.result(redis.send(Request.cmd(Command.CLIENT).arg("PAUSE").arg(3000).arg("ALL")));
      other.close();
      other = null;

      JsonObject after = presence(watcher, ids);
      assertThat(after.getJsonArray("items").stream().map(JsonObject.class::cast))
          .hasSize(users.size())
          .allSatisfy(i -> assertThat(i.getString("status")).isEqualTo("offline"));
      // the stopping node told each client it is going away (1001), rather than holding the
      // sockets for its shutdown grace
      assertThat(sockets).allSatisfy(s -> assertThat(s.awaitClose()).isEqualTo((short) 1001));
    } finally {
      if (other != null) {
        other.close();
      }
      sockets.forEach(WsTestSocket::close);
      redis.close();
    }
  }

  @Test
  void theHeartbeatEndpointMakesTheUserOnline() {
    Api.User c = api.newUser("pc");
    Api.User d = api.newUser("pd");
    privateChat(c, d);
    assertThat(item(presence(c, d.id()), d.id()).getString("status")).isEqualTo("offline");
    api.post("/v1/presence/heartbeat", d.accessToken(), null).expect(204);
    JsonObject seen = item(presence(c, d.id()), d.id());
    assertThat(seen.getString("status")).isEqualTo("online");
    assertThat(seen.getString("last_seen")).isNotBlank();
    api.post("/v1/presence/heartbeat", null, null).expectError(401, "unauthenticated");
  }

  @Test
  void malformedIdsAreRefused() {
    Api.User e = api.newUser("pe");
    api.get("/v1/presence?user_ids=not-a-uuid", e.accessToken())
        .expectError(400, "validation_failed");
    api.get("/v1/presence?user_ids=" + e.id() + ",,", e.accessToken())
        .expectError(400, "validation_failed");
    api.get("/v1/presence", e.accessToken()).expectError(400, "validation_failed");
    String tooMany =
        IntStream.range(0, 101)
            .mapToObj(i -> UUID.randomUUID().toString())
            .collect(Collectors.joining(","));
    api.get("/v1/presence?user_ids=" + tooMany, e.accessToken())
        .expectError(400, "validation_failed");
    assertThat(presence(e, e.id()).getJsonArray("items")).isEmpty();
  }
}
