package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Envelopes;
import io.chat4all.messaging.FeedStore;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A socket's cursor is a safe place to resume from, whatever order the live envelopes arrive in. In
 * a cluster each partition owner appends to a user's change feed and then publishes the envelope on
 * its own; the publishes of two owners reach a socket in any order, and the publish of an owner
 * that dies right after its append never arrives. These tests make both happen on purpose: they
 * append entries to a user's feed in Redis (as the pipeline does) and publish only some of them,
 * out of feed order, then check that the socket gets every entry in feed order (so its last cursor
 * never skips one) and that a reconnect from that cursor misses nothing.
 */
@ExtendWith(BackendsExtension.class)
class LiveFeedResumeTest {
  static final Duration WAIT = Duration.ofSeconds(30);

  static Api api;
  static Vertx client;
  static WebSocketClient wsClient;
  static FeedStore feed;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    // a short check period: an entry whose publish never came is found by the next check
    api =
        Api.start(
            iso, new JsonObject().put("realtime", new JsonObject().put("feed_check_ms", 500)));
    client = Vertx.vertx();
    wsClient = client.createWebSocketClient();
    feed =
        new FeedStore(
            api.node().clients().redis(), api.node().config().redis().keyPrefix(), 100_000);
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  static WsTestSocket socket(Api.User u, String cursor) {
    WsTestSocket s = new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", WAIT);
    s.authenticate(u.accessToken(), cursor);
    return s;
  }

  /** {@code n} messages from {@code a} to {@code b}, stored, as {@code b} reads them. */
  static List<JsonObject> stored(Api.User a, Api.User b, String conv, int n) {
    for (int i = 0; i < n; i++) {
      api.post(
              "/v1/messages",
              a.accessToken(),
              Api.textMessage(conv, UUID.randomUUID().toString(), "m" + i))
          .expect(202);
    }
    List<JsonObject> out = new ArrayList<>();
    Await.until(
        n + " stored",
        WAIT,
        () -> {
          JsonArray items =
              api.get("/v1/conversations/" + conv + "/messages?after_seq=0", b.accessToken())
                  .json()
                  .getJsonArray("items");
          out.clear();
          items.forEach(o -> out.add((JsonObject) o));
          return out.size() >= n;
        });
    return out;
  }

  /** Appends a message envelope per message to {@code user}'s feed; their cursors, in order. */
  static List<String> append(String user, List<JsonObject> messages) {
    // the pipeline appended these messages already, and a feed takes a message once: forget that,
    // so they are appended again as the other owner of the scenario appends them
    Await.result(
        api.node()
            .clients()
            .redis()
            .send(
                io.vertx.redis.client.Request.cmd(io.vertx.redis.client.Command.DEL)
                    .arg(api.node().config().redis().keyPrefix() + "feedseen:" + user)));
    return appendAsIs(user, messages);
  }

  /** Appends the messages as a pipeline does (a message the feed holds answers its kept entry). */
  static List<String> appendAsIs(String user, List<JsonObject> messages) {
    List<Map.Entry<String, JsonObject>> entries = new ArrayList<>();
    for (JsonObject m : messages) {
      entries.add(
          new AbstractMap.SimpleEntry<>(
              user, new JsonObject().put(Envelopes.TYPE, Envelopes.MESSAGE).put("message", m)));
    }
    return Await.result(feed.append(entries));
  }

  /** Two users' private chat and {@code n} messages from the first, stored. */
  record Chat(Api.User a, Api.User b, String conv, List<JsonObject> messages) {}

  static Chat chat(String label, int n) {
    Api.User a = api.newUser(label);
    Api.User b = api.newUser(label);
    String conv = api.privateChat(a, b);
    return new Chat(a, b, conv, stored(a, b, conv, n));
  }

  static void publish(String user, JsonObject message, String cursor) {
    api.node()
        .vertx()
        .eventBus()
        .publish(
            Addresses.user(user),
            new JsonObject()
                .put(Envelopes.TYPE, Envelopes.MESSAGE)
                .put("message", message)
                .put(Envelopes.CURSOR, cursor));
  }

  static String id(JsonObject frame) {
    return frame.getJsonObject("message").getString("message_id");
  }

  static List<String> ids(WsTestSocket s) {
    return s.messages().stream().map(LiveFeedResumeTest::id).toList();
  }

  /** The stream position of a cursor, for comparing. */
  static long[] position(String cursor) {
    String[] p = new String(Base64.getUrlDecoder().decode(cursor)).split("-");
    return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])};
  }

  static void ascending(List<JsonObject> frames) {
    long[] before = null;
    for (JsonObject f : frames) {
      String c = f.getString("cursor");
      if (c == null) {
        continue;
      }
      long[] at = position(c);
      assertThat(before == null || at[0] > before[0] || (at[0] == before[0] && at[1] > before[1]))
          .as("cursor %s after %s", c, before == null ? null : before[0] + "-" + before[1])
          .isTrue();
      before = at;
    }
  }

  @Test
  void aLiveEnvelopeOvertakingAnEarlierEntryDoesNotLetTheCursorSkipIt() {
    // two stored messages the socket has not had: its feed position is after them
    Chat chat = chat("ov", 2);
    Api.User b = chat.b();
    List<JsonObject> messages = chat.messages();
    WsTestSocket s = socket(b, null);
    WsTestSocket again = null;
    try {
      // two owners appended, in this order; only the second one's publish arrives (the first
      // owner's went to a node that died, or is still on its way)
      List<String> cursors = append(b.id(), messages);
      publish(b.id(), messages.get(1), cursors.get(1));
      s.await("the second message", f -> "message".equals(f.getString("type")));
      ascending(s.frames);
      // the socket's node dies now: the client resumes from the last cursor it got
      s.close();
      again = socket(b, s.lastCursor());
      WsTestSocket resumed = again;
      Await.until(
          "both messages reached the client",
          WAIT,
          () -> {
            List<String> got = new ArrayList<>(ids(s));
            got.addAll(ids(resumed));
            return got.containsAll(messages.stream().map(m -> m.getString("message_id")).toList());
          });
      // in feed order, each once: the first socket had both before the second one's cursor
      assertThat(ids(s))
          .containsExactly(messages.get(0).getString("message_id"), id(s.messages().get(1)));
      assertThat(ids(again)).isEmpty();
    } finally {
      if (again != null) {
        again.close();
      }
    }
  }

  @Test
  void aRepeatCarryingALaterEntrysCursorDoesNotStandInForThatEntry() {
    Chat chat = chat("rp", 2);
    Api.User b = chat.b();
    List<JsonObject> messages = chat.messages();
    try (WsTestSocket s = socket(b, null)) {
      // an owner appends and publishes the first message
      String first = append(b.id(), messages.subList(0, 1)).get(0);
      publish(b.id(), messages.get(0), first);
      s.await("the first message", f -> "message".equals(f.getString("type")));
      // it appends the second one and dies before publishing it; the next owner re-applies the
      // batch: the feed already holds both, so the repeat of the first is answered with the
      // entry of the conversation's highest number, the second message's, and published with it
      String second = append(b.id(), messages.subList(1, 2)).get(0);
      String repeat = appendAsIs(b.id(), messages.subList(0, 1)).get(0);
      assertThat(repeat).isEqualTo(second);
      publish(b.id(), messages.get(0), repeat);
      // the second message still reaches the socket, from the feed, after the first, each once
      s.await(
          "the second message",
          f ->
              "message".equals(f.getString("type"))
                  && messages.get(1).getString("message_id").equals(id(f)));
      assertThat(ids(s))
          .containsExactly(
              messages.get(0).getString("message_id"), messages.get(1).getString("message_id"));
      ascending(s.frames);
    }
  }

  @Test
  void anEntryWhosePublishNeverCameReachesTheConnectedSocket() {
    Chat chat = chat("np", 1);
    Api.User a = chat.a();
    Api.User b = chat.b();
    String conv = chat.conv();
    List<JsonObject> messages = chat.messages();
    try (WsTestSocket s = socket(b, null)) {
      // appended, never published: its owner died in between, or its publish went by a node
      // that had not yet heard of this socket's subscription
      append(b.id(), messages);
      JsonObject got = s.await("the unpublished entry", f -> "message".equals(f.getString("type")));
      assertThat(id(got)).isEqualTo(messages.get(0).getString("message_id"));
      // and the live path goes on, once and in order
      String live = UUID.randomUUID().toString();
      api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, live, "live")).expect(202);
      s.await("the live message", f -> "message".equals(f.getString("type")) && live.equals(id(f)));
      assertThat(ids(s)).containsExactly(messages.get(0).getString("message_id"), live);
      ascending(s.frames);
    }
  }

  @Test
  void aResumeWhileMessagesAreCommittedMissesNothingAndRepeatsNothing() {
    Api.User a = api.newUser("rc");
    Api.User b = api.newUser("rc");
    String conv = api.privateChat(a, b);
    List<JsonObject> first = stored(a, b, conv, 1);
    String cursor;
    try (WsTestSocket s = socket(b, null)) {
      cursor = s.frames.get(0).getString("cursor");
    }
    // the client was offline for these, and more are committed while it replays them
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String id = UUID.randomUUID().toString();
      sent.add(id);
      api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, id, "c" + i)).expect(202);
    }
    try (WsTestSocket s = socket(b, cursor)) {
      List<String> more = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String id = UUID.randomUUID().toString();
        more.add(id);
        api.post("/v1/messages", a.accessToken(), Api.textMessage(conv, id, "d" + i)).expect(202);
      }
      List<String> all = new ArrayList<>(sent);
      all.addAll(more);
      Await.until("all 60 arrived", WAIT, () -> ids(s).containsAll(all));
      s.send(new JsonObject().put("type", "ping").put("request_id", "p"));
      s.await("pong", f -> "pong".equals(f.getString("type")));
      assertThat(ids(s)).doesNotContain(first.get(0).getString("message_id"));
      assertThat(ids(s)).containsExactlyElementsOf(all);
      ascending(s.frames);
    }
  }
}
