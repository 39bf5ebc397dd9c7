package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.proto.v1.NodeServiceGrpcClient;
import io.chat4all.proto.v1.PingRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.GeneratedBytes;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Slow clients are cut off (issue 10, item 4): stalled request heads, keep-alive connections that
 * never finish their next head, JSON bodies that trickle, chunk bodies that stop, and the same on
 * the gRPC port — while normal requests, a steadily paced chunk upload and idle WebSockets keep
 * working. The limits are small here (2 s header and body timeouts, 3 s idle timeout).
 */
@ExtendWith(BackendsExtension.class)
class SlowClientsTest {
  static final int HEADER_S = 2;
  static final int BODY_S = 2;
  static final int IDLE_S = 3;

  /** Generous: the machine is shared and loaded; what matters is "closed", not the exact moment. */
  static final Duration CUT_OFF = Duration.ofSeconds(20);

  static Api api;
  static Vertx client;
  static ScheduledExecutorService pacer;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    JsonObject limits =
        new JsonObject()
            .put("request_header_timeout_seconds", HEADER_S)
            .put("idle_timeout_seconds", IDLE_S)
            .put("max_connections_per_ip", 2000);
    api =
        Api.start(
            iso,
            new JsonObject()
                .put("http", limits.copy().put("request_body_timeout_seconds", BODY_S))
                .put("grpc", limits.copy())
                .put("realtime", new JsonObject().put("ping_interval_ms", 1000))
                .put("files", FilesApiTest.settings(300)));
    client = Vertx.vertx();
    pacer = Executors.newScheduledThreadPool(2);
  }

  @AfterAll
  static void stop() {
    pacer.shutdownNow();
    Await.result(client.close());
    api.close();
  }

  int httpPort() {
    return api.node().httpPort();
  }

  @Test
  void hundredsOfStalledHeadsAreClosedWhileNormalRequestsSucceed() {
    Api.User u = api.newUser("stall");
    List<RawHttp> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 300; i++) {
        stalled.add(RawHttp.open(httpPort()).send("GET /v1/me HTTP/1.1\r\nHost: x\r\nX-Partial: "));
      }
      RawHttp silent = RawHttp.open(httpPort());
      stalled.add(silent);
      for (int i = 0; i < 20; i++) {
        api.get("/v1/me", u.accessToken()).expect(200);
      }
      int closed = 0;
      long deadline = System.nanoTime() + CUT_OFF.toNanos();
      for (RawHttp s : stalled) {
        if (s.closedWithin(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))) {
          closed++;
        }
      }
      assertThat(closed).as("stalled connections the server closed").isEqualTo(stalled.size());
      api.get("/v1/me", u.accessToken()).expect(200);
    } finally {
      stalled.forEach(RawHttp::close);
    }
  }

  @Test
  void keepAliveResponsesTellTheClientToLetIdleConnectionsGoBeforeTheServerCloses() {
    try (RawHttp s = RawHttp.open(httpPort())) {
      s.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response first = s.read(Duration.ofSeconds(30));
      assertThat(first.status()).isEqualTo(200);
      // idle_timeout_seconds is 3: a client honouring the hint drops the connection after 2 s
      assertThat(first.headers().get("keep-alive")).isEqualTo("timeout=" + (IDLE_S - 1));
      // an error answer (no token) carries it too, and the connection stays usable
      s.send("GET /v1/me HTTP/1.1\r\nHost: x\r\n\r\n");
      RawHttp.Response second = s.read(Duration.ofSeconds(30));
      assertThat(second.status()).isEqualTo(401);
      assertThat(second.headers().get("keep-alive")).isEqualTo("timeout=" + (IDLE_S - 1));
    }
  }

  @Test
  void aKeepAliveConnectionTricklingItsNextHeadIsClosed() {
    try (RawHttp s = RawHttp.open(httpPort())) {
      s.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(s.read(Duration.ofSeconds(30)).status()).isEqualTo(200);
      // one byte of the next head every 700 ms: never idle, never a complete head
      String next =
          "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
      AtomicInteger sent = new AtomicInteger();
      var task =
          pacer.scheduleAtFixedRate(
              () -> {
                int i = sent.getAndIncrement();
                if (i < next.length()) {
                  s.trySend(next.substring(i, i + 1));
                }
              },
              0,
              700,
              TimeUnit.MILLISECONDS);
      try {
        assertThat(s.closedWithin(CUT_OFF)).as("closed while trickling").isTrue();
        assertThat(sent.get()).as("bytes trickled before the close").isLessThan(next.length());
      } finally {
        task.cancel(true);
      }
    }
  }

  @Test
  void aTricklingJsonBodyGets408AndItsConnectionCloses() {
    String body = "{\"username\":\"someone\",\"password\":\"correct horse battery staple\"}";
    try (RawHttp s = RawHttp.open(httpPort())) {
      s.send(
          "POST /v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + "X-Request-Id: trickle-1\r\nContent-Length: "
              + body.length()
              + "\r\n\r\n"
              + body.substring(0, 5));
      AtomicInteger sent = new AtomicInteger(5);
      var task =
          pacer.scheduleAtFixedRate(
              () -> {
                int i = sent.getAndIncrement();
                if (i < body.length()) {
                  s.trySend(body.substring(i, i + 1));
                }
              },
              500,
              500,
              TimeUnit.MILLISECONDS);
      try {
        RawHttp.Response r = s.read(CUT_OFF);
        assertThat(r.status()).isEqualTo(408);
        assertThat(r.errorCode()).isEqualTo("request_timeout");
        assertThat(r.headers().get("x-request-id")).isEqualTo("trickle-1");
        assertThat(s.closedWithin(CUT_OFF)).isTrue();
        assertThat(sent.get()).isLessThan(body.length());
      } finally {
        task.cancel(true);
      }
    }
  }

  @Test
  void aChunkBodyThatStopsIsCutOffAndASteadyOneIsNot() throws Exception {
    Api.User u = api.newUser("chunk");
    Api.User other = api.newUser("chunk_peer");
    String conv = api.privateChat(u, other);
    long size = 3 * FilesApiTest.MIB;
    GeneratedBytes data = new GeneratedBytes(size + System.nanoTime(), size);
    String fileId =
        api.post(
                "/v1/files",
                u.accessToken(),
                FilesApiTest.initiateBody(conv, "slow.bin", size, "application/octet-stream"))
            .expect(201)
            .json()
            .getString("file_id");
    String head =
        "PUT /v1/files/"
            + fileId
            + "/chunks/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
            + u.accessToken()
            + "\r\nContent-Type: application/octet-stream\r\nX-Checksum-SHA256: "
            + data.sha256(0, size)
            + "\r\nContent-Length: "
            + size
            + "\r\n\r\n";

    // 256 KiB, then nothing: cut off by the idle timeout
    try (RawHttp s = RawHttp.open(httpPort())) {
      s.send(head.getBytes(StandardCharsets.US_ASCII)).send(data.bytes(0, 256 * 1024));
      assertThat(s.closedWithin(CUT_OFF)).as("stalled chunk upload closed").isTrue();
    }
    assertThat(
            api.get("/v1/files/" + fileId, u.accessToken())
                .expect(200)
                .json()
                .getJsonArray("received_chunks"))
        .isEmpty();

    // the same chunk paced at about 1 MiB/s: longer than the body timeout, never idle -> stored
    try (RawHttp s = RawHttp.open(httpPort())) {
      OutputStream out = s.socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      int piece = 64 * 1024;
      long started = System.nanoTime();
      for (long at = 0; at < size; at += piece) {
        int n = (int) Math.min(piece, size - at);
        out.write(data.bytes(at, n));
        out.flush();
        long due = started + (at + n) * 1_000_000_000L / FilesApiTest.MIB;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait); // pacing the upload is the point of this test
        }
      }
      assertThat(Duration.ofNanos(System.nanoTime() - started))
          .isGreaterThan(Duration.ofSeconds(BODY_S));
      RawHttp.Response r = s.read(Duration.ofSeconds(60));
      assertThat(r.status()).as("paced chunk upload: %s", r.body()).isEqualTo(200);
    }
    assertThat(
            api.get("/v1/files/" + fileId, u.accessToken())
                .expect(200)
                .json()
                .getJsonArray("received_chunks"))
        .isEqualTo(new JsonArray().add(1));
  }

  @Test
  void anIdleWebSocketIsPingedAndOutlivesTheIdleTimeout() {
    Api.User u = api.newUser("wsidle");
    WebSocketClient ws = client.createWebSocketClient();
    try (WsTestSocket sock = new WsTestSocket(ws, httpPort(), "/v1/ws", Duration.ofSeconds(30))) {
      AtomicInteger pings = new AtomicInteger();
      sock.ws.frameHandler(
          f -> {
            if (f.type() == io.vertx.core.http.WebSocketFrameType.PING) {
              pings.incrementAndGet();
            }
          });
      sock.authenticate(u.accessToken(), null);
      long opened = System.nanoTime();
      Await.until(
          "server pings for twice the idle timeout",
          Duration.ofSeconds(60),
          () -> System.nanoTime() - opened > 2L * IDLE_S * 1_000_000_000L && pings.get() >= 2);
      assertThat(sock.isClosed()).isFalse();
      sock.send(new JsonObject().put("type", "ping").put("request_id", "still-there"));
      sock.await("pong", f -> "still-there".equals(f.getString("request_id")));
    } finally {
      Await.result(ws.close());
    }
  }

  @Test
  void grpcConnectionsWithoutACallAreClosedWhileCallsSucceed() {
    int port = api.node().grpcPort();
    // the HTTP/2 preface and SETTINGS, then no stream: the header timeout
    RawHttp preface = RawHttp.open(port);
    preface.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").send(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
    // nothing at all: the idle timeout
    RawHttp silent = RawHttp.open(port);
    try {
      GrpcClient grpc = GrpcClient.client(client);
      for (int i = 0; i < 5; i++) {
        String echo = "e" + i;
        assertThat(
                Await.result(
                        NodeServiceGrpcClient.create(
                                grpc, SocketAddress.inetSocketAddress(port, "127.0.0.1"))
                            .ping(PingRequest.newBuilder().setEcho(echo).build()))
                    .getEcho())
            .isEqualTo(echo);
      }
      assertThat(preface.closedWithin(CUT_OFF)).as("connection without a stream").isTrue();
      assertThat(silent.closedWithin(CUT_OFF)).as("silent connection").isTrue();
    } finally {
      preface.close();
      silent.close();
    }
  }

  @Test
  void aStalledGrpcUploadIsResetAlthoughItsConnectionStaysBusy() {
    Api.User u = api.newUser("grpcstall");
    HttpClient h2 =
        client.createHttpClient(
            new HttpClientOptions()
                .setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false));
    try {
      HttpClientRequest req =
          Await.result(
              h2.request(
                  new RequestOptions()
                      .setMethod(HttpMethod.POST)
                      .setHost("127.0.0.1")
                      .setPort(api.node().grpcPort())
                      .setURI("/chat4all.v1.FileService/Upload")));
      CompletableFuture<Throwable> reset = new CompletableFuture<>();
      req.exceptionHandler(reset::complete);
      req.response()
          .onSuccess(resp -> resp.exceptionHandler(reset::complete))
          .onFailure(reset::complete);
      req.setChunked(true)
          .putHeader("content-type", "application/grpc")
          .putHeader("te", "trailers")
          .putHeader("authorization", "Bearer " + u.accessToken());
      // a message prefix announcing 1000 bytes, then 10 of them, then nothing
      Buffer partial =
          Buffer.buffer().appendByte((byte) 0).appendInt(1000).appendBytes(new byte[10]);
      Await.result(req.write(partial));
      assertThat(req.version()).isEqualTo(HttpVersion.HTTP_2);
      // pings keep the connection from ever being idle
      long pinger =
          client.setPeriodic(
              500, t -> req.connection().ping(Buffer.buffer("01234567")).onFailure(e -> {}));
      try {
        Throwable t = reset.get(CUT_OFF.toSeconds(), TimeUnit.SECONDS);
        assertThat(t).isNotNull();
      } catch (Exception e) {
        throw new AssertionError("the stalled upload stream was not reset", e);
      } finally {
        client.cancelTimer(pinger);
      }
    } finally {
      Await.result(h2.close());
    }
  }
}
