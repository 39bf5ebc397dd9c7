package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.call;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.node.process.ProcessRest.Res;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backends process (Kafka, PostgreSQL, MongoDB-wire, Redis and S3 together: it can only be
 * restarted as a whole) is stopped and started again on its data directory and ports in the middle
 * of a stream of sends to a node. Sends during the outage are refused with 503 {@code unavailable}
 * (never 500, never left hanging); the node's readiness goes false and then true by itself; sends
 * after it succeed; nothing acknowledged is lost, and a refused message_id sent again later is
 * stored once, one never sent again at most once.
 */
@EnabledIfSystemProperty(
    named = "chaos.enabled",
    matches = "true",
    disabledReason =
        "opt-in (-Dchaos.enabled=true) until /health/ready is proved to go false when the backends"
            + " process stops (see docs/reliability.md)")
class BrokerRestartProcessTest {
  /** Every embedded server on a fixed port, so the restarted process is where the node looks. */
  static NodeProcess backends(Path data, int[] ports) {
    return NodeJvm.start(
        "backends",
        "--data-dir",
        data.toString(),
        "--set",
        "embedded.kafka_port=" + ports[0],
        "--set",
        "embedded.kafka_controller_port=" + ports[1],
        "--set",
        "embedded.postgres_port=" + ports[2],
        "--set",
        "embedded.mongo_port=" + ports[3],
        "--set",
        "embedded.redis_port=" + ports[4],
        "--set",
        "embedded.s3_port=" + ports[5]);
  }

  static Path ready(NodeProcess backends) {
    return Path.of(
        backends
            .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofMinutes(3))
            .group(1));
  }

  static int readiness(int port) {
    try {
      return call(port, "GET", "/health/ready", null, null).status();
    } catch (Exception e) {
      return -1;
    }
  }

  /** An answer to one send: its body and status, how long it took. */
  record Outcome(String id, JsonObject body, int status, String code, long ms) {}

  @Test
  void restartingTheBackendsMidStreamLosesNothingAcknowledged(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("shared");
    int[] ports = new int[6];
    for (int i = 0; i < ports.length; i++) {
      ports[i] = Ports.free("127.0.0.1");
    }
    NodeProcess first = backends(data, ports);
    NodeProcess second = null;
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Path overlay = ready(first);
    try (NodeProcess node =
        NodeJvm.start(
            "run",
            "--config",
            overlay.toString(),
            "--http-port",
            "0",
            "--grpc-port",
            "0",
            "--set",
            "kafka.topic_prefix=restart.",
            "--set",
            "postgres.schema=restart_test",
            "--set",
            "mongo.database=restart_test",
            "--set",
            "auth.password_iterations=1000")) {
      int port =
          Integer.parseInt(
              node.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofMinutes(3))
                  .group(2));
      String a = ProcessRest.login(port, "restart_a");
      String b = ProcessRest.login(port, "restart_b");
      String bId = ProcessRest.ok(port, "GET", "/v1/me", b, null).getString("user_id");
      String conv =
          ProcessRest.ok(
                  port,
                  "POST",
                  "/v1/conversations",
                  a,
                  new JsonObject()
                      .put("type", "private")
                      .put("member_ids", new JsonArray().add(bId)))
              .getString("conversation_id");

      // one client sends without pause, all through the restart
      AtomicBoolean stop = new AtomicBoolean();
      List<Outcome> outcomes = new java.util.concurrent.CopyOnWriteArrayList<>();
      Future<?> stream =
          pool.submit(
              () -> {
                for (int n = 0; !stop.get(); n++) {
                  String id = UUID.randomUUID().toString();
                  JsonObject body = KillConsumerProcessTest.text(conv, id, "m" + n);
                  long t0 = System.nanoTime();
                  Res r;
                  try {
                    r = call(port, "POST", "/v1/messages", a, body);
                  } catch (Exception e) {
                    // no answer at all (for the assertion below to show)
                    r =
                        new Res(
                            -1,
                            new JsonObject()
                                .put("error", new JsonObject().put("code", e.toString())));
                  }
                  JsonObject err = r.json().getJsonObject("error");
                  outcomes.add(
                      new Outcome(
                          id,
                          body,
                          r.status(),
                          err == null ? null : err.getString("code"),
                          (System.nanoTime() - t0) / 1_000_000));
                }
                return null;
              });
      Await.until(
          "30 sends accepted before the restart",
          Duration.ofMinutes(2),
          () -> outcomes.stream().filter(o -> o.status() == 202).count() >= 30);

      first.terminate();
      assertThat(first.awaitExit(Duration.ofMinutes(2))).isIn(0, 143);
      List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      try {
        Await.until(
            "readiness false",
            Duration.ofMinutes(1),
            () -> {
              int r = readiness(port);
              seen.add(r);
              return r == 503;
            });
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; /health/ready answered " + seen, e);
      }
      Await.until(
          "sends refused while the backends are down",
          Duration.ofMinutes(2),
          () -> outcomes.stream().filter(o -> o.status() == 503).count() >= 5);
      second = backends(data, ports);
      ready(second);
      Await.until("readiness true by itself", Duration.ofMinutes(3), () -> readiness(port) == 200);
      int before = outcomes.size();
      Await.until(
          "30 sends accepted after the restart",
          Duration.ofMinutes(3),
          () ->
              outcomes.subList(before, outcomes.size()).stream()
                      .filter(o -> o.status() == 202)
                      .count()
                  >= 30);
      stop.set(true);
      stream.get(2, TimeUnit.MINUTES);

      Map<String, Outcome> acked = new LinkedHashMap<>();
      List<Outcome> refused = new ArrayList<>();
      for (Outcome o : outcomes) {
        if (o.status() == 202) {
          acked.put(o.id(), o);
        } else {
          assertThat(o.status()).as("a send during the outage: %s", o).isEqualTo(503);
          assertThat(o.code()).isEqualTo("unavailable");
          // refused, not left hanging until a timeout
          assertThat(o.ms()).as("refused before the event-bus timeout: %s", o).isLessThan(15_000);
          refused.add(o);
        }
      }
      // every other refused message_id is sent again now: accepted, and stored once
      Set<String> mayBeStored = new HashSet<>(acked.keySet());
      for (int i = 0; i < refused.size(); i++) {
        Outcome o = refused.get(i);
        mayBeStored.add(o.id());
        if (i % 2 == 0) {
          Res r = call(port, "POST", "/v1/messages", a, o.body());
          assertThat(r.status()).as("resend of %s → %s", o.id(), r.json()).isEqualTo(202);
          acked.put(o.id(), o);
        }
      }
      // an acknowledged send repeated gets its first reply (the claim survived the restart)
      Outcome early = acked.values().iterator().next();
      Res again = call(port, "POST", "/v1/messages", a, early.body());
      assertThat(again.status()).isEqualTo(202);
      assertThat(again.json().getString("message_id")).isEqualTo(early.id());

      List<JsonObject> history = KillConsumerProcessTest.awaitHistory(port, b, conv, acked.size());
      KillConsumerProcessTest.gaplessAndOnce(history);
      Set<String> stored = new HashSet<>();
      history.forEach(m -> stored.add(m.getString("message_id")));
      assertThat(stored).as("nothing acknowledged lost").containsAll(acked.keySet());
      assertThat(mayBeStored).as("nothing stored that was never sent").containsAll(stored);
      System.out.printf(
          "backends restart: %d sends accepted, %d refused with 503 during the outage (%d sent"
              + " again), %d stored%n",
          outcomes.size() - refused.size(),
          refused.size(),
          (refused.size() + 1) / 2,
          history.size());
    } finally {
      pool.shutdownNow();
      first.close();
      if (second != null) {
        second.close();
      }
    }
  }
}
