package io.chat4all.node.authz;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.node.api.Api;
import io.chat4all.testkit.Await;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The things the matrix asks about, made by the owner on first use: a group (owner, member and a
 * removable extra member), a message of the owner in it, a completed file, an upload in progress,
 * an upload with every chunk but not completed, a webhook and one of its deliveries. A ghost
 * fixture answers random ids instead (same users), so a row sent with it asks about things that do
 * not exist.
 */
class Fixture {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final byte[] CONTENT = "hello, file".getBytes(StandardCharsets.UTF_8);
  static final String CONTENT_SHA = sha256(CONTENT);

  /** The node and the accounts every fixture uses. */
  record World(
      Api api,
      Api.User owner,
      Api.User member,
      Api.User outsider,
      Api.User admin,
      Api.User extra,
      Api.User newcomer,
      String hookUrl) {}

  final World w;
  private final Map<String, String> made = new HashMap<>();

  Fixture(World w) {
    this.w = w;
  }

  /** A fixture of random ids: every resource is one that does not exist. */
  static Fixture ghost(World w) {
    return new Fixture(w) {
      @Override
      String once(String what, Supplier<String> make) {
        return super.once(what, () -> UUID.randomUUID().toString());
      }

      @Override
      String channel() {
        return "nochannel" + UUID.randomUUID().toString().substring(0, 8);
      }
    };
  }

  String once(String what, Supplier<String> make) {
    String v = made.get(what);
    if (v == null) {
      v = make.get();
      made.put(what, v);
    }
    return v;
  }

  Api api() {
    return w.api();
  }

  String owner() {
    return w.owner().accessToken();
  }

  /** A group of the owner with the member and the extra user. */
  String conv() {
    return once(
        "conv",
        () ->
            api()
                .post(
                    "/v1/conversations",
                    owner(),
                    new JsonObject()
                        .put("type", "group")
                        .put("name", "matrix")
                        .put(
                            "member_ids", new JsonArray().add(w.member().id()).add(w.extra().id())))
                .expect(201)
                .json()
                .getString("conversation_id"));
  }

  /** A text message of the owner in {@link #conv()}, numbered. */
  String msg() {
    return once(
        "msg",
        () -> {
          String id = UUID.randomUUID().toString();
          api().post("/v1/messages", owner(), Api.textMessage(conv(), id, "matrix")).expect(202);
          Await.until(
              "message " + id + " numbered",
              WAIT,
              () -> api().get("/v1/messages/" + id, owner()).status() == 200);
          return id;
        });
  }

  static JsonObject initiateBody(String conv) {
    return new JsonObject()
        .put("filename", "matrix.txt")
        .put("size_bytes", CONTENT.length)
        .put("mime_type", "text/plain")
        .put("checksum_sha256", CONTENT_SHA)
        .put("conversation_id", conv);
  }

  /** An upload of the owner in {@link #conv()} without chunks. */
  String upload() {
    return once("upload", this::initiate);
  }

  /** An upload of the owner with its one chunk stored, not completed. */
  String staged() {
    return once(
        "staged",
        () -> {
          String id = initiate();
          assertThat(putChunk(id).send(api(), owner()).status()).isEqualTo(200);
          return id;
        });
  }

  /** A completed file of the owner in {@link #conv()}. */
  String file() {
    return once(
        "file",
        () -> {
          String id = initiate();
          putChunk(id).send(api(), owner()).expect(200);
          api().post("/v1/files/" + id + "/complete", owner(), null).expect(200);
          return id;
        });
  }

  private String initiate() {
    return api()
        .post("/v1/files", owner(), initiateBody(conv()))
        .expect(201)
        .json()
        .getString("file_id");
  }

  static Http putChunk(String fileId) {
    return Http.raw(
        "PUT",
        "/v1/files/" + fileId + "/chunks/1",
        "application/octet-stream",
        CONTENT,
        Map.of("X-Checksum-SHA256", CONTENT_SHA));
  }

  /** A webhook of the owner. */
  String hook() {
    return once(
        "hook",
        () ->
            api()
                .post(
                    "/v1/webhooks",
                    owner(),
                    new JsonObject()
                        .put("url", w.hookUrl())
                        .put("events", new JsonArray().add("message.created")))
                .expect(201)
                .json()
                .getString("webhook_id"));
  }

  /** A delivery (a ping) of {@link #hook()}, delivered. */
  String delivery() {
    return once(
        "delivery",
        () -> {
          String hook = hook();
          String id =
              api()
                  .post("/v1/webhooks/" + hook + "/test", owner(), null)
                  .expect(202)
                  .json()
                  .getString("delivery_id");
          Await.until(
              "delivery " + id + " delivered",
              WAIT,
              () ->
                  "delivered"
                      .equals(
                          api()
                              .get("/v1/webhooks/" + hook + "/deliveries/" + id, owner())
                              .json()
                              .getString("status")));
          return id;
        });
  }

  /** A channel of the plugin admin API: a connector jar the admin uploaded and activated. */
  String channel() {
    return once(
        "channel",
        () -> {
          StringBuilder name = new StringBuilder("mxchan");
          java.util.concurrent.ThreadLocalRandom.current()
              .ints(8, 'a', 'z' + 1)
              .forEach(c -> name.append((char) c));
          api()
              .raw(
                  "POST",
                  "/v1/admin/plugins",
                  w.admin().accessToken(),
                  "application/java-archive",
                  io.chat4all.testkit.PluginJars.connector(name.toString(), "1.0.0"))
              .expect(201);
          return name.toString();
        });
  }

  static String sha256(byte[] b) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
