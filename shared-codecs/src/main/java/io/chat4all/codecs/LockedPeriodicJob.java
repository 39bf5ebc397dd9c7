package io.chat4all.codecs;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;

/**
 * A job that runs on a timer on every node but does its work on one node of the cluster at a time:
 * each pass first takes a cluster-wide lock (Vert.x shared data, Hazelcast in a cluster) and skips
 * the round when another node holds it.
 *
 * @param <T> what a pass reports
 */
public abstract class LockedPeriodicJob<T> extends VerticleBase {
  private final String lock;
  private final long periodMs;
  private long timer = -1;

  protected LockedPeriodicJob(String lock, long periodMs) {
    this.lock = lock;
    this.periodMs = periodMs;
  }

  @Override
  public final Future<?> start() {
    timer = vertx.setPeriodic(periodMs, t -> runOnce());
    return started();
  }

  /** More start work of a job (e.g. listeners that trigger {@link #runOnce()} early). */
  protected Future<?> started() {
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  /** One pass if this node gets the lock (within 100 ms); {@link #skipped()} if it does not. */
  public final Future<T> runOnce() {
    return vertx
        .sharedData()
        .getLockWithTimeout(lock, 100)
        .compose(
            held -> pass().onComplete(x -> held.release()),
            busy -> Future.succeededFuture(skipped()));
  }

  /** The work of one pass, run while this node holds the lock. */
  protected abstract Future<T> pass();

  /** What a round skipped because another node holds the lock reports. */
  protected abstract T skipped();
}
