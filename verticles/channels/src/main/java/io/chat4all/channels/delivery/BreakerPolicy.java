package io.chat4all.channels.delivery;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.chat4all.channels.ConnectorGoneException;
import io.vertx.circuitbreaker.FailurePolicy;
import io.vertx.core.Future;

/**
 * What counts against a channel's circuit breaker: transient provider failures (network errors,
 * 5xx, timeouts, unclassified errors). A refusal of one message (blocked recipient, bad request,
 * media), a rate limit and a connector being replaced say nothing about the provider's health.
 */
final class BreakerPolicy implements FailurePolicy<Object> {
  static final BreakerPolicy INSTANCE = new BreakerPolicy();

  @Override
  public boolean test(Future<Object> f) {
    if (f.succeeded()) {
      return false;
    }
    Throwable t = f.cause();
    if (t instanceof ConnectorGoneException) {
      return false;
    }
    return !(t instanceof ConnectorException ce) || ce.errorClass() == ErrorClass.RETRYABLE;
  }
}
