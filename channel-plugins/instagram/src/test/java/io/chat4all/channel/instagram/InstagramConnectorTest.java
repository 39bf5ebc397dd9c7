package io.chat4all.channel.instagram;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chat4all.channel.spi.Capabilities.ReceiptKind;
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
import io.chat4all.testkit.messenger.MessengerSimulator;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Instagram connector against the simulator in Instagram mode. */
class InstagramConnectorTest {
  static final String IG = "17841400000000001";
  static final String TOKEN = "IGAA-token";
  static final String APP_SECRET = "ig-app-secret";
  static final String VERIFY = "ig-verify";
  static final String BEA = "6001234567890";

  static Vertx vertx;
  static HttpClient http;
  static MessengerSimulator sim;
  @TempDir static Path tmp;
  InstagramConnector connector;

  @BeforeAll
  static void startAll() {
    vertx = Vertx.vertx();
    http = vertx.createHttpClient();
    sim = MessengerSimulator.start(MessengerSimulator.Mode.INSTAGRAM, IG, TOKEN, "v22.0");
    sim.setWebhook(null, APP_SECRET);
  }

  @AfterAll
  static void stopAll() {
    sim.close();
    Await.result(vertx.close());
  }

  @BeforeEach
  void fresh() {
    sim.clearRecords();
    sim.addUser(BEA, "Bea");
    sim.lastWrote(BEA, Instant.now());
    connector = new InstagramConnector();
    JsonObject config =
        new JsonObject()
            .put("base_url", sim.baseUrl())
            .put("api_version", "v22.0")
            .put("ig_account_id", IG);
    Map<String, String> secrets =
        Map.of("access_token", TOKEN, "app_secret", APP_SECRET, "verify_token", VERIFY);
    Await.result(connector.start(new TestContext(vertx, http, config, secrets, null)));
  }

  static OutboundMessage message(
      String text, OutboundMedia media, String replyTo, JsonObject meta, Instant last) {
    return new OutboundMessage(
        "m1", "c1", "u1", "Bob", "u2", BEA, text, media, replyTo, meta, last, 1);
  }

  static ConnectorException failure(Future<?> f) {
    Throwable t = Await.failure(f);
    assertThat(t).isInstanceOf(ConnectorException.class);
    return (ConnectorException) t;
  }

  static WebhookRequest post(String body, String signature) {
    MultiMap headers = MultiMap.caseInsensitiveMultiMap();
    if (signature != null) {
      headers.add("X-Hub-Signature-256", signature);
    }
    return new WebhookRequest(
        "POST", MultiMap.caseInsensitiveMultiMap(), headers, Buffer.buffer(body));
  }

  List<InboundEvent> parse(JsonObject item) {
    String body = sim.body(item);
    assertThat(connector.authenticate(post(body, sim.signature(body)))).isTrue();
    return connector.parse(post(body, null));
  }

  static JsonObject from(String user) {
    return new JsonObject()
        .put("sender", new JsonObject().put("id", user))
        .put("recipient", new JsonObject().put("id", IG))
        .put("timestamp", 1_700_000_000_000L);
  }

  @Test
  void descriptorIsInstagramsOwn() {
    var d = connector.descriptor();
    assertThat(d.channel()).isEqualTo("instagram");
    assertThat(d.capabilities().maxTextLength()).isEqualTo(1000);
    assertThat(d.capabilities().receipts()).contains(ReceiptKind.READ);
    assertThat(d.capabilities().receipts()).doesNotContain(ReceiptKind.READ_WATERMARK);
    assertThat(d.capabilities().mediaByUpload().get(MediaKind.IMAGE)).isEqualTo(8L << 20);
    assertThat(d.capabilities().mediaByUpload().get(MediaKind.AUDIO)).isEqualTo(25L << 20);
    assertThat(d.config())
        .extracting(f -> f.name())
        .contains("ig_account_id", "access_token", "app_secret", "verify_token");
    assertThat(
            d.config().stream()
                .filter(f -> f.name().equals("base_url"))
                .findFirst()
                .get()
                .defaultValue())
        .isEqualTo("https://graph.instagram.com");
  }

  @Test
  void aTextAndAReplyGoToTheIgsidOnTheAccount() {
    SendResult r =
        Await.result(connector.send(message("hej", null, "aWdf_quoted", null, Instant.now())));
    MessengerSimulator.Sent s = sim.sentTo(BEA).get(0);
    assertThat(s.text()).isEqualTo("hej");
    assertThat(s.replyTo()).isEqualTo("aWdf_quoted");
    assertThat(r.providerMessageIds()).containsExactly(s.mid());
  }

  @Test
  void theWindowAndTheHumanAgentTagApply() {
    assertThat(
            failure(
                    connector.send(
                        message(
                            "late", null, null, null, Instant.now().minus(Duration.ofHours(30)))))
                .errorClass())
        .isEqualTo(ErrorClass.WINDOW_CLOSED);
    assertThat(sim.calls("messages")).isZero();
    sim.lastWrote(BEA, Instant.now().minus(Duration.ofDays(2)));
    Await.result(
        connector.send(
            message(
                "agent",
                null,
                null,
                new JsonObject().put("tag", "human_agent"),
                Instant.now().minus(Duration.ofDays(2)))));
    assertThat(sim.sentTo(BEA).get(0).tag()).isEqualTo("HUMAN_AGENT");
  }

  @Test
  void anImageIsUploadedAndAVideoAboveTheLimitIsRefusedFirst() throws Exception {
    byte[] png = new byte[4096];
    png[0] = (byte) 0x89;
    Path file = tmp.resolve("p.png");
    Files.write(file, png);
    OutboundMedia image =
        new OutboundMedia(
            MediaKind.IMAGE,
            "f",
            "p.png",
            "image/png",
            png.length,
            null,
            null,
            () ->
                vertx
                    .fileSystem()
                    .open(file.toString(), new OpenOptions().setRead(true))
                    .map(af -> (ReadStream<Buffer>) af));
    Await.result(connector.send(message(null, image, null, null, Instant.now())));
    MessengerSimulator.Sent s = sim.sentTo(BEA).get(0);
    assertThat(s.byUpload()).isTrue();
    assertThat(s.attachmentType()).isEqualTo("image");
    assertThat(s.fileSize()).isEqualTo(png.length);

    OutboundMedia video =
        new OutboundMedia(
            MediaKind.VIDEO,
            "f",
            "v.mp4",
            "video/mp4",
            26L << 20,
            null,
            "http://127.0.0.1:1/v",
            null);
    assertThat(
            failure(connector.send(message(null, video, null, null, Instant.now()))).errorClass())
        .isEqualTo(ErrorClass.MEDIA_TOO_LARGE);
    assertThat(sim.calls("messages")).isEqualTo(1);
  }

  @Test
  void readsOfOneMessageAreReceiptsAndUnsentMessagesAreDeletions() {
    InboundEvent.Receipt read =
        (InboundEvent.Receipt)
            parse(from(BEA).put("read", new JsonObject().put("mid", "aWdf_ours"))).get(0);
    assertThat(read.status()).isEqualTo(InboundEvent.Status.READ);
    assertThat(read.providerMessageId()).isEqualTo("aWdf_ours");
    assertThat(read.providerUserId()).isEqualTo(BEA);

    InboundEvent.Deleted deleted =
        (InboundEvent.Deleted)
            parse(
                    from(BEA)
                        .put(
                            "message",
                            new JsonObject().put("mid", "aWdf_theirs").put("is_deleted", true)))
                .get(0);
    assertThat(deleted.providerMessageId()).isEqualTo("aWdf_theirs");
    assertThat(deleted.providerUserId()).isEqualTo(BEA);
    assertThat(deleted.dedupKey()).isNotEqualTo("aWdf_theirs");

    InboundEvent.Message m =
        (InboundEvent.Message)
            parse(
                    from(BEA)
                        .put(
                            "message",
                            new JsonObject()
                                .put("mid", "aWdf_2")
                                .put("text", "a reply")
                                .put("reply_to", new JsonObject().put("mid", "aWdf_ours"))))
                .get(0);
    assertThat(m.replyToProviderMessageId()).isEqualTo("aWdf_ours");

    JsonObject share =
        new JsonObject()
            .put("type", "share")
            .put("payload", new JsonObject().put("url", "https://www.instagram.com/p/abc/"));
    InboundEvent.Message shared =
        (InboundEvent.Message)
            parse(
                    from(BEA)
                        .put(
                            "message",
                            new JsonObject()
                                .put("mid", "aWdf_3")
                                .put("attachments", new JsonArray().add(share))))
                .get(0);
    assertThat(shared.text()).isEqualTo("https://www.instagram.com/p/abc/");
    assertThat(shared.media()).isEmpty();

    JsonObject echo =
        new JsonObject()
            .put("sender", new JsonObject().put("id", IG))
            .put("recipient", new JsonObject().put("id", BEA))
            .put("message", new JsonObject().put("mid", "aWdf_4").put("is_echo", true));
    assertThat(parse(echo).get(0)).isInstanceOf(InboundEvent.Echo.class);

    assertThatThrownBy(
            () ->
                connector.parse(
                    post(sim.body(from(BEA)).replace("\"instagram\"", "\"page\""), null)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anInboundVideoIsFetched() {
    byte[] data = new byte[123_456];
    String url = sim.storeMedia(data, "clip.mp4", "video/mp4");
    MediaDownload d =
        Await.result(
            connector.fetchMedia(
                new InboundMedia(MediaKind.VIDEO, url, "clip.mp4", null, -1), 1 << 20));
    assertThat(d.sizeBytes()).isEqualTo(data.length);
    assertThat(d.mimeType()).isEqualTo("video/mp4");
    d.stream().resume();
  }

  @Test
  void aBadSignatureIsRefused() {
    String body =
        sim.body(from(BEA).put("message", new JsonObject().put("mid", "x").put("text", "t")));
    assertThat(connector.authenticate(post(body, sim.signature(body)))).isTrue();
    assertThat(connector.authenticate(post(body, sim.signature(body + "x")))).isFalse();
    assertThat(connector.authenticate(post(body, null))).isFalse();
  }
}
