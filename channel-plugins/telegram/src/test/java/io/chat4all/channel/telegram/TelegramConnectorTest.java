package io.chat4all.channel.telegram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaDownload;
import io.chat4all.channel.spi.MediaKind;
import io.chat4all.channel.spi.OutboundMedia;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.PollResult;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.WebhookRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.telegram.TelegramSimulator;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connector against the Bot API simulator: what goes out, how failures are classified. */
class TelegramConnectorTest {
  static final String TOKEN = "123456:test-token";
  static final String SECRET = "hook-secret_1";
  static final long ALICE = 5001;

  static Vertx vertx;
  static HttpClient http;
  static TelegramSimulator sim;
  TelegramConnector connector;

  @TempDir Path tmp;

  @BeforeAll
  static void startAll() {
    vertx = Vertx.vertx();
    http = vertx.createHttpClient();
    sim = TelegramSimulator.start(TOKEN);
    sim.addChat(ALICE, "Alice", "alice");
  }

  @AfterAll
  static void stopAll() {
    sim.close();
    Await.result(vertx.close());
  }

  @BeforeEach
  void fresh() {
    sim.clearRecords();
    sim.dropUpdates();
    sim.down(false);
    connector = started("webhook", null);
  }

  TelegramConnector started(String mode, String webhookUrl) {
    return started(mode, webhookUrl, TOKEN, new JsonObject());
  }

  TelegramConnector started(String mode, String webhookUrl, String token, JsonObject extra) {
    TelegramConnector c = new TelegramConnector();
    JsonObject config =
        new JsonObject()
            .put("base_url", sim.baseUrl())
            .put("inbound_mode", mode)
            .put("poll_timeout_seconds", 1)
            .mergeIn(extra);
    Map<String, String> secrets = new HashMap<>();
    secrets.put("bot_token", token);
    secrets.put("webhook_secret", SECRET);
    Await.result(c.start(new TestContext(vertx, http, config, secrets, webhookUrl)));
    return c;
  }

  static OutboundMessage text(String chat, String text, String replyTo) {
    return new OutboundMessage(
        "m1", "c1", "u1", "Bob", "u2", chat, text, null, replyTo, null, null, 1);
  }

  static ConnectorException failure(Future<?> f) {
    Throwable t = Await.failure(f);
    assertThat(t).isInstanceOf(ConnectorException.class);
    return (ConnectorException) t;
  }

  @Test
  void aTextGoesOutAndItsIdNamesTheChat() {
    SendResult r = Await.result(connector.send(text(Long.toString(ALICE), "hello", null)));
    List<TelegramSimulator.Sent> sent = sim.sentTo(ALICE);
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).text()).isEqualTo("hello");
    assertThat(r.providerMessageIds()).containsExactly(ALICE + ":" + sent.get(0).messageId());
  }

  @Test
  void aReplyQuotesTheProviderMessage() {
    String id =
        Await.result(connector.send(text(Long.toString(ALICE), "first", null)))
            .providerMessageIds()
            .get(0);
    Await.result(connector.send(text(Long.toString(ALICE), "second", id)));
    List<TelegramSimulator.Sent> sent = sim.sentTo(ALICE);
    assertThat(sent.get(sent.size() - 1).replyToMessageId())
        .isEqualTo(Long.parseLong(id.split(":")[1]));
  }

  @Test
  void aLongTextIsSplitIntoSeveralMessages() {
    String text = "x".repeat(4096) + "y".repeat(10);
    SendResult r = Await.result(connector.send(text(Long.toString(ALICE), text, null)));
    assertThat(r.providerMessageIds()).hasSize(2);
    assertThat(sim.sentTo(ALICE))
        .extracting(TelegramSimulator.Sent::text)
        .containsExactly("x".repeat(4096), "y".repeat(10));
  }

  @Test
  void providerErrorsAreClassifiedKeepingTheProviderCode() {
    String chat = Long.toString(ALICE);
    sim.failNext("sendMessage", 1, 429, "Too Many Requests: retry after 7", 7);
    ConnectorException throttled = failure(connector.send(text(chat, "a", null)));
    assertThat(throttled.errorClass()).isEqualTo(ErrorClass.THROTTLED);
    assertThat(throttled.retryAfter()).isEqualTo(Duration.ofSeconds(7));
    assertThat(throttled.providerCode()).isEqualTo("429");

    sim.block(ALICE);
    try {
      ConnectorException blocked = failure(connector.send(text(chat, "a", null)));
      assertThat(blocked.errorClass()).isEqualTo(ErrorClass.RECIPIENT_UNAVAILABLE);
      assertThat(blocked.providerCode()).isEqualTo("403");
      assertThat(blocked.getMessage()).contains("blocked");
    } finally {
      sim.unblock(ALICE);
    }

    ConnectorException unknown = failure(connector.send(text("777", "a", null)));
    assertThat(unknown.errorClass()).isEqualTo(ErrorClass.PERMANENT);
    assertThat(unknown.getMessage()).contains("chat not found");

    sim.failNext("sendMessage", 1, 500, "Internal Server Error", null);
    assertThat(failure(connector.send(text(chat, "a", null))).errorClass())
        .isEqualTo(ErrorClass.RETRYABLE);

    sim.badGateway("sendMessage", 1);
    ConnectorException gateway = failure(connector.send(text(chat, "a", null)));
    assertThat(gateway.errorClass()).isEqualTo(ErrorClass.RETRYABLE);
    assertThat(gateway.providerCode()).isEqualTo("502");

    sim.down(true);
    try {
      assertThat(failure(connector.send(text(chat, "a", null))).errorClass())
          .isEqualTo(ErrorClass.RETRYABLE);
    } finally {
      sim.down(false);
    }
    assertThat(sim.sentTo(ALICE)).isEmpty();
  }

  @Test
  void aRefusedTokenFailsTheStartAndEverySendIsAuth() {
    TelegramConnector wrong = new TelegramConnector();
    Map<String, String> secrets = Map.of("bot_token", "1:wrong", "webhook_secret", SECRET);
    JsonObject config =
        new JsonObject().put("base_url", sim.baseUrl()).put("inbound_mode", "polling");
    Throwable t = Await.failure(wrong.start(new TestContext(vertx, http, config, secrets, null)));
    assertThat(t).hasMessageContaining("refused the bot token").hasMessageNotContaining("1:wrong");

    TelegramConnector lazy = started("webhook", null, "1:wrong", new JsonObject());
    ConnectorException auth = failure(lazy.send(text(Long.toString(ALICE), "a", null)));
    assertThat(auth.errorClass()).isEqualTo(ErrorClass.AUTH);
    assertThat(auth.getMessage()).doesNotContain("1:wrong");
  }

  @Test
  void webhookModeNeedsASecretAndRegistersTheWebhookWithIt() {
    TelegramConnector c = new TelegramConnector();
    JsonObject config = new JsonObject().put("base_url", sim.baseUrl());
    Throwable t =
        Await.failure(
            c.start(new TestContext(vertx, http, config, Map.of("bot_token", TOKEN), null)));
    assertThat(t).hasMessageContaining("webhook_secret");

    started("webhook", "http://127.0.0.1:1/webhooks/telegram");
    assertThat(sim.webhookUrl()).isEqualTo("http://127.0.0.1:1/webhooks/telegram");
    assertThat(sim.webhookSecret()).isEqualTo(SECRET);
    started("polling", null);
    assertThat(sim.webhookUrl()).isNull();
  }

  @Test
  void aDocumentIsUploadedAsAStreamAndAPhotoCanGoByLink() throws Exception {
    byte[] bytes = new byte[3 * 1024 * 1024 + 17];
    new Random(7).nextBytes(bytes);
    Path file = tmp.resolve("report.pdf");
    Files.write(file, bytes);
    OutboundMedia doc =
        new OutboundMedia(
            MediaKind.DOCUMENT,
            "f1",
            "report.pdf",
            "application/pdf",
            bytes.length,
            null,
            null,
            () ->
                vertx
                    .fileSystem()
                    .open(file.toString(), new OpenOptions().setRead(true))
                    .map(af -> (ReadStream<Buffer>) af));
    OutboundMessage m =
        new OutboundMessage(
            "m2",
            "c1",
            "u1",
            "Bob",
            "u2",
            Long.toString(ALICE),
            "the report",
            doc,
            null,
            null,
            null,
            1);
    Await.result(connector.send(m));
    TelegramSimulator.Sent sent = sim.sentTo(ALICE).get(0);
    assertThat(sent.method()).isEqualTo("sendDocument");
    assertThat(sent.fileName()).isEqualTo("report.pdf");
    assertThat(sent.fileSize()).isEqualTo(bytes.length);
    assertThat(sent.fileSha256())
        .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    assertThat(sent.text()).isEqualTo("the report");
    assertThat(sent.byUrl()).isFalse();

    HttpServer files =
        Await.result(
            vertx
                .createHttpServer()
                .requestHandler(
                    r -> r.response().end(Buffer.buffer(java.util.Arrays.copyOf(bytes, 1000))))
                .listen(0, "127.0.0.1"));
    try {
      TelegramConnector linking =
          started("webhook", null, TOKEN, new JsonObject().put("media_transfer", "link"));
      OutboundMedia photo =
          new OutboundMedia(
              MediaKind.IMAGE,
              "f2",
              "cat.jpg",
              "image/jpeg",
              1000,
              null,
              "http://127.0.0.1:" + files.actualPort() + "/cat.jpg",
              null);
      Await.result(
          linking.send(
              new OutboundMessage(
                  "m3",
                  "c1",
                  "u1",
                  "Bob",
                  "u2",
                  Long.toString(ALICE),
                  null,
                  photo,
                  null,
                  null,
                  null,
                  1)));
      TelegramSimulator.Sent byLink = sim.sentTo(ALICE).get(1);
      assertThat(byLink.method()).isEqualTo("sendPhoto");
      assertThat(byLink.byUrl()).isTrue();
      assertThat(byLink.fileSize()).isEqualTo(1000);
    } finally {
      Await.result(files.close());
    }
  }

  @Test
  void mediaAboveEveryLimitIsRejectedWithoutACallAndALongCaptionGoesApart() throws Exception {
    OutboundMedia huge =
        new OutboundMedia(
            MediaKind.DOCUMENT,
            "f",
            "big.bin",
            "application/octet-stream",
            60L * 1024 * 1024,
            null,
            "http://127.0.0.1:1/x",
            () -> Future.failedFuture("unused"));
    ConnectorException e =
        failure(
            connector.send(
                new OutboundMessage(
                    "m",
                    "c",
                    "u1",
                    "B",
                    "u2",
                    Long.toString(ALICE),
                    null,
                    huge,
                    null,
                    null,
                    null,
                    1)));
    assertThat(e.errorClass()).isEqualTo(ErrorClass.MEDIA_REJECTED);
    assertThat(sim.calls("sendDocument")).isZero();

    Path file = tmp.resolve("a.txt");
    Files.writeString(file, "abc");
    OutboundMedia small =
        new OutboundMedia(
            MediaKind.DOCUMENT,
            "f",
            "a.txt",
            "text/plain",
            3,
            null,
            null,
            () ->
                vertx
                    .fileSystem()
                    .open(file.toString(), new OpenOptions().setRead(true))
                    .map(af -> (ReadStream<Buffer>) af));
    String caption = "c".repeat(1500);
    SendResult r =
        Await.result(
            connector.send(
                new OutboundMessage(
                    "m",
                    "c",
                    "u1",
                    "B",
                    "u2",
                    Long.toString(ALICE),
                    caption,
                    small,
                    null,
                    null,
                    null,
                    1)));
    assertThat(r.providerMessageIds()).hasSize(2);
    List<TelegramSimulator.Sent> sent = sim.sentTo(ALICE);
    assertThat(sent.get(0).method()).isEqualTo("sendDocument");
    assertThat(sent.get(0).text()).isNull();
    assertThat(sent.get(1).text()).isEqualTo(caption);
  }

  @Test
  void theWebhookSecretHeaderIsRequired() {
    Buffer body = Buffer.buffer("{\"update_id\":1}");
    assertThat(connector.authenticate(request(body, SECRET))).isTrue();
    assertThat(connector.authenticate(request(body, SECRET + "x"))).isFalse();
    assertThat(connector.authenticate(request(body, null))).isFalse();
  }

  static WebhookRequest request(Buffer body, String secret) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (secret != null) {
      headers.add("x-telegram-bot-api-secret-token", secret);
    }
    return new WebhookRequest("POST", MultiMap.caseInsensitiveMultiMap(), headers, body);
  }

  @Test
  void updatesAreParsedIntoEventsAndGarbageIsRefused() {
    JsonObject msg =
        new JsonObject()
            .put("update_id", 42)
            .put(
                "message",
                new JsonObject()
                    .put("message_id", 9)
                    .put("date", 1_700_000_000)
                    .put("chat", new JsonObject().put("id", ALICE).put("type", "private"))
                    .put(
                        "from",
                        new JsonObject()
                            .put("id", ALICE)
                            .put("first_name", "Alice")
                            .put("last_name", "Liddell")
                            .put("username", "alice"))
                    .put("text", "hi")
                    .put("reply_to_message", new JsonObject().put("message_id", 3)));
    List<InboundEvent> events = connector.parse(request(msg.toBuffer(), SECRET));
    assertThat(events).hasSize(1);
    InboundEvent.Message m = (InboundEvent.Message) events.get(0);
    assertThat(m.dedupKey()).isEqualTo("42");
    assertThat(m.providerMessageId()).isEqualTo(ALICE + ":9");
    assertThat(m.providerUserId()).isEqualTo(Long.toString(ALICE));
    assertThat(m.displayName()).isEqualTo("Alice Liddell");
    assertThat(m.username()).isEqualTo("alice");
    assertThat(m.text()).isEqualTo("hi");
    assertThat(m.replyToProviderMessageId()).isEqualTo(ALICE + ":3");

    JsonObject group = msg.copy();
    group.getJsonObject("message").getJsonObject("chat").put("type", "group");
    assertThat(connector.parse(request(group.toBuffer(), SECRET)).get(0))
        .isInstanceOf(InboundEvent.Ignored.class);
    JsonObject edit = new JsonObject().put("update_id", 43).put("edited_message", new JsonObject());
    assertThat(connector.parse(request(edit.toBuffer(), SECRET)).get(0))
        .isInstanceOf(InboundEvent.Ignored.class);

    for (String bad :
        List.of(
            "not json",
            "[1,2]",
            "{}",
            "{\"update_id\":\"x\"}",
            "{\"update_id\":1,\"message\":5}",
            "{\"update_id\":1,\"message\":{\"message_id\":1}}")) {
      assertThatThrownBy(() -> connector.parse(request(Buffer.buffer(bad), SECRET)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void pollingReadsUpdatesFromTheOffsetAndAWebhookBlocksIt() {
    TelegramConnector poller = started("polling", null);
    long first = sim.userWrites(ALICE, "one");
    long second = sim.userWrites(ALICE, "two");
    PollResult r = Await.result(poller.poll(null));
    assertThat(r.events())
        .extracting(InboundEvent::dedupKey)
        .containsExactly(Long.toString(first), Long.toString(second));
    assertThat(r.nextOffset()).isEqualTo(Long.toString(second + 1));
    // the same offset again: nothing new, after the long-poll timeout
    PollResult again = Await.result(poller.poll(r.nextOffset()));
    assertThat(again.events()).isEmpty();
    assertThat(again.nextOffset()).isEqualTo(r.nextOffset());
    assertThat(sim.pendingUpdates()).isZero();

    started("webhook", "http://127.0.0.1:1/webhooks/telegram");
    try {
      ConnectorException conflict = failure(poller.poll(r.nextOffset()));
      assertThat(conflict.providerCode()).isEqualTo("409");
    } finally {
      started("polling", null);
    }
  }

  @Test
  void inboundMediaIsDownloadedUpToTheLimit() {
    TelegramConnector poller = started("polling", null);
    byte[] bytes = "file content".getBytes();
    long update = sim.userSendsFile(ALICE, "document", bytes, "notes.txt", "text/plain", "see");
    long big = sim.userSendsLargeFile(ALICE, "movie.mkv", 30L * 1024 * 1024);
    List<InboundEvent> events = Await.result(poller.poll(null)).events();
    InboundEvent.Message withFile = (InboundEvent.Message) events.get(0);
    assertThat(withFile.dedupKey()).isEqualTo(Long.toString(update));
    assertThat(withFile.text()).isEqualTo("see");
    InboundMedia media = withFile.media().get(0);
    assertThat(media.filename()).isEqualTo("notes.txt");
    MediaDownload d = Await.result(poller.fetchMedia(media, 1024));
    assertThat(readAll(d.stream())).isEqualTo(Buffer.buffer(bytes));
    assertThat(failure(poller.fetchMedia(media, 5)).errorClass())
        .isEqualTo(ErrorClass.MEDIA_REJECTED);

    InboundEvent.Message tooBig = (InboundEvent.Message) events.get(1);
    assertThat(tooBig.dedupKey()).isEqualTo(Long.toString(big));
    assertThat(tooBig.media()).isEmpty();
    assertThat(tooBig.notice()).contains("movie.mkv").contains("20 MB");
  }

  static Buffer readAll(ReadStream<Buffer> s) {
    Promise<Buffer> p = Promise.promise();
    Buffer all = Buffer.buffer();
    s.handler(all::appendBuffer);
    s.exceptionHandler(p::tryFail);
    s.endHandler(v -> p.tryComplete(all));
    s.resume();
    return Await.result(p.future());
  }
}
