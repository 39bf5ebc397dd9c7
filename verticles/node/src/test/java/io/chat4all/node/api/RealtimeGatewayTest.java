package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The WebSocket gateway {@code /v1/ws} and the SockJS event-bus bridge {@code /eventbus}. */
@ExtendWith(BackendsExtension.class)
class RealtimeGatewayTest {
  static final Duration WAIT = Duration.ofSeconds(30);

  /** Longer than the 1 s a revocation used to last, and than the JWT leeway. */
  static final Duration STAYS = Duration.ofSeconds(7);

  static Api api;
  static String secret;
  static Vertx client;
  static WebSocketClient wsClient;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    secret = iso.nodeConfig().getJsonObject("auth").getString("jwt_secret");
    api =
        Api.start(
            iso,
            new JsonObject().put("realtime", new JsonObject().put("max_frames_per_second", 10)));
    client = Vertx.vertx();
    wsClient = client.createWebSocketClient();
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  /** A test socket: every received text frame in order, and the close code. */
  static final class Sock extends WsTestSocket {
    Sock(String path) {
      super(wsClient, api.node().httpPort(), path, WAIT);
    }

    static Sock open() {
      return new Sock("/v1/ws");
    }

    static Sock authed(Api.User u, String cursor) {
      Sock s = open();
      JsonObject ready = s.authenticate(u.accessToken(), cursor);
      assertThat(ready.getString("user_id")).isEqualTo(u.id());
      assertThat(ready.getString("cursor")).isNotBlank();
      return s;
    }

    JsonObject message(String id) {
      return await(
          "message " + id,
          f ->
              "message".equals(f.getString("type"))
                  && id.equals(f.getJsonObject("message").getString("message_id")));
    }

    /**
     * A ping/pong round trip: every frame the server sent before the pong is in {@link #frames}.
     */
    void roundTrip() {
      String rid = UUID.randomUUID().toString();
      send(new JsonObject().put("type", "ping").put("request_id", rid));
      await(
          "pong", f -> "pong".equals(f.getString("type")) && rid.equals(f.getString("request_id")));
    }
  }

  static String privateChat(Api.User a, Api.User b) {
    return api.post(
            "/v1/conversations",
            a.accessToken(),
            new JsonObject().put("type", "private").put("member_ids", new JsonArray().add(b.id())))
        .expect(201)
        .json()
        .getString("conversation_id");
  }

  static JsonObject text(String conv, String id, String text) {
    return new JsonObject()
        .put("conversation_id", conv)
        .put("message_id", id)
        .put("payload", new JsonObject().put("type", "text").put("text", text));
  }

  static String sendRest(Api.User from, String conv, String text) {
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", from.accessToken(), text(conv, id, text)).expect(202);
    return id;
  }

  static long count(List<JsonObject> frames, String messageId) {
    return frames.stream()
        .filter(f -> "message".equals(f.getString("type")))
        .filter(f -> messageId.equals(f.getJsonObject("message").getString("message_id")))
        .count();
  }

  @Test
  void handshakeAcceptsAValidTokenAndClosesOnABadOne() {
    Api.User a = api.newUser("ws");
    Sock s = Sock.open();
    s.send(new JsonObject().put("type", "ping").put("request_id", "early"));
    JsonObject early = s.await("error before auth", f -> "error".equals(f.getString("type")));
    assertThat(early.getJsonObject("error").getString("code")).isEqualTo("unauthenticated");
    assertThat(early.getString("request_id")).isEqualTo("early");
    s.send(new JsonObject().put("type", "auth").put("token", a.accessToken()));
    JsonObject ready = s.await("ready", f -> "ready".equals(f.getString("type")));
    assertThat(ready.getString("user_id")).isEqualTo(a.id());
    assertThat(ready.getString("cursor")).isNotBlank();
    s.roundTrip();
    s.close();

    Sock bad = Sock.open();
    bad.send(new JsonObject().put("type", "auth").put("token", "not.a.token"));
    JsonObject err = bad.await("error", f -> "error".equals(f.getString("type")));
    assertThat(err.getJsonObject("error").getString("code")).startsWith("token_");
    assertThat(bad.awaitClose()).isEqualTo((short) 4001);

    Sock badCursor = Sock.open();
    badCursor.send(
        new JsonObject().put("type", "auth").put("token", a.accessToken()).put("cursor", "zz!"));
    JsonObject e2 = badCursor.await("error", f -> "error".equals(f.getString("type")));
    assertThat(e2.getJsonObject("error").getString("code")).isEqualTo("validation_failed");
    badCursor.close();
  }

  /** The socket was told why (an error frame with {@code code}) and closed with 4001. */
  static void awaitRefused(Sock s, String code) {
    JsonObject err =
        s.await(
            code,
            f ->
                "error".equals(f.getString("type"))
                    && code.equals(f.getJsonObject("error").getString("code")));
    assertThat(err.getJsonObject("error").getString("message")).isNotBlank();
    assertThat(s.awaitClose()).isEqualTo((short) 4001);
  }

  /** New sockets with {@code token} are refused with token_revoked, again and again for a while. */
  static void newSocketsStayRefused(String token) {
    Await.holds(
        "new sockets refused",
        STAYS,
        () -> {
          Sock again = Sock.open();
          again.send(new JsonObject().put("type", "auth").put("token", token));
          awaitRefused(again, "token_revoked");
          assertThat(again.frames).noneMatch(f -> "ready".equals(f.getString("type")));
        });
  }

  @Test
  void aRevokedTokenClosesTheSocketAndAPlainGetIsRefused() {
    api.get("/v1/ws", null).expectError(400, "bad_request");
    Api.User a = api.newUser("rv");
    Sock s = Sock.authed(a, null);
    Sock other = Sock.authed(a, null);
    s.roundTrip();
    // logout without a refresh token: the sockets of that login close at once, without a frame
    // from the client
    api.post("/v1/auth/logout", a.accessToken(), null).expect(204);
    awaitRefused(s, "token_revoked");
    awaitRefused(other, "token_revoked");
    newSocketsStayRefused(a.accessToken());
  }

  @Test
  void refreshTokenReuseClosesTheSocketsOfTheLogin() {
    Api.User a = api.newUser("reuse");
    JsonObject rotated =
        api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", a.refreshToken()))
            .expect(200)
            .json();
    String access = rotated.getString("access_token");
    Sock s = open(access);
    // another login of the same user is not touched
    Api.User second = new Api.User(a.id(), a.username(), login(a).getString("access_token"), null);
    Sock unrelated = Sock.authed(second, null);
    api.post("/v1/auth/refresh", null, new JsonObject().put("refresh_token", a.refreshToken()))
        .expectError(401, "token_revoked");
    awaitRefused(s, "token_revoked");
    newSocketsStayRefused(access);
    unrelated.roundTrip();
    assertThat(unrelated.isClosed()).isFalse();
    unrelated.close();
  }

  @Test
  void aSocketClosesWhenItsTokenExpires() {
    Api.User a = api.newUser("exp");
    long exp = System.currentTimeMillis() / 1000 + 3;
    Sock s = open(shortLived(a, exp));
    s.roundTrip();
    awaitRefused(s, "token_expired");
    assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(exp * 1000 - 1000);
  }

  static JsonObject login(Api.User u) {
    return api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", u.username()).put("password", "correct horse"))
        .expect(200)
        .json();
  }

  static Sock open(String token) {
    Sock s = Sock.open();
    s.authenticate(token, null);
    return s;
  }

  /** An access token of {@code u} signed with the node's key that expires at {@code exp}. */
  static String shortLived(Api.User u, long exp) {
    JWTAuth jwt =
        JWTAuth.create(
            client,
            new JWTAuthOptions()
                .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(secret)));
    return jwt.generateToken(
        new JsonObject()
            .put("sub", u.id())
            .put("username", u.username())
            .put("jti", UUID.randomUUID().toString())
            .put("typ", "access")
            .put("iat", exp - 60)
            .put("exp", exp),
        new JWTOptions().setIssuer("chat4all"));
  }

  @Test
  void liveMessagesReachEveryDeviceOnceAndDeliveredReachesTheSender() {
    Api.User a = api.newUser("snd");
    Api.User b = api.newUser("rcv");
    String conv = privateChat(a, b);
    Sock phone = Sock.authed(b, null);
    Sock laptop = Sock.authed(b, null);
    Sock sender = Sock.authed(a, null);
    try {
      String first = sendRest(a, conv, "hello");
      JsonObject env = phone.message(first);
      assertThat(env.getString("cursor")).isNotBlank();
      assertThat(env.getJsonObject("message").getString("conversation_id")).isEqualTo(conv);
      laptop.message(first);
      String second = sendRest(a, conv, "again");
      phone.message(second);
      laptop.message(second);
      assertThat(count(phone.frames, first)).isEqualTo(1);
      assertThat(count(laptop.frames, first)).isEqualTo(1);
      assertThat(phone.messages()).hasSize(2);

      // the receipt from one device reaches the sender (live and over REST)
      phone.send(
          new JsonObject()
              .put("type", "delivered")
              .put("message_id", first)
              .put("request_id", "r1"));
      JsonObject ack =
          phone.await(
              "ack",
              f -> "ack".equals(f.getString("type")) && "r1".equals(f.getString("request_id")));
      assertThat(ack.getJsonObject("receipt").getString("status")).isEqualTo("delivered");
      Await.until(
          "delivered over REST",
          WAIT,
          () ->
              "delivered"
                  .equals(
                      api.get("/v1/messages/" + first, a.accessToken())
                          .json()
                          .getString("status")));
      sender.await(
          "status event",
          f -> "status".equals(f.getString("type")) && first.equals(f.getString("message_id")));

      // a send over the socket is acknowledged and arrives on the other side
      String viaWs = UUID.randomUUID().toString();
      sender.send(text(conv, viaWs, "over ws").put("type", "send").put("request_id", "s1"));
      JsonObject sent =
          sender.await(
              "ack",
              f -> "ack".equals(f.getString("type")) && "s1".equals(f.getString("request_id")));
      assertThat(sent.getJsonObject("message").getString("message_id")).isEqualTo(viaWs);
      phone.message(viaWs);
    } finally {
      phone.close();
      laptop.close();
      sender.close();
    }
  }

  @Test
  void reconnectWithTheLastCursorReplaysExactlyWhatWasMissedThenGoesLive() {
    Api.User a = api.newUser("rs");
    Api.User b = api.newUser("rr");
    String conv = privateChat(a, b);
    Sock s = Sock.authed(b, null);
    String m0 = sendRest(a, conv, "m0");
    String cursor = s.message(m0).getString("cursor");
    s.close();

    List<String> missed = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      missed.add(sendRest(a, conv, "m" + i));
    }
    // wait until the pipeline stored (and fed) all of them
    Await.until(
        "history of 4",
        WAIT,
        () ->
            api.get("/v1/conversations/" + conv + "/messages?after_seq=0", b.accessToken())
                    .json()
                    .getJsonArray("items")
                    .size()
                >= 4);

    Sock again = Sock.authed(b, cursor);
    try {
      again.message(missed.get(2));
      String live = sendRest(a, conv, "live");
      again.message(live);
      again.roundTrip();
      List<String> ids =
          again.messages().stream()
              .map(f -> f.getJsonObject("message").getString("message_id"))
              .collect(Collectors.toList());
      List<String> expected = new ArrayList<>(missed);
      expected.add(live);
      assertThat(ids).containsExactlyElementsOf(expected);
      List<Long> seqs =
          again.messages().stream()
              .map(f -> f.getJsonObject("message").getLong("sequence_number"))
              .collect(Collectors.toList());
      assertThat(seqs).containsExactly(2L, 3L, 4L, 5L);
    } finally {
      again.close();
    }
  }

  @Test
  void badFramesGetErrorFramesAndTheSocketKeepsWorking() {
    Api.User a = api.newUser("bf");
    Api.User b = api.newUser("bf");
    String conv = privateChat(a, b);
    Sock s = Sock.authed(a, null);
    try {
      s.sendRaw("this is not json");
      s.send(new JsonObject().put("no_type", true));
      s.send(new JsonObject().put("type", "teleport").put("request_id", "u1"));
      s.send(new JsonObject().put("type", "send").put("request_id", "s1"));
      s.send(
          new JsonObject()
              .put("type", "delivered")
              .put("message_id", "nope")
              .put("request_id", "d1"));
      s.send(
          text(UUID.randomUUID().toString(), UUID.randomUUID().toString(), "x")
              .put("type", "send")
              .put("request_id", "s2"));
      s.roundTrip();
      List<JsonObject> errors =
          s.frames.stream()
              .filter(f -> "error".equals(f.getString("type")))
              .collect(Collectors.toList());
      assertThat(errors.stream().map(f -> f.getJsonObject("error").getString("code")))
          .containsExactly(
              "malformed_json",
              "validation_failed",
              "bad_request",
              "validation_failed",
              "validation_failed",
              "not_found");
      assertThat(errors.get(2).getString("request_id")).isEqualTo("u1");
      assertThat(errors.get(5).getString("request_id")).isEqualTo("s2");
      // still usable
      String id = UUID.randomUUID().toString();
      s.send(text(conv, id, "still here").put("type", "send").put("request_id", "ok"));
      s.await(
          "ack", f -> "ack".equals(f.getString("type")) && "ok".equals(f.getString("request_id")));
    } finally {
      s.close();
    }
  }

  @Test
  void aReplyToAMessageOfAnotherConversationOrNoneIsAnErrorFrame() {
    Api.User a = api.newUser("wr");
    Api.User b = api.newUser("wr");
    String conv = privateChat(a, b);
    String other = privateChat(a, api.newUser("wr"));
    String elsewhere = UUID.randomUUID().toString();
    api.post("/v1/messages", a.accessToken(), text(other, elsewhere, "elsewhere")).expect(202);
    Await.until(
        "numbered",
        WAIT,
        () -> api.get("/v1/messages/" + elsewhere, a.accessToken()).status() == 200);
    Sock s = Sock.authed(a, null);
    try {
      s.send(
          text(conv, UUID.randomUUID().toString(), "re")
              .put("reply_to_message_id", elsewhere)
              .put("type", "send")
              .put("request_id", "r1"));
      s.send(
          text(conv, UUID.randomUUID().toString(), "re")
              .put("reply_to_message_id", UUID.randomUUID().toString())
              .put("type", "send")
              .put("request_id", "r2"));
      for (String rid : List.of("r1", "r2")) {
        JsonObject err =
            s.await(
                "error " + rid,
                f -> "error".equals(f.getString("type")) && rid.equals(f.getString("request_id")));
        assertThat(err.getJsonObject("error").getString("code")).isEqualTo("not_found");
        assertThat(err.getJsonObject("error").getJsonObject("details").getString("field"))
            .isEqualTo("reply_to_message_id");
      }
      s.roundTrip();
      assertThat(s.frames).noneMatch(f -> "ack".equals(f.getString("type")));
    } finally {
      s.close();
    }
  }

  @Test
  void aFloodIsThrottledThenClosed() {
    Api.User a = api.newUser("fl");
    Sock s = Sock.authed(a, null);
    for (int i = 0; i < 40 && !s.ws.isClosed(); i++) {
      s.ws.writeTextMessage(new JsonObject().put("type", "ping").encode());
    }
    assertThat(s.awaitClose()).isEqualTo((short) 1008);
    assertThat(s.frames)
        .anyMatch(
            f ->
                "error".equals(f.getString("type"))
                    && "rate_limited".equals(f.getJsonObject("error").getString("code")));
  }

  /**
   * A frame over the per-second budget is refused with an error naming its request_id (a client
   * waiting on that request learns it was not served, and when to retry); the socket stays open
   * below twice the budget and serves again in the next second.
   */
  @Test
  void aThrottledFrameIsAnsweredWithItsRequestIdAndTheSocketServesAgain()
      throws InterruptedException {
    Api.User a = api.newUser("tr");
    Sock s = Sock.authed(a, null);
    try {
      List<String> sent = new ArrayList<>();
      List<JsonObject> limited = List.of();
      // 18 frames at once (this node allows 10 a second and closes past 20; the auth frame counts
      // too); a burst that a window boundary splits into two halves of at most 10 is tried again
      for (int burst = 0; burst < 3 && limited.isEmpty(); burst++) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 18; i++) {
          ids.add("b" + burst + "-" + i);
        }
        sent.addAll(ids);
        ids.forEach(
            id ->
                s.ws.writeTextMessage(
                    new JsonObject().put("type", "ping").put("request_id", id).encode()));
        Await.until(
            "an answer to each of the burst's frames",
            WAIT,
            () -> ids.stream().allMatch(id -> answered(s, id)));
        limited =
            s.frames.stream()
                .filter(
                    f ->
                        "error".equals(f.getString("type"))
                            && "rate_limited".equals(f.getJsonObject("error").getString("code")))
                .toList();
      }
      assertThat(limited).isNotEmpty();
      for (JsonObject f : limited) {
        assertThat(sent).contains(f.getString("request_id"));
        JsonObject details = f.getJsonObject("error").getJsonObject("details");
        assertThat(details.getLong("retry_after_ms")).isBetween(1L, 1000L);
        assertThat(details.getLong("retry_after_seconds")).isEqualTo(1L);
      }
      // each frame got exactly one answer: its pong or its refusal
      for (String id : sent) {
        assertThat(s.frames.stream().filter(f -> id.equals(f.getString("request_id"))).count())
            .as(id)
            .isEqualTo(1);
      }
      assertThat(s.isClosed()).isFalse();
      // a client waits what the last refusal says, then is served
      long retryMs =
          limited
              .get(limited.size() - 1)
              .getJsonObject("error")
              .getJsonObject("details")
              .getLong("retry_after_ms");
      Thread.sleep(retryMs);
      String rid = UUID.randomUUID().toString();
      s.send(new JsonObject().put("type", "ping").put("request_id", rid));
      Await.until("an answer to " + rid, WAIT, () -> answered(s, rid));
      assertThat(s.frames)
          .anyMatch(
              f -> "pong".equals(f.getString("type")) && rid.equals(f.getString("request_id")));
    } finally {
      s.close();
    }
  }

  private static boolean answered(Sock s, String requestId) {
    return s.frames.stream().anyMatch(f -> requestId.equals(f.getString("request_id")));
  }

  @Test
  void typingReachesTheOtherMemberOnly() {
    Api.User a = api.newUser("ty");
    Api.User b = api.newUser("ty");
    Api.User c = api.newUser("ty");
    String conv = privateChat(a, b);
    Sock sa = Sock.authed(a, null);
    Sock sb = Sock.authed(b, null);
    Sock sc = Sock.authed(c, null);
    try {
      sa.send(new JsonObject().put("type", "typing").put("conversation_id", conv));
      JsonObject t = sb.await("typing", f -> "typing".equals(f.getString("type")));
      assertThat(t.getString("conversation_id")).isEqualTo(conv);
      assertThat(t.getString("user_id")).isEqualTo(a.id());
      assertThat(t.getString("at")).isNotBlank();
      // an outsider cannot type into the conversation
      sc.send(
          new JsonObject()
              .put("type", "typing")
              .put("conversation_id", conv)
              .put("request_id", "t"));
      JsonObject err = sc.await("error", f -> "error".equals(f.getString("type")));
      assertThat(err.getJsonObject("error").getString("code")).isEqualTo("not_found");
      sa.roundTrip();
      assertThat(sa.frames).noneMatch(f -> "typing".equals(f.getString("type")));
    } finally {
      sa.close();
      sb.close();
      sc.close();
    }
  }

  @Test
  void theBridgeRefusesForeignAddressesAndServesTheOwnOne() {
    Api.User a = api.newUser("br");
    Api.User b = api.newUser("br");
    String conv = privateChat(a, b);
    Sock s = new Sock("/eventbus/websocket");
    try {
      JsonObject auth = new JsonObject().put("Authorization", "Bearer " + a.accessToken());
      // someone else's address
      s.send(
          new JsonObject()
              .put("type", "register")
              .put("address", "chat4all.user." + b.id())
              .put("headers", auth));
      JsonObject err = s.await("err " + s.frames, f -> "err".equals(f.getString("type")));
      assertThat(err.getString("body")).isIn("rejected", "access_denied");
      // own address without a token
      s.send(new JsonObject().put("type", "register").put("address", "chat4all.user." + a.id()));
      Await.until(
          "second refusal",
          WAIT,
          () -> s.frames.stream().filter(f -> "err".equals(f.getString("type"))).count() >= 2);
      // a non-client address
      s.send(
          new JsonObject()
              .put("type", "send")
              .put("address", "chat4all.messages")
              .put("headers", auth)
              .put("body", new JsonObject()));
      Await.until(
          "third refusal",
          WAIT,
          () -> s.frames.stream().filter(f -> "err".equals(f.getString("type"))).count() >= 3);

      // own address with the token: B's message arrives
      s.send(
          new JsonObject()
              .put("type", "register")
              .put("address", "chat4all.user." + a.id())
              .put("headers", auth));
      // a send through the client address (request/reply) proves the registration was handled first
      String viaBridge = UUID.randomUUID().toString();
      s.send(
          new JsonObject()
              .put("type", "send")
              .put("address", "chat4all.client.send")
              .put("headers", auth)
              .put("replyAddress", "reply-1")
              .put("body", text(conv, viaBridge, "via bridge")));
      JsonObject reply =
          s.await(
              "reply",
              f -> "rec".equals(f.getString("type")) && "reply-1".equals(f.getString("address")));
      assertThat(reply.getJsonObject("body").getString("message_id")).isEqualTo(viaBridge);
      // a bridge socket makes its user online like a WebSocket does
      Await.until(
          "A online through the bridge",
          WAIT,
          () ->
              "online"
                  .equals(
                      api.get("/v1/presence?user_ids=" + a.id(), b.accessToken())
                          .json()
                          .getJsonArray("items")
                          .getJsonObject(0)
                          .getString("status")));
      String fromB = sendRest(b, conv, "to a");
      s.await(
          "live message on the bridge",
          f ->
              "rec".equals(f.getString("type"))
                  && f.getJsonObject("body") != null
                  && "message".equals(f.getJsonObject("body").getString("type"))
                  && fromB.equals(
                      f.getJsonObject("body").getJsonObject("message").getString("message_id")));
    } finally {
      s.close();
    }
  }

  /**
   * A SockJS bridge socket registered on {@code u}'s address with {@code token} ({@code watcher}
   * shares a conversation with {@code u}, so it sees {@code u}'s presence).
   */
  static Sock bridge(Api.User u, String token, Api.User watcher) {
    Sock s = new Sock("/eventbus/websocket");
    s.send(
        new JsonObject()
            .put("type", "register")
            .put("address", "chat4all.user." + u.id())
            .put("headers", new JsonObject().put("Authorization", "Bearer " + token)));
    // the registration is in place once the bridge made the user online
    Await.until(
        u.username() + " online through the bridge",
        WAIT,
        () ->
            "online"
                .equals(
                    api.get("/v1/presence?user_ids=" + u.id(), watcher.accessToken())
                        .json()
                        .getJsonArray("items")
                        .getJsonObject(0)
                        .getString("status")));
    return s;
  }

  static void awaitBridgeRefused(Sock s, String code) {
    s.await(
        "err " + code, f -> "err".equals(f.getString("type")) && code.equals(f.getString("body")));
    assertThat(s.awaitClose()).isEqualTo((short) 4001);
  }

  @Test
  void theBridgeClosesASocketWhenItsTokenIsRevokedOrExpires() {
    Api.User a = api.newUser("brv");
    Api.User b = api.newUser("brw");
    String conv = privateChat(a, b);
    Sock revoked = bridge(a, a.accessToken(), b);
    // a live event still arrives (and no revocation notice ever reaches the client)
    String fromB = sendRest(b, conv, "before logout");
    revoked.await(
        "live message",
        f ->
            "rec".equals(f.getString("type"))
                && "message".equals(f.getJsonObject("body").getString("type")));
    api.post("/v1/auth/logout", a.accessToken(), null).expect(204);
    awaitBridgeRefused(revoked, "token_revoked");
    assertThat(revoked.frames)
        .filteredOn(f -> "rec".equals(f.getString("type")))
        .allMatch(
            f ->
                f.getJsonObject("body").containsKey("type")
                    && !f.getJsonObject("body").containsKey("jti")
                    && !f.getJsonObject("body").containsKey("family_id"));
    assertThat(fromB).isNotBlank();

    Api.User c = api.newUser("bre");
    privateChat(c, b); // b may see c's presence
    long exp = System.currentTimeMillis() / 1000 + 3;
    Sock expiring = bridge(c, shortLived(c, exp), b);
    awaitBridgeRefused(expiring, "token_expired");
    assertThat(System.currentTimeMillis()).isGreaterThanOrEqualTo(exp * 1000 - 1000);
  }
}
