package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.PluginJars;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.whatsapp.WhatsAppSimulator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node running the WhatsApp connector jar of the build against the Cloud API simulator, end to
 * end through delivery and inbound: the handshake, signed webhooks, texts and replies both ways,
 * media both ways, statuses (out of order, an asynchronous 131047), throttling, duplicates, echoes.
 */
@ExtendWith(BackendsExtension.class)
class WhatsAppChannelTest {
  static final String TOKEN = "EAAG-node-token";
  static final String APP_SECRET = "node-app-secret";
  static final String VERIFY = "node-verify";
  static final String PNID = "1065400001";
  static ChannelsFixture fx;
  static WhatsAppSimulator wa;
  static final Random RANDOM = new Random();

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    wa = WhatsAppSimulator.start("v21.0", PNID, TOKEN);
    byte[] jar =
        PluginJars.rewrite(
            PluginJars.read(Path.of(System.getProperty("chat4all.test.plugins"), "whatsapp.jar")),
            Map.of(
                PluginJars.DESCRIPTOR,
                new JsonObject()
                    .put("channel", "whatsapp")
                    .put("version", "0.9.0")
                    .put("spi_version", "1.0")
                    .put("main_class", "io.chat4all.channel.whatsapp.WhatsAppConnector")
                    .put("name", "WhatsApp Cloud API")
                    .encode()
                    .getBytes(StandardCharsets.UTF_8),
                "io/chat4all/channel/whatsapp/connector.properties",
                "version=0.9.0\n".getBytes(StandardCharsets.UTF_8)));
    String inbox = "inbox_" + UUID.randomUUID().toString().substring(0, 8);
    JsonObject whatsapp =
        new JsonObject()
            .put("enabled", true)
            .put("base_url", wa.baseUrl())
            .put("api_version", "v21.0")
            .put("phone_number_id", PNID)
            .put("access_token", TOKEN)
            .put("app_secret", APP_SECRET)
            .put("verify_token", VERIFY);
    fx =
        new ChannelsFixture(
            iso,
            null,
            new JsonObject().put("inbox_username", inbox),
            new JsonObject().put("whatsapp", whatsapp.put("inbox_username", inbox)),
            Map.of("whatsapp.jar", jar));
    fx.awaitVersion("whatsapp", "0.9.0");
    wa.webhook(fx.api.base() + "/webhooks/whatsapp", APP_SECRET);
  }

  @AfterAll
  static void stop() {
    if (fx != null) {
      fx.close();
    }
    wa.close();
  }

  static String newWaId() {
    return "1555" + (1_000_000 + RANDOM.nextInt(8_999_999));
  }

  static String contactOf(String waId) {
    List<JsonObject> users = fx.usersNamed("whatsapp:" + waId);
    return users.isEmpty() ? null : users.get(0).getString("user_id");
  }

  static String inboxConversation(String waId) {
    String[] conv = {null};
    Await.until(
        "an inbox conversation with whatsapp:" + waId,
        ChannelsFixture.WAIT,
        () -> {
          String contact = contactOf(waId);
          if (contact == null) {
            return false;
          }
          for (JsonObject c : fx.conversations(fx.inbox)) {
            if (c.getJsonArray("members", new JsonArray()).encode().contains(contact)) {
              conv[0] = c.getString("conversation_id");
              return true;
            }
          }
          return false;
        });
    return conv[0];
  }

  static List<JsonObject> awaitHistory(Api.User viewer, String conv, int n) {
    List<JsonObject> last = new ArrayList<>();
    Await.until(
        n + " messages in " + conv,
        ChannelsFixture.WAIT,
        () -> {
          last.clear();
          last.addAll(fx.history(viewer, conv));
          return last.size() >= n;
        });
    return last;
  }

  static JsonObject delivery(JsonObject m) {
    return m.getJsonObject("channel_delivery", new JsonObject())
        .getJsonObject("whatsapp", new JsonObject());
  }

  static Predicate<JsonObject> status(String s) {
    return m -> s.equals(delivery(m).getString("status"));
  }

  static HttpResponse<String> http(HttpRequest r) {
    try {
      return HttpClient.newHttpClient().send(r, HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** The inbox sends {@code payload} in {@code conv} (reaching the contact on WhatsApp). */
  static String inboxSends(String conv, JsonObject payload, String replyTo) {
    String id = UUID.randomUUID().toString();
    JsonObject body =
        new JsonObject().put("conversation_id", conv).put("message_id", id).put("payload", payload);
    if (replyTo != null) {
      body.put("reply_to_message_id", replyTo);
    }
    fx.api.post("/v1/messages", fx.inbox.accessToken(), body).expect(202);
    return id;
  }

  @Test
  void handshakeAndSignaturesAreCheckedAndRefusedRequestsStoreNothing() {
    String base = fx.api.base() + "/webhooks/whatsapp?hub.mode=subscribe&hub.challenge=98765";
    HttpResponse<String> ok =
        http(HttpRequest.newBuilder(URI.create(base + "&hub.verify_token=" + VERIFY)).build());
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.body()).isEqualTo("98765");
    assertThat(
            http(HttpRequest.newBuilder(URI.create(base + "&hub.verify_token=bad")).build())
                .statusCode())
        .isEqualTo(403);

    String forged = newWaId();
    JsonObject body =
        wa.messageWebhook(
            forged,
            "Mallory",
            wa.userMessage(forged, "text", new JsonObject().put("body", "forged"), null));
    Buffer raw = body.toBuffer();
    assertThat(wa.postRaw(raw, null)).isEqualTo(401);
    assertThat(wa.postRaw(raw, "sha256=" + WhatsAppSimulator.sign("not-the-secret", raw)))
        .isEqualTo(401);
    // signed over other bytes (the same JSON re-serialised with spaces)
    assertThat(
            wa.postRaw(
                Buffer.buffer(body.encodePrettily()),
                "sha256=" + WhatsAppSimulator.sign(APP_SECRET, raw)))
        .isEqualTo(401);
    String genuine = newWaId();
    wa.userWrites(genuine, "Gina", "genuine", null);
    awaitHistory(fx.inbox, inboxConversation(genuine), 1);
    assertThat(contactOf(forged)).isNull();
  }

  @Test
  void textsAndRepliesGoBothWaysAndStatusesOnlyMoveForward() {
    String waId = newWaId();
    String inWamid = wa.userWrites(waId, "Ana Lima", "oi, preciso de ajuda", null);
    String conv = inboxConversation(waId);
    JsonObject first = awaitHistory(fx.inbox, conv, 1).get(0);
    assertThat(first.getJsonObject("payload").getString("text")).isEqualTo("oi, preciso de ajuda");
    assertThat(first.getString("source_channel")).isEqualTo("whatsapp");
    assertThat(first.getString("source_message_id")).isEqualTo(inWamid);

    // the inbox answers quoting it: a WhatsApp reply with context.message_id
    String answer =
        inboxSends(
            conv,
            new JsonObject().put("type", "text").put("text", "claro!"),
            first.getString("message_id"));
    JsonObject sent = fx.awaitMessage(fx.inbox, answer, "sent", status("sent"));
    WhatsAppSimulator.Sent out = wa.sentTo(waId).get(0);
    assertThat(out.text()).isEqualTo("claro!");
    assertThat(out.replyTo()).isEqualTo(inWamid);
    assertThat(delivery(sent).getString("external_message_id")).isEqualTo(out.wamid());

    // read arrives before delivered: read stays
    assertThat(wa.status(out.wamid(), "read")).isEqualTo(200);
    fx.awaitMessage(fx.inbox, answer, "read", status("read"));
    assertThat(wa.status(out.wamid(), "delivered")).isEqualTo(200);
    // the contact replies to our message: it quotes it in the conversation
    wa.userWrites(waId, "Ana Lima", "obrigada", out.wamid());
    List<JsonObject> h = awaitHistory(fx.inbox, conv, 3);
    assertThat(h.get(2).getString("reply_to_message_id")).isEqualTo(answer);
    assertThat(delivery(fx.message(fx.inbox, answer)).getString("status")).isEqualTo("read");
  }

  @Test
  void aSendOutsideTheWindowFailsFastOrWhenWhatsAppReportsItLater() {
    // a user who linked (verified) WhatsApp but never wrote: refused before any provider call
    Api.User bob = fx.api.newUser("bob");
    Api.User eve = fx.api.newUser("eve");
    String eveWa = newWaId();
    fx.link(eve, "whatsapp", eveWa);
    String conv = fx.api.privateChat(bob, eve);
    String id = UUID.randomUUID().toString();
    fx.api
        .post(
            "/v1/messages",
            bob.accessToken(),
            Api.textMessage(conv, id, "are you there?")
                .put("channels", new JsonArray().add("whatsapp")))
        .expect(202);
    JsonObject m = fx.awaitMessage(bob, id, "failed", status("failed"));
    assertThat(delivery(m).getString("reason")).isEqualTo("window_closed");
    assertThat(wa.sentTo(eveWa)).isEmpty();

    // the stored time says open but WhatsApp says closed: accepted (200), then failed 131047
    String waId = newWaId();
    wa.userWrites(waId, "Rui", "oi", null);
    String inbox = inboxConversation(waId);
    awaitHistory(fx.inbox, inbox, 1);
    wa.userWroteAt(waId, java.time.Instant.now().minus(java.time.Duration.ofHours(25)));
    String late =
        inboxSends(inbox, new JsonObject().put("type", "text").put("text", "still there?"), null);
    JsonObject failed = fx.awaitMessage(fx.inbox, late, "failed", status("failed"));
    assertThat(delivery(failed).getString("reason")).isEqualTo("window_closed");
    assertThat(wa.sentTo(waId)).hasSize(1);
  }

  @Test
  void throttlingBacksOffThenDelivers() {
    String waId = newWaId();
    wa.userWrites(waId, "Tom", "hello", null);
    String conv = inboxConversation(waId);
    awaitHistory(fx.inbox, conv, 1);
    int before = wa.calls("messages");
    wa.throttle(2);
    String id =
        inboxSends(conv, new JsonObject().put("type", "text").put("text", "patience"), null);
    fx.awaitMessage(fx.inbox, id, "sent", status("sent"));
    assertThat(wa.calls("messages") - before).isGreaterThanOrEqualTo(3);
    assertThat(wa.sentTo(waId))
        .extracting(WhatsAppSimulator.Sent::text)
        .containsExactly("patience");
  }

  @Test
  void duplicateAndConcurrentDeliveriesMakeOneMessageAndEchoesAreIgnored() {
    String waId = newWaId();
    JsonObject body =
        wa.messageWebhook(
            waId, "Dup", wa.userMessage(waId, "text", new JsonObject().put("body", "once"), null));
    List<CompletableFuture<Integer>> posts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      posts.add(CompletableFuture.supplyAsync(() -> wa.post(body)));
    }
    posts.forEach(p -> assertThat(p.join()).isEqualTo(200));
    String conv = inboxConversation(waId);
    awaitHistory(fx.inbox, conv, 1);
    assertThat(wa.post(body)).isEqualTo(200); // a retry later
    JsonObject echo =
        wa.messageWebhook(
            waId,
            "Dup",
            wa.userMessage(
                wa.displayNumber(), "text", new JsonObject().put("body", "our own"), null));
    assertThat(wa.post(echo)).isEqualTo(200);
    wa.userWrites(waId, "Dup", "next", null);
    List<JsonObject> h = awaitHistory(fx.inbox, conv, 2);
    assertThat(h)
        .extracting(x -> x.getJsonObject("payload").getString("text"))
        .containsExactly("once", "next");
  }

  @Test
  void mediaGoBothWaysAndAFileAboveTheLimitFailsBeforeAnyCall() {
    String waId = newWaId();
    byte[] pdf = "%PDF-1.4 the contract".getBytes(StandardCharsets.UTF_8);
    wa.userSendsMedia(waId, "document", pdf, "application/pdf", "contract.pdf", "signed");
    String conv = inboxConversation(waId);
    JsonObject in = awaitHistory(fx.inbox, conv, 1).get(0);
    JsonObject payload = in.getJsonObject("payload");
    assertThat(payload.getString("type")).isEqualTo("file");
    assertThat(payload.getString("text")).isEqualTo("signed");
    JsonObject ref = payload.getJsonObject("file_reference");
    assertThat(ref.getString("filename")).isEqualTo("contract.pdf");
    assertThat(fx.download(fx.inbox, ref.getString("file_id"))).isEqualTo(pdf);

    byte[] report = new byte[250_000];
    RANDOM.nextBytes(report);
    String fileId = fx.upload(fx.inbox, conv, report, "report.pdf", "application/pdf");
    String id =
        inboxSends(
            conv,
            new JsonObject().put("type", "file").put("file_id", fileId).put("text", "Q3"),
            null);
    fx.awaitMessage(fx.inbox, id, "sent", status("sent"));
    WhatsAppSimulator.Sent doc = wa.sentTo(waId).get(0);
    assertThat(doc.type()).isEqualTo("document");
    assertThat(doc.caption()).isEqualTo("Q3");
    assertThat(doc.filename()).isEqualTo("report.pdf");
    WhatsAppSimulator.Media up =
        wa.uploads().stream().filter(x -> x.id().equals(doc.mediaId())).findFirst().orElseThrow();
    assertThat(up.sha256()).isEqualTo(ChannelsFixture.sha256(report));

    // an image of 6 MB: above WhatsApp's 5 MB for images
    int calls = wa.calls("messages") + wa.calls("media");
    String bigId = fx.upload(fx.inbox, conv, new byte[6 * 1024 * 1024], "big.png", "image/png");
    String big =
        inboxSends(conv, new JsonObject().put("type", "image").put("file_id", bigId), null);
    JsonObject failed = fx.awaitMessage(fx.inbox, big, "failed", status("failed"));
    assertThat(delivery(failed).getString("reason")).isEqualTo("media_too_large");
    assertThat(wa.calls("messages") + wa.calls("media")).isEqualTo(calls);
  }
}
