package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.messenger.MessengerSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole node with the Messenger plugin jar against the simulated Messenger Platform: the webhook
 * handshake and signatures, contacts writing and being answered (replies both ways), media both
 * ways, limits, delivery and read watermarks, the 24-hour window and HUMAN_AGENT, throttling,
 * duplicate webhooks and echoes.
 */
@ExtendWith(BackendsExtension.class)
class MessengerNodeTest {
  static MetaFixture fx;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    fx = new MetaFixture(iso, MessengerSimulator.Mode.MESSENGER, null);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  static String text(JsonObject m) {
    return m.getJsonObject("payload").getString("text");
  }

  @Test
  void theHandshakeEchoesTheChallengeOnlyForTheVerifyToken() {
    Map.Entry<Integer, String> ok =
        fx.sim.verify(fx.webhookUrl(), MetaFixture.VERIFY, "1158201444");
    assertThat(ok.getKey()).isEqualTo(200);
    assertThat(ok.getValue()).isEqualTo("1158201444");
    assertThat(fx.sim.verify(fx.webhookUrl(), "guess", "1").getKey()).isEqualTo(403);
  }

  @Test
  void unsignedOrWronglySignedWebhooksAreRefusedAndStoreNothing() {
    String forged =
        fx.sim.body(
            fx.sim
                .item("psid-forged", MetaFixture.ACCOUNT, Instant.now())
                .put("message", new JsonObject().put("mid", "m_forged").put("text", "let me in")));
    HttpResponse<String> wrong = fx.postWebhook(forged, "sha256=" + "0".repeat(64));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(wrong.body()).getJsonObject("error").getString("code"))
        .isEqualTo("unauthenticated");
    assertThat(fx.postWebhook(forged, null).statusCode()).isEqualTo(401);
    // signed, but over other bytes than those sent
    assertThat(fx.postWebhook(forged + " ", fx.sim.signature(forged)).statusCode()).isEqualTo(401);
    fx.sim.userWrites("psid-genuine", "genuine");
    fx.awaitHistory(fx.inboxConversation("psid-genuine"), 1);
    assertThat(fx.contactOf("psid-forged")).isNull();
  }

  @Test
  void aContactWritesTheInboxAnswersQuotingThemAndTheirReplyQuotesUs() {
    String psid = "psid-100";
    String mid = fx.sim.userWrites(psid, "hello page");
    String conv = fx.inboxConversation(psid);
    JsonObject first = fx.awaitHistory(conv, 1).get(0);
    assertThat(text(first)).isEqualTo("hello page");
    assertThat(first.getString("source_channel")).isEqualTo("messenger");
    assertThat(first.getString("source_message_id")).isEqualTo(mid);
    assertThat(first.getString("from_user_id")).isEqualTo(fx.contactOf(psid));

    String id =
        fx.send(conv, new JsonObject().put("type", "text").put("text", "hello, how can we help?"));
    // a reply quoting the contact's message names its mid
    String quoted = fx.reply(conv, first.getString("message_id"), "quoting you");
    JsonObject sent = fx.awaitStatus(quoted, "sent");
    fx.awaitStatus(id, "sent");
    List<MessengerSimulator.Sent> out = fx.sim.sentTo(psid);
    MessengerSimulator.Sent q =
        out.stream().filter(s -> "quoting you".equals(s.text())).findFirst().orElseThrow();
    assertThat(q.replyTo()).isEqualTo(mid);
    assertThat(q.messagingType()).isEqualTo("RESPONSE");
    assertThat(fx.delivery(sent).getString("external_message_id")).isEqualTo(q.mid());

    fx.sim.userReplies(psid, "yes, that", q.mid());
    List<JsonObject> h = fx.awaitHistory(conv, 4);
    JsonObject theirs = h.get(3);
    assertThat(text(theirs)).isEqualTo("yes, that");
    assertThat(theirs.getString("reply_to_message_id")).isEqualTo(quoted);
  }

  @Test
  void mediaGoesOutUploadedAndComesInAsAFileAndOversizeImagesFailBeforeAnyCall() {
    String psid = "psid-200";
    fx.sim.userWrites(psid, "send me the form");
    String conv = fx.inboxConversation(psid);
    byte[] pdf = new byte[200_003];
    new Random(3).nextBytes(pdf);
    String fileId = fx.upload(conv, pdf, "form.pdf", "application/pdf");
    String id =
        fx.send(
            conv, new JsonObject().put("type", "file").put("file_id", fileId).put("text", "here"));
    fx.awaitStatus(id, "sent");
    List<MessengerSimulator.Sent> out = fx.sim.sentTo(psid);
    assertThat(out).hasSize(2);
    assertThat(out.get(0).byUpload()).isTrue();
    assertThat(out.get(0).attachmentType()).isEqualTo("file");
    assertThat(out.get(0).fileName()).isEqualTo("form.pdf");
    assertThat(out.get(0).fileSha256()).isEqualTo(ChannelsFixture.sha256(pdf));
    assertThat(out.get(1).text()).isEqualTo("here");

    byte[] photo = new byte[50_000];
    new Random(4).nextBytes(photo);
    fx.sim.userSendsFile(psid, "image", photo, "filled.jpg", "image/jpeg");
    JsonObject in = fx.awaitHistory(conv, 3).get(2);
    assertThat(in.getJsonObject("payload").getString("type")).isEqualTo("image");
    JsonObject ref = in.getJsonObject("payload").getJsonObject("file_reference");
    assertThat(ref.getString("filename")).isEqualTo("filled.jpg");
    assertThat(fx.download(ref.getString("file_id"))).isEqualTo(photo);

    int calls = fx.sim.calls("messages");
    byte[] big = new byte[9 * 1024 * 1024];
    String bigId = fx.upload(conv, big, "poster.png", "image/png");
    String tooLarge = fx.send(conv, new JsonObject().put("type", "image").put("file_id", bigId));
    JsonObject failed = fx.awaitStatus(tooLarge, "failed");
    assertThat(fx.delivery(failed).getString("reason")).isEqualTo("media_too_large");
    assertThat(fx.sim.calls("messages")).isEqualTo(calls);
  }

  @Test
  void deliveryAndReadWatermarksMarkWhatWasSentBeforeThem() {
    String psid = "psid-300";
    fx.sim.userWrites(psid, "hi");
    String conv = fx.inboxConversation(psid);
    String a = fx.sendText(conv, "one");
    fx.awaitStatus(a, "sent");
    String b = fx.sendText(conv, "two");
    fx.awaitStatus(b, "sent");
    fx.sim.delivered(psid, null);
    fx.awaitStatus(a, "delivered");
    fx.awaitStatus(b, "delivered");
    fx.sim.readAll(psid);
    JsonObject read = fx.awaitStatus(a, "read");
    fx.awaitRecipientStatus(read.getString("message_id"), fx.contactOf(psid), "read");
    fx.awaitStatus(b, "read");
    String c = fx.sendText(conv, "three");
    fx.awaitStatus(c, "sent");
    assertThat(fx.delivery(fx.message(c)).getString("status")).isEqualTo("sent");
  }

  @Test
  void outsideTheWindowASendFailsWindowClosedAndAHumanAgentMayStillReply() {
    String psid = "psid-400";
    fx.sim.userWrites(psid, "hello");
    String conv = fx.inboxConversation(psid);
    fx.awaitHistory(conv, 1);
    fx.sim.lastWrote(psid, Instant.now().minus(Duration.ofDays(2)));
    String late = fx.sendText(conv, "sorry for the delay");
    JsonObject failed = fx.awaitStatus(late, "failed");
    assertThat(fx.delivery(failed).getString("reason")).isEqualTo("window_closed");
    String agent =
        fx.send(
            conv,
            new JsonObject()
                .put("type", "text")
                .put("text", "an agent here")
                .put("metadata", new JsonObject().put("tag", "HUMAN_AGENT")));
    fx.awaitStatus(agent, "sent");
    MessengerSimulator.Sent s = fx.sim.sentTo(psid).get(0);
    assertThat(s.text()).isEqualTo("an agent here");
    assertThat(s.messagingType()).isEqualTo("MESSAGE_TAG");
    assertThat(s.tag()).isEqualTo("HUMAN_AGENT");
  }

  @Test
  void theHostKnowsWhenTheContactLastWroteAndRefusesFreeFormAfterADayWithoutACall() {
    String psid = "psid-450";
    Instant twoDaysAgo = Instant.now().minus(Duration.ofDays(2));
    fx.sim.addUser(psid, "Late Larry");
    fx.sim.lastWrote(psid, twoDaysAgo);
    // the contact's message arrives late (a provider retry after an outage): it was written then
    String body =
        fx.sim.body(
            fx.sim
                .item(psid, MetaFixture.ACCOUNT, twoDaysAgo)
                .put("message", new JsonObject().put("mid", "m_late_450").put("text", "anyone?")));
    assertThat(fx.postWebhook(body, fx.sim.signature(body)).statusCode()).isEqualTo(200);
    String conv = fx.inboxConversation(psid);
    fx.awaitHistory(conv, 1);
    int calls = fx.sim.calls("messages");
    String late = fx.sendText(conv, "sorry, we were away");
    JsonObject failed = fx.awaitStatus(late, "failed");
    assertThat(fx.delivery(failed).getString("reason")).isEqualTo("window_closed");
    assertThat(fx.sim.calls("messages")).isEqualTo(calls);
    String agent =
        fx.send(
            conv,
            new JsonObject()
                .put("type", "text")
                .put("text", "a human agent here")
                .put("metadata", new JsonObject().put("tag", "HUMAN_AGENT")));
    fx.awaitStatus(agent, "sent");
    assertThat(fx.sim.sentTo(psid))
        .extracting(MessengerSimulator.Sent::tag)
        .containsExactly("HUMAN_AGENT");
  }

  @Test
  void throttlingBacksOffThenDelivers() {
    String psid = "psid-500";
    fx.sim.userWrites(psid, "hello");
    String conv = fx.inboxConversation(psid);
    int before = fx.sim.calls("messages");
    fx.sim.throttle(2);
    String id = fx.sendText(conv, "after the limit");
    fx.awaitStatus(id, "sent");
    assertThat(fx.sim.calls("messages") - before).isGreaterThanOrEqualTo(3);
    assertThat(fx.sim.sentTo(psid))
        .extracting(MessengerSimulator.Sent::text)
        .containsExactly("after the limit");
  }

  @Test
  void duplicateAndConcurrentWebhookDeliveriesMakeOneMessage() {
    String psid = "psid-600";
    fx.sim.userWrites(psid, "first");
    String conv = fx.inboxConversation(psid);
    fx.awaitHistory(conv, 1);
    String body =
        fx.sim.body(
            fx.sim
                .item(psid, MetaFixture.ACCOUNT, Instant.now())
                .put("message", new JsonObject().put("mid", "m_dup_600").put("text", "only once")));
    String sig = fx.sim.signature(body);
    List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      posts.add(CompletableFuture.supplyAsync(() -> fx.postWebhook(body, sig)));
    }
    posts.forEach(p -> assertThat(p.join().statusCode()).isEqualTo(200));
    fx.awaitHistory(conv, 2);
    assertThat(fx.postWebhook(body, sig).statusCode()).isEqualTo(200);
    fx.sim.userWrites(psid, "next");
    List<JsonObject> h = fx.awaitHistory(conv, 3);
    assertThat(h).extracting(MessengerNodeTest::text).containsExactly("first", "only once", "next");
  }

  @Test
  void echoesOfOurOwnSendsAreIgnored() {
    String psid = "psid-700";
    fx.sim.userWrites(psid, "hello");
    String conv = fx.inboxConversation(psid);
    fx.awaitHistory(conv, 1);
    fx.sim.echoes(true);
    try {
      String id = fx.sendText(conv, "echo me");
      fx.awaitStatus(id, "sent");
      Await.until(
          "the echo delivered to the node",
          MetaFixture.WAIT,
          () ->
              fx.sim.webhookDeliveries().stream()
                  .anyMatch(
                      d ->
                          d.body().contains("\"is_echo\":true")
                              && d.body().contains(psid)
                              && d.status() == 200));
    } finally {
      fx.sim.echoes(false);
    }
    fx.sim.userWrites(psid, "after the echo");
    List<JsonObject> h = fx.awaitHistory(conv, 3);
    assertThat(h)
        .extracting(MessengerNodeTest::text)
        .containsExactly("hello", "echo me", "after the echo");
    assertThat(new JsonArray(h).encode()).doesNotContain("\"is_echo\"");
  }
}
