package io.chat4all.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.embedded.Ports;
import io.chat4all.node.AdminCli;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.NodeProcess;
import io.chat4all.web.RuntimeSettings;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runtime flags and limits across node processes of one cluster: a limit set on node A (through the
 * operator CLI) is enforced on node B within seconds — carried by the change notice alone, the
 * nodes' periodic re-read being ten minutes away — a flag's rollout splits users the same way on
 * both nodes, a stale write is refused, and a node started after the changes has them from its
 * first request; the CLI also lists nodes, plugins and consumer lag, and creates an administrator
 * in PostgreSQL whom the late node accepts.
 */
@Tag("process")
class RuntimeSettingsProcessTest {
  static final String ADMIN = "opcfg";
  static final Duration WAIT = Duration.ofSeconds(20);

  static NodeProcess node(Path overlay, Path dataDir, int hz, String members, String reconcileMs) {
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
        "--no-frontend",
        "--set",
        "kafka.topic_prefix=cfg.",
        "--set",
        "postgres.schema=cfg_test",
        "--set",
        "mongo.database=cfg_test",
        "--set",
        "kafka.partitions=2",
        "--set",
        "auth.password_iterations=1000",
        "--set",
        "runtime.reconcile_interval_ms=" + reconcileMs,
        "--set",
        "admin.usernames=" + ADMIN);
  }

  static int port(NodeProcess p) {
    return Integer.parseInt(
        p.awaitLine("CHAT4ALL NODE READY node=(\\S+) http=(\\d+)", Duration.ofSeconds(120))
            .group(2));
  }

  /** One CLI run in this JVM: exit code and what it printed. */
  record Cli(int code, String out, String err) {
    JsonObject json() {
      return new JsonObject(out.trim());
    }
  }

  static Cli cli(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        AdminCli.run(
            args,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env);
    return new Cli(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Cli admin(int port, String token, String... args) {
    List<String> all = new ArrayList<>(List.of("--url", "http://127.0.0.1:" + port));
    all.addAll(List.of(args));
    Cli c = cli(Map.of("CHAT4ALL_ADMIN_TOKEN", token), all.toArray(String[]::new));
    assertThat(c.code()).as("admin %s: %s", List.of(args), c.err()).isZero();
    return c;
  }

  static JsonObject upload(String conv, long size) {
    return new JsonObject()
        .put("filename", "f.bin")
        .put("size_bytes", size)
        .put("mime_type", "application/octet-stream")
        .put("conversation_id", conv);
  }

  static int initiate(int port, String token, String conv, long size) throws Exception {
    return ProcessRest.call(port, "POST", "/v1/files", token, upload(conv, size)).status();
  }

  static boolean typing(int port, String token) throws Exception {
    return ProcessRest.ok(port, "GET", "/v1/features", token, null)
        .getJsonObject("flags")
        .getBoolean(RuntimeSettings.TYPING_INDICATORS);
  }

  @Test
  void changesReachEveryNodeAndLateNodesStartWithThem(@TempDir Path dir) throws Exception {
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
      // no periodic re-read within the test: only the change notice can carry a change to B
      try (NodeProcess a = node(overlay, dir.resolve("a"), hzA, members, "600000");
          NodeProcess b = node(overlay, dir.resolve("b"), hzB, members, "600000")) {
        int portA = port(a);
        int portB = port(b);
        String op = ProcessRest.login(portA, ADMIN);
        String ana = ProcessRest.login(portA, "ana");
        String bia = ProcessRest.login(portB, "bia");
        String biaId = ProcessRest.ok(portB, "GET", "/v1/me", bia, null).getString("user_id");
        String conv =
            ProcessRest.ok(
                    portA,
                    "POST",
                    "/v1/conversations",
                    ana,
                    new JsonObject()
                        .put("type", "private")
                        .put("member_ids", new io.vertx.core.json.JsonArray().add(biaId)))
                .getString("conversation_id");
        assertThat(initiate(portB, ana, conv, 2000)).isEqualTo(201);

        // a limit set on A through the CLI is enforced on B
        Cli set = admin(portA, op, "set-limit", RuntimeSettings.MAX_UPLOAD_BYTES, "1000");
        assertThat(set.json().getLong("value")).isEqualTo(1000L);
        assertThat(set.json().getLong("version")).isEqualTo(1L);
        Await.until(
            "node B refuses uploads over the new limit",
            WAIT,
            () -> {
              try {
                return initiate(portB, ana, conv, 2000) == 413;
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            });
        assertThat(initiate(portB, ana, conv, 1000)).isEqualTo(201);
        Cli onB = admin(portB, op, "get-limit", RuntimeSettings.MAX_UPLOAD_BYTES);
        assertThat(onB.json().getLong("value")).isEqualTo(1000L);
        assertThat(onB.json().getString("updated_by")).isEqualTo(ADMIN);

        // a stale write (version 0 after the change to version 1) is refused on the other node
        HttpResponse<String> stale =
            ProcessRest.http.send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + portB
                                + "/v1/admin/config/limits/"
                                + RuntimeSettings.MAX_UPLOAD_BYTES))
                    .header("Authorization", "Bearer " + op)
                    .header("Content-Type", "application/json")
                    .header("If-Match", "\"0\"")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"value\":5}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(stale.body()).contains("precondition_failed");

        // a rollout set on B splits users the same way on A, by the stable hash of their id
        Cli flag =
            admin(portB, op, "set-flag", RuntimeSettings.TYPING_INDICATORS, "--rollout", "30");
        assertThat(flag.json().getInteger("rollout_percentage")).isEqualTo(30);
        Await.until(
            "node A has the new rollout",
            WAIT,
            () ->
                admin(portA, op, "get-flag", RuntimeSettings.TYPING_INDICATORS)
                        .json()
                        .getInteger("rollout_percentage")
                    == 30);
        // at least 12 users, and more until both sides of the split have one (random ids: 12
        // alone are all off 1.4 % of the time)
        Map<String, String> tokens = new HashMap<>();
        int seenOn = 0;
        for (int i = 0; i < 12 || ((seenOn == 0 || seenOn == tokens.size()) && i < 60); i++) {
          String name = "roll" + i;
          String t = ProcessRest.login(portA, name);
          String id = ProcessRest.ok(portA, "GET", "/v1/me", t, null).getString("user_id");
          tokens.put(id, t);
          seenOn += RuntimeSettings.bucket(RuntimeSettings.TYPING_INDICATORS, id) < 30 ? 1 : 0;
        }
        int on = 0;
        for (Map.Entry<String, String> u : tokens.entrySet()) {
          boolean expected =
              RuntimeSettings.bucket(RuntimeSettings.TYPING_INDICATORS, u.getKey()) < 30;
          assertThat(typing(portA, u.getValue()))
              .as("user %s on A", u.getKey())
              .isEqualTo(expected);
          assertThat(typing(portB, u.getValue()))
              .as("user %s on B", u.getKey())
              .isEqualTo(expected);
          on += expected ? 1 : 0;
        }
        assertThat(on).isBetween(1, tokens.size() - 1);

        // the other operator commands
        Cli nodes = admin(portA, op, "nodes");
        assertThat(nodes.json().getJsonArray("members")).hasSize(2);
        Cli plugins = admin(portB, op, "plugins");
        assertThat(plugins.json().getJsonArray("nodes")).hasSize(2);
        Cli lag = admin(portA, op, "consumers");
        assertThat(
                lag.json().getJsonArray("groups").stream()
                    .map(g -> ((JsonObject) g).getString("role")))
            .contains("pipeline", "delivery", "inbound", "webhooks");
        Cli notAdmin =
            cli(
                Map.of("CHAT4ALL_ADMIN_TOKEN", ana),
                "--url",
                "http://127.0.0.1:" + portA,
                "config");
        assertThat(notAdmin.code()).isEqualTo(1);
        assertThat(notAdmin.err()).contains("403").contains("forbidden");
        Cli usage = cli(Map.of(), "set-limit", "max_upload_bytes", "lots");
        assertThat(usage.code()).isEqualTo(2);
        Cli help = cli(Map.of(), "--help");
        assertThat(help.out())
            .contains("create-admin", "nodes", "plugins", "consumers", "set-flag", "set-limit");

        // the first administrator, created in PostgreSQL (this node set has none stored yet)
        Cli created =
            cli(
                Map.of("CHAT4ALL_ADMIN_PASSWORD", "longpassword"),
                "create-admin",
                "newop",
                "--config",
                overlay.toString(),
                "--set",
                "postgres.schema=cfg_test",
                "--set",
                "auth.password_iterations=1000");
        assertThat(created.code()).as(created.err()).isZero();
        assertThat(created.out())
            .contains("created account newop")
            .contains("is now an administrator");

        // a node started after all this has the changes and the new administrator from the start
        try (NodeProcess c = node(overlay, dir.resolve("c"), hzC, members, "5000")) {
          int portC = port(c);
          assertThat(initiate(portC, ana, conv, 2000)).isEqualTo(413);
          assertThat(
                  typing(
                      portC,
                      tokens.keySet().stream()
                          .filter(
                              id ->
                                  RuntimeSettings.bucket(RuntimeSettings.TYPING_INDICATORS, id)
                                      >= 30)
                          .findFirst()
                          .map(tokens::get)
                          .orElseThrow()))
              .isFalse();
          Cli token =
              cli(
                  Map.of("CHAT4ALL_ADMIN_PASSWORD", "longpassword"),
                  "--url",
                  "http://127.0.0.1:" + portC,
                  "--user",
                  "newop",
                  "token");
          assertThat(token.code()).as(token.err()).isZero();
          String newop = token.json().getString("access_token");
          Cli config = admin(portC, newop, "config");
          assertThat(
                  config
                      .json()
                      .getJsonObject("limits")
                      .getJsonObject(RuntimeSettings.MAX_UPLOAD_BYTES)
                      .getLong("value"))
              .isEqualTo(1000L);
          // an administrator of the runtime settings is one everywhere: global webhooks and
          // operator link verification are not refused to it (the address is, as for anyone)
          JsonObject global =
              new JsonObject()
                  .put("url", "https://127.0.0.1/hook")
                  .put("events", new io.vertx.core.json.JsonArray().add("message.created"))
                  .put("global", true);
          ProcessRest.Res asUser = ProcessRest.call(portC, "POST", "/v1/webhooks", ana, global);
          assertThat(asUser.status()).isEqualTo(403);
          ProcessRest.Res asOp = ProcessRest.call(portC, "POST", "/v1/webhooks", newop, global);
          assertThat(asOp.status()).as(asOp.toString()).isIn(201, 400);
          String verifyPath =
              "/v1/admin/users/00000000-0000-4000-8000-000000000001/channels/telegram/verify";
          assertThat(ProcessRest.call(portC, "POST", verifyPath, ana, null).status())
              .isEqualTo(403);
          assertThat(ProcessRest.call(portC, "POST", verifyPath, newop, null).status())
              .isNotEqualTo(403);
          Cli audit = admin(portC, newop, "audit");
          assertThat(audit.json().getJsonArray("items")).hasSize(2);
          assertThat(audit.out()).contains("\"changed_by\" : \"" + ADMIN + "\"");
          // and changes made through it reach the others
          admin(portC, newop, "reset-limit", RuntimeSettings.MAX_UPLOAD_BYTES);
          Await.until(
              "node A accepts large uploads again",
              WAIT,
              () -> {
                try {
                  return initiate(portA, ana, conv, 2000) == 201;
                } catch (Exception e) {
                  throw new AssertionError(e);
                }
              });
        }
      }
    }
  }
}
