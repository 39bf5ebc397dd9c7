package io.chat4all.channels.delivery;

import io.chat4all.codecs.Tracing;
import io.chat4all.web.obs.Meters;
import io.micrometer.core.instrument.Gauge;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Delivery's spans and the meters shared with the rest of the message path: the {@code connector
 * send} span (child of the send's trace, carried by the outbound record's {@code traceparent}),
 * stored→delivered latency and the breaker state gauge ({@code 0} closed, {@code 1} half open,
 * {@code 2} open).
 */
final class DeliveryTracing {
  private DeliveryTracing() {}

  static SpanContext parent(Vertx vertx, KafkaConsumerRecord<String, String> r) {
    if (!Tracing.enabled(vertx) || r.headers() == null) {
      return null;
    }
    return Tracing.remoteParent(
        vertx,
        key -> {
          for (KafkaHeader h : r.headers()) {
            if (key.equals(h.key()) && h.value() != null) {
              return h.value().toString();
            }
          }
          return null;
        });
  }

  static <T> Future<T> connectorCall(Item item, Supplier<Future<T>> call) {
    Vertx vertx = Vertx.currentContext() == null ? null : Vertx.currentContext().owner();
    return Tracing.childOf(
        vertx,
        item.trace,
        "connector send " + item.channel,
        SpanKind.CLIENT,
        Map.of("chat4all.channel", item.channel, "chat4all.message_id", item.messageId()),
        call);
  }

  static void delivered(Item item, Instant at) {
    String storedAt = item.record.getString("stored_at");
    if (storedAt == null) {
      return;
    }
    try {
      Meters.delivered(item.channel, Duration.between(Instant.parse(storedAt), at));
    } catch (RuntimeException unparsable) {
      // a record without a readable stored_at has no latency
    }
  }

  static void breakerGauge(String channel, CircuitBreaker breaker) {
    Gauge.builder(
            Meters.BREAKER_STATE,
            breaker,
            b ->
                switch (b.state()) {
                  case CLOSED -> 0;
                  case HALF_OPEN -> 1;
                  case OPEN -> 2;
                })
        .description("Circuit breaker of the channel's provider: 0 closed, 1 half open, 2 open")
        .tag("channel", channel)
        .strongReference(true)
        .register(Meters.registry());
  }
}
