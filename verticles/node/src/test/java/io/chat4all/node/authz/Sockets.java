package io.chat4all.node.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.UUID;

/** Sockets of {@code /v1/ws} and of the SockJS bridge ({@code /eventbus/websocket}). */
final class Sockets {
  private Sockets() {}

  static final Duration WAIT = Duration.ofSeconds(30);
  private static final java.util.concurrent.atomic.AtomicInteger REPLIES =
      new java.util.concurrent.atomic.AtomicInteger();

  static final class Sock extends WsTestSocket {
    Sock(WebSocketClient client, int port, String path) {
      super(client, port, path, WAIT);
    }

    /** A ping/pong round trip: what the server sent before is in {@link #frames}. */
    void roundTrip() {
      String rid = UUID.randomUUID().toString();
      send(new JsonObject().put("type", "ping").put("request_id", rid));
      await(
          "pong", f -> "pong".equals(f.getString("type")) && rid.equals(f.getString("request_id")));
    }
  }

  static Sock authed(Sock s, Api.User u) {
    assertThat(s.authenticate(u.accessToken(), null).getString("user_id")).isEqualTo(u.id());
    return s;
  }

  /** Sends {@code frame} with a fresh request id; the error frame answering it, ids blanked. */
  static String error(Sock s, JsonObject frame) {
    String rid = UUID.randomUUID().toString();
    s.send(frame.put("request_id", rid));
    JsonObject answer = s.await("answer " + rid, f -> rid.equals(f.getString("request_id")));
    assertThat(answer.getString("type")).as("answer to %s", frame).isEqualTo("error");
    return Expect.scrub(answer.copy().put("request_id", "<rid>").encode());
  }

  /** {@code frame} with the conversation and message ids replaced by {@code random}. */
  static JsonObject withIds(JsonObject frame, String conv, String msg, String random) {
    return new JsonObject(frame.encode().replace(conv, random).replace(msg, random));
  }

  static void awaitRefused(Sock s, String code) {
    s.await(
        code,
        f ->
            "error".equals(f.getString("type"))
                && code.equals(f.getJsonObject("error").getString("code")));
    assertThat(s.awaitClose()).isEqualTo((short) 4001);
    assertThat(s.frames).noneMatch(f -> "ready".equals(f.getString("type")));
  }

  /** A bridge frame of {@code type} on {@code address} with the token (no header when null). */
  static JsonObject frame(String type, String address, String token) {
    JsonObject f = new JsonObject().put("type", type).put("address", address);
    if (token != null) {
      f.put("headers", new JsonObject().put("Authorization", "Bearer " + token));
    }
    return f;
  }

  static void awaitErrs(Sock s, int n) {
    Await.until(
        n + " refusals: " + s.frames,
        WAIT,
        () -> s.frames.stream().filter(f -> "err".equals(f.getString("type"))).count() >= n);
  }

  /** A bridge socket registered on {@code u}'s own address (checked by a request/reply). */
  static Sock bridge(Sock s, Api.User u) {
    s.send(frame("register", "chat4all.user." + u.id(), u.accessToken()));
    reply(
        s,
        "chat4all.client.typing",
        u,
        new JsonObject().put("conversation_id", UUID.randomUUID().toString()));
    assertThat(s.frames)
        .noneMatch(f -> "err".equals(f.getString("type")) && f.getString("address") == null);
    return s;
  }

  /** A request/reply on a client address; the reply frame (ids kept). */
  static String reply(Sock s, String address, Api.User u, JsonObject body) {
    String reply = "reply-" + REPLIES.incrementAndGet();
    s.send(frame("send", address, u.accessToken()).put("replyAddress", reply).put("body", body));
    JsonObject answer;
    try {
      answer = s.await("reply " + reply, f -> reply.equals(f.getString("address")));
    } catch (AssertionError e) {
      throw new AssertionError("no reply " + reply + "; frames: " + s.frames, e);
    }
    return answer.copy().put("address", "<reply>").encode();
  }
}
