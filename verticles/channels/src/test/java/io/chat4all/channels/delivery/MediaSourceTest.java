package io.chat4all.channels.delivery;

import static org.assertj.core.api.Assertions.assertThat;

import io.chat4all.codecs.HttpClientDefaults;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.PoolOptions;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reading a file from storage never waits without bound: not on a server that never answers, and
 * not on pooled connections the server closes just as requests are put on them (with Vert.x 5.0.7's
 * HTTP/1 client alone, about one such request in 600 was neither answered nor failed).
 */
class MediaSourceTest {
  static final long IDLE_MS = 1000;

  Vertx vertx;
  HttpClientAgent http;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
    http =
        vertx.createHttpClient(
            new HttpClientOptions()
                .setKeepAlive(true)
                .setKeepAliveTimeout(HttpClientDefaults.KEEP_ALIVE_TIMEOUT_SECONDS),
            new PoolOptions().setHttp1MaxSize(1));
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  int listen(HttpServer server) throws Exception {
    return server
        .listen(0)
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS)
        .actualPort();
  }

  @Test
  void aStorageThatNeverAnswersFailsTheReadWithinItsIdleTimeout() throws Exception {
    int port = listen(vertx.createHttpServer().requestHandler(req -> {}));
    MediaSource media = new MediaSource(vertx, http, 3600, IDLE_MS);
    long t0 = System.nanoTime();
    CompletableFuture<Throwable> failed = new CompletableFuture<>();
    media
        .open("http://127.0.0.1:" + port + "/bucket/object")
        .onComplete(ar -> failed.complete(ar.cause()));
    Throwable cause = failed.get(IDLE_MS + 10_000, TimeUnit.MILLISECONDS);
    assertThat(cause).as("the read of a storage that never answers").isNotNull();
    assertThat(Duration.ofNanos(System.nanoTime() - t0))
        .isGreaterThanOrEqualTo(Duration.ofMillis(IDLE_MS - 50));
  }
}
