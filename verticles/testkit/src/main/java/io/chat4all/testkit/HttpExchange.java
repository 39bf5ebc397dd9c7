package io.chat4all.testkit;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.RequestOptions;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One HTTP exchange through a Vert.x client whose response is read in the task that receives its
 * head, wherever it is called from. Vert.x 5.0.7 drops the end of a response that arrives before
 * {@code body()} is asked for (eclipse-vertx/vert.x#6038, fixed after 5.0.7); a chain built on a
 * thread outside Vert.x ({@code request(o).compose(send).compose(read)} from a test's or a
 * benchmark's main thread) can ask for it a task too late, and that request's future then never
 * completes, although the server answered. So the chain is built on a Vert.x context, with the read
 * nested in the send.
 */
public final class HttpExchange {
  private HttpExchange() {}

  public static <T> Future<T> exchange(
      Vertx vertx,
      HttpClient client,
      RequestOptions options,
      Function<HttpClientRequest, Future<HttpClientResponse>> send,
      Function<HttpClientResponse, Future<T>> read) {
    Supplier<Future<T>> chain =
        () -> client.request(options).compose(r -> send.apply(r).compose(read));
    if (Vertx.currentContext() != null) {
      return chain.get();
    }
    Promise<T> done = Promise.promise();
    vertx.runOnContext(v -> chain.get().onComplete(done));
    return done.future();
  }
}
