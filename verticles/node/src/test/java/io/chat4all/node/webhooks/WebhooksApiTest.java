package io.chat4all.node.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The webhook API: registration with the secret shown once, list/get/update/delete, the per-user
 * limit, global webhooks for admins only, pings signed as documented, secret rotation with an
 * overlap, and clear 4xx for bad input and for other users' webhooks.
 */
@ExtendWith(BackendsExtension.class)
class WebhooksApiTest {
  static Api api;
  static Vertx vertx;
  static Receiver receiver;
  static String adminName;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    adminName = "hookadmin_" + UUID.randomUUID().toString().substring(0, 8);
    JsonObject config = Hooks.loopbackConfig("300ms", "300ms");
    config.getJsonObject("webhooks").put("max_per_user", 3);
    config.put("admin", new JsonObject().put("usernames", new JsonArray().add(adminName)));
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
  void registeredWebhooksAreListedUpdatedAndDeletedAndTheSecretIsShownOnce() {
    Api.User u = api.newUser("hcrud");
    JsonObject created =
        api.post(
                "/v1/webhooks",
                u.accessToken(),
                new JsonObject()
                    .put("url", receiver.url("/crud"))
                    .put("events", new JsonArray().add("message.created").add("message.created"))
                    .put("description", "CRM sync"))
            .expect(201)
            .json();
    String id = created.getString("webhook_id");
    assertThat(created.getString("secret")).startsWith("whsec_").hasSizeGreaterThan(40);
    assertThat(created.getJsonArray("events")).containsExactly("message.created");
    assertThat(created.getBoolean("active")).isTrue();
    assertThat(created.getBoolean("global")).isFalse();

    JsonObject got = api.get("/v1/webhooks/" + id, u.accessToken()).expect(200).json();
    assertThat(got.containsKey("secret")).isFalse();
    assertThat(got.getString("description")).isEqualTo("CRM sync");
    JsonArray listed =
        api.get("/v1/webhooks", u.accessToken()).expect(200).json().getJsonArray("items");
    assertThat(listed).hasSize(1);
    assertThat(listed.getJsonObject(0).containsKey("secret")).isFalse();

    JsonObject patched =
        api.call(
                "PATCH",
                "/v1/webhooks/" + id,
                u.accessToken(),
                new JsonObject()
                    .put("events", new JsonArray().add("*"))
                    .put("active", false)
                    .put("description", "")
                    .encode())
            .expect(200)
            .json();
    assertThat(patched.getJsonArray("events")).containsExactly("*");
    assertThat(patched.getBoolean("active")).isFalse();
    assertThat(patched.getString("description")).isNull();
    // a turned-off webhook gets no ping
    api.post("/v1/webhooks/" + id + "/test", u.accessToken(), null).expectError(409, "conflict");

    api.delete("/v1/webhooks/" + id, u.accessToken()).expect(204);
    api.get("/v1/webhooks/" + id, u.accessToken()).expectError(404, "not_found");
    api.delete("/v1/webhooks/" + id, u.accessToken()).expectError(404, "not_found");
  }

  @Test
  void aPingIsSignedAsDocumentedAndLogged() {
    Api.User u = api.newUser("hping");
    JsonObject w = Hooks.create(api, u, receiver.url("/ping"), "message.created");
    String id = w.getString("webhook_id");
    String deliveryId = Hooks.ping(api, u, id);

    Receiver.Hit hit = receiver.awaitHits("/ping", 1, Duration.ofSeconds(30)).get(0);
    assertThat(hit.header("Content-Type")).startsWith("application/json");
    assertThat(hit.header("Chat4All-Webhook-Id")).isEqualTo(id);
    assertThat(hit.header("Chat4All-Delivery-Id")).isEqualTo(deliveryId);
    assertThat(hit.header("Chat4All-Signature")).matches("v1=[0-9a-f]{64}");
    long ts = Long.parseLong(hit.header("Chat4All-Timestamp"));
    assertThat(Math.abs(System.currentTimeMillis() / 1000 - ts)).isLessThan(300);
    assertThat(Hooks.verifies(w.getString("secret"), hit)).isTrue();
    assertThat(Hooks.verifies("whsec_someoneelse", hit)).isFalse();
    JsonObject body = hit.json();
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("id", "type", "created_at", "data");
    assertThat(body.getString("type")).isEqualTo("ping");
    assertThat(body.getJsonObject("data").getString("webhook_id")).isEqualTo(id);

    JsonObject logged = Hooks.awaitStatus(api, u, id, deliveryId, "delivered");
    assertThat(logged.getInteger("attempts")).isEqualTo(1);
    assertThat(logged.getInteger("last_status_code")).isEqualTo(200);
    assertThat(logged.getJsonObject("body")).isEqualTo(body);
    assertThat(logged.getJsonArray("attempt_log")).hasSize(1);
    JsonArray page =
        api.get("/v1/webhooks/" + id + "/deliveries?status=delivered", u.accessToken())
            .expect(200)
            .json()
            .getJsonArray("items");
    assertThat(page)
        .extracting(o -> ((JsonObject) o).getString("delivery_id"))
        .contains(deliveryId);
  }

  @Test
  void aRotatedSecretSignsNextToTheOldOneDuringTheOverlapOnly() {
    Api.User u = api.newUser("hrot");
    JsonObject w = Hooks.create(api, u, receiver.url("/rotate"), "*");
    String id = w.getString("webhook_id");
    String first = w.getString("secret");

    JsonObject rotated =
        api.post(
                "/v1/webhooks/" + id + "/rotate-secret",
                u.accessToken(),
                new JsonObject().put("overlap_seconds", 3600))
            .expect(200)
            .json();
    String second = rotated.getString("secret");
    assertThat(second).isNotEqualTo(first).startsWith("whsec_");
    assertThat(rotated.getString("previous_secret_expires_at")).isNotNull();
    Hooks.ping(api, u, id);
    Receiver.Hit during = receiver.awaitHits("/rotate", 1, Duration.ofSeconds(30)).get(0);
    assertThat(during.header("Chat4All-Signature")).matches("v1=[0-9a-f]{64},v1=[0-9a-f]{64}");
    assertThat(Hooks.verifies(second, during)).isTrue();
    assertThat(Hooks.verifies(first, during)).isTrue();

    // a rotation without overlap retires the previous secret at once (the body is optional)
    String third =
        api.post("/v1/webhooks/" + id + "/rotate-secret", u.accessToken(), null)
            .expect(200)
            .json()
            .getString("secret");
    api.post(
            "/v1/webhooks/" + id + "/rotate-secret",
            u.accessToken(),
            new JsonObject().put("overlap_seconds", 0))
        .expect(200);
    JsonObject now = api.get("/v1/webhooks/" + id, u.accessToken()).expect(200).json();
    assertThat(now.getString("previous_secret_expires_at")).isNull();
    assertThat(third).isNotEqualTo(second);
    String fourth =
        api.post(
                "/v1/webhooks/" + id + "/rotate-secret",
                u.accessToken(),
                new JsonObject().put("overlap_seconds", 0))
            .expect(200)
            .json()
            .getString("secret");
    Hooks.ping(api, u, id);
    Receiver.Hit after = receiver.awaitHits("/rotate", 2, Duration.ofSeconds(30)).get(1);
    assertThat(after.header("Chat4All-Signature")).matches("v1=[0-9a-f]{64}");
    assertThat(Hooks.verifies(fourth, after)).isTrue();
    assertThat(Hooks.verifies(third, after)).isFalse();
    assertThat(Hooks.verifies(first, after)).isFalse();
  }

  @Test
  void badInputGetsAClear400() {
    Api.User u = api.newUser("hbad");
    String t = u.accessToken();
    String ok = receiver.url("/bad");
    for (String url :
        List.of(
            "ftp://example.com/hook",
            "not a url",
            "https://",
            "https://user:pw@example.com/hook",
            "https://example.com/hook#frag",
            "https://exa\u0000mple.com/",
            "/relative/path")) {
      api.post(
              "/v1/webhooks",
              t,
              new JsonObject().put("url", url).put("events", new JsonArray().add("*")))
          .expectError(400, "validation_failed");
    }
    Api.Res unknown =
        api.post(
                "/v1/webhooks",
                t,
                new JsonObject()
                    .put("url", ok)
                    .put("events", new JsonArray().add("message.created").add("message.exploded")))
            .expectError(400, "validation_failed");
    JsonObject details = unknown.json().getJsonObject("error").getJsonObject("details");
    assertThat(details.getString("field")).isEqualTo("events");
    assertThat(details.getJsonArray("unknown")).containsExactly("message.exploded");
    for (JsonObject body :
        List.of(
            new JsonObject().put("url", ok),
            new JsonObject().put("url", ok).put("events", new JsonArray()),
            new JsonObject().put("url", ok).put("events", "message.created"),
            new JsonObject().put("url", ok).put("events", new JsonArray().add(7)),
            new JsonObject().put("url", 42).put("events", new JsonArray().add("*")),
            new JsonObject().put("events", new JsonArray().add("*")),
            new JsonObject()
                .put("url", ok)
                .put("events", new JsonArray().add("*"))
                .put("secret", "x"),
            new JsonObject()
                .put("url", ok)
                .put("events", new JsonArray().add("*"))
                .put("description", "bell\u0007"),
            new JsonObject()
                .put("url", ok)
                .put("events", new JsonArray().add("*"))
                .put("global", "yes"))) {
      api.post("/v1/webhooks", t, body).expectError(400, "validation_failed");
    }
    api.call("POST", "/v1/webhooks", t, "{not json").expectError(400, "malformed_json");

    String id = Hooks.create(api, u, ok, "*").getString("webhook_id");
    api.call("PATCH", "/v1/webhooks/" + id, t, "{}").expectError(400, "validation_failed");
    api.call("PATCH", "/v1/webhooks/" + id, t, "{\"active\":\"no\"}")
        .expectError(400, "validation_failed");
    api.post(
            "/v1/webhooks/" + id + "/rotate-secret", t, new JsonObject().put("overlap_seconds", -1))
        .expectError(400, "validation_failed");
    api.post("/v1/webhooks/" + id + "/redeliver", t, new JsonObject().put("since", "yesterday"))
        .expectError(400, "validation_failed");
    api.get("/v1/webhooks/" + id + "/deliveries?status=lost", t)
        .expectError(400, "validation_failed");
    api.get("/v1/webhooks/" + id + "/deliveries?cursor=abc", t)
        .expectError(400, "validation_failed");
    api.get("/v1/webhooks/" + id + "/deliveries?limit=0", t).expectError(400, "validation_failed");
    api.get("/v1/webhooks/" + id + "/deliveries/not-a-uuid", t).expectError(404, "not_found");
    api.get("/v1/webhooks/" + id + "/deliveries/" + UUID.randomUUID(), t)
        .expectError(404, "not_found");
    api.get("/v1/webhooks/not-a-uuid", t).expectError(404, "not_found");
    api.get("/v1/webhooks", null).expectError(401, "unauthenticated");
  }

  @Test
  void anotherUsersWebhookIsNotFound() {
    Api.User owner = api.newUser("howner");
    Api.User other = api.newUser("hother");
    String id = Hooks.create(api, owner, receiver.url("/foreign"), "*").getString("webhook_id");
    String t = other.accessToken();
    String base = "/v1/webhooks/" + id;
    api.get(base, t).expectError(404, "not_found");
    api.call("PATCH", base, t, "{\"active\":false}").expectError(404, "not_found");
    api.post(base + "/rotate-secret", t, null).expectError(404, "not_found");
    api.post(base + "/test", t, null).expectError(404, "not_found");
    api.get(base + "/deliveries", t).expectError(404, "not_found");
    api.post(base + "/redeliver", t, new JsonObject().put("since", "2020-01-01T00:00:00Z"))
        .expectError(404, "not_found");
    api.delete(base, t).expectError(404, "not_found");
    assertThat(api.get("/v1/webhooks", t).expect(200).json().getJsonArray("items")).isEmpty();
    // still the owner's, untouched
    assertThat(api.get(base, owner.accessToken()).expect(200).json().getBoolean("active")).isTrue();
  }

  @Test
  void aUserHasAtMostTheConfiguredNumberOfWebhooksAndOnlyAdminsRegisterGlobalOnes() {
    Api.User u = api.newUser("hmax");
    for (int i = 0; i < 3; i++) {
      Hooks.create(api, u, receiver.url("/max" + i), "*");
    }
    api.post(
            "/v1/webhooks",
            u.accessToken(),
            new JsonObject()
                .put("url", receiver.url("/max3"))
                .put("events", new JsonArray().add("*")))
        .expectError(409, "conflict");
    assertThat(api.get("/v1/webhooks", u.accessToken()).json().getJsonArray("items")).hasSize(3);

    JsonObject global =
        new JsonObject()
            .put("url", receiver.url("/global"))
            .put("events", new JsonArray().add("message.created"))
            .put("global", true);
    Api.User plain = api.newUser("hplain");
    api.post("/v1/webhooks", plain.accessToken(), global).expectError(403, "forbidden");
    String adminToken = register(adminName);
    assertThat(api.post("/v1/webhooks", adminToken, global).expect(201).json().getBoolean("global"))
        .isTrue();
  }

  /** Registers {@code name} and logs in; the access token. */
  static String register(String name) {
    api.post(
            "/v1/auth/register",
            null,
            new JsonObject()
                .put("username", name)
                .put("email", name + "@example.test")
                .put("password", "correct horse"))
        .expect(201);
    return api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", name).put("password", "correct horse"))
        .expect(200)
        .json()
        .getString("access_token");
  }
}
