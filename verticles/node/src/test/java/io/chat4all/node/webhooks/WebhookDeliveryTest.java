package io.chat4all.node.webhooks;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.node.webhooks.Receiver.Hit;
import io.chat4all.node.webhooks.Receiver.Reply;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Deliveries to a real receiver: only subscribed events of conversations the owner is in, in order
 * per conversation; retries of one logical delivery (same id) with the schedule and Retry-After; a
 * hanging receiver times out without holding up other webhooks; redirects are not followed; dead
 * deliveries stay in the log and can be redelivered; the metrics count it all.
 */
@ExtendWith(BackendsExtension.class)
class WebhookDeliveryTest {
  static final Duration WAIT = Duration.ofSeconds(60);
  static Api api;
  static Vertx vertx;
  static Receiver receiver;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    JsonObject config = Hooks.loopbackConfig("300ms", "300ms", "300ms", "300ms");
    config.getJsonObject("webhooks").put("timeout_ms", 5000).put("connect_timeout_ms", 1000);
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

  static String group(Api.User owner, String name, Api.User... members) {
    JsonArray ids = new JsonArray();
    for (Api.User m : members) {
      ids.add(m.id());
    }
    return api.post(
            "/v1/conversations",
            owner.accessToken(),
            new JsonObject().put("type", "group").put("name", name).put("member_ids", ids))
        .expect(201)
        .json()
        .getString("conversation_id");
  }

  static String send(Api.User from, String conv, String text) {
    String id = UUID.randomUUID().toString();
    api.post("/v1/messages", from.accessToken(), Api.textMessage(conv, id, text)).expect(202);
    return id;
  }

  static Predicate<Hit> event(String type, String field, String value) {
    return h -> {
      JsonObject b = h.json();
      return type.equals(b.getString("type"))
          && value.equals(String.valueOf(b.getJsonObject("data").getValue(field)));
    };
  }

  @Test
  void aWebhookGetsOnlyItsEventsOfItsOwnersConversationsInOrder() {
    Api.User a = api.newUser("fa");
    Api.User b = api.newUser("fb");
    Api.User d = api.newUser("fd");
    String created =
        Hooks.create(api, a, receiver.url("/f-created"), "message.created").getString("webhook_id");
    String all = Hooks.create(api, a, receiver.url("/f-all"), "*").getString("webhook_id");
    String c1 = group(b, "with a", a);
    String c2 = group(b, "without a", d);

    String m1 = send(b, c1, "one");
    receiver.awaitMatching("/f-created", event("message.created", "message_id", m1), 1, WAIT);
    api.call("PATCH", "/v1/messages/" + m1, b.accessToken(), "{\"text\":\"one, edited\"}")
        .expect(202);
    // an edit and a read travel on different topics: the read is made once the edit is applied,
    // so the stored order (and so the webhook order) is created, edited, read
    receiver.awaitMatching("/f-all", event("message.updated", "message_id", m1), 1, WAIT);
    api.post("/v1/messages/" + m1 + "/read", a.accessToken(), null).expect(202);
    String m2 = send(b, c2, "before a joined");
    // numbered before a joins (a message numbered after the join would be a's too)
    Await.until(
        "m2 stored",
        WAIT,
        () ->
            api.get("/v1/conversations/" + c2 + "/messages?after_seq=0", b.accessToken())
                    .json()
                    .getJsonArray("items")
                    .size()
                == 1);
    api.post(
            "/v1/conversations/" + c2 + "/members",
            b.accessToken(),
            new JsonObject().put("member_ids", new JsonArray().add(a.id())))
        .expect(200);
    String m3 = send(b, c2, "after a joined");
    receiver.awaitMatching("/f-created", event("message.created", "message_id", m3), 1, WAIT);

    // m2 was stored before m3 (same conversation, same partition), so its fan-out is done
    List<Hit> onlyCreated = receiver.hits("/f-created");
    assertThat(onlyCreated)
        .extracting(h -> h.json().getJsonObject("data").getString("message_id"))
        .containsExactly(m1, m3);

    receiver.awaitMatching("/f-all", event("message.created", "message_id", m3), 1, WAIT);
    receiver.awaitMatching("/f-all", event("message.status", "message_id", m1), 1, WAIT);
    receiver.awaitMatching(
        "/f-all", event("conversation.members_changed", "conversation_id", c2), 1, WAIT);
    receiver.awaitMatching("/f-all", event("conversation.created", "conversation_id", c1), 1, WAIT);
    List<Hit> everything = receiver.hits("/f-all");
    assertThat(everything).noneMatch(event("message.created", "message_id", m2));
    assertThat(everything).noneMatch(event("conversation.created", "conversation_id", c2));
    // per conversation in order: created, edited, read
    List<String> c1Messages =
        everything.stream()
            .filter(h -> h.json().getString("type").startsWith("message."))
            .filter(h -> c1.equals(h.json().getJsonObject("data").getString("conversation_id")))
            .map(h -> h.json().getString("type"))
            .toList();
    assertThat(c1Messages).containsExactly("message.created", "message.updated", "message.status");
    Hit edited =
        everything.stream()
            .filter(h -> "message.updated".equals(h.json().getString("type")))
            .findFirst()
            .orElseThrow();
    assertThat(edited.json().getJsonObject("data").getJsonObject("payload").getString("text"))
        .isEqualTo("one, edited");
    Hit read =
        everything.stream()
            .filter(event("message.status", "message_id", m1))
            .findFirst()
            .orElseThrow();
    assertThat(read.json().getJsonObject("data").getString("status")).isEqualTo("read");
    assertThat(read.json().getJsonObject("data").getString("user_id")).isEqualTo(a.id());
    assertThat(everything).allMatch(h -> all.equals(h.header("Chat4All-Webhook-Id")));
    assertThat(onlyCreated).allMatch(h -> created.equals(h.header("Chat4All-Webhook-Id")));
  }

  @Test
  void presenceReachesWebhooksOfUsersSharingAConversation() {
    Api.User a = api.newUser("pa");
    Api.User friend = api.newUser("pfriend");
    Api.User stranger = api.newUser("pstranger");
    Hooks.create(api, a, receiver.url("/presence"), "user.presence");
    group(friend, "friends", a);
    api.post("/v1/presence/heartbeat", stranger.accessToken(), null).expect(204);
    api.post("/v1/presence/heartbeat", friend.accessToken(), null).expect(204);
    Hit online =
        receiver
            .awaitMatching("/presence", event("user.presence", "user_id", friend.id()), 1, WAIT)
            .get(0);
    assertThat(online.json().getJsonObject("data").getString("status")).isEqualTo("online");
    assertThat(receiver.hits("/presence"))
        .noneMatch(event("user.presence", "user_id", stranger.id()));
  }

  @Test
  void threeFailuresThenSuccessAreOneDeliveryWithEveryAttemptRecorded() {
    Api.User u = api.newUser("r500");
    String id = Hooks.create(api, u, receiver.url("/r500"), "*").getString("webhook_id");
    receiver.script("/r500", Reply.status(500), Reply.status(500), Reply.status(500));
    String deliveryId = Hooks.ping(api, u, id);

    List<Hit> hits = receiver.awaitHits("/r500", 4, WAIT);
    Hooks.assertSameDelivery(hits);
    assertThat(hits.get(0).header("Chat4All-Delivery-Id")).isEqualTo(deliveryId);
    assertThat(hits)
        .extracting(h -> h.header("Chat4All-Attempt"))
        .containsExactly("1", "2", "3", "4");
    for (int i = 1; i < hits.size(); i++) {
      assertThat(hits.get(i).receivedAtMs() - hits.get(i - 1).receivedAtMs())
          .as("wait before attempt %d", i + 1)
          .isGreaterThanOrEqualTo(290);
    }
    JsonObject d = Hooks.awaitStatus(api, u, id, deliveryId, "delivered");
    assertThat(d.getInteger("attempts")).isEqualTo(4);
    assertThat(d.getJsonArray("attempt_log"))
        .extracting(o -> ((JsonObject) o).getInteger("status_code"))
        .containsExactly(500, 500, 500, 200);
    assertThat(receiver.hits("/r500")).hasSize(4);
  }

  @Test
  void retryAfterIsHonoured() {
    Api.User u = api.newUser("rafter");
    String id = Hooks.create(api, u, receiver.url("/ra"), "*").getString("webhook_id");
    receiver.script("/ra", Reply.status(503, Map.of("Retry-After", "2")));
    String deliveryId = Hooks.ping(api, u, id);
    List<Hit> hits = receiver.awaitHits("/ra", 2, WAIT);
    assertThat(hits.get(1).receivedAtMs() - hits.get(0).receivedAtMs())
        .isGreaterThanOrEqualTo(1900);
    Hooks.awaitStatus(api, u, id, deliveryId, "delivered");
  }

  @Test
  void aHangingReceiverTimesOutAndIsRetriedWhileOtherWebhooksGetTheirEvents() {
    Api.User a = api.newUser("ha");
    Api.User b = api.newUser("hb");
    String slow =
        Hooks.create(api, a, receiver.url("/hang"), "message.created").getString("webhook_id");
    Hooks.create(api, a, receiver.url("/fast"), "message.created");
    receiver.script("/hang", Reply.hang());
    String conv = group(b, "hang", a);
    String m1 = send(b, conv, "1");
    String m2 = send(b, conv, "2");
    String m3 = send(b, conv, "3");

    List<Hit> fast = receiver.awaitHits("/fast", 3, WAIT);
    assertThat(receiver.hanging("/hang"))
        .as("the slow receiver's first attempt still hangs")
        .isEqualTo(1);
    assertThat(receiver.hits("/hang")).hasSize(1);
    assertThat(fast)
        .extracting(h -> h.json().getJsonObject("data").getString("message_id"))
        .containsExactly(m1, m2, m3);

    // after the timeout: m1 again (same delivery), then m2 and m3, in order
    List<Hit> slowHits = receiver.awaitHits("/hang", 4, WAIT);
    assertThat(slowHits)
        .extracting(h -> h.json().getJsonObject("data").getString("message_id"))
        .containsExactly(m1, m1, m2, m3);
    Hooks.assertSameDelivery(slowHits.subList(0, 2));
    String deliveryId = slowHits.get(0).header("Chat4All-Delivery-Id");
    JsonObject d = Hooks.awaitStatus(api, a, slow, deliveryId, "delivered");
    assertThat(d.getInteger("attempts")).isEqualTo(2);
    JsonObject first = d.getJsonArray("attempt_log").getJsonObject(0);
    assertThat(first.getInteger("status_code")).isNull();
    assertThat(first.getString("error")).contains("timeout");
    assertThat(first.getInteger("duration_ms")).isGreaterThanOrEqualTo(4900);
  }

  @Test
  void redirectsAreNotFollowed() {
    Api.User u = api.newUser("redir");
    String id = Hooks.create(api, u, receiver.url("/redir"), "*").getString("webhook_id");
    receiver.otherwise("/redir", Reply.status(302, Map.of("Location", receiver.url("/target"))));
    String deliveryId = Hooks.ping(api, u, id);
    receiver.awaitHits("/redir", 2, WAIT);
    JsonObject[] d = new JsonObject[1];
    Await.until(
        "two attempts recorded",
        WAIT,
        () ->
            (d[0] = Hooks.delivery(api, u, id, deliveryId)).getJsonArray("attempt_log").size()
                >= 2);
    JsonObject first = d[0].getJsonArray("attempt_log").getJsonObject(0);
    assertThat(first.getInteger("status_code")).isEqualTo(302);
    assertThat(first.getString("error")).contains("redirects are not followed");
    assertThat(d[0].getString("status")).isNotEqualTo("delivered");
    assertThat(receiver.hits("/target")).isEmpty();
    api.delete("/v1/webhooks/" + id, u.accessToken()).expect(204);
  }

  @Test
  void aDeliveryThatKeepsFailingIsDeadKeptAndCanBeRedelivered() {
    Api.User u = api.newUser("dead");
    String id = Hooks.create(api, u, receiver.url("/dead"), "*").getString("webhook_id");
    receiver.otherwise("/dead", Reply.status(500));
    Instant before = Instant.now().minusSeconds(1);
    String p1 = Hooks.ping(api, u, id);
    JsonObject dead = Hooks.awaitStatus(api, u, id, p1, "dead");
    assertThat(dead.getInteger("attempts")).isEqualTo(5);
    assertThat(dead.getString("next_attempt_at")).isNull();
    JsonArray listed =
        api.get("/v1/webhooks/" + id + "/deliveries?status=dead", u.accessToken())
            .expect(200)
            .json()
            .getJsonArray("items");
    assertThat(listed)
        .extracting(o -> ((JsonObject) o).getString("delivery_id"))
        .containsExactly(p1);

    receiver.otherwise("/dead", Reply.status(204));
    api.post("/v1/webhooks/" + id + "/deliveries/" + p1 + "/redeliver", u.accessToken(), null)
        .expect(202);
    JsonObject again = Hooks.awaitStatus(api, u, id, p1, "delivered");
    assertThat(again.getInteger("attempts")).isEqualTo(6);
    Hooks.assertSameDelivery(receiver.hits("/dead"));

    // all dead since a time, at once
    receiver.otherwise("/dead", Reply.status(500));
    String p2 = Hooks.ping(api, u, id);
    String p3 = Hooks.ping(api, u, id);
    Hooks.awaitStatus(api, u, id, p2, "dead");
    Hooks.awaitStatus(api, u, id, p3, "dead");
    receiver.otherwise("/dead", Reply.status(200));
    JsonObject r =
        api.post(
                "/v1/webhooks/" + id + "/redeliver",
                u.accessToken(),
                new JsonObject().put("since", before.toString()))
            .expect(202)
            .json();
    assertThat(r.getInteger("redelivered")).isEqualTo(2);
    Hooks.awaitStatus(api, u, id, p2, "delivered");
    Hooks.awaitStatus(api, u, id, p3, "delivered");
  }

  @Test
  void metricsCountOutcomesLatencyAndQueueDepth() throws Exception {
    Api.User u = api.newUser("metrics");
    String id = Hooks.create(api, u, receiver.url("/depth"), "*").getString("webhook_id");
    receiver.otherwise("/depth", Reply.hang());
    for (int i = 0; i < 3; i++) {
      Hooks.ping(api, u, id);
    }
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    String[] text = new String[1];
    Await.until(
        "queue depth of the hanging webhook",
        WAIT,
        () -> {
          try {
            text[0] =
                http.send(
                        java.net.http.HttpRequest.newBuilder(
                                java.net.URI.create(api.base() + "/metrics"))
                            .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString())
                    .body();
          } catch (Exception e) {
            return false;
          }
          return text[0].contains("chat4all_webhook_queue_depth{webhook_id=\"" + id + "\"} 3.0");
        });
    assertThat(text[0]).contains("chat4all_webhook_deliveries_total{outcome=\"delivered\"}");
    assertThat(text[0]).contains("chat4all_webhook_delivery_latency_seconds_bucket");
    api.delete("/v1/webhooks/" + id, u.accessToken()).expect(204);
  }
}
