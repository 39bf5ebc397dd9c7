package io.chat4all.web;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Function;

/** Glue between routes and Future-returning service calls. */
public final class Rest {
  private Rest() {}

  /**
   * A route handler that runs {@code call} (which may throw a validation error) and answers its
   * JSON with {@code status}, or the error body on failure.
   */
  public static Handler<RoutingContext> json(
      int status, Function<RoutingContext, Future<JsonObject>> call) {
    return ctx -> {
      Future<JsonObject> result;
      try {
        result = call.apply(ctx);
      } catch (RuntimeException e) {
        ctx.fail(e);
        return;
      }
      result.onComplete(
          r -> {
            if (r.failed()) {
              ctx.fail(r.cause());
            } else if (status == 204) {
              ctx.response().setStatusCode(204).end();
            } else {
              ctx.response()
                  .setStatusCode(status)
                  .putHeader("content-type", "application/json; charset=utf-8")
                  .end(r.result().toBuffer());
            }
          });
    };
  }
}
