package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Node example client of docs/grpc.md ({@code examples/grpc-node}, {@code @grpc/grpc-js})
 * against a real node: installed with {@code npm ci} from its lock file, it logs in, subscribes,
 * sends, and prints the peer's reply that arrives on its stream.
 */
@ExtendWith(BackendsExtension.class)
class NodeGrpcExampleTest {
  static final Duration WAIT = Duration.ofSeconds(60);

  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    api = Api.start(iso);
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  /** The repository root: the first directory up from here that holds the example. */
  static Path repoRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isDirectory(dir.resolve("examples/grpc-node"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("examples/grpc-node above %s", Path.of("").toAbsolutePath()).isNotNull();
    return dir;
  }

  static boolean onPath(String command) {
    try {
      Process p = new ProcessBuilder(command, "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs {@code command} in {@code dir}; its output is collected into {@code lines}. */
  static Process run(Path dir, Map<String, String> env, List<String> lines, String... command)
      throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile());
    pb.redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  lines.add(line);
                }
              } catch (IOException e) {
                lines.add("(output lost: " + e + ")");
              }
            },
            "node-output");
    reader.setDaemon(true);
    reader.start();
    return p;
  }

  @Test
  void theExampleClientLogsInSubscribesSendsAndGetsTheReply() throws Exception {
    Assumptions.assumeTrue(
        onPath("npm") && onPath("node"),
        "node and npm are not installed: the Node gRPC example client is not run"
            + " (apt-get install nodejs npm)");
    Path example = repoRoot().resolve("examples/grpc-node");
    Path work = Path.of("target", "grpc-node-example").toAbsolutePath();
    Files.createDirectories(work);
    for (String file : List.of("package.json", "package-lock.json", "client.js")) {
      Files.copy(example.resolve(file), work.resolve(file), StandardCopyOption.REPLACE_EXISTING);
    }
    List<String> install = new CopyOnWriteArrayList<>();
    Process npm =
        run(work, Map.of(), install, "npm", "ci", "--no-audit", "--no-fund", "--prefer-offline");
    assertThat(npm.waitFor(5, TimeUnit.MINUTES)).as("npm ci finished: %s", install).isTrue();
    assertThat(npm.exitValue()).as("npm ci: %s", install).isZero();

    Api.User alice = api.newUser("nodea");
    Api.User bob = api.newUser("nodeb");
    String text = "hello from node " + UUID.randomUUID();
    List<String> out = new CopyOnWriteArrayList<>();
    Process client =
        run(
            work,
            Map.of(
                "CHAT4ALL_GRPC",
                "127.0.0.1:" + api.node().grpcPort(),
                "CHAT4ALL_USERNAME",
                alice.username(),
                "CHAT4ALL_PASSWORD",
                "correct horse",
                "CHAT4ALL_PEER",
                bob.id(),
                "CHAT4ALL_TEXT",
                text,
                "CHAT4ALL_TIMEOUT_MS",
                "90000",
                "CHAT4ALL_PROTO_DIR",
                repoRoot().resolve("proto/src/main/proto").toString()),
            out,
            "node",
            "client.js");
    try {
      Await.until(
          "the client sent its message (output " + out + ")",
          WAIT,
          () -> out.stream().anyMatch(l -> l.startsWith("sent ")));
      // bob sees alice's message and answers over REST
      String conv = api.privateChat(bob, alice);
      Await.until(
          "alice's message in bob's history",
          WAIT,
          () -> {
            JsonArray items =
                api.get("/v1/conversations/" + conv + "/messages", bob.accessToken())
                    .json()
                    .getJsonArray("items");
            return items.stream()
                .anyMatch(
                    m -> text.equals(((JsonObject) m).getJsonObject("payload").getString("text")));
          });
      api.post(
              "/v1/messages",
              bob.accessToken(),
              Api.textMessage(conv, UUID.randomUUID().toString(), "reply from java"))
          .expect(202);
      assertThat(client.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS))
          .as("the client ended (output %s)", out)
          .isTrue();
      assertThat(client.exitValue()).as("exit code (output %s)", out).isZero();
    } finally {
      client.destroyForcibly();
    }
    assertThat(out).anyMatch(l -> l.startsWith("logged in as " + alice.id()));
    assertThat(out).anyMatch(l -> l.startsWith("ready cursor="));
    // its own message came back on its stream, then bob's reply
    assertThat(out).anyMatch(l -> l.matches("message seq=1 from=" + alice.id() + " text=" + text));
    assertThat(out)
        .anyMatch(l -> l.equals("message seq=2 from=" + bob.id() + " text=reply from java"));
    assertThat(out).contains("reply received");
  }
}
