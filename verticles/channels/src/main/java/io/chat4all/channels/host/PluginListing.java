package io.chat4all.channels.host;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;

/**
 * What {@code GET /v1/admin/plugins} shows: the cluster's stored versions and desired state
 * (PostgreSQL) joined with every live node's own plugin state (asked over the event bus, 3 s per
 * node).
 */
final class PluginListing {
  private final Vertx vertx;
  private final Pool pg;
  private final PluginHost host;
  private final Supplier<Future<List<String>>> members;

  PluginListing(Vertx vertx, Pool pg, PluginHost host, Supplier<Future<List<String>>> members) {
    this.vertx = vertx;
    this.pg = pg;
    this.host = host;
    this.members = members;
  }

  /** Every node's plugin state (unreachable nodes say so). */
  Future<List<JsonObject>> nodes() {
    return members
        .get()
        .recover(e -> Future.succeededFuture(List.of(host.nodeId())))
        .compose(
            ids -> {
              List<Future<JsonObject>> asks = new ArrayList<>();
              for (String id : ids) {
                asks.add(
                    vertx
                        .eventBus()
                        .<JsonObject>request(
                            PluginHost.nodeAddress(id),
                            null,
                            new DeliveryOptions().setSendTimeout(3000))
                        .map(m -> m.body().copy().put("reachable", true))
                        .otherwise(
                            err ->
                                new JsonObject()
                                    .put("node_id", id)
                                    .put("reachable", false)
                                    .put("error", err.getMessage())));
              }
              return Future.join(asks).map(x -> asks.stream().map(Future::result).toList());
            });
  }

  /** The whole state: every channel (stored or on some node) and every node. */
  Future<JsonObject> list() {
    return Future.all(catalog(), nodes())
        .map(
            all -> {
              Map<String, JsonObject> channels = all.resultAt(0);
              List<JsonObject> nodes = all.resultAt(1);
              return render(channels, nodes, null);
            });
  }

  /** One channel (404 when neither stored nor on any node). */
  Future<JsonObject> describe(String channel) {
    return Future.all(catalog(), nodes())
        .compose(
            all -> {
              JsonObject out = render(all.resultAt(0), all.resultAt(1), channel);
              JsonArray channels = out.getJsonArray("channels");
              return channels.isEmpty()
                  ? Future.failedFuture(PluginAdmin.notFound("no such channel: " + channel))
                  : Future.succeededFuture(channels.getJsonObject(0));
            });
  }

  private Future<Map<String, JsonObject>> catalog() {
    Future<io.vertx.sqlclient.RowSet<Row>> versions =
        pg.query(
                "SELECT sha256, channel, version, name, spi_version, size_bytes, uploaded_by,"
                    + " uploaded_at FROM channel_plugin_versions ORDER BY channel, uploaded_at")
            .execute();
    Future<io.vertx.sqlclient.RowSet<Row>> channels =
        pg.query("SELECT * FROM channel_plugins").execute();
    return Future.all(versions, channels)
        .map(
            x -> {
              Map<String, JsonObject> out = new LinkedHashMap<>();
              Map<String, String> versionOf = new java.util.HashMap<>();
              for (Row r : versions.result()) {
                String ch = r.getString("channel");
                versionOf.put(r.getString("sha256"), r.getString("version"));
                entry(out, ch)
                    .getJsonArray("versions")
                    .add(
                        new JsonObject()
                            .put("version", r.getString("version"))
                            .put("sha256", r.getString("sha256"))
                            .put("name", r.getString("name"))
                            .put("spi_version", r.getString("spi_version"))
                            .put("size_bytes", r.getLong("size_bytes"))
                            .put("uploaded_by", r.getString("uploaded_by"))
                            .put("uploaded_at", r.getOffsetDateTime("uploaded_at").toString()));
              }
              for (Row r : channels.result()) {
                String active = r.getString("active_sha256");
                String previous = r.getString("previous_sha256");
                entry(out, r.getString("channel"))
                    .put("enabled", r.getBoolean("enabled"))
                    .put("source", active == null ? "plugins_dir" : "cluster")
                    .put("active_sha256", active)
                    .put("active_version", active == null ? null : versionOf.get(active))
                    .put("previous_version", previous == null ? null : versionOf.get(previous))
                    .put("revision", r.getLong("revision"))
                    .put("updated_by", r.getString("updated_by"))
                    .put("updated_at", r.getOffsetDateTime("updated_at").toString());
              }
              return out;
            });
  }

  private static JsonObject entry(Map<String, JsonObject> out, String channel) {
    return out.computeIfAbsent(
        channel,
        ch ->
            new JsonObject()
                .put("channel", ch)
                .put("enabled", true)
                .put("source", "plugins_dir")
                .put("active_version", null)
                .put("versions", new JsonArray()));
  }

  private static JsonObject render(
      Map<String, JsonObject> catalog, List<JsonObject> nodes, String only) {
    TreeSet<String> names = new TreeSet<>(catalog.keySet());
    for (JsonObject n : nodes) {
      for (Object o : n.getJsonArray("channels", new JsonArray())) {
        names.add(((JsonObject) o).getString("channel"));
      }
    }
    JsonArray channels = new JsonArray();
    for (String ch : names) {
      if (only != null && !only.equals(ch)) {
        continue;
      }
      JsonObject c =
          catalog.containsKey(ch) ? catalog.get(ch).copy() : entry(new LinkedHashMap<>(), ch);
      JsonArray perNode = new JsonArray();
      for (JsonObject n : nodes) {
        perNode.add(nodeView(n, ch));
      }
      channels.add(c.put("nodes", perNode));
    }
    JsonArray nodeList = new JsonArray();
    nodes.forEach(n -> nodeList.add(n.copy()));
    return new JsonObject().put("channels", channels).put("nodes", nodeList);
  }

  /** What one node does for one channel: its state, active version and last error. */
  private static JsonObject nodeView(JsonObject node, String channel) {
    JsonObject v = new JsonObject().put("node_id", node.getString("node_id"));
    if (!node.getBoolean("reachable", false)) {
      return v.put("reachable", false)
          .put("state", "unknown")
          .put("last_error", node.getString("error"));
    }
    JsonObject c = null;
    for (Object o : node.getJsonArray("channels", new JsonArray())) {
      if (channel.equals(((JsonObject) o).getString("channel"))) {
        c = (JsonObject) o;
      }
    }
    v.put("reachable", true);
    if (c == null) {
      return v.put("state", "absent").put("active_version", null);
    }
    String wanted = c.getString("wanted_sha256");
    JsonObject rec = null;
    for (Object o : node.getJsonArray("plugins", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      if (wanted != null && wanted.equals(p.getString("sha256"))) {
        rec = p;
      }
    }
    String state =
        rec != null
            ? rec.getString("state")
            : c.getString("active_version") != null ? "active" : "pending";
    return v.put("state", state)
        .put("active_version", c.getString("active_version"))
        .put("wanted_version", c.getString("wanted_version"))
        .put("enabled", c.getBoolean("enabled"))
        .put("last_error", rec == null ? null : rec.getString("last_error"));
  }
}
