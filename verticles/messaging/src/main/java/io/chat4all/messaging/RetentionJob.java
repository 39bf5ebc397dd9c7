package io.chat4all.messaging;

import io.chat4all.codecs.LockedPeriodicJob;
import io.chat4all.codecs.Wire;
import io.vertx.core.Future;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes messages past their ttl_expire_at (real MongoDB does it with the TTL index; the embedded
 * server ignores TTL), and the read-horizon steps older than the retention, which only covered
 * messages already expired. It runs on a timer, on one node of the cluster at a time (a
 * cluster-wide lock).
 */
public class RetentionJob extends LockedPeriodicJob<Long> {
  private static final Logger LOG = LoggerFactory.getLogger(RetentionJob.class);
  public static final String LOCK = "chat4all.retention";
  private final MessageStore store;
  private final ReadHorizons horizons;
  private final int retentionDays;

  public RetentionJob(MessageStore store, long periodMs) {
    this(store, null, 0, periodMs);
  }

  /** Also prunes {@code horizons} older than {@code retentionDays} (0: keep them). */
  public RetentionJob(MessageStore store, ReadHorizons horizons, int retentionDays, long periodMs) {
    super(LOCK, periodMs);
    this.store = store;
    this.horizons = horizons;
    this.retentionDays = retentionDays;
  }

  /** Deletes the messages whose ttl_expire_at has passed; how many. */
  @Override
  protected Future<Long> pass() {
    Instant now = Instant.now();
    Future<Void> steps =
        horizons == null || retentionDays <= 0
            ? Future.succeededFuture()
            : horizons.pruneBefore(now.minus(retentionDays, ChronoUnit.DAYS));
    return steps
        .compose(v -> store.deleteExpired(Wire.timestamp(now)))
        .onSuccess(
            n -> {
              if (n > 0) {
                LOG.info("retention: deleted {} expired messages", n);
              }
            });
  }

  @Override
  protected Long skipped() {
    return 0L;
  }
}
