package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.call;
import static io.chat4all.node.process.ProcessRest.login;
import static io.chat4all.node.process.ProcessRest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two clustered nodes consume the pipeline's partitions; one is killed with SIGKILL while a client
 * keeps sending (REST, to the survivor) to conversations spread over all partitions, and a socket
 * on the survivor receives them. The killed node's partitions wait for the consumers' session
 * timeout (kafka.consumer_session_timeout_ms, 2 s), then the survivor takes them: every message
 * arrives, and the worst send-to-socket latency across the kill stays near that timeout. The node
 * then restarts with the same cluster address (so the same static member id) and flow goes on.
 */
@Tag("process")
class FailoverProcessTest {
  static final int CONVERSATIONS = 8;

  static NodeProcess node(Path overlay, int hz, String members) {
    return NodeJvm.start(
        "run",
        "--cluster",
        "--config",
        overlay.toString(),
        "--no-frontend",
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
        "kafka.topic_prefix=fo.",
        "--set",
        "postgres.schema=fo_test",
        "--set",
        "kafka.partitions=4",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "mongo.database=fo_test",
        "--set",
        "admin.usernames=fo_ops");
  }

  static int port(NodeProcess p) {
    return Integer.parseInt(
        p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120))
            .group(2));
  }

  static String nodeId(NodeProcess p) {
    return p.awaitLine("CHAT4ALL NODE READY node=(\\S+)", Duration.ofSeconds(120)).group(1);
  }

  static JsonObject health(int port) {
    try {
      return call(port, "GET", "/health/cluster", null, null).json();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** /health/cluster on {@code port} once it lists {@code id} as missing. */
  static JsonObject awaitMissing(int port, String id) {
    Await.until(
        id + " reported missing",
        Duration.ofSeconds(30),
        () -> health(port).getJsonArray("missing").contains(id));
    return health(port);
  }

  record Sent(String id, String conv, long sentNanos, String phase) {}

  static long percentile(List<Long> sorted, double p) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1));
  }

  @Test
  void messagesFlowAgainSoonAfterANodeIsKilled(@TempDir Path dir) throws Exception {
    Vertx vertx = Vertx.vertx();
    WebSocketClient client = vertx.createWebSocketClient();
    AtomicBoolean sending = new AtomicBoolean(true);
    Thread sender = null;
    try (NodeProcess backends =
        NodeJvm.start("backends", "--data-dir", dir.resolve("shared").toString())) {
      Path overlay =
          Path.of(
              backends
                  .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120))
                  .group(1));
      int hz1 = Ports.free("127.0.0.1");
      int hz2 = Ports.free("127.0.0.1");
      String members = "127.0.0.1:" + hz1 + ",127.0.0.1:" + hz2;
      NodeProcess victim = node(overlay, hz1, members);
      NodeProcess back = null;
      try (NodeProcess survivor = node(overlay, hz2, members)) {
        port(victim);
        int port = port(survivor);
        String ana = login(port, "fo_ana");
        String bia = login(port, "fo_bia");
        String biaId = ok(port, "GET", "/v1/me", bia, null).getString("user_id");
        List<String> convs = new ArrayList<>();
        for (int i = 0; i < CONVERSATIONS; i++) {
          convs.add(
              ok(
                      port,
                      "POST",
                      "/v1/conversations",
                      ana,
                      new JsonObject()
                          .put("type", "group")
                          .put("name", "fo " + i)
                          .put("member_ids", new JsonArray().add(biaId)))
                  .getString("conversation_id"));
        }
        Map<String, Long> arrived = new ConcurrentHashMap<>();
        WsTestSocket sock = new WsTestSocket(client, port, "/v1/ws", Duration.ofSeconds(30));
        sock.authenticate(bia, null);
        sock.ws.textMessageHandler(
            t -> {
              JsonObject f = new JsonObject(t);
              if ("message".equals(f.getString("type"))) {
                arrived.putIfAbsent(
                    f.getJsonObject("message").getString("message_id"), System.nanoTime());
              }
            });

        String[] phase = {"steady"};
        List<Sent> sent = Collections.synchronizedList(new ArrayList<>());
        sender =
            new Thread(
                () -> {
                  for (int n = 0; sending.get(); n++) {
                    String id = UUID.randomUUID().toString();
                    String conv = convs.get(n % CONVERSATIONS);
                    Sent s = new Sent(id, conv, System.nanoTime(), phase[0]);
                    sent.add(s);
                    JsonObject body =
                        new JsonObject()
                            .put("conversation_id", conv)
                            .put("message_id", id)
                            .put(
                                "payload",
                                new JsonObject().put("type", "text").put("text", "#" + n));
                    // a send the edge could not take is resent with the same id
                    for (int attempt = 0; sending.get() || attempt == 0; attempt++) {
                      try {
                        if (call(port, "POST", "/v1/messages", ana, body).status() == 202) {
                          break;
                        }
                      } catch (Exception e) {
                        // retried below
                      }
                      sleep(50);
                    }
                    sleep(40);
                  }
                },
                "failover-sender");
        sender.start();

        // steady flow through every conversation (so through the victim's partitions too)
        Await.until("steady flow", Duration.ofSeconds(30), () -> arrived.size() >= 40);
        long killedAt = System.nanoTime();
        phase[0] = "kill";
        String victimId = nodeId(victim);
        victim.kill();
        victim.awaitExit(Duration.ofSeconds(20));
        // the crashed member stays listed, missing, and the cluster degraded
        JsonObject degraded = awaitMissing(port, victimId);
        assertThat(degraded.getString("status")).isEqualTo("DEGRADED");
        JsonObject gone =
            degraded.getJsonArray("members").stream()
                .map(o -> (JsonObject) o)
                .filter(m -> victimId.equals(m.getString("node_id")))
                .findFirst()
                .orElseThrow();
        assertThat(gone.getString("state")).isEqualTo("missing");
        assertThat(gone.getBoolean("reachable")).isFalse();
        assertThat(java.time.Instant.parse(gone.getString("missing_since")))
            .isBetween(
                java.time.Instant.now().minusSeconds(30), java.time.Instant.now().plusSeconds(1));
        long left = 6000 - (System.nanoTime() - killedAt) / 1_000_000;
        Thread.sleep(Math.max(0, left));
        phase[0] = "rejoin";
        back = node(overlay, hz1, members);
        port(back);
        String backId = nodeId(back);
        // it returned (same cluster address): its old entry is gone, the cluster is whole again
        Await.until(
            "cluster UP again",
            Duration.ofSeconds(30),
            () -> {
              JsonObject h = health(port);
              return "UP".equals(h.getString("status")) && h.getJsonArray("members").size() == 2;
            });
        assertThat(
                health(port).getJsonArray("members").stream()
                    .map(o -> ((JsonObject) o).getString("node_id")))
            .contains(backId)
            .doesNotContain(victimId);
        Thread.sleep(3000);
        sending.set(false);
        sender.join(30_000);

        List<Sent> all = List.copyOf(sent);
        Await.until(
            "every message on the socket",
            Duration.ofSeconds(30),
            () -> all.stream().allMatch(s -> arrived.containsKey(s.id())));

        // the steady phase includes the first sends to cold JVMs: what this machine does anyway.
        // Across the kill the goal is flow again within 3 s; asserted with margin for a loaded
        // 2-core machine (at least 5 s, or the steady worst plus 3 s). The rejoin phase includes
        // the restarted node's cold JVM taking partitions back (one rebalance).
        long steadyWorst = 0;
        for (String which : List.of("steady", "kill", "rejoin")) {
          List<Long> lat = new ArrayList<>();
          for (Sent s : all) {
            if (s.phase().equals(which)) {
              lat.add((arrived.get(s.id()) - s.sentNanos()) / 1_000_000);
            }
          }
          Collections.sort(lat);
          long worst = lat.get(lat.size() - 1);
          System.out.printf(
              "failover %s: %d messages, send→socket p50 %d ms, p99 %d ms, max %d ms%n",
              which, lat.size(), percentile(lat, 0.50), percentile(lat, 0.99), worst);
          if (which.equals("steady")) {
            steadyWorst = worst;
          } else {
            long bound = Math.max(which.equals("kill") ? 5000 : 10_000, steadyWorst + 3000);
            assertThat(worst).as("%s: worst send→socket", which).isLessThan(bound);
          }
        }
        // the longest a conversation went without a message from the kill on (a stalled
        // partition's conversations wait for the session timeout and the rebalance)
        long gap = 0;
        for (String conv : convs) {
          List<Long> times = new ArrayList<>();
          for (Sent s : all) {
            long t = arrived.get(s.id());
            if (s.conv().equals(conv) && t > killedAt) {
              times.add(t);
            }
          }
          Collections.sort(times);
          long previous = killedAt;
          for (long t : times) {
            gap = Math.max(gap, t - previous);
            previous = t;
          }
        }
        System.out.printf(
            "failover: longest silence of a conversation after the kill %d ms%n", gap / 1_000_000);
        // each conversation gets a message only every CONVERSATIONS sends (~2 s apart on a loaded
        // machine), so its silence is that spacing plus the stall
        assertThat(gap / 1_000_000).isLessThan(10_000);
        sock.close();

        // a member that does not come back is removed by an operator
        String backNodeId = nodeId(back);
        back.kill();
        back.awaitExit(Duration.ofSeconds(20));
        awaitMissing(port, backNodeId);
        String ops = login(port, "fo_ops");
        String path = "/v1/admin/cluster/members/";
        assertThat(
                call(port, "DELETE", path + backNodeId, ana, null)
                    .json()
                    .getJsonObject("error")
                    .getString("code"))
            .isEqualTo("forbidden");
        String survivorId = health(port).getString("node_id");
        assertThat(call(port, "DELETE", path + survivorId, ops, null).status()).isEqualTo(409);
        assertThat(call(port, "DELETE", path + backNodeId, ops, null).status()).isEqualTo(204);
        JsonObject whole = health(port);
        assertThat(whole.getString("status")).isEqualTo("UP");
        assertThat(whole.getJsonArray("members")).hasSize(1);
        assertThat(call(port, "DELETE", path + backNodeId, ops, null).status()).isEqualTo(404);
      } finally {
        sending.set(false);
        victim.close();
        if (back != null) {
          back.close();
        }
      }
    } finally {
      if (sender != null) {
        sender.join(10_000);
      }
      Await.result(vertx.close());
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
