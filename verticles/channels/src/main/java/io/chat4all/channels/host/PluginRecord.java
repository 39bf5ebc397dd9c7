package io.chat4all.channels.host;

import io.chat4all.channel.spi.PluginDescriptor;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one node knows of one jar (by content hash): its descriptor (null when unreadable), where it
 * came from, its lifecycle state and the last error. Changed only on the host's context.
 */
final class PluginRecord {
  final String sha256;
  final PluginDescriptor descriptor;
  private final String channelHint;
  private final String versionHint;
  final Set<String> sources = new TreeSet<>();
  PluginState state = PluginState.DISCOVERED;
  String lastError;
  Instant since = Instant.now();
  HostedConnector hosted;
  Future<Void> retiring;
  long size;

  PluginRecord(String sha256, PluginDescriptor descriptor, long size) {
    this(sha256, descriptor, size, null, null);
  }

  /** A record whose channel and version are known before its jar is (a cluster jar). */
  PluginRecord(
      String sha256, PluginDescriptor descriptor, long size, String channel, String version) {
    this.sha256 = sha256;
    this.descriptor = descriptor;
    this.size = size;
    this.channelHint = channel;
    this.versionHint = version;
  }

  String channel() {
    return descriptor == null ? channelHint : descriptor.channel();
  }

  String version() {
    return descriptor == null ? versionHint : descriptor.version();
  }

  void to(PluginState next, String error) {
    state = next;
    lastError = error;
    since = Instant.now();
  }

  void fail(String reason) {
    to(PluginState.FAILED, reason);
  }

  JsonObject toJson() {
    JsonObject o =
        new JsonObject()
            .put("sha256", sha256)
            .put("channel", channel())
            .put("version", version())
            .put("name", descriptor == null ? null : descriptor.name())
            .put("state", state.wireName())
            .put("last_error", lastError)
            .put("since", since.toString())
            .put("size_bytes", size)
            .put("sources", new JsonArray(java.util.List.copyOf(sources)));
    if (hosted != null) {
      o.put("in_flight", hosted.inFlight());
    }
    return o;
  }
}
