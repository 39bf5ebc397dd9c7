package io.chat4all.channels.host;

import io.chat4all.channels.ActiveConnector;
import io.chat4all.channels.ConnectorRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The plugin host of one node and its {@link ConnectorRegistry}. It watches the plugins folder
 * ({@link DropFolder}), follows the cluster's desired state ({@link DesiredState}: re-read on a
 * {@value #CHANGED} notice and periodically), and converges each channel on the jar it should run:
 * load, start, switch once healthy, drain and unload the one replaced. One lifecycle pass per
 * channel runs at a time; all state lives on this verticle's context.
 *
 * <p>The wanted jar of a channel is the cluster's when it names one, else the jar of that channel
 * most recently taken from the plugins folder; the cluster can disable a channel either way.
 */
public final class PluginHost extends VerticleBase implements ConnectorRegistry {
  private static final Logger LOG = LoggerFactory.getLogger(PluginHost.class);

  /** Published (cluster-wide) after an admin change: {@code {channel, retry}}. */
  public static final String CHANGED = "chat4all.plugins.changed";

  /** Each node answers its plugin state here. */
  public static String nodeAddress(String nodeId) {
    return "chat4all.plugins.node." + nodeId;
  }

  private final HostConfig config;
  private final String nodeId;
  private final DesiredState cluster;
  private final PluginMetrics metrics;
  private final MeterRegistry registry;
  private final Clock clock;
  private final ContentStore store;
  private final DropFolder folder;

  private final Map<String, HostedConnector> active = new ConcurrentHashMap<>();
  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private volatile JsonObject published = new JsonObject();

  // host-context state
  private final PluginRecords records = new PluginRecords();
  private Map<String, DesiredState.Want> wanted = Map.of();
  private final Map<String, Future<Void>> queue = new HashMap<>();
  private final Set<String> pending = new HashSet<>();
  private final Set<String> retry = new HashSet<>();
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private ContextInternal here;
  private long scans;
  private Future<Void> scanning;
  private long scanTimer = -1;
  private long reconcileTimer = -1;

  /**
   * @param cluster the cluster's desired state, or null for a node that only follows its folder
   * @param registry where the state gauge goes (null: no metrics)
   */
  public PluginHost(
      HostConfig config, String nodeId, DesiredState cluster, MeterRegistry registry, Clock clock) {
    this.config = config;
    this.nodeId = nodeId;
    this.cluster = cluster;
    this.registry = registry;
    this.metrics = new PluginMetrics(registry);
    this.clock = clock;
    this.store = new ContentStore(config.storeDir());
    this.folder = new DropFolder(config.pluginsDir(), store, config.maxJarBytes());
  }

  public HostConfig hostConfig() {
    return config;
  }

  io.vertx.core.Vertx vertx() {
    return vertx;
  }

  public String nodeId() {
    return nodeId;
  }

  public ContentStore store() {
    return store;
  }

  // --- ConnectorRegistry ---

  @Override
  public Optional<ActiveConnector> active(String channel) {
    return Optional.ofNullable(active.get(channel));
  }

  @Override
  public Set<String> activeChannels() {
    return Set.copyOf(active.keySet());
  }

  @Override
  public void onChange(Consumer<String> listener) {
    listeners.add(listener);
  }

  private void fire(String channel) {
    for (Consumer<String> l : listeners) {
      try {
        l.accept(channel);
      } catch (RuntimeException e) {
        LOG.warn("a connector change listener failed for {}", channel, e);
      }
    }
  }

  // --- verticle ---

  @Override
  public Future<?> start() {
    here = (ContextInternal) context;
    MessageConsumer<JsonObject> changed =
        vertx
            .eventBus()
            .consumer(
                CHANGED,
                msg -> {
                  JsonObject b = msg.body() == null ? new JsonObject() : msg.body();
                  String channel = b.getString("channel");
                  if (channel != null && b.getBoolean("retry", false)) {
                    retry.add(channel);
                  }
                  reconcile();
                });
    MessageConsumer<JsonObject> status =
        vertx.eventBus().consumer(nodeAddress(nodeId), msg -> msg.reply(snapshot()));
    consumers.add(changed);
    consumers.add(status);
    scanTimer = vertx.setPeriodic(config.scanIntervalMs(), t -> scan());
    if (cluster != null) {
      reconcileTimer = vertx.setPeriodic(config.reconcileIntervalMs(), t -> reconcile());
    }
    publish();
    return Future.all(changed.completion(), status.completion())
        .onSuccess(
            x -> {
              scan();
              reconcile();
            });
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(scanTimer);
    vertx.cancelTimer(reconcileTimer);
    List<Future<?>> steps = new ArrayList<>();
    consumers.forEach(c -> steps.add(c.unregister()));
    for (String channel : List.copyOf(active.keySet())) {
      HostedConnector h = active.remove(channel);
      if (h != null) {
        fire(channel);
        steps.add(retire(h, PluginState.STOPPED, "node stopping"));
      }
    }
    return Future.join(steps);
  }

  // --- scanning the folder ---

  /** One scan of the plugins folder; completes when its changes have been applied. */
  public Future<Void> scanNow() {
    return onHost(() -> scanning == null ? scan() : scanning.transform(x -> scan()));
  }

  /** Re-reads the cluster's desired state; completes when every channel has converged. */
  public Future<Void> reconcileNow() {
    return onHost(() -> reconcile());
  }

  /**
   * Stored copies of versions the cluster forgot (a removed channel): the next scan deletes those
   * no record or desired state still uses.
   */
  public Future<Void> forgetCopies(java.util.Collection<String> shas) {
    Set<String> copy = Set.copyOf(shas);
    return onHost(
        () -> {
          records.forgetCopies(copy);
          return Future.succeededFuture();
        });
  }

  private Future<Void> onHost(java.util.function.Supplier<Future<Void>> step) {
    Promise<Void> p = Promise.promise();
    here.runOnContext(v -> step.get().onComplete(p));
    return p.future();
  }

  private Future<Void> scan() {
    if (scanning != null) {
      return scanning;
    }
    Promise<Void> done = here.promise();
    scanning = done.future();
    Set<String> delete = records.copiesToDelete(wanted.values());
    here.<DropFolder.Changes>executeBlocking(
            () -> {
              delete.forEach(store::delete);
              return folder.scan();
            },
            false)
        .onComplete(
            ar -> {
              scans++;
              Set<String> touched = new TreeSet<>();
              if (ar.failed()) {
                LOG.warn("scanning {} failed: {}", folder.dir(), ar.cause().getMessage());
              } else {
                records.apply(ar.result(), touched, wanted.values(), folder.dir());
              }
              scanning = null;
              publish();
              Future.join(touched.stream().map(this::converge).toList())
                  .onComplete(x -> done.complete());
            });
    return done.future();
  }

  // --- the cluster's desired state ---

  private Future<Void> reconcile() {
    if (cluster == null) {
      Set<String> channels = new TreeSet<>(active.keySet());
      return Future.join(channels.stream().map(this::converge).toList()).mapEmpty();
    }
    Promise<Void> done = here.promise();
    cluster
        .load()
        .onComplete(
            ar -> {
              here.runOnContext(
                  v -> {
                    if (ar.failed()) {
                      LOG.warn(
                          "reading the cluster's plugin state failed: {}", ar.cause().getMessage());
                      done.complete();
                      return;
                    }
                    wanted = Map.copyOf(ar.result());
                    for (PluginRecord r : records.values()) {
                      DesiredState.Want w = r.channel() == null ? null : wanted.get(r.channel());
                      if (w == null || !r.sha256.equals(w.sha256())) {
                        r.sources.remove("cluster");
                      }
                    }
                    records.prune(wanted.values());
                    Set<String> channels = new TreeSet<>(wanted.keySet());
                    channels.addAll(active.keySet());
                    Future.join(channels.stream().map(this::converge).toList())
                        .onComplete(x -> done.complete());
                  });
            });
    return done.future();
  }

  // --- converging one channel ---

  /** Queues one convergence pass for the channel (coalesced while one is already queued). */
  private Future<Void> converge(String channel) {
    Future<Void> prev = queue.getOrDefault(channel, Future.succeededFuture());
    if (!pending.add(channel)) {
      return queue.get(channel);
    }
    Future<Void> next =
        prev.transform(
            x -> {
              pending.remove(channel);
              return Lifecycle.converge(this, channel)
                  .recover(
                      err -> {
                        LOG.warn("converging {} failed", channel, err);
                        return Future.succeededFuture();
                      })
                  .onComplete(y -> publish());
            });
    queue.put(channel, next);
    next.onComplete(
        x -> {
          if (queue.get(channel) == next) {
            queue.remove(channel);
          }
        });
    return next;
  }

  /** What the channel should run now (null: nothing). */
  DesiredState.Want want(String channel) {
    DesiredState.Want w = wanted.get(channel);
    if (w != null && !configEnabled(channel)) {
      w = new DesiredState.Want(channel, w.sha256(), w.version(), false);
    }
    if (w != null && w.sha256() != null) {
      return w;
    }
    boolean enabled = (w == null || w.enabled()) && configEnabled(channel);
    PluginRecord newest = records.newestDropped(channel);
    if (newest != null) {
      return new DesiredState.Want(channel, newest.sha256, newest.version(), enabled);
    }
    return w;
  }

  /** {@code channels.<channel>.enabled: false} switches a channel off on this node. */
  private boolean configEnabled(String channel) {
    Object v = config.channel(channel).getValue("enabled");
    return v == null || !(v.equals(Boolean.FALSE) || "false".equalsIgnoreCase(v.toString().trim()));
  }

  boolean fromCluster(String channel) {
    DesiredState.Want w = wanted.get(channel);
    return w != null && w.sha256() != null;
  }

  boolean takeRetry(String channel) {
    return retry.remove(channel);
  }

  PluginRecord record(String id) {
    return records.get(id);
  }

  PluginRecord putRecord(PluginRecord r) {
    return records.putIfAbsent(r);
  }

  void replaceRecord(PluginRecord r) {
    records.put(r);
  }

  HostedConnector current(String channel) {
    return active.get(channel);
  }

  DesiredState cluster() {
    return cluster;
  }

  ContextInternal here() {
    return here;
  }

  Clock clock() {
    return clock;
  }

  MeterRegistry registry() {
    return registry;
  }

  /** Makes {@code h} the channel's active connector; the one it replaces is retired. */
  void switchTo(String channel, HostedConnector h, PluginRecord r) {
    HostedConnector old = active.put(channel, h);
    r.to(PluginState.ACTIVE, null);
    LOG.info("channel {} now served by {} {}", channel, h.version(), h.sha256().substring(0, 12));
    publish();
    fire(channel);
    if (old != null && old != h) {
      retire(old, PluginState.STOPPED, null);
    }
  }

  /** Takes the channel's active connector out of service (removed or disabled). */
  Future<Void> deactivate(String channel, PluginState finalState, String why) {
    HostedConnector h = active.remove(channel);
    if (h == null) {
      return Future.succeededFuture();
    }
    LOG.info("channel {} no longer served ({})", channel, why);
    publish();
    fire(channel);
    return retire(h, finalState, null);
  }

  /** Drains, stops and unloads a connector that no longer takes work. */
  Future<Void> retire(HostedConnector h, PluginState finalState, String note) {
    PluginRecord r = records.get(h.sha256());
    if (r != null && r.retiring != null) {
      return r.retiring;
    }
    Promise<Void> done = here.promise();
    if (r != null) {
      r.to(PluginState.DRAINING, null);
      r.retiring = done.future();
    }
    publish();
    h.drain(config.drainTimeoutMs())
        .compose(
            left ->
                ConnectorLoader.undeploy(vertx, h, config.stopTimeoutMs())
                    .map(
                        stopError ->
                            left > 0
                                ? "drain timed out with " + left + " calls in flight"
                                : stopError))
        .onComplete(
            ar ->
                here.runOnContext(
                    v -> {
                      if (r != null) {
                        r.hosted = null;
                        r.retiring = null;
                        String err = ar.succeeded() ? ar.result() : ar.cause().getMessage();
                        r.to(finalState, err == null ? note : err);
                      }
                      records.prune(wanted.values());
                      publish();
                      done.complete();
                    }));
    return done.future();
  }

  // --- state for operators ---

  /** Recomputes the published snapshot and the gauges (host context). */
  void publish() {
    metrics.update(records.values());
    published = HostSnapshot.build(this, records.values(), active, wanted.keySet(), scans);
  }

  /** This node's plugin state (safe from any thread). */
  public JsonObject snapshot() {
    return published.copy();
  }

  /** Completed scans of the plugins folder. */
  public long scans() {
    return published.getLong("scans", 0L);
  }

  /** The short form for {@code /health/ready}: per channel its active version, failed jars. */
  public JsonObject readiness() {
    return HostSnapshot.readiness(published);
  }
}
