package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The WebSocket upgrade ({@code /v1/ws}) and every SockJS request ({@code /eventbus/…}) count
 * against the per-IP request limit like any {@code /v1} request: over it, the upgrade is refused
 * with 429 {@code rate_limited} before any socket exists.
 */
@ExtendWith(BackendsExtension.class)
class SocketRateLimitTest {
  static final int LIMIT = 10;
  static Api api;
  static Vertx client;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "rate_limit",
                    new JsonObject()
                        .put("per_user_per_minute", 0)
                        .put("per_ip_per_minute", LIMIT)));
    client = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    Await.result(client.close());
    api.close();
  }

  /** The limits count per clock minute: start well inside one, so the count is not reset. */
  static void awaitFreshMinute() {
    Await.until(
        "a minute with room left", Duration.ofSeconds(65), () -> LocalTime.now().getSecond() < 45);
  }

  @Test
  void upgradesAndSockJsRequestsCountAgainstThePerIpLimit() {
    awaitFreshMinute();
    WebSocketClient ws = client.createWebSocketClient();
    int port = api.node().httpPort();
    // SockJS handshakes of the bridge count
    for (int i = 0; i < 4; i++) {
      api.get("/eventbus/info", null).expect(200);
    }
    List<WebSocket> open = new ArrayList<>();
    Integer refusedAt = null;
    int refusedStatus = 0;
    for (int i = 0; i < LIMIT + 5 && refusedAt == null; i++) {
      try {
        open.add(Await.result(ws.connect(port, "127.0.0.1", "/v1/ws")));
      } catch (RuntimeException e) {
        Throwable cause = e;
        while (cause != null && !(cause instanceof UpgradeRejectedException)) {
          cause = cause.getCause();
        }
        assertThat(cause).as("refused upgrade").isInstanceOf(UpgradeRejectedException.class);
        refusedAt = i;
        refusedStatus = ((UpgradeRejectedException) cause).getStatus();
      }
    }
    assertThat(refusedAt).as("some upgrade over the limit is refused").isNotNull();
    // the 4 SockJS requests and the upgrades before it used up the minute's budget
    assertThat(refusedAt).isEqualTo(LIMIT - 4);
    assertThat(refusedStatus).isEqualTo(429);
    // over the budget, the SockJS handshake is refused too
    Api.Res info = api.get("/eventbus/info", null);
    info.expectError(429, "rate_limited");
    assertThat(info.headers().firstValue("Retry-After")).isPresent();
    // and so is plain REST
    api.post("/v1/auth/token", null, new JsonObject().put("username", "x").put("password", "y"))
        .expectError(429, "rate_limited");
    open.forEach(s -> Await.result(s.close()));
  }
}
