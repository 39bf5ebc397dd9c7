package io.chat4all.node.process;

import static io.chat4all.node.process.ProcessRest.call;
import static io.chat4all.node.process.ProcessRest.login;
import static io.chat4all.node.process.ProcessRest.ok;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.webhooks.Receiver;
import io.chat4all.node.webhooks.Receiver.Hit;
import io.chat4all.node.webhooks.Receiver.Reply;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node attempting a delivery is killed with SIGKILL between two attempts (its backends live in
 * their own process); another node carries on with the retries of the same delivery until the
 * receiver takes it.
 */
@Tag("process")
class WebhookFailoverProcessTest {
  static final Duration WAIT = Duration.ofSeconds(90);

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
        "kafka.topic_prefix=hookfail.",
        "--set",
        "postgres.schema=hookfail_test",
        "--set",
        "mongo.database=hookfail_test",
        "--set",
        "kafka.partitions=2",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "webhooks.allow_http=true",
        "--set",
        "webhooks.allow_private_addresses=true",
        "--set",
        "webhooks.retry_schedule=2s,2s,2s",
        "--set",
        "webhooks.timeout_ms=2000",
        "--set",
        "webhooks.connect_timeout_ms=1000",
        "--set",
        "webhooks.poll_interval_ms=200");
  }

  static int port(NodeProcess p) {
    return Integer.parseInt(
        p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120))
            .group(2));
  }

  @Test
  void aDeliveryContinuesOnAnotherNodeAfterTheDispatchingNodeIsKilled(@TempDir Path dir)
      throws Exception {
    Vertx vertx = Vertx.vertx();
    Receiver receiver = Receiver.start(vertx);
    receiver.script("/failover", Reply.status(500), Reply.status(500));
    try (NodeProcess backends =
        NodeJvm.start("backends", "--data-dir", dir.resolve("shared").toString())) {
      Path overlay =
          Path.of(
              backends
                  .awaitLine("CHAT4ALL BACKENDS READY config=(\\S+)", Duration.ofSeconds(120))
                  .group(1));
      NodeProcess first = node(overlay);
      int port = port(first);
      String token = login(port, "hook_failover");
      String webhook =
          ok(
                  port,
                  "POST",
                  "/v1/webhooks",
                  token,
                  new JsonObject()
                      .put("url", receiver.url("/failover"))
                      .put("events", new JsonArray().add("*")))
              .getString("webhook_id");
      String delivery =
          ok(port, "POST", "/v1/webhooks/" + webhook + "/test", token, null)
              .getString("delivery_id");
      String path = "/v1/webhooks/" + webhook + "/deliveries/" + delivery;

      // the first attempt failed and is recorded; the retry is due in 2 s: kill the node now
      receiver.awaitHits("/failover", 1, WAIT);
      Await.until(
          "attempt 1 recorded",
          WAIT,
          () -> {
            try {
              return call(port, "GET", path, token, null).json().getInteger("attempts", 0) == 1;
            } catch (Exception e) {
              return false;
            }
          });
      first.kill();
      first.awaitExit(Duration.ofSeconds(30));
      first.close();

      try (NodeProcess second = node(overlay)) {
        int port2 = port(second);
        List<Hit> hits = receiver.awaitHits("/failover", 3, WAIT);
        assertThat(hits).extracting(h -> h.header("Chat4All-Delivery-Id")).containsOnly(delivery);
        assertThat(hits)
            .extracting(h -> h.header("Chat4All-Attempt"))
            .containsExactly("1", "2", "3");
        assertThat(hits).extracting(Hit::body).containsOnly(hits.get(0).body());
        JsonObject[] d = new JsonObject[1];
        Await.until(
            "delivered",
            WAIT,
            () -> {
              try {
                d[0] = call(port2, "GET", path, token, null).json();
                return "delivered".equals(d[0].getString("status"));
              } catch (Exception e) {
                return false;
              }
            });
        assertThat(d[0].getInteger("attempts")).isEqualTo(3);
        assertThat(d[0].getJsonArray("attempt_log"))
            .extracting(o -> ((JsonObject) o).getInteger("status_code"))
            .containsExactly(500, 500, 200);
      }
    } finally {
      receiver.close();
      Await.result(vertx.close());
    }
  }
}
