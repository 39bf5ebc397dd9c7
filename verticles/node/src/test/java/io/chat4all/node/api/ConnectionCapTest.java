package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The cap on open connections per client IP (issue 10, item 4), on HTTP and gRPC. Other client IPs
 * are stood for by other loopback source addresses (127.0.0.2, …); the test's own calls come from
 * 127.0.0.1. Timeouts are long here, so only the cap closes anything.
 */
@ExtendWith(BackendsExtension.class)
class ConnectionCapTest {
  static final int CAP = 20;
  static final Duration WAIT = Duration.ofSeconds(30);
  static Api api;
  static Vertx client;
  static TestBackends.Isolation iso;

  @BeforeAll
  static void start(TestBackends.Isolation isolation) {
    iso = isolation;
    JsonObject limits =
        new JsonObject()
            .put("request_header_timeout_seconds", 120)
            .put("idle_timeout_seconds", 120)
            .put("max_connections_per_ip", CAP);
    api = Api.start(iso, new JsonObject().put("http", limits.copy()).put("grpc", limits.copy()));
    client = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  /** A complete request on a new connection from {@code ip} is answered (the cap let it in). */
  static boolean answered(int port, String ip) {
    try (RawHttp s = RawHttp.open(port, ip)) {
      s.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      return s.read(Duration.ofSeconds(10)).status() == 200;
    } catch (AssertionError e) {
      return false;
    }
  }

  @Test
  void connectionsOverTheCapAreClosedAtOnceAndOtherClientsAreServed() {
    int port = api.node().httpPort();
    Api.User u = api.newUser("cap");
    List<RawHttp> held = new ArrayList<>();
    try {
      for (int i = 0; i < CAP; i++) {
        held.add(RawHttp.open(port, "127.0.0.2").send("GET /v1/me HTTP/1.1\r\nHost: x\r\n"));
      }
      Await.until(
          "the cap reached: a further connection from 127.0.0.2 is closed",
          WAIT,
          () -> {
            try (RawHttp over = RawHttp.open(port, "127.0.0.2")) {
              return over.closedWithin(Duration.ofSeconds(5));
            }
          });
      // another client is not affected
      api.get("/v1/me", u.accessToken()).expect(200);
      assertThat(answered(port, "127.0.0.3")).isTrue();
      // the held connections are still open (only the new ones were refused)
      for (RawHttp h : held) {
        assertThat(h.closedWithin(Duration.ofMillis(10))).isFalse();
      }
      // closing some frees their places
      for (int i = 0; i < 5; i++) {
        held.remove(0).close();
      }
      Await.until("room again for 127.0.0.2", WAIT, () -> answered(port, "127.0.0.2"));
    } finally {
      held.forEach(RawHttp::close);
    }
  }

  @Test
  void closedWebSocketsGiveTheirPlaceBack() {
    int port = api.node().httpPort();
    WebSocketClient ws =
        client.createWebSocketClient(new WebSocketClientOptions().setLocalAddress("127.0.0.4"));
    try {
      // more WebSockets than the cap, one after the other: each must be counted out on close
      for (int i = 0; i < CAP + 10; i++) {
        WsTestSocket s = new WsTestSocket(ws, port, "/v1/ws", WAIT);
        s.sendRaw("{\"type\":\"ping\"}");
        s.await("an answer", f -> "error".equals(f.getString("type")));
        s.close();
        s.awaitClose();
      }
      List<RawHttp> all = new ArrayList<>();
      try {
        Await.until(
            "CAP connections from 127.0.0.4 all open",
            WAIT,
            () -> {
              all.forEach(RawHttp::close);
              all.clear();
              for (int i = 0; i < CAP; i++) {
                all.add(RawHttp.open(port, "127.0.0.4"));
              }
              for (RawHttp r : all) {
                r.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
              }
              for (RawHttp r : all) {
                try {
                  if (r.read(Duration.ofSeconds(5)).status() != 200) {
                    return false;
                  }
                } catch (AssertionError e) {
                  return false;
                }
              }
              return true;
            });
      } finally {
        all.forEach(RawHttp::close);
      }
    } finally {
      Await.result(ws.close());
    }
  }

  @Test
  void grpcConnectionsOverTheCapAreClosed() {
    int port = api.node().grpcPort();
    List<RawHttp> held = new ArrayList<>();
    try {
      for (int i = 0; i < CAP; i++) {
        held.add(
            RawHttp.open(port, "127.0.0.5")
                .send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                .send(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}));
      }
      Await.until(
          "a further gRPC connection from 127.0.0.5 is closed",
          WAIT,
          () -> {
            try (RawHttp over = RawHttp.open(port, "127.0.0.5")) {
              over.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
                  .send(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
              return over.closedWithin(Duration.ofSeconds(5));
            }
          });
      for (RawHttp h : held) {
        assertThat(h.closedWithin(Duration.ofMillis(10))).isFalse();
      }
    } finally {
      held.forEach(RawHttp::close);
    }
  }

  @Test
  void aPingIntervalNotBelowTheIdleTimeoutIsAConfigurationError() {
    JsonObject bad =
        new JsonObject()
            .put("http", new JsonObject().put("idle_timeout_seconds", 20))
            .put("realtime", new JsonObject().put("ping_interval_ms", 20_000));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Api.start(iso, bad).close())
        .isInstanceOf(io.chat4all.node.config.ConfigException.class)
        .hasMessageContaining("realtime.ping_interval_ms");
  }
}
