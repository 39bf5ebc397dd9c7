package io.chat4all.node.obs;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Node-level meters: {@code chat4all_ready} (1 while {@code /health/ready} is up, checked every 10
 * s) for the readiness alert.
 */
public final class NodeMetrics {
  static final long CHECK_EVERY_MS = 10_000;

  private NodeMetrics() {}

  public static void register(Vertx vertx, HealthChecks readiness) {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry == null) {
      return;
    }
    AtomicInteger ready = new AtomicInteger();
    Gauge.builder("chat4all.ready", ready, AtomicInteger::get)
        .description("1 while every readiness check of the node passes")
        .register(registry);
    Runnable check =
        () ->
            readiness
                .checkStatus()
                .onComplete(ar -> ready.set(ar.succeeded() && ar.result().getUp() ? 1 : 0));
    check.run();
    vertx.setPeriodic(CHECK_EVERY_MS, t -> check.run());
  }
}
