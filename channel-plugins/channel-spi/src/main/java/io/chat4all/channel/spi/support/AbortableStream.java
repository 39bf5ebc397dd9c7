package io.chat4all.channel.spi.support;

import io.vertx.core.streams.ReadStream;

/**
 * A download the host may give up before its end: {@link #abort} stops it and lets its connection
 * go (for an HTTP response, resets the request), so an attachment the host no longer wants — its
 * storage failed, it stalled, it was refused — does not hold a provider connection until an idle
 * timeout. Call it on the context the stream emits on. {@link LimitedStream} is one.
 */
public interface AbortableStream<T> extends ReadStream<T> {

  /** Stops the download: no more items, no end and no error are emitted after it. */
  void abort();
}
