package io.chat4all.node.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The SSRF guard with private addresses not allowed (the default): loopback, link-local (metadata),
 * private and IPv6 loopback targets — literal or behind a host name — are refused at registration,
 * and a target that resolves to one at delivery time is never called.
 */
@ExtendWith(BackendsExtension.class)
class WebhookGuardTest {
  static Api api;
  static Vertx vertx;
  static Receiver receiver;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    JsonObject config = Hooks.loopbackConfig("200ms");
    config.getJsonObject("webhooks").put("allow_private_addresses", false);
    api = Api.start(iso, config);
    vertx = Vertx.vertx();
    receiver = Receiver.start(vertx);
  }

  @AfterAll
  static void stop() {
    receiver.close();
    Await.result(vertx.close());
    api.close();
  }

  @Test
  void nonPublicTargetsAreRefusedAtRegistration() {
    Api.User u = api.newUser("ssrf");
    for (String url :
        List.of(
            "http://127.0.0.1:" + receiver.port() + "/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:" + receiver.port() + "/hook",
            "http://localhost:" + receiver.port() + "/hook",
            "http://10.1.2.3/hook",
            "http://192.168.0.10/hook",
            "http://[::ffff:127.0.0.1]/hook",
            "http://0.0.0.0:" + receiver.port() + "/hook",
            "http://100.64.0.1/hook")) {
      Api.Res r =
          api.post(
                  "/v1/webhooks",
                  u.accessToken(),
                  new JsonObject().put("url", url).put("events", new JsonArray().add("*")))
              .expectError(400, "validation_failed");
      assertThat(r.json().getJsonObject("error").getJsonObject("details").getString("field"))
          .isEqualTo("url");
      assertThat(r.json().getJsonObject("error").getString("message")).as(url).contains("refused");
    }
    assertThat(api.get("/v1/webhooks", u.accessToken()).json().getJsonArray("items")).isEmpty();
    // a public address is fine (nothing is sent: no event is subscribed to happens here)
    api.post(
            "/v1/webhooks",
            u.accessToken(),
            new JsonObject()
                .put("url", "https://93.184.215.14/hook")
                .put("events", new JsonArray().add("file.uploaded")))
        .expect(201);
    assertThat(receiver.hits("/hook")).isEmpty();
  }

  @Test
  void aTargetResolvingToAPrivateAddressAtDeliveryTimeIsNeverCalled() {
    Api.User u = api.newUser("rebind");
    // as if the name had resolved to a public address at registration and moved since
    UUID id =
        Await.result(
                api.node()
                    .clients()
                    .pg()
                    .preparedQuery(
                        "INSERT INTO webhooks (user_id, url, events, secret)"
                            + " VALUES ($1, $2, $3, 'whsec_test') RETURNING webhook_id")
                    .execute(
                        Tuple.of(
                            UUID.fromString(u.id()),
                            "http://localhost:" + receiver.port() + "/rebind",
                            new String[] {"*"})))
            .iterator()
            .next()
            .getUUID(0);
    String deliveryId = Hooks.ping(api, u, id.toString());
    JsonObject[] d = new JsonObject[1];
    Await.until(
        "a refused attempt",
        Duration.ofSeconds(60),
        () ->
            !(d[0] = Hooks.delivery(api, u, id.toString(), deliveryId))
                .getJsonArray("attempt_log")
                .isEmpty());
    JsonObject attempt = d[0].getJsonArray("attempt_log").getJsonObject(0);
    assertThat(attempt.getInteger("status_code")).isNull();
    assertThat(attempt.getString("error"))
        .startsWith("refused:")
        .contains("localhost")
        .contains("loopback");
    JsonObject dead = Hooks.awaitStatus(api, u, id.toString(), deliveryId, "dead");
    assertThat(dead.getInteger("attempts")).isEqualTo(2);
    assertThat(receiver.hits("/rebind")).isEmpty();
  }
}
