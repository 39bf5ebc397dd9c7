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
 *
 * <p>A node that stops cleanly removes its entry. One that crashed leaves it behind: every node
 * checks the map against the cluster's members each second and marks such an entry {@code
 * missing_since}; it stays listed (the cluster {@code DEGRADED}) until a node with the same {@code
 * stable_id} ({@code node.id}, else the fixed cluster address) starts again, or an operator
 * {@linkplain #forget removes it}.
 */
public class NodeRegistry extends VerticleBase {
  public static final String MAP = "chat4all.nodes";

  private final String nodeId;
  private final ClusterManager clusterManager;
  private final JsonObject info;
  private AsyncMap<String, JsonObject> nodes;
  private MessageConsumer<JsonObject> ping;
  private long sweepTimer = -1;

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
        .compose(v -> replacePreviousSelf(entry))
        .compose(v -> nodes.put(nodeId, entry))
        .onSuccess(
            v -> {
              if (clusterManager != null) {
                sweepTimer = vertx.setPeriodic(1000, t -> markMissing());
              }
            });
  }

  /** The entry a crash of this node (same stable id, another node id) left behind goes. */
  private Future<Void> replacePreviousSelf(JsonObject entry) {
    String address = entry.getString("stable_id");
    if (address == null) {
      return Future.succeededFuture();
    }
    return nodes
        .entries()
        .compose(
            all -> {
              List<Future<?>> removed = new ArrayList<>();
              all.forEach(
                  (id, e) -> {
                    if (!id.equals(nodeId) && address.equals(e.getString("stable_id"))) {
                      removed.add(nodes.remove(id));
                    }
                  });
              return Future.join(removed).mapEmpty();
            });
  }

  /** Marks entries of members that left the cluster without removing them; unmarks returns. */
  private void markMissing() {
    if (clusterManager == null) {
      return;
    }
    nodes
        .entries()
        .onSuccess(
            all -> {
              Set<String> live = Set.copyOf(clusterManager.getNodes());
              all.forEach(
                  (id, e) -> {
                    boolean marked = e.containsKey("missing_since");
                    if (!live.contains(id) && !marked) {
                      nodes.replaceIfPresent(
                          id, e, e.copy().put("missing_since", Wire.timestamp(Instant.now())));
                    } else if (live.contains(id) && marked) {
                      JsonObject back = e.copy();
                      back.remove("missing_since");
                      nodes.replaceIfPresent(id, e, back);
                    }
                  });
            });
  }

  /**
   * An operator's removal of a member's entry: only one that is no longer in the cluster (409 while
   * it is, 404 when there is no such entry).
   */
  public Future<Void> forget(String id) {
    if (nodes == null) {
      return Future.failedFuture(
          new io.chat4all.codecs.ServiceException(
              io.chat4all.codecs.ErrorCode.UNAVAILABLE, "the node is still starting"));
    }
    if (id.equals(nodeId) || (clusterManager != null && clusterManager.getNodes().contains(id))) {
      return Future.failedFuture(
          new io.chat4all.codecs.ServiceException(
              io.chat4all.codecs.ErrorCode.CONFLICT,
              "member " + id + " is in the cluster; only a member that left can be removed"));
    }
    return nodes
        .remove(id)
        .compose(
            old ->
                old == null
                    ? Future.failedFuture(
                        new io.chat4all.codecs.ServiceException(
                            io.chat4all.codecs.ErrorCode.NOT_FOUND, "no member " + id))
                    : Future.succeededFuture());
  }

  @Override
  public Future<?> stop() {
    List<Future<?>> steps = new ArrayList<>();
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    if (nodes != null) {
      steps.add(nodes.remove(nodeId).recover(e -> Future.succeededFuture()));
    }
    if (ping != null) {
      steps.add(ping.unregister());
    }
    return Future.join(steps);
  }

  /**
   * Every member in the map, each pinged over the event bus (2 s timeout); members that left the
   * cluster without removing their entry are listed {@code "state":"missing"} with {@code
   * missing_since}, and not pinged.
   */
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
              Set<String> live =
                  clusterManager != null ? Set.copyOf(clusterManager.getNodes()) : Set.of(nodeId);
              List<Future<JsonObject>> probes = new ArrayList<>();
              for (Map.Entry<String, JsonObject> e : sorted.entrySet()) {
                if (live.contains(e.getKey())) {
                  JsonObject current = e.getValue().copy();
                  current.remove("missing_since");
                  probes.add(probe(e.getKey(), current.put("state", "up")));
                } else if (clusterManager != null) {
                  JsonObject gone = e.getValue().copy();
                  if (!gone.containsKey("missing_since")) {
                    gone.put("missing_since", Wire.timestamp(Instant.now()));
                  }
                  probes.add(
                      Future.succeededFuture(
                          gone.put("state", "missing")
                              .put("reachable", false)
                              .put("error", "left the cluster without stopping")));
                }
              }
              return Future.join(probes)
                  .map(
                      cf -> {
                        JsonArray members = new JsonArray();
                        JsonArray missing = new JsonArray();
                        boolean allUp = true;
                        for (Future<JsonObject> f : probes) {
                          members.add(f.result());
                          allUp &= f.result().getBoolean("reachable");
                          if ("missing".equals(f.result().getString("state"))) {
                            missing.add(f.result().getString("node_id"));
                          }
                        }
                        return new JsonObject()
                            .put("node_id", nodeId)
                            .put("clustered", clusterManager != null)
                            .put("status", allUp ? "UP" : "DEGRADED")
                            .put("missing", missing)
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
        .otherwise(
            err ->
                entry
                    .copy()
                    .put("state", "unreachable")
                    .put("reachable", false)
                    .put("error", err.getMessage()));
  }
}
