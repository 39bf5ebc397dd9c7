package io.chat4all.channels.delivery;

import io.vertx.circuitbreaker.CircuitBreaker;
import io.vertx.circuitbreaker.CircuitBreakerOptions;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per channel, on the delivery verticle's context: its circuit breaker, the lanes whose head is
 * ready, the calls in flight and the records buffered.
 */
final class ChannelState {
  private static final Logger LOG = LoggerFactory.getLogger(DeliveryVerticle.class);

  final String channel;
  final CircuitBreaker breaker;
  final ArrayDeque<Lane> ready = new ArrayDeque<>();
  int inFlight;
  int buffered;
  boolean waitingForConnector;

  ChannelState(String channel, CircuitBreaker breaker) {
    this.channel = channel;
    this.breaker = breaker;
  }

  /**
   * A channel's state with its breaker ({@code channels.delivery.breaker_*}, the send timeout) and
   * gauges; {@code kick} runs on {@code ctx} when the breaker half-opens or closes, to start the
   * attempts that waited for it.
   */
  static ChannelState open(
      Vertx vertx,
      Context ctx,
      String ch,
      DeliveryConfig config,
      DeliveryMetrics metrics,
      Consumer<String> kick) {
    CircuitBreaker breaker =
        CircuitBreaker.create(
            "chat4all-delivery-" + ch,
            vertx,
            new CircuitBreakerOptions()
                .setMaxFailures(config.breakerMaxFailures())
                .setTimeout(config.sendTimeoutMs())
                .setResetTimeout(config.breakerResetMs())
                .setNotificationAddress(null));
    breaker.failurePolicy(BreakerPolicy.INSTANCE);
    breaker.openHandler(v -> LOG.warn("channel {}: provider failing, circuit breaker open", ch));
    breaker.halfOpenHandler(v -> ctx.runOnContext(x -> kick.accept(ch)));
    breaker.closeHandler(
        v ->
            ctx.runOnContext(
                x -> {
                  LOG.info("channel {}: circuit breaker closed", ch);
                  kick.accept(ch);
                }));
    ChannelState cs = new ChannelState(ch, breaker);
    metrics.gauge("buffered", ch, () -> cs.buffered);
    metrics.gauge("waiting", ch, () -> cs.waitingForConnector ? cs.buffered : 0);
    DeliveryTracing.breakerGauge(ch, breaker);
    return cs;
  }
}
