package io.chat4all.channels.host;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The JSON of one node's plugin state (built on the host's context after every change). */
final class HostSnapshot {
  private HostSnapshot() {}

  static JsonObject build(
      PluginHost host,
      java.util.Collection<PluginRecord> records,
      Map<String, HostedConnector> active,
      Set<String> wanted,
      long scans) {
    JsonArray channels = new JsonArray();
    Set<String> names = new TreeSet<>(active.keySet());
    records.stream().map(PluginRecord::channel).filter(c -> c != null).forEach(names::add);
    names.addAll(wanted);
    for (String ch : names) {
      HostedConnector h = active.get(ch);
      DesiredState.Want w = host.want(ch);
      channels.add(
          new JsonObject()
              .put("channel", ch)
              .put("active_version", h == null ? null : h.version())
              .put("active_sha256", h == null ? null : h.sha256())
              .put("in_flight", h == null ? 0 : h.inFlight())
              .put("wanted_version", w == null ? null : w.version())
              .put("wanted_sha256", w == null ? null : w.sha256())
              .put("enabled", w == null || w.enabled())
              .put("source", host.fromCluster(ch) ? "cluster" : w == null ? null : "plugins_dir"));
    }
    JsonArray plugins = new JsonArray();
    records.forEach(r -> plugins.add(r.toJson()));
    return new JsonObject()
        .put("node_id", host.nodeId())
        .put("plugins_dir", host.hostConfig().pluginsDir().toAbsolutePath().toString())
        .put("scans", scans)
        .put("channels", channels)
        .put("plugins", plugins);
  }

  /** The short form for {@code /health/ready}: per channel its active version and state. */
  static JsonObject readiness(JsonObject snap) {
    JsonObject out = new JsonObject();
    for (Object o : snap.getJsonArray("channels", new JsonArray())) {
      JsonObject c = (JsonObject) o;
      out.put(
          c.getString("channel"),
          new JsonObject()
              .put("active_version", c.getString("active_version"))
              .put("enabled", c.getBoolean("enabled")));
    }
    JsonArray failed = new JsonArray();
    for (Object o : snap.getJsonArray("plugins", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      if ("failed".equals(p.getString("state"))) {
        failed.add(
            new JsonObject()
                .put("channel", p.getString("channel"))
                .put("version", p.getString("version"))
                .put("sources", p.getJsonArray("sources"))
                .put("last_error", p.getString("last_error")));
      }
    }
    return new JsonObject().put("channels", out).put("failed", failed);
  }
}
