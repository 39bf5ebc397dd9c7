package io.chat4all.node.cluster;

import io.chat4all.codecs.Addresses;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.spi.cluster.ClusterManager;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Keeps this node's entry in the cluster-wide map {@value #MAP} (node id → ports, start time) and
 * answers pings on {@code chat4all.node.<id>.ping}. {@link #describe()} lists the members and pings
 * each over the event bus: what operators see at {@code /health/cluster}.
 */
public class NodeRegistry extends VerticleBase {
  public static final String MAP = "chat4all.nodes";

  private final String nodeId;
  private final ClusterManager clusterManager;
  private final JsonObject info;
  private AsyncMap<String, JsonObject> nodes;
  private MessageConsumer<JsonObject> ping;

  /**
   * @param clusterManager the cluster manager when clustered, else null
   * @param info what to publish about this node (ports, version)
   */
  public NodeRegistry(String nodeId, ClusterManager clusterManager, JsonObject info) {
    this.nodeId = Objects.requireNonNull(nodeId, "nodeId");
    this.clusterManager = clusterManager;
    this.info = Objects.requireNonNull(info, "info").copy();
  }

  public static String pingAddress(String nodeId) {
    return Addresses.NODE_PING + "." + nodeId;
  }

  /** Adds facts about this node (e.g. bound ports) before it is deployed. */
  public NodeRegistry withInfo(String key, Object value) {
    info.put(key, value);
    return this;
  }

  public String nodeId() {
    return nodeId;
  }

  @Override
  public final Future<?> start() {
    JsonObject entry =
        info.copy().put("node_id", nodeId).put("started_at", Wire.timestamp(Instant.now()));
    ping =
        vertx
            .eventBus()
            .consumer(
                pingAddress(nodeId),
                msg ->
                    msg.reply(
                        new JsonObject()
                            .put("node_id", nodeId)
                            .put("echo", msg.body() == null ? null : msg.body().getValue("echo"))
                            .put("time", Wire.timestamp(Instant.now()))));
    return Future.all(
            ping.completion(),
            vertx.sharedData().<String, JsonObject>getAsyncMap(MAP).onSuccess(m -> nodes = m))
        .compose(v -> nodes.put(nodeId, entry));
  }

  @Override
  public Future<?> stop() {
    List<Future<?>> steps = new ArrayList<>();
    if (nodes != null) {
      steps.add(nodes.remove(nodeId).recover(e -> Future.succeededFuture()));
    }
    if (ping != null) {
      steps.add(ping.unregister());
    }
    return Future.join(steps);
  }

  /** Every member in the map, each pinged over the event bus (2 s timeout). */
  public Future<JsonObject> describe() {
    if (nodes == null) {
      return Future.failedFuture(
          new io.chat4all.codecs.ServiceException(
              io.chat4all.codecs.ErrorCode.UNAVAILABLE, "the node is still starting"));
    }
    return nodes
        .entries()
        .compose(
            entries -> {
              Map<String, JsonObject> sorted = new TreeMap<>(entries);
              if (clusterManager != null) {
                Set<String> live = Set.copyOf(clusterManager.getNodes());
                sorted.keySet().removeIf(id -> !live.contains(id));
              }
              List<Future<JsonObject>> probes = new ArrayList<>();
              for (Map.Entry<String, JsonObject> e : sorted.entrySet()) {
                probes.add(probe(e.getKey(), e.getValue()));
              }
              return Future.join(probes)
                  .map(
                      cf -> {
                        JsonArray members = new JsonArray();
                        boolean allUp = true;
                        for (Future<JsonObject> f : probes) {
                          members.add(f.result());
                          allUp &= f.result().getBoolean("reachable");
                        }
                        return new JsonObject()
                            .put("node_id", nodeId)
                            .put("clustered", clusterManager != null)
                            .put("status", allUp ? "UP" : "DEGRADED")
                            .put("members", members);
                      });
            });
  }

  private Future<JsonObject> probe(String id, JsonObject entry) {
    long t0 = System.nanoTime();
    return vertx
        .eventBus()
        .<JsonObject>request(
            pingAddress(id),
            new JsonObject().put("echo", nodeId),
            new DeliveryOptions().setSendTimeout(2000))
        .map(
            reply ->
                entry
                    .copy()
                    .put("reachable", true)
                    .put("rtt_ms", (System.nanoTime() - t0) / 1_000_000.0))
        .otherwise(err -> entry.copy().put("reachable", false).put("error", err.getMessage()));
  }
}
