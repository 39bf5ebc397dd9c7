package io.chat4all.testkit;

import io.vertx.core.Future;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** Blocking waits for test threads (never for event loops). */
public final class Await {
  private Await() {}

  public static <T> T result(Future<T> future) {
    return result(future, Duration.ofSeconds(30));
  }

  public static <T> T result(Future<T> future, Duration timeout) {
    try {
      return future
          .toCompletionStage()
          .toCompletableFuture()
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new AssertionError("future failed", cause);
    } catch (TimeoutException e) {
      throw new AssertionError("future not completed within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The failure of a future that must fail. */
  public static Throwable failure(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (TimeoutException | InterruptedException e) {
      throw new AssertionError("future not completed", e);
    }
    throw new AssertionError("future succeeded but was expected to fail");
  }

  /** Polls {@code condition} until true (a condition on another process that sends no event). */
  public static void until(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /**
   * Polls {@code lookup} until it gives a value (not null) or {@code timeout} passes; the value, or
   * null when there was none in time (for a caller that reports every missing value at once).
   */
  public static <T> T value(Duration timeout, java.util.function.Supplier<T> lookup) {
    long deadline = System.nanoTime() + timeout.toNanos();
    T got = lookup.get();
    while (got == null && System.nanoTime() < deadline) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      got = lookup.get();
    }
    return got;
  }

  /**
   * Checks that something stays true for {@code during}: {@code check} (which throws an {@link
   * AssertionError} when it does not hold) runs again and again until the time is up, and at least
   * twice: the first check starts at once, the last one after the time is up.
   */
  public static void holds(String what, Duration during, Runnable check) {
    long deadline = System.nanoTime() + during.toNanos();
    int runs = 0;
    while (true) {
      long at = System.nanoTime();
      try {
        check.run();
      } catch (AssertionError e) {
        throw new AssertionError(
            what + " stopped holding after " + runs + " checks: " + e.getMessage(), e);
      }
      runs++;
      if (at > deadline) {
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
