package io.chat4all.node.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** Webhook calls and the receiver-side signature check of docs/webhooks.md, for the tests. */
final class Hooks {
  private Hooks() {}

  /** Config overlay of a node that delivers to receivers on loopback, with fast retries. */
  static JsonObject loopbackConfig(String... schedule) {
    return new JsonObject()
        .put(
            "webhooks",
            new JsonObject()
                .put("allow_http", true)
                .put("allow_private_addresses", true)
                .put("retry_schedule", new JsonArray(List.of((Object[]) schedule)))
                .put("retry_jitter_percent", 0)
                .put("poll_interval_ms", 200))
        .put("outbox", new JsonObject().put("interval_ms", 200));
  }

  static JsonObject create(Api api, Api.User owner, String url, String... events) {
    return api.post(
            "/v1/webhooks",
            owner.accessToken(),
            new JsonObject()
                .put("url", url)
                .put("events", new JsonArray(List.of((Object[]) events))))
        .expect(201)
        .json();
  }

  /** The receiver's check, as documented: HMAC-SHA256(secret, timestamp + "." + raw body). */
  static boolean verifies(String secret, Receiver.Hit hit) {
    String header = hit.header("Chat4All-Signature");
    String timestamp = hit.header("Chat4All-Timestamp");
    if (header == null || timestamp == null) {
      return false;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] expected =
          HexFormat.of()
              .formatHex(
                  mac.doFinal((timestamp + "." + hit.body()).getBytes(StandardCharsets.UTF_8)))
              .getBytes(StandardCharsets.US_ASCII);
      for (String part : header.split(",")) {
        String p = part.trim();
        if (p.startsWith("v1=")
            && java.security.MessageDigest.isEqual(
                expected, p.substring(3).getBytes(StandardCharsets.US_ASCII))) {
          return true;
        }
      }
      return false;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static JsonObject delivery(Api api, Api.User owner, String webhookId, String deliveryId) {
    return api.get("/v1/webhooks/" + webhookId + "/deliveries/" + deliveryId, owner.accessToken())
        .expect(200)
        .json();
  }

  /** Waits until the delivery's status is {@code status}; returns it. */
  static JsonObject awaitStatus(
      Api api, Api.User owner, String webhookId, String deliveryId, String status) {
    JsonObject[] last = new JsonObject[1];
    Await.until(
        "delivery " + deliveryId + " " + status,
        Duration.ofSeconds(60),
        () -> {
          last[0] = delivery(api, owner, webhookId, deliveryId);
          return status.equals(last[0].getString("status"));
        });
    return last[0];
  }

  static String ping(Api api, Api.User owner, String webhookId) {
    return api.post("/v1/webhooks/" + webhookId + "/test", owner.accessToken(), null)
        .expect(202)
        .json()
        .getString("delivery_id");
  }

  static void assertSameDelivery(List<Receiver.Hit> hits) {
    assertThat(hits).isNotEmpty();
    String id = hits.get(0).header("Chat4All-Delivery-Id");
    String body = hits.get(0).body();
    for (Receiver.Hit h : hits) {
      assertThat(h.header("Chat4All-Delivery-Id")).isEqualTo(id);
      assertThat(h.body()).isEqualTo(body);
    }
  }
}
