package io.chat4all.channels.delivery;

import io.chat4all.channel.spi.ConnectorException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Delivery's meters (Prometheus {@code /metrics}, JMX): {@code chat4all.delivery.sent}, {@code
 * .failed} (by reason), {@code .retried}, {@code .skipped} (redeliveries of finished sends), {@code
 * .provider.calls} (timer by outcome), and the gauges {@code .buffered} (records read, not done)
 * and {@code .waiting} (records waiting for a connector), all tagged with the channel.
 */
final class DeliveryMetrics {
  private final MeterRegistry registry = BackendRegistries.getDefaultNow();

  void sent(String channel) {
    if (registry != null) {
      registry.counter("chat4all.delivery.sent", "channel", channel).increment();
    }
  }

  void failed(String channel, String reason) {
    if (registry != null) {
      registry
          .counter("chat4all.delivery.failed", "channel", channel, "reason", reason)
          .increment();
    }
  }

  void retried(String channel) {
    if (registry != null) {
      registry.counter("chat4all.delivery.retried", "channel", channel).increment();
    }
  }

  void skipped(String channel) {
    if (registry != null) {
      registry.counter("chat4all.delivery.skipped", "channel", channel).increment();
    }
  }

  void call(String channel, long startedNanos, Throwable failure) {
    if (registry == null) {
      return;
    }
    String outcome =
        failure == null
            ? "ok"
            : failure instanceof ConnectorException ce
                ? ce.errorClass().name().toLowerCase(Locale.ROOT)
                : failure.getClass().getSimpleName();
    if (failure != null) {
      io.chat4all.web.obs.Meters.connectorError(channel, outcome);
    }
    Timer.builder("chat4all.delivery.provider.calls")
        .tags("channel", channel, "outcome", outcome)
        .register(registry)
        .record(Duration.ofNanos(System.nanoTime() - startedNanos));
  }

  void gauge(String name, String channel, Supplier<Number> value) {
    if (registry != null) {
      Gauge.builder("chat4all.delivery." + name, value).tags("channel", channel).register(registry);
    }
  }
}
