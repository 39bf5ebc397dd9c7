package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.channels.ActiveConnector;
import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.PluginJars;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Contact identities across channels, on a node whose telegram, whatsapp, messenger and instagram
 * channels are each served by the test connector (sends succeed with id {@code 1.0.0:<message_id>}
 * and are published on the event bus with what the host handed over; webhook bodies become
 * messages, receipts and deletions): the window facts every send carries ({@code lastInboundAt},
 * {@code senderName}), deletions by the contact, late failure receipts, only verified links routing
 * messages (the impersonation attempt), the operator's merge of two contacts, and one message to a
 * contact on four channels.
 */
@ExtendWith(BackendsExtension.class)
class ChannelIdentityTest {
  static final List<String> CHANNELS = List.of("telegram", "whatsapp", "messenger", "instagram");
  static final String SECRET = "test-secret-1";
  static final String VERSION = "1.0.0";
  static final AtomicLong IDS = new AtomicLong();

  static Api api;
  static Api.User inbox;
  static Api.User admin;
  static Path dir;
  static final Queue<JsonObject> SENT = new ConcurrentLinkedQueue<>();
  static MessageConsumer<JsonObject> sentConsumer;
  static final Vertx CLIENT = Vertx.vertx();
  static final WebSocketClient WS = CLIENT.createWebSocketClient();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start(TestBackends.Isolation iso) throws Exception {
    String suffix = UUID.randomUUID().toString().substring(0, 8);
    String inboxName = "inbox_" + suffix;
    String adminName = "ops_" + suffix;
    dir = Files.createTempDirectory("chat4all-identity-" + iso.base());
    JsonObject channels =
        new JsonObject()
            .put("plugins_dir", dir.resolve("plugins").toString())
            .put("store_dir", dir.resolve("store").toString())
            .put("scan_interval_ms", 100)
            .put("verification", new JsonObject().put("resend_interval_seconds", 0))
            .put(
                "delivery",
                new JsonObject()
                    .put("backoff_base_ms", 50)
                    .put("backoff_max_ms", 400)
                    .put("commit_interval_ms", 100));
    for (String ch : CHANNELS) {
      PluginJars.drop(dir.resolve("plugins"), ch + ".jar", PluginJars.connector(ch, VERSION));
      channels.put(
          ch, new JsonObject().put("webhook_secret", SECRET).put("inbox_username", inboxName));
    }
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "rate_limit",
                    new JsonObject().put("per_user_per_minute", 0).put("per_ip_per_minute", 0))
                .put("admin", new JsonObject().put("usernames", new JsonArray().add(adminName)))
                .put("channels", channels));
    for (String ch : CHANNELS) {
      Await.until(
          ch + " active",
          ChannelsFixture.WAIT,
          () ->
              VERSION.equals(
                  api.node().connectors().active(ch).map(ActiveConnector::version).orElse(null)));
    }
    sentConsumer =
        api.node()
            .vertx()
            .eventBus()
            .<JsonObject>consumer("test.connector.sent", m -> SENT.add(m.body()));
    inbox = api.namedUser(inboxName);
    admin = api.namedUser(adminName);
  }

  @AfterAll
  static void stop() {
    if (sentConsumer != null) {
      Await.result(sentConsumer.unregister());
    }
    api.close();
    Await.result(CLIENT.close());
  }

  // --- helpers ---

  static HttpResponse<String> webhook(String channel, JsonObject body) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(api.base() + "/webhooks/" + channel))
                  .header("Content-Type", "application/json")
                  .header("X-Test-Secret", SECRET)
                  .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      return r;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static String nextId(String prefix) {
    return prefix
        + "-"
        + IDS.incrementAndGet()
        + "-"
        + UUID.randomUUID().toString().substring(0, 6);
  }

  /** The contact {@code from} writes {@code text} on {@code channel}; the provider message id. */
  static String writes(String channel, String from, String text, Instant sentAt) {
    String id = nextId("m");
    JsonObject body =
        new JsonObject().put("id", id).put("from", from).put("name", "N " + from).put("text", text);
    if (sentAt != null) {
      body.put("sent_at", sentAt.toString());
    }
    webhook(channel, body);
    return id;
  }

  static String contactOf(String channel, String from) {
    Api.Res r = api.get("/v1/users?username=" + channel + ":" + from, inbox.accessToken());
    JsonArray items = r.status() == 200 ? r.json().getJsonArray("items") : new JsonArray();
    return items.isEmpty() ? null : items.getJsonObject(0).getString("user_id");
  }

  static List<JsonObject> conversations(Api.User u) {
    List<JsonObject> out = new ArrayList<>();
    api.get("/v1/conversations?limit=100", u.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .forEach(o -> out.add((JsonObject) o));
    return out;
  }

  /** The conversation of {@code viewer} that has {@code member} (waits for it). */
  static String conversationWith(Api.User viewer, String member) {
    String[] conv = {null};
    Await.until(
        viewer.username() + "'s conversation with " + member,
        ChannelsFixture.WAIT,
        () -> {
          for (JsonObject c : conversations(viewer)) {
            for (Object m : c.getJsonArray("members", new JsonArray())) {
              if (member.equals(((JsonObject) m).getString("user_id"))) {
                conv[0] = c.getString("conversation_id");
                return true;
              }
            }
          }
          return false;
        });
    return conv[0];
  }

  /** A contact on {@code channel} who wrote once; their user id (waits for the message). */
  static String contact(String channel, String from, Instant sentAt) {
    writes(channel, from, "hello from " + from, sentAt);
    String[] id = {null};
    Await.until(
        "the contact " + channel + ":" + from,
        ChannelsFixture.WAIT,
        () -> (id[0] = contactOf(channel, from)) != null);
    awaitHistory(inbox, conversationWith(inbox, id[0]), 1);
    return id[0];
  }

  static List<JsonObject> history(Api.User viewer, String conv) {
    List<JsonObject> out = new ArrayList<>();
    api.get("/v1/conversations/" + conv + "/messages?limit=100", viewer.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .forEach(o -> out.add((JsonObject) o));
    return out;
  }

  static List<JsonObject> awaitHistory(Api.User viewer, String conv, int n) {
    List<JsonObject> last = new ArrayList<>();
    Await.until(
        n + " messages in " + conv,
        ChannelsFixture.WAIT,
        () -> {
          last.clear();
          last.addAll(history(viewer, conv));
          return last.size() >= n;
        });
    return last;
  }

  static String send(Api.User from, String conv, String text, String... channels) {
    String id = UUID.randomUUID().toString();
    JsonObject body = Api.textMessage(conv, id, text);
    if (channels.length > 0) {
      body.put("channels", new JsonArray(List.of((Object[]) channels)));
    }
    api.post("/v1/messages", from.accessToken(), body).expect(202);
    return id;
  }

  /** The connector's record of the send of {@code messageId} on {@code channel} (waits). */
  static JsonObject sent(String channel, String messageId) {
    JsonObject[] found = {null};
    Await.until(
        messageId + " sent on " + channel,
        ChannelsFixture.WAIT,
        () -> (found[0] = sentOrNull(channel, messageId)) != null);
    return found[0];
  }

  static JsonObject sentOrNull(String channel, String messageId) {
    for (JsonObject s : SENT) {
      if (channel.equals(s.getString("channel")) && messageId.equals(s.getString("message_id"))) {
        return s;
      }
    }
    return null;
  }

  static JsonObject message(Api.User viewer, String id) {
    Api.Res r = api.get("/v1/messages/" + id, viewer.accessToken());
    return r.status() == 200 ? r.json() : null;
  }

  static JsonObject awaitMessage(Api.User viewer, String id, String what, Predicate<JsonObject> p) {
    JsonObject[] last = {null};
    Await.until(
        what + " (message " + id + ")",
        ChannelsFixture.WAIT,
        () -> (last[0] = message(viewer, id)) != null && p.test(last[0]));
    return last[0];
  }

  static JsonObject delivery(JsonObject m, String channel) {
    return m.getJsonObject("channel_delivery", new JsonObject())
        .getJsonObject(channel, new JsonObject());
  }

  static Predicate<JsonObject> on(String channel, String status) {
    return m -> status.equals(delivery(m, channel).getString("status"));
  }

  static String recipientStatus(JsonObject m, String user) {
    return m.getJsonObject("recipient_status").getJsonObject(user).getString("status");
  }

  /** A receipt from the provider for our send of {@code messageId} to {@code to}. */
  static void receipt(
      String channel, String to, String messageId, String status, String errorClass) {
    webhook(
        channel,
        new JsonObject()
            .put("kind", "receipt")
            .put("from", to)
            .put("id", nextId("r"))
            .put("message_id", VERSION + ":" + messageId)
            .put("status", status)
            .put("error_class", errorClass)
            .put("provider_code", errorClass == null ? null : "131047"));
  }

  static WsTestSocket socket(Api.User u) {
    WsTestSocket s = new WsTestSocket(WS, api.node().httpPort(), "/v1/ws", ChannelsFixture.WAIT);
    s.authenticate(u.accessToken(), null);
    return s;
  }

  /** A registered user's link on {@code channel}, unverified. */
  static void claim(Api.User u, String channel, String channelUserId) {
    api.post(
            "/v1/me/channels",
            u.accessToken(),
            new JsonObject().put("channel_type", channel).put("channel_user_id", channelUserId))
        .expect(201);
  }

  /** Asks for a code and reads it from the message the channel got; the code. */
  static String requestCode(Api.User u, String channel, String channelUserId) {
    int before = SENT.size();
    JsonObject r =
        api.post("/v1/me/channels/" + channel + "/verification", u.accessToken(), new JsonObject())
            .expect(202)
            .json();
    assertThat(r.getBoolean("verified")).isFalse();
    assertThat(r.getJsonObject("verification").getString("expires_at")).isNotNull();
    String[] code = {null};
    Await.until(
        "a code sent to " + channelUserId,
        ChannelsFixture.WAIT,
        () -> {
          List<JsonObject> all = new ArrayList<>(SENT);
          for (JsonObject s : all.subList(Math.min(before, all.size()), all.size())) {
            Matcher m = Pattern.compile("\\b(\\d{6})\\b").matcher(s.getString("text", ""));
            if (channelUserId.equals(s.getString("recipient")) && m.find()) {
              assertThat(s.getJsonObject("metadata").getString("purpose"))
                  .isEqualTo("verification");
              code[0] = m.group(1);
              return true;
            }
          }
          return false;
        });
    return code[0];
  }

  static Api.Res verify(Api.User u, String channel, String code) {
    return api.post(
        "/v1/me/channels/" + channel + "/verify",
        u.accessToken(),
        new JsonObject().put("code", code));
  }

  static Api.Res merge(Api.User caller, String survivor, String other) {
    return api.post(
        "/v1/admin/contacts/" + survivor + "/merge",
        caller.accessToken(),
        new JsonObject().put("contact_id", other));
  }

  // --- tests ---

  @Test
  void everySendCarriesTheSenderNameAndWhenTheContactLastWroteOnThatChannel() {
    Instant wrote = Instant.now().minus(3, ChronoUnit.HOURS).truncatedTo(ChronoUnit.MILLIS);
    String wanda = contact("whatsapp", "wa-100", wrote);
    String conv = conversationWith(inbox, wanda);
    // no channels named: the contact is reached where they wrote
    String reply = send(inbox, conv, "we are on it");
    JsonObject out = sent("whatsapp", reply);
    assertThat(out.getString("recipient")).isEqualTo("wa-100");
    assertThat(Instant.parse(out.getString("last_inbound_at"))).isEqualTo(wrote);
    assertThat(out.getString("sender_name")).isEqualTo(inbox.username());

    // a later message moves it; an older one arriving late does not move it back
    Instant later = wrote.plus(1, ChronoUnit.HOURS);
    writes("whatsapp", "wa-100", "one more thing", later);
    writes("whatsapp", "wa-100", "delayed", wrote.minus(1, ChronoUnit.HOURS));
    awaitHistory(inbox, conv, 4);
    JsonObject again = sent("whatsapp", send(inbox, conv, "noted"));
    assertThat(Instant.parse(again.getString("last_inbound_at"))).isEqualTo(later);

    // someone who never wrote on the channel: null
    Api.User bob = api.newUser("bob");
    Api.User ann = api.newUser("ann");
    claim(ann, "messenger", "psid-ann");
    api.post(
            "/v1/admin/users/" + ann.id() + "/channels/messenger/verify", admin.accessToken(), null)
        .expect(200);
    JsonObject toAnn = sent("messenger", send(bob, api.privateChat(bob, ann), "hi", "messenger"));
    assertThat(toAnn.getValue("last_inbound_at")).isNull();
    assertThat(toAnn.getString("sender_name")).isEqualTo(bob.username());
    assertThat(toAnn.getString("recipient_user_id")).isEqualTo(ann.id());
  }

  @Test
  void aContactDeletingTheirMessageTombstonesItOnceAndUnknownIdsChangeNothing() {
    String ivy = contact("instagram", "ig-200", null);
    String conv = conversationWith(inbox, ivy);
    String providerId = writes("instagram", "ig-200", "oops, wrong chat", null);
    List<JsonObject> h = awaitHistory(inbox, conv, 2);
    String id = h.get(1).getString("message_id");
    try (WsTestSocket live = socket(inbox)) {
      JsonObject deleted =
          new JsonObject()
              .put("kind", "deleted")
              .put("id", nextId("d"))
              .put("message_id", providerId)
              .put("from", "ig-200");
      webhook("instagram", deleted);
      JsonObject tomb = awaitMessage(inbox, id, "deleted", m -> m.getBoolean("is_deleted", false));
      assertThat(tomb.getJsonObject("payload").containsKey("text")).isFalse();
      live.await(
          "the deletion live",
          f ->
              "message_updated".equals(f.getString("type"))
                  && id.equals(f.getJsonObject("message").getString("message_id"))
                  && f.getJsonObject("message").getBoolean("is_deleted", false));
      Await.until(
          "snippet [deleted]",
          ChannelsFixture.WAIT,
          () ->
              "[deleted]"
                  .equals(
                      api.get("/v1/conversations/" + conv, inbox.accessToken())
                          .json()
                          .getString("last_message_snippet")));
      // the same deletion again (another event id), and one of an unknown message: no harm
      webhook("instagram", deleted.copy().put("id", nextId("d")));
      webhook(
          "instagram",
          deleted.copy().put("id", nextId("d")).put("message_id", "never-seen-" + providerId));
      // processed in order after them: a new message arrives and the first stays intact
      writes("instagram", "ig-200", "the right text", null);
      List<JsonObject> after = awaitHistory(inbox, conv, 3);
      assertThat(after.get(0).getBoolean("is_deleted", false)).isFalse();
      assertThat(after.get(2).getJsonObject("payload").getString("text"))
          .isEqualTo("the right text");
      assertThat(message(inbox, id).getBoolean("is_deleted")).isTrue();
    }
  }

  @Test
  void aFailureReportedAfterTheSendFailsItUnlessDeliveredAndStatusesOnlyMoveForward() {
    String walt = contact("whatsapp", "wa-300", null);
    Api.User bob = api.newUser("bob");
    String conv = api.privateChat(bob, new Api.User(walt, "whatsapp:wa-300", null, null));
    String m1 = send(bob, conv, "first");
    String m2 = send(bob, conv, "second");
    String m3 = send(bob, conv, "third");
    for (String m : List.of(m1, m2, m3)) {
      awaitMessage(bob, m, "sent", on("whatsapp", "sent"));
    }
    // WhatsApp reports 131047 (window closed) as a failed status after accepting the message
    receipt("whatsapp", "wa-300", m1, "failed", "window_closed");
    JsonObject f = awaitMessage(bob, m1, "failed", on("whatsapp", "failed"));
    assertThat(delivery(f, "whatsapp").getString("reason")).isEqualTo("window_closed");
    assertThat(recipientStatus(f, walt)).isEqualTo("failed");
    assertThat(f.getJsonObject("recipient_status").getJsonObject(walt).getString("reason"))
        .isEqualTo("window_closed");

    // delivered, then a late failure: stays delivered
    receipt("whatsapp", "wa-300", m2, "delivered", null);
    awaitMessage(bob, m2, "delivered", on("whatsapp", "delivered"));
    receipt("whatsapp", "wa-300", m2, "failed", "window_closed");
    // read without delivered first, then the delivered arriving late: stays read
    receipt("whatsapp", "wa-300", m3, "read", null);
    awaitMessage(bob, m3, "read", on("whatsapp", "read"));
    receipt("whatsapp", "wa-300", m3, "delivered", null);
    // a marker after them on the same contact's partition: once it applied, the others had
    String m4 = send(bob, conv, "fourth");
    awaitMessage(bob, m4, "sent", on("whatsapp", "sent"));
    receipt("whatsapp", "wa-300", m4, "delivered", null);
    awaitMessage(bob, m4, "delivered", on("whatsapp", "delivered"));
    JsonObject two = message(bob, m2);
    assertThat(delivery(two, "whatsapp").getString("status")).isEqualTo("delivered");
    // (the read of the later m3 moved the contact's read horizon over m2: read, never failed)
    assertThat(recipientStatus(two, walt)).isEqualTo("read");
    JsonObject three = message(bob, m3);
    assertThat(delivery(three, "whatsapp").getString("status")).isEqualTo("read");
    assertThat(recipientStatus(three, walt)).isEqualTo("read");
  }

  @Test
  void linkingSomeoneElsesChannelIdNeitherReceivesTheirMessagesNorSendsToThem() {
    Api.User mallory = api.newUser("mallory");
    claim(mallory, "telegram", "tg-victim");
    // the victim writes: a contact of their own is created, nothing reaches mallory
    String victim = contact("telegram", "tg-victim", null);
    assertThat(victim).isNotEqualTo(mallory.id());
    assertThat(conversations(mallory)).isEmpty();
    // a message to mallory "on telegram" goes nowhere: the link is not verified
    Api.User bob = api.newUser("bob");
    String toMallory = send(bob, api.privateChat(bob, mallory), "for mallory", "telegram");
    // the victim's contact is reached (a marker sent after it, on the same delivery path)
    String marker = send(inbox, conversationWith(inbox, victim), "marker");
    sent("telegram", marker);
    assertThat(sentOrNull("telegram", toMallory)).isNull();
    assertThat(delivery(message(bob, toMallory), "telegram")).isEmpty();

    // mallory asks for a code: it goes to the victim's chat, so mallory cannot confirm it
    String code = requestCode(mallory, "telegram", "tg-victim");
    String wrong = code.equals("000000") ? "000001" : "000000";
    Api.Res bad = verify(mallory, "telegram", wrong).expectError(400, "validation_failed");
    assertThat(bad.json().getJsonObject("error").getJsonObject("details").getString("field"))
        .isEqualTo("code");
    for (int i = 0; i < 4; i++) {
      verify(mallory, "telegram", wrong).expectError(400, "validation_failed");
    }
    // the tries are used up: even the right code no longer works
    verify(mallory, "telegram", code).expectError(412, "precondition_failed");
    verify(mallory, "telegram", "12ab").expectError(400, "validation_failed");
    api.post(
            "/v1/me/channels/fax/verify", mallory.accessToken(), new JsonObject().put("code", code))
        .expectError(404, "not_found");
    // still nothing for mallory
    String more = writes("telegram", "tg-victim", "still private", null);
    awaitHistory(inbox, conversationWith(inbox, victim), 3);
    assertThat(conversations(mallory)).hasSize(1); // only bob's chat
    assertThat(more).isNotNull();

    // the real owner registers, links and confirms: the identity is theirs from now on
    Api.User vic = api.newUser("vic");
    claim(vic, "telegram", "tg-victim");
    verify(vic, "telegram", "123456").expectError(412, "precondition_failed");
    String vicCode = requestCode(vic, "telegram", "tg-victim");
    JsonObject linked = verify(vic, "telegram", vicCode).expect(200).json();
    assertThat(linked.getBoolean("verified")).isTrue();
    verify(vic, "telegram", vicCode).expect(200); // confirmed already: the same answer
    api.post("/v1/me/channels/telegram/verification", vic.accessToken(), new JsonObject())
        .expectError(409, "conflict");
    writes("telegram", "tg-victim", "it is me, Vic", null);
    String vicInbox = conversationWith(vic, inbox.id());
    List<JsonObject> h = awaitHistory(vic, vicInbox, 1);
    assertThat(h.get(0).getString("from_user_id")).isEqualTo(vic.id());
    String toVic = send(bob, api.privateChat(bob, vic), "hello Vic", "telegram");
    assertThat(sent("telegram", toVic).getString("recipient")).isEqualTo("tg-victim");
    // an identity a registered user holds verified cannot be claimed by anyone else
    api.post(
            "/v1/me/channels",
            mallory.accessToken(),
            new JsonObject().put("channel_type", "whatsapp").put("channel_user_id", "wa-vic"))
        .expect(201);
    claim(vic, "whatsapp", "wa-vic");
    Api.Res taken = verify(vic, "whatsapp", requestCode(vic, "whatsapp", "wa-vic"));
    taken.expect(200);
    api.delete("/v1/me/channels/whatsapp", mallory.accessToken()).expect(204);
    api.post(
            "/v1/me/channels",
            mallory.accessToken(),
            new JsonObject().put("channel_type", "whatsapp").put("channel_user_id", "wa-vic"))
        .expectError(409, "conflict");
    // only operators verify for others
    api.post(
            "/v1/admin/users/" + mallory.id() + "/channels/telegram/verify",
            mallory.accessToken(),
            null)
        .expectError(403, "forbidden");
  }

  @Test
  void contactsOnTwoChannelsAreTwoUntilAnOperatorMergesThem() {
    String onWa = contact("whatsapp", "wa-400", null);
    String onTg = contact("telegram", "tg-400", null);
    assertThat(onWa).isNotEqualTo(onTg);
    Api.User bob = api.newUser("bob");
    // refused merges
    merge(bob, onWa, onTg).expectError(403, "forbidden");
    merge(admin, onWa, onWa).expectError(400, "validation_failed");
    merge(admin, onWa, UUID.randomUUID().toString()).expectError(404, "not_found");
    merge(admin, UUID.randomUUID().toString(), onTg).expectError(404, "not_found");
    merge(admin, "not-a-uuid", onTg).expectError(404, "not_found");
    api.post(
            "/v1/admin/contacts/" + onWa + "/merge",
            admin.accessToken(),
            new JsonObject().put("contact_id", 42))
        .expectError(400, "validation_failed");
    Api.Res notContact = merge(admin, onWa, bob.id()).expectError(409, "conflict");
    assertThat(
            notContact.json().getJsonObject("error").getJsonObject("details").getString("reason"))
        .isEqualTo("not_a_contact");
    String otherWa = contact("whatsapp", "wa-401", null);
    Api.Res same = merge(admin, onWa, otherWa).expectError(409, "conflict");
    assertThat(same.json().getJsonObject("error").getJsonObject("details").getString("reason"))
        .isEqualTo("same_channel");

    String waInbox = conversationWith(inbox, onWa);
    String tgInbox = conversationWith(inbox, onTg);
    JsonObject merged = merge(admin, onWa, onTg).expect(200).json();
    assertThat(merged.getJsonArray("channels"))
        .extracting(o -> ((JsonObject) o).getString("channel_type"))
        .containsExactly("telegram", "whatsapp");
    // both had an inbox conversation: the telegram one stays as the merged contact's history
    assertThat(merged.getJsonObject("conversations").getJsonArray("kept")).contains(tgInbox);
    merge(admin, onWa, onTg).expectError(404, "not_found"); // merged already

    // one send to "all" reaches the contact on both channels
    String both = send(inbox, waInbox, "to both", "all");
    assertThat(sent("whatsapp", both).getString("recipient")).isEqualTo("wa-400");
    assertThat(sent("telegram", both).getString("recipient")).isEqualTo("tg-400");
    // their telegram messages now come from the surviving contact, into its conversation
    writes("telegram", "tg-400", "via telegram now", null);
    List<JsonObject> h = awaitHistory(inbox, waInbox, 3);
    JsonObject last = h.get(h.size() - 1);
    assertThat(last.getJsonObject("payload").getString("text")).isEqualTo("via telegram now");
    assertThat(last.getString("from_user_id")).isEqualTo(onWa);
    // unasked, the merged contact is reached on the channel it wrote on last
    String unasked = send(inbox, waInbox, "where are you?");
    sent("telegram", unasked);
    assertThat(sentOrNull("whatsapp", unasked)).isNull();
  }

  @Test
  void oneMessageToAContactOnFourChannelsGoesOutFourTimesAndEachStatusReachesTheSender() {
    List<String> contacts = new ArrayList<>();
    for (String ch : CHANNELS) {
      contacts.add(contact(ch, ch + "-500", null));
    }
    String survivor = contacts.get(0);
    for (String other : contacts.subList(1, contacts.size())) {
      merge(admin, survivor, other).expect(200);
    }
    Api.User bob = api.newUser("bob");
    String conv = api.privateChat(bob, new Api.User(survivor, "telegram:telegram-500", null, null));
    try (WsTestSocket live = socket(bob)) {
      String id = send(bob, conv, "one message, four channels", "all");
      for (String ch : CHANNELS) {
        JsonObject s = sent(ch, id);
        assertThat(s.getString("recipient")).isEqualTo(ch + "-500");
        assertThat(s.getString("text")).isEqualTo("one message, four channels");
      }
      JsonObject m =
          awaitMessage(
              bob,
              id,
              "sent on all four",
              x -> CHANNELS.stream().allMatch(ch -> on(ch, "sent").test(x)));
      for (String ch : CHANNELS) {
        assertThat(delivery(m, ch).getString("external_message_id")).isEqualTo(VERSION + ":" + id);
      }
      // each provider reports on its own
      receipt("whatsapp", "whatsapp-500", id, "read", null);
      receipt("messenger", "messenger-500", id, "delivered", null);
      receipt("instagram", "instagram-500", id, "failed", "recipient_unavailable");
      JsonObject after =
          awaitMessage(
              bob,
              id,
              "the receipts applied",
              x ->
                  on("whatsapp", "read").test(x)
                      && on("messenger", "delivered").test(x)
                      && on("instagram", "failed").test(x));
      assertThat(delivery(after, "telegram").getString("status")).isEqualTo("sent");
      assertThat(delivery(after, "instagram").getString("reason"))
          .isEqualTo("recipient_unavailable");
      // read on one channel: the contact read it; a failure elsewhere does not undo that
      assertThat(recipientStatus(after, survivor)).isEqualTo("read");
      for (String ch : CHANNELS) {
        String want =
            switch (ch) {
              case "whatsapp" -> "read";
              case "messenger" -> "delivered";
              case "instagram" -> "failed";
              default -> "sent";
            };
        live.await(
            "the " + ch + " status live",
            f ->
                "status".equals(f.getString("type"))
                    && id.equals(f.getString("message_id"))
                    && ch.equals(f.getString("channel"))
                    && want.equals(f.getString("channel_status")));
      }
    }
  }
}
