package io.chat4all.node.channels;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.channels.ActiveConnector;
import io.chat4all.codecs.Topics;
import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.PluginJars;
import io.chat4all.testkit.TestBackends;
import io.chat4all.testkit.WsTestSocket;
import io.chat4all.testkit.telegram.TelegramSimulator;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A node running the Telegram connector (the plugin jar built by the Maven build, dropped into the
 * node's plugins folder) against the Bot API simulator, with helpers for the channel tests: users
 * with Telegram identities, messages and their stored state, webhook posts, the dead-letter topic,
 * and connector jars taken away, replaced and given back.
 */
final class ChannelsFixture implements AutoCloseable {
  /** An administrator account name (runtime flags). */
  static final String ADMIN = "fxadmin";

  static final String TOKEN = "4242:simulated-token";
  static final String SECRET = "hook_secret-42";
  static final Duration WAIT = Duration.ofSeconds(60);

  final TelegramSimulator sim;
  final Api api;
  final TestBackends.Isolation iso;
  final Api.User inbox;

  /** An operator (in admin.usernames): verifies links, merges contacts. */
  final Api.User admin;

  final Path plugins;
  private int versions;
  private final Vertx client = Vertx.vertx();
  private final WebSocketClient ws = client.createWebSocketClient();
  private final HttpClient http = HttpClient.newHttpClient();

  /** {@code delivery}: overrides of channels.delivery; {@code telegram}: of channels.telegram. */
  ChannelsFixture(TestBackends.Isolation iso, JsonObject delivery, JsonObject telegram) {
    this(iso, delivery, telegram, null, Map.of());
  }

  /**
   * {@code channels}: more blocks of {@code channels.*} (over the defaults here); {@code jars}:
   * more plugin jars dropped into the plugins folder before the node starts (file name → bytes).
   */
  ChannelsFixture(
      TestBackends.Isolation iso,
      JsonObject delivery,
      JsonObject telegram,
      JsonObject channels,
      Map<String, byte[]> jars) {
    this.iso = iso;
    sim = TelegramSimulator.start(TOKEN);
    String inboxName =
        telegram != null && telegram.getString("inbox_username") != null
            ? telegram.getString("inbox_username")
            : ("inbox_" + UUID.randomUUID().toString().substring(0, 8));
    String adminName = ("ops_" + UUID.randomUUID().toString().substring(0, 8));
    JsonObject tg =
        new JsonObject()
            .put("base_url", sim.baseUrl())
            .put("bot_token", TOKEN)
            .put("webhook_secret", SECRET)
            .put("inbox_username", inboxName)
            .put("poll_timeout_seconds", 1)
            .mergeIn(telegram == null ? new JsonObject() : telegram);
    JsonObject d =
        new JsonObject()
            .put("backoff_base_ms", 50)
            .put("backoff_max_ms", 400)
            .put("breaker_reset_timeout_ms", 500)
            .put("send_timeout_ms", 10_000)
            .put("lease_ms", 20_000)
            .put("commit_interval_ms", 100)
            .mergeIn(delivery == null ? new JsonObject() : delivery);
    try {
      plugins = Files.createTempDirectory("chat4all-channels-" + iso.base());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    PluginJars.drop(plugins.resolve("plugins"), "telegram.jar", telegramJar("0.9.0"));
    jars.forEach((name, jar) -> PluginJars.drop(plugins.resolve("plugins"), name, jar));
    api =
        Api.start(
            iso,
            new JsonObject()
                .put(
                    "rate_limit",
                    new JsonObject().put("per_user_per_minute", 0).put("per_ip_per_minute", 0))
                .put(
                    "admin",
                    new JsonObject().put("usernames", new JsonArray().add(adminName).add(ADMIN)))
                .put(
                    "channels",
                    new JsonObject()
                        .put("plugins_dir", plugins.resolve("plugins").toString())
                        .put("store_dir", plugins.resolve("store").toString())
                        .put("scan_interval_ms", 100)
                        .put("delivery", d)
                        .put("telegram", tg)
                        // a channel switched off: its messages fail with channel_not_configured
                        .put("whatsapp", new JsonObject().put("enabled", false))
                        .mergeIn(channels == null ? new JsonObject() : channels)));
    awaitVersion("telegram", "0.9.0");
    inbox = registerNamed(inboxName);
    admin = registerNamed(adminName);
    if (!"polling".equals(tg.getString("inbound_mode"))) {
      sim.setWebhook(api.base() + "/webhooks/telegram", SECRET);
    }
  }

  private Api.User registerNamed(String name) {
    api.post(
            "/v1/auth/register",
            null,
            new JsonObject()
                .put("username", name)
                .put("email", name + "@example.test")
                .put("password", "correct horse"))
        .expect(201);
    JsonObject t =
        api.post(
                "/v1/auth/token",
                null,
                new JsonObject().put("username", name).put("password", "correct horse"))
            .expect(200)
            .json();
    return new Api.User(
        t.getString("user_id"), name, t.getString("access_token"), t.getString("refresh_token"));
  }

  /** The Telegram connector jar of the build, as {@code version}. */
  static byte[] telegramJar(String version) {
    String dir = System.getProperty("chat4all.test.plugins");
    byte[] jar = PluginJars.read(Path.of(dir, "telegram.jar"));
    JsonObject d =
        new JsonObject()
            .put("channel", "telegram")
            .put("version", version)
            .put("spi_version", "1.0")
            .put("main_class", "io.chat4all.channel.telegram.TelegramConnector")
            .put("name", "Telegram Bot API");
    return PluginJars.rewrite(
        jar,
        Map.of(
            PluginJars.DESCRIPTOR,
            d.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8),
            "io/chat4all/channel/telegram/connector.properties",
            ("version=" + version + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  /** A plugin jar whose connector is {@code type} (a class of these tests) on {@code channel}. */
  static byte[] testClassJar(Class<?> type, String channel, String version) {
    String entry = type.getName().replace('.', '/') + ".class";
    byte[] bytes;
    try (java.io.InputStream in = type.getClassLoader().getResourceAsStream(entry)) {
      bytes = in.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    JsonObject d =
        new JsonObject()
            .put("channel", channel)
            .put("version", version)
            .put("spi_version", "1.0")
            .put("main_class", type.getName())
            .put("name", type.getSimpleName());
    return PluginJars.rewrite(
        PluginJars.read(PluginJars.testConnector()),
        Map.of(
            PluginJars.DESCRIPTOR,
            d.encode().getBytes(java.nio.charset.StandardCharsets.UTF_8),
            entry,
            bytes));
  }

  String activeVersion(String channel) {
    return api.node().connectors().active(channel).map(ActiveConnector::version).orElse(null);
  }

  void awaitVersion(String channel, String version) {
    Await.until(
        channel + " " + version + " active: " + api.node().pluginHost().snapshot().encode(),
        WAIT,
        () -> java.util.Objects.equals(version, activeVersion(channel)));
  }

  /** Drops {@code jar} as {@code <channel>.jar} and waits until it serves the channel. */
  void dropPlugin(String channel, String version, byte[] jar) {
    PluginJars.drop(plugins.resolve("plugins"), channel + ".jar", jar);
    awaitVersion(channel, version);
  }

  /** Deletes {@code <channel>.jar}: the channel has no connector any more (calls in flight end). */
  void removePlugin(String channel) {
    try {
      Files.deleteIfExists(plugins.resolve("plugins").resolve(channel + ".jar"));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    awaitVersion(channel, null);
  }

  /** Takes the Telegram connector away. */
  void removeConnector() {
    removePlugin("telegram");
  }

  /** A new version of the Telegram connector, replacing the active one (or none). */
  void addConnector() {
    String version = "1.0." + (++versions);
    dropPlugin("telegram", version, telegramJar(version));
  }

  /** A registered user whose Telegram identity is chat {@code chatId} (the chat exists). */
  Api.User telegramUser(String prefix, long chatId) {
    Api.User u = api.newUser(prefix);
    sim.addChat(chatId, prefix, prefix);
    link(u, "telegram", Long.toString(chatId));
    return u;
  }

  /** Links {@code u}'s identity on {@code channel} and has the operator verify it. */
  void link(Api.User u, String channel, String channelUserId) {
    api.post(
            "/v1/me/channels",
            u.accessToken(),
            new JsonObject().put("channel_type", channel).put("channel_user_id", channelUserId))
        .expect(201);
    JsonObject v =
        api.post(
                "/v1/admin/users/" + u.id() + "/channels/" + channel + "/verify",
                admin.accessToken(),
                null)
            .expect(200)
            .json();
    assertThat(v.getBoolean("verified")).isTrue();
  }

  /** Sends a text to {@code conv} through Telegram; the message id. */
  String sendText(Api.User from, String conv, String text) {
    String id = UUID.randomUUID().toString();
    api.post(
            "/v1/messages",
            from.accessToken(),
            Api.textMessage(conv, id, text).put("channels", new JsonArray().add("telegram")))
        .expect(202);
    return id;
  }

  JsonObject message(Api.User viewer, String id) {
    Api.Res r = api.get("/v1/messages/" + id, viewer.accessToken());
    return r.status() == 200 ? r.json() : null;
  }

  /** Waits until the stored message satisfies {@code p}; the message. */
  JsonObject awaitMessage(Api.User viewer, String id, String what, Predicate<JsonObject> p) {
    JsonObject[] last = {null};
    Await.until(
        what + " (message " + id + ")",
        WAIT,
        () -> {
          last[0] = message(viewer, id);
          return last[0] != null && p.test(last[0]);
        });
    return last[0];
  }

  /** The message's {@code channel_delivery.telegram}, or an empty object. */
  static JsonObject telegramDelivery(JsonObject message) {
    JsonObject cd = message.getJsonObject("channel_delivery", new JsonObject());
    return cd.getJsonObject("telegram", new JsonObject());
  }

  static Predicate<JsonObject> telegramStatus(String status) {
    return m -> status.equals(telegramDelivery(m).getString("status"));
  }

  /** The history of a conversation (newest page). */
  List<JsonObject> history(Api.User viewer, String conv) {
    JsonArray items =
        api.get("/v1/conversations/" + conv + "/messages?limit=100", viewer.accessToken())
            .expect(200)
            .json()
            .getJsonArray("items");
    List<JsonObject> out = new ArrayList<>();
    items.forEach(o -> out.add((JsonObject) o));
    return out;
  }

  /** The conversations of a user. */
  List<JsonObject> conversations(Api.User u) {
    JsonArray items =
        api.get("/v1/conversations?limit=100", u.accessToken())
            .expect(200)
            .json()
            .getJsonArray("items");
    List<JsonObject> out = new ArrayList<>();
    items.forEach(o -> out.add((JsonObject) o));
    return out;
  }

  /** An authenticated WebSocket of {@code u}. */
  WsTestSocket socket(Api.User u) {
    WsTestSocket s = new WsTestSocket(ws, api.node().httpPort(), "/v1/ws", WAIT);
    s.authenticate(u.accessToken(), null);
    return s;
  }

  /** POSTs a raw body to the node's Telegram webhook with the secret header (null: none). */
  HttpResponse<String> postWebhook(String channel, String body, String secret) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(api.base() + "/webhooks/" + channel))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (secret != null) {
      b.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** Every record on the Telegram dead-letter topic so far. */
  List<JsonObject> deadLetters() {
    Properties p = new Properties();
    p.put("bootstrap.servers", iso.endpoints().kafkaBootstrapServers());
    p.put("group.id", "dlq-reader-" + UUID.randomUUID());
    p.put("auto.offset.reset", "earliest");
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    List<JsonObject> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
      c.subscribe(List.of(Topics.name(iso.topicPrefix(), Topics.deadLetter("telegram"))));
      long end = System.currentTimeMillis() + 3000;
      while (System.currentTimeMillis() < end) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
          out.add(new JsonObject(r.value()));
        }
      }
    }
    return out;
  }

  /** Uploads {@code bytes} as a file of {@code u} in {@code conv}; its file id. */
  String upload(Api.User u, String conv, byte[] bytes, String name, String mime) {
    JsonObject init =
        api.post(
                "/v1/files",
                u.accessToken(),
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
                    .header("Authorization", "Bearer " + u.accessToken())
                    .header("X-Checksum-SHA256", sha256(part))
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(part))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }
    api.post("/v1/files/" + id + "/complete", u.accessToken(), null).expect(200);
    return id;
  }

  /** The bytes of a file {@code u} may download. */
  byte[] download(Api.User u, String fileId) {
    String url =
        api.get("/v1/files/" + fileId + "/download?redirect=false", u.accessToken())
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

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The users whose username is {@code name} (contacts are named {@code telegram:<chat id>}). */
  List<JsonObject> usersNamed(String name) {
    Api.Res r =
        api.get(
            "/v1/users?username="
                + java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8),
            inbox.accessToken());
    if (r.status() != 200) {
      return List.of();
    }
    JsonArray items = r.json().getJsonArray("items", new JsonArray());
    List<JsonObject> out = new ArrayList<>();
    items.forEach(o -> out.add((JsonObject) o));
    return out;
  }

  static Map<String, Object> asMap(JsonObject o) {
    return o.getMap();
  }

  @Override
  public void close() {
    try {
      api.close();
    } finally {
      sim.close();
      Await.result(client.close());
    }
  }
}
