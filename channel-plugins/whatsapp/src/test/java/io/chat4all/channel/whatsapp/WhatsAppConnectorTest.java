package io.chat4all.channel.whatsapp;

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
import io.chat4all.channel.spi.SendResult;
import io.chat4all.channel.spi.WebhookRequest;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.whatsapp.WhatsAppSimulator;
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
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The connector against the Cloud API simulator: what goes out, what comes in, failures. */
class WhatsAppConnectorTest {
  static final String TOKEN = "EAAG-test-token";
  static final String APP_SECRET = "app-secret-1";
  static final String VERIFY = "verify-me";
  static final String PNID = "106540352242922";
  static final String ALICE = "16315551181";

  static Vertx vertx;
  static HttpClient http;
  static WhatsAppSimulator sim;
  WhatsAppConnector connector;

  @TempDir Path tmp;

  @BeforeAll
  static void startAll() {
    vertx = Vertx.vertx();
    http = vertx.createHttpClient();
    sim = WhatsAppSimulator.start("v21.0", PNID, TOKEN);
    sim.enforceWindow(false);
  }

  @AfterAll
  static void stopAll() {
    sim.close();
    Await.result(vertx.close());
  }

  @BeforeEach
  void fresh() {
    sim.clearRecords();
    connector = started(TOKEN, new JsonObject());
  }

  WhatsAppConnector started(String token, JsonObject extra) {
    WhatsAppConnector c = new WhatsAppConnector();
    Await.result(c.start(context(token, extra)));
    return c;
  }

  static TestContext context(String token, JsonObject extra) {
    JsonObject config =
        new JsonObject()
            .put("base_url", sim.baseUrl())
            .put("api_version", "v21.0")
            .put("phone_number_id", PNID)
            .mergeIn(extra);
    Map<String, String> secrets = new HashMap<>();
    secrets.put("access_token", token);
    secrets.put("app_secret", APP_SECRET);
    secrets.put("verify_token", VERIFY);
    return TestContext.of(vertx, http, config, secrets);
  }

  static OutboundMessage msg(
      String text, OutboundMedia media, String replyTo, JsonObject meta, Instant lastInbound) {
    return new OutboundMessage(
        "m1", "c1", "u1", "Bob", "u2", ALICE, text, media, replyTo, meta, lastInbound, 1);
  }

  static OutboundMessage text(String text) {
    return msg(text, null, null, null, Instant.now().minusSeconds(60));
  }

  static ConnectorException failure(Future<?> f) {
    Throwable t = Await.failure(f);
    assertThat(t).isInstanceOf(ConnectorException.class);
    return (ConnectorException) t;
  }

  static WebhookRequest post(Buffer raw, String signature) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (signature != null) {
      headers.add("X-Hub-Signature-256", signature);
    }
    return new WebhookRequest("POST", MultiMap.caseInsensitiveMultiMap(), headers, raw);
  }

  static WebhookRequest signed(JsonObject body) {
    Buffer raw = body.toBuffer();
    return post(raw, "sha256=" + WhatsAppSimulator.sign(APP_SECRET, raw));
  }

  @Test
  void startNeedsTokenNumberAndAppSecretAndFailsOnARefusedToken() {
    WhatsAppConnector c = new WhatsAppConnector();
    TestContext noSecret =
        new TestContext(
            vertx,
            http,
            context(TOKEN, new JsonObject()).config(),
            Map.of("access_token", TOKEN),
            null);
    assertThat(Await.failure(c.start(noSecret))).hasMessageContaining("app_secret");
    assertThat(Await.failure(new WhatsAppConnector().start(context("wrong", new JsonObject()))))
        .hasMessageContaining("refused the access token");
    assertThat(connector.descriptor().capabilities().window().freeForm())
        .isEqualTo(Duration.ofHours(24));
    assertThat(Await.result(connector.health()).healthy()).isTrue();
  }

  @Test
  void handshakeEchoesTheChallengeOnlyForTheVerifyToken() {
    MultiMap q =
        MultiMap.caseInsensitiveMultiMap()
            .add("hub.mode", "subscribe")
            .add("hub.verify_token", VERIFY)
            .add("hub.challenge", "1158201444");
    WebhookRequest get = new WebhookRequest("GET", q, MultiMap.caseInsensitiveMultiMap(), null);
    assertThat(connector.handshake(get).status()).isEqualTo(200);
    assertThat(connector.handshake(get).body()).isEqualTo("1158201444");
    q.set("hub.verify_token", "nope");
    assertThat(connector.handshake(get).status()).isEqualTo(403);
  }

  @Test
  void signatureIsCheckedOverTheRawBody() {
    Buffer raw = Buffer.buffer("{\"object\": \"whatsapp_business_account\", \"entry\": []}");
    String good = "sha256=" + WhatsAppSimulator.sign(APP_SECRET, raw);
    assertThat(connector.authenticate(post(raw, good))).isTrue();
    assertThat(connector.authenticate(post(raw, "sha256=" + "0".repeat(64)))).isFalse();
    assertThat(connector.authenticate(post(raw, null))).isFalse();
    assertThat(connector.authenticate(post(new JsonObject(raw).toBuffer(), good))).isFalse();
    assertThat(
            connector.authenticate(
                post(raw, "sha256=" + WhatsAppSimulator.sign("other-secret", raw))))
        .isFalse();
  }

  @Test
  void aTextGoesOutWithItsWamidAndAReplyCarriesTheContext() {
    SendResult r = Await.result(connector.send(text("hello")));
    WhatsAppSimulator.Sent s = sim.sentTo(ALICE).get(0);
    assertThat(s.type()).isEqualTo("text");
    assertThat(s.text()).isEqualTo("hello");
    assertThat(r.providerMessageIds()).containsExactly(s.wamid());
    Await.result(
        connector.send(msg("re", null, "wamid.IN42", null, Instant.now().minusSeconds(5))));
    assertThat(sim.sentTo(ALICE).get(1).replyTo()).isEqualTo("wamid.IN42");
  }

  @Test
  void outsideTheWindowFreeFormFailsFastAndATemplateGoes() {
    Instant old = Instant.now().minus(Duration.ofHours(25));
    ConnectorException ce = failure(connector.send(msg("late", null, null, null, old)));
    assertThat(ce.errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    // never wrote (the host passes null): the window was never open
    ConnectorException never = failure(connector.send(msg("hi", null, null, null, null)));
    assertThat(never.errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(sim.calls("messages")).isZero();
    JsonObject meta =
        new JsonObject()
            .put("template", new JsonObject().put("name", "hello_world").put("language", "en_US"));
    Await.result(connector.send(msg("fallback", null, null, meta, old)));
    WhatsAppSimulator.Sent s = sim.sentTo(ALICE).get(0);
    assertThat(s.type()).isEqualTo("template");
    assertThat(s.template().getString("name")).isEqualTo("hello_world");
    assertThat(s.template().getJsonObject("language").getString("code")).isEqualTo("en_US");
  }

  @Test
  void failuresAreClassifiedByGraphCode() {
    sim.throttle(1);
    assertThat(failure(connector.send(text("x"))).errorClass()).isEqualTo(ErrorClass.THROTTLED);
    sim.failNext("messages", 1, 429, 131056, "pair rate limit");
    assertThat(failure(connector.send(text("x"))).errorClass()).isEqualTo(ErrorClass.THROTTLED);
    sim.failNext("messages", 1, 400, 131047, "Re-engagement message");
    assertThat(failure(connector.send(text("x"))).errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    sim.failNext("messages", 1, 400, 131026, "Message undeliverable");
    assertThat(failure(connector.send(text("x"))).errorClass().retryable()).isFalse();
    sim.failNext("messages", 1, 400, 368, "Temporarily blocked for policies violations");
    assertThat(failure(connector.send(text("x"))).errorClass()).isEqualTo(ErrorClass.PERMANENT);
    sim.failNext("messages", 1, 400, 131053, "Media upload error");
    assertThat(failure(connector.send(text("x"))).errorClass()).isEqualTo(ErrorClass.RETRYABLE);
    sim.failNext("messages", 1, 401, 190, "Error validating access token");
    ConnectorException auth = failure(connector.send(text("x")));
    assertThat(auth.errorClass()).isEqualTo(ErrorClass.AUTH);
    assertThat(auth.getMessage()).doesNotContain(TOKEN);
    assertThat(Await.result(connector.health()).healthy()).isFalse();
    Await.result(connector.send(text("fine again")));
  }

  OutboundMedia file(MediaKind kind, String name, String mime, byte[] bytes, String link)
      throws Exception {
    Path p = tmp.resolve(name);
    Files.write(p, bytes);
    return new OutboundMedia(
        kind,
        "f1",
        name,
        mime,
        bytes.length,
        null,
        link,
        () ->
            vertx
                .fileSystem()
                .open(p.toString(), new OpenOptions().setRead(true))
                .map(af -> (ReadStream<Buffer>) af));
  }

  @Test
  void mediaGoesByUploadOrByLinkAndAboveTheLimitFailsBeforeAnyCall() throws Exception {
    byte[] pdf = new byte[200_000];
    new java.util.Random(3).nextBytes(pdf);
    Await.result(
        connector.send(
            msg(
                "the report",
                file(MediaKind.DOCUMENT, "report.pdf", "application/pdf", pdf, null),
                null,
                null,
                Instant.now())));
    WhatsAppSimulator.Sent doc = sim.sentTo(ALICE).get(0);
    assertThat(doc.type()).isEqualTo("document");
    assertThat(doc.filename()).isEqualTo("report.pdf");
    assertThat(doc.caption()).isEqualTo("the report");
    WhatsAppSimulator.Media up =
        sim.uploads().stream().filter(m -> m.id().equals(doc.mediaId())).findFirst().orElseThrow();
    assertThat(up.bytes().getBytes()).isEqualTo(pdf);
    assertThat(up.mimeType()).isEqualTo("application/pdf");

    HttpServer files =
        Await.result(
            vertx
                .createHttpServer()
                .requestHandler(r -> r.response().end(Buffer.buffer(new byte[1234])))
                .listen(0, "127.0.0.1"));
    try {
      String link = "http://127.0.0.1:" + files.actualPort() + "/presigned/photo.jpg";
      WhatsAppConnector byLink = started(TOKEN, new JsonObject().put("media_transfer", "link"));
      Await.result(
          byLink.send(
              msg(
                  null,
                  file(MediaKind.IMAGE, "photo.jpg", "image/jpeg", new byte[1234], link),
                  null,
                  null,
                  Instant.now())));
      WhatsAppSimulator.Sent photo = sim.sentTo(ALICE).get(1);
      assertThat(photo.type()).isEqualTo("image");
      assertThat(photo.link()).isEqualTo(link);
      assertThat(photo.linkedBytes()).isEqualTo(1234);
    } finally {
      Await.result(files.close());
    }

    int before = sim.calls("messages") + sim.calls("media");
    OutboundMedia big =
        new OutboundMedia(
            MediaKind.IMAGE,
            "f2",
            "big.png",
            "image/png",
            6L * 1024 * 1024,
            null,
            "http://files/big.png",
            () -> Future.failedFuture("never opened"));
    ConnectorException ce = failure(connector.send(msg(null, big, null, null, Instant.now())));
    assertThat(ce.errorClass()).isEqualTo(ErrorClass.MEDIA_TOO_LARGE);
    assertThat(sim.calls("messages") + sim.calls("media")).isEqualTo(before);
    // configured to send oversize files as their link
    WhatsAppConnector asLink = started(TOKEN, new JsonObject().put("oversize_as_link", true));
    assertThat(asLink.descriptor().capabilities().mediaByLink().get(MediaKind.IMAGE))
        .isGreaterThan(6L * 1024 * 1024);
    Await.result(asLink.send(msg("look", big, null, null, Instant.now())));
    WhatsAppSimulator.Sent t = sim.sentTo(ALICE).get(sim.sentTo(ALICE).size() - 1);
    assertThat(t.type()).isEqualTo("text");
    assertThat(t.text()).contains("look").contains("big.png").contains("http://files/big.png");
  }

  @Test
  void inboundTextMediaAndRepliesBecomeMessages() {
    JsonObject text =
        sim.userMessage(ALICE, "text", new JsonObject().put("body", "hi"), "wamid.OUT7");
    String mediaId = sim.storeMedia("PDFBYTES".getBytes(), "application/pdf", "a.pdf");
    JsonObject doc =
        sim.userMessage(
            ALICE,
            "document",
            new JsonObject()
                .put("id", mediaId)
                .put("mime_type", "application/pdf")
                .put("filename", "a.pdf")
                .put("caption", "see"),
            null);
    JsonObject value =
        sim.value(ALICE, "Alice A").put("messages", new JsonArray().add(text).add(doc));
    List<InboundEvent> events = connector.parse(signed(sim.envelope(value)));
    assertThat(events).hasSize(2);
    InboundEvent.Message m = (InboundEvent.Message) events.get(0);
    assertThat(m.dedupKey()).isEqualTo(text.getString("id"));
    assertThat(m.providerMessageId()).isEqualTo(text.getString("id"));
    assertThat(m.providerUserId()).isEqualTo(ALICE);
    assertThat(m.displayName()).isEqualTo("Alice A");
    assertThat(m.text()).isEqualTo("hi");
    assertThat(m.replyToProviderMessageId()).isEqualTo("wamid.OUT7");
    InboundEvent.Message d = (InboundEvent.Message) events.get(1);
    assertThat(d.text()).isEqualTo("see");
    InboundMedia im = d.media().get(0);
    assertThat(im.kind()).isEqualTo(MediaKind.DOCUMENT);
    assertThat(im.ref()).isEqualTo(mediaId);
    MediaDownload dl = Await.result(connector.fetchMedia(im, 1000));
    assertThat(dl.filename()).isEqualTo("a.pdf");
    assertThat(dl.sizeBytes()).isEqualTo(8);
    assertThat(readAll(dl.stream()).toString()).isEqualTo("PDFBYTES");
    assertThat(failure(connector.fetchMedia(im, 4)).errorClass())
        .isEqualTo(ErrorClass.MEDIA_REJECTED);
  }

  @Test
  void statusesBecomeReceiptsAndAnAsyncWindowFailureIsClassified() {
    JsonObject read = sim.statusWebhook("wamid.OUT1", ALICE, "read", null);
    InboundEvent.Receipt r = (InboundEvent.Receipt) connector.parse(signed(read)).get(0);
    assertThat(r.status()).isEqualTo(InboundEvent.Status.READ);
    assertThat(r.dedupKey()).isEqualTo("wamid.OUT1:read");
    JsonObject delivered = sim.statusWebhook("wamid.OUT1", ALICE, "delivered", null);
    assertThat(connector.parse(signed(delivered)).get(0).dedupKey())
        .isEqualTo("wamid.OUT1:delivered");
    JsonObject failed = sim.statusWebhook("wamid.OUT2", ALICE, "failed", 131047);
    InboundEvent.Receipt f = (InboundEvent.Receipt) connector.parse(signed(failed)).get(0);
    assertThat(f.status()).isEqualTo(InboundEvent.Status.FAILED);
    assertThat(f.errorClass()).isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(f.providerCode()).isEqualTo("131047");
  }

  @Test
  void echoesOtherNumbersAndBadBodiesAreHandled() {
    JsonObject mine =
        sim.userMessage(sim.displayNumber(), "text", new JsonObject().put("body", "ours"), null);
    JsonObject value = sim.value(ALICE, "A").put("messages", new JsonArray().add(mine));
    assertThat(connector.parse(signed(sim.envelope(value))).get(0))
        .isInstanceOf(InboundEvent.Echo.class);
    JsonObject echoes =
        new JsonObject()
            .put("object", "whatsapp_business_account")
            .put(
                "entry",
                new JsonArray()
                    .add(
                        new JsonObject()
                            .put("id", "waba")
                            .put(
                                "changes",
                                new JsonArray()
                                    .add(
                                        new JsonObject()
                                            .put("field", "smb_message_echoes")
                                            .put(
                                                "value",
                                                new JsonObject()
                                                    .put(
                                                        "message_echoes",
                                                        new JsonArray()
                                                            .add(
                                                                new JsonObject()
                                                                    .put("id", "wamid.E1")
                                                                    .put("to", ALICE))))))));
    assertThat(connector.parse(signed(echoes)).get(0)).isInstanceOf(InboundEvent.Echo.class);
    JsonObject other = sim.value(ALICE, "A");
    other.getJsonObject("metadata").put("phone_number_id", "999");
    other.put(
        "messages",
        new JsonArray()
            .add(sim.userMessage(ALICE, "text", new JsonObject().put("body", "x"), null)));
    assertThat(connector.parse(signed(sim.envelope(other))).get(0))
        .isInstanceOf(InboundEvent.Ignored.class);
    assertThatThrownBy(() -> connector.parse(signed(new JsonObject().put("hello", 1))))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> connector.parse(post(Buffer.buffer("[1]"), null)))
        .isInstanceOf(IllegalArgumentException.class);
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
