package io.chat4all.node.channels;

import static io.chat4all.node.channels.ChannelsFixture.telegramDelivery;
import static io.chat4all.node.channels.ChannelsFixture.telegramStatus;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.Topics;
import io.chat4all.node.api.Api;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.chat4all.testkit.telegram.TelegramSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Outbound delivery to Telegram (simulated Bot API): what the provider receives, what the message
 * and the sender see, permanent failures and retries into the dead-letter topic, retry-after,
 * redeliveries, media. The breaker is kept out of the way here (a high threshold); see {@link
 * ChannelOutageTest} for it.
 */
@ExtendWith(BackendsExtension.class)
class ChannelDeliveryTest {
  static ChannelsFixture fx;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    fx =
        new ChannelsFixture(
            iso, new JsonObject().put("max_attempts", 3).put("breaker_max_failures", 50), null);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @BeforeEach
  void clean() {
    fx.sim.clearRecords();
  }

  @Test
  void aTextGoesToTheChatAndTheSenderSeesSentLiveAndInTheMessage() {
    Api.User bob = fx.api.newUser("bob");
    Api.User alice = fx.telegramUser("alice", 7001);
    String conv = fx.api.privateChat(bob, alice);
    try (WsTestSocket sock = fx.socket(bob)) {
      String id = fx.sendText(bob, conv, "hello on telegram");
      JsonObject m = fx.awaitMessage(bob, id, "telegram sent", telegramStatus("sent"));
      List<TelegramSimulator.Sent> sent = fx.sim.sentTo(7001);
      assertThat(sent)
          .extracting(TelegramSimulator.Sent::text)
          .containsExactly("hello on telegram");
      JsonObject cd = telegramDelivery(m);
      assertThat(cd.getString("external_message_id")).isEqualTo("7001:" + sent.get(0).messageId());
      assertThat(cd.getString("sent_at")).isNotBlank();
      JsonObject rs = m.getJsonObject("recipient_status").getJsonObject(alice.id());
      assertThat(rs.getString("status")).isEqualTo("sent");
      assertThat(rs.getString("channel")).isEqualTo("telegram");
      JsonObject frame =
          sock.await(
              "status sent of " + id,
              f ->
                  "status".equals(f.getString("type"))
                      && id.equals(f.getString("message_id"))
                      && "telegram".equals(f.getString("channel")));
      assertThat(frame.getString("status")).isEqualTo("sent");
      assertThat(frame.getJsonObject("channel_delivery").getString("external_message_id"))
          .isEqualTo(cd.getString("external_message_id"));
    }
  }

  @Test
  void aReplyQuotesTheTelegramMessageItAnswers() {
    Api.User bob = fx.api.newUser("bob");
    Api.User ann = fx.telegramUser("ann", 7005);
    String conv = fx.api.privateChat(bob, ann);
    String first = fx.sendText(bob, conv, "question");
    fx.awaitMessage(bob, first, "sent", telegramStatus("sent"));
    String second = UUID.randomUUID().toString();
    fx.api
        .post(
            "/v1/messages",
            bob.accessToken(),
            Api.textMessage(conv, second, "follow-up")
                .put("reply_to_message_id", first)
                .put("channels", new JsonArray().add("telegram")))
        .expect(202);
    fx.awaitMessage(bob, second, "sent", telegramStatus("sent"));
    List<TelegramSimulator.Sent> sent = fx.sim.sentTo(7005);
    assertThat(sent).hasSize(2);
    assertThat(sent.get(1).replyToMessageId()).isEqualTo(sent.get(0).messageId());
  }

  @Test
  void aBlockedRecipientFailsAtOnceIntoTheDeadLetterTopicAndTheSenderSeesIt() {
    Api.User bob = fx.api.newUser("bob");
    Api.User carol = fx.telegramUser("carol", 7002);
    fx.sim.block(7002);
    String conv = fx.api.privateChat(bob, carol);
    try (WsTestSocket sock = fx.socket(bob)) {
      String id = fx.sendText(bob, conv, "are you there?");
      JsonObject m = fx.awaitMessage(bob, id, "telegram failed", telegramStatus("failed"));
      assertThat(telegramDelivery(m).getString("reason")).isEqualTo("recipient_unavailable");
      JsonObject rs = m.getJsonObject("recipient_status").getJsonObject(carol.id());
      assertThat(rs.getString("status")).isEqualTo("failed");
      assertThat(rs.getString("reason")).isEqualTo("recipient_unavailable");
      // not retried: one call
      assertThat(fx.sim.calls("sendMessage")).isEqualTo(1);
      JsonObject frame =
          sock.await(
              "status failed of " + id,
              f ->
                  "status".equals(f.getString("type"))
                      && id.equals(f.getString("message_id"))
                      && "failed".equals(f.getString("status")));
      assertThat(frame.getString("reason")).isEqualTo("recipient_unavailable");
      JsonObject dead = deadLetter(id);
      assertThat(dead.getJsonObject("failure").getString("reason"))
          .isEqualTo("recipient_unavailable");
      assertThat(dead.getJsonObject("failure").getString("provider_code")).isEqualTo("403");
      assertThat(dead.getString("recipient_user_id")).isEqualTo(carol.id());
    } finally {
      fx.sim.unblock(7002);
    }
  }

  static JsonObject deadLetter(String messageId) {
    List<JsonObject> all = fx.deadLetters();
    return all.stream()
        .filter(d -> messageId.equals(d.getJsonObject("message").getString("message_id")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no dead letter for " + messageId + " in " + all));
  }

  @Test
  void anUnknownChatIsAPermanentFailure() {
    Api.User bob = fx.api.newUser("bob");
    Api.User ghost = fx.api.newUser("ghost");
    fx.link(ghost, "telegram", "99999");
    String id = fx.sendText(bob, fx.api.privateChat(bob, ghost), "hi");
    JsonObject m = fx.awaitMessage(bob, id, "failed", telegramStatus("failed"));
    assertThat(telegramDelivery(m).getString("reason")).isEqualTo("provider_rejected");
    assertThat(fx.sim.calls("sendMessage")).isEqualTo(1);
  }

  @Test
  void transientErrorsAreRetriedUntilTheAttemptsRunOut() {
    Api.User bob = fx.api.newUser("bob");
    Api.User dan = fx.telegramUser("dan", 7003);
    String conv = fx.api.privateChat(bob, dan);
    // two failures, then it works
    fx.sim.failNext("sendMessage", 2, 500, "Internal Server Error", null);
    String ok = fx.sendText(bob, conv, "third time lucky");
    fx.awaitMessage(bob, ok, "sent after retries", telegramStatus("sent"));
    assertThat(fx.sim.calls("sendMessage")).isEqualTo(3);
    // failures on every attempt: failed with provider_error after max_attempts (3) calls
    fx.sim.clearRecords();
    fx.sim.failNext("sendMessage", 3, 502, "Bad Gateway", null);
    String lost = fx.sendText(bob, conv, "never arrives");
    JsonObject m = fx.awaitMessage(bob, lost, "failed", telegramStatus("failed"));
    assertThat(telegramDelivery(m).getString("reason")).isEqualTo("provider_error");
    assertThat(fx.sim.calls("sendMessage")).isEqualTo(3);
    assertThat(fx.sim.sentTo(7003)).isEmpty();
    JsonObject dead = deadLetter(lost);
    assertThat(dead.getJsonObject("failure").getInteger("attempts")).isEqualTo(3);
    // the recipient's later messages still go out, in order
    String after = fx.sendText(bob, conv, "and now?");
    fx.awaitMessage(bob, after, "sent", telegramStatus("sent"));
    assertThat(fx.sim.sentTo(7003))
        .extracting(TelegramSimulator.Sent::text)
        .containsExactly("and now?");
  }

  @Test
  void aRateLimitIsWaitedOutForTheRetryAfterTheProviderAsked() {
    Api.User bob = fx.api.newUser("bob");
    Api.User eve = fx.telegramUser("eve", 7004);
    String conv = fx.api.privateChat(bob, eve);
    fx.sim.failNext("sendMessage", 1, 429, "Too Many Requests: retry after 2", 2);
    String id = fx.sendText(bob, conv, "patience");
    fx.awaitMessage(bob, id, "sent", telegramStatus("sent"));
    List<TelegramSimulator.Call> calls =
        fx.sim.callLog().stream().filter(c -> c.method().equals("sendMessage")).toList();
    assertThat(calls).hasSize(2);
    assertThat(Duration.between(calls.get(0).at(), calls.get(1).at()))
        .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
  }

  @Test
  void aRedeliveredOutboundRecordIsNotSentAgain() throws Exception {
    Api.User bob = fx.api.newUser("bob");
    Api.User fay = fx.telegramUser("fay", 7006);
    String conv = fx.api.privateChat(bob, fay);
    String id = fx.sendText(bob, conv, "only once");
    JsonObject m = fx.awaitMessage(bob, id, "sent", telegramStatus("sent"));
    // the same record once more on the topic (as after a crash before the commit), then a new one
    JsonObject record =
        new JsonObject()
            .put("message", m)
            .put("recipient_user_id", fay.id())
            .put("channel", "telegram")
            .put("channel_user_id", "7006");
    Properties p = new Properties();
    p.put("bootstrap.servers", fx.iso.endpoints().kafkaBootstrapServers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer
          .send(
              new ProducerRecord<>(
                  Topics.name(fx.iso.topicPrefix(), Topics.outbound("telegram")),
                  fay.id(),
                  record.encode()))
          .get();
    }
    String next = fx.sendText(bob, conv, "the next one");
    fx.awaitMessage(bob, next, "sent", telegramStatus("sent"));
    assertThat(fx.sim.sentTo(7006))
        .extracting(TelegramSimulator.Sent::text)
        .containsExactly("only once", "the next one");
  }

  @Test
  void aFileGoesAsAStreamedUploadAndOneAboveEveryLimitFailsBeforeAnyCall() {
    Api.User bob = fx.api.newUser("bob");
    Api.User gus = fx.telegramUser("gus", 7007);
    String conv = fx.api.privateChat(bob, gus);
    byte[] pdf = new byte[300_000];
    new Random(3).nextBytes(pdf);
    String fileId = fx.upload(bob, conv, pdf, "report.pdf", "application/pdf");
    String id = UUID.randomUUID().toString();
    fx.api
        .post(
            "/v1/messages",
            bob.accessToken(),
            new JsonObject()
                .put("conversation_id", conv)
                .put("message_id", id)
                .put(
                    "payload",
                    new JsonObject().put("type", "file").put("file_id", fileId).put("text", "Q3"))
                .put("channels", new JsonArray().add("telegram")))
        .expect(202);
    fx.awaitMessage(bob, id, "sent", telegramStatus("sent"));
    TelegramSimulator.Sent doc = fx.sim.sentTo(7007).get(0);
    assertThat(doc.method()).isEqualTo("sendDocument");
    assertThat(doc.fileName()).isEqualTo("report.pdf");
    assertThat(doc.fileSize()).isEqualTo(pdf.length);
    assertThat(doc.fileSha256()).isEqualTo(ChannelsFixture.sha256(pdf));
    assertThat(doc.text()).isEqualTo("Q3");
    assertThat(doc.byUrl()).isFalse();

    // an image of 11 MB: above Telegram's 10 MB upload and 5 MB link limits for photos
    byte[] big = new byte[11 * 1024 * 1024];
    String bigId = fx.upload(bob, conv, big, "huge.png", "image/png");
    String tooLarge = UUID.randomUUID().toString();
    fx.api
        .post(
            "/v1/messages",
            bob.accessToken(),
            new JsonObject()
                .put("conversation_id", conv)
                .put("message_id", tooLarge)
                .put("payload", new JsonObject().put("type", "image").put("file_id", bigId))
                .put("channels", new JsonArray().add("telegram")))
        .expect(202);
    JsonObject m = fx.awaitMessage(bob, tooLarge, "failed", telegramStatus("failed"));
    assertThat(telegramDelivery(m).getString("reason")).isEqualTo("media_too_large");
    assertThat(fx.sim.calls("sendPhoto")).isZero();
  }

  @Test
  void theOutboundFlagOfAChannelSwitchesItsDeliveryOffAndOnAtRunTime() {
    Api.User admin = fx.api.namedUser(ChannelsFixture.ADMIN);
    Api.User bob = fx.api.newUser("bob");
    Api.User tina = fx.telegramUser("tina", 7301);
    String conv = fx.api.privateChat(bob, tina);
    String flag = "/v1/admin/config/flags/outbound_delivery.telegram";
    fx.api
        .call("PUT", flag, admin.accessToken(), new JsonObject().put("enabled", false).encode())
        .expect(200);
    try {
      String id = fx.sendText(bob, conv, "held back");
      JsonObject m = fx.awaitMessage(bob, id, "telegram failed", telegramStatus("failed"));
      assertThat(telegramDelivery(m).getString("reason")).isEqualTo("channel_disabled");
      assertThat(fx.sim.sentTo(7301)).isEmpty();
    } finally {
      fx.api.delete(flag, admin.accessToken()).expect(200);
    }
    String id = fx.sendText(bob, conv, "let through");
    fx.awaitMessage(bob, id, "telegram sent", telegramStatus("sent"));
    assertThat(fx.sim.sentTo(7301))
        .extracting(TelegramSimulator.Sent::text)
        .containsExactly("let through");
  }

  @Test
  void aDisabledChannelFailsWithChannelNotConfigured() {
    Api.User bob = fx.api.newUser("bob");
    Api.User hal = fx.api.newUser("hal");
    fx.link(hal, "whatsapp", "4915550001");
    String id = UUID.randomUUID().toString();
    fx.api
        .post(
            "/v1/messages",
            bob.accessToken(),
            Api.textMessage(fx.api.privateChat(bob, hal), id, "hi")
                .put("channels", new JsonArray().add("whatsapp")))
        .expect(202);
    JsonObject m =
        fx.awaitMessage(
            bob,
            id,
            "whatsapp failed",
            x ->
                "failed"
                    .equals(
                        x.getJsonObject("channel_delivery", new JsonObject())
                            .getJsonObject("whatsapp", new JsonObject())
                            .getString("status")));
    assertThat(m.getJsonObject("channel_delivery").getJsonObject("whatsapp").getString("reason"))
        .isEqualTo("channel_not_configured");
  }
}
