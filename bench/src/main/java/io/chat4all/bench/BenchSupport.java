package io.chat4all.bench;

import io.chat4all.testkit.HttpExchange;
import io.vertx.core.Future;
import java.util.concurrent.TimeUnit;

/** What every benchmark's main does: its options, waiting for a future, a progress line. */
final class BenchSupport {
  private BenchSupport() {}

  static int intArg(String[] args, String name, int def) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return def;
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(300, TimeUnit.SECONDS);
  }

  static void log(String s) {
    System.err.println(java.time.LocalTime.now() + " bench: " + s);
  }

  /** One HTTP exchange, safe to start from the benchmark's main thread ({@link HttpExchange}). */
  static <T> Future<T> exchange(
      io.vertx.core.Vertx vertx,
      io.vertx.core.http.HttpClient client,
      io.vertx.core.http.RequestOptions options,
      java.util.function.Function<
              io.vertx.core.http.HttpClientRequest, Future<io.vertx.core.http.HttpClientResponse>>
          send,
      java.util.function.Function<io.vertx.core.http.HttpClientResponse, Future<T>> read) {
    return HttpExchange.exchange(vertx, client, options, send, read);
  }

  /**
   * A JSON request to the node on 127.0.0.1:{@code port} (bearer {@code token} when not null): the
   * 2xx body as JSON (empty: {}), else a failure naming the call, its status and body.
   */
  static Future<io.vertx.core.json.JsonObject> jsonOk(
      io.vertx.core.Vertx vertx,
      io.vertx.core.http.HttpClient client,
      int port,
      io.vertx.core.http.HttpMethod method,
      String path,
      String token,
      io.vertx.core.json.JsonObject body) {
    io.vertx.core.http.RequestOptions o =
        new io.vertx.core.http.RequestOptions()
            .setMethod(method)
            .setHost("127.0.0.1")
            .setPort(port)
            .setURI(path);
    if (token != null) {
      o.putHeader("Authorization", "Bearer " + token);
    }
    return exchange(
        vertx,
        client,
        o,
        r -> body == null ? r.send() : r.send(body.toBuffer()),
        resp ->
            resp.body()
                .compose(
                    b ->
                        resp.statusCode() / 100 == 2
                            ? Future.succeededFuture(
                                b.length() == 0
                                    ? new io.vertx.core.json.JsonObject()
                                    : b.toJsonObject())
                            : Future.failedFuture(
                                method + " " + path + ": " + resp.statusCode() + " " + b)));
  }
}
