package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Answers that used to escape the error model (issue 10, item 5): what the HTTP codec and the
 * WebSocket handshaker refuse gets the JSON error body and an {@code X-Request-Id}, is not logged
 * as an error, and a text frame that is not UTF-8 closes its socket with 1007.
 */
@ExtendWith(BackendsExtension.class)
class EdgeErrorModelTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
  static Api api;
  static Vertx client;
  static WebSocketClient wsClient;
  static final List<ILoggingEvent> errors = new CopyOnWriteArrayList<>();
  static AppenderBase<ILoggingEvent> appender;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
    client = Vertx.vertx();
    wsClient = client.createWebSocketClient();
    appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent e) {
            if (e.getLevel().isGreaterOrEqual(Level.ERROR)) {
              errors.add(e);
            }
          }
        };
    appender.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(appender);
  }

  @AfterAll
  static void stop() {
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(appender);
    Await.result(client.close());
    api.close();
  }

  static RawHttp.Response raw(String request) {
    try (RawHttp s = RawHttp.open(api.node().httpPort())) {
      return s.send(request).read(WAIT);
    }
  }

  static void assertError(RawHttp.Response r, int status, String code) {
    assertThat(r.status()).as("status of %s", r.body()).isEqualTo(status);
    assertThat(r.headers().get("content-type")).startsWith("application/json");
    assertThat(r.headers().get("x-request-id")).as("X-Request-Id").isNotBlank();
    assertThat(r.errorCode()).isEqualTo(code);
    assertThat(r.json().getJsonObject("error").getString("message")).isNotBlank();
  }

  @Test
  void whatTheHttpCodecRefusesIsAJsonErrorAndTheConnectionCloses() {
    assertError(
        raw(
            "POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: abc\r\n\r\n{}"),
        400,
        "bad_request");
    assertError(
        raw("GET /v1/me?q=" + "a".repeat(5000) + " HTTP/1.1\r\nHost: x\r\n\r\n"),
        414,
        "uri_too_long");
    assertError(
        raw("GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n"),
        431,
        "headers_too_large");
    try (RawHttp s = RawHttp.open(api.node().httpPort())) {
      s.send("GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(9000) + "\r\n\r\n");
      assertThat(s.read(WAIT).headers().get("connection")).isEqualTo("close");
      assertThat(s.closedWithin(WAIT)).isTrue();
    }
    api.get("/v1/openapi.json", null).expect(200);
  }

  @Test
  void badWebSocketUpgradesAreJsonErrorsNotLoggedAsErrors() {
    errors.clear();
    String get = "GET /v1/ws HTTP/1.1\r\nHost: x\r\nX-Request-Id: ws-bad\r\n";
    // no Connection: Upgrade
    RawHttp.Response r =
        raw(
            get
                + "Upgrade: websocket\r\nSec-WebSocket-Key: "
                + KEY
                + "\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n");
    assertError(r, 400, "bad_request");
    assertThat(r.headers().get("x-request-id")).isEqualTo("ws-bad");
    String upgrade = get + "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    // an old protocol version, or none
    r = raw(upgrade + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 8\r\n\r\n");
    assertError(r, 426, "upgrade_required");
    assertThat(r.headers().get("sec-websocket-version")).isEqualTo("13");
    assertError(raw(upgrade + "Sec-WebSocket-Key: " + KEY + "\r\n\r\n"), 426, "upgrade_required");
    // no key
    assertError(raw(upgrade + "Sec-WebSocket-Version: 13\r\n\r\n"), 400, "bad_request");
    // a body
    assertError(
        raw(
            upgrade
                + "Sec-WebSocket-Key: "
                + KEY
                + "\r\nSec-WebSocket-Version: 13\r\nContent-Length: 5\r\n\r\nhello"),
        400,
        "bad_request");
    // not an upgrade at all
    assertError(raw(get + "\r\n"), 400, "bad_request");
    assertThat(errors).as("events logged at ERROR").isEmpty();

    // a valid upgrade still opens
    Api.User u = api.newUser("wsok");
    try (WsTestSocket s = new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", WAIT)) {
      assertThat(s.authenticate(u.accessToken(), null).getString("user_id")).isEqualTo(u.id());
    }
  }

  @Test
  void aTextFrameThatIsNotUtf8ClosesTheSocketWith1007() {
    Api.User u = api.newUser("utf8");
    try (WsTestSocket s = new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", WAIT)) {
      s.authenticate(u.accessToken(), null);
      byte[] prefix = "{\"type\":\"ping\",\"x\":\"".getBytes(StandardCharsets.UTF_8);
      byte[] bad =
          Buffer.buffer(prefix)
              .appendBytes(new byte[] {(byte) 0xff, (byte) 0xfe})
              .appendString("\"}")
              .getBytes();
      Await.result(s.ws.writeFrame(new WebSocketFrameImpl(WebSocketFrameType.TEXT, bad, true)));
      assertThat(s.awaitClose()).isEqualTo((short) 1007);
      assertThat(s.frames).noneMatch(f -> "pong".equals(f.getString("type")));
    }
  }

  @Test
  void aTextMessageSplitInsideACharacterAcrossFramesIsOneMessage() {
    Api.User u = api.newUser("frag");
    try (WsTestSocket s = new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", WAIT)) {
      s.authenticate(u.accessToken(), null);
      byte[] all =
          "{\"type\":\"ping\",\"request_id\":\"caf\u00e9\"}".getBytes(StandardCharsets.UTF_8);
      int cut = new String(all, StandardCharsets.UTF_8).indexOf('\u00e9') + 1; // inside the é
      byte[] first = java.util.Arrays.copyOfRange(all, 0, cut);
      byte[] rest = java.util.Arrays.copyOfRange(all, cut, all.length);
      Await.result(s.ws.writeFrame(new WebSocketFrameImpl(WebSocketFrameType.TEXT, first, false)));
      Await.result(s.ws.writeFrame(WebSocketFrame.continuationFrame(Buffer.buffer(rest), true)));
      s.await("pong", f -> "pong".equals(f.getString("type")));
      assertThat(s.await("pong", f -> "pong".equals(f.getString("type"))).getString("request_id"))
          .isEqualTo("caf\u00e9");
      // and a binary message is still refused with an error frame, the socket staying open
      Await.result(s.ws.writeBinaryMessage(Buffer.buffer("{}")));
      s.await("binary refused", f -> "error".equals(f.getString("type")));
      assertThat(s.isClosed()).isFalse();
    }
  }

  @Test
  void frameJsonIsAsStrictAsBodyJson() {
    Api.User u = api.newUser("wsjson");
    try (WsTestSocket s = new WsTestSocket(wsClient, api.node().httpPort(), "/v1/ws", WAIT)) {
      s.authenticate(u.accessToken(), null);
      s.sendRaw("{\"type\":\"ping\",\"request_id\":\"a\",\"request_id\":\"b\"}");
      JsonObject e1 = s.await("duplicate key refused", f -> "error".equals(f.getString("type")));
      assertThat(e1.getJsonObject("error").getString("code")).isEqualTo("malformed_json");
      s.sendRaw("{\"type\":\"ping\" /* comment */}");
      Await.until(
          "comment refused",
          WAIT,
          () -> s.frames.stream().filter(f -> "error".equals(f.getString("type"))).count() == 2);
      assertThat(s.frames).noneMatch(f -> "pong".equals(f.getString("type")));
    }
  }
}
