package io.chat4all.channels.host;

import io.chat4all.channel.spi.OutboundMessage;
import io.chat4all.channels.ActiveConnector;
import io.chat4all.testkit.Await;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/** A plugin host on its own Vert.x and folders, for host tests without a node. */
final class HostFixture implements AutoCloseable {
  final Vertx vertx = Vertx.vertx();
  final Path dataDir;
  final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  final List<String> changes = new CopyOnWriteArrayList<>();
  final List<JsonObject> lifecycle = new CopyOnWriteArrayList<>();
  PluginHost host;

  HostFixture(Path dataDir) {
    this.dataDir = dataDir;
    Await.result(
        vertx
            .eventBus()
            .<JsonObject>consumer("test.connector.lifecycle", m -> lifecycle.add(m.body()))
            .completion());
  }

  /** Starts the host; {@code channels} is merged over fast test settings. */
  PluginHost start(JsonObject channels) {
    JsonObject c =
        new JsonObject()
            .put("scan_interval_ms", 100)
            .put("start_timeout_ms", 10_000)
            .put("stop_timeout_ms", 5_000)
            .put("drain_timeout_ms", 10_000)
            .mergeIn(channels, true);
    JsonObject node = new JsonObject().put("data_dir", dataDir.toString()).put("channels", c);
    host = new PluginHost(HostConfig.from(node), "test-node", null, meters, Clock.systemUTC());
    host.onChange(changes::add);
    Await.result(vertx.deployVerticle(host));
    return host;
  }

  Path plugins() {
    return host.hostConfig().pluginsDir();
  }

  Optional<ActiveConnector> active(String channel) {
    return host.active(channel);
  }

  String activeVersion(String channel) {
    return host.active(channel).map(ActiveConnector::version).orElse(null);
  }

  void awaitActive(String channel, String version) {
    Await.until(
        channel + " " + version + " active; state " + host.snapshot().encode(),
        Duration.ofSeconds(30),
        () -> version.equals(activeVersion(channel)));
  }

  /**
   * {@link #awaitActive}, then forgets the changes so far: the switch's own change notice comes a
   * moment after the new version is visible, so it is awaited before they are cleared.
   */
  void awaitActiveAndForgetChanges(String channel, String version) {
    awaitActive(channel, version);
    Await.until(
        channel + " change notice", Duration.ofSeconds(30), () -> changes.contains(channel));
    changes.clear();
  }

  /** The first plugin record matching {@code p}, if any. */
  Optional<JsonObject> plugin(Predicate<JsonObject> p) {
    JsonArray plugins = host.snapshot().getJsonArray("plugins");
    return plugins.stream().map(o -> (JsonObject) o).filter(p).findFirst();
  }

  JsonObject awaitPlugin(String what, Predicate<JsonObject> p) {
    Await.until(
        what + "; state " + host.snapshot().encode(),
        Duration.ofSeconds(30),
        () -> plugin(p).isPresent());
    return plugin(p).orElseThrow();
  }

  static Predicate<JsonObject> version(String channel, String version, String state) {
    return o ->
        channel.equals(o.getString("channel"))
            && version.equals(o.getString("version"))
            && state.equals(o.getString("state"));
  }

  static OutboundMessage message(String id) {
    return new OutboundMessage(
        id,
        UUID.randomUUID().toString(),
        "sender",
        "Sender",
        "recipient",
        "chat-1",
        "hello",
        null,
        null,
        null,
        null,
        1);
  }

  /** Sends one message through the channel's active connector; the provider id. */
  String send(String channel, String id) {
    ActiveConnector a = host.active(channel).orElseThrow();
    return Await.result(a.call(c -> c.send(message(id)))).providerMessageIds().get(0);
  }

  @Override
  public void close() {
    try {
      if (host != null && host.deploymentID() != null) {
        Await.result(vertx.undeploy(host.deploymentID()), Duration.ofSeconds(30));
      }
    } finally {
      Await.result(vertx.close(), Duration.ofSeconds(30));
    }
  }
}
