package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.call;
import static io.chat4all.node.process.ProcessRest.login;
import static io.chat4all.node.process.ProcessRest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a client was told is done survives SIGKILL of every process at once — the node, the backends
 * JVM (in-JVM Kafka and MongoDB-wire server) and its PostgreSQL and redis-server children: a
 * registered account (PostgreSQL), a message the pipeline had just stored (MongoDB-wire, whose
 * store commits before it answers), a message only acknowledged (202: in Kafka) and a logout
 * (revocation in Redis) are all there after a restart on the same data directory.
 */
@Tag("process")
class CrashDurabilityProcessTest {

  static NodeProcess backends(Path data) {
    return NodeJvm.start("backends", "--data-dir", data.toString());
  }

  static Path overlay(NodeProcess backends) {
    return Path.of(
        backends
            .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120))
            .group(1));
  }

  static NodeProcess node(Path overlay) {
    return NodeJvm.start(
        "run",
        "--config",
        overlay.toString(),
        "--no-frontend",
        "--http-port",
        "0",
        "--grpc-port",
        "0",
        "--set",
        "kafka.topic_prefix=crash.",
        "--set",
        "postgres.schema=crash_test",
        "--set",
        "kafka.partitions=2",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "mongo.database=crash_test");
  }

  static int port(NodeProcess p) {
    return Integer.parseInt(
        p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120))
            .group(2));
  }

  static JsonObject text(String conv, String text) {
    return new JsonObject()
        .put("conversation_id", conv)
        .put("message_id", UUID.randomUUID().toString())
        .put("payload", new JsonObject().put("type", "text").put("text", text));
  }

  static List<String> texts(int port, String token, String conv) throws Exception {
    List<String> texts = new ArrayList<>();
    JsonObject page =
        ok(port, "GET", "/v1/conversations/" + conv + "/messages?after_seq=0", token, null);
    page.getJsonArray("items")
        .forEach(o -> texts.add(((JsonObject) o).getJsonObject("payload").getString("text")));
    return texts;
  }

  /** SIGKILL to the process, everything it started, and the servers its pid files name. */
  static void killHard(NodeProcess process, Path data) throws Exception {
    List<ProcessHandle> victims = new ArrayList<>();
    ProcessHandle.of(process.pid())
        .ifPresent(
            h -> {
              victims.add(h);
              h.descendants().forEach(victims::add);
            });
    for (Path pidFile :
        List.of(data.resolve("postgres/postmaster.pid"), data.resolve("redis/redis.pid"))) {
      if (Files.isRegularFile(pidFile)) {
        long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
        ProcessHandle.of(pid)
            .ifPresent(
                h -> {
                  victims.add(h);
                  h.descendants().forEach(victims::add);
                });
      }
    }
    victims.forEach(ProcessHandle::destroyForcibly);
    for (ProcessHandle h : victims) {
      h.onExit().get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void acknowledgedWritesSurviveKillNineOfEveryProcess(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("shared");
    String conv;
    String revoked;
    NodeProcess first = backends(data);
    NodeProcess node = null;
    try {
      node = node(overlay(first));
      int port = port(node);
      String ana = login(port, "crash_ana");
      String bia = login(port, "crash_bia");
      String biaId = ok(port, "GET", "/v1/me", bia, null).getString("user_id");
      conv =
          ok(
                  port,
                  "POST",
                  "/v1/conversations",
                  ana,
                  new JsonObject()
                      .put("type", "private")
                      .put("member_ids", new JsonArray().add(biaId)))
              .getString("conversation_id");
      // stored by the pipeline (MongoDB-wire) just before the crash
      assertThat(call(port, "POST", "/v1/messages", ana, text(conv, "stored")).status())
          .isEqualTo(202);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!texts(port, bia, conv).contains("stored")) {
        assertThat(System.nanoTime()).as("message stored").isLessThan(deadline);
        Thread.sleep(20);
      }
      // a login ended: the revocation is in Redis
      revoked = login(port, "crash_bia");
      assertThat(call(port, "POST", "/v1/auth/logout", revoked, new JsonObject()).status())
          .isEqualTo(204);
      // only acknowledged (in Kafka) when everything dies
      assertThat(call(port, "POST", "/v1/messages", ana, text(conv, "acknowledged")).status())
          .isEqualTo(202);
      node.kill();
      killHard(first, data);
      node.awaitExit(Duration.ofSeconds(20));
    } finally {
      if (node != null) {
        node.close();
      }
      first.close();
    }

    try (NodeProcess again = backends(data);
        NodeProcess restarted = node(overlay(again))) {
      int port = port(restarted);
      // the accounts (PostgreSQL) and their passwords
      String bia =
          ok(
                  port,
                  "POST",
                  "/v1/auth/token",
                  null,
                  new JsonObject().put("username", "crash_bia").put("password", "kept-secret-1"))
              .getString("access_token");
      // both messages, in order: the stored one is still stored, the acknowledged one is consumed
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<String> texts = texts(port, bia, conv);
      while (texts.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
        texts = texts(port, bia, conv);
      }
      assertThat(texts).containsExactly("stored", "acknowledged");
      // the ended login stays ended (Redis append-only file)
      ProcessRest.Res me = call(port, "GET", "/v1/me", revoked, null);
      assertThat(me.status()).isEqualTo(401);
      assertThat(me.json().getJsonObject("error").getString("code")).isEqualTo("token_revoked");
    }
  }
}
