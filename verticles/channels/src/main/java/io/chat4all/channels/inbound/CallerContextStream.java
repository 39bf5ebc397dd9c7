package io.chat4all.channels.inbound;

import io.chat4all.channel.spi.support.AbortableStream;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.streams.ReadStream;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A connector's stream as its caller sees it: every item, the end and an error reach the caller's
 * handlers on the caller's context, in the order the source emitted them, whatever context the
 * source emits on. A connector's download (its HTTP response) runs on the connector's own context;
 * the caller writes what it reads into storage bound to its own context and keeps its own state
 * (bytes left, the write queue's drain) without locks, which is only safe if all of it happens on
 * one thread. Flow control ({@code pause}, {@code resume}, {@code fetch}) goes straight to the
 * source, whose Vert.x queue takes it from any thread; an item already on its way when the caller
 * pauses still arrives.
 */
final class CallerContextStream<T> implements AbortableStream<T> {
  private final ReadStream<T> source;
  private final Context caller;
  private final Context emitter;

  /** Events handed to the caller's context and not yet delivered; a direct one must wait behind. */
  private final AtomicInteger queued = new AtomicInteger();

  private volatile Handler<T> handler;
  private volatile Handler<Void> endHandler;
  private volatile Handler<Throwable> exceptionHandler;
  private volatile boolean aborted;

  /**
   * @param emitter the context the source emits on (the connector's), where an {@link #abort} of
   *     the source runs; null when unknown (it then runs where it is called)
   */
  CallerContextStream(ReadStream<T> source, Context caller, Context emitter) {
    this.source = source;
    this.caller = caller;
    this.emitter = emitter;
  }

  private void emit(Runnable delivery) {
    if (Vertx.currentContext() == caller && queued.get() == 0) {
      if (!aborted) {
        delivery.run();
      }
      return;
    }
    queued.incrementAndGet();
    caller.runOnContext(
        v -> {
          queued.decrementAndGet();
          if (!aborted) {
            delivery.run();
          }
        });
  }

  /**
   * Gives the download up: nothing more reaches the caller's handlers; an abortable source is
   * aborted on its own context (its connection let go), any other is drained and its bytes dropped.
   */
  @Override
  public void abort() {
    if (aborted) {
      return;
    }
    aborted = true;
    if (source instanceof AbortableStream<T> a) {
      if (emitter == null || Vertx.currentContext() == emitter) {
        a.abort();
      } else {
        emitter.runOnContext(v -> a.abort());
      }
    } else {
      source.handler(null);
      source.resume();
    }
  }

  @Override
  public ReadStream<T> handler(Handler<T> h) {
    handler = h;
    if (h == null) {
      source.handler(null);
    } else {
      source.handler(
          item ->
              emit(
                  () -> {
                    Handler<T> now = handler;
                    if (now != null) {
                      now.handle(item);
                    }
                  }));
    }
    return this;
  }

  @Override
  public ReadStream<T> endHandler(Handler<Void> h) {
    endHandler = h;
    source.endHandler(
        h == null
            ? null
            : v ->
                emit(
                    () -> {
                      Handler<Void> now = endHandler;
                      if (now != null) {
                        now.handle(null);
                      }
                    }));
    return this;
  }

  @Override
  public ReadStream<T> exceptionHandler(Handler<Throwable> h) {
    exceptionHandler = h;
    source.exceptionHandler(
        h == null
            ? null
            : err ->
                emit(
                    () -> {
                      Handler<Throwable> now = exceptionHandler;
                      if (now != null) {
                        now.handle(err);
                      }
                    }));
    return this;
  }

  @Override
  public ReadStream<T> pause() {
    source.pause();
    return this;
  }

  @Override
  public ReadStream<T> resume() {
    source.resume();
    return this;
  }

  @Override
  public ReadStream<T> fetch(long amount) {
    source.fetch(amount);
    return this;
  }
}
