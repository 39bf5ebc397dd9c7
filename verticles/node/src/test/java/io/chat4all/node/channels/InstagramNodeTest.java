package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.messenger.MessengerSimulator;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A whole node with the Instagram plugin jar against the simulator in Instagram mode, media by
 * link: handshake and signatures, texts and replies both ways, media both ways, reads of single
 * messages, unsent messages, the window and HUMAN_AGENT, throttling, duplicates and echoes.
 */
@ExtendWith(BackendsExtension.class)
class InstagramNodeTest {
  static MetaFixture fx;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    fx =
        new MetaFixture(
            iso, MessengerSimulator.Mode.INSTAGRAM, new JsonObject().put("media_transfer", "link"));
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  static String text(JsonObject m) {
    return m.getJsonObject("payload").getString("text");
  }

  @Test
  void theHandshakeAndTheSignatureGuardTheWebhook() {
    var ok = fx.sim.verify(fx.webhookUrl(), MetaFixture.VERIFY, "ig-challenge");
    assertThat(ok.getKey()).isEqualTo(200);
    assertThat(ok.getValue()).isEqualTo("ig-challenge");
    assertThat(fx.sim.verify(fx.webhookUrl(), "nope", "x").getKey()).isEqualTo(403);
    String forged =
        fx.sim.body(
            fx.sim
                .item("igsid-forged", MetaFixture.ACCOUNT, Instant.now())
                .put("message", new JsonObject().put("mid", "aWdf_forged").put("text", "hi")));
    assertThat(fx.postWebhook(forged, "sha256=" + "ab".repeat(32)).statusCode()).isEqualTo(401);
    assertThat(fx.postWebhook(forged, null).statusCode()).isEqualTo(401);
    fx.sim.userWrites("igsid-genuine", "genuine");
    fx.awaitHistory(fx.inboxConversation("igsid-genuine"), 1);
    assertThat(fx.contactOf("igsid-forged")).isNull();
  }

  @Test
  void textsAndRepliesGoBothWaysAndReadsMarkTheMessageRead() {
    String igsid = "igsid-100";
    String mid = fx.sim.userWrites(igsid, "is this in stock?");
    String conv = fx.inboxConversation(igsid);
    JsonObject first = fx.awaitHistory(conv, 1).get(0);
    assertThat(first.getString("source_channel")).isEqualTo("instagram");
    assertThat(first.getString("source_message_id")).isEqualTo(mid);
    String id = fx.reply(conv, first.getString("message_id"), "yes it is");
    JsonObject sent = fx.awaitStatus(id, "sent");
    MessengerSimulator.Sent out = fx.sim.sentTo(igsid).get(0);
    assertThat(out.replyTo()).isEqualTo(mid);
    assertThat(fx.delivery(sent).getString("external_message_id")).isEqualTo(out.mid());

    fx.sim.read(igsid, out.mid());
    JsonObject read = fx.awaitStatus(id, "read");
    fx.awaitRecipientStatus(read.getString("message_id"), fx.contactOf(igsid), "read");

    fx.sim.userReplies(igsid, "great, thanks", out.mid());
    JsonObject theirs = fx.awaitHistory(conv, 3).get(2);
    assertThat(text(theirs)).isEqualTo("great, thanks");
    assertThat(theirs.getString("reply_to_message_id")).isEqualTo(id);

    // the contact unsends a message: the provider gets its 200 (the host decides what to show)
    String gone = fx.sim.userWrites(igsid, "oops");
    fx.awaitHistory(conv, 4);
    fx.sim.userDeletes(igsid, gone);
    Await.until(
        "the deletion accepted",
        MetaFixture.WAIT,
        () ->
            fx.sim.webhookDeliveries().stream()
                .anyMatch(d -> d.body().contains("\"is_deleted\":true") && d.status() == 200));
  }

  @Test
  void aStalledAttachmentIsFetchedAgainAndHoldsNothingUpBehindIt() {
    String igsid = "igsid-250";
    fx.sim.userWrites(igsid, "a clip is coming");
    String conv = fx.inboxConversation(igsid);
    byte[] clip = new byte[90_000];
    new Random(11).nextBytes(clip);
    int fetchesBefore = fx.sim.mediaFetches();
    // the CDN sends half the clip and then nothing, keeping the connection open
    fx.sim.stallMediaFetches(1);
    fx.sim.userSendsFile(igsid, "video", clip, "stuck.mp4", "video/mp4");
    fx.sim.userWrites(igsid, "did it arrive?");

    List<JsonObject> history = fx.awaitHistory(conv, 3);
    JsonObject video = history.get(1);
    assertThat(video.getJsonObject("payload").getString("type")).isEqualTo("video");
    String fileId =
        video.getJsonObject("payload").getJsonObject("file_reference").getString("file_id");
    assertThat(fx.download(fileId)).isEqualTo(clip);
    assertThat(history.get(2).getJsonObject("payload").getString("text"))
        .isEqualTo("did it arrive?");
    // the stalled attempt was given up and the attachment fetched once more, whole
    assertThat(fx.sim.mediaFetches() - fetchesBefore).isEqualTo(2);
    // and the stalled download's connection was let go at once, not after the connector's idle
    // timeout (upload_timeout_ms, 300 s)
    Await.until(
        "the stalled media fetch's connection closed",
        Duration.ofSeconds(10),
        () -> fx.sim.stalledFetchesClosed() == 1);
  }

  @Test
  void mediaGoesOutByLinkAndComesInAsAFile() {
    String igsid = "igsid-200";
    fx.sim.userWrites(igsid, "a photo please");
    String conv = fx.inboxConversation(igsid);
    byte[] jpg = new byte[120_001];
    new Random(9).nextBytes(jpg);
    String fileId = fx.upload(conv, jpg, "shoe.jpg", "image/jpeg");
    String id = fx.send(conv, new JsonObject().put("type", "image").put("file_id", fileId));
    fx.awaitStatus(id, "sent");
    MessengerSimulator.Sent out = fx.sim.sentTo(igsid).get(0);
    assertThat(out.byUpload()).isFalse();
    assertThat(out.attachmentType()).isEqualTo("image");
    assertThat(out.url()).startsWith("http");
    assertThat(out.fileSha256()).isEqualTo(ChannelsFixture.sha256(jpg));

    byte[] clip = new byte[80_000];
    new Random(10).nextBytes(clip);
    fx.sim.userSendsFile(igsid, "video", clip, "unboxing.mp4", "video/mp4");
    JsonObject in = fx.awaitHistory(conv, 3).get(2);
    assertThat(in.getJsonObject("payload").getString("type")).isEqualTo("video");
    JsonObject ref = in.getJsonObject("payload").getJsonObject("file_reference");
    assertThat(fx.download(ref.getString("file_id"))).isEqualTo(clip);
  }

  @Test
  void outsideTheWindowOnlyAHumanAgentMayReplyAndThrottlingIsWaitedOut() {
    String igsid = "igsid-300";
    fx.sim.userWrites(igsid, "hello");
    String conv = fx.inboxConversation(igsid);
    fx.awaitHistory(conv, 1);
    fx.sim.lastWrote(igsid, Instant.now().minus(Duration.ofHours(30)));
    String late = fx.sendText(conv, "late answer");
    assertThat(fx.delivery(fx.awaitStatus(late, "failed")).getString("reason"))
        .isEqualTo("window_closed");
    fx.sim.throttle(2);
    String agent =
        fx.send(
            conv,
            new JsonObject()
                .put("type", "text")
                .put("text", "agent answer")
                .put("metadata", new JsonObject().put("tag", "HUMAN_AGENT")));
    fx.awaitStatus(agent, "sent");
    MessengerSimulator.Sent s = fx.sim.sentTo(igsid).get(0);
    assertThat(s.tag()).isEqualTo("HUMAN_AGENT");
    assertThat(fx.sim.sentTo(igsid)).hasSize(1);
  }

  @Test
  void duplicatesMakeOneMessageAndEchoesNone() {
    String igsid = "igsid-400";
    fx.sim.userWrites(igsid, "first");
    String conv = fx.inboxConversation(igsid);
    fx.awaitHistory(conv, 1);
    String body =
        fx.sim.body(
            fx.sim
                .item(igsid, MetaFixture.ACCOUNT, Instant.now())
                .put(
                    "message",
                    new JsonObject()
                        .put("mid", "aWdf_dup_" + UUID.randomUUID())
                        .put("text", "once")));
    String sig = fx.sim.signature(body);
    List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      posts.add(CompletableFuture.supplyAsync(() -> fx.postWebhook(body, sig)));
    }
    posts.forEach(p -> assertThat(p.join().statusCode()).isEqualTo(200));
    fx.awaitHistory(conv, 2);
    fx.sim.echoes(true);
    try {
      String id = fx.sendText(conv, "ours");
      fx.awaitStatus(id, "sent");
      Await.until(
          "the echo delivered",
          MetaFixture.WAIT,
          () ->
              fx.sim.webhookDeliveries().stream()
                  .anyMatch(
                      d ->
                          d.body().contains("\"is_echo\":true")
                              && d.body().contains(igsid)
                              && d.status() == 200));
    } finally {
      fx.sim.echoes(false);
    }
    assertThat(fx.postWebhook(body, sig).statusCode()).isEqualTo(200);
    fx.sim.userWrites(igsid, "last");
    List<JsonObject> h = fx.awaitHistory(conv, 4);
    assertThat(h)
        .extracting(InstagramNodeTest::text)
        .containsExactly("first", "once", "ours", "last");
  }
}
