package io.chat4all.node.backends;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.Status;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * One backend's readiness check that always answers in time: {@code KO} with a reason when the
 * backend fails or has not answered within {@code deadlineMs}, never a check that times out (which
 * the health handler would report as 500 instead of 503). Calls to the backend are not piled up
 * while it hangs: a check that finds one still running waits for that one (up to its own deadline)
 * instead of starting another, so a dead server costs one pending call, not one per probe.
 */
final class ReadinessProbe {
  private final Vertx vertx;
  private final long deadlineMs;
  private final Supplier<Future<?>> call;
  private final AtomicReference<Future<Status>> running = new AtomicReference<>();

  ReadinessProbe(Vertx vertx, long deadlineMs, Supplier<Future<?>> call) {
    this.vertx = vertx;
    this.deadlineMs = deadlineMs;
    this.call = call;
  }

  /** The timeout to register the check with: longer than the probe's own deadline. */
  long registrationTimeoutMs() {
    return deadlineMs + 2000;
  }

  void check(Promise<Status> result) {
    Future<Status> current = running();
    long timer =
        vertx.setTimer(
            deadlineMs,
            t ->
                result.tryComplete(
                    Status.KO(
                        new JsonObject().put("reason", "no answer within " + deadlineMs + " ms"))));
    current.onComplete(
        r -> {
          vertx.cancelTimer(timer);
          result.tryComplete(r.result());
        });
  }

  private Future<Status> running() {
    while (true) {
      Future<Status> current = running.get();
      if (current != null) {
        return current;
      }
      Promise<Status> mine = Promise.promise();
      if (running.compareAndSet(null, mine.future())) {
        Future<?> f;
        try {
          f = call.get();
        } catch (RuntimeException e) {
          f = Future.failedFuture(e);
        }
        f.onComplete(
            r -> {
              running.compareAndSet(mine.future(), null);
              mine.complete(status(r.succeeded(), r.cause()));
            });
        return mine.future();
      }
    }
  }

  static Status status(boolean ok, Throwable cause) {
    if (ok) {
      return Status.OK();
    }
    String reason =
        cause == null ? "unknown" : cause.getClass().getSimpleName() + ": " + cause.getMessage();
    return Status.KO(new JsonObject().put("reason", reason));
  }
}
