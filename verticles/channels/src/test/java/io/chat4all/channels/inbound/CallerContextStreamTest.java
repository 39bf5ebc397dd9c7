package io.chat4all.channels.inbound;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.channel.spi.support.LimitedStream;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.internal.VertxInternal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A download read on one context (the connector's HTTP client) and consumed on another (the inbound
 * consumer): every byte, the end and the consumer's pauses land on the consumer's context, in
 * order, with nothing lost between a pause and a resume.
 */
class CallerContextStreamTest {
  Vertx vertx;
  HttpServer server;
  byte[] body;
  CompletableFuture<Void> serverSawClose = new CompletableFuture<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    body = new byte[3 * 1024 * 1024 + 17];
    new Random(5).nextBytes(body);
    server =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  req.connection().closeHandler(v -> serverSawClose.complete(null));
                  req.response().end(Buffer.buffer(body));
                })
            .listen(0, "127.0.0.1")
            .await();
  }

  @AfterEach
  void stop() {
    vertx.close().await();
  }

  @Test
  void eventsOfAStreamFromAnotherContextArriveOnTheCallersContextInOrder() throws Exception {
    Context[] loops = twoLoops();
    Context connector = loops[0];
    Context onConsumer = loops[1];
    HttpClientResponse resp = fetch(connector);

    List<String> wrongThreads = Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Buffer> read = new CompletableFuture<>();
    onConsumer.runOnContext(
        v -> {
          Thread own = Thread.currentThread();
          CallerContextStream<Buffer> stream =
              new CallerContextStream<>(resp, onConsumer, connector);
          Buffer got = Buffer.buffer();
          int[] items = {0};
          stream.handler(
              buf -> {
                if (Thread.currentThread() != own || Vertx.currentContext() != onConsumer) {
                  wrongThreads.add("item on " + Thread.currentThread().getName());
                }
                got.appendBuffer(buf);
                // pause now and then and resume a little later, as a writer with a full queue does
                if (++items[0] % 7 == 0) {
                  stream.pause();
                  vertx.setTimer(1, t -> stream.resume());
                }
              });
          stream.exceptionHandler(read::completeExceptionally);
          stream.endHandler(
              x -> {
                if (Thread.currentThread() != own) {
                  wrongThreads.add("end on " + Thread.currentThread().getName());
                }
                read.complete(got);
              });
          stream.resume();
        });

    Buffer got = read.get(60, TimeUnit.SECONDS);
    assertThat(wrongThreads).isEmpty();
    assertThat(got.getBytes()).isEqualTo(body);
  }

  /** A GET of the body started on {@code connector}; the response, paused. */
  private HttpClientResponse fetch(Context connector) throws Exception {
    HttpClientAgent http = vertx.createHttpClient();
    CompletableFuture<HttpClientResponse> response = new CompletableFuture<>();
    connector.runOnContext(
        v ->
            http.request(
                    new RequestOptions()
                        .setMethod(HttpMethod.GET)
                        .setHost("127.0.0.1")
                        .setPort(server.actualPort())
                        .setURI("/media"))
                .compose(req -> req.send())
                .onSuccess(
                    resp -> {
                      resp.pause();
                      response.complete(resp);
                    })
                .onFailure(response::completeExceptionally));
    return response.get(30, TimeUnit.SECONDS);
  }

  /** Two event-loop contexts on different threads (new contexts take the event loops in turn). */
  private Context[] twoLoops() throws Exception {
    VertxInternal internal = (VertxInternal) vertx;
    Context one = internal.createEventLoopContext();
    Context two = internal.createEventLoopContext();
    for (int i = 0; i < 16 && threadOf(one) == threadOf(two); i++) {
      two = internal.createEventLoopContext();
    }
    assertThat(threadOf(one)).isNotEqualTo(threadOf(two));
    return new Context[] {one, two};
  }

  @Test
  void anAbortedDownloadDeliversNothingMoreAndLetsItsConnectionGo() throws Exception {
    Context[] loops = twoLoops();
    Context connector = loops[0];
    Context consumer = loops[1];
    HttpClientResponse resp = fetch(connector);
    LimitedStream limited = new LimitedStream(resp, body.length, () -> resp.request().reset());
    CompletableFuture<Integer> itemsAtAbort = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicInteger items =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean ended =
        new java.util.concurrent.atomic.AtomicBoolean();
    consumer.runOnContext(
        v -> {
          CallerContextStream<Buffer> stream =
              new CallerContextStream<>(limited, consumer, connector);
          stream.handler(
              buf -> {
                if (items.incrementAndGet() == 1) {
                  stream.abort();
                  itemsAtAbort.complete(items.get());
                }
              });
          stream.endHandler(x -> ended.set(true));
          stream.exceptionHandler(e -> ended.set(true));
          stream.resume();
        });
    assertThat(itemsAtAbort.get(30, TimeUnit.SECONDS)).isEqualTo(1);
    // the connection is let go (the request reset), not kept open for its idle timeout
    serverSawClose.get(10, TimeUnit.SECONDS);
    CompletableFuture<Void> drained = new CompletableFuture<>();
    consumer.runOnContext(x -> drained.complete(null));
    drained.get(10, TimeUnit.SECONDS);
    assertThat(items.get()).isEqualTo(1);
    assertThat(ended.get()).isFalse();
  }

  private static Thread threadOf(Context context) throws Exception {
    CompletableFuture<Thread> t = new CompletableFuture<>();
    context.runOnContext(v -> t.complete(Thread.currentThread()));
    return t.get(10, TimeUnit.SECONDS);
  }
}
