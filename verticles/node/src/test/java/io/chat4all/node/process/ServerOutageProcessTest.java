package io.chat4all.node.process;

import static io.chat4all.node.process.BrokerRestartProcessTest.READINESS_TURNS;
import static io.chat4all.node.process.BrokerRestartProcessTest.awaitReadiness;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Redis alone, then PostgreSQL alone, is stopped and started again (its data kept, the other
 * servers running: {@code chat4all backends --drills}) in the middle of a stream of sends. During
 * the outage readiness is 503 within seconds and what needs the server is refused with 503 {@code
 * unavailable} (sends without Redis; logins without PostgreSQL, while sends may go on: memberships
 * are cached), never 500; afterwards the node recovers by itself (readiness 200, sends accepted)
 * and nothing acknowledged is lost or stored twice.
 */
@Tag("process")
class ServerOutageProcessTest {
  @TempDir static Path dir;
  static NodeProcess backends;
  static NodeProcess node;
  static int port;

  @BeforeAll
  static void start() throws Exception {
    backends =
        BrokerRestartProcessTest.backends(
            dir.resolve("shared"), BrokerRestartProcessTest.freePorts(), "--drills");
    Path overlay = BrokerRestartProcessTest.ready(backends);
    node = BrokerRestartProcessTest.node(overlay, "outage");
    port = BrokerRestartProcessTest.httpPort(node);
    ProcessRest.login(port, "outage_probe");
  }

  @AfterAll
  static void stop() {
    if (node != null) {
      node.close();
    }
    if (backends != null) {
      backends.close();
    }
  }

  /** Whatever a failed test left stopped is started again, so the next test starts whole. */
  @AfterEach
  void allServersRunning() {
    backends.sendLine("start redis");
    backends.sendLine("start postgres");
    awaitReadiness(port, 200, Duration.ofSeconds(60));
  }

  void outage(String server) throws Exception {
    try (SendStream stream = SendStream.start(port, server)) {
      stream.await(
          "20 sends accepted before " + server + " stops", 202, 20, 0, Duration.ofMinutes(1));
      backends.sendLine("stop " + server);
      backends.awaitLine("CHAT4ALL BACKENDS STOPPED " + server, Duration.ofSeconds(30));
      long notReadyMs = awaitReadiness(port, 503, READINESS_TURNS);
      int during = stream.outcomes.size();
      if (server.equals("redis")) {
        // a send needs its idempotency claim in Redis
        stream.await("sends refused while redis is down", 503, 5, during, Duration.ofSeconds(30));
      } else {
        // a login needs the accounts in PostgreSQL (a send may not: memberships are cached)
        awaitRefused("a login while postgres is down", "POST", "/v1/auth/token", login());
      }
      backends.sendLine("start " + server);
      backends.awaitLine("CHAT4ALL BACKENDS STARTED " + server, Duration.ofSeconds(60));
      long readyMs = awaitReadiness(port, 200, Duration.ofSeconds(60));
      int after = stream.outcomes.size();
      stream.await(
          "20 sends accepted after " + server + " is back", 202, 20, after, Duration.ofMinutes(1));
      System.out.printf(
          "%s restart: readiness 503 %d ms after the stop, 200 %d ms after the start%n",
          server, notReadyMs, readyMs);
      stream.stopAndAudit(server + " restart");
    } catch (AssertionError e) {
      throw new AssertionError(
          e.getMessage() + "\nnode warnings:\n" + BrokerRestartProcessTest.trouble(node), e);
    }
  }

  static JsonObject login() {
    return new JsonObject().put("username", "outage_probe").put("password", "kept-secret-1");
  }

  /** Waits for {@code method path} to be refused with 503 unavailable; fails with its answers. */
  static void awaitRefused(String what, String method, String path, JsonObject body) {
    List<String> seen = new CopyOnWriteArrayList<>();
    try {
      Await.until(
          what + " refused with 503 unavailable",
          Duration.ofSeconds(20),
          () -> {
            ProcessRest.Res r;
            try {
              r = ProcessRest.call(port, method, path, null, body);
            } catch (Exception e) {
              seen.add(e.toString());
              return false;
            }
            JsonObject err = r.json().getJsonObject("error");
            String code = err == null ? null : err.getString("code");
            seen.add(r.status() + " " + code);
            return r.status() == 503 && "unavailable".equals(code);
          });
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; answered " + seen, e);
    }
  }

  @Test
  void redisRestartMidStreamDegradesWith503sAndLosesNothing() throws Exception {
    outage("redis");
  }

  @Test
  void postgresRestartMidStreamDegradesWith503sAndLosesNothing() throws Exception {
    outage("postgres");
  }
}
