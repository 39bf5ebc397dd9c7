package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.NodeProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad configuration or usage exits non-zero with a message naming the problem, before anything
 * starts.
 */
@Tag("process")
class BadConfigProcessTest {

  private static void assertRejected(int expectedCode, String expectedText, String... args) {
    try (NodeProcess p = NodeJvm.start(args)) {
      assertThat(p.awaitExit(Duration.ofSeconds(60))).isEqualTo(expectedCode);
      assertThat(p.output()).contains(expectedText);
      assertThat(p.output()).doesNotContain("CHAT4ALL NODE READY");
    }
  }

  @Test
  void badPortValue() {
    assertRejected(
        2,
        "invalid configuration: http.port: must be an integer, got \"eighty\"",
        "run",
        "--http-port",
        "eighty");
  }

  @Test
  void unknownKey() {
    assertRejected(
        2,
        "invalid configuration: kafka.partitons: unknown configuration key",
        "run",
        "--set",
        "kafka.partitons=3");
  }

  @Test
  void unknownKeyInConfigFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "postgres:\n  hots: db\n");
    assertRejected(
        2, "postgres.hots: unknown configuration key", "run", "--config", file.toString());
  }

  @Test
  void unknownDiscoveryMode() {
    assertRejected(
        2,
        "invalid configuration: cluster.discovery: must be tcp or kubernetes, got \"dns\"",
        "run",
        "--set",
        "cluster.discovery=dns");
  }

  @Test
  void clusterWithoutBackends() {
    assertRejected(
        2,
        "kafka.bootstrap_servers: must be set when backends.mode is external",
        "run",
        "--cluster");
  }

  @Test
  void clusterWithoutSigningKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("external.yaml");
    Files.writeString(
        file,
        "backends:\n  mode: external\nkafka:\n  bootstrap_servers: 127.0.0.1:1\nmongo:\n  connection_string:"
            + " mongodb://127.0.0.1:1\nredis:\n  connection_string: redis://127.0.0.1:1\ns3:\n  endpoint:"
            + " http://127.0.0.1:1\n  access_key: a\n  secret_key: b\n");
    assertRejected(
        2,
        "auth.jwt_secret: must be set when backends are external",
        "run",
        "--cluster",
        "--config",
        file.toString());
  }

  @Test
  void unknownOption() {
    assertRejected(2, "unknown option '--frobnicate'", "run", "--frobnicate");
  }

  @Test
  void portInUseIsExplained(@TempDir Path dir) throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      assertRejected(
          1,
          "port " + taken.getLocalPort() + " for the embedded redis on 127.0.0.1 is already in use",
          "backends",
          "--data-dir",
          dir.resolve("d").toString(),
          "--set",
          "embedded.redis_port=" + taken.getLocalPort());
    }
  }
}
