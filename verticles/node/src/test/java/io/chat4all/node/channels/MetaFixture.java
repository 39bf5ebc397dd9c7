package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.PluginJars;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.messenger.MessengerSimulator;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * A node running the Messenger or the Instagram connector (the plugin jar of the build, dropped
 * into the node's plugins folder) against the Messenger Platform simulator, whose webhooks are
 * subscribed to the node's {@code /webhooks/<channel>}; with helpers for contacts, their inbox
 * conversations, messages and their channel statuses.
 */
final class MetaFixture implements AutoCloseable {
  static final String ACCOUNT = "104200300400";
  static final String TOKEN = "EAA-simulated-token";
  static final String APP_SECRET = "meta-app-secret";
  static final String VERIFY = "meta-verify-token";
  static final Duration WAIT = Duration.ofSeconds(60);

  final String channel;
  final MessengerSimulator sim;
  final Api api;
  final Api.User inbox;
  private final Path plugins;
  private final HttpClient http = HttpClient.newHttpClient();

  /** {@code overrides}: of {@code channels.<channel>}. */
  MetaFixture(TestBackends.Isolation iso, MessengerSimulator.Mode mode, JsonObject overrides) {
    channel = mode == MessengerSimulator.Mode.MESSENGER ? "messenger" : "instagram";
    sim = MessengerSimulator.start(mode, ACCOUNT, TOKEN, "v21.0");
    String inboxName = "inbox_" + UUID.randomUUID().toString().substring(0, 8);
    JsonObject block =
        new JsonObject()
            .put("base_url", sim.baseUrl())
            .put("api_version", "v21.0")
            .put(mode == MessengerSimulator.Mode.MESSENGER ? "page_id" : "ig_account_id", ACCOUNT)
            .put(
                mode == MessengerSimulator.Mode.MESSENGER ? "page_access_token" : "access_token",
                TOKEN)
            .put("app_secret", APP_SECRET)
            .put("verify_token", VERIFY)
            .put("inbox_username", inboxName)
            .mergeIn(overrides == null ? new JsonObject() : overrides);
    JsonObject delivery =
        new JsonObject()
            .put("backoff_base_ms", 50)
            .put("backoff_max_ms", 400)
            .put("breaker_max_failures", 50)
            .put("breaker_reset_timeout_ms", 500)
            .put("max_attempts", 4)
            .put("send_timeout_ms", 10_000)
            .put("commit_interval_ms", 100);
    try {
      plugins = Files.createTempDirectory("chat4all-" + channel + "-" + iso.base());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    byte[] jar =
        PluginJars.read(Path.of(System.getProperty("chat4all.test.plugins"), channel + ".jar"));
    PluginJars.drop(plugins.resolve("plugins"), channel + ".jar", jar);
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "rate_limit",
                    new JsonObject().put("per_user_per_minute", 0).put("per_ip_per_minute", 0))
                .put(
                    "channels",
                    new JsonObject()
                        .put("plugins_dir", plugins.resolve("plugins").toString())
                        .put("store_dir", plugins.resolve("store").toString())
                        .put("scan_interval_ms", 100)
                        .put("delivery", delivery)
                        // a stalled attachment is given up (and fetched again) within the tests'
                        // wait
                        .put("inbound", new JsonObject().put("media_stall_timeout_ms", 1500))
                        .put(channel, block)));
    Await.until(
        channel + " active: " + api.node().pluginHost().snapshot().encode(),
        WAIT,
        () -> api.node().connectors().active(channel).isPresent());
    inbox = api.namedUser(inboxName);
    sim.setWebhook(webhookUrl(), APP_SECRET);
  }

  String webhookUrl() {
    return api.base() + "/webhooks/" + channel;
  }

  /** The contact created for the provider user {@code id}, or null. */
  String contactOf(String id) {
    Api.Res r =
        api.get(
            "/v1/users?username="
                + java.net.URLEncoder.encode(
                    channel + ":" + id, java.nio.charset.StandardCharsets.UTF_8),
            inbox.accessToken());
    if (r.status() != 200) {
      return null;
    }
    JsonArray items = r.json().getJsonArray("items", new JsonArray());
    return items.isEmpty() ? null : items.getJsonObject(0).getString("user_id");
  }

  /** The inbox's conversation with the contact of {@code id} (waits for it). */
  String inboxConversation(String id) {
    String[] conv = {null};
    Await.until(
        "an inbox conversation with the contact " + id,
        WAIT,
        () -> {
          String contact = contactOf(id);
          if (contact == null) {
            return false;
          }
          for (Object c :
              api.get("/v1/conversations?limit=100", inbox.accessToken())
                  .expect(200)
                  .json()
                  .getJsonArray("items")) {
            JsonObject co = (JsonObject) c;
            if (co.getJsonArray("members", new JsonArray()).encode().contains(contact)) {
              conv[0] = co.getString("conversation_id");
              return true;
            }
          }
          return false;
        });
    return conv[0];
  }

  List<JsonObject> history(String conv) {
    List<JsonObject> out = new ArrayList<>();
    api.get("/v1/conversations/" + conv + "/messages?limit=100", inbox.accessToken())
        .expect(200)
        .json()
        .getJsonArray("items")
        .forEach(o -> out.add((JsonObject) o));
    return out;
  }

  /** Waits for at least {@code n} messages in the inbox conversation; the history. */
  List<JsonObject> awaitHistory(String conv, int n) {
    List<List<JsonObject>> last = new ArrayList<>();
    Await.until(
        n + " messages in " + conv,
        WAIT,
        () -> {
          List<JsonObject> h = history(conv);
          last.add(0, h);
          return h.size() >= n;
        });
    return last.get(0);
  }

  /** The inbox sends {@code payload} into {@code conv} (to the contact, on their channel). */
  String send(String conv, JsonObject payload) {
    String id = UUID.randomUUID().toString();
    api.post(
            "/v1/messages",
            inbox.accessToken(),
            new JsonObject()
                .put("conversation_id", conv)
                .put("message_id", id)
                .put("payload", payload))
        .expect(202);
    return id;
  }

  /** The inbox answers {@code replyTo} in {@code conv}. */
  String reply(String conv, String replyTo, String text) {
    String id = UUID.randomUUID().toString();
    api.post(
            "/v1/messages",
            inbox.accessToken(),
            new JsonObject()
                .put("conversation_id", conv)
                .put("message_id", id)
                .put("reply_to_message_id", replyTo)
                .put("payload", new JsonObject().put("type", "text").put("text", text)))
        .expect(202);
    return id;
  }

  String sendText(String conv, String text) {
    return send(conv, new JsonObject().put("type", "text").put("text", text));
  }

  JsonObject message(String id) {
    Api.Res r = api.get("/v1/messages/" + id, inbox.accessToken());
    return r.status() == 200 ? r.json() : null;
  }

  JsonObject delivery(JsonObject m) {
    return m.getJsonObject("channel_delivery", new JsonObject())
        .getJsonObject(channel, new JsonObject());
  }

  /** Waits until the message's channel status is {@code status}; the message. */
  JsonObject awaitStatus(String id, String status) {
    JsonObject[] last = {null};
    Predicate<JsonObject> p = m -> status.equals(delivery(m).getString("status"));
    Await.until(
        channel
            + " "
            + status
            + " (message "
            + id
            + "): "
            + (last[0] == null ? "" : last[0].encode()),
        WAIT,
        () -> {
          last[0] = message(id);
          return last[0] != null && p.test(last[0]);
        });
    return last[0];
  }

  /** Waits until {@code user}'s {@code recipient_status} of the message is {@code status}. */
  void awaitRecipientStatus(String id, String user, String status) {
    Await.until(
        user + " " + status + " on " + id,
        WAIT,
        () -> {
          JsonObject m = message(id);
          JsonObject rs =
              m == null
                  ? null
                  : m.getJsonObject("recipient_status", new JsonObject()).getJsonObject(user);
          return rs != null && status.equals(rs.getString("status"));
        });
  }

  /** POSTs {@code body} to the node's webhook with {@code signature} (null: none). */
  HttpResponse<String> postWebhook(String body, String signature) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(webhookUrl()))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (signature != null) {
      b.header("X-Hub-Signature-256", signature);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Uploads {@code bytes} as a file of the inbox in {@code conv}; its file id. */
  String upload(String conv, byte[] bytes, String name, String mime) {
    JsonObject init =
        api.post(
                "/v1/files",
                inbox.accessToken(),
                new JsonObject()
                    .put("conversation_id", conv)
                    .put("filename", name)
                    .put("size_bytes", bytes.length)
                    .put("mime_type", mime))
            .expect(201)
            .json();
    String id = init.getString("file_id");
    long chunk = init.getLong("chunk_size");
    int total = init.getInteger("total_chunks");
    for (int n = 1; n <= total; n++) {
      int from = (int) ((n - 1) * chunk);
      int to = (int) Math.min(bytes.length, from + chunk);
      byte[] part = java.util.Arrays.copyOfRange(bytes, from, to);
      try {
        HttpResponse<String> put =
            http.send(
                HttpRequest.newBuilder(URI.create(api.base() + "/v1/files/" + id + "/chunks/" + n))
                    .header("Authorization", "Bearer " + inbox.accessToken())
                    .header("X-Checksum-SHA256", ChannelsFixture.sha256(part))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(part))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
    api.post("/v1/files/" + id + "/complete", inbox.accessToken(), null).expect(200);
    return id;
  }

  /** The bytes of a file the inbox may download. */
  byte[] download(String fileId) {
    String url =
        api.get("/v1/files/" + fileId + "/download?redirect=false", inbox.accessToken())
            .expect(200)
            .json()
            .getString("url");
    try {
      return http.send(
              HttpRequest.newBuilder(URI.create(url)).build(),
              HttpResponse.BodyHandlers.ofByteArray())
          .body();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    try {
      api.close();
    } finally {
      sim.close();
    }
  }
}
