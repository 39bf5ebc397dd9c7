package io.chat4all.channels;

import io.chat4all.channel.spi.ChannelConnector;
import io.chat4all.channel.spi.ConnectorDescriptor;
import io.vertx.core.Future;
import java.util.function.Function;

/**
 * A started connector as the host hands it out. Every call goes through {@link #call} or {@link
 * #callNow}: the host runs it on the connector's own deployment context and counts it in flight, so
 * a replacement or removal can drain the calls in flight before stopping the connector.
 */
public interface ActiveConnector {

  String channel();

  String version();

  ConnectorDescriptor descriptor();

  /**
   * Runs an asynchronous connector call (send, poll, fetchMedia, health) on the connector's
   * context. Fails with {@link ConnectorGoneException} when this connector no longer takes new work
   * (it is draining or stopped): the caller retries with the registry's new active connector, or
   * waits.
   */
  <T> Future<T> call(Function<ChannelConnector, Future<T>> fn);

  /**
   * As {@link #call}, for a call whose result is still read from the connector afterwards (the
   * download {@code fetchMedia} hands over): once it has succeeded it stays counted in flight until
   * {@code heldUntil} completes, so a replacement's drain waits for the download to be read (up to
   * {@code channels.drain_timeout_ms}) instead of stopping the connector under it.
   */
  <T> Future<T> call(Function<ChannelConnector, Future<T>> fn, Future<?> heldUntil);

  /**
   * Runs a pure connector call (handshake, authenticate, parse) on the caller's thread; counted in
   * flight the same way. Throws {@link ConnectorGoneException} like {@link #call}.
   */
  <T> T callNow(Function<ChannelConnector, T> fn);
}
