package io.chat4all.channel.meta;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/** A paused stream of one buffer, delivered once resumed. */
final class InMemoryStream implements ReadStream<Buffer> {
  private final Vertx vertx;
  private final Buffer bytes;
  private Handler<Buffer> handler;
  private Handler<Void> end;
  private boolean sent;

  InMemoryStream(Vertx vertx, Buffer bytes) {
    this.vertx = vertx;
    this.bytes = bytes;
  }

  @Override
  public ReadStream<Buffer> exceptionHandler(Handler<Throwable> h) {
    return this;
  }

  @Override
  public ReadStream<Buffer> handler(Handler<Buffer> h) {
    handler = h;
    return this;
  }

  @Override
  public ReadStream<Buffer> pause() {
    return this;
  }

  @Override
  public ReadStream<Buffer> resume() {
    if (!sent) {
      sent = true;
      vertx.runOnContext(
          v -> {
            handler.handle(bytes);
            if (end != null) {
              end.handle(null);
            }
          });
    }
    return this;
  }

  @Override
  public ReadStream<Buffer> fetch(long amount) {
    return resume();
  }

  @Override
  public ReadStream<Buffer> endHandler(Handler<Void> h) {
    end = h;
    return this;
  }
}
