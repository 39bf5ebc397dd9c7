package io.chat4all.node.settings;

import io.chat4all.web.RuntimeSettings;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this node's {@link RuntimeSettings} in step with PostgreSQL: reads them before the node
 * serves (so a node started after a change has it), again on every {@value #CHANGED} notice (the
 * admin API publishes one after each committed change, cluster-wide), and every {@code
 * runtime.reconcile_interval_ms} as a safety net for a missed notice or a change written straight
 * to the database (the CLI's create-admin).
 */
public final class SettingsSync extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(SettingsSync.class);

  /** Published cluster-wide after a change: {@code {kind, name, version}}. */
  public static final String CHANGED = "chat4all.settings.changed";

  private final SettingsStore store;
  private final RuntimeSettings settings;
  private final long intervalMs;
  private MessageConsumer<JsonObject> consumer;
  private long timer = -1;
  private Future<Void> reading;

  public SettingsSync(SettingsStore store, RuntimeSettings settings, long intervalMs) {
    this.store = store;
    this.settings = settings;
    this.intervalMs = intervalMs;
  }

  @Override
  public Future<?> start() {
    consumer = vertx.eventBus().consumer(CHANGED, msg -> refresh());
    timer = vertx.setPeriodic(intervalMs, t -> refresh());
    return consumer.completion().compose(x -> refresh());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return consumer == null ? Future.succeededFuture() : consumer.unregister();
  }

  /** Re-reads the settings (one read at a time; a request during one runs after it). */
  public Future<Void> refresh() {
    Future<Void> before = reading == null ? Future.succeededFuture() : reading;
    Future<Void> next =
        before
            .transform(x -> store.load())
            .map(
                snapshot -> {
                  long was = settings.snapshot().revision();
                  if (settings.apply(snapshot) && snapshot.revision() != was) {
                    LOG.info("runtime settings at revision {}", snapshot.revision());
                  }
                  return (Void) null;
                })
            .onFailure(err -> LOG.warn("cannot read the runtime settings: {}", err.toString()));
    reading = next;
    return next;
  }
}
