package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.call;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backends process (Kafka, PostgreSQL, MongoDB-wire, Redis and S3 together) is stopped and
 * started again on its data directory and ports in the middle of a stream of sends to a node. Sends
 * during the outage are refused with 503 {@code unavailable} (never 500, never left hanging); the
 * node's readiness is 503 within seconds and 200 again by itself; sends after it succeed; nothing
 * acknowledged is lost, and a refused message_id sent again later is stored once, one never sent
 * again at most once.
 */
@Tag("process")
class BrokerRestartProcessTest {
  /** Readiness must turn within this after a backend goes away. */
  static final Duration READINESS_TURNS = Duration.ofSeconds(10);

  /** Every embedded server on a fixed port, so the restarted process is where the node looks. */
  static NodeProcess backends(Path data, int[] ports, String... more) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
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
                "embedded.s3_port=" + ports[5]));
    args.addAll(List.of(more));
    return NodeJvm.start(args.toArray(String[]::new));
  }

  static int[] freePorts() {
    int[] ports = new int[6];
    for (int i = 0; i < ports.length; i++) {
      ports[i] = Ports.free("127.0.0.1");
    }
    return ports;
  }

  static Path ready(NodeProcess backends) {
    return Path.of(
        backends
            .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofMinutes(3))
            .group(1));
  }

  /** A node on the backends of {@code overlay}; its HTTP port. */
  static NodeProcess node(Path overlay, String name) {
    return NodeJvm.start(
        "run",
        "--config",
        overlay.toString(),
        "--http-port",
        "0",
        "--grpc-port",
        "0",
        "--set",
        "kafka.topic_prefix=" + name + ".",
        "--set",
        "postgres.schema=" + name + "_test",
        "--set",
        "mongo.database=" + name + "_test",
        "--set",
        "auth.password_iterations=1000");
  }

  static int httpPort(NodeProcess node) {
    return Integer.parseInt(
        node.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofMinutes(3))
            .group(2));
  }

  /** The node's log lines that say what went wrong (for a failure to show). */
  static String trouble(NodeProcess node) {
    try {
      // the whole output next to the surefire reports, for what 40 lines cannot show
      Path out = Path.of("target", "node-output-" + System.nanoTime() + ".log");
      java.nio.file.Files.writeString(out, node.output());
    } catch (java.io.IOException | RuntimeException ignored) {
      // only a diagnostic
    }
    List<String> lines =
        node.output()
            .lines()
            .filter(l -> l.contains("WARN") || l.contains("ERROR") || l.startsWith("\t"))
            // the Kafka clients' reconnect attempts say nothing about a failed request
            .filter(l -> !l.contains("o.a.k.clients.NetworkClient"))
            .toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  static int readiness(int port) {
    try {
      return call(port, "GET", "/health/ready", null, null).status();
    } catch (Exception e) {
      return -1;
    }
  }

  /** Waits for /health/ready to answer {@code status}; the failure lists what it answered. */
  static long awaitReadiness(int port, int status, Duration within) {
    List<Integer> seen = new CopyOnWriteArrayList<>();
    long t0 = System.nanoTime();
    try {
      Await.until(
          "readiness " + status,
          within,
          () -> {
            int r = readiness(port);
            seen.add(r);
            return r == status;
          });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; /health/ready answered " + seen, e);
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void restartingTheBackendsMidStreamLosesNothingAcknowledged(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("shared");
    int[] ports = freePorts();
    NodeProcess first = backends(data, ports);
    NodeProcess second = null;
    Path overlay = ready(first);
    NodeProcess node = node(overlay, "restart");
    try (node;
        SendStream stream = SendStream.start(httpPort(node), "restart")) {
      int port = stream.port;
      stream.await("30 sends accepted before the restart", 202, 30, 0, Duration.ofMinutes(2));

      first.terminate();
      assertThat(first.awaitExit(Duration.ofMinutes(2))).isIn(0, 143);
      long notReadyMs = awaitReadiness(port, 503, READINESS_TURNS);
      stream.await("sends refused while the backends are down", 503, 5, 0, Duration.ofMinutes(1));
      second = backends(data, ports);
      ready(second);
      long readyMs = awaitReadiness(port, 200, Duration.ofMinutes(2));
      int before = stream.outcomes.size();
      stream.await("30 sends accepted after the restart", 202, 30, before, Duration.ofMinutes(2));
      System.out.printf(
          "backends restart: readiness 503 %d ms after the stop, 200 %d ms after the start%n",
          notReadyMs, readyMs);
      stream.stopAndAudit("backends restart");
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nnode warnings:\n" + trouble(node), e);
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
    }
  }
}
