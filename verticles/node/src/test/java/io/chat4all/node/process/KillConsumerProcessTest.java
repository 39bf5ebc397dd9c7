package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.call;
import static io.chat4all.node.process.ProcessRest.login;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.process.ProcessRest.Res;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node that sends and consumes is killed with SIGKILL in the middle of a stream (its backends
 * live in their own process) and started again: every acknowledged message is there exactly once,
 * numbered without gaps.
 */
class KillConsumerProcessTest {

  static NodeProcess node(Path overlay) {
    return NodeJvm.start(
        "run",
        "--config",
        overlay.toString(),
        "--http-port",
        "0",
        "--grpc-port",
        "0",
        "--set",
        "kafka.topic_prefix=kill.",
        "--set",
        "postgres.schema=kill_test",
        "--set",
        "kafka.partitions=4",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "mongo.database=kill_test");
  }

  static int port(NodeProcess p) {
    Matcher m = p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120));
    return Integer.parseInt(m.group(2));
  }

  static JsonObject text(String conv, String id, int i) {
    return new JsonObject()
        .put("conversation_id", conv)
        .put("message_id", id)
        .put("payload", new JsonObject().put("type", "text").put("text", "m" + i));
  }

  @Test
  void killNineMidStreamLosesAndDuplicatesNothing(@TempDir Path dir) throws Exception {
    try (NodeProcess backends =
        NodeJvm.start("backends", "--data-dir", dir.resolve("shared").toString())) {
      Path overlay =
          Path.of(
              backends
                  .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120))
                  .group(1));
      NodeProcess first = node(overlay);
      int port = port(first);
      String a = login(port, "killer_a");
      String b = login(port, "killer_b");
      String bId = call(port, "GET", "/v1/me", b, null).json().getString("user_id");
      String conv =
          call(
                  port,
                  "POST",
                  "/v1/conversations",
                  a,
                  new JsonObject()
                      .put("type", "private")
                      .put("member_ids", new JsonArray().add(bId)))
              .json()
              .getString("conversation_id");

      int total = 240;
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        ids.add(UUID.randomUUID().toString());
      }
      Set<String> acknowledged = new LinkedHashSet<>();
      int i = 0;
      // first part of the stream, then SIGKILL while messages are still flowing through the
      // pipeline
      for (; i < 120; i++) {
        Res r = call(port, "POST", "/v1/messages", a, text(conv, ids.get(i), i));
        assertThat(r.status()).isEqualTo(202);
        acknowledged.add(ids.get(i));
      }
      first.kill();
      first.awaitExit(Duration.ofSeconds(30));
      first.close();

      try (NodeProcess second = node(overlay)) {
        int port2 = port(second);
        // a client resends what it is unsure about with the same ids, then carries on
        for (int j = 100; j < total; j++) {
          Res r = call(port2, "POST", "/v1/messages", a, text(conv, ids.get(j), j));
          assertThat(r.status()).as("send %d", j).isEqualTo(202);
          acknowledged.add(ids.get(j));
        }
        List<JsonObject> history = new ArrayList<>();
        Await.until(
            "all acknowledged messages stored",
            Duration.ofSeconds(120),
            () -> {
              history.clear();
              try {
                String path = "/v1/conversations/" + conv + "/messages?after_seq=0&limit=200";
                while (path != null) {
                  JsonObject page = call(port2, "GET", path, b, null).json();
                  page.getJsonArray("items").forEach(o -> history.add((JsonObject) o));
                  String next = page.getString("next_cursor");
                  path =
                      next == null
                          ? null
                          : "/v1/conversations/" + conv + "/messages?limit=200&cursor=" + next;
                }
              } catch (Exception e) {
                return false;
              }
              return history.size() >= acknowledged.size();
            });
        Set<String> stored = new HashSet<>();
        for (int k = 0; k < history.size(); k++) {
          JsonObject m = history.get(k);
          assertThat(m.getLong("sequence_number")).as("no gap").isEqualTo(k + 1L);
          assertThat(stored.add(m.getString("message_id")))
              .as("no duplicate of %s", m.getString("message_id"))
              .isTrue();
        }
        assertThat(stored).containsAll(acknowledged);
        assertThat(history).hasSize(acknowledged.size());
        // and in the order each was first accepted
        List<String> texts =
            history.stream().map(m -> m.getJsonObject("payload").getString("text")).toList();
        List<String> expected = new ArrayList<>();
        for (int k = 0; k < total; k++) {
          expected.add("m" + k);
        }
        assertThat(texts).isEqualTo(expected);
      }
    }
  }
}
