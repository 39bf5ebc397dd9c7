package io.chat4all.node.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.node.webhooks.Receiver.Reply;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A webhook whose deliveries fail for longer than {@code webhooks.disable_after_failing_seconds} is
 * disabled; its owner sees why, and turning it on again resumes what was pending.
 */
@ExtendWith(BackendsExtension.class)
class WebhookAutoDisableTest {
  static Api api;
  static Vertx vertx;
  static Receiver receiver;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    // five attempts 400 ms apart: failing for 1.6 s, longer than the 1 s allowed
    JsonObject config = Hooks.loopbackConfig("400ms", "400ms", "400ms", "400ms");
    config.getJsonObject("webhooks").put("disable_after_failing_seconds", 1);
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
  void aWebhookFailingContinuouslyIsDisabledAndCanBeTurnedOnAgain() {
    Api.User u = api.newUser("off");
    String id = Hooks.create(api, u, receiver.url("/down"), "*").getString("webhook_id");
    receiver.otherwise("/down", Reply.status(500));
    String first = Hooks.ping(api, u, id);

    JsonObject[] w = new JsonObject[1];
    Await.until(
        "the webhook disabled",
        Duration.ofSeconds(60),
        () ->
            !(w[0] = api.get("/v1/webhooks/" + id, u.accessToken()).expect(200).json())
                .getBoolean("active"));
    assertThat(w[0].getString("disabled_at")).isNotNull();
    assertThat(w[0].getString("failing_since")).isNotNull();
    assertThat(w[0].getString("disabled_reason"))
        .contains("failed continuously since")
        .contains("HTTP 500");
    // disabled: no ping, and the pending delivery waits
    api.post("/v1/webhooks/" + id + "/test", u.accessToken(), null).expectError(409, "conflict");
    JsonObject pending = Hooks.delivery(api, u, id, first);
    int attemptsWhenDisabled = pending.getInteger("attempts");
    assertThat(attemptsWhenDisabled).isLessThanOrEqualTo(5);

    receiver.otherwise("/down", Reply.status(200));
    JsonObject on =
        api.call("PATCH", "/v1/webhooks/" + id, u.accessToken(), "{\"active\":true}")
            .expect(200)
            .json();
    assertThat(on.getBoolean("active")).isTrue();
    assertThat(on.getString("disabled_reason")).isNull();
    assertThat(on.getString("failing_since")).isNull();
    if (!"dead".equals(pending.getString("status"))) {
      Hooks.awaitStatus(api, u, id, first, "delivered");
    }
    String second = Hooks.ping(api, u, id);
    Hooks.awaitStatus(api, u, id, second, "delivered");
    assertThat(api.get("/v1/webhooks/" + id, u.accessToken()).json().getString("failing_since"))
        .isNull();
  }
}
