package io.chat4all.channel.spi.support;

import io.chat4all.channel.spi.ConnectorException;
import io.chat4all.channel.spi.ErrorClass;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A byte stream that ends with an error (and aborts its source) once more than {@code max} bytes
 * arrive, so an attachment that is larger than announced cannot fill the host's storage; the host
 * may also {@link #abort} it.
 */
public final class LimitedStream implements AbortableStream<Buffer> {
  private final ReadStream<Buffer> source;
  private final long max;
  private final Runnable abort;
  private long seen;
  private boolean failed;
  private Handler<Throwable> exceptionHandler;
  private Handler<Buffer> handler;
  private Handler<Void> endHandler;

  public LimitedStream(ReadStream<Buffer> source, long max, Runnable abort) {
    this.source = source;
    this.max = max;
    this.abort = abort;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
    exceptionHandler = h;
    source.exceptionHandler(
        err -> {
          if (!failed && exceptionHandler != null) {
            exceptionHandler.handle(err);
          }
        });
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> h) {
    handler = h;
    if (h == null) {
      source.handler(null);
      return this;
    }
    source.handler(
        buf -> {
          if (failed) {
            return;
          }
          seen += buf.length();
          if (seen > max) {
            failed = true;
            source.pause();
            abort.run();
            if (exceptionHandler != null) {
              exceptionHandler.handle(
                  ConnectorException.of(
                      ErrorClass.MEDIA_REJECTED,
                      null,
                      "the file is larger than the " + max + " bytes allowed"));
            }
            return;
          }
          handler.handle(buf);
        });
    return this;
  }

  @Override
  public void abort() {
    if (!failed) {
      failed = true;
      source.pause();
      abort.run();
    }
  }

  @Override
  public ReadStream<Buffer> pause() {
    source.pause();
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    source.resume();
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    source.fetch(amount);
    return this;
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> h) {
    endHandler = h;
    source.endHandler(
        v -> {
          if (!failed && endHandler != null) {
            endHandler.handle(null);
          }
        });
    return this;
  }
}
