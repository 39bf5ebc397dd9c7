package io.chat4all.messaging;

import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes messages past their ttl_expire_at. Real MongoDB does it with the TTL index; the embedded
 * server ignores TTL, so this job runs on a timer, on one node of the cluster at a time (a
 * cluster-wide lock).
 */
public class RetentionJob extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(RetentionJob.class);
  public static final String LOCK = "chat4all.retention";
  private final MessageStore store;
  private final long periodMs;
  private long timer = -1;

  public RetentionJob(MessageStore store, long periodMs) {
    this.store = store;
    this.periodMs = periodMs;
  }

  @Override
  public final Future<?> start() {
    timer = vertx.setPeriodic(periodMs, t -> runOnce());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timer);
    return Future.succeededFuture();
  }

  /** One pass, if this node gets the lock; returns how many messages were deleted (0 if not). */
  public Future<Long> runOnce() {
    return vertx
        .sharedData()
        .getLockWithTimeout(LOCK, 100)
        .compose(
            lock ->
                store
                    .deleteExpired(Wire.timestamp(Instant.now()))
                    .onSuccess(
                        n -> {
                          if (n > 0) {
                            LOG.info("retention: deleted {} expired messages", n);
                          }
                        })
                    .onComplete(x -> lock.release()),
            busy -> Future.succeededFuture(0L));
  }
}
