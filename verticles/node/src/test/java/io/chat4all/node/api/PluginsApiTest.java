package io.chat4all.node.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.testkit.Await;
import io.chat4all.testkit.BackendsExtension;
import io.chat4all.testkit.PluginJars;
import io.chat4all.testkit.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin host inside a running node: a jar dropped into its plugins folder, and the admin API
 * (upload, activate, roll back, disable, enable, remove; bad input; non-admins refused).
 */
@ExtendWith(BackendsExtension.class)
class PluginsApiTest {
  static final String JAR = "application/java-archive";
  @TempDir static Path dir;
  static Api api;
  static Api.User admin;
  static Api.User someone;

  @BeforeAll
  static void start(TestBackends.Isolation iso) {
    String adminName = "padmin_" + UUID.randomUUID().toString().substring(0, 8);
    api =
        Api.start(
            iso,
            new JsonObject()
                .put("admin", new JsonObject().put("usernames", new JsonArray().add(adminName)))
                .put(
                    "channels",
                    new JsonObject()
                        .put("plugins_dir", dir.resolve("plugins").toString())
                        .put("store_dir", dir.resolve("store").toString())
                        .put("scan_interval_ms", 200)
                        .put("max_jar_bytes", 200_000)
                        .put("dropped", new JsonObject().put("send_delay_ms", 0))));
    admin = api.namedUser(adminName);
    someone = api.newUser("plain");
  }

  @AfterAll
  static void stop() {
    api.close();
  }

  static String activeVersion(String channel) {
    return api.node().connectors().active(channel).map(ActiveConnector::version).orElse(null);
  }

  static void awaitActive(String channel, String version) {
    Await.until(
        channel + " " + version + " active: " + api.node().pluginHost().snapshot().encode(),
        Duration.ofSeconds(60),
        () -> version.equals(activeVersion(channel)));
  }

  static String send(String channel, String id) {
    ActiveConnector a = api.node().connectors().active(channel).orElseThrow();
    OutboundMessage m =
        new OutboundMessage(id, "c", "s", "S", "r", "chat", "hi", null, null, null, null, 1);
    return Await.result(a.call(c -> c.send(m))).providerMessageIds().get(0);
  }

  static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new java.util.Random(7).nextBytes(b);
    return b;
  }

  Api.Res upload(Api.User who, byte[] jar) {
    return api.raw("POST", "/v1/admin/plugins", who.accessToken(), JAR, jar);
  }

  @Test
  void aJarDroppedIntoThePluginsFolderOfARunningNodeIsServed() throws Exception {
    assertThat(api.node().connectors().active("dropped")).isEmpty();
    PluginJars.drop(
        dir.resolve("plugins"), "dropped.jar", PluginJars.connector("dropped", "1.0.0"));
    awaitActive("dropped", "1.0.0");
    assertThat(send("dropped", "m1")).isEqualTo("1.0.0:m1");

    JsonObject ready = api.get("/health/ready", null).expect(200).json();
    JsonObject plugins =
        ready.getJsonArray("checks").stream()
            .map(o -> (JsonObject) o)
            .filter(o -> "plugins".equals(o.getString("id")))
            .findFirst()
            .orElseThrow();
    assertThat(plugins.getJsonObject("data").getJsonObject("channels").getJsonObject("dropped"))
        .isEqualTo(new JsonObject().put("active_version", "1.0.0").put("enabled", true));
    assertThat(api.get("/metrics", null).raw())
        .containsPattern("chat4all_plugins_state\\{channel=\"dropped\",state=\"active\"\\} 1");

    // the admin list shows the node's state of a channel known only from the folder
    JsonObject channel =
        api.get("/v1/admin/plugins/dropped", admin.accessToken()).expect(200).json();
    assertThat(channel.getString("source")).isEqualTo("plugins_dir");
    assertThat(channel.getJsonArray("nodes").getJsonObject(0).getString("state"))
        .isEqualTo("active");
  }

  @Test
  void nonAdminsAreRefusedEverywhere() {
    String t = someone.accessToken();
    api.get("/v1/admin/plugins", t).expectError(403, "forbidden");
    api.get("/v1/admin/plugins/telegram", t).expectError(403, "forbidden");
    upload(someone, PluginJars.connector("sneaky", "1.0.0")).expectError(403, "forbidden");
    api.post("/v1/admin/plugins/telegram/activate", t, new JsonObject().put("version", "1"))
        .expectError(403, "forbidden");
    api.post("/v1/admin/plugins/telegram/rollback", t, null).expectError(403, "forbidden");
    api.post("/v1/admin/plugins/telegram/disable", t, null).expectError(403, "forbidden");
    api.post("/v1/admin/plugins/telegram/enable", t, null).expectError(403, "forbidden");
    api.delete("/v1/admin/plugins/telegram", t).expectError(403, "forbidden");
    api.get("/v1/admin/plugins", null).expectError(401, "unauthenticated");
    assertThat(api.node().connectors().active("sneaky")).isEmpty();
  }

  @Test
  void badUploadsAndUnknownChannelsOrVersionsAreClear4xx() {
    upload(admin, "not a jar at all".getBytes()).expectError(400, "validation_failed");
    upload(admin, PluginJars.truncated(PluginJars.connector("broken", "1.0.0"), 0.5))
        .expectError(400, "validation_failed");
    Api.Res foreign = upload(admin, PluginJars.foreign()).expectError(400, "validation_failed");
    assertThat(foreign.json().getJsonObject("error").getString("message"))
        .contains("no META-INF/chat4all-plugin.json");
    Api.Res pojo =
        upload(
                admin,
                PluginJars.connector(
                    "pojo",
                    "1.0.0",
                    new JsonObject()
                        .put("main_class", "io.chat4all.channel.testconnector.NotAConnector")))
            .expectError(400, "validation_failed");
    assertThat(pojo.json().getJsonObject("error").getString("message"))
        .contains("does not implement");
    upload(admin, new byte[0]).expectError(400, "validation_failed");
    api.raw("POST", "/v1/admin/plugins", admin.accessToken(), "application/json", new byte[] {1})
        .expectError(415, "unsupported_media_type");
    byte[] big =
        PluginJars.rewrite(
            PluginJars.connector("huge", "1.0.0"),
            java.util.Map.of("blob.bin", randomBytes(300_000)));
    upload(admin, big).expectError(413, "payload_too_large");
    api.raw("POST", "/v1/admin/plugins?activate=maybe", admin.accessToken(), JAR, new byte[] {1})
        .expectError(400, "validation_failed");

    String t = admin.accessToken();
    api.get("/v1/admin/plugins/nosuchchannel", t).expectError(404, "not_found");
    api.get("/v1/admin/plugins/Bad%20Id", t).expectError(404, "not_found");
    api.post("/v1/admin/plugins/nosuchchannel/activate", t, new JsonObject().put("version", "1"))
        .expectError(404, "not_found");
    api.post("/v1/admin/plugins/nosuchchannel/disable", t, null).expectError(404, "not_found");
    api.post("/v1/admin/plugins/nosuchchannel/rollback", t, null).expectError(404, "not_found");
    api.delete("/v1/admin/plugins/nosuchchannel", t).expectError(404, "not_found");
    api.call("POST", "/v1/admin/plugins/x1/activate", t, "{nope")
        .expectError(400, "malformed_json");
    api.post("/v1/admin/plugins/x1/activate", t, new JsonObject().put("versio", "1"))
        .expectError(400, "validation_failed");
    // nothing of the refused uploads was stored
    JsonArray channels =
        api.get("/v1/admin/plugins", t).expect(200).json().getJsonArray("channels");
    assertThat(channels.stream().map(o -> ((JsonObject) o).getString("channel")))
        .doesNotContain("broken", "pojo", "huge");
  }

  @Test
  void aVersionNeverActivatedCanBeRemoved() throws Exception {
    String t = admin.accessToken();
    Api.Res up =
        api.raw(
                "POST",
                "/v1/admin/plugins?activate=false",
                t,
                JAR,
                PluginJars.connector("dormant", "1.0.0"))
            .expect(201);
    JsonObject listed = api.get("/v1/admin/plugins/dormant", t).expect(200).json();
    assertThat(listed.getValue("active_version")).isNull();
    JsonObject removed = api.delete("/v1/admin/plugins/dormant", t).expect(200).json();
    assertThat(removed.getInteger("removed_versions")).isEqualTo(1);
    api.get("/v1/admin/plugins/dormant", t).expectError(404, "not_found");
    Path stored =
        dir.resolve("store")
            .resolve(up.json().getJsonObject("version").getString("sha256") + ".jar");
    Await.until("stored copy deleted", Duration.ofSeconds(30), () -> !Files.exists(stored));
  }

  @Test
  void uploadActivateRollBackDisableEnableRemove() throws Exception {
    String t = admin.accessToken();
    Api.Res v1 = upload(admin, PluginJars.connector("cycle", "1.0.0")).expect(201);
    assertThat(v1.json().getBoolean("created")).isTrue();
    assertThat(v1.json().getJsonObject("version").getString("channel")).isEqualTo("cycle");
    awaitActive("cycle", "1.0.0");
    assertThat(send("cycle", "a")).isEqualTo("1.0.0:a");
    // the same bytes again: nothing new
    assertThat(
            upload(admin, PluginJars.connector("cycle", "1.0.0"))
                .expect(200)
                .json()
                .getBoolean("created"))
        .isFalse();
    // other bytes under an uploaded version: refused
    upload(admin, PluginJars.connector("cycle", "1.0.0", new JsonObject().put("name", "other")))
        .expectError(409, "conflict");
    api.post("/v1/admin/plugins/cycle/rollback", t, null).expectError(409, "conflict");

    // uploaded without activating, then activated
    // activate=true is the default
    Api.Res v2 = upload(admin, PluginJars.connector("cycle", "2.0.0")).expect(201);
    awaitActive("cycle", "2.0.0");
    Api.Res v3 =
        api.raw(
                "POST",
                "/v1/admin/plugins?activate=false",
                t,
                JAR,
                PluginJars.connector("cycle", "3.0.0"))
            .expect(201);
    JsonObject c = api.get("/v1/admin/plugins/cycle", t).expect(200).json();
    assertThat(c.getString("active_version")).isEqualTo("2.0.0");
    assertThat(c.getJsonArray("versions").stream().map(o -> ((JsonObject) o).getString("version")))
        .containsExactly("1.0.0", "2.0.0", "3.0.0");
    api.post("/v1/admin/plugins/cycle/activate", t, new JsonObject().put("version", "9.9"))
        .expectError(404, "not_found");
    JsonObject activated =
        api.post("/v1/admin/plugins/cycle/activate", t, new JsonObject().put("version", "3.0.0"))
            .expect(200)
            .json();
    assertThat(activated.getString("active_version")).isEqualTo("3.0.0");
    assertThat(activated.getString("previous_version")).isEqualTo("2.0.0");
    awaitActive("cycle", "3.0.0");

    api.post("/v1/admin/plugins/cycle/rollback", t, null).expect(200);
    awaitActive("cycle", "2.0.0");

    api.post("/v1/admin/plugins/cycle/disable", t, null).expect(200);
    Await.until("cycle disabled", Duration.ofSeconds(60), () -> activeVersion("cycle") == null);
    JsonObject disabled = api.get("/v1/admin/plugins/cycle", t).expect(200).json();
    assertThat(disabled.getBoolean("enabled")).isFalse();
    assertThat(disabled.getJsonArray("nodes").getJsonObject(0).getString("state"))
        .isEqualTo("disabled");
    api.post("/v1/admin/plugins/cycle/enable", t, null).expect(200);
    awaitActive("cycle", "2.0.0");

    JsonObject removed = api.delete("/v1/admin/plugins/cycle", t).expect(200).json();
    assertThat(removed.getInteger("removed_versions")).isEqualTo(3);
    Await.until("cycle removed", Duration.ofSeconds(60), () -> activeVersion("cycle") == null);
    // the node drops its record of the channel a moment after it stops serving it (until then the
    // listing shows it pending, with no versions)
    Await.until(
        "cycle gone from the listing",
        Duration.ofSeconds(60),
        () -> api.get("/v1/admin/plugins/cycle", t).status() == 404);
    api.get("/v1/admin/plugins/cycle", t).expectError(404, "not_found");
    // the stored copies went with it
    Await.until(
        "store emptied of cycle jars",
        Duration.ofSeconds(30),
        () ->
            api.node().pluginHost().snapshot().getJsonArray("plugins").stream()
                .noneMatch(o -> "cycle".equals(((JsonObject) o).getString("channel"))));
    for (Api.Res r : java.util.List.of(v1, v2, v3)) {
      Path stored =
          dir.resolve("store")
              .resolve(r.json().getJsonObject("version").getString("sha256") + ".jar");
      Await.until(
          "stored copy " + stored + " deleted",
          Duration.ofSeconds(30),
          () -> !Files.exists(stored));
    }
  }
}
