package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.GeneratedBytes;
import io.chat4all.testkit.NodeProcess;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two users on two node processes of one cluster (sharing one backends process) exchange messages,
 * receipts and typing live; a login ended on one node (logout, refresh-token reuse) is refused on
 * both and its sockets on the other node close at once; when one node is killed, a third node joins
 * and the user reconnects there with the last cursor and gets what was missed, once, in order.
 */
@Tag("process")
class ClusterRealtimeProcessTest {
  static final HttpClient http = ProcessRest.http;
  static final Duration WAIT = Duration.ofSeconds(60);

  static JsonObject rest(int port, String method, String path, String token, JsonObject body)
      throws Exception {
    return ProcessRest.call(port, method, path, token, body).json();
  }

  static NodeProcess node(Path overlay, int hz, String members) {
    return NodeJvm.start(
        "run",
        "--cluster",
        "--config",
        overlay.toString(),
        "--http-port",
        "0",
        "--grpc-port",
        "0",
        "--cluster-host",
        "127.0.0.1",
        "--cluster-port",
        Integer.toString(hz),
        "--cluster-members",
        members,
        "--set",
        "kafka.topic_prefix=rt.",
        "--set",
        "postgres.schema=rt_test",
        "--set",
        "kafka.partitions=4",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "mongo.database=rt_test",
        "--set",
        "realtime.presence_ttl_seconds=3",
        "--set",
        "realtime.presence_sweep_seconds=1");
  }

  static int port(NodeProcess p) {
    return Integer.parseInt(
        p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120))
            .group(2));
  }

  /** A WebSocket of the /v1/ws protocol, authenticated, recording every frame. */
  static final class Sock extends WsTestSocket {
    Sock(WebSocketClient client, int port, String token, String cursor) {
      super(client, port, "/v1/ws", WAIT);
      authenticate(token, cursor);
    }
  }

  static JsonObject sendFrame(String conv, String text) {
    return new JsonObject()
        .put("type", "send")
        .put("request_id", UUID.randomUUID().toString())
        .put("conversation_id", conv)
        .put("message_id", UUID.randomUUID().toString())
        .put("payload", new JsonObject().put("type", "text").put("text", text));
  }

  static void uploadAcrossNodes(int portA, int portB, String ana, String bia, String conv)
      throws Exception {
    long chunk = 8L * 1024 * 1024;
    long size = 2 * chunk + 4321;
    GeneratedBytes data = new GeneratedBytes(77, size);
    String whole = data.sha256(0, size);
    JsonObject init =
        rest(
            portA,
            "POST",
            "/v1/files",
            ana,
            new JsonObject()
                .put("filename", "both-nodes.bin")
                .put("size_bytes", size)
                .put("mime_type", "application/octet-stream")
                .put("checksum_sha256", whole)
                .put("conversation_id", conv));
    String fileId = init.getString("file_id");
    assertThat(init.getLong("chunk_size")).isEqualTo(chunk);
    int[] ports = {portA, portB, portA};
    List<java.util.concurrent.CompletableFuture<Integer>> sent = new java.util.ArrayList<>();
    for (int n = 1; n <= 3; n++) {
      int number = n;
      long from = (n - 1) * chunk;
      long len = Math.min(chunk, size - from);
      sent.add(
          java.util.concurrent.CompletableFuture.supplyAsync(
              () ->
                  data.putChunk(
                          http,
                          "http://127.0.0.1:" + ports[number - 1],
                          ana,
                          fileId,
                          number,
                          from,
                          len,
                          data.sha256(from, len))
                      .statusCode()));
    }
    for (var f : sent) {
      assertThat(f.get()).isEqualTo(200);
    }
    JsonObject done = rest(portB, "POST", "/v1/files/" + fileId + "/complete", ana, null);
    assertThat(done.getString("upload_status")).isEqualTo("completed");
    assertThat(done.getString("checksum_sha256")).isEqualTo(whole);
    String url =
        rest(portA, "GET", "/v1/files/" + fileId + "/download?redirect=false", bia, null)
            .getString("url");
    byte[] body =
        http.send(
                HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofByteArray())
            .body();
    assertThat(java.util.HexFormat.of().formatHex(GeneratedBytes.digest().digest(body)))
        .isEqualTo(whole);
  }

  static JsonObject login(int port, String name) throws Exception {
    return ProcessRest.ok(
        port,
        "POST",
        "/v1/auth/token",
        null,
        new JsonObject().put("username", name).put("password", "kept-secret-1"));
  }

  /** The socket was told {@code code} and closed with 4001. */
  static void awaitRefused(Sock s, String code) {
    s.await(
        code,
        f ->
            "error".equals(f.getString("type"))
                && code.equals(f.getJsonObject("error").getString("code")));
    assertThat(s.awaitClose()).isEqualTo((short) 4001);
  }

  /**
   * REST on both nodes refuses the token with token_revoked within a second (each node checks its
   * own copy of the revocations, kept by events), then again and again for a while.
   */
  static void staysRevoked(String what, int portA, int portB, String token) {
    Runnable refusedOnBoth =
        () -> {
          for (int port : new int[] {portA, portB}) {
            try {
              ProcessRest.Res r = ProcessRest.call(port, "GET", "/v1/me", token, null);
              assertThat(r.status()).as("GET /v1/me on " + port + " → " + r.json()).isEqualTo(401);
              assertThat(r.json().getJsonObject("error").getString("code"))
                  .isEqualTo("token_revoked");
            } catch (AssertionError e) {
              throw e;
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          }
        };
    Await.until(what + " within a second", Duration.ofSeconds(1), () -> passes(refusedOnBoth));
    Await.holds(what, Duration.ofSeconds(5), refusedOnBoth);
  }

  static boolean passes(Runnable check) {
    try {
      check.run();
      return true;
    } catch (AssertionError e) {
      return false;
    }
  }

  static int sendStatus(int port, String token, String conv) throws Exception {
    return ProcessRest.call(
            port,
            "POST",
            "/v1/messages",
            token,
            new JsonObject()
                .put("conversation_id", conv)
                .put("message_id", UUID.randomUUID().toString())
                .put("payload", new JsonObject().put("type", "text").put("text", "member?")))
        .status();
  }

  /**
   * A member removed on node A can no longer send on either node within a second: each node answers
   * membership from its own copy, which the change's event drops on every node.
   */
  static void removedMembersAreRefusedOnBothNodes(int portA, int portB) throws Exception {
    // two users of their own, so that nothing here reaches the others' sockets and feeds
    String ana = ProcessRest.login(portA, "rt_dan");
    String bia = ProcessRest.login(portB, "rt_cai");
    String biaId = rest(portB, "GET", "/v1/me", bia, null).getString("user_id");
    String group =
        rest(
                portA,
                "POST",
                "/v1/conversations",
                ana,
                new JsonObject()
                    .put("type", "group")
                    .put("name", "members on two nodes")
                    .put("member_ids", new JsonArray().add(biaId)))
            .getString("conversation_id");
    // both nodes now hold the group's members
    assertThat(sendStatus(portB, bia, group)).isEqualTo(202);
    assertThat(sendStatus(portA, bia, group)).isEqualTo(202);
    assertThat(
            ProcessRest.call(
                    portA, "DELETE", "/v1/conversations/" + group + "/members/" + biaId, ana, null)
                .status())
        .isEqualTo(204);
    Runnable refusedOnBoth =
        () -> {
          for (int port : new int[] {portB, portA}) {
            try {
              assertThat(sendStatus(port, bia, group)).as("send on " + port).isEqualTo(404);
            } catch (AssertionError e) {
              throw e;
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          }
        };
    Await.until(
        "the removed member refused on both nodes within a second",
        Duration.ofSeconds(1),
        () -> passes(refusedOnBoth));
    Await.holds("the removed member stays refused", Duration.ofSeconds(3), refusedOnBoth);
    assertThat(sendStatus(portB, ana, group)).as("the owner still sends").isEqualTo(202);
  }

  /**
   * A logout on node A (without a refresh token) closes the login's socket on node B at once, and
   * both nodes refuse its access and refresh tokens; a refresh token reused on node B does the same
   * to the rotated login's socket on node A.
   */
  static void endedLoginsAreRefusedOnBothNodes(
      WebSocketClient client, int portA, int portB, String name) throws Exception {
    JsonObject second = login(portA, name);
    String access = second.getString("access_token");
    Sock onB = new Sock(client, portB, access, null);
    assertThat(ProcessRest.call(portA, "POST", "/v1/auth/logout", access, null).status())
        .isEqualTo(204);
    awaitRefused(onB, "token_revoked");
    staysRevoked("the logged-out token refused on both nodes", portA, portB, access);
    ProcessRest.Res refresh =
        ProcessRest.call(
            portB,
            "POST",
            "/v1/auth/refresh",
            null,
            new JsonObject().put("refresh_token", second.getString("refresh_token")));
    assertThat(refresh.status()).isEqualTo(401);

    JsonObject third = login(portB, name);
    JsonObject rotated =
        ProcessRest.ok(
            portB,
            "POST",
            "/v1/auth/refresh",
            null,
            new JsonObject().put("refresh_token", third.getString("refresh_token")));
    Sock onA = new Sock(client, portA, rotated.getString("access_token"), null);
    // the used refresh token is presented again, on the other node: the login ends
    ProcessRest.Res reuse =
        ProcessRest.call(
            portB,
            "POST",
            "/v1/auth/refresh",
            null,
            new JsonObject().put("refresh_token", third.getString("refresh_token")));
    assertThat(reuse.status()).isEqualTo(401);
    awaitRefused(onA, "token_revoked");
    staysRevoked(
        "the reused login's tokens refused on both nodes",
        portA,
        portB,
        rotated.getString("access_token"));
  }

  @Test
  void usersOnDifferentNodesTalkLiveAndSurviveANodeDying(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx();
    WebSocketClient client = vertx.createWebSocketClient();
    try (NodeProcess backends =
        NodeJvm.start("backends", "--data-dir", dir.resolve("shared").toString())) {
      Path overlay =
          Path.of(
              backends
                  .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120))
                  .group(1));
      int hzA = Ports.free("127.0.0.1");
      int hzB = Ports.free("127.0.0.1");
      int hzC = Ports.free("127.0.0.1");
      String members = "127.0.0.1:" + hzA + ",127.0.0.1:" + hzB + ",127.0.0.1:" + hzC;
      try (NodeProcess a = node(overlay, hzA, members);
          NodeProcess b = node(overlay, hzB, members)) {
        int portA = port(a);
        int portB = port(b);
        // registered on node A, Bia logs in on node B
        String ana = ProcessRest.login(portA, "rt_ana");
        ProcessRest.login(portA, "rt_bia");
        String bia = ProcessRest.login(portB, "rt_bia");
        String biaId = rest(portB, "GET", "/v1/me", bia, null).getString("user_id");
        String conv =
            rest(
                    portA,
                    "POST",
                    "/v1/conversations",
                    ana,
                    new JsonObject()
                        .put("type", "private")
                        .put("member_ids", new JsonArray().add(biaId)))
                .getString("conversation_id");

        // a file's chunks arrive in parallel on both nodes; it completes on one and downloads
        uploadAcrossNodes(portA, portB, ana, bia, conv);

        Sock anaSock = new Sock(client, portA, ana, null);
        Sock biaSock = new Sock(client, portB, bia, null);

        // Bia came online on node B: Ana, on node A, is told live and sees it in the presence API
        anaSock.await(
            "Bia's presence on A",
            f ->
                "presence".equals(f.getString("type"))
                    && biaId.equals(f.getString("user_id"))
                    && "online".equals(f.getString("status")));
        JsonObject presence = rest(portA, "GET", "/v1/presence?user_ids=" + biaId, ana, null);
        assertThat(presence.getJsonArray("items").getJsonObject(0).getString("status"))
            .isEqualTo("online");

        // a message from node A's socket arrives on node B's socket, once
        anaSock.send(sendFrame(conv, "hello from A"));
        JsonObject got = biaSock.await("message on B", f -> "message".equals(f.getString("type")));
        String messageId = got.getJsonObject("message").getString("message_id");
        assertThat(got.getJsonObject("message").getJsonObject("payload").getString("text"))
            .isEqualTo("hello from A");

        // receipt and typing travel back
        biaSock.send(new JsonObject().put("type", "delivered").put("message_id", messageId));
        anaSock.await(
            "delivered status on A",
            f -> "status".equals(f.getString("type")) && "delivered".equals(f.getString("status")));
        biaSock.send(new JsonObject().put("type", "typing").put("conversation_id", conv));
        anaSock.await("typing on A", f -> "typing".equals(f.getString("type")));
        String biaCursor = biaSock.lastCursor();
        assertThat(biaSock.messages()).hasSize(1);

        removedMembersAreRefusedOnBothNodes(portA, portB);
        endedLoginsAreRefusedOnBothNodes(client, portA, portB, "rt_ana");
        assertThat(anaSock.isClosed()).as("Ana's other login goes on").isFalse();

        // node B dies with Bia's socket; Ana keeps writing
        b.kill();
        Await.until("Bia's socket closed", WAIT, biaSock::isClosed);
        // her connection entries expire with nobody to renew them: Ana is told she went offline
        anaSock.await(
            "Bia offline after her node died",
            f ->
                "presence".equals(f.getString("type"))
                    && biaId.equals(f.getString("user_id"))
                    && "offline".equals(f.getString("status")));
        for (int i = 0; i < 3; i++) {
          anaSock.send(sendFrame(conv, "while away " + i));
        }
        Await.until(
            "Ana's three sends acknowledged",
            WAIT,
            () ->
                anaSock.frames.stream()
                        .filter(
                            f ->
                                "ack".equals(f.getString("type"))
                                    && f.getJsonObject("message") != null)
                        .count()
                    >= 4);

        // a third node joins; Bia reconnects there with her last cursor
        try (NodeProcess c = node(overlay, hzC, members)) {
          int portC = port(c);
          Sock again = new Sock(client, portC, bia, biaCursor);
          Await.until("the three missed messages", WAIT, () -> again.messages().size() >= 3);
          List<String> texts =
              again.messages().stream()
                  .map(f -> f.getJsonObject("message").getJsonObject("payload").getString("text"))
                  .toList();
          assertThat(texts).containsExactly("while away 0", "while away 1", "while away 2");
          // and live traffic continues on the new node
          anaSock.send(sendFrame(conv, "welcome back"));
          again.await(
              "live after reconnect",
              f ->
                  "message".equals(f.getString("type"))
                      && "welcome back"
                          .equals(
                              f.getJsonObject("message")
                                  .getJsonObject("payload")
                                  .getString("text")));
          assertThat(again.messages()).hasSize(4);
        }
      }
    } finally {
      Await.result(vertx.close());
    }
  }
}
