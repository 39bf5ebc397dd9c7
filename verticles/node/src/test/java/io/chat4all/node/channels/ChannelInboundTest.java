package io.chat4all.node.channels;

import static io.chat4all.node.channels.ChannelsFixture.SECRET;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.chat4all.testkit.telegram.TelegramSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Inbound: Telegram updates pushed to {@code /webhooks/telegram} by the simulator (and posted by
 * the test) become contacts, conversations and messages; refused and bad requests store nothing;
 * duplicates make one message; replies find their conversation; receipts move statuses.
 */
@ExtendWith(BackendsExtension.class)
class ChannelInboundTest {
  static ChannelsFixture fx;
  static final AtomicLong UPDATE_IDS = new AtomicLong(5_000_000);

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    fx = new ChannelsFixture(iso, null, null);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  /** The contact created for Telegram chat {@code chat}, or null. */
  static String contactOf(long chat) {
    List<JsonObject> users = fx.usersNamed("telegram:" + chat);
    return users.isEmpty() ? null : users.get(0).getString("user_id");
  }

  /** The inbox user's conversation with the contact of {@code chat} (waits for it). */
  static String inboxConversation(long chat) {
    String[] conv = {null};
    Await.until(
        "an inbox conversation with the contact of " + chat,
        ChannelsFixture.WAIT,
        () -> {
          String contact = contactOf(chat);
          if (contact == null) {
            return false;
          }
          for (JsonObject c : fx.conversations(fx.inbox)) {
            for (Object m : c.getJsonArray("members", new JsonArray())) {
              if (contact.equals(((JsonObject) m).getString("user_id"))) {
                conv[0] = c.getString("conversation_id");
                return true;
              }
            }
          }
          return false;
        });
    return conv[0];
  }

  static List<JsonObject> awaitHistory(Api.User viewer, String conv, int n) {
    List<List<JsonObject>> last = new ArrayList<>();
    Await.until(
        n + " messages in " + conv,
        ChannelsFixture.WAIT,
        () -> {
          List<JsonObject> h = fx.history(viewer, conv);
          last.add(0, h);
          return h.size() >= n;
        });
    return last.get(0);
  }

  /** A Telegram update with a private-chat text message. */
  static JsonObject update(long chat, String text) {
    long id = UPDATE_IDS.incrementAndGet();
    return new JsonObject()
        .put("update_id", id)
        .put(
            "message",
            new JsonObject()
                .put("message_id", id)
                .put("date", Instant.now().getEpochSecond())
                .put(
                    "chat",
                    new JsonObject().put("id", chat).put("type", "private").put("first_name", "T"))
                .put(
                    "from",
                    new JsonObject().put("id", chat).put("is_bot", false).put("first_name", "T"))
                .put("text", text));
  }

  @Test
  void aNewContactWritesAndTheInboxGetsTheirMessageLiveInOneConversation() {
    fx.sim.addChat(9002, "Zoe", "zoe");
    try (WsTestSocket inboxSocket = fx.socket(fx.inbox)) {
      fx.sim.userWrites(9002, "hello, anyone?");
      String conv = inboxConversation(9002);
      JsonObject live =
          inboxSocket.await(
              "the message live",
              f ->
                  "message".equals(f.getString("type"))
                      && conv.equals(f.getJsonObject("message").getString("conversation_id")));
      JsonObject m = live.getJsonObject("message");
      assertThat(m.getJsonObject("payload").getString("text")).isEqualTo("hello, anyone?");
      assertThat(m.getString("source_channel")).isEqualTo("telegram");
      assertThat(m.getString("source_message_id")).startsWith("9002:");
      assertThat(m.getString("from_user_id")).isEqualTo(contactOf(9002));
    }
    fx.sim.userWrites(9002, "still me");
    String conv = inboxConversation(9002);
    List<JsonObject> h = awaitHistory(fx.inbox, conv, 2);
    assertThat(h)
        .extracting(x -> x.getJsonObject("payload").getString("text"))
        .containsExactly("hello, anyone?", "still me");
    long withZoe =
        fx.conversations(fx.inbox).stream()
            .filter(c -> c.getJsonArray("members").encode().contains(contactOf(9002)))
            .count();
    assertThat(withZoe).isEqualTo(1);
    // the contact is a verified Telegram identity without a password
    Api.Res login =
        fx.api.post(
            "/v1/auth/token",
            null,
            new JsonObject().put("username", "telegram:9002").put("password", "anything goes"));
    assertThat(login.status()).isEqualTo(401);
  }

  @Test
  void theSameUpdateTwiceAndConcurrentlyMakesOneMessage() {
    JsonObject u = update(9003, "only one of me");
    List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      posts.add(
          CompletableFuture.supplyAsync(() -> fx.postWebhook("telegram", u.encode(), SECRET)));
    }
    for (CompletableFuture<HttpResponse<String>> p : posts) {
      assertThat(p.join().statusCode()).isEqualTo(200);
    }
    String conv = inboxConversation(9003);
    awaitHistory(fx.inbox, conv, 1);
    // once more later (a provider retry), then a new update: the duplicate was processed before it
    assertThat(fx.postWebhook("telegram", u.encode(), SECRET).statusCode()).isEqualTo(200);
    assertThat(fx.postWebhook("telegram", update(9003, "next").encode(), SECRET).statusCode())
        .isEqualTo(200);
    List<JsonObject> h = awaitHistory(fx.inbox, conv, 2);
    assertThat(h)
        .extracting(x -> x.getJsonObject("payload").getString("text"))
        .containsExactly("only one of me", "next");
  }

  @Test
  void aNewContactsFirstMessagesAtOnceCreateOneContactAndOneConversation() {
    List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      String body = update(9004, "burst " + i).encode();
      posts.add(CompletableFuture.supplyAsync(() -> fx.postWebhook("telegram", body, SECRET)));
    }
    posts.forEach(p -> assertThat(p.join().statusCode()).isEqualTo(200));
    String conv = inboxConversation(9004);
    List<JsonObject> h = awaitHistory(fx.inbox, conv, 4);
    assertThat(h).hasSize(4);
    assertThat(fx.usersNamed("telegram:9004")).hasSize(1);
    long convs =
        fx.conversations(fx.inbox).stream()
            .filter(c -> c.getJsonArray("members").encode().contains(contactOf(9004)))
            .count();
    assertThat(convs).isEqualTo(1);
  }

  @Test
  void aContactIsReachedOnTelegramUnaskedAndTheirReplyLandsInThatConversation() {
    fx.sim.addChat(9005, "Yan", "yan");
    fx.sim.userWrites(9005, "hi support");
    inboxConversation(9005);
    String contact = contactOf(9005);
    Api.User bob = fx.api.newUser("bob");
    String conv =
        fx.api
            .post(
                "/v1/conversations",
                bob.accessToken(),
                new JsonObject()
                    .put("type", "private")
                    .put("member_ids", new JsonArray().add(contact)))
            .json()
            .getString("conversation_id");
    // no "channels" on the send: the contact is reached where they came from
    String id = UUID.randomUUID().toString();
    fx.api
        .post("/v1/messages", bob.accessToken(), Api.textMessage(conv, id, "Bob here"))
        .expect(202);
    fx.awaitMessage(bob, id, "sent on telegram", ChannelsFixture.telegramStatus("sent"));
    TelegramSimulator.Sent out = fx.sim.sentTo(9005).get(0);
    assertThat(out.text()).isEqualTo("Bob here");
    fx.sim.userReplies(9005, "thanks Bob", out.messageId());
    List<JsonObject> h = awaitHistory(bob, conv, 2);
    JsonObject reply = h.get(1);
    assertThat(reply.getJsonObject("payload").getString("text")).isEqualTo("thanks Bob");
    assertThat(reply.getString("from_user_id")).isEqualTo(contact);
    assertThat(reply.getString("reply_to_message_id")).isEqualTo(id);
  }

  @Test
  void anAttachmentBecomesAPlatformFileAndOneTooLargeANotice() {
    fx.sim.addChat(9006, "Xi", "xi");
    byte[] bytes = "the minutes of the meeting".getBytes();
    fx.sim.userSendsFile(9006, "document", bytes, "minutes.txt", "text/plain", "as promised");
    String conv = inboxConversation(9006);
    JsonObject m = awaitHistory(fx.inbox, conv, 1).get(0);
    JsonObject payload = m.getJsonObject("payload");
    assertThat(payload.getString("type")).isEqualTo("file");
    assertThat(payload.getString("text")).isEqualTo("as promised");
    JsonObject ref = payload.getJsonObject("file_reference");
    assertThat(ref.getString("filename")).isEqualTo("minutes.txt");
    assertThat(fx.download(fx.inbox, ref.getString("file_id"))).isEqualTo(bytes);

    fx.sim.userSendsLargeFile(9006, "film.mkv", 30L * 1024 * 1024);
    JsonObject notice = awaitHistory(fx.inbox, conv, 2).get(1);
    assertThat(notice.getJsonObject("payload").getString("type")).isEqualTo("text");
    assertThat(notice.getJsonObject("payload").getString("text")).contains("film.mkv", "20 MB");
  }

  @Test
  void refusedAndBadWebhookRequestsGetClearErrorsAndStoreNothing() {
    String good = update(9007, "forged").encode();
    HttpResponse<String> wrong = fx.postWebhook("telegram", good, "not-the-secret");
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(wrong.body()).getJsonObject("error").getString("code"))
        .isEqualTo("unauthenticated");
    assertThat(fx.postWebhook("telegram", good, null).statusCode()).isEqualTo(401);
    expectError(fx.postWebhook("telegram", "{not json", SECRET), 400, "malformed_json");
    expectError(fx.postWebhook("telegram", "{\"hello\":1}", SECRET), 400, "bad_request");
    expectError(fx.postWebhook("telegram", "[]", SECRET), 400, "bad_request");
    expectError(
        fx.postWebhook(
            "telegram", "{\"update_id\":1,\"pad\":\"" + "x".repeat(1_100_000) + "\"}", SECRET),
        413,
        "payload_too_large");
    expectError(fx.postWebhook("nosuchchannel", good, SECRET), 404, "not_found");
    expectError(fx.postWebhook("BadName", good, SECRET), 404, "not_found");
    expectError(fx.postWebhook("instagram", good, SECRET), 503, "unavailable");
    HttpResponse<String> handshake = get("/webhooks/telegram?hub.mode=subscribe");
    expectError(handshake, 404, "not_found");
    // a later good update is processed; the refused one never was
    assertThat(fx.postWebhook("telegram", update(9008, "genuine").encode(), SECRET).statusCode())
        .isEqualTo(200);
    awaitHistory(fx.inbox, inboxConversation(9008), 1);
    assertThat(contactOf(9007)).isNull();
  }

  static void expectError(HttpResponse<String> r, int status, String code) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonObject e = new JsonObject(r.body()).getJsonObject("error");
    assertThat(e.getString("code")).isEqualTo(code);
    assertThat(e.getString("message")).isNotBlank();
  }

  static HttpResponse<String> get(String path) {
    try {
      return java.net.http.HttpClient.newHttpClient()
          .send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(fx.api.base() + path))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void providerReceiptsAndWatermarksMoveTheStatusesOfOutboundMessages() {
    fx.dropPlugin(
        "messenger",
        ReceiptsConnector.VERSION,
        ChannelsFixture.testClassJar(
            ReceiptsConnector.class, "messenger", ReceiptsConnector.VERSION));
    try {
      Api.User bob = fx.api.newUser("bob");
      Api.User mia = fx.api.newUser("mia");
      fx.link(mia, "messenger", "psid-1");
      String conv = fx.api.privateChat(bob, mia);
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        String id = UUID.randomUUID().toString();
        fx.api
            .post(
                "/v1/messages",
                bob.accessToken(),
                Api.textMessage(conv, id, "m" + i)
                    .put("channels", new JsonArray().add("messenger")))
            .expect(202);
        ids.add(id);
        fx.awaitMessage(bob, id, "sent", messenger("sent"));
      }
      JsonObject first = fx.message(bob, ids.get(0));
      String mid = messengerDelivery(first).getString("external_message_id");
      assertThat(mid).startsWith("mid.");
      JsonObject body =
          new JsonObject()
              .put(
                  "receipts",
                  new JsonArray().add(new JsonObject().put("id", mid).put("status", "delivered")));
      assertThat(postMessenger(body).statusCode()).isEqualTo(200);
      fx.awaitMessage(bob, ids.get(0), "delivered", messenger("delivered"));
      JsonObject m = fx.message(bob, ids.get(0));
      assertThat(m.getJsonObject("recipient_status").getJsonObject(mia.id()).getString("status"))
          .isEqualTo("delivered");
      // the provider reports the second message failed after accepting it
      String mid2 = messengerDelivery(fx.message(bob, ids.get(1))).getString("external_message_id");
      JsonObject failedReceipt =
          new JsonObject()
              .put(
                  "receipts",
                  new JsonArray().add(new JsonObject().put("id", mid2).put("status", "failed")));
      assertThat(postMessenger(failedReceipt).statusCode()).isEqualTo(200);
      JsonObject failed = fx.awaitMessage(bob, ids.get(1), "failed", messenger("failed"));
      assertThat(
              failed.getJsonObject("recipient_status").getJsonObject(mia.id()).getString("status"))
          .isEqualTo("failed");
      assertThat(messengerDelivery(failed).getString("reason")).isEqualTo("provider_error");
      // read up to now: every message sent so far is read
      JsonObject wm =
          new JsonObject()
              .put(
                  "watermarks",
                  new JsonArray()
                      .add(
                          new JsonObject()
                              .put("user", "psid-1")
                              .put("status", "read")
                              .put("at", Instant.now().plusSeconds(1).toString())));
      assertThat(postMessenger(wm).statusCode()).isEqualTo(200);
      for (String id : List.of(ids.get(0), ids.get(2))) {
        JsonObject read = fx.awaitMessage(bob, id, "read", messenger("read"));
        assertThat(read.getString("status")).isEqualTo("read");
      }
      // a failure is final on its channel: the watermark did not turn it into read
      JsonObject still = fx.message(bob, ids.get(1));
      assertThat(messengerDelivery(still).getString("status")).isEqualTo("failed");
      assertThat(
              still.getJsonObject("recipient_status").getJsonObject(mia.id()).getString("status"))
          .isEqualTo("failed");

      // the provider's receipt comes before its answer to the send was recorded: it is kept and
      // applies once the send is (the test connector numbers its ids mid.1, mid.2, …)
      int next =
          Integer.parseInt(
                  messengerDelivery(fx.message(bob, ids.get(2)))
                      .getString("external_message_id")
                      .substring("mid.".length()))
              + 1;
      JsonObject early =
          new JsonObject()
              .put(
                  "receipts",
                  new JsonArray()
                      .add(new JsonObject().put("id", "mid." + next).put("status", "delivered")));
      assertThat(postMessenger(early).statusCode()).isEqualTo(200);
      String late = UUID.randomUUID().toString();
      fx.api
          .post(
              "/v1/messages",
              bob.accessToken(),
              Api.textMessage(conv, late, "late").put("channels", new JsonArray().add("messenger")))
          .expect(202);
      JsonObject delivered = fx.awaitMessage(bob, late, "delivered", messenger("delivered"));
      assertThat(messengerDelivery(delivered).getString("external_message_id"))
          .isEqualTo("mid." + next);
    } finally {
      fx.removePlugin("messenger");
    }
  }

  static JsonObject messengerDelivery(JsonObject m) {
    return m.getJsonObject("channel_delivery", new JsonObject())
        .getJsonObject("messenger", new JsonObject());
  }

  static java.util.function.Predicate<JsonObject> messenger(String status) {
    return m -> status.equals(messengerDelivery(m).getString("status"));
  }

  static HttpResponse<String> postMessenger(JsonObject body) {
    try {
      return java.net.http.HttpClient.newHttpClient()
          .send(
              java.net.http.HttpRequest.newBuilder(
                      java.net.URI.create(fx.api.base() + "/webhooks/messenger"))
                  .header("X-Test-Secret", "ok")
                  .POST(java.net.http.HttpRequest.BodyPublishers.ofString(body.encode()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
