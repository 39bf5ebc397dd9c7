package io.chat4all.channel.messenger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channel.spi.HandshakeResult;
import io.chat4all.channel.spi.InboundEvent;
import io.chat4all.channel.spi.InboundMedia;
import io.chat4all.channel.spi.MediaDownload;
import io.chat4all.channel.spi.MediaKind;
import io.chat4all.channel.spi.OutboundMedia;
import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.WebhookRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.messenger.MessengerSimulator;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Messenger connector against the Messenger Platform simulator. */
class MessengerConnectorTest {
  static final String PAGE = "104200300400";
  static final String TOKEN = "EAAPage-token";
  static final String APP_SECRET = "app-secret-1";
  static final String VERIFY = "verify-me";
  static final String ALICE = "7001002003";

  static Vertx vertx;
  static HttpClient http;
  static MessengerSimulator sim;
  MessengerConnector connector;

  @BeforeAll
  static void startAll() {
    vertx = Vertx.vertx();
    http = vertx.createHttpClient();
    sim = MessengerSimulator.start(MessengerSimulator.Mode.MESSENGER, PAGE, TOKEN, "v21.0");
  }

  @AfterAll
  static void stopAll() {
    sim.close();
    Await.result(vertx.close());
  }

  @BeforeEach
  void fresh() {
    sim.clearRecords();
    sim.down(false);
    sim.addUser(ALICE, "Alice");
    sim.lastWrote(ALICE, Instant.now());
    connector = started(TOKEN, new JsonObject());
  }

  static Map<String, String> secrets(String token) {
    return Map.of("page_access_token", token, "app_secret", APP_SECRET, "verify_token", VERIFY);
  }

  MessengerConnector started(String token, JsonObject extra) {
    MessengerConnector c = new MessengerConnector();
    JsonObject config =
        new JsonObject()
            .put("base_url", sim.baseUrl())
            .put("api_version", "v21.0")
            .put("page_id", PAGE)
            .mergeIn(extra);
    Await.result(c.start(new TestContext(vertx, http, config, secrets(token), null)));
    return c;
  }

  static OutboundMessage message(
      String text, OutboundMedia media, String replyTo, JsonObject meta, Instant last) {
    return new OutboundMessage(
        "m1", "c1", "u1", "Bob", "u2", ALICE, text, media, replyTo, meta, last, 1);
  }

  static ConnectorException failure(Future<?> f) {
    Throwable t = Await.failure(f);
    assertThat(t).isInstanceOf(ConnectorException.class);
    return (ConnectorException) t;
  }

  static WebhookRequest post(String body, String signature) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (signature != null) {
      headers.add("x-hub-signature-256", signature);
    }
    return new WebhookRequest(
        "POST", MultiMap.caseInsensitiveMultiMap(), headers, Buffer.buffer(body));
  }

  static WebhookRequest get(String mode, String token, String challenge) {
    MultiMap q = MultiMap.caseInsensitiveMultiMap();
    q.add("hub.mode", mode).add("hub.verify_token", token).add("hub.challenge", challenge);
    return new WebhookRequest("GET", q, MultiMap.caseInsensitiveMultiMap(), Buffer.buffer());
  }

  @Test
  void descriptorDeclaresLimitsWindowAndWatermarks() {
    var caps = connector.descriptor().capabilities();
    assertThat(connector.descriptor().channel()).isEqualTo("messenger");
    assertThat(caps.maxTextLength()).isEqualTo(2000);
    assertThat(caps.mediaByUpload().get(MediaKind.IMAGE)).isEqualTo(8L << 20);
    assertThat(caps.mediaByLink().get(MediaKind.VIDEO)).isEqualTo(25L << 20);
    assertThat(caps.window().freeForm()).isEqualTo(Duration.ofHours(24));
    assertThat(caps.window().tagged()).isEqualTo(Duration.ofDays(7));
    assertThat(caps.receipts())
        .contains(io.chat4all.channel.spi.Capabilities.ReceiptKind.READ_WATERMARK);
  }

  @Test
  void theHandshakeEchoesTheChallengeOnlyForTheVerifyToken() {
    HandshakeResult ok = connector.handshake(get("subscribe", VERIFY, "1158201444"));
    assertThat(ok.status()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("1158201444");
    assertThat(connector.handshake(get("subscribe", "wrong", "1")).status()).isEqualTo(403);
    assertThat(connector.handshake(get("unsubscribe", VERIFY, "1")).status()).isEqualTo(403);
  }

  @Test
  void onlyBodiesSignedWithTheAppSecretAreAuthentic() {
    String body = sim.body(new JsonObject().put("sender", new JsonObject().put("id", ALICE)));
    sim.setWebhook(null, APP_SECRET);
    String sig = sim.signature(body);
    assertThat(connector.authenticate(post(body, sig))).isTrue();
    assertThat(connector.authenticate(post(body + " ", sig))).as("another body").isFalse();
    assertThat(connector.authenticate(post(body, sig.substring(0, sig.length() - 2) + "00")))
        .isFalse();
    assertThat(connector.authenticate(post(body, null))).isFalse();
    assertThat(connector.authenticate(post(body, "sha1=" + sig.substring(7)))).isFalse();
  }

  @Test
  void aTextGoesOutAsAResponseAndItsIdIsTheMid() {
    SendResult r = Await.result(connector.send(message("hello", null, null, null, Instant.now())));
    List<MessengerSimulator.Sent> sent = sim.sentTo(ALICE);
    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).text()).isEqualTo("hello");
    assertThat(sent.get(0).messagingType()).isEqualTo("RESPONSE");
    assertThat(r.providerMessageIds()).containsExactly(sent.get(0).mid());
  }

  @Test
  void aReplyNamesTheQuotedMid() {
    Await.result(connector.send(message("re", null, "m_quoted", null, Instant.now())));
    assertThat(sim.sentTo(ALICE).get(0).replyTo()).isEqualTo("m_quoted");
  }

  @Test
  void outsideTheWindowAFreeFormSendFailsWithoutACallAndHumanAgentMayReplyForSevenDays() {
    Instant longAgo = Instant.now().minus(Duration.ofHours(25));
    ConnectorException closed = failure(connector.send(message("late", null, null, null, longAgo)));
    assertThat(closed.errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(sim.calls("messages")).isZero();

    sim.lastWrote(ALICE, Instant.now().minus(Duration.ofDays(3)));
    JsonObject tag = new JsonObject().put("tag", "HUMAN_AGENT");
    Await.result(
        connector.send(
            message("an agent here", null, null, tag, Instant.now().minus(Duration.ofDays(3)))));
    MessengerSimulator.Sent s = sim.sentTo(ALICE).get(0);
    assertThat(s.messagingType()).isEqualTo("MESSAGE_TAG");
    assertThat(s.tag()).isEqualTo("HUMAN_AGENT");

    ConnectorException tooLate =
        failure(
            connector.send(message("x", null, null, tag, Instant.now().minus(Duration.ofDays(8)))));
    assertThat(tooLate.errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(sim.calls("messages")).isEqualTo(1);

    // never wrote (null): refused without a call
    ConnectorException never = failure(connector.send(message("?", null, null, null, null)));
    assertThat(never.errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(sim.calls("messages")).isEqualTo(1);

    // our record says open, the provider says closed: its refusal (10 / 2018278) is the same class
    ConnectorException provider =
        failure(connector.send(message("?", null, null, null, Instant.now())));
    assertThat(provider.errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(provider.providerCode()).isEqualTo("10/2018278");
  }

  @Test
  void graphErrorsAreClassifiedByCode() {
    sim.block(ALICE);
    try {
      ConnectorException blocked =
          failure(connector.send(message("a", null, null, null, Instant.now())));
      assertThat(blocked.errorClass()).isEqualTo(ErrorClass.RECIPIENT_UNAVAILABLE);
      assertThat(blocked.providerCode()).startsWith("551");
    } finally {
      sim.unblock(ALICE);
    }
    sim.throttle(1);
    assertThat(failure(connector.send(message("a", null, null, null, Instant.now()))).errorClass())
        .isEqualTo(ErrorClass.THROTTLED);
    sim.failNext(1, 400, 4, null, "(#4) Application request limit reached");
    assertThat(failure(connector.send(message("a", null, null, null, Instant.now()))).errorClass())
        .isEqualTo(ErrorClass.THROTTLED);
    sim.failNext(
        1, 500, 2, null, "An unexpected error has occurred. Please retry your request later.");
    assertThat(failure(connector.send(message("a", null, null, null, Instant.now()))).errorClass())
        .isEqualTo(ErrorClass.RETRYABLE);
    sim.down(true);
    try {
      assertThat(
              failure(connector.send(message("a", null, null, null, Instant.now()))).errorClass())
          .isEqualTo(ErrorClass.RETRYABLE);
    } finally {
      sim.down(false);
    }
    assertThat(sim.sentTo(ALICE)).isEmpty();
    Await.result(connector.send(message("through", null, null, null, Instant.now())));
    assertThat(sim.sentTo(ALICE)).hasSize(1);
  }

  @Test
  void aRefusedTokenFailsTheStartAndTheConfigurationIsChecked() {
    MessengerConnector wrong = new MessengerConnector();
    JsonObject config = new JsonObject().put("base_url", sim.baseUrl()).put("page_id", PAGE);
    Throwable t =
        Await.failure(wrong.start(new TestContext(vertx, http, config, secrets("nope"), null)));
    assertThat(t).hasMessageContaining("refused the access token").hasMessageNotContaining("nope");
    Throwable noSecret =
        Await.failure(
            new MessengerConnector()
                .start(
                    new TestContext(
                        vertx, http, config, Map.of("page_access_token", TOKEN), null)));
    assertThat(noSecret).hasMessageContaining("app_secret");
    Throwable noPage =
        Await.failure(
            new MessengerConnector()
                .start(
                    new TestContext(
                        vertx,
                        http,
                        new JsonObject().put("base_url", sim.baseUrl()),
                        secrets(TOKEN),
                        null)));
    assertThat(noPage).hasMessageContaining("page_id");
    assertThat(Await.result(connector.health()).healthy()).isTrue();
  }

  static byte[] bytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  @TempDir static Path tmp;

  static OutboundMedia media(MediaKind kind, String name, String mime, byte[] data, String link) {
    Path file = tmp.resolve(name + "-" + data.length);
    try {
      Files.write(file, data);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return new OutboundMedia(
        kind,
        "f1",
        name,
        mime,
        data.length,
        null,
        link,
        () ->
            vertx
                .fileSystem()
                .open(file.toString(), new OpenOptions().setRead(true))
                .map(af -> (ReadStream<Buffer>) af));
  }

  @Test
  void mediaGoesUploadedAsFiledataOrByLinkWithTheTextAfterIt() throws Exception {
    byte[] pdf = bytes(300_017);
    SendResult r =
        Await.result(
            connector.send(
                message(
                    "the report",
                    media(MediaKind.DOCUMENT, "report.pdf", "application/pdf", pdf, null),
                    "m_q",
                    null,
                    Instant.now())));
    List<MessengerSimulator.Sent> sent = sim.sentTo(ALICE);
    assertThat(sent).hasSize(2);
    assertThat(sent.get(0).byUpload()).isTrue();
    assertThat(sent.get(0).attachmentType()).isEqualTo("file");
    assertThat(sent.get(0).fileName()).isEqualTo("report.pdf");
    assertThat(sent.get(0).fileSize()).isEqualTo(pdf.length);
    assertThat(sent.get(0).fileSha256()).isEqualTo(sha256(pdf));
    assertThat(sent.get(0).replyTo()).isEqualTo("m_q");
    assertThat(sent.get(1).text()).isEqualTo("the report");
    assertThat(r.providerMessageIds()).containsExactly(sent.get(0).mid(), sent.get(1).mid());

    byte[] jpg = bytes(5000);
    HttpServer files =
        Await.result(
            vertx
                .createHttpServer()
                .requestHandler(
                    q ->
                        q.response()
                            .putHeader("Content-Type", "image/jpeg")
                            .end(Buffer.buffer(jpg)))
                .listen(0, "127.0.0.1"));
    try {
      MessengerConnector linking = started(TOKEN, new JsonObject().put("media_transfer", "link"));
      String url = "http://127.0.0.1:" + files.actualPort() + "/cat.jpg";
      Await.result(
          linking.send(
              message(
                  null,
                  media(MediaKind.IMAGE, "cat.jpg", "image/jpeg", jpg, url),
                  null,
                  null,
                  Instant.now())));
      MessengerSimulator.Sent byLink = sim.sentTo(ALICE).get(2);
      assertThat(byLink.byUpload()).isFalse();
      assertThat(byLink.attachmentType()).isEqualTo("image");
      assertThat(byLink.url()).isEqualTo(url);
      assertThat(byLink.fileSha256()).isEqualTo(sha256(jpg));
    } finally {
      Await.result(files.close());
    }
  }

  @Test
  void mediaAboveTheLimitsFailsWithoutACall() {
    OutboundMedia image =
        new OutboundMedia(
            MediaKind.IMAGE,
            "f",
            "big.png",
            "image/png",
            (8L << 20) + 1,
            null,
            "http://127.0.0.1:1/x",
            null);
    assertThat(
            failure(connector.send(message(null, image, null, null, Instant.now()))).errorClass())
        .isEqualTo(ErrorClass.MEDIA_TOO_LARGE);
    OutboundMedia video =
        new OutboundMedia(
            MediaKind.VIDEO,
            "f",
            "big.mp4",
            "video/mp4",
            (25L << 20) + 1,
            null,
            "http://127.0.0.1:1/x",
            null);
    assertThat(
            failure(connector.send(message(null, video, null, null, Instant.now()))).errorClass())
        .isEqualTo(ErrorClass.MEDIA_TOO_LARGE);
    assertThat(sim.calls("messages")).isZero();
  }

  List<InboundEvent> parse(JsonObject item) {
    String body = sim.body(item);
    return connector.parse(post(body, null));
  }

  static JsonObject from(String user) {
    return new JsonObject()
        .put("sender", new JsonObject().put("id", user))
        .put("recipient", new JsonObject().put("id", PAGE))
        .put("timestamp", 1_700_000_000_000L);
  }

  @Test
  void webhookItemsBecomeMessagesEchoesAndWatermarks() {
    InboundEvent.Message text =
        (InboundEvent.Message)
            parse(
                    from(ALICE)
                        .put(
                            "message",
                            new JsonObject()
                                .put("mid", "m_1")
                                .put("text", "hi")
                                .put("reply_to", new JsonObject().put("mid", "m_0"))))
                .get(0);
    assertThat(text.dedupKey()).isEqualTo("m_1");
    assertThat(text.providerMessageId()).isEqualTo("m_1");
    assertThat(text.providerUserId()).isEqualTo(ALICE);
    assertThat(text.text()).isEqualTo("hi");
    assertThat(text.replyToProviderMessageId()).isEqualTo("m_0");
    assertThat(text.sentAt()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));

    JsonObject att =
        new JsonObject()
            .put("type", "image")
            .put("payload", new JsonObject().put("url", "https://cdn.example/v/abc_n.jpg?x=1"));
    InboundEvent.Message photo =
        (InboundEvent.Message)
            parse(
                    from(ALICE)
                        .put(
                            "message",
                            new JsonObject()
                                .put("mid", "m_2")
                                .put("attachments", new JsonArray().add(att))))
                .get(0);
    assertThat(photo.media()).extracting(InboundMedia::kind).containsExactly(MediaKind.IMAGE);
    assertThat(photo.media().get(0).ref()).isEqualTo("https://cdn.example/v/abc_n.jpg?x=1");
    assertThat(photo.media().get(0).filename()).isEqualTo("abc_n.jpg");

    JsonObject echo =
        new JsonObject()
            .put("sender", new JsonObject().put("id", PAGE))
            .put("recipient", new JsonObject().put("id", ALICE))
            .put(
                "message",
                new JsonObject().put("mid", "m_3").put("is_echo", true).put("text", "ours"));
    assertThat(parse(echo).get(0)).isInstanceOf(InboundEvent.Echo.class);

    InboundEvent.Watermark delivered =
        (InboundEvent.Watermark)
            parse(
                    from(ALICE)
                        .put(
                            "delivery",
                            new JsonObject()
                                .put("mids", new JsonArray().add("m_9"))
                                .put("watermark", 1_700_000_000_500L)))
                .get(0);
    assertThat(delivered.status()).isEqualTo(InboundEvent.Status.DELIVERED);
    assertThat(delivered.providerUserId()).isEqualTo(ALICE);
    assertThat(delivered.watermark()).isEqualTo(Instant.ofEpochMilli(1_700_000_000_500L));
    InboundEvent.Watermark read =
        (InboundEvent.Watermark)
            parse(from(ALICE).put("read", new JsonObject().put("watermark", 1_700_000_000_900L)))
                .get(0);
    assertThat(read.status()).isEqualTo(InboundEvent.Status.READ);
    assertThat(read.dedupKey()).isNotEqualTo(delivered.dedupKey());

    assertThat(parse(from(ALICE).put("postback", new JsonObject().put("payload", "X"))).get(0))
        .isInstanceOf(InboundEvent.Ignored.class);
  }

  @Test
  void bodiesOfAnotherProductOrNotJsonAreRefused() {
    assertThatThrownBy(() -> connector.parse(post("not json", null)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> connector.parse(post("{\"object\":\"instagram\",\"entry\":[]}", null)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> connector.parse(post("{\"object\":\"page\"}", null)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                connector.parse(
                    post(
                        "{\"object\":\"page\",\"entry\":[{\"messaging\":[{\"message\":{\"text\":\"no mid\"}}]}]}",
                        null)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anInboundAttachmentIsFetchedFromItsUrlWithinTheLimit() {
    byte[] data = bytes(70_001);
    InboundMedia ref =
        new InboundMedia(
            MediaKind.DOCUMENT,
            sim.storeMedia(data, "notes.txt", "text/plain"),
            "notes.txt",
            null,
            -1);
    // fetched and read on an event loop, as the host does (from the test thread a small body may
    // arrive before the stream is paused and handed over)
    MediaDownload[] got = new MediaDownload[1];
    io.vertx.core.Context loop = vertx.getOrCreateContext();
    Buffer body =
        Await.result(
            io.vertx.core.Future.<Buffer>future(
                p ->
                    loop.runOnContext(
                        v ->
                            connector
                                .fetchMedia(ref, 1 << 20)
                                .compose(
                                    dl -> {
                                      got[0] = dl;
                                      return read(dl.stream());
                                    })
                                .onComplete(p))));
    MediaDownload d = got[0];
    assertThat(d.sizeBytes()).isEqualTo(data.length);
    assertThat(d.mimeType()).isEqualTo("text/plain");
    assertThat(body.getBytes()).isEqualTo(data);

    ConnectorException tooBig = failure(connector.fetchMedia(ref, 1000));
    assertThat(tooBig.errorClass()).isEqualTo(ErrorClass.MEDIA_REJECTED);
    ConnectorException gone =
        failure(
            connector.fetchMedia(
                new InboundMedia(MediaKind.DOCUMENT, sim.baseUrl() + "/media/none", null, null, -1),
                1 << 20));
    assertThat(gone.errorClass()).isEqualTo(ErrorClass.MEDIA_REJECTED);
  }

  static io.vertx.core.Future<Buffer> read(ReadStream<Buffer> s) {
    Promise<Buffer> p = Promise.promise();
    Buffer all = Buffer.buffer();
    s.handler(all::appendBuffer);
    s.exceptionHandler(p::tryFail);
    s.endHandler(v -> p.tryComplete(all));
    s.resume();
    return p.future();
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
