package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two node JVMs on loopback sharing one {@code backends} process form a Hazelcast cluster: each
 * sees the other in the cluster-wide node map and reaches it by event-bus request/reply; when one
 * is killed the other lists it as missing (the cluster DEGRADED).
 */
@Tag("process")
class ClusterProcessTest {
  static final HttpClient http = HttpClient.newHttpClient();

  static JsonObject clusterView(int httpPort) {
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health/cluster"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return new JsonObject(r.body());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static NodeProcess clusterNode(Path overlay, int hzPort, String members) {
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
        Integer.toString(hzPort),
        "--cluster-members",
        members,
        "--set",
        "kafka.topic_prefix=cluster.",
        "--set",
        "postgres.schema=cluster_test",
        "--set",
        "kafka.partitions=4");
  }

  static int httpPort(NodeProcess p) {
    Matcher m = p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120));
    return Integer.parseInt(m.group(2));
  }

  @Test
  void twoNodesFormAClusterAndSeeEachOther(@TempDir Path dir) {
    try (NodeProcess backends =
        NodeJvm.start("backends", "--data-dir", dir.resolve("shared").toString())) {
      Matcher bm =
          backends.awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120));
      Path overlay = Path.of(bm.group(1));
      int hzA = Ports.free("127.0.0.1");
      int hzB = Ports.free("127.0.0.1");
      String members = "127.0.0.1:" + hzA + ",127.0.0.1:" + hzB;
      try (NodeProcess a = clusterNode(overlay, hzA, members);
          NodeProcess b = clusterNode(overlay, hzB, members)) {
        int portA = httpPort(a);
        int portB = httpPort(b);
        String idA = a.awaitLine("CHAT4ALL NODE READY node=(\\S+)", Duration.ofSeconds(5)).group(1);
        String idB = b.awaitLine("CHAT4ALL NODE READY node=(\\S+)", Duration.ofSeconds(5)).group(1);
        assertThat(idA).isNotEqualTo(idB);

        for (int port : new int[] {portA, portB}) {
          Await.until(
              "both members reachable from node on " + port,
              Duration.ofSeconds(60),
              () -> {
                JsonObject view = clusterView(port);
                JsonArray members1 = view.getJsonArray("members");
                return view.getBoolean("clustered")
                    && members1.size() == 2
                    && members1.stream().allMatch(o -> ((JsonObject) o).getBoolean("reachable"));
              });
        }
        JsonObject fromA = clusterView(portA);
        assertThat(
                fromA.getJsonArray("members").stream()
                    .map(o -> ((JsonObject) o).getString("node_id"))
                    .collect(Collectors.toSet()))
            .containsExactlyInAnyOrder(idA, idB);

        b.kill();
        // a crashed member is not dropped silently: it stays listed as missing, the cluster
        // degraded
        Await.until(
            "killed member reported missing",
            Duration.ofSeconds(90),
            () -> clusterView(portA).getJsonArray("missing").contains(idB));
        JsonObject degraded = clusterView(portA);
        assertThat(degraded.getString("status")).isEqualTo("DEGRADED");
        assertThat(degraded.getJsonArray("members")).hasSize(2);
      }
    }
  }
}
