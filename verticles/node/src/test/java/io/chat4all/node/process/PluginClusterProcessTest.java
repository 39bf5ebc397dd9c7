package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.chat4all.testkit.PluginJars;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A connector jar uploaded once through the admin API of one node of a two-node cluster runs on
 * both nodes; a third node that joins later catches up and runs it too.
 */
@Tag("process")
class PluginClusterProcessTest {
  static final Duration WAIT = Duration.ofSeconds(90);
  static final String ADMIN = "opadmin";

  static NodeProcess node(Path overlay, Path dataDir, int hz, String members) {
    return NodeJvm.start(
        "run",
        "--cluster",
        "--config",
        overlay.toString(),
        "--data-dir",
        dataDir.toString(),
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
        "kafka.topic_prefix=plug.",
        "--set",
        "postgres.schema=plugin_test",
        "--set",
        "mongo.database=plugin_test",
        "--set",
        "kafka.partitions=2",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "admin.usernames=" + ADMIN);
  }

  static int port(NodeProcess p) {
    return Integer.parseInt(
        p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120))
            .group(2));
  }

  static String nodeId(NodeProcess p) {
    return p.awaitLine("CHAT4ALL NODE READY node=(\\S+)", Duration.ofSeconds(5)).group(1);
  }

  /** The nodes that report the channel active in that version, as node {@code port} sees it. */
  static Set<String> activeOn(int port, String token, String channel, String version) {
    ProcessRest.Res r;
    try {
      r = ProcessRest.call(port, "GET", "/v1/admin/plugins/" + channel, token, null);
    } catch (Exception e) {
      return Set.of();
    }
    if (r.status() != 200) {
      return Set.of();
    }
    JsonArray nodes = r.json().getJsonArray("nodes");
    return nodes.stream()
        .map(o -> (JsonObject) o)
        .filter(
            n ->
                "active".equals(n.getString("state"))
                    && version.equals(n.getString("active_version")))
        .map(n -> n.getString("node_id"))
        .collect(Collectors.toSet());
  }

  @Test
  void aJarUploadedOnOneNodeRunsOnEveryNodeAndALateNodeCatchesUp(@TempDir Path dir)
      throws Exception {
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
      try (NodeProcess a = node(overlay, dir.resolve("a"), hzA, members);
          NodeProcess b = node(overlay, dir.resolve("b"), hzB, members)) {
        int portA = port(a);
        int portB = port(b);
        String idA = nodeId(a);
        String idB = nodeId(b);
        String token = ProcessRest.login(portA, ADMIN);
        String plain = ProcessRest.login(portA, "someone");
        Await.until(
            "both members in the cluster view",
            WAIT,
            () -> ClusterProcessTest.clusterView(portA).getJsonArray("members").size() == 2);

        byte[] jar = PluginJars.connector("clu", "1.0.0");
        assertThat(upload(portB, plain, jar).statusCode()).isEqualTo(403);
        HttpResponse<String> up = upload(portA, token, jar);
        assertThat(up.statusCode()).as(up.body()).isEqualTo(201);

        Await.until(
            "clu 1.0.0 active on both nodes",
            WAIT,
            () -> activeOn(portB, token, "clu", "1.0.0").equals(Set.of(idA, idB)));
        assertThat(activeOn(portA, token, "clu", "1.0.0")).containsExactlyInAnyOrder(idA, idB);

        try (NodeProcess c = node(overlay, dir.resolve("c"), hzC, members)) {
          int portC = port(c);
          String idC = nodeId(c);
          Await.until(
              "the late node runs clu 1.0.0",
              WAIT,
              () -> activeOn(portC, token, "clu", "1.0.0").containsAll(Set.of(idA, idB, idC)));
        }
      }
    }
  }

  static HttpResponse<String> upload(int port, String token, byte[] jar) throws Exception {
    return ProcessRest.http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/admin/plugins"))
            .timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/java-archive")
            .POST(HttpRequest.BodyPublishers.ofByteArray(jar))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
