package io.chat4all.node.obs;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.jmx.JmxMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.web.RoutingContext;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.VertxJmxMetricsOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.List;

/**
 * Every meter goes to Prometheus ({@code /metrics}) and to JMX (domain {@code chat4all}): one
 * composite registry over both, handed to Vert.x (its own options would pick only one backend). The
 * registry is the process's default one: several nodes in one JVM share it.
 */
public final class MetricsRegistries {
  public static final String JMX_DOMAIN = "chat4all";

  private MetricsRegistries() {}

  /** The metrics factory for a new Vert.x instance. */
  public static MicrometerMetricsFactory factory() {
    MeterRegistry existing = BackendRegistries.getDefaultNow();
    if (existing != null) {
      return new MicrometerMetricsFactory(existing);
    }
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    JmxMeterRegistry jmx =
        new JmxMeterRegistry(
            new VertxJmxMetricsOptions()
                .setEnabled(true)
                .setDomain(JMX_DOMAIN)
                .toMicrometerConfig(),
            Clock.SYSTEM);
    return new MicrometerMetricsFactory(
        new CompositeMeterRegistry(Clock.SYSTEM, List.of(prometheus, jmx)));
  }

  /** {@code GET /metrics}: the Prometheus text of the default registry. */
  public static void scrape(RoutingContext ctx) {
    PrometheusMeterRegistry prometheus = prometheus(BackendRegistries.getDefaultNow());
    if (prometheus == null) {
      ctx.response().setStatusCode(503).end();
      return;
    }
    ctx.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(prometheus.scrape());
  }

  private static PrometheusMeterRegistry prometheus(MeterRegistry r) {
    if (r instanceof PrometheusMeterRegistry p) {
      return p;
    }
    if (r instanceof CompositeMeterRegistry c) {
      for (MeterRegistry child : c.getRegistries()) {
        PrometheusMeterRegistry p = prometheus(child);
        if (p != null) {
          return p;
        }
      }
    }
    return null;
  }
}
