package io.chat4all.node.obs;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * What a node logs at DEBUG through registrations, logins, a failed login, sends and a webhook
 * registration, captured as the JSON lines of cluster mode: never a password, token, webhook secret
 * or message text; every line names the node, and request lines their request id and user.
 */
@ExtendWith(BackendsExtension.class)
class LogHygieneTest {
  static final List<String> lines = new CopyOnWriteArrayList<>();
  static final Map<String, Level> levels =
      Map.of("io.chat4all", Level.DEBUG, "io.vertx", Level.DEBUG, "ROOT", Level.INFO);
  static final Map<String, Level> before = new java.util.HashMap<>();
  static AppenderBase<ILoggingEvent> capture;
  static Api api;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
    JsonLineEncoder encoder = new JsonLineEncoder();
    encoder.setContext(ctx);
    encoder.start();
    capture =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent e) {
            lines.add(new String(encoder.encode(e), StandardCharsets.UTF_8));
          }
        };
    capture.setContext(ctx);
    capture.start();
    levels.forEach(
        (name, level) -> {
          Logger l = ctx.getLogger(name);
          before.put(name, l.getLevel());
          l.setLevel(level);
        });
    ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(capture);
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "webhooks",
                    new JsonObject().put("allow_http", true).put("allow_private_addresses", true)));
  }

  @AfterAll
  static void stop() {
    try {
      api.close();
    } finally {
      LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
      ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(capture);
      before.forEach((name, level) -> ctx.getLogger(name).setLevel(level));
    }
  }

  @Test
  void noSecretsTokensPasswordsOrMessageTextInTheLogs() {
    int from = lines.size();
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String password = "pw-" + UUID.randomUUID();
    String wrongPassword = "wrong-" + UUID.randomUUID();
    String text = "message text " + UUID.randomUUID();
    String edited = "edited text " + UUID.randomUUID();

    List<String> secrets = new ArrayList<>(List.of(password, wrongPassword, text, edited));
    for (String who : new String[] {"alice_" + suffix, "bob_" + suffix}) {
      api.post(
              "/v1/auth/register",
              null,
              new JsonObject()
                  .put("username", who)
                  .put("email", who + "@example.test")
                  .put("password", password))
          .expect(201);
    }
    JsonObject alice = login("alice_" + suffix, password);
    JsonObject bob = login("bob_" + suffix, password);
    secrets.add(alice.getString("access_token"));
    secrets.add(alice.getString("refresh_token"));
    secrets.add(bob.getString("access_token"));
    secrets.add(bob.getString("refresh_token"));
    api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", "alice_" + suffix).put("password", wrongPassword))
        .expect(401);
    JsonObject refreshed =
        api.post(
                "/v1/auth/refresh",
                null,
                new JsonObject().put("refresh_token", alice.getString("refresh_token")))
            .expect(200)
            .json();
    secrets.add(refreshed.getString("access_token"));
    secrets.add(refreshed.getString("refresh_token"));
    String aliceToken = refreshed.getString("access_token");

    String conv =
        api.post(
                "/v1/conversations",
                aliceToken,
                new JsonObject()
                    .put("type", "private")
                    .put("member_ids", new JsonArray().add(bob.getString("user_id"))))
            .expect(201)
            .json()
            .getString("conversation_id");
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", aliceToken, Api.textMessage(conv, id, text)).expect(202);
    Await.until(
        "the message stored",
        Duration.ofSeconds(30),
        () -> api.get("/v1/messages/" + id, aliceToken).status() == 200);
    api.call(
            "PATCH",
            "/v1/messages/" + id,
            aliceToken,
            new JsonObject().put("text", edited).encode())
        .status();
    JsonObject hook =
        api.post(
                "/v1/webhooks",
                aliceToken,
                new JsonObject()
                    .put("url", "http://127.0.0.1:9/hook")
                    .put("events", new JsonArray().add("*")))
            .expect(201)
            .json();
    secrets.add(hook.getString("secret"));
    api.get("/v1/conversations", "Bearer-less-" + aliceToken).status();

    assertThat(lines).as("captured log lines").isNotEmpty();
    for (String secret : secrets) {
      assertThat(secret).isNotBlank();
      assertThat(lines)
          .as("log lines containing a secret/token/password/text")
          .noneMatch(l -> l.contains(secret));
    }
    List<JsonObject> parsed =
        lines.subList(from, lines.size()).stream().map(JsonObject::new).toList();
    assertThat(parsed).allSatisfy(l -> assertThat(l.getString("node_id")).isNotBlank());
    JsonObject sendLine =
        parsed.stream()
            .filter(l -> "io.chat4all.access".equals(l.getString("logger")))
            .filter(l -> l.getString("message").startsWith("POST /v1/messages "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no access line for the send"));
    assertThat(sendLine.getString("request_id")).isNotBlank();
    assertThat(sendLine.getString("user_id")).isEqualTo(alice.getString("user_id"));
  }

  static JsonObject login(String username, String password) {
    return api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", username).put("password", password))
        .expect(200)
        .json();
  }
}
