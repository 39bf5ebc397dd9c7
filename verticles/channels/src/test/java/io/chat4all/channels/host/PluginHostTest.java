package io.chat4all.channels.host;

import static io.chat4all.channels.host.HostFixture.version;
import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.testkit.Await;
import io.chat4all.testkit.PluginJars;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin host against its plugins folder: add, refuse, replace, fail, remove. */
class PluginHostTest {
  @TempDir Path dir;
  HostFixture f;

  @AfterEach
  void stop() {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void aJarDroppedIntoTheFolderOfARunningHostBecomesActive() throws Exception {
    f = new HostFixture(dir);
    f.start(
        new JsonObject()
            .put("public_base_url", "https://chat.example.test/")
            .put(
                "alpha",
                new JsonObject()
                    .put("send_delay_ms", 1)
                    .put("webhook_secret", "s3cret-value")
                    .put("bot_token", "123:undeclared-token")));
    assertThat(f.active("alpha")).isEmpty();

    PluginJars.drop(f.plugins(), "alpha.jar", PluginJars.connector("alpha", "1.0.0"));
    f.awaitActive("alpha", "1.0.0");

    assertThat(f.send("alpha", "m1")).isEqualTo("1.0.0:m1");
    Await.until("the change announced", Duration.ofSeconds(10), () -> f.changes.size() == 1);
    assertThat(f.changes).containsExactly("alpha");
    assertThat(f.host.activeChannels()).containsExactly("alpha");
    JsonObject rec = f.plugin(version("alpha", "1.0.0", "active")).orElseThrow();
    assertThat(rec.getJsonArray("sources").getList()).containsExactly("file:alpha.jar");
    // loaded from the private content-addressed copy, never from the drop folder
    String sha = rec.getString("sha256");
    assertThat(Files.exists(f.host.store().path(sha))).isTrue();
    assertThat(((HostedConnector) f.active("alpha").orElseThrow()).loader().getURLs()[0].getPath())
        .endsWith(sha + ".jar");

    // the connector saw its settings without the secrets, the secret through secret()
    JsonObject started =
        f.lifecycle.stream().filter(e -> "started".equals(e.getString("event"))).findFirst().get();
    JsonObject config = started.getJsonObject("config");
    assertThat(config.getLong("send_delay_ms")).isEqualTo(1L);
    assertThat(config.getString("mode")).isEqualTo("ok");
    assertThat(config.containsKey("webhook_secret")).isFalse();
    assertThat(config.containsKey("bot_token")).isFalse();
    assertThat(started.getBoolean("has_webhook_secret")).isTrue();
    assertThat(started.getString("webhook_url"))
        .isEqualTo("https://chat.example.test/webhooks/alpha");
    assertThat(f.host.snapshot().encode()).doesNotContain("s3cret-value", "undeclared-token");

    // the gauge says one active jar for the channel
    assertThat(
            f.meters
                .get(PluginMetrics.GAUGE)
                .tags("channel", "alpha", "state", "active")
                .gauge()
                .value())
        .isEqualTo(1.0);
  }

  @Test
  void aJarCopiedSlowlyInPiecesIsLoadedOnceAfterItIsComplete() throws Exception {
    f = new HostFixture(dir);
    // the timer is off: the test drives every scan itself
    f.start(new JsonObject().put("scan_interval_ms", 3_600_000));
    byte[] jar = PluginJars.connector("slow", "1.0.0");
    Path target = f.plugins().resolve("slow.jar");
    Files.createDirectories(f.plugins());
    int pieces = 6;
    int step = jar.length / pieces + 1;
    for (int off = 0; off < jar.length; off += step) {
      Files.write(
          target,
          Arrays.copyOfRange(jar, off, Math.min(jar.length, off + step)),
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
      // each scan sees a new size: the jar is never taken half-written
      Await.result(f.host.scanNow());
      assertThat(f.host.snapshot().getJsonArray("plugins")).isEmpty();
      assertThat(f.active("slow")).isEmpty();
    }
    // complete: the next scan sees the same size and time as the last one
    Await.result(f.host.scanNow());
    Await.result(f.host.scanNow());
    assertThat(f.activeVersion("slow")).isEqualTo("1.0.0");
    assertThat(f.send("slow", "m")).isEqualTo("1.0.0:m");
    assertThat(f.host.snapshot().getJsonArray("plugins")).hasSize(1);
    assertThat(
            f.lifecycle.stream()
                .filter(e -> "started".equals(e.getString("event")))
                .map(e -> e.getString("version")))
        .containsExactly("1.0.0");
  }

  @Test
  void brokenOrForeignJarsAreRefusedWithAReasonAndNothingElseChanges() throws Exception {
    f = new HostFixture(dir);
    f.start(new JsonObject());
    PluginJars.drop(f.plugins(), "alpha-1.jar", PluginJars.connector("alpha", "1.0.0"));
    f.awaitActiveAndForgetChanges("alpha", "1.0.0");

    PluginJars.drop(
        f.plugins(), "cut.jar", PluginJars.truncated(PluginJars.connector("alpha", "2.0.0"), 0.6));
    PluginJars.drop(f.plugins(), "library.jar", PluginJars.foreign());
    PluginJars.drop(
        f.plugins(),
        "fat.jar",
        PluginJars.bundling("alpha", "3.0.0", "io/vertx/core/Sneaky.class"));
    PluginJars.drop(
        f.plugins(),
        "future.jar",
        PluginJars.connector("alpha", "4.0.0", new JsonObject().put("spi_version", "1.2")));
    assertThat(
            f.awaitPlugin("cut.jar failed", o -> has(o, "file:cut.jar") && failed(o))
                .getString("last_error"))
        .contains("not a valid jar");
    assertThat(
            f.awaitPlugin("library.jar failed", o -> has(o, "file:library.jar") && failed(o))
                .getString("last_error"))
        .contains("no META-INF/chat4all-plugin.json");
    assertThat(
            f.awaitPlugin("fat.jar failed", o -> has(o, "file:fat.jar") && failed(o))
                .getString("last_error"))
        .contains("bundles io/vertx/core/Sneaky.class");
    assertThat(
            f.awaitPlugin("future.jar failed", o -> has(o, "file:future.jar") && failed(o))
                .getString("last_error"))
        .contains("built for SPI 1.2");

    // a main class that is no connector, and a connector whose descriptor() disagrees with its jar
    PluginJars.drop(
        f.plugins(),
        "pojo.jar",
        PluginJars.connector(
            "alpha",
            "5.0.0",
            new JsonObject().put("main_class", "io.chat4all.channel.testconnector.NotAConnector")));
    assertThat(
            f.awaitPlugin("pojo.jar failed", version("alpha", "5.0.0", "failed"))
                .getString("last_error"))
        .contains("does not implement io.chat4all.channel.spi.ChannelConnector");
    Files.delete(f.plugins().resolve("pojo.jar"));
    PluginJars.drop(
        f.plugins(),
        "liar.jar",
        PluginJars.connector("alpha", "6.0.0", new JsonObject().put("test_claims_version", "9")));
    assertThat(
            f.awaitPlugin("liar.jar failed", version("alpha", "6.0.0", "failed"))
                .getString("last_error"))
        .contains("descriptor() says alpha 9 but the jar's");

    assertThat(f.activeVersion("alpha")).isEqualTo("1.0.0");
    assertThat(f.send("alpha", "still")).isEqualTo("1.0.0:still");
    assertThat(f.changes).isEmpty();
    assertThat(f.lifecycle.stream().filter(e -> "stopped".equals(e.getString("event")))).isEmpty();
  }

  private static boolean has(JsonObject o, String source) {
    return o.getJsonArray("sources").contains(source);
  }

  private static boolean failed(JsonObject o) {
    return "failed".equals(o.getString("state"));
  }

  @Test
  void aNewVersionThatFailsToStartOrIsUnhealthyLeavesTheOldOneServing() throws Exception {
    f = new HostFixture(dir);
    f.start(
        new JsonObject()
            .put(
                "beta",
                new JsonObject()
                    .put("fail_start_versions", "3.0.0")
                    .put("unhealthy_versions", "4.0.0")));
    PluginJars.drop(f.plugins(), "beta-2.jar", PluginJars.connector("beta", "2.0.0"));
    f.awaitActiveAndForgetChanges("beta", "2.0.0");

    PluginJars.drop(f.plugins(), "beta-3.jar", PluginJars.connector("beta", "3.0.0"));
    assertThat(
            f.awaitPlugin("v3 failed", version("beta", "3.0.0", "failed")).getString("last_error"))
        .contains("start failed")
        .contains("fail_start_versions");
    assertThat(f.activeVersion("beta")).isEqualTo("2.0.0");
    assertThat(f.send("beta", "after-v3")).isEqualTo("2.0.0:after-v3");

    PluginJars.drop(f.plugins(), "beta-4.jar", PluginJars.connector("beta", "4.0.0"));
    assertThat(
            f.awaitPlugin("v4 failed", version("beta", "4.0.0", "failed")).getString("last_error"))
        .contains("not healthy");
    assertThat(f.activeVersion("beta")).isEqualTo("2.0.0");
    assertThat(f.send("beta", "after-v4")).isEqualTo("2.0.0:after-v4");
    assertThat(f.changes).isEmpty();
    // v4 was started, found unhealthy and stopped again; v2 never stopped
    Await.until(
        "v4 stopped",
        Duration.ofSeconds(10),
        () ->
            f.lifecycle.stream()
                .anyMatch(
                    e ->
                        "stopped".equals(e.getString("event"))
                            && "4.0.0".equals(e.getString("version"))));
    assertThat(
            f.lifecycle.stream()
                .filter(
                    e ->
                        "stopped".equals(e.getString("event"))
                            && "2.0.0".equals(e.getString("version"))))
        .isEmpty();
  }

  @Test
  void removingTheJarLeavesTheChannelWithoutAConnector() throws Exception {
    f = new HostFixture(dir);
    f.start(new JsonObject());
    Path jar = PluginJars.drop(f.plugins(), "gamma.jar", PluginJars.connector("gamma", "1.0.0"));
    f.awaitActive("gamma", "1.0.0");
    String sha = f.plugin(version("gamma", "1.0.0", "active")).orElseThrow().getString("sha256");

    Files.delete(jar);
    Await.until("gamma gone", Duration.ofSeconds(30), () -> f.active("gamma").isEmpty());
    // the registry changes first, then the listeners hear of it
    Await.until("the removal announced", Duration.ofSeconds(10), () -> f.changes.size() == 2);
    assertThat(f.changes).containsExactly("gamma", "gamma");
    Await.until(
        "record and stored copy forgotten",
        Duration.ofSeconds(30),
        () ->
            f.plugin(o -> sha.equals(o.getString("sha256"))).isEmpty()
                && !Files.exists(f.host.store().path(sha)));

    // added again: served again
    PluginJars.drop(f.plugins(), "gamma.jar", PluginJars.connector("gamma", "1.0.0"));
    f.awaitActive("gamma", "1.0.0");
    assertThat(f.send("gamma", "back")).isEqualTo("1.0.0:back");
  }

  @Test
  void dotFilesAndTmpFilesAreIgnored() throws Exception {
    f = new HostFixture(dir);
    f.start(new JsonObject().put("scan_interval_ms", 3_600_000));
    byte[] jar = PluginJars.connector("delta", "1.0.0");
    Files.createDirectories(f.plugins());
    Files.write(f.plugins().resolve(".delta.jar"), jar);
    Files.write(f.plugins().resolve("delta.jar.tmp"), jar);
    Files.write(f.plugins().resolve("delta.tmp"), jar);
    for (int i = 0; i < 3; i++) {
      Await.result(f.host.scanNow());
    }
    assertThat(f.host.snapshot().getJsonArray("plugins")).isEmpty();
    assertThat(f.active("delta")).isEmpty();
    Files.move(f.plugins().resolve("delta.tmp"), f.plugins().resolve("delta.jar"));
    Await.result(f.host.scanNow());
    Await.result(f.host.scanNow());
    assertThat(f.activeVersion("delta")).isEqualTo("1.0.0");
  }
}
