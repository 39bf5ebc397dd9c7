package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node as users run it: one process in embedded mode with its own data directory. It becomes
 * ready, answers health and metrics, stops on SIGTERM leaving no server process behind, and starts
 * again on the same data.
 */
@Tag("process")
class EmbeddedNodeProcessTest {
  static final HttpClient http = HttpClient.newHttpClient();

  @Test
  void startsReadyStopsCleanlyAndRestarts(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    String marker = data.toAbsolutePath().toString();
    long cold;
    try (NodeProcess node =
        NodeJvm.start(
            "run", "--data-dir", data.toString(), "--http-port", "0", "--grpc-port", "0")) {
      Matcher ready =
          node.awaitLine(
              "CHAT4ALL NODE READY node=(\\S+) http=(\\d+) grpc=(\\d+) ready_ms=(\\d+)",
              Duration.ofSeconds(120));
      int httpPort = Integer.parseInt(ready.group(2));
      cold = Long.parseLong(ready.group(4));
      assertThat(node.output()).contains("REST API        : http://127.0.0.1:" + httpPort + "/v1/");

      HttpResponse<String> health =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health/ready"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(health.body()).getString("outcome")).isEqualTo("UP");
      HttpResponse<String> metrics =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.body()).contains("jvm_threads_live_threads");

      // the embedded servers run under the data directory while the node lives
      assertThat(NodeProcess.processesMentioning(marker)).isNotEmpty();
      assertThat(Files.exists(data.resolve("postgres/PG_VERSION"))).isTrue();

      node.terminate();
      int code = node.awaitExit(Duration.ofSeconds(60));
      assertThat(code).isIn(0, 143);
      assertThat(node.output()).contains("embedded postgres stopped");
    }
    Await.until(
        "no process left under " + marker,
        Duration.ofSeconds(10),
        () -> NodeProcess.processesMentioning(marker).isEmpty());

    try (NodeProcess again =
        NodeJvm.start(
            "run", "--data-dir", data.toString(), "--http-port", "0", "--grpc-port", "0")) {
      Matcher ready =
          again.awaitLine(
              "CHAT4ALL NODE READY node=(\\S+) http=(\\d+) grpc=(\\d+) ready_ms=(\\d+)",
              Duration.ofSeconds(120));
      System.out.println(
          "embedded start-to-ready: cold " + cold + " ms, warm " + ready.group(4) + " ms");
      again.terminate();
      assertThat(again.awaitExit(Duration.ofSeconds(60))).isIn(0, 143);
    }
  }

  @Test
  void secondProcessOnSameDataDirIsRefused(@TempDir Path dir) {
    Path data = dir.resolve("data");
    try (NodeProcess first = NodeJvm.start("backends", "--data-dir", data.toString())) {
      first.awaitLine("CHAT4ALL BACKENDS READY", Duration.ofSeconds(120));
      try (NodeProcess second = NodeJvm.start("backends", "--data-dir", data.toString())) {
        assertThat(second.awaitExit(Duration.ofSeconds(60))).isEqualTo(1);
        assertThat(second.output())
            .contains("is in use by another Chat4All process (pid " + first.pid() + ")");
      }
      assertThat(first.isAlive()).isTrue();
    }
  }

  @Test
  void crashLeftoversAreCleanedAtNextStart(@TempDir Path dir) {
    Path data = dir.resolve("data");
    String marker = data.toAbsolutePath().toString();
    try (NodeProcess crashed = NodeJvm.start("backends", "--data-dir", data.toString())) {
      crashed.awaitLine("CHAT4ALL BACKENDS READY", Duration.ofSeconds(120));
      crashed.kill();
      crashed.awaitExit(Duration.ofSeconds(30));
    }
    // postgres and redis-server outlive a SIGKILLed JVM
    assertThat(NodeProcess.processesMentioning(marker)).isNotEmpty();
    try (NodeProcess next = NodeJvm.start("backends", "--data-dir", data.toString())) {
      next.awaitLine("CHAT4ALL BACKENDS READY", Duration.ofSeconds(120));
      assertThat(next.output()).contains("stopping stale");
      next.terminate();
      assertThat(next.awaitExit(Duration.ofSeconds(60))).isIn(0, 143);
    }
    Await.until(
        "no process left under " + marker,
        Duration.ofSeconds(10),
        () -> NodeProcess.processesMentioning(marker).isEmpty());
  }
}
