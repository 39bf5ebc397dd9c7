package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The {@code /v1/ws} idle timeout counts every client frame: a client that only answers the
 * server's pings (what a listening browser does) or only pings stays open; one that answers nothing
 * is closed with 1001 "idle". The timeouts are small here (1.5 s idle, a ping every 300 ms).
 */
@ExtendWith(BackendsExtension.class)
class WebSocketIdleTest {
  static final long IDLE_MS = 1500;
  static final long PING_MS = 300;
  static final Duration WAIT = Duration.ofSeconds(30);

  static Api api;
  static Vertx client;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "realtime",
                    new JsonObject()
                        .put("idle_timeout_ms", IDLE_MS)
                        .put("ping_interval_ms", PING_MS)));
    client = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  int port() {
    return api.node().httpPort();
  }

  @Test
  void aClientThatOnlyAnswersPingsOutlivesTheIdleTimeout() {
    Api.User u = api.newUser("pongonly");
    WebSocketClient wsc = client.createWebSocketClient();
    try (WsTestSocket sock = new WsTestSocket(wsc, port(), "/v1/ws", WAIT)) {
      AtomicInteger pings = new AtomicInteger();
      // the Vert.x client answers every ping with a pong by itself; this only counts them
      sock.ws.frameHandler(
          f -> {
            if (f.type() == WebSocketFrameType.PING) {
              pings.incrementAndGet();
            }
          });
      sock.authenticate(u.accessToken(), null);
      int before = pings.get();
      Await.holds(
          "the socket stays open for three idle timeouts",
          Duration.ofMillis(3 * IDLE_MS),
          () ->
              assertThat(sock.isClosed()).as("closed with " + sock.closed.getNow(null)).isFalse());
      assertThat(pings.get() - before).as("pings answered meanwhile").isGreaterThanOrEqualTo(3);
      sock.send(new JsonObject().put("type", "ping").put("request_id", "still-there"));
      sock.await("pong", f -> "still-there".equals(f.getString("request_id")));
    } finally {
      Await.result(wsc.close());
    }
  }

  @Test
  void aClientThatAnswersNoPingIsClosedAsIdle() {
    Api.User u = api.newUser("silent");
    try (RawWebSocket raw = RawWebSocket.open(port(), "/v1/ws")) {
      long sent = System.nanoTime();
      raw.sendText(new JsonObject().put("type", "auth").put("token", u.accessToken()));
      boolean ready = false;
      int pings = 0;
      RawWebSocket.Frame close = null;
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (close == null && System.nanoTime() < deadline) {
        RawWebSocket.Frame f = raw.read(Duration.ofSeconds(1));
        if (f == null) {
          continue;
        }
        switch (f.opcode()) {
          case RawWebSocket.TEXT ->
              ready |= "ready".equals(new JsonObject(f.text()).getString("type"));
          case RawWebSocket.PING -> pings++;
          case RawWebSocket.CLOSE -> close = f;
          default -> {}
        }
      }
      long lasted = (System.nanoTime() - sent) / 1_000_000;
      assertThat(ready).as("authenticated").isTrue();
      assertThat(close).as("closed by the server").isNotNull();
      assertThat(close.closeCode()).isEqualTo(1001);
      assertThat(close.closeReason()).isEqualTo("idle");
      assertThat(pings).as("pings left unanswered").isPositive();
      assertThat(lasted).as("ms from the last frame to the close").isGreaterThanOrEqualTo(IDLE_MS);
    }
  }

  @Test
  void aClientThatOnlyPingsOutlivesTheIdleTimeoutWithoutAnsweringPings() {
    Api.User u = api.newUser("pingonly");
    try (RawWebSocket raw = RawWebSocket.open(port(), "/v1/ws")) {
      raw.sendText(new JsonObject().put("type", "auth").put("token", u.accessToken()));
      long deadline = System.nanoTime() + WAIT.toNanos();
      boolean ready = false;
      while (!ready && System.nanoTime() < deadline) {
        RawWebSocket.Frame f = raw.read(Duration.ofSeconds(1));
        ready =
            f != null
                && f.opcode() == RawWebSocket.TEXT
                && "ready".equals(new JsonObject(f.text()).getString("type"));
      }
      assertThat(ready).as("authenticated").isTrue();
      // a ping of its own every ping interval, the server's pings left unanswered
      int pongs = 0;
      long until = System.nanoTime() + 3 * IDLE_MS * 1_000_000;
      long nextPing = System.nanoTime();
      while (System.nanoTime() < until) {
        if (System.nanoTime() >= nextPing) {
          raw.sendPing();
          nextPing = System.nanoTime() + PING_MS * 1_000_000;
        }
        long left = Math.max(1, (nextPing - System.nanoTime()) / 1_000_000);
        RawWebSocket.Frame f = raw.read(Duration.ofMillis(left));
        if (f != null && f.opcode() == RawWebSocket.CLOSE) {
          throw new AssertionError("closed: " + f.closeCode() + " " + f.closeReason());
        }
        if (f != null && f.opcode() == RawWebSocket.PONG) {
          pongs++;
        }
      }
      assertThat(pongs).as("the server's answers to the client's pings").isGreaterThanOrEqualTo(3);
      raw.sendText(new JsonObject().put("type", "ping").put("request_id", "still-there"));
      JsonObject pong = null;
      while (pong == null && System.nanoTime() < deadline) {
        RawWebSocket.Frame f = raw.read(Duration.ofSeconds(1));
        if (f != null && f.opcode() == RawWebSocket.CLOSE) {
          throw new AssertionError("closed: " + f.closeCode() + " " + f.closeReason());
        }
        if (f != null && f.opcode() == RawWebSocket.TEXT) {
          JsonObject frame = new JsonObject(f.text());
          pong = "still-there".equals(frame.getString("request_id")) ? frame : null;
        }
      }
      assertThat(pong).as("the answer to an application ping").isNotNull();
      assertThat(pong.getString("type")).isEqualTo("pong");
    }
  }
}
