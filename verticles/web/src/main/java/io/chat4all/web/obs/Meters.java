package io.chat4all.web.obs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.vertx.micrometer.backends.BackendRegistries;
import java.time.Duration;

/**
 * The message-path meters, with their names in one place (they are an interface: dashboards and
 * alerts query them; see docs/operations.md). Micrometer names; Prometheus adds {@code _total} to
 * counters and {@code _seconds} to timers. All go to {@code /metrics} and JMX.
 */
public final class Meters {
  public static final String ACCEPTED = "chat4all.messages.accepted";
  public static final String PROCESSED = "chat4all.messages.processed";
  public static final String FAILED = "chat4all.messages.failed";
  public static final String SEND_TO_STORED = "chat4all.message.send_to_stored";
  public static final String STORED_TO_DELIVERED = "chat4all.message.stored_to_delivered";
  public static final String CONNECTOR_ERRORS = "chat4all.connector.errors";
  public static final String BREAKER_STATE = "chat4all.connector.breaker.state";
  public static final String CONSUMER_LAG = "chat4all.consumer.lag";
  public static final String UPLOAD_BYTES = "chat4all.upload.bytes";
  public static final String SOCKETS_ACTIVE = "chat4all.sockets.active";
  public static final String PRESENCE_ONLINE = "chat4all.presence.online";

  /** Channel tag of messages written by clients through the API (REST, gRPC, WebSocket). */
  public static final String API = "api";

  private Meters() {}

  /** The node's registry (Prometheus and JMX), or the global one outside a node. */
  public static MeterRegistry registry() {
    MeterRegistry r = BackendRegistries.getDefaultNow();
    return r == null ? Metrics.globalRegistry : r;
  }

  /** A send written to Kafka (the API answered it). */
  public static void accepted(String channel) {
    Counter.builder(ACCEPTED)
        .description("Sends written to Kafka, by the channel they came from")
        .tag("channel", orApi(channel))
        .register(registry())
        .increment();
  }

  /** A send stored and numbered by the pipeline, with its send→stored time. */
  public static void processed(String channel, Duration sendToStored) {
    String ch = orApi(channel);
    Counter.builder(PROCESSED)
        .description("Sends stored by the pipeline, by the channel they came from")
        .tag("channel", ch)
        .register(registry())
        .increment();
    if (sendToStored != null && !sendToStored.isNegative()) {
      Timer.builder(SEND_TO_STORED)
          .description("From the accepted send (created_at) to the stored message")
          .tag("channel", ch)
          .publishPercentileHistogram()
          .minimumExpectedValue(Duration.ofMillis(1))
          .maximumExpectedValue(Duration.ofMinutes(5))
          .register(registry())
          .record(sendToStored);
    }
  }

  /** A message that could not be processed (a dead-lettered send, a failed channel delivery). */
  public static void failed(String channel, String stage) {
    Counter.builder(FAILED)
        .description("Messages given up, by channel and stage (pipeline, delivery)")
        .tag("channel", orApi(channel))
        .tag("stage", stage)
        .register(registry())
        .increment();
  }

  /** A stored message reached its recipient ({@code channel}: a connector, or websocket). */
  public static void delivered(String channel, Duration storedToDelivered) {
    if (storedToDelivered == null || storedToDelivered.isNegative()) {
      return;
    }
    Timer.builder(STORED_TO_DELIVERED)
        .description("From the stored message to the provider accepting it / the live push")
        .tag("channel", channel)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofHours(1))
        .register(registry())
        .record(storedToDelivered);
  }

  /** A connector call that failed, by error class. */
  public static void connectorError(String channel, String errorClass) {
    Counter.builder(CONNECTOR_ERRORS)
        .description("Failed connector calls by channel and error class")
        .tag("channel", channel)
        .tag("error_class", errorClass)
        .register(registry())
        .increment();
  }

  /** Bytes of upload chunks stored. */
  public static void uploaded(long bytes) {
    Counter.builder(UPLOAD_BYTES)
        .description("Bytes of file-upload chunks stored in S3")
        .baseUnit("bytes")
        .register(registry())
        .increment(bytes);
  }

  private static String orApi(String channel) {
    return channel == null || channel.isBlank() ? API : channel;
  }
}
