package io.chat4all.webhooks;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Webhook meters (Prometheus names): {@code chat4all_webhook_deliveries_total{outcome}} (delivered,
 * retry, dead), {@code chat4all_webhook_delivery_latency_seconds} (event → 2xx, histogram), {@code
 * chat4all_webhook_attempt_duration_seconds}, {@code chat4all_webhook_queue_depth{webhook_id}}
 * (pending deliveries, cluster-wide) and {@code chat4all_webhook_disabled_total}.
 */
final class WebhookMetrics {
  private final Counter delivered;
  private final Counter retry;
  private final Counter dead;
  private final Counter disabled;
  private final Timer latency;
  private final Timer attempt;
  private final MultiGauge queue;

  WebhookMetrics() {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    if (registry == null) {
      registry = Metrics.globalRegistry;
    }
    delivered = outcome(registry, "delivered");
    retry = outcome(registry, "retry");
    dead = outcome(registry, "dead");
    disabled =
        Counter.builder("chat4all.webhook.disabled")
            .description("Webhooks disabled because their deliveries kept failing")
            .register(registry);
    latency =
        Timer.builder("chat4all.webhook.delivery.latency")
            .description("From the event to its successful delivery")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofHours(24))
            .register(registry);
    attempt =
        Timer.builder("chat4all.webhook.attempt.duration")
            .description("One delivery attempt, resolution to answer")
            .register(registry);
    queue =
        MultiGauge.builder("chat4all.webhook.queue.depth")
            .description("Pending deliveries per webhook (cluster-wide)")
            .register(registry);
  }

  private static Counter outcome(MeterRegistry registry, String outcome) {
    return Counter.builder("chat4all.webhook.deliveries")
        .description("Delivery attempts by outcome")
        .tag("outcome", outcome)
        .register(registry);
  }

  void attempted(WebhookSender.Outcome o, String result, long eventToNowMs) {
    attempt.record(Duration.ofMillis(o.durationMs()));
    switch (result) {
      case DeliveryStore.DELIVERED -> {
        delivered.increment();
        latency.record(Duration.ofMillis(Math.max(0, eventToNowMs)));
      }
      case DeliveryStore.DEAD -> dead.increment();
      default -> retry.increment();
    }
  }

  void disabled() {
    disabled.increment();
  }

  void queueDepths(Map<String, Long> depths) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    depths.forEach((id, n) -> rows.add(MultiGauge.Row.of(Tags.of("webhook_id", id), n)));
    queue.register(rows, true);
  }
}
