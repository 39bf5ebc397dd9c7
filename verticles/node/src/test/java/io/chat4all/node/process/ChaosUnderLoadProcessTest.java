package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.client.GrpcClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three clustered node processes on one backends process take a stream of sends from twelve users
 * (REST, gRPC and WebSocket senders) into {@value #DEFAULT_CONVERSATIONS} conversations, with
 * retries of the same message_id after timeouts and lost connections. During the run one node and
 * then another is killed with SIGKILL and a replacement node joins. Afterwards: every acknowledged
 * message is stored exactly once, each conversation is numbered 1..n without gap and holds each
 * sender's messages in its send order, every member's change feed holds every message in order (a
 * repeat of an entry is allowed, the documented at-least-once feed, and counted), every live socket
 * saw each message once, in order, and a socket reconnected with its cursor got everything it
 * missed.
 *
 * <p>Size: {@code -Dchaos.sends} (default {@value #DEFAULT_SENDS}, the suite's size: the kills, the
 * joining node and every audit are the same at any size) and {@code -Dchaos.conversations}; {@code
 * ./chat4all bench chaos} runs it at the bench size (100,000).
 */
@Tag("process")
class ChaosUnderLoadProcessTest {
  static final int DEFAULT_SENDS = 20_000;
  static final int DEFAULT_CONVERSATIONS = 200;
  static final int USERS = 12;

  /** A node process with its ports. */
  record Node(NodeProcess process, int http, int grpc) {
    Integer[] ports() {
      return new Integer[] {http, grpc};
    }
  }

  static NodeProcess start(Path overlay, int hz, String members) {
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
        "kafka.topic_prefix=chaos.",
        "--set",
        "postgres.schema=chaos_test",
        "--set",
        "mongo.database=chaos_test",
        "--set",
        "kafka.partitions=6",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "rate_limit.per_user_per_minute=0",
        "--set",
        "rate_limit.per_ip_per_minute=0",
        // the audit reads every feed from its start: a feed holds the whole run (a user gets at
        // most every send), not the default 10,000 entries after which the oldest are trimmed
        "--set",
        "messaging.feed_max_entries="
            + Math.max(10_000, Integer.getInteger("chaos.sends", DEFAULT_SENDS)));
  }

  static Node ready(NodeProcess p) {
    Matcher m =
        p.awaitLine(
            "CHAT4ALL NODE READY node=(\\S+) http=(\\d+) grpc=(\\d+)", Duration.ofMinutes(4));
    return new Node(p, Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
  }

  /** A user's receiving socket and every connection it had, in order. */
  static final class Receiver {
    final String token;
    final List<LiveSocket> connections = new CopyOnWriteArrayList<>();

    Receiver(String token) {
      this.token = token;
    }

    /** Connections that ended on a node that stayed up, each with why (the server's reason). */
    final List<String> drops = new CopyOnWriteArrayList<>();

    LiveSocket current() {
      return connections.get(connections.size() - 1);
    }

    /** After its node died: a new connection on {@code port} from the last cursor it got. */
    void reconnect(WebSocketClient client, int port) throws Exception {
      Await.until("the receiver's socket closed", Duration.ofMinutes(2), current()::isClosed);
      connections.add(LiveSocket.open(client, port, token, current().lastCursor()));
    }

    /**
     * What a client does when the server ends its connection (try again later, too slow): a new
     * connection on {@code port} from the last cursor it got; the reason is kept.
     */
    void resumeIfDropped(WebSocketClient client, int port) {
      if (!current().isClosed()) {
        return;
      }
      drops.add(current().port + ": " + current().ended());
      try {
        connections.add(LiveSocket.open(client, port, token, current().lastCursor()));
      } catch (Exception e) {
        throw new AssertionError("reconnecting failed", e);
      }
    }
  }

  @Test
  void killingNodesUnderLoadLosesReordersAndDuplicatesNothing(@TempDir Path dir) throws Exception {
    int total = Integer.getInteger("chaos.sends", DEFAULT_SENDS);
    int conversations = Integer.getInteger("chaos.conversations", DEFAULT_CONVERSATIONS);
    // waits grow with the size (the bench size runs for tens of minutes on a small machine)
    Duration phase = Duration.ofMinutes(5 + total / 1000);
    long t0 = System.nanoTime();
    Vertx vertx = Vertx.vertx();
    WebSocketClient wsClient = vertx.createWebSocketClient();
    GrpcClient grpc = GrpcClient.client(vertx);
    ExecutorService pool = Executors.newCachedThreadPool();
    List<NodeProcess> started = new ArrayList<>();
    try (NodeProcess backends =
        NodeJvm.start("backends", "--data-dir", dir.resolve("shared").toString())) {
      Path overlay =
          Path.of(
              backends
                  .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofMinutes(3))
                  .group(1));
      int[] hz = new int[4];
      for (int i = 0; i < 4; i++) {
        hz[i] = Ports.free("127.0.0.1");
      }
      String members =
          String.join(
              ",",
              java.util.Arrays.stream(hz).mapToObj(p -> "127.0.0.1:" + p).toArray(String[]::new));
      for (int i = 0; i < 3; i++) {
        started.add(start(overlay, hz[i], members));
      }
      Node a = ready(started.get(0));
      Node b = ready(started.get(1));
      Node c = ready(started.get(2));
      AtomicReference<List<Integer[]>> up =
          new AtomicReference<>(List.of(a.ports(), b.ports(), c.ports()));

      // users, conversations of three members each, every member's feed position and socket
      List<String> tokens = new ArrayList<>();
      List<String> userIds = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        String t = ProcessRest.login(c.http(), "chaos_u" + u);
        tokens.add(t);
        userIds.add(ProcessRest.ok(c.http(), "GET", "/v1/me", t, null).getString("user_id"));
      }
      Map<Integer, List<String>> convsOf = new HashMap<>();
      Map<String, String> readerToken = new HashMap<>();
      for (int k = 0; k < conversations; k++) {
        int owner = k % USERS;
        int m1 = (k + 1) % USERS;
        int m2 = (k + 5) % USERS;
        String conv =
            ProcessRest.ok(
                    c.http(),
                    "POST",
                    "/v1/conversations",
                    tokens.get(owner),
                    new JsonObject()
                        .put("type", "group")
                        .put("name", "chaos " + k)
                        .put(
                            "member_ids",
                            new JsonArray().add(userIds.get(m1)).add(userIds.get(m2))))
                .getString("conversation_id");
        readerToken.put(conv, tokens.get(owner));
        for (int u : new int[] {owner, m1, m2}) {
          convsOf.computeIfAbsent(u, x -> new ArrayList<>()).add(conv);
        }
      }
      Node[] first = {a, b, c};
      List<String> feedStart = new ArrayList<>();
      List<Receiver> receivers = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        feedStart.add(
            ProcessRest.ok(c.http(), "GET", "/v1/sync", tokens.get(u), null)
                .getString("next_cursor"));
        Receiver r = new Receiver(tokens.get(u));
        r.connections.add(LiveSocket.open(wsClient, first[u % 3].http(), tokens.get(u), null));
        receivers.add(r);
      }

      // the load
      CountDownLatch replacementUp = new CountDownLatch(1);
      Map<String, List<ChaosSender.Ack>> acked = new ConcurrentHashMap<>();
      AtomicInteger ackCount = new AtomicInteger();
      List<ChaosSender> senders = new ArrayList<>();
      List<Future<?>> running = new ArrayList<>();
      int quota = total / USERS;
      long loadStart = System.nanoTime();
      for (int u = 0; u < USERS; u++) {
        ChaosSender s =
            new ChaosSender(
                u, ChaosSender.Protocol.values()[u % 3], tokens.get(u), up::get, grpc, wsClient);
        senders.add(s);
        List<String> mine = convsOf.get(u);
        running.add(
            pool.submit(
                () -> {
                  s.run(
                      mine,
                      quota,
                      n -> {
                        if (n == quota * 4 / 5) {
                          try {
                            // the last fifth of the load also goes through the replacement
                            assertThat(replacementUp.await(6, TimeUnit.MINUTES)).isTrue();
                          } catch (InterruptedException e) {
                            throw new AssertionError(e);
                          }
                        }
                      },
                      ack -> {
                        acked
                            .computeIfAbsent(ack.conversation(), x -> new CopyOnWriteArrayList<>())
                            .add(ack);
                        ackCount.incrementAndGet();
                      });
                  return null;
                }));
      }
      int sends = quota * USERS;
      Await.until("a quarter sent", phase, () -> ackCount.get() >= sends / 4);
      up.set(List.of(b.ports(), c.ports()));
      a.process().kill();
      NodeProcess replacement = start(overlay, hz[3], members);
      started.add(replacement);
      for (int u = 0; u < USERS; u += 3) {
        receivers.get(u).reconnect(wsClient, c.http());
      }
      Await.until("over half sent", phase, () -> ackCount.get() >= sends * 11 / 20);
      up.set(List.<Integer[]>of(c.ports()));
      b.process().kill();
      Node d = ready(replacement);
      up.set(List.of(c.ports(), d.ports()));
      replacementUp.countDown();
      for (int u = 1; u < USERS; u += 3) {
        receivers.get(u).reconnect(wsClient, d.http());
      }
      for (Future<?> f : running) {
        f.get(phase.toMinutes(), TimeUnit.MINUTES);
      }
      long loadMs = (System.nanoTime() - loadStart) / 1_000_000;

      // the audit
      Map<String, List<JsonObject>> stored =
          ChaosAudit.histories(c.http(), readerToken, acked, phase);
      int feedRepeats = 0;
      int socketRepeats = 0;
      for (int u = 0; u < USERS; u++) {
        var expected = ChaosAudit.expected(convsOf.get(u), stored);
        List<JsonObject> feed = ChaosAudit.feed(d.http(), tokens.get(u), feedStart.get(u));
        feedRepeats += ChaosAudit.inOrderWithRepeats("feed of user " + u, feed);
        assertThat(new java.util.HashSet<>(feed.stream().map(ChaosAudit::key).toList()))
            .containsExactlyInAnyOrderElementsOf(expected);
        Receiver r = receivers.get(u);
        try {
          Await.until(
              "user " + u + "'s sockets got everything",
              Duration.ofMinutes(2),
              () -> {
                r.resumeIfDropped(wsClient, d.http());
                java.util.Set<String> got = new java.util.HashSet<>();
                r.connections.forEach(s -> s.messages.forEach(m -> got.add(ChaosAudit.key(m))));
                return got.containsAll(expected);
              });
        } catch (AssertionError e) {
          List<String> missing = new ArrayList<>(expected);
          r.connections.forEach(s -> s.messages.forEach(m -> missing.remove(ChaosAudit.key(m))));
          List<Integer> per = r.connections.stream().map(s -> s.messages.size()).toList();
          throw new AssertionError(
              e.getMessage()
                  + ": "
                  + missing.size()
                  + " of "
                  + expected.size()
                  + " missing (connections got "
                  + per
                  + "), e.g. "
                  + missing.subList(0, Math.min(5, missing.size()))
                  + "; connections the server ended: "
                  + r.drops,
              e);
        }
        List<JsonObject> live = new ArrayList<>();
        for (int k = 0; k < r.connections.size(); k++) {
          ChaosAudit.onceInOrder("socket " + k + " of user " + u, r.connections.get(k).messages);
          live.addAll(r.connections.get(k).messages);
        }
        // across a reconnect the replay comes from the feed, which may hold a repeat
        socketRepeats += ChaosAudit.inOrderWithRepeats("the sockets of user " + u, live);
        assertThat(new java.util.HashSet<>(live.stream().map(ChaosAudit::key).toList()))
            .containsExactlyInAnyOrderElementsOf(expected);
      }
      List<String> drops = new ArrayList<>();
      for (int u = 0; u < USERS; u++) {
        for (String why : receivers.get(u).drops) {
          drops.add("user " + u + " on " + why);
        }
      }
      int retries = senders.stream().mapToInt(s -> s.retries.get()).sum();
      int duplicates = senders.stream().mapToInt(s -> s.duplicates.get()).sum();
      System.out.printf(
          "chaos: %d sends acknowledged into %d conversations in %d ms (%d retried attempts after"
              + " timeouts/lost connections, %d deliberate resends), 2 nodes killed, 1 joined;"
              + " repeats (at-least-once, documented): %d in feeds, %d across socket reconnects;"
              + " audit done after %d ms in all; connections the server ended on live nodes: %s%n",
          ackCount.get(),
          conversations,
          loadMs,
          retries,
          duplicates,
          feedRepeats,
          socketRepeats,
          (System.nanoTime() - t0) / 1_000_000,
          drops);
      assertThat(ackCount.get()).isEqualTo(sends);
      // a listening socket answers the server's pings, so it is never closed as idle
      assertThat(drops).noneMatch(why -> why.contains("idle"));
      receivers.forEach(r -> r.current().close());
    } finally {
      pool.shutdownNow();
      for (NodeProcess p : started) {
        p.close();
      }
      Await.result(vertx.close());
    }
  }
}
